// The monitoring flow across a real network of `lifeline run` processes,
// driven through the command line only: a household registered at a village
// reaches the province; events imported at the province raise an alert that
// travels down to the village with its working-day deadline; feedback
// recorded at the village verifies the alert at every holder. Also: the
// township killed -9 in the middle of it, the county cut off while alerts are
// raised on both sides of the cut (they merge into one), and a cross-location
// application reaching its home village and its status coming back.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "node/core/civil_date.h"
#include "node/runtime/system_clock.h"
#include "tests/testing/local_network.h"

namespace lifeline {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::LocalNetwork;

const std::string kProvince = "440000000000", kCity = "441300000000", kCounty = "441303000000",
                  kTownship = "441303001000", kVillage = "441303001001";
const std::vector<std::string> kChain = {kProvince, kCity, kCounty, kTownship, kVillage};
// Two members of the household every test registers (valid GB 11643 numbers).
const std::string kHead = "44130319850312123X", kSpouse = "441302200107040044";
constexpr auto kPatience = 20s;  // the longest any replication is waited for
constexpr auto kPoll = 200ms;

std::string divisions() { return std::string(LIFELINE_SHARED_DATA) + "/huizhou_divisions.csv"; }

// Today's date in Asia/Shanghai shifted by offset_days, YYYY-MM-DD (the
// product's own date functions, so the tests and the node agree on "today").
std::string shanghai_date(int offset_days = 0) {
  return node::format_date(node::add_days(node::shanghai_date(runtime::system_now().wall_us), offset_days));
}

// Working days to act on an alert of each level (default policy).
int deadline_days(int level) {
  switch (level) {
    case 1: return 3;
    case 2: return 5;
    case 3: return 7;
    default: return 10;
  }
}

// `lifeline calendar due --from from --days days`: the deadline date.
std::string calendar_due(const LocalNetwork& net, const std::string& from, int days) {
  auto r = net.run_lifeline({"calendar", "due", "--from", from, "--days", std::to_string(days), "--json"});
  return r.rc == 0 && r.json.is_object() ? r.json.value("due", "") : "";
}

// A CSV import file: the header and one line per event (department, record id, ID number, indicator, date).
std::string events_csv(const std::vector<std::array<std::string, 5>>& events) {
  std::string text = "source_department,source_record_id,id_number,indicator,event_date\n";
  for (const auto& e : events) text += e[0] + "," + e[1] + "," + e[2] + "," + e[3] + "," + e[4] + "\n";
  return text;
}

// Registers the two-member test household at code for village; returns its id ("" on failure).
std::string register_household(const LocalNetwork& net, const std::string& code, const std::string& village) {
  auto r = net.cli(code, {"household", "add", "--village", village, "--category", "marginal", "--member",
                          kHead + ",张三,head", "--member", kSpouse + ",李四,spouse", "--json"});
  EXPECT_EQ(r.rc, 0) << r.err;
  return r.rc == 0 && r.json.is_object() ? r.json.value("household", "") : "";
}

// Imports text (CSV) at code; returns the report (null on failure).
json import_events(const LocalNetwork& net, const std::string& code, const std::string& name, const std::string& text) {
  auto r = net.cli(code, {"import", net.write_file(name, text), "--json"});
  EXPECT_EQ(r.rc, 0) << r.err;
  return r.rc == 0 ? r.json : json();
}

// The alerts held at code for household (null when the command failed).
json alerts_of(const LocalNetwork& net, const std::string& code, const std::string& household) {
  auto r = net.cli(code, {"alerts", "--json"});
  if (r.rc != 0 || !r.json.is_object()) return json();
  json out = json::array();
  for (const auto& a : r.json["alerts"])
    if (a.value("household", "") == household) out.push_back(a);
  return out;
}

// The one alert held at code for household (null unless exactly one).
json only_alert(const LocalNetwork& net, const std::string& code, const std::string& household) {
  json list = alerts_of(net, code, household);
  return list.is_array() && list.size() == 1 ? list[0] : json();
}

// The case page of household at code (null when the command failed).
json case_page(const LocalNetwork& net, const std::string& code, const std::string& household) {
  auto r = net.cli(code, {"household", "show", household, "--json"});
  return r.rc == 0 && r.json.is_object() ? r.json : json();
}

// The history entries of a case page of one kind.
std::vector<json> history_of_kind(const json& page, const std::string& kind) {
  std::vector<json> out;
  if (!page.is_object()) return out;
  for (const auto& e : page["history"])
    if (e.value("kind", "") == kind) out.push_back(e);
  return out;
}

testing::CommandResult feedback(const LocalNetwork& net, const std::string& code, const std::string& alert) {
  return net.cli(code, {"feedback", alert, "--visit-date", shanghai_date(), "--method", "home_visit", "--visitor",
                        "王五", "--truthful", "yes", "--decision", "include_minimum_living", "--needs",
                        "basic_living,health", "--json"});
}

bool holds_household(const LocalNetwork& net, const std::string& code, const std::string& household) {
  json page = case_page(net, code, household);
  return page.is_object() && page.value("household", "") == household && page["members"].size() == 2;
}

// True when code holds exactly one alert for household, id alert, in state.
bool alert_in_state(const LocalNetwork& net, const std::string& code, const std::string& household,
                    const std::string& alert, const std::string& state) {
  json a = only_alert(net, code, household);
  return a.is_object() && a["id"] == alert && a["state"] == state;
}

// The feedback entry of a case page's history for alert, checked against
// what feedback() records. Returns how many such entries there are.
size_t expect_feedback_entry(const json& page, const std::string& alert) {
  size_t n = 0;
  for (const auto& e : history_of_kind(page, "feedback")) {
    if (e.value("alert", "") != alert) continue;
    ++n;
    EXPECT_EQ(e["feedback"]["decision"], "include_minimum_living");
    EXPECT_EQ(e["feedback"]["needs"], json::array({"basic_living", "health"}));
    EXPECT_EQ(e["feedback"]["method"], "home_visit");
    EXPECT_EQ(e["feedback"]["truthful"], true);
  }
  return n;
}

// The events raising a level 1 alert (score 13) for the test household, dated ten days ago.
std::string level_one_events() {
  std::string d = shanghai_date(-10);
  return events_csv({{"medical_insurance", "YB-1", kHead, "serious_illness", d},
                     {"human_resources", "RS-SY-1", kHead, "unemployment", d},
                     {"human_resources", "RS-SB-1", kHead, "insurance_lapse", d},
                     {"health", "WJ-CS-1", kSpouse, "birth", d}});
}

// Starts the five-level chain, registers the household at the village and
// waits until the province holds it. Returns the household id.
std::string start_chain_with_household(LocalNetwork& net) {
  net.start_all(kChain);
  std::string hh = register_household(net, kVillage, kVillage);
  EXPECT_FALSE(hh.empty());
  EXPECT_TRUE(testing::wait_until([&] { return holds_household(net, kProvince, hh); }, kPatience, kPoll))
      << "the province never held " << hh;
  return hh;
}

// Imports the level 1 events at the province; checks the report and the
// province's alert; returns the alert (null on failure).
json import_level_one_at_province(const LocalNetwork& net, const std::string& hh) {
  json report = import_events(net, kProvince, "level1.csv", level_one_events());
  EXPECT_EQ(report["lines_read"], 4) << report;
  EXPECT_EQ(report["applied"], 4) << report;
  EXPECT_EQ(report["alerts_issued"], 1) << report;
  EXPECT_TRUE(report["rejected"].empty()) << report;
  json a = only_alert(net, kProvince, hh);
  EXPECT_TRUE(a.is_object()) << alerts_of(net, kProvince, hh);
  if (!a.is_object()) return json();
  EXPECT_EQ(a["level"], 1);
  EXPECT_EQ(a["score"], 13);
  EXPECT_EQ(a["household"], hh);
  EXPECT_EQ(a["village"], kVillage);
  EXPECT_EQ(a["id"].get<std::string>().rfind("A-" + kProvince + "-", 0), 0u) << a;
  return a;
}

TEST(MonitorFlowTest, ImportAtProvinceAlertsVillageFeedbackVerifiesAtProvince) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(7));
  ASSERT_TRUE(net.ok()) << net.init_output();
  std::string hh = start_chain_with_household(net);
  ASSERT_FALSE(hh.empty());
  // Every holder on the way up has it too.
  for (const auto& code : {kCity, kCounty, kTownship}) EXPECT_TRUE(holds_household(net, code, hh)) << code;

  std::string before = shanghai_date();
  json issued = import_level_one_at_province(net, hh);
  std::string after = shanghai_date();
  ASSERT_TRUE(issued.is_object());
  std::string id = issued["id"];
  std::string issued_date = issued["issued_date"];
  EXPECT_TRUE(issued_date == before || issued_date == after) << issued_date;
  std::string due = calendar_due(net, issued_date, 3);
  ASSERT_FALSE(due.empty());
  EXPECT_EQ(issued["due_date"], due);

  // The alert reaches the village with its level and deadline, and is delivered.
  json at_village;
  ASSERT_TRUE(testing::wait_until([&] {
    at_village = only_alert(net, kVillage, hh);
    return at_village.is_object() && at_village["state"] == "delivered";
  }, kPatience, kPoll)) << "village alerts: " << alerts_of(net, kVillage, hh);
  EXPECT_EQ(at_village["id"], id);
  EXPECT_EQ(at_village["level"], 1);
  EXPECT_EQ(at_village["score"], 13);
  EXPECT_EQ(at_village["colour"], "red");
  EXPECT_EQ(at_village["due_date"], due);
  EXPECT_EQ(at_village["deadline"], due + "T23:59:59+08:00");
  EXPECT_EQ(at_village["overdue"], false);
  EXPECT_EQ(at_village["indicators"].size(), 4u);
  // The delivery comes back up: the province sees it delivered too.
  EXPECT_TRUE(testing::wait_until([&] { return alert_in_state(net, kProvince, hh, id, "delivered"); }, kPatience, kPoll));

  // The county escalates it (督办); the village cannot, and says why in Chinese first.
  auto refused = net.cli(kVillage, {"escalate", id, "--by", "站长", "--note", "请核查", "--json"});
  EXPECT_EQ(refused.rc, 1);
  const size_t zh = refused.err.find("lifeline: 督办应在县（区）及以上节点发起\n");
  EXPECT_NE(zh, std::string::npos) << refused.err;
  const size_t en = refused.err.find("alerts are escalated at a county node or above");
  EXPECT_NE(en, std::string::npos) << refused.err;
  EXPECT_GT(en, zh) << "Chinese first: " << refused.err;
  ASSERT_TRUE(testing::wait_until([&] { return alert_in_state(net, kCounty, hh, id, "delivered"); }, kPatience, kPoll));
  auto escalated = net.cli(kCounty, {"escalate", id, "--by", "李科长", "--note", "一档预警，请尽快入户", "--json"});
  ASSERT_EQ(escalated.rc, 0) << escalated.err;
  EXPECT_EQ(escalated.json["escalated"], true) << escalated.out;
  EXPECT_TRUE(testing::wait_until([&] {
    json a = only_alert(net, kVillage, hh);
    return a.is_object() && a.value("escalated_at_us", int64_t{0}) > 0;
  }, kPatience, kPoll)) << "village alerts: " << alerts_of(net, kVillage, hh);
  auto escalated_list = net.cli(kVillage, {"alerts", "--escalated", "--json"});
  ASSERT_EQ(escalated_list.rc, 0) << escalated_list.err;
  EXPECT_EQ(escalated_list.json["count"], 1) << escalated_list.out;

  auto fb = feedback(net, kVillage, id);
  ASSERT_EQ(fb.rc, 0) << fb.err;
  EXPECT_EQ(fb.json["state"], "verified");

  json page;
  ASSERT_TRUE(testing::wait_until([&] {
    if (!alert_in_state(net, kProvince, hh, id, "verified")) return false;
    page = case_page(net, kProvince, hh);
    return !history_of_kind(page, "feedback").empty();
  }, kPatience, kPoll)) << "province alerts: " << alerts_of(net, kProvince, hh);
  EXPECT_EQ(expect_feedback_entry(page, id), 1u) << page["history"];
  EXPECT_EQ(history_of_kind(page, "escalated").size(), 1u) << page["history"];
  // Verified, it is still listed as escalated, and no longer as open.
  auto after_feedback = net.cli(kProvince, {"alerts", "--escalated", "--open", "--json"});
  ASSERT_EQ(after_feedback.rc, 0) << after_feedback.err;
  EXPECT_EQ(after_feedback.json["count"], 0) << after_feedback.out;
  for (const auto& code : {kCity, kCounty, kTownship, kVillage}) {
    EXPECT_TRUE(testing::wait_until([&] { return alert_in_state(net, code, hh, id, "verified"); }, kPatience, kPoll))
        << code << ": " << alerts_of(net, code, hh);
  }
}

