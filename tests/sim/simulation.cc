#include "tests/sim/simulation.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "node/core/node_core.h"
#include "storage/store.h"
#include "tests/testing/sim_network.h"
#include "tests/testing/temp_dir.h"
#include "topology/routing.h"

namespace lifeline::sim {
namespace {

using topology::DivisionCode;

constexpr int64_t kStepUs = 5'000;
constexpr int64_t kChaosUs = 3'000'000;
constexpr int64_t kHealLimitUs = 120'000'000;

DivisionCode code(uint64_t n) { return *DivisionCode::from_number(n); }

node::LinkOptions sim_link_options() {
  node::LinkOptions o;
  o.heartbeat_interval_us = 25'000;
  o.down_after_us = 150'000;
  o.resend_after_us = 100'000;
  o.hello_backoff_initial_us = 10'000;
  o.hello_backoff_max_us = 80'000;
  o.frame_max_records = 4;
  o.window_max_records = 16;
  o.post_batch = 3;
  return o;
}

struct SimNode {
  topology::Neighbourhood neighbourhood;
  std::string dir;
  std::unique_ptr<storage::Store> store;         // null while crashed
  std::unique_ptr<node::NodeCore> core;          // null while crashed
  int64_t restart_at_us = 0;
  std::map<uint64_t, storage::LinkCursor> seen;  // highest cursors observed, for monotonicity
};

class Schedule {
 public:
  explicit Schedule(uint64_t seed) : seed_(seed), net_(seed), dir_(true) {}
  ScheduleResult run();

 private:
  void build_tree();
  void add_node(uint64_t c, std::optional<uint64_t> parent);
  bool start(uint64_t c);
  void crash(uint64_t c);
  void step(bool chaos);
  void chaos_events();
  void post_random();
  bool check_invariants();
  bool delivered_all();
  bool quiet();
  void fail(const std::string& what);

