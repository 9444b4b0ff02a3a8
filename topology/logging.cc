#include "topology/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace lifeline {
namespace {

constexpr char kPattern[] = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v";

// The level for folder loggers created from now on, and the lock that makes
// "look up or create" and "change the level" atomic with respect to each other.
struct LogState {
  std::mutex mutex;                                       // guards level
  spdlog::level::level_enum level = spdlog::level::info;  // GUARDED_BY(mutex)
};

LogState& log_state() {
  static LogState state;  // built on first use, whatever the static init order
  return state;
}

// Creates the logger; someone outside this file may have registered the name
// meanwhile, in which case spdlog throws and the registered one is returned.
std::shared_ptr<spdlog::logger> create_logger(const std::string& folder, spdlog::level::level_enum level) {
  std::shared_ptr<spdlog::logger> logger;
  try {
    logger = spdlog::stderr_color_mt(folder);
  } catch (const spdlog::spdlog_ex&) {
    return spdlog::get(folder);
  }
  logger->set_pattern(kPattern);
  logger->set_level(level);
  return logger;
}

}  // namespace

std::shared_ptr<spdlog::logger> folder_logger(const std::string& folder) {
  LogState& state = log_state();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (auto existing = spdlog::get(folder)) return existing;
  return create_logger(folder, state.level);
}

Status set_log_level(const std::string& level) {
  spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  // from_str maps every unknown name to off; only "off" itself means off.
  if (parsed == spdlog::level::off && level != "off") {
    return Status::invalid_argument("unknown log level '" + level + "'");
  }
  LogState& state = log_state();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.level = parsed;
  spdlog::set_level(parsed);  // every registered logger, and the registry default
  return Status::ok();
}

}  // namespace lifeline