TEST(MonitorFlowTest, TownshipKilledDuringFlowNothingLost) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  std::string hh = start_chain_with_household(net);
  ASSERT_FALSE(hh.empty());

  // The township is frozen (SIGSTOP) through the import, so the alert is
  // certainly still on its way down, at the township's door, when it is
  // killed -9 right after.
  net.process(kTownship).signal(SIGSTOP);
  json issued = import_level_one_at_province(net, hh);
  ASSERT_TRUE(issued.is_object());
  std::string id = issued["id"];
  std::string due = calendar_due(net, issued["issued_date"], 3);
  EXPECT_TRUE(testing::wait_until([&] { return only_alert(net, kCounty, hh).is_object(); }, kPatience, kPoll));
  net.kill9(kTownship);
  EXPECT_TRUE(alerts_of(net, kVillage, hh).empty()) << alerts_of(net, kVillage, hh);
  std::this_thread::sleep_for(1s);
  net.start(kTownship);

  ASSERT_TRUE(testing::wait_until([&] { return alert_in_state(net, kVillage, hh, id, "delivered"); }, kPatience, kPoll))
      << "village alerts: " << alerts_of(net, kVillage, hh);
  EXPECT_EQ(only_alert(net, kVillage, hh)["due_date"], due);
  EXPECT_TRUE(testing::wait_until([&] { return alert_in_state(net, kProvince, hh, id, "delivered"); }, kPatience, kPoll));

  // Again for the feedback on its way up: recorded at the village while the
  // township is frozen, then the township killed -9 and restarted.
  net.process(kTownship).signal(SIGSTOP);
  auto fb = feedback(net, kVillage, id);
  ASSERT_EQ(fb.rc, 0) << fb.err;
  std::this_thread::sleep_for(200ms);  // the village sends it into the frozen township's socket
  net.kill9(kTownship);
  EXPECT_TRUE(alert_in_state(net, kCounty, hh, id, "delivered")) << alerts_of(net, kCounty, hh);
  std::this_thread::sleep_for(1s);
  net.start(kTownship);

  for (const auto& code : kChain) {
    EXPECT_TRUE(testing::wait_until([&] { return alert_in_state(net, code, hh, id, "verified"); }, kPatience, kPoll))
        << code << ": " << alerts_of(net, code, hh);
  }
  // Exactly one alert everywhere, with its whole story told once at each holder.
  for (const auto& code : kChain) {
    json a = only_alert(net, code, hh);
    ASSERT_TRUE(a.is_object()) << code << ": " << alerts_of(net, code, hh);
    EXPECT_EQ(a["level"], 1) << code;
    EXPECT_EQ(a["due_date"], due) << code;
    EXPECT_TRUE(a["aliases"].empty()) << code;
    json page = case_page(net, code, hh);
    EXPECT_EQ(history_of_kind(page, "alert_issued").size(), 1u) << code << ": " << page["history"];
    EXPECT_EQ(history_of_kind(page, "delivered").size(), 1u) << code << ": " << page["history"];
    EXPECT_EQ(expect_feedback_entry(page, id), 1u) << code << ": " << page["history"];
    EXPECT_EQ(page["events"].size(), 4u) << code;
  }
}

