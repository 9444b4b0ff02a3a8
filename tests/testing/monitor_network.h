// MonitorNetwork: a few nodes in one process, each a real NodeCore with its
// Monitor over a real LMDB store in a temporary folder, linked by a
// SimNetwork without faults (links may be cut and healed by hand). Time is
// a manual clock: mono_us from 0, wall_us from kWall0Us (plus whole days
// skipped with skip_days). Used by tests/node/monitor_test.cc.
//
// Single-threaded. Not copyable.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "node/core/monitor.h"
#include "node/core/node_core.h"
#include "protocol/codec.h"
#include "storage/store.h"
#include "tests/testing/domain_fixtures.h"
#include "tests/testing/sim_network.h"
#include "tests/testing/temp_dir.h"
#include "topology/routing.h"

namespace lifeline::testing {

class MonitorNetwork {
 public:
  struct Node {
    topology::Neighbourhood neighbourhood;
    std::unique_ptr<storage::Store> store;
    std::unique_ptr<node::NodeCore> core;
    std::unique_ptr<node::Monitor> monitor;
  };

  // tree: (code, parent code or 0 for the root), parents before children.
  // earlier_release: nodes that announce no protocol features in their
  // frames, as a node of an earlier release does; the kinds of the records
  // delivered to each node are then counted (kinds_received).
  // monitor_options: a node's own monitoring options (default ones otherwise).
  explicit MonitorNetwork(const std::vector<std::pair<uint64_t, uint64_t>>& tree,
                          const std::set<uint64_t>& earlier_release = {},
                          const std::map<uint64_t, node::MonitorOptions>& monitor_options = {})
      : net_(1), dir_(true), count_kinds_(!earlier_release.empty()) {
    std::map<uint64_t, std::vector<topology::DivisionCode>> kids;
    for (auto [c, p] : tree) {
      if (p != 0) kids[p].push_back(code(c));
    }
    for (auto [c, p] : tree) {
      std::optional<topology::DivisionCode> parent;
      if (p != 0) {
        parent = code(p);
        net_.set_parent(c, p);
      }
      order_.push_back(c);
      Node& n = nodes_.emplace(c, Node{topology::Neighbourhood(code(c), parent, kids[c]), nullptr, nullptr, nullptr})
                    .first->second;
      n.store = std::move(*storage::Store::open(storage::StorageOptions{dir_.sub(std::to_string(c)), size_t{1} << 20, false}, c));
      node::LinkOptions options = link_options();
      if (earlier_release.count(c) != 0) options.features = 0;
      n.core = std::make_unique<node::NodeCore>(n.neighbourhood, n.store.get(), options);
      auto own = monitor_options.find(c);
      n.monitor = std::make_unique<node::Monitor>(n.core.get(), n.store.get(),
                                                  own != monitor_options.end() ? own->second : node::MonitorOptions{});
      n.core->set_domain(n.monitor.get());
      LIFELINE_CHECK(n.core->start(now()).is_ok() && n.monitor->start().is_ok(), "node did not start");
    }
  }
  MonitorNetwork(const MonitorNetwork&) = delete;
  MonitorNetwork& operator=(const MonitorNetwork&) = delete;

  node::Instant now() const { return node::Instant{mono_us_, kWall0Us + wall_skip_us_ + mono_us_}; }
  protocol::Date today() const { return node::shanghai_date(now().wall_us); }
  void skip_days(int days) { wall_skip_us_ += int64_t{days} * 86'400'000'000; }

  node::Monitor& monitor(uint64_t c) { return *nodes_.at(c).monitor; }
  node::NodeCore& core(uint64_t c) { return *nodes_.at(c).core; }
  storage::Store& store(uint64_t c) { return *nodes_.at(c).store; }
  const std::vector<uint64_t>& codes() const { return order_; }

  void cut(uint64_t child) { net_.cut(child); }
  void heal(uint64_t child) { net_.heal(child); }

  // One 5 ms step: frames due are delivered, timers run, frames go out.
  void step() {
    mono_us_ += 5'000;
    auto due = net_.take_due(mono_us_);
    node::Instant t = now();
    for (uint64_t c : order_) {
      Node& n = nodes_.at(c);
      auto it = due.find(c);
      if (it != due.end() && count_kinds_) count_kinds(c, it->second);
      if (it != due.end()) (void)n.core->on_frames(it->second, t);
      n.core->on_tick(t);
      n.monitor->on_tick(t);
      SimSink sink(net_, c, mono_us_);
      n.core->flush(sink, t);
    }
  }
  void run_for(int64_t us) {
    for (int64_t end = mono_us_ + us; mono_us_ < end;) step();
  }
  // Steps until every outbox (across uncut links) has been empty for 100 ms
  // and the uncut links are up; at most limit_us.
  bool settle(int64_t limit_us = 30'000'000) {
    int quiet_steps = 0;
    for (int64_t end = mono_us_ + limit_us; mono_us_ < end;) {
      step();
      quiet_steps = quiet() ? quiet_steps + 1 : 0;
      if (quiet_steps >= 20) return true;
    }
    return false;
  }
  // Records delivered to c, by kind (counted only with earlier_release).
  const std::map<uint16_t, uint64_t>& kinds_received(uint64_t c) { return kinds_[c]; }
  // A refusal counter of c: records refused from peer.
  uint64_t refusals(uint64_t c, uint64_t peer) {
    for (const auto& l : core(c).status().links) {
      if (l.peer == peer) return l.refusals;
    }
    return 0;
  }

 private:
  static topology::DivisionCode code(uint64_t n) { return *topology::DivisionCode::from_number(n); }
  static node::LinkOptions link_options() {
    node::LinkOptions o;
    o.heartbeat_interval_us = 25'000;
    o.down_after_us = 150'000;
    o.resend_after_us = 100'000;
    o.hello_backoff_initial_us = 10'000;
    o.hello_backoff_max_us = 80'000;
    return o;
  }
  template <class Frames>
  void count_kinds(uint64_t c, const Frames& frames) {
    for (const auto& in : frames) {
      auto f = protocol::decode_frame(std::as_bytes(std::span(in.bytes.data(), in.bytes.size())));
      if (!f) continue;
      if (const auto* data = std::get_if<protocol::Data>(&f->body)) {
        for (const protocol::Record& r : data->records) ++kinds_[c][r.kind];
      }
    }
  }
  bool quiet() {
    for (uint64_t c : order_) {
      for (const auto& l : nodes_.at(c).core->status().links) {
        uint64_t child = l.role == node::LinkRole::kParent ? c : l.peer;
        if (net_.is_cut(child)) continue;
        if (l.outbox_depth != 0 || l.state != node::LinkState::kUp) return false;
      }
    }
    return true;
  }

  SimNetwork net_;                       // no faults; cuts by hand
  TempDir dir_;                          // the stores (tmpfs when available)
  int64_t mono_us_ = 0;                  // the manual clock
  int64_t wall_skip_us_ = 0;             // whole days skipped on the wall clock
  std::map<uint64_t, Node> nodes_;       // by code
  std::vector<uint64_t> order_;          // codes, parents first
  bool count_kinds_ = false;
  std::map<uint64_t, std::map<uint16_t, uint64_t>> kinds_;  // node -> record kind -> records delivered
};

}  // namespace lifeline::testing
