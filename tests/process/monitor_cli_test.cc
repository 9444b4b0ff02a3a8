// The monitoring command line as operators and scripts use it: exit codes
// (0 done, 1 refused or failed with the reason on stderr, 2 bad usage),
// jurisdiction checks, the import report, the working-day calendar, policy
// rules, and the masking of ID numbers in every list. Most cases run the
// commands against stopped nodes (they work on the store directly); the
// policy case runs the chain to see a new policy reach the village.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "node/core/civil_date.h"
#include "node/runtime/system_clock.h"
#include "tests/testing/local_network.h"
#include "tests/testing/registry_fixtures.h"

namespace lifeline {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::LocalNetwork;

const std::string kProvince = "440000000000", kCity = "441300000000", kCounty = "441303000000",
                  kTownship = "441303001000", kVillage = "441303001001", kOtherVillage = "441303001002";
const std::vector<std::string> kChain = {kProvince, kCity, kCounty, kTownship, kVillage};
const std::string kHead = "44130319850312123X", kSpouse = "441302200107040044",
                  kUnregistered = "441322197209152320";

std::string divisions() { return std::string(LIFELINE_SHARED_DATA) + "/huizhou_divisions.csv"; }

// Today's date in Asia/Shanghai shifted by offset_days, YYYY-MM-DD (the
// product's own date functions, so the tests and the node agree on "today").
std::string shanghai_date(int offset_days = 0) {
  return node::format_date(node::add_days(node::shanghai_date(runtime::system_now().wall_us), offset_days));
}

const std::string kHeader = "source_department,source_record_id,id_number,indicator,event_date\n";

// Registers the two-member test household at code (village kVillage); returns its id.
std::string register_household(const LocalNetwork& net, const std::string& code) {
  auto r = net.cli(code, {"household", "add", "--village", kVillage, "--category", "marginal", "--member",
                          kHead + ",张三,head", "--member", kSpouse + ",李四,spouse", "--json"});
  EXPECT_EQ(r.rc, 0) << r.err;
  return r.rc == 0 && r.json.is_object() ? r.json.value("household", "") : "";
}

// An 18-character resident ID number anywhere in text.
bool has_whole_id_number(const std::string& text) {
  static const std::regex id(R"((^|[^0-9])[0-9]{17}[0-9X]($|[^0-9]))");
  return std::regex_search(text, id);
}

TEST(MonitorCliTest, HouseholdAddForAVillageOutsideTheJurisdictionIsRefusedNamingIt) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  auto r = net.cli(kVillage, {"household", "add", "--village", kOtherVillage, "--category", "marginal", "--member",
                              kHead + ",张三,head", "--json"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("jurisdiction"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(kOtherVillage), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(kVillage), std::string::npos) << r.err;
  // The operator reads the refusal in Chinese first.
  const size_t zh = r.err.find("lifeline: " + kOtherVillage + " 不在本节点（" + kVillage + "）管辖范围内\n");
  EXPECT_NE(zh, std::string::npos) << r.err;
  const size_t en = r.err.find("is outside this node's jurisdiction");
  EXPECT_NE(en, std::string::npos) << r.err;
  EXPECT_GT(en, zh) << "Chinese first: " << r.err;
  // Nothing was registered.
  EXPECT_EQ(net.cli(kVillage, {"household", "show", "--id-number", kHead, "--json"}).rc, 1);
  // The same household in the node's own village is taken.
  EXPECT_FALSE(register_household(net, kVillage).empty());
}

// `household add --member -` reads the members from standard input, one a
// line, so that their ID numbers and names are not in the process list;
// a flag that is not yes or no is refused instead of read as no.
TEST(MonitorCliTest, HouseholdAddReadsItsMembersFromStandardInput) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kProvince, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  auto add = [&](const std::string& input) {
    return testing::run_command_capture({"/bin/sh", "-c", "printf '" + input + "' | " + std::string(LIFELINE_BIN) +
                                                              " household add --village " + kVillage +
                                                              " --category marginal --member - --json --config " + net.config(kProvince)});
  };
  auto households = [&] { return net.cli_json(kProvince, {"digest"})["tables"]["households"].value("entries", -1); };
  const int before = households();
  // Refused, each leaving the store as it was: a flag that is neither yes
  // nor no, an empty standard input, and "-" given twice.
  auto maybe = add(kHead + ",张三,head,0,,maybe\n");
  EXPECT_EQ(maybe.rc, 1) << maybe.out;
  EXPECT_NE(maybe.err.find("major illness must be yes or no"), std::string::npos) << maybe.err;
  EXPECT_FALSE(has_whole_id_number(maybe.err)) << maybe.err;
  auto empty = add("\n");
  EXPECT_EQ(empty.rc, 1);
  EXPECT_NE(empty.err.find("standard input held no member"), std::string::npos) << empty.err;
  auto twice = net.cli(kProvince, {"household", "add", "--village", kVillage, "--category", "marginal", "--member", "-",
                                   "--member", "-"});
  EXPECT_EQ(twice.rc, 1);
  EXPECT_NE(twice.err.find("give it once"), std::string::npos) << twice.err;
  EXPECT_EQ(households(), before);
  // Two members, one a line (a CRLF line end and a blank line are fine).
  auto r = add(kHead + ",张三,head,2,肢体,yes,no\r\n\n" + kSpouse + ",李四,spouse\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string hh = json::parse(r.out, nullptr, false).value("household", "");
  ASSERT_FALSE(hh.empty()) << r.out;
  EXPECT_EQ(households(), before + 1);
  auto page = net.cli(kProvince, {"household", "show", hh, "--json"});
  ASSERT_EQ(page.rc, 0) << page.err;
  ASSERT_EQ(page.json["members"].size(), 2u) << page.out;
  std::map<std::string, json> by_id;
  for (const auto& m : page.json["members"]) by_id[m["id_number"].get<std::string>()] = m;
  ASSERT_TRUE(by_id.count(kHead) && by_id.count(kSpouse)) << page.out;
  EXPECT_EQ(by_id[kHead]["name"], "张三");
  EXPECT_EQ(by_id[kHead]["disability_grade"], 2);
  EXPECT_EQ(by_id[kHead]["disability_kind"], "肢体");
  EXPECT_EQ(by_id[kHead]["major_illness"], true);
  EXPECT_EQ(by_id[kHead]["single_person_coverage"], false);
  EXPECT_EQ(by_id[kSpouse]["relation"], "spouse");
}

// Flag values that used to be read as something else, or an empty file,
// are refused; errors print the Chinese text first and quote no member.
TEST(MonitorCliTest, BadFlagValuesAreRefusedNotReadAsSomethingElse) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kProvince, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  const std::string placeholder = net.write_file("placeholder", "");
  const std::string dir = placeholder.substr(0, placeholder.rfind('/'));
  std::filesystem::create_directories(dir + "/folder.jsonl");
  auto import = net.cli(kProvince, {"household", "import", dir + "/folder.jsonl"});
  EXPECT_EQ(import.rc, 1) << import.out;
  EXPECT_NE(import.err.find("a folder, not a file"), std::string::npos) << import.err;
  EXPECT_LT(import.err.find("文件夹"), import.err.find("a folder")) << "Chinese first: " << import.err;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"alerts", "--limit", "0"},
           {"alerts", "--timeout-ms", "-5"},
           {"apply", "--list", "--decide", "P-441303001001-1", "--status", "accepted"},
           {"calendar", "due", "--from", "20261201", "--days", "3"}}) {
    auto r = net.cli(kProvince, args);
    EXPECT_NE(r.rc, 0) << args[1] << ": " << r.out;
  }
  auto seed = testing::run_command_capture({LIFELINE_BIN, "demo-data", "--divisions", divisions(), "--villages", kVillage,
                                            "--out", dir + "/demo", "--seed", "-1"});
  EXPECT_NE(seed.rc, 0) << seed.out;
  EXPECT_NE(seed.err.find("whole number"), std::string::npos) << seed.err;
  // Text that is not UTF-8 is refused, not stored as it is nor changed.
  auto digest = [&] { return net.cli_json(kProvince, {"digest"}); };
  const json before = digest();
  auto bad_name = net.cli(kProvince, {"household", "add", "--village", kVillage, "--category", "marginal", "--member",
                                      kHead + ",李\xff光,head"});
  EXPECT_EQ(bad_name.rc, 1);
  EXPECT_NE(bad_name.err.find("'name' is not UTF-8 text"), std::string::npos) << bad_name.err;
  auto bad_address = net.cli(kProvince, {"household", "add", "--village", kVillage, "--category", "marginal", "--member",
                                         kHead + ",李光,head", "--address", "路\xfe一号"});
  EXPECT_NE(bad_address.err.find("'address' is not UTF-8 text"), std::string::npos) << bad_address.err;
  EXPECT_EQ(digest()["tables"], before["tables"]);
  // A malformed member is refused without quoting it (it holds a name).
  auto member = net.cli(kProvince, {"household", "add", "--village", kVillage, "--category", "marginal", "--member", kHead + ",欧阳娜娜"});
  EXPECT_EQ(member.rc, 1);
  EXPECT_NE(member.err.find("got 2 fields"), std::string::npos) << member.err;
  EXPECT_EQ(member.err.find("欧阳娜娜"), std::string::npos) << member.err;
  EXPECT_FALSE(has_whole_id_number(member.err)) << member.err;
}

