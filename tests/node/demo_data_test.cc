// The synthetic demo data generator (node/runtime/demo_data.h): same seed,
// same bytes; valid and unique ID numbers consistent with each member's
// relation; only the given villages, and only village-level codes; and the
// property the demo relies on: imported into a real Monitor, the households
// and events give alerts of all five levels, as many of each as
// expected.json says.
#include "node/runtime/demo_data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "node/core/household_json.h"
#include "node/core/id_number.h"
#include "tests/testing/monitor_network.h"
#include "tests/testing/temp_dir.h"
#include "topology/logging.h"

namespace lifeline::runtime {
namespace {

using nlohmann::json;

constexpr uint64_t kProvince = 440000000000;
const std::vector<std::string> kVillages = {"441303001001", "441303001002", "441303001201",
                                            "441303108001", "441303108201", "441303108202"};

const topology::JurisdictionTree& divisions() {
  static const topology::JurisdictionTree tree =
      *topology::JurisdictionTree::load_csv_file(LIFELINE_SHARED_DATA "/huizhou_divisions.csv");
  return tree;
}

DemoDataOptions options(uint64_t households = 300, uint64_t seed = 7) {
  DemoDataOptions o;
  o.villages = kVillages;
  o.households = households;
  o.seed = seed;
  o.today = 20261123;  // the MonitorNetwork's today (testing::kWall0Us)
  return o;
}

DemoData generate(const DemoDataOptions& o) {
  auto d = generate_demo_data(o, divisions(), node::default_policy());
  EXPECT_TRUE(d.is_ok()) << d.status().to_string();
  return d.is_ok() ? *d : DemoData{};
}

std::vector<json> lines(const std::string& jsonl) {
  std::vector<json> out;
  std::istringstream in(jsonl);
  for (std::string l; std::getline(in, l);) out.push_back(json::parse(l));
  return out;
}

int age_on(node::Date birth, node::Date day) {
  return static_cast<int>(day / 10000 - birth / 10000) - (day % 10000 < birth % 10000);
}

TEST(DemoDataTest, SameSeedGivesTheSameBytesAndAnotherSeedOtherData) {
  DemoData a = generate(options());
  DemoData b = generate(options());
  EXPECT_EQ(a.households_jsonl, b.households_jsonl);
  EXPECT_EQ(a.events_csv, b.events_csv);
  EXPECT_EQ(a.expected_json, b.expected_json);
  EXPECT_EQ(a.readme_txt, b.readme_txt);
  DemoData c = generate(options(300, 8));
  EXPECT_NE(a.households_jsonl, c.households_jsonl);
  EXPECT_NE(a.events_csv, c.events_csv);
}

TEST(DemoDataTest, EveryIdNumberIsValidUniqueFromItsVillageAndFitsTheRelation) {
  const DemoDataOptions o = options();
  DemoData d = generate(o);
  std::set<std::string> seen;
  size_t persons = 0;
  for (const json& h : lines(d.households_jsonl)) {
    const std::string village = h["village"];
    const json& members = h["members"];
    ASSERT_GE(members.size(), 1u);
    ASSERT_LE(members.size(), 5u);
    EXPECT_EQ(members[0]["relation"], "head");
    node::Date head_birth = 0;
    for (const json& m : members) {
      auto id = node::parse_id_number(m["id_number"].get<std::string>(), o.today);
      ASSERT_TRUE(id.is_ok()) << id.status().to_string();
      EXPECT_TRUE(seen.insert(id->number).second) << "repeated " << id->number;
      EXPECT_EQ(id->address, std::stoul(village.substr(0, 6)));
      const std::string relation = m["relation"];
      if (relation == "head") head_birth = id->birth_date;
      const int age = age_on(id->birth_date, o.today);
      if (relation == "spouse") {
        EXPECT_GE(age, 20);
      } else if (relation == "child") {
        EXPECT_GE(age_on(head_birth, id->birth_date), 18) << "parent younger than 18 at birth";
      } else if (relation == "parent") {
        EXPECT_GE(age_on(id->birth_date, head_birth), 18) << "parent less than 18 years older";
      } else if (relation == "grandchild") {
        EXPECT_LE(age, 16);
      }
      EXPECT_LE(age, 99);
      ++persons;
    }
  }
  EXPECT_EQ(seen.size(), persons);
  EXPECT_EQ(d.expected["persons"], persons);
}

TEST(DemoDataTest, HouseholdsParseAreMarkedSyntheticAndLieInTheGivenVillages) {
  DemoData d = generate(options());
  std::map<std::string, uint64_t> per_village;
  std::set<std::string> categories;
  for (const json& h : lines(d.households_jsonl)) {
    auto parsed = node::household_from_json(h);
    ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
    ++per_village[h["village"]];
    categories.insert(h["category"]);
    EXPECT_NE(h["address"].get<std::string>().find(kSyntheticMark), std::string::npos);
    const std::string phone = h["phone"];
    EXPECT_EQ(phone.size(), 13u);
    EXPECT_EQ(phone.substr(3, 6), "-0000-") << phone;
  }
  EXPECT_EQ(per_village.size(), kVillages.size());
  for (const std::string& v : kVillages) {
    EXPECT_EQ(per_village[v], 50u) << v;
    EXPECT_EQ(d.expected["villages"][v]["households"], 50u) << v;
  }
  EXPECT_EQ(categories,
            (std::set<std::string>{"minimum_living", "destitute", "marginal", "expenditure_hardship", "other"}));
  EXPECT_NE(d.readme_txt.find("合成演示数据，非真实个人信息"), std::string::npos);
  EXPECT_TRUE(d.expected["synthetic"].get<bool>());
}

TEST(DemoDataTest, RefusesCodesThatAreNotVillagesOfTheDivisions) {
  struct Case {
    const char* label;
    std::string code;
    std::string says;
  };
  for (const Case& c :
       {Case{"a township", "441303001000", "not a village"}, Case{"a county", "441303000000", "not a village"},
        Case{"a village absent from the file", "441303001999", "not in the divisions"},
        Case{"not a code", "44130300100", "44130300100"}}) {
    DemoDataOptions o = options();
    o.villages = {"441303001001", c.code};
    auto d = generate_demo_data(o, divisions(), node::default_policy());
    ASSERT_FALSE(d.is_ok()) << c.label;
    EXPECT_EQ(d.status().code(), Status::Code::kInvalidArgument) << c.label;
    EXPECT_NE(d.status().message().find(c.says), std::string::npos) << c.label << ": " << d.status().message();
  }
  DemoDataOptions twice = options();
  twice.villages = {"441303001001", "441303001001"};
  EXPECT_FALSE(generate_demo_data(twice, divisions(), node::default_policy()).is_ok());
  EXPECT_FALSE(generate_demo_data(options(4), divisions(), node::default_policy()).is_ok())
      << "fewer than 5 households";
}

TEST(DemoDataTest, EventsNameMembersWithUniqueRecordsFromTheIndicatorsSources) {
  const DemoDataOptions o = options();
  DemoData d = generate(o);
  std::set<std::string> members;
  for (const json& h : lines(d.households_jsonl))
    for (const json& m : h["members"]) members.insert(m["id_number"].get<std::string>());
  std::istringstream in(d.events_csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "source_department,source_record_id,id_number,indicator,event_date");
  std::set<std::string> records;
  const node::Date window_start = node::subtract_months(o.today, 12);
  for (; std::getline(in, line);) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
    ASSERT_EQ(f.size(), 5u) << line;
    EXPECT_TRUE(records.insert(f[0] + "/" + f[1]).second) << line;
    EXPECT_TRUE(members.count(f[2])) << line;
    const node::Indicator* ind = node::default_policy().indicator(f[3]);
    ASSERT_NE(ind, nullptr) << line;
    EXPECT_NE(std::find(ind->departments.begin(), ind->departments.end(), f[0]), ind->departments.end()) << line;
    auto date = node::parse_date(f[4]);
    ASSERT_TRUE(date.has_value()) << line;
    EXPECT_GT(*date, window_start) << line;
    EXPECT_LE(*date, o.today) << line;
  }
  EXPECT_EQ(d.expected["events"], records.size());
}

// Imports the data into a province's Monitor on a temporary store and
// checks the alerts against expected.json, in total and per village.
void expect_alerts_as_expected(const DemoDataOptions& o) {
  DemoData d = generate(o);
  testing::MonitorNetwork net({{kProvince, 0}});
  ASSERT_EQ(node::shanghai_date(net.now().wall_us), o.today);
  node::Monitor& province = net.monitor(kProvince);

  auto registered = province.import_households(d.households_jsonl, net.now());
  ASSERT_TRUE(registered.is_ok()) << registered.status().to_string();
  EXPECT_EQ(registered->registered, o.households);
  for (const auto& r : registered->rejected) ADD_FAILURE() << "household line " << r.line << ": " << r.reason;

  auto report = province.import_events(d.events_csv, node::ImportFormat::kCsv, net.now());
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_EQ(report->applied, d.expected["events"].get<uint64_t>());
  EXPECT_EQ(report->duplicates, 0u);
  EXPECT_EQ(report->not_monitored, 0u);
  for (const auto& r : report->rejected) ADD_FAILURE() << "event line " << r.line << ": " << r.reason_en;
  EXPECT_EQ(report->alerts_issued, d.expected["alerted_households"].get<uint64_t>());

  node::AlertFilter all;
  all.limit = 100000;
  auto alerts = province.list_alerts(all, net.now());
  ASSERT_TRUE(alerts.is_ok());
  std::map<std::string, uint64_t> by_level;
  std::map<std::string, std::map<std::string, uint64_t>> by_village;
  for (const node::AlertView& a : *alerts) {
    ++by_level[std::to_string(a.alert.level)];
    ++by_village[topology::DivisionCode::format(a.village)][std::to_string(a.alert.level)];
  }
  for (uint32_t level = 1; level <= 5; ++level) {
    const std::string l = std::to_string(level);
    EXPECT_GT(by_level[l], 0u) << "no alert of level " << l;
    EXPECT_EQ(by_level[l], d.expected["alerts_by_level"][l].get<uint64_t>()) << "level " << l;
    for (const std::string& v : kVillages)
      EXPECT_EQ(by_village[v][l], d.expected["villages"][v]["alerts_by_level"][l].get<uint64_t>())
          << v << " level " << l;
  }
}

// The property the demo shows: every level, in the counts expected.json
// gives. Cases: the demo's size and seed, and a small file (few households
// per level).
TEST(DemoDataTest, ImportedIntoAMonitorGivesAlertsOfEveryLevelAsExpected) {
  (void)set_log_level("warning");
  for (auto [households, seed] : std::vector<std::pair<uint64_t, uint64_t>>{{2400, 2026}, {37, 1}}) {
    SCOPED_TRACE("households " + std::to_string(households) + ", seed " + std::to_string(seed));
    expect_alerts_as_expected(options(households, seed));
  }
}

TEST(DemoDataTest, WritesTheFourFilesAndRefusesAnUnreadableDivisionsFile) {
  testing::TempDir dir;
  DemoDataOptions o = options(50);
  o.divisions_path = LIFELINE_SHARED_DATA "/huizhou_divisions.csv";
  o.out_dir = dir.sub("out");
  auto expected = write_demo_data(o, node::default_policy());
  ASSERT_TRUE(expected.is_ok()) << expected.status().to_string();
  DemoData d = generate(o);
  for (auto [name, text] : std::map<std::string, std::string>{{"households.jsonl", d.households_jsonl},
                                                              {"events.csv", d.events_csv},
                                                              {"expected.json", d.expected_json},
                                                              {"README.txt", d.readme_txt}}) {
    std::ifstream in(dir.sub("out/" + name), std::ios::binary);
    std::ostringstream got;
    got << in.rdbuf();
    EXPECT_EQ(got.str(), text) << name;
  }
  EXPECT_EQ(*expected, d.expected);
  o.divisions_path = dir.sub("missing.csv");
  EXPECT_FALSE(write_demo_data(o, node::default_policy()).is_ok());
}

}  // namespace
}  // namespace lifeline::runtime