TEST(MonitorFlowTest, CutOffCountyImportsMergeIntoOneAlert) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(9));
  ASSERT_TRUE(net.ok()) << net.init_output();
  std::string hh = start_chain_with_household(net);
  ASSERT_FALSE(hh.empty());
  ASSERT_TRUE(testing::wait_until([&] { return holds_household(net, kCounty, hh); }, kPatience, kPoll));

  net.kill9(kCity);  // the county (and everything below) is cut off from the province
  std::string d = shanghai_date(-10);
  // At the province: 4 + 4 = 8, level 2 (orange). At the county: 4 + 2 = 6, level 4 (blue).
  json r1 = import_events(net, kProvince, "province.csv",
                          events_csv({{"medical_insurance", "YB-1", kHead, "serious_illness", d},
                                      {"human_resources", "RS-SY-1", kHead, "unemployment", d}}));
  json r2 = import_events(net, kCounty, "county.csv",
                          events_csv({{"public_security", "GA-1", kSpouse, "accident", d},
                                      {"health", "WJ-CS-1", kSpouse, "birth", d}}));
  EXPECT_EQ(r1["alerts_issued"], 1) << r1;
  EXPECT_EQ(r2["alerts_issued"], 1) << r2;
  json a1 = only_alert(net, kProvince, hh), a2 = only_alert(net, kCounty, hh);
  ASSERT_TRUE(a1.is_object() && a2.is_object()) << alerts_of(net, kProvince, hh) << alerts_of(net, kCounty, hh);
  const std::string id1 = a1["id"], id2 = a2["id"];
  ASSERT_NE(id1, id2);
  EXPECT_EQ(a1["level"], 2);
  EXPECT_EQ(a2["level"], 4);
  // The county's alert still goes down while the city is away.
  EXPECT_TRUE(testing::wait_until([&] { return alert_in_state(net, kVillage, hh, id2, "delivered"); }, kPatience, kPoll))
      << alerts_of(net, kVillage, hh);

  net.start(kCity);
  const std::set<std::string> ids = {id1, id2};
  const std::set<std::string> indicators = {"serious_illness", "unemployment", "accident", "birth"};
  // One alert at every holder, under one of the two ids with the other as an alias.
  auto merged_at = [&](const std::string& code) {
    json a = only_alert(net, code, hh);
    if (!a.is_object() || !ids.count(a["id"].get<std::string>())) return json();
    std::string other = a["id"] == id1 ? id2 : id1;
    bool aliased = false;
    for (const auto& al : a["aliases"]) aliased = aliased || al == other;
    return aliased && a["indicators"].size() == indicators.size() ? a : json();
  };
  std::map<std::string, json> merged;
  auto show_all = [&] {
    std::string text;
    for (const auto& code : kChain) text += "\n" + code + ": " + alerts_of(net, code, hh).dump();
    return text;
  };
  // Merged at every holder, and every replica alike.
  ASSERT_TRUE(testing::wait_until([&] {
    for (const auto& code : kChain) {
      if (!(merged[code] = merged_at(code)).is_object()) return false;
    }
    for (const auto& code : kChain) {
      if (merged[code] != merged[kProvince]) return false;
    }
    return true;
  }, kPatience, kPoll)) << show_all();
  std::string survivor = merged[kProvince]["id"];
  std::string alias = survivor == id1 ? id2 : id1;
  std::string earliest_due = std::min(a1["due_date"].get<std::string>(), a2["due_date"].get<std::string>());
  const json& a = merged[kProvince];  // as at every other holder
  std::set<std::string> got;
  for (const auto& i : a["indicators"]) got.insert(i["code"].get<std::string>());
  EXPECT_EQ(got, indicators);
  EXPECT_EQ(a["score"], 14);
  EXPECT_LE(a["level"].get<int>(), 2) << "at least the more severe of the two levels";
  EXPECT_LE(a["due_date"].get<std::string>(), earliest_due) << "at least the earlier deadline";
  // The deadline agrees with the level the alert shows.
  EXPECT_EQ(a["due_date"], calendar_due(net, a["issued_date"], deadline_days(a["level"].get<int>())))
      << "level " << a["level"] << " shown with due date " << a["due_date"];

  // Feedback at the village under the merged-away id verifies the one alert everywhere.
  auto fb = feedback(net, kVillage, alias);
  ASSERT_EQ(fb.rc, 0) << fb.err;
  for (const auto& code : kChain) {
    EXPECT_TRUE(testing::wait_until([&] { return alert_in_state(net, code, hh, survivor, "verified"); }, kPatience, kPoll))
        << code << ": " << alerts_of(net, code, hh);
  }
  json page = case_page(net, kProvince, hh);
  EXPECT_EQ(expect_feedback_entry(page, survivor) + expect_feedback_entry(page, alias), 1u) << page["history"];
}