TEST(MonitorCliTest, AlertsWithALevelOutsideOneToFiveIsAUsageError) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  auto r = net.cli(kVillage, {"alerts", "--level", "9", "--json"});
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--level"), std::string::npos) << r.err;
  EXPECT_EQ(net.cli(kVillage, {"alerts", "--state", "lost", "--json"}).rc, 2);
  EXPECT_EQ(net.cli(kVillage, {"alerts", "--level", "5", "--json"}).rc, 0);
}

TEST(MonitorCliTest, ImportWithABadHeaderFailsWholeAndStoresNothing) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  std::string hh = register_household(net, kProvince);
  ASSERT_FALSE(hh.empty());
  auto before = net.cli(kProvince, {"aggregates", "--json"});
  ASSERT_EQ(before.rc, 0) << before.err;

  // A misspelt column; the line itself would raise a level 2 alert.
  std::string d = shanghai_date(-10);
  std::string file = net.write_file(
      "bad_header.csv", "source_department,source_record_id,id_number,indicator,event_day\n"
                        "medical_insurance,YB-1," + kHead + ",serious_illness," + d + "\n"
                        "human_resources,RS-1," + kHead + ",unemployment," + d + "\n");
  auto r = net.cli(kProvince, {"import", file, "--json"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("event_day"), std::string::npos) << "the error names the column: " << r.err;

  auto after = net.cli(kProvince, {"aggregates", "--json"});
  ASSERT_EQ(after.rc, 0) << after.err;
  EXPECT_EQ(after.json["own"]["figures"], before.json["own"]["figures"]);
  EXPECT_EQ(net.cli(kProvince, {"alerts", "--json"}).json["count"], 0);
  auto page = net.cli(kProvince, {"household", "show", hh, "--json"});
  ASSERT_EQ(page.rc, 0) << page.err;
  EXPECT_TRUE(page.json["events"].empty()) << page.json["events"];
  EXPECT_TRUE(page.json["alerts"].empty()) << page.json["alerts"];

  // The same lines under the right header are applied: they were valid.
  auto good = net.cli(kProvince, {"import", net.write_file("good.csv", kHeader + "medical_insurance,YB-1," + kHead +
                                                                           ",serious_illness," + d + "\n"), "--json"});
  EXPECT_EQ(good.rc, 0) << good.err;
  EXPECT_EQ(good.json["applied"], 1) << good.out;
}