  uint64_t seed_;
  testing::SimNetwork net_;
  testing::TempDir dir_;
  int64_t now_us_ = 0;
  std::map<uint64_t, SimNode> nodes_;                 // by code
  std::vector<uint64_t> codes_, villages_;            // all nodes; the villages
  std::map<uint64_t, int64_t> cut_until_;             // child -> heal time
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> posted_;  // (origin, destination) -> messages
  ScheduleResult result_;
};

void Schedule::add_node(uint64_t c, std::optional<uint64_t> parent) {
  codes_.push_back(c);
  std::optional<DivisionCode> p;
  if (parent) {
    p = code(*parent);
    net_.set_parent(c, *parent);
  }
  nodes_.emplace(c, SimNode{topology::Neighbourhood(code(c), p, {}), dir_.sub(std::to_string(c)), nullptr, nullptr, 0, {}});
  if (code(c).level() == topology::Level::village) villages_.push_back(c);
}

// 1 province, 2 cities, 3 counties, 5 townships, 20 villages: 31 nodes.
void Schedule::build_tree() {
  std::map<uint64_t, std::vector<uint64_t>> children;
  auto add = [&](uint64_t c, std::optional<uint64_t> parent) {
    add_node(c, parent);
    if (parent) children[*parent].push_back(c);
  };
  add(440000000000, std::nullopt);
  for (uint64_t city : {441300000000ull, 441400000000ull}) add(city, 440000000000);
  std::vector<std::pair<uint64_t, uint64_t>> counties = {{441302000000, 441300000000}, {441303000000, 441300000000}, {441402000000, 441400000000}};
  for (auto [county, city] : counties) add(county, city);
  std::vector<std::pair<uint64_t, uint64_t>> townships = {{441302001000, 441302000000}, {441302002000, 441302000000}, {441303001000, 441303000000}, {441303108000, 441303000000}, {441402001000, 441402000000}};
  for (auto [township, county] : townships) {
    add(township, county);
    for (uint64_t v = 1; v <= 4; ++v) add(township + v, township);
  }
  for (auto& [c, n] : nodes_) {
    std::vector<DivisionCode> kids;
    for (uint64_t k : children[c]) kids.push_back(code(k));
    n.neighbourhood = topology::Neighbourhood(code(c), n.neighbourhood.parent(), kids);
  }
}

bool Schedule::start(uint64_t c) {
  SimNode& n = nodes_.at(c);
  auto store = storage::Store::open(storage::StorageOptions{n.dir, size_t{1} << 20, false}, c);
  if (!store) return fail("store of " + std::to_string(c) + " did not open: " + store.status().to_string()), false;
  n.store = std::move(*store);
  n.core = std::make_unique<node::NodeCore>(n.neighbourhood, n.store.get(), sim_link_options());
  Status s = n.core->start(node::Instant{now_us_, now_us_});
  if (!s) return fail("core of " + std::to_string(c) + " did not start: " + s.to_string()), false;
  return true;
}

void Schedule::crash(uint64_t c) {
  SimNode& n = nodes_.at(c);
  n.core.reset();
  n.store.reset();  // closes the environment: only committed transactions remain
  net_.drop_toward(c);
  n.restart_at_us = now_us_ + net_.uniform(20'000, 600'000);
  ++result_.crashes;
}

void Schedule::fail(const std::string& what) {
  if (!result_.ok) return;
  result_.ok = false;
  std::ostringstream os;
  os << "seed " << seed_ << " at t=" << now_us_ / 1000 << " ms: " << what;
  result_.failure = os.str();
}

void Schedule::post_random() {
  auto pick = [&](const std::vector<uint64_t>& v) { return v[net_.uniform(0, static_cast<int64_t>(v.size()) - 1)]; };
  uint64_t origin = pick(codes_), dest = pick(codes_);
  switch (net_.uniform(0, 3)) {
    case 0: {  // down: from an ancestor of a village to it
      dest = pick(villages_);
      auto anc = nodes_.at(dest).neighbourhood.parent();
      origin = anc->parent().valid() && net_.chance(0.5) ? anc->parent().number() : anc->number();
      if (net_.chance(0.3)) origin = 440000000000;
      break;
    }
    case 1: origin = pick(villages_), dest = 440000000000; break;  // up
    case 2: origin = pick(villages_), dest = pick(villages_); break;  // across, often another county
    default: break;  // any pair
  }
  SimNode& n = nodes_.at(origin);
  if (!n.core) return;
  uint32_t count = static_cast<uint32_t>(net_.uniform(1, 4));
  auto r = n.core->post(dest, count, 16, node::Instant{now_us_, now_us_});
  if (!r) return fail("post at " + std::to_string(origin) + " failed: " + r.status().to_string());
  posted_[{origin, dest}] += count;
  result_.messages += count;
}

void Schedule::chaos_events() {
  if (net_.chance(0.08)) post_random();
  if (net_.chance(0.01)) {
    uint64_t c = codes_[net_.uniform(1, static_cast<int64_t>(codes_.size()) - 1)];
    if (!net_.is_cut(c)) {
      net_.cut(c);
      cut_until_[c] = now_us_ + net_.uniform(100'000, 1'500'000);
      ++result_.cuts;
    }
  }
  if (net_.chance(0.01)) {
    uint64_t c = codes_[net_.uniform(0, static_cast<int64_t>(codes_.size()) - 1)];
    if (nodes_.at(c).core) crash(c);
  }
  for (auto it = cut_until_.begin(); it != cut_until_.end();) {
    if (it->second > now_us_) {
      ++it;
      continue;
    }
    net_.heal(it->first);
    it = cut_until_.erase(it);
  }
}

void Schedule::step(bool chaos) {
  now_us_ += kStepUs;
  if (chaos) chaos_events();
  for (uint64_t c : codes_) {
    SimNode& n = nodes_.at(c);
    if (!n.core && now_us_ >= n.restart_at_us && !start(c)) return;
  }
  auto due = net_.take_due(now_us_);
  node::Instant now{now_us_, now_us_};
  for (uint64_t c : codes_) {
    SimNode& n = nodes_.at(c);
    if (!n.core) continue;
    auto it = due.find(c);
    if (it != due.end()) (void)n.core->on_frames(it->second, now);
    if (chaos && net_.chance(0.002)) {  // crash after commit, before acks go out
      crash(c);
      continue;
    }
    n.core->on_tick(now);
    testing::SimSink sink(net_, c, now_us_);
    n.core->flush(sink, now);
  }
}

bool Schedule::check_invariants() {
  for (uint64_t c : codes_) {
    SimNode& n = nodes_.at(c);
    if (!n.store) continue;
    Status s = n.store->read([&](const storage::ReadTxn& txn) {
      for (auto& [peer, cur] : txn.all_cursors()) {
        std::vector<uint64_t> seqs = txn.outbox_seqs(peer);
        bool contiguous = seqs.size() == cur.last_assigned - cur.acked &&
                          (seqs.empty() || (seqs.front() == cur.acked + 1 && seqs.back() == cur.last_assigned));
        if (!contiguous || cur.acked > cur.last_assigned)
          fail("outbox of " + std::to_string(c) + " toward " + std::to_string(peer) + " is not contiguous");
        storage::LinkCursor& seen = n.seen[peer];
        if (cur.last_assigned < seen.last_assigned || cur.acked < seen.acked || cur.applied < seen.applied)
          fail("cursor of " + std::to_string(c) + " toward " + std::to_string(peer) + " moved backward");
        seen = cur;
      }
    });
    if (!s) fail("store read failed: " + s.to_string());
  }
  return result_.ok;
}

bool Schedule::delivered_all() {
  std::map<std::pair<uint64_t, uint64_t>, storage::StreamMark> marks;
  for (auto& [dest, n] : nodes_) {
    if (!n.store) return false;
    (void)n.store->read([&](const storage::ReadTxn& txn) {
      for (const auto& m : txn.stream_marks()) marks[{m.origin, m.destination}] = m;
    });
  }
  for (auto& [pair, count] : posted_) {
    auto it = marks.find(pair);
    if (it == marks.end() || it->second.count < count) return false;
  }
  return true;
}

bool Schedule::quiet() {
  for (auto& [c, n] : nodes_) {
    if (!n.core) return false;
    for (const auto& l : n.core->status().links) {
      if (l.outbox_depth != 0) return false;
    }
  }
  return true;
}

ScheduleResult Schedule::run() {
  build_tree();
  for (uint64_t c : codes_) {
    if (!start(c)) return result_;
  }
  testing::FaultOptions faults;
  faults.drop = net_.uniform(0, 20) / 100.0;
  faults.duplicate = net_.uniform(0, 10) / 100.0;
  faults.refuse = net_.uniform(0, 10) / 100.0;
  faults.max_delay_us = net_.uniform(1'000, 30'000);
  net_.set_faults(faults);
  while (now_us_ < kChaosUs && result_.ok) {
    step(true);
    check_invariants();
  }
  net_.set_faults(testing::FaultOptions{});
  net_.heal_all();
  cut_until_.clear();
  while (result_.ok && !(delivered_all() && quiet())) {
    if (now_us_ > kChaosUs + kHealLimitUs) {
      fail("not every message was delivered within " + std::to_string(kHealLimitUs / 1'000'000) + " s after healing");
      break;
    }
    step(false);
    check_invariants();
  }
  result_.sim_ms = now_us_ / 1000;
  if (!result_.ok) return result_;
  for (auto& [pair, count] : posted_) {
    auto [origin, dest] = pair;
    (void)nodes_.at(dest).store->read([&](const storage::ReadTxn& txn) {
      for (const auto& m : txn.stream_marks()) {
        if (m.origin != origin || m.destination != dest) continue;
        if (m.count != count || m.contiguous_through != count || m.out_of_order != 0)
          fail("stream " + std::to_string(origin) + " -> " + std::to_string(dest) + ": posted " + std::to_string(count) +
               ", applied " + std::to_string(m.count) + ", contiguous through " + std::to_string(m.contiguous_through) +
               ", out of order " + std::to_string(m.out_of_order));
      }
    });
  }
  return result_;
}

}  // namespace

ScheduleResult run_schedule(uint64_t seed) { return Schedule(seed).run(); }

}  // namespace lifeline::sim
