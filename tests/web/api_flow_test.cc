// The monitoring flow over the HTTP API of a real five-level chain of
// `lifeline run` processes (province → city → county → township →
// village, as in tests/process/monitor_flow_test.cc): a household
// registered at the village, department events imported at the province
// (a raw body and a multipart upload), the alert polled for at the village,
// accepted and verified there, and seen verified at the province. Also:
// lists mask names and ID numbers, the case page shows them whole and is
// audited, and the audit entry made at the village reaches the county.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "node/core/civil_date.h"
#include "node/runtime/system_clock.h"
#include "tests/testing/domain_fixtures.h"
#include "tests/testing/http_client.h"
#include "tests/testing/local_network.h"

namespace lifeline {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::HttpClient;
using testing::HttpReply;
using testing::LocalNetwork;

const std::string kProvince = "440000000000", kCity = "441300000000", kCounty = "441303000000",
                  kTownship = "441303001000", kVillage = "441303001001";
const std::vector<std::string> kChain = {kProvince, kCity, kCounty, kTownship, kVillage};
const std::string kSibling = "441303001002";  // another village of the township, without a node
// The longest any replication is waited for. At 20 s one run under
// `make test` (two tests at a time) once failed the three-hop wait for the
// audit entry at the county; not reproduced, cause not established (the
// 1,000,000-person load test running beside it loads the same disk).
constexpr auto kPatience = 60s;
constexpr auto kPoll = 100ms;

std::string divisions() { return std::string(LIFELINE_SHARED_DATA) + "/huizhou_divisions.csv"; }

std::string shanghai_date(int offset_days = 0) {
  return node::format_date(node::add_days(node::shanghai_date(runtime::system_now().wall_us), offset_days));
}

std::string events_csv(const std::vector<std::array<std::string, 5>>& events) {
  std::string text = "source_department,source_record_id,id_number,indicator,event_date\n";
  for (const auto& e : events) text += e[0] + "," + e[1] + "," + e[2] + "," + e[3] + "," + e[4] + "\n";
  return text;
}

// Events raising a level 1 alert (score 13) for a household of head and spouse, dated ten days ago.
std::string level_one_events(const std::string& head, const std::string& spouse, const std::string& tag) {
  std::string d = shanghai_date(-10);
  return events_csv({{"medical_insurance", "YB-" + tag, head, "serious_illness", d},
                     {"human_resources", "RS-SY-" + tag, head, "unemployment", d},
                     {"human_resources", "RS-SB-" + tag, head, "insurance_lapse", d},
                     {"health", "WJ-CS-" + tag, spouse, "birth", d}});
}

json household(const std::string& village, const std::string& head, const std::string& head_name, const std::string& spouse,
               const std::string& spouse_name) {
  return json{{"village", village},
              {"category", "marginal"},
              {"income_yuan", 650.5},
              {"phone", "13800000000"},
              {"address", "淡水街道测试路1号"},
              {"members", json::array({json{{"id_number", head}, {"name", head_name}, {"relation", "head"}},
                                       json{{"id_number", spouse}, {"name", spouse_name}, {"relation", "spouse"}}})}};
}

// The alerts of a list answer for household.
json alerts_for(const HttpReply& r, const std::string& household) {
  json out = json::array();
  if (r.status != 200 || !r.json.is_object()) return out;
  for (const json& a : r.json["alerts"])
    if (a.value("household", "") == household) out.push_back(a);
  return out;
}

class ApiFlowTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    int base = testing::test_base_port(2);
    net_ = std::make_unique<LocalNetwork>(LIFELINE_BIN, divisions(), kProvince, kVillage, base, true, base + 5);
    if (!net_->ok()) return;
    net_->start_all(kChain);
    for (const auto& code : kChain) {
      HttpClient c = testing::node_client(net_->node_dir(code), code);
      if (!testing::wait_until([&] { return c.get("/api/v1/session").status == 401; }, 20s, 50ms)) return;
      if (!c.login_and_change("admin", testing::first_admin_password(net_->node_dir(code)), "Chain-Boss-" + code)) return;
      admins_[code] = c;
    }
    ready_ = true;
  }
  static void TearDownTestSuite() {
    if (net_) net_->stop_all();
    net_.reset();
  }
  void SetUp() override { ASSERT_TRUE(ready_) << (net_ ? net_->init_output() : "no network"); }

  static HttpClient& at(const std::string& code) { return admins_[code]; }

  static inline std::unique_ptr<LocalNetwork> net_;
  static inline std::map<std::string, HttpClient> admins_;  // each node's signed-in admin
  static inline bool ready_ = false;
};