TEST(MonitorCliTest, ImportReportsEachRejectedLineAndAppliesTheValidOnes) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  std::string hh = register_household(net, kProvince);
  ASSERT_FALSE(hh.empty());
  std::string d = shanghai_date(-10), tomorrow = shanghai_date(1);
  std::string bad_check = kHead.substr(0, 17) + "0";  // wrong check character
  std::string text = kHeader +                                                          // line 1
                     "medical_insurance,YB-1," + kHead + ",serious_illness," + d + "\n" +  // 2: applied
                     "medical_insurance,YB-2," + bad_check + ",serious_illness," + d + "\n" +  // 3: bad_id_number
                     "human_resources,RS-1," + kHead + ",insurance_lapse," + tomorrow + "\n" +  // 4: future_date
                     "health,WJ-1," + kHead + ",unemployment," + d + "\n" +  // 5: department_not_source
                     "\n" +                                                 // 6: blank, skipped
                     "civil_affairs,MZ-1," + kHead + ",lottery_win," + d + "\n" +  // 7: unknown_indicator
                     "human_resources,RS-2," + kHead + ",unemployment\n" +         // 8: wrong_field_count
                     "human_resources,RS-3," + kHead + ",unemployment," + d + "\n" +  // 9: applied
                     "human_resources,RS-4," + kSpouse + ",insurance_lapse,2026-02-30\n" +  // 10: bad_date
                     "health,WJ-2," + kUnregistered + ",birth," + d + "\n" +  // 11: not monitored
                     "medical_insurance,YB-1," + kHead + ",serious_illness," + d + "\n";  // 12: duplicate
  // A dry run first: the same report, then nothing stored.
  auto dry = net.cli(kProvince, {"import", net.write_file("mixed.csv", text), "--dry-run", "--json"});
  ASSERT_EQ(dry.rc, 0) << dry.err;
  EXPECT_EQ(dry.json["dry_run"], true) << dry.out;
  EXPECT_EQ(dry.json["applied"], 2) << dry.out;
  EXPECT_EQ(dry.json["alerts_issued"], 1) << dry.out;
  EXPECT_EQ(dry.json["rejected"].size(), 6u) << dry.out;
  EXPECT_EQ(net.cli(kProvince, {"alerts", "--json"}).json["count"], 0);
  auto dry_text = net.cli(kProvince, {"import", net.write_file("mixed.csv", text), "--dry-run"});
  EXPECT_EQ(dry_text.rc, 0) << dry_text.err;
  EXPECT_NE(dry_text.out.find("dry run"), std::string::npos) << dry_text.out;
  EXPECT_NE(dry_text.out.find("applied 2"), std::string::npos) << dry_text.out;

  auto r = net.cli(kProvince, {"import", net.write_file("mixed.csv", text), "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const json& rep = r.json;
  EXPECT_EQ(rep["dry_run"], false) << rep;
  EXPECT_EQ(rep["lines_read"], 10) << rep;
  EXPECT_EQ(rep["applied"], 2) << rep;
  EXPECT_EQ(rep["duplicates"], 1) << rep;
  EXPECT_EQ(rep["not_monitored"], 1) << rep;
  EXPECT_EQ(rep["alerts_issued"], 1) << rep;
  const std::vector<std::pair<int, std::string>> want = {{3, "bad_id_number"}, {4, "future_date"},
                                                         {5, "department_not_source"}, {7, "unknown_indicator"},
                                                         {8, "wrong_field_count"}, {10, "bad_date"}};
  ASSERT_EQ(rep["rejected"].size(), want.size()) << rep["rejected"];
  for (size_t i = 0; i < want.size(); ++i) {
    const json& l = rep["rejected"][i];
    EXPECT_EQ(l["line"], want[i].first) << l;
    EXPECT_EQ(l["reason_code"], want[i].second) << l;
    EXPECT_FALSE(l.value("reason", "").empty()) << l;
    EXPECT_FALSE(l.value("reason_en", "").empty()) << l;
  }
  EXPECT_FALSE(has_whole_id_number(r.out)) << "the report quotes an ID number in full: " << r.out;

  // The two valid events are stored and scored: 4 + 4 = 8, level 2.
  auto page = net.cli(kProvince, {"household", "show", hh, "--json"});
  ASSERT_EQ(page.rc, 0) << page.err;
  EXPECT_EQ(page.json["events"].size(), 2u) << page.json["events"];
  auto alerts = net.cli(kProvince, {"alerts", "--json"});
  ASSERT_EQ(alerts.json["count"], 1) << alerts.out;
  EXPECT_EQ(alerts.json["alerts"][0]["score"], 8);
  EXPECT_EQ(alerts.json["alerts"][0]["level"], 2);
}

// A running node takes the file over its control socket as JSON, which holds
// only UTF-8: a GBK line made the command abort before sending, and an ID
// field of text made the node's reply invalid UTF-8, which stopped the node.
// Both are now lines rejected with their reasons, as offline.
TEST(MonitorCliTest, ARunningNodeRejectsANonUtf8LineAndAnIdFieldOfTextAndKeepsRunning) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kProvince, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  std::string hh = register_household(net, kProvince);
  ASSERT_FALSE(hh.empty());
  net.start(kProvince);
  ASSERT_TRUE(testing::wait_until([&] { return net.cli(kProvince, {"status", "--json"}).rc == 0; }, 20s, 100ms));
  const std::string d = shanghai_date(-10);
  const std::string text = kHeader +                                                        // line 1
                           "medical_insurance,YB-1," + kHead + ",serious_illness," + d + "\n" +  // 2: applied
                           "health,\xD2\xBD\xB1\xA3-1," + kSpouse + ",birth," + d + "\n" +     // 3: GBK 医保: not_utf8
                           "health,WJ-1,不详不详,birth," + d + "\n";                              // 4: bad_id_number
  for (bool dry : {true, false}) {
    SCOPED_TRACE(dry ? "dry run" : "import");
    std::vector<std::string> args = {"import", net.write_file("gbk.csv", text), "--json"};
    if (dry) args.push_back("--dry-run");
    auto r = net.cli(kProvince, args);
    ASSERT_EQ(r.rc, 0) << r.err << r.out;
    EXPECT_EQ(r.json["applied"], 1) << r.out;
    ASSERT_EQ(r.json["rejected"].size(), 2u) << r.out;
    EXPECT_EQ(r.json["rejected"][0]["line"], 3);
    EXPECT_EQ(r.json["rejected"][0]["reason_code"], "not_utf8");
    EXPECT_EQ(r.json["rejected"][1]["line"], 4);
    EXPECT_EQ(r.json["rejected"][1]["reason_code"], "bad_id_number");
    EXPECT_TRUE(net.process(kProvince).running()) << "the node stopped";
  }
  EXPECT_EQ(net.cli(kProvince, {"alerts", "--json"}).json["count"], 1);
}

