// The default policy (seed 004 附件3), its parser and writer, and household
// scoring against every indicator and every level and window boundary.
#include "node/core/policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace lifeline::node {
namespace {

using Json = nlohmann::ordered_json;

constexpr Date kToday = 20250615;

// ---- The default policy -------------------------------------------------

TEST(DefaultPolicyTest, IsVersionOneFromTheProvince) {
  const Policy& p = default_policy();
  EXPECT_EQ(p.version, 1u);
  EXPECT_EQ(p.issued_by, 440000000000u);
  EXPECT_EQ(p.window_months, 12u);
  EXPECT_EQ(p.marginal_multiplier_permille, 1500u);
  EXPECT_EQ(p.expenditure_ratio_percent, 60u);
  EXPECT_TRUE(p.standards.empty());
  EXPECT_EQ(p.sources.size(), 4u);
}

TEST(DefaultPolicyTest, HasTheTwelveIndicatorsOfAnnex3) {
  struct Expected {
    const char* code;
    const char* dimension;
    uint32_t points;
    std::vector<std::string> departments;
  };
  const std::vector<Expected> expected = {
      {"disability_change", "spending_surge", 4, {"disabled_federation"}},
      {"serious_illness", "spending_surge", 4, {"medical_insurance"}},
      {"school_enrolment", "spending_surge", 2, {"education"}},
      {"college_admission", "spending_surge", 4, {"education"}},
      {"accident", "income_drop", 4, {"public_security"}},
      {"disaster", "income_drop", 4, {"emergency", "fire_rescue"}},  // 【应急、消防】
      {"unemployment", "income_drop", 4, {"human_resources"}},
      {"insurance_lapse", "income_drop", 3, {"human_resources"}},
      {"death", "household_change", 6, {"public_security", "health", "civil_affairs"}},
      {"birth", "household_change", 2, {"health"}},
      {"marriage_change", "household_change", 1, {"civil_affairs"}},
      {"petition", "other", 6, {"petitions", "civil_affairs"}},
  };
  const Policy& p = default_policy();
  ASSERT_EQ(p.indicators.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Indicator& got = p.indicators[i];
    EXPECT_EQ(got.code, expected[i].code);
    EXPECT_EQ(got.dimension, expected[i].dimension) << got.code;
    EXPECT_EQ(got.points, expected[i].points) << got.code;
    EXPECT_EQ(got.departments, expected[i].departments) << got.code;
    EXPECT_FALSE(got.name_zh.empty());
    EXPECT_FALSE(got.name_en.empty());
  }
  EXPECT_EQ(p.indicator("serious_illness")->name_zh, "患有慢性病、重大疾病");
  EXPECT_EQ(p.indicator("no_such"), nullptr);
}

TEST(DefaultPolicyTest, HasTheFiveLevels) {
  const Policy& p = default_policy();
  const std::vector<LevelRule> expected = {
      {1, 9, 3, "red", "一档 非常严重", "home_visit"},
      {2, 8, 5, "orange", "二档 较严重", "home_visit"},
      {3, 7, 7, "yellow", "三档 严重", "home_visit"},
      {4, 6, 10, "blue", "四档 一般", "home_visit"},
      {5, 1, 10, "green", "绿色 电话问询指引", "phone_inquiry"},
  };
  EXPECT_EQ(p.levels, expected);
  EXPECT_EQ(p.level(3)->colour, "yellow");
  EXPECT_EQ(p.level(0), nullptr);
  EXPECT_EQ(p.level(6), nullptr);
}

TEST(DefaultPolicyTest, KnowsEveryListedDepartment) {
  const Policy& p = default_policy();
  for (const char* d : {"disabled_federation", "medical_insurance", "education", "public_security", "emergency", "fire_rescue",
                        "human_resources", "health", "civil_affairs", "petitions"}) {
    EXPECT_TRUE(p.department_known(d)) << d;
  }
  EXPECT_FALSE(p.department_known("tax"));
  EXPECT_FALSE(p.department_known(""));
}

// ---- Scoring ---------------------------------------------------------------

// Every indicator alone, dated today: its points, and the level those
// points reach (6 points is level 4; 1–5 is the green level 5).
TEST(ScoreTest, EachIndicatorAloneScoresItsPoints) {
  const std::map<std::string, std::pair<uint32_t, uint32_t>> points_and_level = {
      {"disability_change", {4, 5}},
      {"serious_illness", {4, 5}},
      {"school_enrolment", {2, 5}},
      {"college_admission", {4, 5}},
      {"accident", {4, 5}},
      {"disaster", {4, 5}},
      {"unemployment", {4, 5}},
      {"insurance_lapse", {3, 5}},
      {"death", {6, 4}},
      {"birth", {2, 5}},
      {"marriage_change", {1, 5}},
      {"petition", {6, 4}},
  };
  ASSERT_EQ(points_and_level.size(), default_policy().indicators.size());
  for (const auto& [code, expected] : points_and_level) {
    const ScoreResult r = score_household(default_policy(), {{code, kToday}}, kToday);
    EXPECT_EQ(r.score, expected.first) << code;
    EXPECT_EQ(r.level, expected.second) << code;
    EXPECT_EQ(r.counted, std::vector<std::string>{code});
  }
}

struct ScoreCase {
  const char* label;
  std::vector<std::string> indicators;  // all dated today
  uint32_t score;
  uint32_t level;
};
void PrintTo(const ScoreCase& c, std::ostream* os) { *os << c.label; }

class ScoreLevelTest : public testing::TestWithParam<ScoreCase> {};

TEST_P(ScoreLevelTest, ScoreMapsToTheMostSevereLevelReached) {
  const ScoreCase& c = GetParam();
  std::map<std::string, Date> latest;
  for (const std::string& code : c.indicators) latest[code] = kToday;
  const ScoreResult r = score_household(default_policy(), latest, kToday);
  EXPECT_EQ(r.score, c.score) << c.label;
  EXPECT_EQ(r.level, c.level) << c.label;
}

INSTANTIATE_TEST_SUITE_P(
    Annex3Boundaries, ScoreLevelTest,
    testing::Values(ScoreCase{"0: nothing", {}, 0, 0}, ScoreCase{"1: lowest green", {"marriage_change"}, 1, 5},
                    ScoreCase{"5: highest green", {"disability_change", "marriage_change"}, 5, 5},
                    ScoreCase{"6: level 4", {"death"}, 6, 4},
                    ScoreCase{"6: level 4 from two", {"insurance_lapse", "school_enrolment", "marriage_change"}, 6, 4},
                    ScoreCase{"7: level 3", {"petition", "marriage_change"}, 7, 3},
                    ScoreCase{"8: level 2", {"serious_illness", "accident"}, 8, 2},
                    ScoreCase{"9: level 1", {"death", "insurance_lapse"}, 9, 1},
                    ScoreCase{"10: still level 1", {"death", "unemployment"}, 10, 1},
                    ScoreCase{"44: every indicator",
                              {"disability_change", "serious_illness", "school_enrolment", "college_admission",
                               "accident", "disaster", "unemployment", "insurance_lapse", "death", "birth",
                               "marriage_change", "petition"},
                              44,
                              1}));

// The caller folds a household's events into the latest date per
// indicator; three deaths and two births still count 6 + 2.
TEST(ScoreTest, AnIndicatorCountsOnceHoweverManyEvents) {
  const std::vector<std::pair<std::string, Date>> events = {
      {"death", 20250101}, {"death", 20250301}, {"birth", 20250401}, {"death", 20250501}, {"birth", 20250402}};
  std::map<std::string, Date> latest;
  for (const auto& [code, date] : events) latest[code] = std::max(latest[code], date);
  const ScoreResult r = score_household(default_policy(), latest, kToday);
  EXPECT_EQ(r.score, 8u);
  EXPECT_EQ(r.level, 2u);
  EXPECT_EQ(r.counted, (std::vector<std::string>{"birth", "death"}));
}

struct WindowCase {
  const char* label;
  Date today;
  Date event;
  bool counted;
};
void PrintTo(const WindowCase& c, std::ostream* os) { *os << c.label; }

class ScoreWindowTest : public testing::TestWithParam<WindowCase> {};

TEST_P(ScoreWindowTest, CountsEventsInTheTwelveMonthsEndingToday) {
  const WindowCase& c = GetParam();
  const ScoreResult r = score_household(default_policy(), {{"death", c.event}}, c.today);
  EXPECT_EQ(r.score, c.counted ? 6u : 0u) << c.label;
  EXPECT_EQ(r.level, c.counted ? 4u : 0u) << c.label;
}

INSTANTIATE_TEST_SUITE_P(Edges, ScoreWindowTest,
                         testing::Values(WindowCase{"exactly 12 months ago", 20250615, 20240615, false},
                                         WindowCase{"12 months ago plus a day", 20250615, 20240616, true},
                                         WindowCase{"today", 20250615, 20250615, true},
                                         WindowCase{"tomorrow (future-dated)", 20250615, 20250616, false},
                                         WindowCase{"far future", 20250615, 20300101, false},
                                         WindowCase{"long ago", 20250615, 20200101, false},
                                         // 12 months before 2025-02-28 is 2024-02-28; the leap day is inside.
                                         WindowCase{"leap day inside", 20250228, 20240229, true},
                                         WindowCase{"day before leap day", 20250228, 20240228, false},
                                         // 12 months before 2024-02-29 clamps to 2023-02-28.
                                         WindowCase{"from a leap day, clamped edge", 20240229, 20230228, false},
                                         WindowCase{"from a leap day, inside", 20240229, 20230301, true}));

TEST(ScoreTest, UnknownIndicatorsAreIgnored) {
  const ScoreResult r =
      score_household(default_policy(), {{"lottery_win", kToday}, {"death", kToday}, {"", kToday}}, kToday);
  EXPECT_EQ(r.score, 6u);
  EXPECT_EQ(r.counted, std::vector<std::string>{"death"});
  EXPECT_EQ(score_household(default_policy(), {{"lottery_win", kToday}}, kToday).level, 0u);
}

TEST(ScoreTest, UsesThePolicysWindow) {
  Policy p = default_policy();
  p.window_months = 3;
  EXPECT_EQ(score_household(p, {{"death", 20250316}}, kToday).score, 6u);
  EXPECT_EQ(score_household(p, {{"death", 20250315}}, kToday).score, 0u);
}

TEST(ScoreTest, LevelForScore) {
  const Policy& p = default_policy();
  EXPECT_EQ(p.level_for(0), nullptr);
  EXPECT_EQ(p.level_for(1)->level, 5u);
  EXPECT_EQ(p.level_for(5)->level, 5u);
  EXPECT_EQ(p.level_for(6)->level, 4u);
  EXPECT_EQ(p.level_for(7)->level, 3u);
  EXPECT_EQ(p.level_for(8)->level, 2u);
  EXPECT_EQ(p.level_for(9)->level, 1u);
  EXPECT_EQ(p.level_for(100)->level, 1u);
}

TEST(PolicyDueDateTest, UsesTheLevelsDeadlineInWorkingDays) {
  // Mon 2025-03-03: +3 = Thu 3/6, +5 = Mon 3/10, +7 = Wed 3/12, +10 = Mon 3/17.
  EXPECT_EQ(due_date(default_policy(), 1, 20250303), Date{20250306});
  EXPECT_EQ(due_date(default_policy(), 2, 20250303), Date{20250310});
  EXPECT_EQ(due_date(default_policy(), 3, 20250303), Date{20250312});
  EXPECT_EQ(due_date(default_policy(), 4, 20250303), Date{20250317});
  EXPECT_EQ(due_date(default_policy(), 5, 20250303), Date{20250317});
  EXPECT_EQ(due_date(default_policy(), 0, 20250303), Date{0});  // no such level
}

// ---- Parsing and writing ---------------------------------------------------

Json default_doc() { return Json::parse(default_policy_json()); }

// Expects the document rejected with a message naming `key` (and `why`).
void expect_rejected(const std::string& text, const std::string& key, const std::string& why = "") {
  Result<Policy> r = parse_policy(text);
  ASSERT_FALSE(r.is_ok()) << "accepted; expected an error about " << key;
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("\"" + key + "\""), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
}
void expect_rejected(const Json& doc, const std::string& key, const std::string& why = "") {
  expect_rejected(std::string(doc.dump()), key, why);
}

TEST(PolicyParseTest, DefaultRoundTrips) {
  const Policy& p = default_policy();
  const std::string text = policy_to_json(p);
  Result<Policy> again = parse_policy(text);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(*again, p);
  EXPECT_EQ(policy_to_json(*again), text);
  // The shipped file is already in the writer's layout.
  EXPECT_EQ(text, default_policy_json());
}

TEST(PolicyParseTest, StandardsRoundTripInFen) {
  Json doc = default_doc();
  doc["version"] = 2;
  doc["standards"]["441303000000"] = {
      {"urban_yuan", 1000.00}, {"rural_yuan", 800.5}, {"set_by", "441300000000"}, {"illustrative", true}};
  doc["standards"]["441900000000"] = {
      {"urban_yuan", 1160}, {"rural_yuan", 1160.07}, {"set_by", "440000000000"}, {"illustrative", false}};
  Result<Policy> p = parse_policy(doc.dump());
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_EQ(p->standards.at(441303000000), (CountyStandard{100'000, 80'050, 441300000000, true}));
  EXPECT_EQ(p->standards.at(441900000000), (CountyStandard{116'000, 116'007, 440000000000, false}));
  const std::string text = policy_to_json(*p);
  EXPECT_NE(text.find("\"urban_yuan\": 1000.00, \"rural_yuan\": 800.50"), std::string::npos) << text;
  Result<Policy> again = parse_policy(text);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(*again, *p);
}

TEST(PolicyParseTest, NoteAndSourcesAreOptional) {
  Json doc = default_doc();
  doc.erase("note");
  doc.erase("sources");
  Result<Policy> p = parse_policy(doc.dump());
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_TRUE(p->note.empty());
  EXPECT_TRUE(p->sources.empty());
}

TEST(PolicyParseTest, RejectsAMissingKey) {
  for (const char* key : {"version", "issued_by", "indicators", "levels", "window_months",
                          "marginal_multiplier_permille", "expenditure_ratio_percent", "standards", "calendar"}) {
    Json doc = default_doc();
    doc.erase(key);
    expect_rejected(doc, key, "is missing");
  }
  Json doc = default_doc();
  doc["indicators"][2].erase("points");
  expect_rejected(doc, "indicators[2].points", "is missing");
  doc = default_doc();
  doc["levels"][0].erase("deadline_days");
  expect_rejected(doc, "levels[0].deadline_days", "is missing");
  doc = default_doc();
  doc["calendar"][0].erase("kind");
  expect_rejected(doc, "calendar[0].kind", "is missing");
}

TEST(PolicyParseTest, RejectsAWrongType) {
  Json doc = default_doc();
  doc["window_months"] = "12";
  expect_rejected(doc, "window_months", "integer");
  doc = default_doc();
  doc["version"] = 1.5;
  expect_rejected(doc, "version", "integer");
  doc = default_doc();
  doc["indicators"][3]["points"] = "4";
  expect_rejected(doc, "indicators[3].points", "integer");
  doc = default_doc();
  doc["indicators"] = Json::object();
  expect_rejected(doc, "indicators", "array");
  doc = default_doc();
  doc["levels"][1]["name_zh"] = 2;
  expect_rejected(doc, "levels[1].name_zh", "string");
  doc = default_doc();
  doc["indicators"][0]["departments"] = "disabled_federation";
  expect_rejected(doc, "indicators[0].departments", "array");
  doc = default_doc();
  doc["note"] = nullptr;
  expect_rejected(doc, "note", "string");
  expect_rejected(std::string("[1, 2]"), "(document)", "object");
}

TEST(PolicyParseTest, RejectsADuplicateIndicator) {
  Json doc = default_doc();
  doc["indicators"][5]["code"] = "death";
  expect_rejected(doc, "indicators[8].code", "duplicate indicator \"death\"");
  doc = default_doc();
  doc["indicators"][8]["departments"].push_back("health");
  expect_rejected(doc, "indicators[8].departments[3]", "duplicate department");
}

TEST(PolicyParseTest, RejectsLevelThresholdsThatDoNotDecrease) {
  Json doc = default_doc();
  doc["levels"][2]["min_score"] = 8;  // equal to level 2
  expect_rejected(doc, "levels[2].min_score", "below level 2");
  doc = default_doc();
  doc["levels"][4]["min_score"] = 7;  // above level 4
  expect_rejected(doc, "levels[4].min_score");
  doc = default_doc();
  doc["levels"][4]["min_score"] = 0;  // a score of 0 is no alert
  expect_rejected(doc, "levels[4].min_score", "from 1");
  doc = default_doc();
  std::swap(doc["levels"][0], doc["levels"][1]);
  expect_rejected(doc, "levels[0].level", "must be 1");
  doc = default_doc();
  doc["levels"].erase(4);
  expect_rejected(doc, "levels", "levels 1 to 5");
  doc = default_doc();
  doc["levels"][0]["action"] = "ignore";
  expect_rejected(doc, "levels[0].action", "home_visit, phone_inquiry");
}

TEST(PolicyParseTest, RejectsNegativeOrOutOfRangeNumbers) {
  Json doc = default_doc();
  doc["indicators"][0]["points"] = -4;
  expect_rejected(doc, "indicators[0].points", "got -4");
  doc = default_doc();
  doc["indicators"][0]["points"] = 0;
  expect_rejected(doc, "indicators[0].points", "from 1 to 100");
  doc = default_doc();
  doc["indicators"][0]["points"] = 101;
  expect_rejected(doc, "indicators[0].points", "got 101");
  doc = default_doc();
  doc["version"] = 0;
  expect_rejected(doc, "version");
  doc = default_doc();
  doc["expenditure_ratio_percent"] = 101;
  expect_rejected(doc, "expenditure_ratio_percent");
  doc = default_doc();
  doc["levels"][0]["deadline_days"] = -3;
  expect_rejected(doc, "levels[0].deadline_days");
}

TEST(PolicyParseTest, RejectsABadDate) {
  Json doc = default_doc();
  doc["calendar"][0]["date"] = "2024-02-30";
  expect_rejected(doc, "calendar[0].date", "real date");
  doc = default_doc();
  doc["calendar"][1]["date"] = "20240204";
  expect_rejected(doc, "calendar[1].date", "YYYY-MM-DD");
  doc = default_doc();
  doc["calendar"][1]["date"] = 20240204;
  expect_rejected(doc, "calendar[1].date", "string");
  doc = default_doc();
  doc["calendar"][2]["kind"] = "off";
  expect_rejected(doc, "calendar[2].kind", "holiday, workday");
  doc = default_doc();
  doc["calendar"].push_back({{"date", "2024-10-05"}, {"kind", "holiday"}, {"name", "国庆节"}});  // a Saturday
  expect_rejected(doc, "calendar", "weekend");
  doc = default_doc();
  doc["calendar"].push_back(doc["calendar"][0]);
  expect_rejected(doc, "calendar", "listed twice");
}

TEST(PolicyParseTest, RejectsABadCode) {
  Json doc = default_doc();
  doc["issued_by"] = "44000000000";  // 11 digits
  expect_rejected(doc, "issued_by", "12 digits");
  doc = default_doc();
  doc["issued_by"] = 440000000000;  // codes are strings
  expect_rejected(doc, "issued_by", "string");
  doc = default_doc();
  doc["issued_by"] = "004400000000";
  expect_rejected(doc, "issued_by");
  const Json standard = {{"urban_yuan", 1000}, {"rural_yuan", 800}, {"set_by", "441300000000"}, {"illustrative", true}};
  doc = default_doc();
  doc["standards"]["4413030000"] = standard;
  expect_rejected(doc, "standards.4413030000");
  doc = default_doc();
  doc["standards"]["441303001000"] = standard;  // a township
  expect_rejected(doc, "standards.441303001000", "county");
  doc = default_doc();
  doc["standards"]["441402000000"] = standard;  // set by another city
  expect_rejected(doc, "standards.441402000000.set_by", "containing");
  doc = default_doc();
  doc["standards"]["441303000000"] = standard;
  doc["standards"]["441303000000"]["set_by"] = "441303000000";  // a county cannot set its own
  expect_rejected(doc, "standards.441303000000.set_by");
}

TEST(PolicyParseTest, RejectsBadYuan) {
  Json doc = default_doc();
  doc["standards"]["441303000000"] = {
      {"urban_yuan", 1000.005}, {"rural_yuan", 800}, {"set_by", "441300000000"}, {"illustrative", true}};
  expect_rejected(doc, "standards.441303000000.urban_yuan", "2 decimals");
  doc["standards"]["441303000000"]["urban_yuan"] = -1;
  expect_rejected(doc, "standards.441303000000.urban_yuan");
  doc["standards"]["441303000000"]["urban_yuan"] = "1000";
  expect_rejected(doc, "standards.441303000000.urban_yuan", "number");
  doc["standards"]["441303000000"]["urban_yuan"] = 1000;
  doc["standards"]["441303000000"]["illustrative"] = "yes";
  expect_rejected(doc, "standards.441303000000.illustrative", "true or false");
}

TEST(PolicyParseTest, RejectsUnknownKeys) {
  Json doc = default_doc();
  doc["colour_scheme"] = "dark";
  expect_rejected(doc, "colour_scheme", "not a known key");
  doc = default_doc();
  doc["indicators"][0]["weight"] = 4;
  expect_rejected(doc, "indicators[0].weight", "not a known key");
  doc = default_doc();
  doc["calendar"][0]["comment"] = "x";
  expect_rejected(doc, "calendar[0].comment", "not a known key");
}

TEST(PolicyParseTest, RejectsBadIdentifiers) {
  Json doc = default_doc();
  doc["indicators"][0]["code"] = "Disability Change";
  expect_rejected(doc, "indicators[0].code", "lower-case");
  doc = default_doc();
  doc["indicators"][0]["dimension"] = "spending";
  expect_rejected(doc, "indicators[0].dimension", "spending_surge");
  doc = default_doc();
  doc["indicators"][0]["name_zh"] = "";
  expect_rejected(doc, "indicators[0].name_zh", "empty");
}

TEST(PolicyParseTest, RejectsAKeyGivenTwice) {
  std::string text = default_policy_json();
  text.insert(text.find('{') + 1, "\"version\": 7,");
  expect_rejected(text, "version", "twice");
}

TEST(PolicyParseTest, RejectsTextThatIsNotJson) {
  for (const char* text : {"", "{", "{\"version\": 1,}", "not json", "{\"version\": 1} trailing"}) {
    Result<Policy> r = parse_policy(text);
    ASSERT_FALSE(r.is_ok()) << text;
    EXPECT_NE(r.status().message().find("not valid JSON"), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(parse_policy(std::string(5 << 20, ' ')).is_ok());
}

}  // namespace
}  // namespace lifeline::node