TEST(MonitorFlowTest, CrossLocationApplicationReachesHomeAndStatusReturns) {
  const std::string kTaking = "441303001002", kHome = "441303108201";  // under 淡水街道 and 永湖镇
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kTaking + "," + kHome, testing::test_base_port(7));
  ASSERT_TRUE(net.ok()) << net.init_output();
  net.start_all({kProvince, kCity, kCounty, kTownship, kTaking, "441303108000", kHome});

  auto taken = net.cli(kTaking, {"apply", "--village", kHome, "--name", "赵六", "--id-number", "441322197209152320",
                                 "--reason", "失业后无收入", "--needs", "basic_living", "--json"});
  ASSERT_EQ(taken.rc, 0) << taken.err;
  std::string id = taken.json["id"];
  EXPECT_EQ(id.rfind("P-" + kTaking + "-", 0), 0u) << id;
  EXPECT_EQ(taken.json["status"], "transferred");

  auto find = [&](const std::string& code) {
    auto r = net.cli(code, {"apply", "--list", "--json"});
    if (r.rc != 0 || !r.json.is_object()) return json();
    for (const auto& a : r.json["applications"])
      if (a.value("id", "") == id) return a;
    return json();
  };
  json at_home;
  ASSERT_TRUE(testing::wait_until([&] { return (at_home = find(kHome)).is_object() && at_home["status"] == "received"; },
                                  kPatience, kPoll)) << "home: " << find(kHome);
  EXPECT_EQ(at_home["home"], kHome);
  EXPECT_EQ(at_home["village"], kHome);
  EXPECT_EQ(at_home["taken_at"], kTaking);
  EXPECT_EQ(at_home["reason"], "失业后无收入");
  json at_taking;
  ASSERT_TRUE(testing::wait_until([&] { return (at_taking = find(kTaking)).is_object() && at_taking["status"] == "received"; },
                                  kPatience, kPoll)) << "taking node: " << find(kTaking);
  EXPECT_EQ(at_taking["home"], kHome);

  // The home node's decision comes back the same way.
  auto decided = net.cli(kHome, {"apply", "--decide", id, "--status", "accepted", "--note", "已受理", "--json"});
  ASSERT_EQ(decided.rc, 0) << decided.err;
  ASSERT_TRUE(testing::wait_until([&] { return (at_taking = find(kTaking)).is_object() && at_taking["status"] == "accepted"; },
                                  kPatience, kPoll)) << "taking node: " << find(kTaking);
  EXPECT_EQ(at_taking["note"], "已受理");
}

}  // namespace
}  // namespace lifeline
