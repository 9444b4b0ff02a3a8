// The JSON views of the monitoring commands (node/runtime/monitor_commands.h).
#include <gtest/gtest.h>

#include "node/core/household_json.h"
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

// A member another household also claims is named on the case page with
// the ID number masked, and the other household's id.
TEST(MonitorCommandsTest, CasePageNamesMembersAlsoRegisteredElsewhereMasked) {
  node::CaseFile cf;
  cf.household.id = protocol::RecordId{441303001001, 1};
  cf.household.village.value = 441303001001;
  EXPECT_EQ(case_json(cf, node::default_policy(), 20261123)["also_registered"], nlohmann::json::array());
  const std::string id_number = "441303201003030338";
  cf.also_registered = {{id_number, protocol::RecordId{441302001001, 2}}};
  nlohmann::json also = case_json(cf, node::default_policy(), 20261123)["also_registered"];
  ASSERT_EQ(also.size(), 1u);
  EXPECT_EQ(also[0]["household"], "H-441302001001-2");
  EXPECT_EQ(also[0]["id_number"].get<std::string>().find(id_number.substr(6, 8)), std::string::npos) << also;
  EXPECT_EQ(also[0]["id_number"].get<std::string>().substr(0, 4), "4413");
  EXPECT_NE(also[0]["message"].get<std::string>().find("H-441302001001-2"), std::string::npos);
}

// The API's list writes alerts without the JSON tree: byte for byte what
// alert_json(...).dump() gives, whatever the text fields hold.
TEST(MonitorCommandsTest, DirectAlertJsonEqualsTheTreesDump) {
  protocol::Alert a = alert_due(20261127, protocol::AlertState::kAccepted);
  a.score = 11;
  a.issued_hlc = uint64_t{1795399200123} << 16;
  a.delivered_at_us = 1795399200500000;
  a.accepted_at_us = -1;
  a.indicators = {{"serious_illness", 3, 20261101}, {"unemployment", 2, 20261020}};
  a.aliases = {protocol::RecordId{441303000000, 7}, protocol::RecordId{441300000000, 9}};
  for (const std::string& by : {std::string("王站长"), std::string("q\"uote\\back\nline\ttab\x01ctl\x7f"),
                               std::string("bad \xff\xfe utf-8"), std::string()}) {
    a.accepted_by = by;
    for (uint32_t level : {1u, 5u, 9u}) {  // 9: no rule in the policy
      a.level = level;
      for (bool overdue : {false, true}) {
        node::AlertView v{a, 441303001001, overdue};
        std::string direct;
        append_alert_json(direct, v, node::default_policy());
        EXPECT_EQ(direct, alert_json(v, node::default_policy()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
            << "accepted_by " << by << ", level " << level;
      }
    }
  }
}

// A member's disability grade is a whole number 0..4 however the JSON holds
// it: the command line builds it as a signed number, a parsed body as an
// unsigned one (the grade of `household add --member` with the node stopped
// used to be refused).
TEST(MemberJsonTest, AGradeIsTakenSignedOrUnsignedAndRefusedOutsideZeroToFour) {
  nlohmann::json m{{"id_number", "44130319850312123X"}, {"name", "张三"}, {"relation", "head"}};
  for (const nlohmann::json& grade : {nlohmann::json(int64_t{2}), nlohmann::json(uint64_t{2}), nlohmann::json::parse("2")}) {
    m["disability_grade"] = grade;
    auto r = node::member_from_json(m);
    ASSERT_TRUE(r.is_ok()) << grade << ": " << r.status().to_string();
    EXPECT_EQ(r->disability_grade, 2u);
  }
  for (const nlohmann::json& grade : {nlohmann::json(-1), nlohmann::json(5), nlohmann::json(2.5), nlohmann::json("2"),
                                      nlohmann::json(uint64_t{1} << 63)}) {
    m["disability_grade"] = grade;
    EXPECT_FALSE(node::member_from_json(m).is_ok()) << grade;
  }
}

}  // namespace
}  // namespace lifeline::runtime
