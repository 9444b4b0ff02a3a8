// One named spdlog logger per source folder ("topology", "protocol",
// "storage", "node", "runtime"), all writing to stderr with the same pattern
// and level. Thread-safe (spdlog's registry and *_mt sinks).
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "topology/status.h"

namespace lifeline {

// The logger named `folder`, created on first use.
std::shared_ptr<spdlog::logger> folder_logger(const std::string& folder);

// Sets the level of every folder logger, present and future. Accepts
// spdlog's names: trace, debug, info, warn, error, critical, off.
Status set_log_level(const std::string& level);

}  // namespace lifeline