TEST_F(ApiFlowTest, ImportAtProvinceAlertsVillageFeedbackVerifiesAtProvince) {
  const std::string head = testing::make_id_number(441303, 19780214, 211), spouse = testing::make_id_number(441303, 19800521, 222);
  HttpReply reg = at(kVillage).post("/api/v1/households", household(kVillage, head, "刘大海", spouse, "黄小芳"));
  ASSERT_EQ(reg.status, 201) << reg;
  const std::string hh = reg.json["household"];
  EXPECT_EQ(hh.rfind("H-" + kVillage + "-", 0), 0u) << hh;

  // The registration reaches the province.
  ASSERT_TRUE(testing::wait_until([&] {
    HttpReply r = at(kProvince).get("/api/v1/households?within=" + kVillage);
    return r.status == 200 && r.body.find(hh) != std::string::npos;
  }, kPatience, kPoll)) << at(kProvince).get("/api/v1/households");

  // Department events imported at the province as a raw body, first as a
  // dry run: the same report, and nothing stored or sent.
  const std::string csv = level_one_events(head, spouse, "flow");
  HttpReply dry = at(kProvince).post_raw("/api/v1/imports?file_name=level1.csv&dry_run=true", csv, "text/csv");
  ASSERT_EQ(dry.status, 200) << dry;
  EXPECT_EQ(dry.json["dry_run"], true) << dry;
  EXPECT_EQ(dry.json["applied"], 4) << dry;
  EXPECT_EQ(dry.json["alerts_issued"], 1) << dry;
  EXPECT_TRUE(alerts_for(at(kProvince).get("/api/v1/alerts"), hh).empty());
  HttpReply report = at(kProvince).post_raw("/api/v1/imports?file_name=level1.csv", csv, "text/csv");
  ASSERT_EQ(report.status, 200) << report;
  EXPECT_EQ(report.json["lines_read"], 4) << report;
  EXPECT_EQ(report.json["applied"], 4) << report;
  EXPECT_EQ(report.json["alerts_issued"], 1) << report;
  EXPECT_EQ(report.json["dry_run"], false) << report;
  EXPECT_TRUE(report.json["rejected"].empty()) << report;
  // The same file again as a multipart upload: read, and every line a duplicate.
  HttpReply again = at(kProvince).post_file("/api/v1/imports", "file", "level1-again.csv", csv);
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.json["lines_read"], 4) << again;
  EXPECT_EQ(again.json["duplicates"], 4) << again;
  EXPECT_EQ(again.json["applied"], 0) << again;
  EXPECT_EQ(again.json["alerts_issued"], 0) << again;

  json issued = alerts_for(at(kProvince).get("/api/v1/alerts"), hh);
  ASSERT_EQ(issued.size(), 1u) << issued;
  const std::string id = issued[0]["id"];
  EXPECT_EQ(id.rfind("A-" + kProvince + "-", 0), 0u) << id;
  EXPECT_EQ(issued[0]["level"], 1);
  EXPECT_EQ(issued[0]["score"], 13);
  EXPECT_EQ(issued[0]["village"], kVillage);

  // The alert reaches the village, delivered, at its level and deadline.
  json at_village;
  ASSERT_TRUE(testing::wait_until([&] {
    json list = alerts_for(at(kVillage).get("/api/v1/alerts?level=1"), hh);
    if (list.size() != 1 || list[0]["state"] != "delivered") return false;
    at_village = list[0];
    return true;
  }, kPatience, kPoll)) << at(kVillage).get("/api/v1/alerts");
  EXPECT_EQ(at_village["id"], id);
  EXPECT_EQ(at_village["level"], 1);
  EXPECT_EQ(at_village["colour"], "red");
  EXPECT_EQ(at_village["due_date"], issued[0]["due_date"]);
  EXPECT_EQ(at_village["overdue"], false);
  EXPECT_EQ(at_village["indicators"].size(), 4u);
  // Filters agree: an open level 1 alert due by its deadline.
  EXPECT_EQ(alerts_for(at(kVillage).get("/api/v1/alerts?open=true&due_before=" + at_village["due_date"].get<std::string>()), hh).size(), 1u);
  EXPECT_TRUE(alerts_for(at(kVillage).get("/api/v1/alerts?level=2"), hh).empty());
  EXPECT_TRUE(alerts_for(at(kVillage).get("/api/v1/alerts?state=verified"), hh).empty());
  EXPECT_EQ(at_village["escalated_at_us"], 0);
  EXPECT_TRUE(alerts_for(at(kVillage).get("/api/v1/alerts?escalated=true"), hh).empty());

  // The county escalates it (督办); a village node cannot, and the village
  // sees the escalation on its alert.
  HttpReply not_here = at(kVillage).post("/api/v1/alerts/" + id + "/escalate", json{{"note", "请尽快核查"}});
  EXPECT_EQ(not_here.status, 403) << not_here;
  ASSERT_TRUE(testing::wait_until([&] { return at(kCounty).get("/api/v1/alerts/" + id).status == 200; }, kPatience, kPoll));
  HttpReply escalated = at(kCounty).post("/api/v1/alerts/" + id + "/escalate", json{{"note", "一档预警，请于三个工作日内入户核查"}});
  ASSERT_EQ(escalated.status, 200) << escalated;
  EXPECT_GT(escalated.json["escalated_at_us"].get<int64_t>(), 0) << escalated;
  ASSERT_TRUE(testing::wait_until([&] {
    HttpReply r = at(kVillage).get("/api/v1/alerts/" + id);
    return r.status == 200 && r.json["escalated_at_us"] == escalated.json["escalated_at_us"];
  }, kPatience, kPoll)) << at(kVillage).get("/api/v1/alerts/" + id);
  // The station lists its escalated alerts, open ones in deadline order.
  EXPECT_EQ(alerts_for(at(kVillage).get("/api/v1/alerts?escalated=true"), hh).size(), 1u);
  EXPECT_EQ(alerts_for(at(kVillage).get("/api/v1/alerts?escalated=1&open=true"), hh).size(), 1u);
  EXPECT_EQ(at(kVillage).get("/api/v1/alerts?escalated=yes").status, 400);
  ASSERT_TRUE(testing::wait_until([&] {
    HttpReply r = at(kProvince).get("/api/v1/aggregates");
    return r.status == 200 && r.json["own"]["figures"]["open_escalated"] == 1;
  }, kPatience, kPoll)) << at(kProvince).get("/api/v1/aggregates");

  // Accepted, then verified by the visit's feedback, at the village.
  HttpReply accepted = at(kVillage).post_raw("/api/v1/alerts/" + id + "/accept", "");
  ASSERT_EQ(accepted.status, 200) << accepted;
  EXPECT_EQ(accepted.json["state"], "accepted");
  EXPECT_EQ(accepted.json["accepted_by"], "admin");
  // Findings that quote a person's ID number are refused, naming the field.
  HttpReply with_id = at(kVillage).post("/api/v1/alerts/" + id + "/feedback",
                                        json{{"visit_date", shanghai_date()}, {"method", "home_visit"}, {"visitor", "王五"},
                                             {"truthful", true}, {"findings", "户主 44130319850312123X 住院"},
                                             {"decision", "none_needed"}});
  EXPECT_EQ(with_id.status, 400) << with_id;
  EXPECT_EQ(with_id.json["error"]["code"], "invalid_argument") << with_id;
  EXPECT_EQ(with_id.json["error"]["field"], "findings") << with_id;
  EXPECT_EQ(with_id.body.find("44130319850312123X"), std::string::npos) << "the refusal repeats the number";
  HttpReply fb = at(kVillage).post("/api/v1/alerts/" + id + "/feedback",
                                   json{{"visit_date", shanghai_date()}, {"method", "home_visit"}, {"visitor", "王五"},
                                        {"truthful", true}, {"findings", "医疗支出大，收入骤减"},
                                        {"needs", json::array({"basic_living", "health"})},
                                        {"decision", "include_minimum_living"}});
  ASSERT_EQ(fb.status, 200) << fb;
  EXPECT_EQ(fb.json["state"], "verified");

  // The province sees it verified, then closes it.
  json at_province;
  ASSERT_TRUE(testing::wait_until([&] {
    HttpReply r = at(kProvince).get("/api/v1/alerts/" + id);
    at_province = r.json;
    return r.status == 200 && at_province["state"] == "verified";
  }, kPatience, kPoll)) << at_province;
  EXPECT_EQ(at_province["accepted_by"], "admin");
  HttpReply closed = at(kProvince).post_raw("/api/v1/alerts/" + id + "/close", "");
  ASSERT_EQ(closed.status, 200) << closed;
  EXPECT_EQ(closed.json["state"], "closed");

  // The case page at the province tells the story: the feedback as recorded at the village.
  HttpReply page = at(kProvince).get("/api/v1/households/" + hh);
  ASSERT_EQ(page.status, 200) << page;
  bool feedback = false;
  for (const json& e : page.json["history"]) {
    if (e.value("kind", "") == "feedback" && e.value("alert", "") == id) {
      feedback = true;
      EXPECT_EQ(e["feedback"]["decision"], "include_minimum_living") << e;
      EXPECT_EQ(e["feedback"]["needs"], json::array({"basic_living", "health"})) << e;
    }
  }
  EXPECT_TRUE(feedback) << page.json["history"];
  bool escalation = false;
  for (const json& e : page.json["history"]) {
    if (e.value("kind", "") == "escalated" && e.value("alert", "") == id) {
      escalation = true;
      EXPECT_EQ(e["text"], "escalated at " + kCounty + " by admin: 一档预警，请于三个工作日内入户核查") << e;
    }
  }
  EXPECT_TRUE(escalation) << page.json["history"];
}

