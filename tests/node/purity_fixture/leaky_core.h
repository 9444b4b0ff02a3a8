// Fixture for the core purity check (tests/node/CMakeLists.txt): a "core"
// header that includes ZeroMQ and reads the system clock. The check must
// reject it. Never compiled.
#pragma once
#include <zmq.hpp>
inline auto leaky_now() { return std::chrono::system_clock::now(); }