TEST(MonitorCliTest, FeedbackAtTheCountyIsRefused) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  ASSERT_FALSE(register_household(net, kCounty).empty());
  std::string d = shanghai_date(-10);
  auto imp = net.cli(kCounty, {"import", net.write_file("e.csv", kHeader + "public_security,GA-1," + kHead +
                                                                       ",death," + d + "\n"), "--json"});
  ASSERT_EQ(imp.rc, 0) << imp.err;
  auto alerts = net.cli(kCounty, {"alerts", "--json"});
  ASSERT_EQ(alerts.json["count"], 1) << alerts.out;
  std::string id = alerts.json["alerts"][0]["id"];
  std::string state = alerts.json["alerts"][0]["state"];

  auto r = net.cli(kCounty, {"feedback", id, "--visit-date", shanghai_date(), "--method", "home_visit", "--visitor",
                             "王五", "--truthful", "yes", "--decision", "none_needed", "--json"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("township or village"), std::string::npos) << r.err;
  EXPECT_EQ(net.cli(kCounty, {"alerts", "--json"}).json["alerts"][0]["state"], state);
}

TEST(MonitorCliTest, CalendarDueSkipsHolidaysAndCountsWorkedWeekends) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(8));
  auto due = [&](const std::string& from, int days) {
    auto r = net.run_lifeline({"calendar", "due", "--from", from, "--days", std::to_string(days)});
    EXPECT_EQ(r.rc, 0) << r.err;
    return r.out;
  };
  // 国庆 2024: Sunday 9/29 is worked, 10/1–10/7 are off.
  EXPECT_EQ(due("2024-09-27", 3), "2024-10-08\n");
  // 春节 2026: Saturday 2/14 is worked, 2/15–2/23 are off.
  EXPECT_EQ(due("2026-02-13", 1), "2026-02-14\n");
  EXPECT_EQ(due("2026-02-13", 2), "2026-02-24\n");
  auto j = net.run_lifeline({"calendar", "due", "--from", "2024-09-27", "--days", "3", "--json"});
  ASSERT_EQ(j.rc, 0) << j.err;
  EXPECT_EQ(j.json["due"], "2024-10-08");
  EXPECT_EQ(j.json["deadline"], "2024-10-08T23:59:59+08:00");
  EXPECT_EQ(net.run_lifeline({"calendar", "due", "--from", "2024-02-30", "--days", "3"}).rc, 1);
  EXPECT_EQ(net.run_lifeline({"calendar", "due", "--from", "2024-09-27", "--days", "-1"}).rc, 2);
  // A deadline past year 9999 has no date of this form.
  auto late = net.run_lifeline({"calendar", "due", "--from", "9999-12-31", "--days", "3650"});
  EXPECT_EQ(late.rc, 1) << late.out;
  EXPECT_NE(late.err.find("9999-12-31"), std::string::npos) << late.err;
}

