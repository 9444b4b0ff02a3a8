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

TEST(FairGateTest, AdmitsAtMostItsSlotsAndThenInTheOrderOfArrival) {
  FairGate gate(2);
  auto a = std::make_unique<FairGate::Slot>(gate);
  auto b = std::make_unique<FairGate::Slot>(gate);
  std::mutex m;
  std::vector<int> admitted;
  std::atomic<int> inside{0}, most_inside{0};
  std::atomic<bool> release{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      FairGate::Slot s(gate);
      int now = ++inside;
      for (int seen = most_inside.load(); now > seen && !most_inside.compare_exchange_weak(seen, now);) {
      }
      {
        std::lock_guard lock(m);
        admitted.push_back(i);
      }
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      --inside;
    });
    // Each thread is queued before the next one starts: the arrival order is i.
    wait_until([&] { return gate.waiting() == static_cast<size_t>(i + 1); });
  }
  EXPECT_TRUE(admitted.empty()) << "a thread passed a gate whose slots were all held";
  a.reset();  // one slot: the first to arrive goes in, and holds it
  wait_until([&] { std::lock_guard lock(m); return admitted.size() == 1; });
  b.reset();
  wait_until([&] { std::lock_guard lock(m); return admitted.size() == 2; });
  EXPECT_EQ(gate.waiting(), 4u);
  // A newcomer queues behind the threads already waiting.
  std::thread newcomer([&] {
    FairGate::Slot s(gate);
    std::lock_guard lock(m);
    admitted.push_back(6);
  });
  wait_until([&] { return gate.waiting() == 5u; });
  release = true;
  for (auto& t : threads) t.join();
  newcomer.join();
  EXPECT_EQ(admitted, (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(most_inside.load(), 2);
  EXPECT_EQ(gate.waiting(), 0u);
}

}  // namespace
}  // namespace lifeline::web
