#include "topology/logging.h"

#include <gtest/gtest.h>

namespace lifeline {
namespace {

// Leaves the process-wide level as other tests expect it.
class LoggingTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(set_log_level("info").is_ok()); }
};

TEST_F(LoggingTest, FolderLoggerIsCreatedOnceAndNamedAfterFolder) {
  std::shared_ptr<spdlog::logger> first = folder_logger("logging-test-once");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->name(), "logging-test-once");
  EXPECT_EQ(folder_logger("logging-test-once"), first);
}

TEST_F(LoggingTest, SetLogLevelChangesExistingLoggers) {
  std::shared_ptr<spdlog::logger> existing = folder_logger("logging-test-existing");
  ASSERT_TRUE(set_log_level("warn").is_ok());
  EXPECT_EQ(existing->level(), spdlog::level::warn);
  ASSERT_TRUE(set_log_level("trace").is_ok());
  EXPECT_EQ(existing->level(), spdlog::level::trace);
}

TEST_F(LoggingTest, SetLogLevelAppliesToLoggersCreatedLater) {
  ASSERT_TRUE(set_log_level("error").is_ok());
  EXPECT_EQ(folder_logger("logging-test-later")->level(), spdlog::level::err);
  ASSERT_TRUE(set_log_level("off").is_ok());
  EXPECT_EQ(folder_logger("logging-test-later-off")->level(), spdlog::level::off);
}

TEST_F(LoggingTest, SetLogLevelRejectsUnknownNameAndKeepsLevel) {
  std::shared_ptr<spdlog::logger> logger = folder_logger("logging-test-unknown");
  ASSERT_TRUE(set_log_level("debug").is_ok());
  for (const char* name : {"", "verbose", "INFO", "off "}) {
    Status status = set_log_level(name);
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << name;
  }
  EXPECT_EQ(logger->level(), spdlog::level::debug);
}

}  // namespace
}  // namespace lifeline
