// Runs seeded simulation schedules (tests/sim/simulation.h).
//   simulation_test                      schedules 1..1000
//   simulation_test --first F --count N  schedules F..F+N-1 (ctest runs shards)
//   simulation_test --seed S             replays schedule S alone
//   simulation_test ... --log LEVEL      node logs at LEVEL (default error), e.g. info
// A failing seed is printed with the command that replays it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "tests/sim/simulation.h"
#include "topology/logging.h"

namespace {

uint64_t g_first = 1;
uint64_t g_count = 1000;

TEST(SimulationTest, EveryMessageAppliedExactlyOnceInOriginOrderAfterHealing) {
  uint64_t messages = 0, crashes = 0, cuts = 0, failures = 0;
  lifeline::sim::ScheduleResult domain;
  for (uint64_t seed = g_first; seed < g_first + g_count; ++seed) {
    lifeline::sim::ScheduleResult r = lifeline::sim::run_schedule(seed);
    messages += r.messages;
    crashes += r.crashes;
    cuts += r.cuts;
    domain.households += r.households;
    domain.shared_persons += r.shared_persons;
    domain.refused_registrations += r.refused_registrations;
    domain.imports += r.imports;
    domain.alerts += r.alerts;
    domain.feedbacks += r.feedbacks;
    domain.escalations += r.escalations;
    domain.moves += r.moves;
    domain.policies += r.policies;
    domain.refusals += r.refusals;
    if (!r.ok) {
      ++failures;
      ADD_FAILURE() << r.failure << "\n  replay alone: simulation_test --seed " << seed;
      if (failures >= 3) break;
    }
  }
  std::cout << "schedules " << g_first << ".." << g_first + g_count - 1 << ": " << messages << " messages, " << crashes
            << " crashes, " << cuts << " link cuts, " << failures << " failed\n"
            << "  domain: " << domain.households << " households, " << domain.imports << " imports, " << domain.alerts
            << " alerts issued, " << domain.feedbacks << " feedbacks, " << domain.escalations << " escalations, "
            << domain.moves << " moves, "
            << domain.policies << " policy versions, " << domain.refusals << " records refused\n"
            << "  persons registered in a second household: " << domain.shared_persons << " taken, "
            << domain.refused_registrations << " refused where the first was held\n";
  // The registry conflicts the index must survive do happen in a run of any length.
  if (g_count >= 100) {
    EXPECT_GT(domain.shared_persons, 0u);
    EXPECT_GT(domain.escalations, 0u);
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  (void)lifeline::set_log_level("error");  // link state changes by the thousand otherwise
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--seed") == 0) g_first = std::strtoull(argv[i + 1], nullptr, 10), g_count = 1;
    if (std::strcmp(argv[i], "--first") == 0) g_first = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--count") == 0) g_count = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--log") == 0) (void)lifeline::set_log_level(argv[i + 1]);
  }
  return RUN_ALL_TESTS();
}