TEST(MonitorCliTest, PolicySetOnlyAtTheProvinceAndANewerVersionReachesTheVillage) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  net.start_all(kChain);
  std::ifstream in(std::string(LIFELINE_SOURCE_DIR) + "/node/policy/default_policy.json");
  json policy = json::parse(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()), nullptr, false);
  ASSERT_TRUE(policy.is_object());
  ASSERT_EQ(policy["version"], 1);
  policy["version"] = 2;
  policy["note"] = "test: version 2";
  std::string file = net.write_file("policy_v2.json", policy.dump());

  auto at_city = net.cli(kCity, {"policy", "set", "--file", file, "--json"});
  EXPECT_EQ(at_city.rc, 1);
  EXPECT_NE(at_city.err.find("province"), std::string::npos) << at_city.err;
  EXPECT_EQ(net.cli(kCity, {"policy", "show", "--json"}).json["policy"]["version"], 1);

  auto at_province = net.cli(kProvince, {"policy", "set", "--file", file, "--json"});
  ASSERT_EQ(at_province.rc, 0) << at_province.err;
  EXPECT_EQ(at_province.json["policy_version"], 2);
  auto version_at = [&](const std::string& code) {
    auto r = net.cli(code, {"policy", "show", "--json"});
    return r.rc == 0 ? r.json["policy"].value("version", 0) : 0;
  };
  EXPECT_TRUE(testing::wait_until([&] { return version_at(kVillage) == 2; }, 20s, 200ms))
      << "village runs version " << version_at(kVillage);
  for (const auto& code : kChain) EXPECT_EQ(version_at(code), 2) << code;
  // The same version again is not newer.
  EXPECT_EQ(net.cli(kProvince, {"policy", "set", "--file", file, "--json"}).rc, 1);
}

