// Simulation: one seeded schedule of a 31-node, five-level network in one
// process (DESIGN §3.1). Each node is a real NodeCore with its Monitor over
// a real LMDB store in a temporary folder; frames travel a SimNetwork that
// drops, duplicates, delays and reorders them, cuts subtrees off for long
// spells, and nodes crash (core, monitor and store closed mid-flight) and
// restart from their last committed state. Test traffic flows down, up and
// across counties; the monitoring domain runs beside it: households
// registered at villages, townships and counties, department events
// imported at any node (some repeated), alerts accepted, verified by
// feedback at villages and townships and closed at counties, households
// moved by counties and above, new policy versions set at the province.
// About a quarter of the nodes, chosen by the seed, announce no protocol
// features, as nodes of an earlier release: they are sent sync batches
// uncompressed.
//
// After every step the invariants are checked (outbox sequences contiguous
// from acked+1 to last_assigned; cursors never move backward, across crashes
// too; an alert's state never moves backward at a node that kept its
// household). After the chaos phase every fault is healed and the network
// runs until quiet; then every message (test and domain) must have been
// applied exactly once at its destination, in origin order per (origin,
// destination) stream, and the domain must have converged: every holder of
// a household has the same fields, alerts, history and events, non-holders
// hold none of it, every alert ever issued resolves at every holder, no
// household has two open alerts, each node's aggregate figures match its
// records and the province's match the sum of the villages', and every node
// runs the latest policy.
#pragma once

#include <cstdint>
#include <string>

namespace lifeline::sim {

struct ScheduleResult {
  bool ok = true;
  std::string failure;     // the first broken expectation, when !ok
  uint64_t messages = 0;   // test messages posted
  uint64_t crashes = 0;    // node crashes
  uint64_t cuts = 0;       // link cuts
  int64_t sim_ms = 0;      // simulated time until quiet
  // Domain activity.
  uint64_t households = 0;  // registered
  uint64_t shared_persons = 0;         // registered with a person already in another household
  uint64_t refused_registrations = 0;  // refused: the node held that other household
  uint64_t imports = 0;     // import files applied
  uint64_t alerts = 0;      // alert ids issued (before merges)
  uint64_t feedbacks = 0;   // verification feedback recorded
  uint64_t escalations = 0; // alerts escalated (督办)
  uint64_t moves = 0;       // households moved
  uint64_t policies = 0;    // policy versions set
  uint64_t refusals = 0;    // records refused by any node (link or domain)
};

ScheduleResult run_schedule(uint64_t seed);

}  // namespace lifeline::sim
