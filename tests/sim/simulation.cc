#include "tests/sim/simulation.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "node/core/alert_merge.h"
#include "node/core/monitor.h"
#include "node/core/node_core.h"
#include "storage/store.h"
#include "tests/testing/domain_fixtures.h"
#include "tests/testing/registry_fixtures.h"
#include "tests/testing/sim_network.h"
#include "tests/testing/temp_dir.h"
#include "topology/routing.h"

namespace lifeline::sim {
namespace {

using protocol::Alert;
using protocol::AlertId;
using protocol::AlertState;
using protocol::HouseholdId;
using topology::DivisionCode;
using topology::Level;

constexpr uint64_t kProvince = 440000000000;
// A stream's destination may carry a channel flag in its top bit (storage
// keeps monitoring messages apart from test messages); these are the code's.
constexpr uint64_t kCodeBits = ~(uint64_t{1} << 63);
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
  std::unique_ptr<node::Monitor> monitor;        // null while crashed; the core's domain
  int64_t restart_at_us = 0;
  std::map<uint64_t, storage::LinkCursor> seen;  // highest cursors observed, for monotonicity
  std::map<AlertId, AlertState> alert_states;    // highest state observed per alert id (and alias)
};

// A household as the schedule made it.
struct SimHousehold {
  HouseholdId id;
  std::vector<std::string> members;  // ID numbers
  std::vector<uint64_t> villages;    // every village it was registered in or moved to, in order
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
  void check_alert_states(uint64_t c, const storage::ReadTxn& txn);
  bool may_have_dropped(uint64_t c, const HouseholdId& h) const;
  bool delivered_all();
  bool quiet();
  void check_streams();
  void fail(const std::string& what);
  node::Instant now() const { return node::Instant{now_us_, testing::kWall0Us + now_us_}; }
  protocol::Date today() const { return node::shanghai_date(now().wall_us); }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[net_.uniform(0, static_cast<int64_t>(v.size()) - 1)]; }
  std::vector<uint64_t> villages_in(uint64_t c) const;
  std::vector<uint64_t> holders_of(uint64_t village) const;

  // Domain activity (operators' commands at random nodes).
  void domain_events();
  void register_household();
  void import_events();
  void record_feedback();
  void accept_or_close();
  void escalate();
  void move_household();
  void change_policy();
  // Domain convergence, once quiet.
  void check_domain();
  void check_household(const SimHousehold& h);
  void check_alert_ids();
  void check_node_records(uint64_t c);
  void check_aggregates();

  uint64_t seed_;
  testing::SimNetwork net_;
  testing::TempDir dir_;
  int64_t now_us_ = 0;
  std::map<uint64_t, SimNode> nodes_;                 // by code
  std::vector<uint64_t> codes_, villages_;            // all nodes; the villages
  std::map<uint64_t, int64_t> cut_until_;             // child -> heal time
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> posted_;  // (origin, destination) -> messages
  ScheduleResult result_;
  std::vector<SimHousehold> households_;               // registered, in order
  std::map<HouseholdId, size_t> household_index_;      // id -> index in households_
  std::vector<testing::EventLine> imported_;           // every event line imported, for repeats
  uint64_t next_person_ = 0;                           // next nth_id_number of a member
  uint64_t next_record_ = 0;                           // next department record number
  uint64_t policy_version_ = 1;                        // the latest version set at the province
};

void Schedule::add_node(uint64_t c, std::optional<uint64_t> parent) {
  codes_.push_back(c);
  std::optional<DivisionCode> p;
  if (parent) {
    p = code(*parent);
    net_.set_parent(c, *parent);
  }
  nodes_.emplace(c, SimNode{topology::Neighbourhood(code(c), p, {}), dir_.sub(std::to_string(c)), nullptr, nullptr, nullptr, 0, {}, {}});
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
  // About a quarter of the nodes, chosen by the seed, play a node of an
  // earlier release that announces no protocol features: its neighbours
  // send it compressed sync batches expanded (protocol/README.md).
  node::LinkOptions options = sim_link_options();
  if ((c * 0x9e3779b97f4a7c15ULL ^ seed_) % 4 == 0) options.features = 0;
  n.core = std::make_unique<node::NodeCore>(n.neighbourhood, n.store.get(), options);
  n.monitor = std::make_unique<node::Monitor>(n.core.get(), n.store.get(), node::MonitorOptions{});
  n.core->set_domain(n.monitor.get());
  Status s = n.core->start(now());
  if (!s) return fail("core of " + std::to_string(c) + " did not start: " + s.to_string()), false;
  s = n.monitor->start();
  if (!s) return fail("monitor of " + std::to_string(c) + " did not start: " + s.to_string()), false;
  return true;
}