TEST(MonitorCliTest, APersonRegisteredInTwoHouseholdsIsListedMaskedWhereBothAreHeld) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  // The township registers the head in a household of its node-less village;
  // the village node, which does not hold that household, registers them too.
  auto at_township = net.cli(kTownship, {"household", "add", "--village", kOtherVillage, "--category", "marginal",
                                         "--member", kHead + ",张三,head", "--json"});
  ASSERT_EQ(at_township.rc, 0) << at_township.err;
  std::string first = at_township.json.value("household", "");
  std::string second = register_household(net, kVillage);
  ASSERT_FALSE(second.empty());
  net.start_all(kChain);
  auto conflicts = [&](const std::string& code, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"household", "conflicts", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return net.cli(code, args);
  };
  auto count = [&](const std::string& code, std::vector<std::string> extra = {}) {
    auto r = conflicts(code, extra);
    return r.rc == 0 && r.json.is_object() ? r.json.value("count", -1) : -1;
  };
  for (const std::string& code : {kTownship, kCounty, kProvince}) {
    ASSERT_TRUE(testing::wait_until([&] { return count(code) == 1; }, 20s, 200ms))
        << code << ": " << conflicts(code).out << conflicts(code).err;
    auto r = conflicts(code);
    const json& c = r.json["conflicts"][0];
    EXPECT_FALSE(has_whole_id_number(r.out)) << r.out;
    EXPECT_EQ(c["id_number"], kHead.substr(0, 4) + "**********" + kHead.substr(14)) << r.out;
    EXPECT_EQ(std::set<std::string>({c["household"], c["also_in"]}), std::set<std::string>({first, second})) << r.out;
    EXPECT_EQ(std::set<std::string>({c["village"], c["also_in_village"]}), std::set<std::string>({kVillage, kOtherVillage}));
    EXPECT_TRUE(r.json["next"].is_null());
    // Either village finds it.
    EXPECT_EQ(count(code, {"--within", kOtherVillage}), 1) << code;
    EXPECT_EQ(count(code, {"--within", kVillage}), 1) << code;
  }
  // The village node holds one of the two: no conflict there.
  EXPECT_EQ(count(kVillage), 0);
  // A division outside the node is refused, naming it.
  auto outside = conflicts(kTownship, {"--within", "441303002000"});
  EXPECT_EQ(outside.rc, 1);
  EXPECT_NE(outside.err.find("441303002000"), std::string::npos) << outside.err;
  EXPECT_NE(outside.err.find("jurisdiction"), std::string::npos) << outside.err;
  // The table for people.
  auto table = net.cli(kCounty, {"household", "conflicts"});
  ASSERT_EQ(table.rc, 0) << table.err;
  EXPECT_NE(table.out.find("also_in"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("1 persons registered in two households"), std::string::npos) << table.out;
  EXPECT_FALSE(has_whole_id_number(table.out)) << table.out;
}