TEST_F(ApiFlowTest, ListsMaskPersonalDataCasePageIsAuditedUpToTheCounty) {
  const std::string head = "44130319850312123X", spouse = "441302200107040044";
  HttpReply reg = at(kVillage).post("/api/v1/households", household(kVillage, head, "张三明", spouse, "李四"));
  ASSERT_EQ(reg.status, 201) << reg;
  const std::string hh = reg.json["household"];
  // An alert for it, from events imported at the village itself (held there at once).
  HttpReply report = at(kVillage).post_raw("/api/v1/imports?format=csv", level_one_events(head, spouse, "mask"), "text/csv");
  ASSERT_EQ(report.status, 200) << report;
  ASSERT_EQ(report.json["alerts_issued"], 1) << report;
  // A cross-location application taken at the village for its sibling village.
  HttpReply app = at(kVillage).post("/api/v1/applications",
                                    json{{"village", kSibling}, {"name", "赵六明"}, {"id_number", "441322197209152320"},
                                         {"reason", "失业后无收入"}, {"needs", json::array({"basic_living"})}});
  ASSERT_EQ(app.status, 201) << app;

  // Lists never hold a whole name or ID number; they hold the masked forms.
  struct Listed {
    std::string path, masked_id, masked_name;
  };
  const std::vector<Listed> lists = {
      {"/api/v1/households", "4413**********123X", "张*明"},
      {"/api/v1/households?open_alert=true", "4413**********123X", "张*明"},
      {"/api/v1/households?within=" + kVillage + "&category=marginal", "4413**********123X", "张*明"},
      {"/api/v1/alerts", "", ""},
      {"/api/v1/alerts?open=true", "", ""},
      {"/api/v1/applications", "4413**********2320", "赵*明"},
  };
  for (const Listed& l : lists) {
    HttpReply r = at(kVillage).get(l.path);
    ASSERT_EQ(r.status, 200) << l.path << ": " << r;
    for (const char* whole : {"44130319850312123X", "441302200107040044", "441322197209152320", "张三明", "赵六明"})
      EXPECT_EQ(r.body.find(whole), std::string::npos) << l.path << " shows " << whole << ": " << r.body;
    if (!l.masked_id.empty()) {
      EXPECT_NE(r.body.find(l.masked_id), std::string::npos) << l.path << ": " << r.body;
      EXPECT_NE(r.body.find(l.masked_name), std::string::npos) << l.path << ": " << r.body;
    }
    if (l.path.rfind("/api/v1/alerts", 0) == 0) {
      EXPECT_NE(r.body.find(hh), std::string::npos) << l.path << ": " << r.body;
    }
  }
  // The person lookup answers with the household only, and audits the lookup masked.
  HttpReply person = at(kVillage).post("/api/v1/persons/lookup", json{{"id_number", head}});
  ASSERT_EQ(person.status, 200) << person;
  EXPECT_EQ(person.json, json({{"household", hh}}));

  // The case page shows the people whole, after auditing the view.
  int64_t before_us = runtime::system_now().wall_us;
  HttpReply page = at(kVillage).get("/api/v1/households/" + hh);
  ASSERT_EQ(page.status, 200) << page;
  for (const char* whole : {"44130319850312123X", "441302200107040044", "张三明", "李四"})
    EXPECT_NE(page.body.find(whole), std::string::npos) << whole << " missing from " << page.body;
  HttpReply viewed = at(kVillage).get("/api/v1/audit?action=case_viewed&target=" + hh);
  ASSERT_EQ(viewed.status, 200) << viewed;
  ASSERT_EQ(viewed.json["entries"].size(), 1u) << viewed;
  const json entry = viewed.json["entries"][0];
  EXPECT_EQ(entry["account"], "admin");
  EXPECT_EQ(entry["role"], "admin");
  EXPECT_EQ(entry["target"], hh);
  EXPECT_EQ(entry["address"], "127.0.0.1");
  EXPECT_EQ(entry["node"], kVillage);
  EXPECT_EQ(entry["outcome"], "ok");
  ASSERT_TRUE(entry["at_us"].is_number_integer()) << entry;
  EXPECT_GE(entry["at_us"].get<int64_t>(), before_us - 1'000'000) << entry;
  EXPECT_LE(entry["at_us"].get<int64_t>(), runtime::system_now().wall_us + 1'000'000) << entry;
  // The audit log itself shows the lookup masked.
  HttpReply lookups = at(kVillage).get("/api/v1/audit?action=person_lookup");
  ASSERT_EQ(lookups.status, 200);
  EXPECT_EQ(lookups.body.find(head), std::string::npos) << lookups;
  EXPECT_NE(lookups.body.find("4413**********123X"), std::string::npos) << lookups;

  // The entry made at the village is replicated up to the county.
  json at_county;
  ASSERT_TRUE(testing::wait_until([&] {
    HttpReply r = at(kCounty).get("/api/v1/audit?action=case_viewed&target=" + hh + "&node=" + kVillage);
    if (r.status != 200 || r.json["entries"].size() != 1) return false;
    at_county = r.json["entries"][0];
    return true;
  }, kPatience, kPoll)) << at(kCounty).get("/api/v1/audit?action=case_viewed");
  EXPECT_EQ(at_county, entry);
}

