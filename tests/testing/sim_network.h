// SimNetwork: an in-memory network between simulated nodes with seeded
// faults (DESIGN §3.1): each frame may be dropped, duplicated or delayed
// (delays reorder), links may be cut for spells (frames across a cut are
// lost, as on a dead TCP connection), and send() sometimes refuses a frame
// (back-pressure). Everything depends only on the seed, so a schedule
// replays exactly.
//
// Single-threaded. Not copyable.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "node/core/frame_sink.h"
#include "node/core/node_core.h"

namespace lifeline::testing {

struct FaultOptions {
  double drop = 0.0;        // probability a frame is lost
  double duplicate = 0.0;   // probability a frame is delivered twice
  double refuse = 0.0;      // probability send() answers "not now"
  int64_t min_delay_us = 100;
  int64_t max_delay_us = 5000;
};

class SimNetwork {
 public:
  explicit SimNetwork(uint64_t seed) : rng_(seed) {}
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  void set_faults(const FaultOptions& faults) { faults_ = faults; }
  // Cuts / heals the link between child and its parent.
  void cut(uint64_t child) { cut_.insert(child); }
  void heal(uint64_t child) { cut_.erase(child); }
  void heal_all() { cut_.clear(); }
  bool is_cut(uint64_t child) const { return cut_.count(child) != 0; }
  // Declares the parent of each child, so cuts apply to the edge.
  void set_parent(uint64_t child, uint64_t parent) { parent_of_[child] = parent; }

  // Queues a frame from -> to at time now (subject to faults).
  bool send(uint64_t from, uint64_t to, std::string&& bytes, int64_t now_us) {
    if (chance(faults_.refuse)) return false;
    if (crossing_cut(from, to) || chance(faults_.drop)) return true;  // accepted, then lost
    int copies = chance(faults_.duplicate) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      int64_t at = now_us + uniform(faults_.min_delay_us, faults_.max_delay_us);
      in_flight_.emplace(std::make_pair(at, next_id_++), Pending{from, to, i + 1 < copies ? bytes : std::move(bytes)});
    }
    return true;
  }

  // Removes and returns the frames due at `now`, grouped by receiver.
  std::map<uint64_t, std::vector<node::InFrame>> take_due(int64_t now_us) {
    std::map<uint64_t, std::vector<node::InFrame>> out;
    while (!in_flight_.empty() && in_flight_.begin()->first.first <= now_us) {
      Pending p = std::move(in_flight_.begin()->second);
      in_flight_.erase(in_flight_.begin());
      if (crossing_cut(p.from, p.to)) continue;
      out[p.to].push_back(node::InFrame{p.from, std::move(p.bytes)});
    }
    return out;
  }
  // Drops every frame queued toward `node` (it crashed: its sockets died).
  void drop_toward(uint64_t node) {
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      it = it->second.to == node ? in_flight_.erase(it) : std::next(it);
    }
  }
  size_t in_flight() const { return in_flight_.size(); }

  std::mt19937_64& rng() { return rng_; }
  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int64_t uniform(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }

 private:
  struct Pending {
    uint64_t from;
    uint64_t to;
    std::string bytes;
  };
  bool crossing_cut(uint64_t a, uint64_t b) const {
    auto edge_cut = [&](uint64_t child, uint64_t parent) {
      auto it = parent_of_.find(child);
      return it != parent_of_.end() && it->second == parent && cut_.count(child);
    };
    return edge_cut(a, b) || edge_cut(b, a);
  }

  std::mt19937_64 rng_;                                               // the schedule's only randomness
  FaultOptions faults_;                                               // current fault rates
  std::set<uint64_t> cut_;                                            // children whose parent link is cut
  std::map<uint64_t, uint64_t> parent_of_;                            // child -> parent
  std::map<std::pair<int64_t, uint64_t>, Pending> in_flight_;         // (deliver at, id) -> frame
  uint64_t next_id_ = 0;                                              // tie-breaker keeping order deterministic
};

// The FrameSink of one simulated node.
class SimSink : public node::FrameSink {
 public:
  SimSink(SimNetwork& net, uint64_t self, const int64_t& now_us) : net_(net), self_(self), now_us_(now_us) {}
  bool send(uint64_t peer, std::string&& bytes) override { return net_.send(self_, peer, std::move(bytes), now_us_); }

 private:
  SimNetwork& net_;        // not owned; outlives the sink
  uint64_t self_;          // the sending node
  const int64_t& now_us_;  // the simulation clock, read at each send
};

}  // namespace lifeline::testing