TEST(MonitorCliTest, ListsMaskIdNumbersAndTheCasePageShowsThemWhole) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  std::string hh = register_household(net, kProvince);
  ASSERT_FALSE(hh.empty());
  std::string d = shanghai_date(-10);
  auto imp = net.cli(kProvince, {"import", net.write_file("e.csv", kHeader + "public_security,GA-1," + kHead +
                                                                         ",death," + d + "\n" + "health,WJ-1," +
                                                                         kSpouse + ",birth," + d + "\n"), "--json"});
  ASSERT_EQ(imp.rc, 0) << imp.err;
  // An application taken at the village for a home village under another township.
  auto app = net.cli(kVillage, {"apply", "--village", "441303108201", "--name", "赵六", "--id-number", kUnregistered,
                                "--reason", "失业", "--json"});
  ASSERT_EQ(app.rc, 0) << app.err;

  auto alerts = net.cli(kProvince, {"alerts", "--json"});
  ASSERT_EQ(alerts.rc, 0) << alerts.err;
  ASSERT_EQ(alerts.json["count"], 1) << alerts.out;
  auto apps = net.cli(kVillage, {"apply", "--list", "--json"});
  ASSERT_EQ(apps.rc, 0) << apps.err;
  ASSERT_EQ(apps.json["applications"].size(), 1u) << apps.out;
  for (const auto* out : {&alerts.out, &apps.out}) {
    EXPECT_FALSE(has_whole_id_number(*out)) << *out;
    for (const auto& id : {kHead, kSpouse, kUnregistered}) EXPECT_EQ(out->find(id), std::string::npos) << *out;
  }
  EXPECT_EQ(apps.out.find("赵六"), std::string::npos) << "names are masked too: " << apps.out;

  // Every full view is an entry in the audit log (the node is not running:
  // the command writes it to the store itself).
  auto audit_entries = [&] { return net.cli_json(kProvince, {"digest"})["tables"]["audit"].value("entries", -1); };
  const int audited = audit_entries();
  auto page = net.cli(kProvince, {"household", "show", hh, "--json"});
  ASSERT_EQ(page.rc, 0) << page.err;
  std::set<std::string> ids;
  for (const auto& m : page.json["members"]) ids.insert(m["id_number"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{kHead, kSpouse}));
  EXPECT_EQ(audit_entries(), audited + 1);
  auto by_person = net.cli(kProvince, {"household", "show", "--id-number", kSpouse, "--json"});
  ASSERT_EQ(by_person.rc, 0) << by_person.err;
  EXPECT_EQ(by_person.json["household"], hh);
  EXPECT_EQ(audit_entries(), audited + 2);
  // "-" reads the number from standard input: out of the process list.
  auto piped = testing::run_command_capture({"/bin/sh", "-c", "printf '%s\\n' " + kSpouse + " | " + std::string(LIFELINE_BIN) +
                                                                  " household show --id-number - --json --config " + net.config(kProvince)});
  ASSERT_EQ(piped.rc, 0) << piped.err;
  EXPECT_EQ(json::parse(piped.out, nullptr, false).value("household", ""), hh) << piped.out;
  EXPECT_EQ(audit_entries(), audited + 3);
  // An ID number typed where a household id goes is not echoed whole.
  auto typo = net.cli(kProvince, {"household", "show", kSpouse});
  EXPECT_NE(typo.rc, 0);
  EXPECT_FALSE(has_whole_id_number(typo.err + typo.out)) << typo.err;
  EXPECT_EQ(audit_entries(), audited + 3);
}

