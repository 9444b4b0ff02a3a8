// Time as the core sees it: an input, never read from the system. The
// runtime fills Instant from the operating system (node/runtime/),
// the simulation from a manual clock. Also the hybrid logical clock.
//
// Value types; Hlc is not thread-safe (owned by the core).
#pragma once

#include <algorithm>
#include <cstdint>

namespace lifeline::node {

struct Instant {
  int64_t mono_us = 0;  // monotonic microseconds: timers, round-trip times
  int64_t wall_us = 0;  // wall clock, Unix microseconds: timestamps shown and stored
};

// Hybrid logical clock: (wall ms << 16) | logical counter. Monotonic even
// when the wall clock steps back; observe() keeps it ahead of what was seen.
class Hlc {
 public:
  uint64_t now(const Instant& t) {
    uint64_t physical = static_cast<uint64_t>(std::max<int64_t>(t.wall_us / 1000, 0)) << 16;
    last_ = std::max(last_ == kMax ? last_ : last_ + 1, physical);  // saturates, never wraps
    return last_;
  }
  void observe(uint64_t remote) { last_ = std::max(last_, remote); }
  uint64_t last() const { return last_; }
  static int64_t wall_ms(uint64_t hlc) { return static_cast<int64_t>(hlc >> 16); }

 private:
  static constexpr uint64_t kMax = ~uint64_t{0};
  uint64_t last_ = 0;  // the last timestamp issued or observed
};

}  // namespace lifeline::node
