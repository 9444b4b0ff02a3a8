// The system clocks as the core's Instant: the only place the runtime reads time.
#pragma once

#include <chrono>

#include "node/core/clock.h"

namespace lifeline::runtime {

inline node::Instant system_now() {
  using namespace std::chrono;
  return node::Instant{duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count(),
                       duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()};
}

}  // namespace lifeline::runtime
