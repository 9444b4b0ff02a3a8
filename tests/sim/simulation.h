// Simulation: one seeded schedule of a 31-node, five-level network in one
// process (DESIGN §3.1). Each node is a real NodeCore over a real LMDB store
// in a temporary folder; frames travel a SimNetwork that drops, duplicates,
// delays and reorders them, cuts subtrees off for long spells, and nodes
// crash (core and store closed mid-flight) and restart from their last
// committed state. Traffic flows down, up and across counties.
//
// After every step the invariants are checked (outbox sequences contiguous
// from acked+1 to last_assigned; cursors never move backward, across crashes
// too). After the chaos phase every fault is healed and the network runs
// until quiet; then every message must have been applied exactly once at its
// destination, in origin order per (origin, destination) stream.
#pragma once

#include <cstdint>
#include <string>

namespace lifeline::sim {

struct ScheduleResult {
  bool ok = true;
  std::string failure;     // the first broken expectation, when !ok
  uint64_t messages = 0;   // messages posted
  uint64_t crashes = 0;    // node crashes
  uint64_t cuts = 0;       // link cuts
  int64_t sim_ms = 0;      // simulated time until quiet
};

ScheduleResult run_schedule(uint64_t seed);

}  // namespace lifeline::sim