// The anonymous memory (heap) of a running node, in MB; -1 when unknown.
double anonymous_rss_mb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("RssAnon:", 0) == 0) return std::stod(line.substr(8)) / 1024.0;
  return -1;
}

// An import makes a node's write transaction dirty tens of MB of pages;
// LMDB keeps them after the commit and frees them only when its environment
// closes. Once the node has been quiet for a while it gives them back
// (with its free heap), so a station's node does not keep an import's
// memory for good.
TEST(MonitorCliTest, AnImportsMemoryGoesBackOnceTheNodeIsQuiet) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kCounty, kCounty, testing::test_base_port(8));
  ASSERT_TRUE(net.ok()) << net.init_output();
  uint64_t households = 0;
  const uint64_t persons = 60'000;
  auto reg = net.cli(kCounty, {"household", "import", net.write_file("registry.jsonl", testing::registry_file(persons, 441303001001, 28, &households)), "--json"});
  ASSERT_EQ(reg.rc, 0) << reg.err.substr(0, 500);
  net.start(kCounty);
  const pid_t pid = net.process(kCounty).pid();
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i, std::this_thread::sleep_for(100ms)) up = net.status(kCounty).is_object();
  ASSERT_TRUE(up) << "the county did not answer";
  std::this_thread::sleep_for(5s);  // past its first quiet windows
  const double before = anonymous_rss_mb(pid);
  const std::string events = testing::events_file(40'000, persons, 3, node::shanghai_date(runtime::system_now().wall_us));
  auto imp = net.cli(kCounty, {"import", net.write_file("events.csv", events), "--json"});
  ASSERT_EQ(imp.rc, 0) << imp.err;
  EXPECT_GT(imp.json["applied"].get<int>(), 20'000) << imp.out.substr(0, 500);
  const double after_import = anonymous_rss_mb(pid);
  // The import grew the heap by the pages it dirtied (about 40 MB).
  EXPECT_GT(after_import - before, 20) << before << " MB before, " << after_import << " MB after the import";
  double now = after_import;
  for (int i = 0; i < 150 && now - before > 8; ++i) {
    std::this_thread::sleep_for(100ms);
    now = anonymous_rss_mb(pid);
  }
  EXPECT_LT(now - before, 8) << before << " MB before, " << after_import << " MB after the import, " << now
                             << " MB 15 s later";
  // The store is whole after its reopen: the alerts are listed, and the
  // node still writes.
  auto listed = net.cli(kCounty, {"alerts", "--limit", "100000", "--json"});
  ASSERT_EQ(listed.rc, 0) << listed.err;
  EXPECT_EQ(listed.json["count"], imp.json["alerts_issued"]) << imp.out.substr(0, 300);
  auto again = net.cli(kCounty, {"import", net.write_file("again.csv", events), "--json"});
  ASSERT_EQ(again.rc, 0) << again.err;
  EXPECT_EQ(again.json["duplicates"], imp.json["applied"]) << again.out.substr(0, 300);
  std::printf("heap of the county: %.1f MB before the import, %.1f MB after, %.1f MB once quiet\n", before, after_import, now);
  net.stop_all();
}

}  // namespace
}  // namespace lifeline