// GET /metrics at the county (a parent and a child link): every family
// issue 5 names (link state and round-trip time, outbox depth, messages in
// and out, refusals, alerts by level and state, overdue, HTTP requests by
// status with a latency histogram), in the Prometheus text format, without
// a session.
TEST_F(ApiFlowTest, APersonRegisteredInTwoHouseholdsIsListedMaskedAboveBoth) {
  // The township registers a person in its node-less village; the village
  // node, which does not hold that household, registers the same person.
  const std::string person = testing::make_id_number(441303, 19660606, 616);
  const std::string spouse_a = testing::make_id_number(441303, 19680808, 618);
  const std::string spouse_b = testing::make_id_number(441303, 19690909, 619);
  HttpReply first = at(kTownship).post("/api/v1/households", household(kSibling, person, "吴测试", spouse_a, "郑测试"));
  ASSERT_EQ(first.status, 201) << first;
  HttpReply second = at(kVillage).post("/api/v1/households", household(kVillage, person, "吴测试", spouse_b, "冯测试"));
  ASSERT_EQ(second.status, 201) << second;
  const std::set<std::string> both = {first.json["household"], second.json["household"]};
  auto listed = [&](const std::string& code, const std::string& query) {
    HttpReply r = at(code).get("/api/v1/persons/conflicts" + query);
    json out = json::array();
    if (r.status != 200) return out;
    for (const json& c : r.json["conflicts"]) {
      if (both.count(c.value("household", "")) && both.count(c.value("also_in", ""))) out.push_back(c);
    }
    return out;
  };
  for (const std::string& code : {kTownship, kCounty, kProvince}) {
    ASSERT_TRUE(testing::wait_until([&] { return listed(code, "").size() == 1; }, kPatience, kPoll))
        << code << ": " << at(code).get("/api/v1/persons/conflicts");
    json c = listed(code, "")[0];
    EXPECT_EQ(c["id_number"], person.substr(0, 4) + "**********" + person.substr(14)) << c;
    EXPECT_EQ(c["name"], "吴*试") << c;
    EXPECT_EQ(std::set<std::string>({c["village"], c["also_in_village"]}), std::set<std::string>({kVillage, kSibling})) << c;
    EXPECT_FALSE(c.value("message", "").empty());
    EXPECT_FALSE(c.value("message_en", "").empty());
    EXPECT_EQ(listed(code, "?within=" + kSibling).size(), 1u) << code;
  }
  // The village holds only its own household: nothing to list there.
  EXPECT_TRUE(listed(kVillage, "").empty());
  // The case page names the other household at a node holding both.
  HttpReply page = at(kCounty).get("/api/v1/households/" + second.json["household"].get<std::string>());
  ASSERT_EQ(page.status, 200) << page;
  ASSERT_EQ(page.json["also_registered"].size(), 1u) << page;
  EXPECT_EQ(page.json["also_registered"][0]["household"], first.json["household"]);
}

