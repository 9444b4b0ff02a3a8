// What both benchmark programs share: the results table (printed, and
// written as results.json: {"<name>": {"value", "unit", "baseline", "ratio"}}),
// wall-clock timing, and requests to a running node's control socket.
#pragma once

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "node/runtime/control.h"
#include "tests/testing/local_network.h"

namespace lifeline::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Results {
  nlohmann::json doc = nlohmann::json::object();

  // Starts from the figures already in path (another program's), if any.
  void load(const std::string& path) {
    std::ifstream in(path);
    doc = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json::object();
    if (!doc.is_object()) doc = nlohmann::json::object();
  }
  void save(const std::string& path) const { std::ofstream(path) << doc.dump(2) << "\n"; }

  // Records and prints one figure, with its ratio to baseline (a figure
  // added earlier) when one is named.
  void add(const std::string& name, double value, const std::string& unit, const std::string& baseline = "") {
    using nlohmann::json;
    json entry{{"value", value}, {"unit", unit}, {"baseline", baseline.empty() ? json(nullptr) : json(baseline)}};
    entry["ratio"] = baseline.empty() || !doc.contains(baseline) ? json(nullptr)
                                                                 : json(value / doc[baseline]["value"].get<double>());
    doc[name] = entry;
    std::printf("%-28s %14.3f %-10s %s\n", name.c_str(), value, unit.c_str(),
                baseline.empty() ? "" : ("ratio " + std::to_string(entry["ratio"].get<double>()) + " to " + baseline).c_str());
    std::fflush(stdout);
  }
};

// One request to code's running node; null when it does not answer.
inline nlohmann::json control(const testing::LocalNetwork& net, const std::string& code, const nlohmann::json& req,
                              int timeout_ms = 600000) {
  auto r = runtime::control_request("ipc://" + net.node_dir(code) + "/data/control.sock", req, timeout_ms);
  return r ? *r : nlohmann::json();
}

}  // namespace lifeline::bench
