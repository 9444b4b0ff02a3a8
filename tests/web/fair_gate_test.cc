#include "web/fair_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace lifeline::web {
namespace {

void wait_until(const std::function<bool()>& done) {
  for (int i = 0; i < 5000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(done());
}

// One slot, so that a thread records its turn while it holds the gate: the
// record's order is the order of admission.
TEST(FairGateTest, AdmitsInTheOrderOfArrivalAndNewcomersQueueBehind) {
  FairGate gate(1);
  auto held = std::make_unique<FairGate::Slot>(gate);
  std::vector<int> admitted;  // written only while holding the gate
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      FairGate::Slot s(gate);
      admitted.push_back(i);
    });
    // Each thread is queued before the next one starts: the arrival order is i.
    wait_until([&] { return gate.waiting() == static_cast<size_t>(i + 1); });
  }
  EXPECT_TRUE(admitted.empty()) << "a thread passed a gate whose slot was held";
  held.reset();
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(gate.waiting(), 0u);
}

TEST(FairGateTest, NeverAdmitsMoreThanItsSlots) {
  FairGate gate(2);
  std::atomic<int> inside{0}, most_inside{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < 300; ++n) {
        FairGate::Slot s(gate);
        int now = ++inside;
        for (int seen = most_inside.load(); now > seen && !most_inside.compare_exchange_weak(seen, now);) {
        }
        std::this_thread::yield();
        --inside;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(most_inside.load(), 2);
  EXPECT_EQ(gate.waiting(), 0u);
}

}  // namespace
}  // namespace lifeline::web