TEST_F(ApiFlowTest, MetricsCarryLinksAlertsAndHttpFigures) {
  // A level-one alert of the village, held at the county too.
  const std::string head = testing::make_id_number(441303, 19700606, 311), spouse = testing::make_id_number(441303, 19720707, 322);
  HttpReply reg = at(kVillage).post("/api/v1/households", household(kVillage, head, "周测试", spouse, "吴测试"));
  ASSERT_EQ(reg.status, 201) << reg;
  HttpReply report = at(kVillage).post_raw("/api/v1/imports?format=csv", level_one_events(head, spouse, "metrics"), "text/csv");
  ASSERT_EQ(report.status, 200) << report;
  HttpClient anonymous(at(kCounty).host(), at(kCounty).port());
  EXPECT_EQ(anonymous.get("/api/v1/session").status, 401);  // one request that must be counted
  EXPECT_EQ(anonymous.request("HEAD", "/api/v1/session").status, 401);  // counted as HEAD, not GET
  HttpReply m;
  // The round-trip time appears once a heartbeat has been answered, the
  // alert once it has been replicated up.
  ASSERT_TRUE(testing::wait_until([&] {
    m = anonymous.get("/metrics");
    return m.status == 200 && m.body.find("lifeline_link_rtt_seconds{peer=\"" + kCity + "\"}") != std::string::npos &&
           m.body.find("lifeline_alerts{level=\"1\",state=\"") != std::string::npos;
  }, kPatience, kPoll)) << m;
  EXPECT_EQ(m.header("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u) << m.header("Content-Type");
  for (const char* family : {"lifeline_link_up gauge", "lifeline_link_rtt_seconds gauge", "lifeline_link_outbox_depth gauge",
                             "lifeline_link_messages_in_total counter", "lifeline_link_messages_out_total counter",
                             "lifeline_link_refusals_total counter", "lifeline_alerts gauge", "lifeline_alerts_overdue gauge",
                             "lifeline_alerts_escalated gauge", "lifeline_alerts_due_soon gauge",
                             "lifeline_http_requests_total counter", "lifeline_http_request_duration_seconds histogram"})
    EXPECT_NE(m.body.find(std::string("# TYPE ") + family + "\n"), std::string::npos) << family << " missing:\n" << m.body;
  for (const std::string& sample :
       {"lifeline_link_up{peer=\"" + kCity + "\",role=\"parent\"} 1\n", "lifeline_link_up{peer=\"" + kTownship + "\",role=\"child\"} 1\n",
        "lifeline_link_outbox_depth{peer=\"" + kCity + "\"} ", "lifeline_link_messages_in_total{peer=\"" + kTownship + "\"} ",
        "lifeline_link_messages_out_total{peer=\"" + kTownship + "\"} ", "lifeline_link_refusals_total{peer=\"" + kCity + "\"} ",
        std::string("lifeline_alerts_overdue "), std::string("lifeline_person_conflicts 0\n"),
        std::string("lifeline_http_requests_total{method=\"GET\",route=\"/api/v1/session\",status=\"401\"} "),
        std::string("lifeline_http_requests_total{method=\"HEAD\",route=\"/api/v1/session\",status=\"401\"} 1\n"),
        std::string("lifeline_http_request_duration_seconds_bucket{route=\"/api/v1/session\",le=\"+Inf\"} ")})
    EXPECT_NE(m.body.find(sample), std::string::npos) << "no sample " << sample << " in:\n" << m.body;
  // Alerts by level and state (at least the level-one alert raised above).
  EXPECT_TRUE(std::regex_search(m.body, std::regex("lifeline_alerts\\{level=\"1\",state=\"[a-z]+\"\\} [1-9][0-9]*\n"))) << m.body;
}

}  // namespace
}  // namespace lifeline