void Schedule::crash(uint64_t c) {
  SimNode& n = nodes_.at(c);
  n.core.reset();
  n.monitor.reset();  // stateless beyond its policy cache, reloaded at restart
  n.store.reset();    // closes the environment: only committed transactions remain
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
  auto r = n.core->post(dest, count, 16, now());
  if (!r) return fail("post at " + std::to_string(origin) + " failed: " + r.status().to_string());
  posted_[{origin, dest}] += count;
  result_.messages += count;
}

void Schedule::chaos_events() {
  if (net_.chance(0.08)) post_random();
  domain_events();
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
  node::Instant t = now();
  for (uint64_t c : codes_) {
    SimNode& n = nodes_.at(c);
    if (!n.core) continue;
    auto it = due.find(c);
    if (it != due.end()) (void)n.core->on_frames(it->second, t);
    if (chaos && net_.chance(0.002)) {  // crash after commit, before acks go out
      crash(c);
      continue;
    }
    n.core->on_tick(t);
    n.monitor->on_tick(t);
    testing::SimSink sink(net_, c, now_us_);
    n.core->flush(sink, t);
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
      check_alert_states(c, txn);
    });
    if (!s) fail("store read failed: " + s.to_string());
  }
  return result_.ok;
}

// Every message created (test posts and monitoring messages, each in its
// own stream per origin and destination) has been applied at its destination.
bool Schedule::delivered_all() {
  std::map<std::pair<uint64_t, uint64_t>, storage::StreamMark> marks;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> sent;
  for (auto& [c, n] : nodes_) {
    if (!n.store) return false;
    (void)n.store->read([&](const storage::ReadTxn& txn) {
      for (const auto& m : txn.stream_marks()) marks[{m.origin, m.destination}] = m;
      for (auto [dest, count] : txn.streams()) sent[{c, dest}] = count;
    });
  }
  for (auto& [pair, count] : sent) {
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
  check_streams();
  if (result_.ok) check_domain();
  for (auto& [c, n] : nodes_) {
    for (const auto& l : n.core->status().links) result_.refusals += l.refusals;
  }
  return result_;
}

// Every stream's messages applied exactly once, in origin order: as many as
// the origin allocated, contiguous, none out of order.
void Schedule::check_streams() {
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> sent;
  for (auto& [c, n] : nodes_) {
    (void)n.store->read([&](const storage::ReadTxn& txn) {
      for (auto [dest, count] : txn.streams()) sent[{c, dest}] = count;
    });
  }
  for (auto& [pair, count] : posted_) {
    if (sent[pair] != count) fail("stream " + std::to_string(pair.first) + " -> " + std::to_string(pair.second) +
                                  ": " + std::to_string(count) + " test messages posted, " + std::to_string(sent[pair]) +
                                  " sequences allocated");
  }
  for (auto& [pair, count] : sent) {
    auto [origin, dest] = pair;
    bool found = false;
    (void)nodes_.at(dest & kCodeBits).store->read([&](const storage::ReadTxn& txn) {
      for (const auto& m : txn.stream_marks()) {
        if (m.origin != origin || m.destination != dest) continue;
        found = true;
        if (m.count != count || m.contiguous_through != count || m.out_of_order != 0)
          fail("stream " + std::to_string(origin) + " -> " + std::to_string(dest & kCodeBits) +
               (dest == (dest & kCodeBits) ? "" : " (monitoring)") + ": sent " + std::to_string(count) +
               ", applied " + std::to_string(m.count) + ", contiguous through " + std::to_string(m.contiguous_through) +
               ", out of order " + std::to_string(m.out_of_order));
      }
    });
    if (!found && count != 0) fail("stream " + std::to_string(origin) + " -> " + std::to_string(dest & kCodeBits) + ": nothing applied");
  }
}

// ---------------------------------------------------------------------------
// Domain activity

std::vector<uint64_t> Schedule::villages_in(uint64_t c) const {
  std::vector<uint64_t> out;
  for (uint64_t v : villages_) {
    if (code(c).contains(code(v))) out.push_back(v);
  }
  return out;
}

// The household's holders: its village's node and every ancestor (every
// node runs once the network is quiet, and each village has its node).
std::vector<uint64_t> Schedule::holders_of(uint64_t village) const {
  std::vector<uint64_t> out;
  for (uint64_t c : codes_) {
    if (code(c).contains(code(village))) out.push_back(c);
  }
  return out;
}

void Schedule::domain_events() {
  // Few households, much activity on each: concurrent changes to one
  // household across cuts and crashes are what replication must survive.
  if (net_.chance(0.015)) register_household();
  if (net_.chance(0.04)) import_events();
  if (net_.chance(0.03)) record_feedback();
  if (net_.chance(0.015)) accept_or_close();
  if (net_.chance(0.02)) escalate();
  if (net_.chance(0.02)) move_household();
  if (net_.chance(0.002)) change_policy();
}

// At a village, township or county, in a village of its jurisdiction.
void Schedule::register_household() {
  uint64_t c = pick(codes_);
  SimNode& n = nodes_.at(c);
  Level level = code(c).level();
  if (!n.monitor || level < Level::county) return;
  static const std::vector<std::string> categories = {"minimum_living", "destitute", "marginal",
                                                      "expenditure_hardship", "other"};
  static const std::vector<std::string> relations = {"head", "spouse", "child"};
  node::NewHousehold h;
  h.village = pick(villages_in(c));
  h.category = pick(categories);
  h.income_fen = net_.uniform(0, 200'000);
  h.source = net_.chance(0.5) ? "application" : "active_discovery";
  h.address = "模拟地址";
  std::vector<std::string> ids;
  for (int64_t i = 0, size = net_.uniform(1, 3); i < size; ++i) {
    ids.push_back(testing::nth_id_number(next_person_++));
    h.members.push_back(testing::member(ids.back(), "成员" + testing::chinese_number(i), relations[i]));
  }
  // Sometimes a person already in a household elsewhere: refused where that
  // household is held, taken where it is not (a registry conflict that the
  // nodes holding both households must keep indexed).
  const bool shared = !households_.empty() && net_.chance(0.1);
  if (shared) {
    ids.push_back(pick(pick(households_).members));
    h.members.push_back(testing::member(ids.back(), "重复登记", "other"));
  }
  auto id = n.monitor->add_household(h, now());
  if (!id && shared && id.status().code() == Status::Code::kInvalidArgument &&
      id.status().message().find("already in household") != std::string::npos) {
    ++result_.refused_registrations;
    return;
  }
  if (!id) return fail("household not registered at " + std::to_string(c) + ": " + id.status().to_string());
  if (shared) ++result_.shared_persons;
  household_index_[*id] = households_.size();
  households_.push_back(SimHousehold{*id, ids, {h.village}});
  ++result_.households;
}

// A file of 1..3 events at any node: members of known households (held
// there or not), sometimes a person in no household, sometimes a record
// imported before (here or elsewhere).
void Schedule::import_events() {
  if (households_.empty()) return;
  // Mostly at a node on the path of some household's latest village, so
  // that events score and alerts arise at every level, concurrently too.
  uint64_t c = net_.chance(0.7) ? pick(holders_of(pick(households_).villages.back())) : pick(codes_);
  SimNode& n = nodes_.at(c);
  if (!n.monitor) return;
  const auto& indicators = node::default_policy().indicators;
  std::vector<testing::EventLine> lines;
  for (int64_t i = 0, count = net_.uniform(1, 3); i < count; ++i) {
    if (!imported_.empty() && net_.chance(0.2)) {
      lines.push_back(pick(imported_));
      continue;
    }
    const node::Indicator& ind = pick(indicators);
    testing::EventLine l;
    l.department = pick(ind.departments);
    l.indicator = ind.code;
    l.record_id = "R-" + std::to_string(++next_record_);
    l.id_number = net_.chance(0.1) ? testing::nth_id_number(500'000 + next_record_) : pick(pick(households_).members);
    l.date = node::add_days(today(), -net_.uniform(0, 60));
    lines.push_back(l);
    imported_.push_back(l);
  }
  auto r = n.monitor->import_events(testing::events_csv(lines), node::ImportFormat::kCsv, now());
  if (!r) return fail("import at " + std::to_string(c) + " failed: " + r.status().to_string());
  if (!r->rejected.empty()) return fail("import at " + std::to_string(c) + " rejected a line: " + r->rejected[0].reason_en);
  ++result_.imports;
}

// At a village or township, for one of the open alerts it holds.
void Schedule::record_feedback() {
  uint64_t c = pick(codes_);
  SimNode& n = nodes_.at(c);
  if (!n.monitor || code(c).level() < Level::township) return;
  node::AlertFilter f;
  f.open_only = true;
  auto list = n.monitor->list_alerts(f, now());
  if (!list || list->empty()) return;
  static const std::vector<std::string> decisions = {"temporary_assistance", "referral", "keep_monitoring",
                                                     "none_needed", "include_minimum_living"};
  const Alert& a = pick(*list).alert;
  Status s = n.monitor->record_feedback(testing::feedback_for(a.id, today(), pick(decisions)), now());
  if (!s) return fail("feedback at " + std::to_string(c) + " for " + protocol::format_id('A', a.id) + ": " + s.to_string());
  ++result_.feedbacks;
}

// Accept an open alert anywhere; close a verified one at a county or above.
void Schedule::accept_or_close() {
  uint64_t c = pick(codes_);
  SimNode& n = nodes_.at(c);
  if (!n.monitor) return;
  node::AlertFilter f;
  bool close = code(c).level() <= Level::county && net_.chance(0.5);
  if (close) {
    f.state = static_cast<int>(AlertState::kVerified);
  } else {
    f.open_only = true;
  }
  auto list = n.monitor->list_alerts(f, now());
  if (!list) return fail("alerts unreadable at " + std::to_string(c));
  std::vector<AlertId> ids;
  for (const node::AlertView& v : *list) {
    if (close || v.alert.state < AlertState::kAccepted) ids.push_back(v.alert.id);
  }
  if (ids.empty()) return;
  AlertId id = pick(ids);
  Status s = close ? n.monitor->close_alert(id, now()) : n.monitor->accept_alert(id, "operator", now());
  if (!s) return fail(std::string(close ? "close" : "accept") + " at " + std::to_string(c) + " of " +
                      protocol::format_id('A', id) + ": " + s.to_string());
}

// At a county or above, for one of the open alerts it holds (督办).
void Schedule::escalate() {
  uint64_t c = pick(codes_);
  SimNode& n = nodes_.at(c);
  if (!n.monitor || code(c).level() > Level::county) return;
  node::AlertFilter f;
  f.open_only = true;
  auto list = n.monitor->list_alerts(f, now());
  if (!list) return fail("alerts unreadable at " + std::to_string(c));
  if (list->empty()) return;
  const AlertId id = pick(*list).alert.id;
  Status s = n.monitor->escalate_alert(id, "supervisor", "请核查", now());
  if (!s) return fail("escalate at " + std::to_string(c) + " of " + protocol::format_id('A', id) + ": " + s.to_string());
  ++result_.escalations;
}

// At a county or above, to another village of its jurisdiction.
void Schedule::move_household() {
  if (households_.empty()) return;
  SimHousehold& h = households_[net_.uniform(0, static_cast<int64_t>(households_.size()) - 1)];
  std::vector<uint64_t> movers;
  for (uint64_t c : codes_) {
    if (code(c).level() <= Level::county && code(c).contains(code(h.villages.back()))) movers.push_back(c);
  }
  uint64_t c = pick(movers);
  SimNode& n = nodes_.at(c);
  if (!n.monitor) return;
  auto cf = n.monitor->show_household(h.id);
  if (!cf || cf->moved_to != 0) return;  // not held here
  std::vector<uint64_t> targets;
  for (uint64_t v : villages_in(c)) {
    if (v != cf->household.village.value) targets.push_back(v);
  }
  uint64_t village = pick(targets);
  Status s = n.monitor->move_household(h.id, village, now());
  if (!s) return fail("move at " + std::to_string(c) + " of " + protocol::format_id('H', h.id) + ": " + s.to_string());
  h.villages.push_back(village);
  ++result_.moves;
}

// The next version at the province, one indicator's points changed.
void Schedule::change_policy() {
  SimNode& n = nodes_.at(kProvince);
  if (!n.monitor) return;
  uint64_t version = n.monitor->policy().version + 1;
  const node::Indicator& ind = pick(node::default_policy().indicators);
  Status s = n.monitor->set_policy(testing::policy_version(version, ind.code, static_cast<uint32_t>(net_.uniform(1, 6))), now());
  if (!s) return fail("policy version " + std::to_string(version) + " not set: " + s.to_string());
  policy_version_ = version;
  ++result_.policies;
}

// An alert's state (and so each of its aliases') never moves backward at a
// node — unless the node may have dropped the household in between (it
// moved out of the node's jurisdiction): a copy handed back may be older
// until the rest catches up.
void Schedule::check_alert_states(uint64_t c, const storage::ReadTxn& txn) {
  SimNode& n = nodes_.at(c);
  txn.scan(storage::Table::kAlerts, {}, [&](std::string_view, std::string_view bytes) {
    auto a = protocol::decode_alert(bytes);
    if (!a) {
      fail("stored alert at " + std::to_string(c) + " does not decode");
      return false;
    }
    std::vector<AlertId> ids = a->aliases;
    ids.push_back(a->id);
    for (const AlertId& id : ids) {
      AlertState& seen = n.alert_states[id];
      if (seen > a->state && !may_have_dropped(c, a->household))
        fail("alert " + protocol::format_id('A', id) + " at " + std::to_string(c) + " moved back from " +
             node::alert_state_name(seen) + " to " + node::alert_state_name(a->state));
      seen = std::max(seen, a->state);
    }
    return true;
  });
}

bool Schedule::may_have_dropped(uint64_t c, const HouseholdId& h) const {
  auto it = household_index_.find(h);
  if (it == household_index_.end()) return false;
  for (uint64_t v : households_[it->second].villages) {
    if (!code(c).contains(code(v))) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Domain convergence

void Schedule::check_domain() {
  for (const SimHousehold& h : households_) check_household(h);
  check_alert_ids();
  for (uint64_t c : codes_) check_node_records(c);
  check_aggregates();
  for (uint64_t c : codes_) {
    uint64_t v = nodes_.at(c).monitor->policy().version;
    if (v != policy_version_)
      fail("node " + std::to_string(c) + " runs policy version " + std::to_string(v) + ", not the latest " +
           std::to_string(policy_version_));
  }
}

// Every holder has the same household, alerts, history and events, and at
// most one open alert; non-holders keep nothing personal of it.
void Schedule::check_household(const SimHousehold& h) {
  auto held_at = [&](uint64_t c) {
    testing::HeldHousehold out;
    (void)nodes_.at(c).store->read([&](const storage::ReadTxn& txn) { out = testing::read_held(txn, h.id, h.members); });
    return out;
  };
  std::string name = protocol::format_id('H', h.id);
  testing::HeldHousehold ref = held_at(kProvince);
  if (!ref.household) return fail("household " + name + " is not held at the province");
  std::vector<uint64_t> holders = holders_of(ref.household->village.value);
  int open = 0;
  for (auto& [id, a] : ref.alerts) open += node::alert_open(a);
  if (open > 1) fail("household " + name + " has " + std::to_string(open) + " open alerts");
  for (uint64_t c : codes_) {
    testing::HeldHousehold x = held_at(c);
    std::string at = name + " at " + std::to_string(c);
    if (std::find(holders.begin(), holders.end(), c) == holders.end()) {
      if (x.household || x.person_rows || !x.alerts.empty() || !x.history.empty() || !x.events.empty())
        fail("non-holder keeps personal data of " + at);
      continue;
    }
    if (!x.household) return fail("holder lacks " + at);
    if (*x.household != *ref.household) fail("household fields differ: " + at);
    if (!x.person_rows) fail("persons index lacks " + at);
    if (x.alerts != ref.alerts) fail("alerts differ: " + at);
    if (x.history != ref.history) fail("history differs: " + at);
    if (x.events != ref.events) fail("events differ: " + at);
  }
}

// Every alert id ever issued (seq 1..n of each node) resolves, directly or
// through an alias, to the same alert at every holder of its household.
void Schedule::check_alert_ids() {
  auto resolve_at = [&](uint64_t c, const AlertId& id) {
    std::optional<Alert> a;
    (void)nodes_.at(c).store->read([&](const storage::ReadTxn& txn) { a = testing::resolve_alert(txn, id); });
    return a;
  };
  for (uint64_t origin : codes_) {
    uint64_t issued = 0;
    (void)nodes_.at(origin).store->read([&](const storage::ReadTxn& txn) { issued = testing::issued_ids(txn, 'A'); });
    result_.alerts += issued;
    for (uint64_t seq = 1; seq <= issued; ++seq) {
      AlertId id{origin, seq};
      std::string name = protocol::format_id('A', id);
      auto root = resolve_at(kProvince, id);
      if (!root) return fail("alert " + name + " was lost: it does not resolve at the province");
      testing::HeldHousehold ref;
      (void)nodes_.at(kProvince).store->read([&](const storage::ReadTxn& txn) { ref = testing::read_held(txn, root->household, {}); });
      if (!ref.household) return fail("alert " + name + " names a household the province does not hold");
      for (uint64_t c : holders_of(ref.household->village.value)) {
        auto a = resolve_at(c, id);
        if (!a || a->id != root->id) fail("alert " + name + " does not resolve to " + protocol::format_id('A', root->id) +
                                          " at holder " + std::to_string(c));
      }
    }
  }
}

// A node's records refer only to households it holds, and its own aggregate
// figures count exactly its records.
void Schedule::check_node_records(uint64_t c) {
  SimNode& n = nodes_.at(c);
  std::set<std::string> held;
  int64_t households = 0, persons = 0, open_escalated = 0;
  std::map<std::string, int64_t> by_state;
  std::string where = " at " + std::to_string(c);
  (void)n.store->read([&](const storage::ReadTxn& txn) {
    std::vector<std::pair<std::string, std::vector<std::string>>> members;  // household key, ID numbers
    std::map<std::string, uint64_t> villages;                               // household key -> village
    txn.scan(storage::Table::kHouseholds, {}, [&](std::string_view k, std::string_view v) {
      held.emplace(k);
      ++households;
      auto& m = members.emplace_back(std::string(k), std::vector<std::string>{});
      const auto decoded = protocol::decode_household(v);
      villages[std::string(k)] = decoded->village.value;
      for (const auto& mem : decoded->members.value) m.second.push_back(mem.id_number);
      persons += static_cast<int64_t>(m.second.size());
      return true;
    });
    // Every member of a held household is indexed: the persons row names
    // the household, or names another one and a person_conflicts row keeps
    // this claim; every such row is a live second claim.
    for (const auto& [hid, ids] : members) {
      for (const std::string& n : ids) {
        std::string_view row, unused;
        if (!txn.get(storage::Table::kPersons, n, row)) {
          fail("member " + n + " of household " + protocol::format_id('H', node::keys::parse_id(hid)) + " is not indexed" + where);
        } else if (row != hid && !txn.get(storage::Table::kPersonConflicts, n + hid, unused)) {
          fail("member " + n + " of household " + protocol::format_id('H', node::keys::parse_id(hid)) +
               " is indexed under another household and its own claim is not kept" + where);
        }
      }
    }
    // The village index has exactly one row per held household, under its village.
    std::set<std::string> village_rows;
    txn.scan(storage::Table::kVillageHouseholds, {}, [&](std::string_view k, std::string_view) {
      village_rows.emplace(k);
      return true;
    });
    for (const auto& [hid, village] : villages) {
      if (!village_rows.erase(storage::tables::key64(village) + hid))
        fail("household " + protocol::format_id('H', node::keys::parse_id(hid)) + " is not in the village index" + where);
    }
    if (!village_rows.empty()) fail(std::to_string(village_rows.size()) + " village index rows name no held household there" + where);
    txn.scan(storage::Table::kPersonConflicts, {}, [&](std::string_view k, std::string_view) {
      std::string n(k.substr(0, k.size() - 16)), hid(k.substr(k.size() - 16));
      std::string_view row;
      if (!held.count(hid)) fail("person_conflicts row of a household not held" + where);
      else if (!txn.get(storage::Table::kPersons, n, row) || row == hid)
        fail("person_conflicts row of " + n + " without a first claim in persons" + where);
      return true;
    });
    txn.scan(storage::Table::kAlerts, {}, [&](std::string_view, std::string_view v) {
      Alert a = *protocol::decode_alert(v);
      ++by_state[node::alert_state_name(a.state)];
      open_escalated += node::alert_open(a) && a.escalated_at_us != 0;
      if (!held.count(node::keys::id(a.household))) fail("alert " + protocol::format_id('A', a.id) + " of a household not held" + where);
      return true;
    });
    for (storage::Table t : {storage::Table::kHouseholdAlerts, storage::Table::kHouseholdHistory, storage::Table::kHouseholdEvents}) {
      txn.scan(t, {}, [&](std::string_view k, std::string_view) {
        if (!held.count(std::string(k.substr(0, 16)))) fail(std::string(storage::table_name(t)) + " row of a household not held" + where);
        return true;
      });
    }
    // Every history entry is indexed under its household, and only those.
    uint64_t entries = 0, indexed = 0;
    txn.scan(storage::Table::kHistory, {}, [&](std::string_view k, std::string_view v) {
      ++entries;
      auto e = protocol::decode_history(v);
      std::string_view unused;
      if (!e || !txn.get(storage::Table::kHouseholdHistory, node::keys::id(e->household) + std::string(k), unused))
        fail("history entry " + protocol::format_id('E', node::keys::parse_id(k)) + " not indexed under its household" + where);
      return true;
    });
    txn.scan(storage::Table::kHouseholdHistory, {}, [&](std::string_view, std::string_view) {
      ++indexed;
      return true;
    });
    if (entries != indexed) fail("household_history holds " + std::to_string(indexed) + " rows for " + std::to_string(entries) + " entries" + where);
    txn.scan(storage::Table::kPersons, {}, [&](std::string_view, std::string_view v) {
      if (!held.count(std::string(v))) fail("persons row of a household not held" + where);
      return true;
    });
  });
  auto agg = n.monitor->aggregates(now());
  if (!agg) return fail("aggregates unreadable" + where);
  const nlohmann::json& f = (*agg)["own"]["figures"];
  if (f["households"] != households || f["persons"] != persons)
    fail("aggregate households/persons " + f["households"].dump() + "/" + f["persons"].dump() + " but records " +
         std::to_string(households) + "/" + std::to_string(persons) + where);
  if (f["alerts_by_state"] != nlohmann::json(by_state))
    fail("aggregate alerts by state " + f["alerts_by_state"].dump() + " but records " + nlohmann::json(by_state).dump() + where);
  if (f["open_escalated"] != open_escalated)
    fail("aggregate open_escalated " + f["open_escalated"].dump() + " but records " + std::to_string(open_escalated) + where);
}

// The province's own figures are the sum of the villages' own figures.
void Schedule::check_aggregates() {
  auto own = [&](uint64_t c) { return (*nodes_.at(c).monitor->aggregates(now()))["own"]["figures"]; };
  nlohmann::json province = own(kProvince);
  int64_t households = 0, persons = 0, verified = 0, on_time = 0, escalated = 0, overdue = 0, due_soon = 0;
  std::map<std::string, int64_t> by_state, by_category;
  for (uint64_t v : villages_) {
    nlohmann::json f = own(v);
    escalated += f["open_escalated"].get<int64_t>();
    overdue += f["overdue"].get<int64_t>();
    due_soon += f["due_soon"].get<int64_t>();
    households += f["households"].get<int64_t>();
    persons += f["persons"].get<int64_t>();
    verified += f["verified"].get<int64_t>();
    on_time += f["verified_on_time"].get<int64_t>();
    for (auto& [k, x] : f["alerts_by_state"].items()) by_state[k] += x.get<int64_t>();
    for (auto& [k, x] : f["by_category"].items()) by_category[k] += x.get<int64_t>();
  }
  if (province["households"] != households || province["persons"] != persons || province["verified"] != verified ||
      province["verified_on_time"] != on_time || province["alerts_by_state"] != nlohmann::json(by_state) ||
      province["by_category"] != nlohmann::json(by_category) || province["open_escalated"] != escalated ||
      province["overdue"] != overdue || province["due_soon"] != due_soon)
    fail("the province's figures " + province.dump() + " are not the sum of the villages'");
}

}  // namespace

ScheduleResult run_schedule(uint64_t seed) { return Schedule(seed).run(); }

}  // namespace lifeline::sim
