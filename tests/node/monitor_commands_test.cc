// The JSON views of the monitoring commands (node/runtime/monitor_commands.h).
#include <gtest/gtest.h>

#include "node/core/policy.h"
#include "node/runtime/monitor_commands.h"

namespace lifeline::runtime {
namespace {

protocol::Alert alert_due(protocol::Date due, protocol::AlertState state) {
  protocol::Alert a;
  a.id = protocol::RecordId{440000000000, 1};
  a.household = protocol::RecordId{441303001001, 1};
  a.generation = 1;
  a.level = 1;
  a.issued_date = 20261118;
  a.due_date = due;
  a.state = state;
  return a;
}

// Regression: the case page showed every alert as not overdue.
TEST(MonitorCommandsTest, CasePageFlagsAnOpenAlertPastItsDeadlineAsOverdue) {
  node::CaseFile cf;
  cf.household.id = protocol::RecordId{441303001001, 1};
  cf.household.village.value = 441303001001;
  cf.alerts = {alert_due(20261120, protocol::AlertState::kDelivered)};
  nlohmann::json page = case_json(cf, node::default_policy(), 20261123);
  EXPECT_TRUE(page["alerts"][0]["overdue"].get<bool>());
  EXPECT_FALSE(case_json(cf, node::default_policy(), 20261120)["alerts"][0]["overdue"].get<bool>());  // due today
  cf.alerts = {alert_due(20261120, protocol::AlertState::kVerified)};
  EXPECT_FALSE(case_json(cf, node::default_policy(), 20261123)["alerts"][0]["overdue"].get<bool>());
}

}  // namespace
}  // namespace lifeline::runtime
