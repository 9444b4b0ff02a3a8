// Bad input to every endpoint of the HTTP API that takes input, against
// real `lifeline run` processes: malformed JSON, a body that is not an
// object, missing, unknown and wrongly typed fields, invalid ID numbers
// and division codes, bad query parameters and bodies over the JSON limit.
// Each is answered with a 4xx in the error shape {"error": {code, message,
// message_en, field}}, and the node's store (`lifeline digest`) is the same
// before and after but for the audit log: a refusal answered 403 is audited,
// and an audit entry takes its id from a sequence in the domain table, so
// that table may change with it and with nothing else.
//
// Two nodes, each the root of its own network: a province (policy,
// standards, households, imports, alerts, users, lists) and a township
// (cross-location applications are taken at a township or village).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <tuple>
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

const std::string kProvince = "440000000000", kTownship = "441303001000";
const std::string kVillage = "441303001001";       // a village of the township (no node of its own)
const std::string kOtherVillage = "441303108201";  // a village under 永湖镇
const std::string kAdminPassword = "Input-Boss-2026";
const std::string kHead = testing::make_id_number(441303, 19700505, 515);
// An ID number as an account name may spell it: its check character X as x.
const std::string kLowerX = "44130319850312123x";
// kHead with a wrong check character.
const std::string kBadCheck = kHead.substr(0, 17) + (kHead[17] == '1' ? "2" : "1");

std::string divisions() { return std::string(LIFELINE_SHARED_DATA) + "/huizhou_divisions.csv"; }

std::string shanghai_date(int offset_days = 0) {
  return node::format_date(node::add_days(node::shanghai_date(runtime::system_now().wall_us), offset_days));
}

// A JSON object body just over the 1 MiB limit of JSON bodies.
std::string oversize_json() { return "{\"name\":\"" + std::string((1u << 20) + 16, 'a') + "\"}"; }

json member(const std::string& id_number, const std::string& name = "周测试", const std::string& relation = "head") {
  return json{{"id_number", id_number}, {"name", name}, {"relation", relation}};
}
json household_with(const json& members, const std::string& village = kVillage) {
  return json{{"village", village}, {"category", "marginal"}, {"members", members}};
}
std::string household_body(const std::string& village, const std::string& id_number) {
  return household_with(json::array({member(id_number)}), village).dump();
}
std::string feedback_with(const std::string& key, const json& value, bool remove = false) {
  json f{{"visit_date", shanghai_date()}, {"method", "home_visit"}, {"visitor", "王五"}, {"truthful", true},
         {"decision", "keep_monitoring"}};
  if (remove) {
    f.erase(key);
  } else {
    f[key] = value;
  }
  return f.dump();
}
std::string application_with(const std::string& key, const json& value, bool remove = false) {
  json a{{"village", kOtherVillage}, {"name", "吴测试"}, {"id_number", testing::make_id_number(441303, 19660606, 616)},
         {"reason", "失业"}};
  if (remove) {
    a.erase(key);
  } else {
    a[key] = value;
  }
  return a.dump();
}
std::string policy_with(const std::string& key, const json& value) {
  json p = json::parse(testing::policy_version(2));
  p[key] = value;
  return p.dump();
}

// One request and the refusal expected for it.
struct Case {
  std::string name;
  char node;                  // 'P' the province, 'T' the township
  std::string method;
  std::string path;           // "{H}" and "{A}" stand for the province's household and alert
  std::string body;
  int status;
  std::string code;
  std::string field = "";     // expected error.field ("" = not checked)
  std::string type = "application/json";
};

class ApiInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    int base = testing::test_base_port(3);
    province_ = std::make_unique<LocalNetwork>(LIFELINE_BIN, divisions(), kProvince, kProvince, base, true, base + 5);
    township_ = std::make_unique<LocalNetwork>(LIFELINE_BIN, divisions(), kTownship, kTownship, base + 2, true, base + 7);
    if (!province_->ok() || !township_->ok()) return;
    province_->start(kProvince);
    township_->start(kTownship);
    p_ = testing::node_client(province_->node_dir(kProvince), kProvince);
    t_ = testing::node_client(township_->node_dir(kTownship), kTownship);
    for (auto* c : {&p_, &t_}) {
      if (!testing::wait_until([c] { return c->get("/api/v1/session").status == 401; }, 20s, 50ms))
        return setup_failed("a node's API did not answer within 20 s", c->get("/api/v1/session"));
    }
    for (auto [c, dir, code] : {std::tuple{&p_, province_->node_dir(kProvince), kProvince},
                                std::tuple{&t_, township_->node_dir(kTownship), kTownship}}) {
      const std::string one_time = testing::first_admin_password(dir);
      HttpReply in = c->login("admin", one_time);
      if (in.status != 200) return setup_failed("the first admin's sign-in at " + code, in);
      HttpReply changed = c->post("/api/v1/session/password", json{{"current_password", one_time}, {"new_password", kAdminPassword}});
      if (changed.status != 200) return setup_failed("the first admin's password change at " + code, changed);
    }
    // A household and an open alert at the province, for the endpoints that act on one.
    const std::string spouse = testing::make_id_number(441303, 19720707, 727);
    HttpReply reg = p_.post("/api/v1/households", household_with(json::array({member(kHead), member(spouse, "郑测试", "spouse")})));
    if (reg.status != 201) return setup_failed("registering the household", reg);
    household_ = reg.json["household"];
    std::string d = shanghai_date(-10);
    std::string csv = "source_department,source_record_id,id_number,indicator,event_date\n"
                      "medical_insurance,YB-IN-1," + kHead + ",serious_illness," + d + "\n"
                      "human_resources,RS-IN-1," + kHead + ",unemployment," + d + "\n";
    HttpReply imp = p_.post_raw("/api/v1/imports?file_name=setup.csv", csv, "text/csv");
    if (imp.status != 200 || imp.json["alerts_issued"] != 1) return setup_failed("importing the events", imp);
    HttpReply alerts = p_.get("/api/v1/alerts");
    if (alerts.status != 200 || alerts.json["alerts"].size() != 1) return setup_failed("listing the alert", alerts);
    alert_ = alerts.json["alerts"][0]["id"];
    ready_ = true;
  }
  static void TearDownTestSuite() {
    if (province_) province_->stop_all();
    if (township_) township_->stop_all();
    province_.reset();
    township_.reset();
  }
  // Why the set-up stopped, for the failure message of every test.
  static void setup_failed(const std::string& step, const HttpReply& r) {
    setup_error_ = step + ": HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 300);
  }
  void SetUp() override {
    ASSERT_TRUE(ready_) << setup_error_ << "\n" << (province_ ? province_->init_output() : "no network");
  }

  // The node's digest. settle: once the loop has run what earlier requests
  // queued (audit entries are appended after the answer), i.e. two equal in
  // a row; without it, as it is now.
  static json digest(char node, bool settle = true) {
    const LocalNetwork& net = node == 'P' ? *province_ : *township_;
    const std::string& code = node == 'P' ? kProvince : kTownship;
    json last = net.cli_json(code, {"digest"});
    for (int i = 0; settle && i < 20; ++i) {
      json next = net.cli_json(code, {"digest"});
      if (next == last && next.is_object()) return next;
      last = next;
    }
    return last;
  }

  // Runs each case and checks its answer and that the store did not change.
  static void run_cases(const std::vector<Case>& cases) {
    std::map<char, json> before{{'P', digest('P')}, {'T', digest('T')}};
    for (const Case& c : cases) {
      SCOPED_TRACE(c.name + ": " + c.method + " " + c.path);
      std::string path = c.path;
      for (auto [from, to] : {std::pair<std::string, std::string>{"{H}", household_}, {"{A}", alert_}}) {
        for (size_t at; (at = path.find(from)) != std::string::npos;) path.replace(at, from.size(), to);
      }
      HttpClient& client = c.node == 'P' ? p_ : t_;
      HttpReply r = client.request(c.method, path, c.body, c.type);
      EXPECT_EQ(r.status, c.status) << r.body.substr(0, 500);
      bool shaped = r.json.is_object() && r.json.contains("error") && r.json["error"].is_object();
      EXPECT_TRUE(shaped) << r.body.substr(0, 500);
      const json e = shaped ? r.json["error"] : json::object();
      EXPECT_EQ(e.value("code", ""), c.code) << r.body;
      std::string zh = e.value("message", ""), en = e.value("message_en", "");
      EXPECT_TRUE(std::any_of(zh.begin(), zh.end(), [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; }))
          << "message is not Chinese: " << r.body;
      EXPECT_FALSE(en.empty()) << r.body;
      // The cause too is in Chinese, not the English one behind a Chinese prefix.
      EXPECT_EQ(zh.find(en), std::string::npos) << "the Chinese message carries the English cause: " << r.body;
      if (!c.field.empty()) {
        EXPECT_EQ(e.value("field", ""), c.field) << r.body;
      }
      if (e.contains("field")) {
        EXPECT_TRUE(e["field"].is_string() && !e["field"].get<std::string>().empty()) << r.body;
      }
      EXPECT_EQ(r.header("Content-Type").rfind("application/json", 0), 0u) << r.header("Content-Type");
      // An error quoting an ID number quotes it masked.
      EXPECT_FALSE(std::regex_search(r.body, std::regex("(^|[^0-9])[0-9]{17}[0-9Xx]([^0-9]|$)"))) << r.body;
      expect_unchanged(c.node, before[c.node], r.status == 403);
    }
  }

  // The node's digest equals before but for the audit table (and, when the
  // request was audited, the domain table's audit id sequence); before is
  // moved on to the new digest.
  static void expect_unchanged(char node, json& before, bool audited) {
    json after = digest(node, /*settle=*/audited);  // nothing else is queued after a refusal that is not audited
    ASSERT_TRUE(after.is_object() && after.contains("tables")) << after;
    for (auto& [table, d] : after["tables"].items()) {
      if (table == "audit") continue;
      if (table == "domain" && audited) {
        EXPECT_EQ(d["entries"], before["tables"][table]["entries"]) << table;
        continue;
      }
      EXPECT_EQ(d, before["tables"][table]) << "table " << table << " changed";
    }
    EXPECT_EQ(after["outbox"], before["outbox"]);
    before = after;
  }

  static inline std::unique_ptr<LocalNetwork> province_, township_;
  static inline HttpClient p_, t_;  // each node's signed-in admin (Bearer)
  static inline std::string household_, alert_;
  static inline bool ready_ = false;
  static inline std::string setup_error_;  // the step the set-up stopped at, if it did
};

TEST_F(ApiInputTest, SignInAndPasswordChange) {
  const std::string login = "/api/v1/session", pw = "/api/v1/session/password";
  run_cases({
      {"malformed", 'P', "POST", login, "{\"name\": \"admin\", ", 400, "malformed_json"},
      {"not an object", 'P', "POST", login, "[\"admin\", \"x\"]", 400, "malformed_json"},
      {"a string", 'P', "POST", login, "\"admin\"", 400, "malformed_json"},
      {"empty body", 'P', "POST", login, "", 400, "malformed_json"},
      {"missing password", 'P', "POST", login, R"({"name": "admin"})", 400, "missing_field", "password"},
      {"missing name", 'P', "POST", login, R"({"password": "x"})", 400, "missing_field", "name"},
      {"empty name", 'P', "POST", login, R"({"name": "", "password": "x"})", 400, "missing_field", "name"},
      {"name a number", 'P', "POST", login, R"({"name": 42, "password": "x"})", 400, "invalid_field", "name"},
      {"password null-ish", 'P', "POST", login, R"({"name": "admin", "password": ["x"]})", 400, "invalid_field", "password"},
      {"unknown field", 'P', "POST", login, R"({"name": "admin", "password": "x", "remember": true})", 400, "unknown_field", "remember"},
      {"bearer a string", 'P', "POST", login, R"({"name": "admin", "password": "x", "bearer": "yes"})", 400, "invalid_field", "bearer"},
      {"name too long", 'P', "POST", login, json{{"name", std::string(65, 'a')}, {"password", "x"}}.dump(), 400, "invalid_field", "name"},
      {"oversize", 'P', "POST", login, oversize_json(), 413, "body_too_large"},
      {"pw malformed", 'P', "POST", pw, "{", 400, "malformed_json"},
      {"pw not an object", 'P', "POST", pw, "[]", 400, "malformed_json"},
      {"pw missing new", 'P', "POST", pw, json{{"current_password", kAdminPassword}}.dump(), 400, "missing_field", "new_password"},
      {"pw missing current", 'P', "POST", pw, R"({"new_password": "Another-Pass-2027"})", 400, "missing_field", "current_password"},
      {"pw wrong type", 'P', "POST", pw, json{{"current_password", 5}, {"new_password", "Another-Pass-2027"}}.dump(), 400,
       "invalid_field", "current_password"},
      {"pw unknown field", 'P', "POST", pw,
       json{{"current_password", kAdminPassword}, {"new_password", "Another-Pass-2027"}, {"confirm", "x"}}.dump(), 400,
       "unknown_field", "confirm"},
      {"pw wrong current", 'P', "POST", pw, json{{"current_password", "Not-The-Password-1"}, {"new_password", "Another-Pass-2027"}}.dump(),
       400, "bad_credentials", "current_password"},
      {"pw too short", 'P', "POST", pw, json{{"current_password", kAdminPassword}, {"new_password", "Ab1-x"}}.dump(), 400,
       "password_too_short", "new_password"},
      {"pw too simple", 'P', "POST", pw, json{{"current_password", kAdminPassword}, {"new_password", "onlylowercase"}}.dump(), 400,
       "password_too_simple", "new_password"},
      {"pw holds the name", 'P', "POST", pw, json{{"current_password", kAdminPassword}, {"new_password", "My-admin-2027"}}.dump(), 400,
       "password_contains_name", "new_password"},
      {"pw unchanged", 'P', "POST", pw, json{{"current_password", kAdminPassword}, {"new_password", kAdminPassword}}.dump(), 400,
       "password_unchanged", "new_password"},
      {"pw too long", 'P', "POST", pw, json{{"current_password", kAdminPassword}, {"new_password", std::string(200, 'A')}}.dump(), 400,
       "invalid_field", "new_password"},
      {"pw oversize", 'P', "POST", pw, oversize_json(), 413, "body_too_large"},
  });
}

// Login CSRF: a form on another site can post JSON-looking text/plain to the
// sign-in, which takes no CSRF token. A browser marks such a post; scripts
// send neither Origin nor Sec-Fetch-Site.
TEST_F(ApiInputTest, SignInFromAnotherSitesPageIsRefused) {
  const std::string login = "/api/v1/session";
  const std::string body = json{{"name", "admin"}, {"password", kAdminPassword}}.dump();
  auto sign_in = [&](const std::string& type, const httplib::Headers& headers) {
    HttpClient c = p_;
    c.forget_session();
    return c.request("POST", login, body, type, headers);
  };
  for (const auto& [what, type, headers] :
       std::vector<std::tuple<std::string, std::string, httplib::Headers>>{
           {"a text/plain form", "text/plain", {{"Origin", "http://evil.example"}}},
           {"an urlencoded form", "application/x-www-form-urlencoded", {{"Origin", "null"}}},
           {"cross-site JSON", "application/json", {{"Origin", "http://evil.example"}, {"Sec-Fetch-Site", "cross-site"}}},
           {"cross-site without Origin", "application/json", {{"Sec-Fetch-Site", "cross-site"}}}}) {
    SCOPED_TRACE(what);
    HttpReply r = sign_in(type, headers);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(r.json["error"].value("code", ""), "cross_origin") << r.body;
    EXPECT_TRUE(r.header("Set-Cookie").empty()) << r.header("Set-Cookie");
  }
  // The node's own page (fetch with JSON), and a script without Origin
  // whatever its Content-Type (curl -d sends form-urlencoded), sign in.
  for (const auto& [what, type, headers] :
       std::vector<std::tuple<std::string, std::string, httplib::Headers>>{
           {"same-origin fetch", "application/json; charset=utf-8", {{"Origin", "http://127.0.0.1"}, {"Sec-Fetch-Site", "same-origin"}}},
           {"curl -d", "application/x-www-form-urlencoded", {}},
           {"a script's JSON", "application/json", {}}}) {
    SCOPED_TRACE(what);
    HttpReply r = sign_in(type, headers);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(r.header("Set-Cookie").empty());
  }
}

TEST_F(ApiInputTest, Households) {
  const std::string add = "/api/v1/households";
  const std::string patch = "/api/v1/households/{H}", move = "/api/v1/households/{H}/move";
  const std::string fresh = testing::make_id_number(441303, 19900909, 909);
  run_cases({
      {"malformed", 'P', "POST", add, "{\"village\": ", 400, "malformed_json"},
      {"not an object", 'P', "POST", add, "\"household\"", 400, "malformed_json"},
      {"a list", 'P', "POST", add, "[" + household_body(kVillage, fresh) + "]", 400, "malformed_json"},
      {"missing village", 'P', "POST", add, R"({"category": "marginal", "members": []})", 400, "invalid_argument", "village"},
      {"missing members", 'P', "POST", add, json{{"village", kVillage}, {"category", "marginal"}}.dump(), 400,
       "invalid_argument", "members"},
      {"no member", 'P', "POST", add, household_with(json::array()).dump(), 400, "invalid_argument"},
      {"members not a list", 'P', "POST", add, household_with(member(fresh)).dump(), 400, "invalid_argument", "members"},
      {"village a number", 'P', "POST", add, json{{"village", 441303001001}, {"category", "marginal"}, {"members", json::array()}}.dump(),
       400, "invalid_argument", "village"},
      {"income a string", 'P', "POST", add,
       json{{"village", kVillage}, {"category", "marginal"}, {"income_yuan", "800"}, {"members", json::array({member(fresh)})}}.dump(),
       400, "invalid_argument", "income_yuan"},
      {"member name a number", 'P', "POST", add, household_with(json::array({json{{"id_number", fresh}, {"name", 7}, {"relation", "head"}}})).dump(),
       400, "invalid_argument", "name"},
      {"member unknown field", 'P', "POST", add,
       household_with(json::array({json{{"id_number", fresh}, {"name", "周"}, {"relation", "head"}, {"age", 30}}})).dump(), 400,
       "invalid_argument", "age"},
      {"bad check digit", 'P', "POST", add, household_body(kVillage, kBadCheck), 400, "invalid_argument"},
      {"short ID number", 'P', "POST", add, household_body(kVillage, "44130319850312"), 400, "invalid_argument"},
      {"ID number born in the future", 'P', "POST", add, household_body(kVillage, testing::make_id_number(441303, 20991231, 1)), 400,
       "invalid_argument"},
      {"division code too short", 'P', "POST", add, household_body("44130300100", fresh), 400, "invalid_argument", "village"},
      {"division code not digits", 'P', "POST", add, household_body("44130300100A", fresh), 400, "invalid_argument", "village"},
      {"not a village code", 'P', "POST", add, household_body(kTownship, fresh), 400, "invalid_argument"},
      {"village not in the tree", 'P', "POST", add, household_body("441303001999", fresh), 400, "invalid_argument"},
      {"unknown category", 'P', "POST", add,
       json{{"village", kVillage}, {"category", "rich"}, {"members", json::array({member(fresh)})}}.dump(), 400, "invalid_argument"},
      {"unknown relation", 'P', "POST", add, household_with(json::array({member(fresh, "周", "boss")})).dump(), 400,
       "invalid_argument"},
      {"already registered", 'P', "POST", add, household_body(kVillage, kHead), 400, "invalid_argument"},
      // Over the record codec's limit of 4,096 bytes a text would be stored
      // and then unreadable (the node stopped at every read of the household).
      {"disability kind too long", 'P', "POST", add,
       household_with(json::array({json{{"id_number", fresh}, {"name", "周"}, {"relation", "head"},
                                        {"disability_kind", std::string(5000, 'x')}}})).dump(),
       400, "invalid_argument", "disability_kind"},
      {"disability kind just too long", 'P', "POST", add,
       household_with(json::array({json{{"id_number", fresh}, {"name", "周"}, {"relation", "head"},
                                        {"disability_kind", std::string(65, 'x')}}})).dump(),
       400, "invalid_argument", "disability_kind"},
      {"name holds an ID number", 'P', "POST", add, household_with(json::array({member(fresh, "周" + kHead)})).dump(), 400,
       "invalid_argument", "name"},
      {"disability kind holds an ID number", 'P', "POST", add,
       household_with(json::array({json{{"id_number", fresh}, {"name", "周"}, {"relation", "head"}, {"disability_kind", kHead}}})).dump(),
       400, "invalid_argument", "disability_kind"},
      // An ID number typed into the wrong field is quoted masked (run_cases
      // checks every error body for a whole one).
      {"village holds an ID number", 'P', "POST", add, household_body(kHead, fresh), 400, "invalid_argument", "village"},
      {"relation holds an ID number", 'P', "POST", add, household_with(json::array({member(fresh, "周", kHead)})).dump(), 400,
       "invalid_argument"},
      {"address holds an ID number", 'P', "POST", add,
       json{{"village", kVillage}, {"category", "marginal"}, {"address", "幸福路 1 号 " + kHead}, {"members", json::array({member(fresh)})}}
           .dump(),
       400, "invalid_argument", "address"},
      {"unknown field", 'P', "POST", add,
       json{{"village", kVillage}, {"category", "marginal"}, {"members", json::array({member(fresh)})}, {"nickname", "x"}}.dump(), 400,
       "unknown_field", "nickname"},
      {"oversize", 'P', "POST", add, oversize_json(), 413, "body_too_large"},

      {"update malformed", 'P', "PATCH", patch, "{\"phone\": 1", 400, "malformed_json"},
      {"update not an object", 'P', "PATCH", patch, "42", 400, "malformed_json"},
      {"update nothing", 'P', "PATCH", patch, "{}", 400, "invalid_argument"},
      {"update phone a number", 'P', "PATCH", patch, R"({"phone": 13800000000})", 400, "invalid_field", "phone"},
      {"update income a string", 'P', "PATCH", patch, R"({"income_yuan": "lots"})", 400, "invalid_field", "income_yuan"},
      {"update income negative", 'P', "PATCH", patch, R"({"income_yuan": -1})", 400, "invalid_field", "income_yuan"},
      {"update members not a list", 'P', "PATCH", patch, R"({"members": {}})", 400, "invalid_field", "members"},
      {"update bad check digit", 'P', "PATCH", patch, json{{"members", json::array({member(kBadCheck)})}}.dump(), 400,
       "invalid_argument"},
      {"update unknown category", 'P', "PATCH", patch, R"({"category": "rich"})", 400, "invalid_argument"},
      {"update disability kind too long", 'P', "PATCH", patch,
       json{{"members", json::array({json{{"id_number", kHead}, {"name", "周"}, {"relation", "head"},
                                          {"disability_kind", std::string(5000, 'x')}}})}}.dump(),
       400, "invalid_argument", "disability_kind"},
      {"update phone holds an ID number", 'P', "PATCH", patch, json{{"phone", kHead}}.dump(), 400, "invalid_argument", "phone"},
      {"update the village", 'P', "PATCH", patch, json{{"village", kVillage}}.dump(), 400, "unknown_field", "village"},
      {"update bad id", 'P', "PATCH", "/api/v1/households/H-12", R"({"phone": "1"})", 400, "invalid_field", "id"},
      {"update an ID number as the id", 'P', "PATCH", "/api/v1/households/" + kHead, R"({"phone": "1"})", 400, "invalid_field", "id"},
      {"update unknown household", 'P', "PATCH", "/api/v1/households/H-440000000000-999", R"({"phone": "1"})", 404, "not_found"},
      {"update oversize", 'P', "PATCH", patch, oversize_json(), 413, "body_too_large"},

      {"move malformed", 'P', "POST", move, "{\"village\"}", 400, "malformed_json"},
      {"move not an object", 'P', "POST", move, "null", 400, "malformed_json"},
      {"move missing village", 'P', "POST", move, "{}", 400, "missing_field", "village"},
      {"move village a number", 'P', "POST", move, R"({"village": 441303001002})", 400, "invalid_field", "village"},
      {"move invalid code", 'P', "POST", move, R"({"village": "4413"})", 400, "invalid_field", "village"},
      {"move not a village", 'P', "POST", move, json{{"village", kTownship}}.dump(), 400, "invalid_argument"},
      {"move not in the tree", 'P', "POST", move, R"({"village": "441303001999"})", 400, "invalid_argument"},
      {"move same village", 'P', "POST", move, json{{"village", kVillage}}.dump(), 400, "invalid_argument"},
      {"move unknown field", 'P', "POST", move, R"({"village": "441303001002", "why": "x"})", 400, "unknown_field", "why"},
      {"move bad id", 'P', "POST", "/api/v1/households/X-1/move", R"({"village": "441303001002"})", 400, "invalid_field", "id"},
      {"move oversize", 'P', "POST", move, oversize_json(), 413, "body_too_large"},

      {"person malformed", 'P', "POST", "/api/v1/persons/lookup", "{\"id_number\"", 400, "malformed_json"},
      {"person missing", 'P', "POST", "/api/v1/persons/lookup", "{}", 400, "missing_field", "id_number"},
      {"person a number", 'P', "POST", "/api/v1/persons/lookup", R"({"id_number": 441303198503121230})", 400, "invalid_field",
       "id_number"},
      {"person bad check digit", 'P', "POST", "/api/v1/persons/lookup", json{{"id_number", kBadCheck}}.dump(), 400,
       "invalid_field", "id_number"},
      {"person not a number", 'P', "POST", "/api/v1/persons/lookup", R"({"id_number": "abc"})", 400, "invalid_field", "id_number"},
      {"person too long", 'P', "POST", "/api/v1/persons/lookup", json{{"id_number", kHead + "0"}}.dump(), 400, "invalid_field",
       "id_number"},
      {"person unknown field", 'P', "POST", "/api/v1/persons/lookup", json{{"id_number", kHead}, {"name", "x"}}.dump(), 400,
       "unknown_field", "name"},
      {"person oversize", 'P', "POST", "/api/v1/persons/lookup", oversize_json(), 413, "body_too_large"},
  });
  // The digest does see a change: a valid update changes the households table.
  json before = digest('P');
  HttpReply ok = p_.patch("/api/v1/households/" + household_, json{{"phone", "13900000000"}});
  ASSERT_EQ(ok.status, 200) << ok;
  json after = digest('P');
  EXPECT_NE(after["tables"]["households"], before["tables"]["households"]);
  EXPECT_NE(after["tables"]["history"], before["tables"]["history"]);
  // null counts as absent for string and boolean fields (web/API.md §1).
  json with_nulls = household_with(json::array({json{{"id_number", fresh}, {"name", "周"}, {"relation", "head"},
                                                     {"disability_kind", nullptr}, {"major_illness", nullptr}}}));
  with_nulls["phone"] = nullptr;
  with_nulls["address"] = nullptr;
  HttpReply nulls = p_.post("/api/v1/households", with_nulls);
  EXPECT_EQ(nulls.status, 201) << nulls;
}

TEST_F(ApiInputTest, Imports) {
  const std::string header = "source_department,source_record_id,id_number,indicator,event_date\n";
  const std::string boundary = "----lifeline-input-boundary";
  const std::string wrong_part = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.csv\"\r\n\r\n" +
                                 header + "\r\n--" + boundary + "--\r\n";
  run_cases({
      {"empty", 'P', "POST", "/api/v1/imports", "", 400, "empty_file", "file", "text/csv"},
      {"unknown format", 'P', "POST", "/api/v1/imports?format=xml", header, 400, "invalid_field", "format", "text/csv"},
      {"dry_run not a boolean", 'P', "POST", "/api/v1/imports?dry_run=yes", header + "health,WJ-1," + kHead + ",birth,2026-01-02\n",
       400, "invalid_field", "dry_run", "text/csv"},
      {"no header row", 'P', "POST", "/api/v1/imports?format=csv", "\n\n", 400, "invalid_argument", "", "text/csv"},
      {"missing column", 'P', "POST", "/api/v1/imports?file_name=a.csv",
       "source_department,source_record_id,id_number\nhealth,WJ-1," + kHead + "\n", 400, "invalid_argument", "", "text/csv"},
      {"unknown column", 'P', "POST", "/api/v1/imports?file_name=a.csv",
       "source_department,source_record_id,id_number,indicator,event_date,colour\n", 400, "invalid_argument", "", "text/csv"},
      {"multipart without file", 'P', "POST", "/api/v1/imports", wrong_part, 400, "missing_field", "file",
       "multipart/form-data; boundary=" + boundary},
  });
  // A line with a bad check digit is rejected in the report (200), and
  // nothing but the audit entry of the import is written.
  json before = digest('P');
  HttpReply r = p_.post_raw("/api/v1/imports?file_name=bad.csv",
                            header + "health,WJ-BAD-1," + kBadCheck + ",birth," + shanghai_date(-3) + "\n", "text/csv");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["lines_read"], 1) << r;
  EXPECT_EQ(r.json["applied"], 0) << r;
  ASSERT_EQ(r.json["rejected"].size(), 1u) << r;
  EXPECT_EQ(r.json["rejected"][0]["line"], 2) << r;
  EXPECT_FALSE(r.json["rejected"][0].value("reason_code", "").empty()) << r;
  EXPECT_EQ(r.body.find(kBadCheck), std::string::npos) << "the report quotes the ID number whole: " << r;
  expect_unchanged('P', before, /*audited=*/true);
}

// The audit entry of an applied import keeps its file name, however long or
// malformed (cleaned and cut), and so does a refusal of a long path: before,
// the entry did not fit the audit record, or did not dump as JSON, and was
// dropped with only a log line.
TEST_F(ApiInputTest, AuditEntriesKeepLongAndMalformedTargets) {
  const std::string header = "source_department,source_record_id,id_number,indicator,event_date\n";
  const std::string d = shanghai_date(-3);
  auto audited = [](const std::string& action) {
    HttpReply r = p_.get("/api/v1/audit?action=" + action + "&limit=500");
    EXPECT_EQ(r.status, 200) << r;
    return r.json.value("entries", json::array());
  };
  const size_t imports_before = audited("events_imported").size();
  HttpReply a = p_.post_raw("/api/v1/imports?file_name=" + std::string(5000, 'a') + ".csv",
                            header + "medical_insurance,YB-AUDIT-1," + kHead + ",serious_illness," + d + "\n", "text/csv");
  ASSERT_EQ(a.status, 200) << a;
  EXPECT_EQ(a.json["applied"], 1) << a;
  HttpReply b = p_.post_raw("/api/v1/imports?file_name=%FF%0Aname.csv",
                            header + "medical_insurance,YB-AUDIT-2," + kHead + ",serious_illness," + d + "\n", "text/csv");
  ASSERT_EQ(b.status, 200) << b;
  json entries;
  ASSERT_TRUE(testing::wait_until([&] { return (entries = audited("events_imported")).size() == imports_before + 2; }, 10s, 50ms))
      << entries.dump();
  // Newest first.
  const std::string malformed = entries[0].value("target", ""), long_name = entries[1].value("target", "");
  EXPECT_EQ(malformed, "\xEF\xBF\xBD name.csv");
  EXPECT_EQ(long_name.rfind(std::string(200, 'a'), 0), 0u) << long_name;
  EXPECT_LE(long_name.size(), 256u);
  // A refusal of a long path by an account without the role is audited too.
  const size_t refused_before = audited("refused").size();
  HttpClient op = p_;
  HttpReply made = p_.post("/api/v1/users", json{{"name", "audit.op"}, {"role", "operator"}});
  ASSERT_EQ(made.status, 201) << made;
  ASSERT_TRUE(op.login_and_change("audit.op", made.json.value("one_time_password", ""), "Audit-Operator-2026"));
  HttpReply refused = op.post("/api/v1/alerts/A-440000000000-1" + std::string(4500, '0') + "/close", "{}");
  EXPECT_EQ(refused.status, 403) << refused;
  ASSERT_TRUE(testing::wait_until([&] { return (entries = audited("refused")).size() == refused_before + 1; }, 10s, 50ms))
      << entries.dump();
  EXPECT_EQ(entries[0].value("account", ""), "audit.op");
  EXPECT_LE(entries[0].value("target", "").size(), 256u);
}

TEST_F(ApiInputTest, Alerts) {
  const std::string accept = "/api/v1/alerts/{A}/accept", fb = "/api/v1/alerts/{A}/feedback", close = "/api/v1/alerts/{A}/close";
  const std::string escalate = "/api/v1/alerts/{A}/escalate";
  run_cases({
      {"accept malformed", 'P', "POST", accept, "{", 400, "malformed_json"},
      {"accept not an object", 'P', "POST", accept, "[]", 400, "malformed_json"},
      {"accept unknown field", 'P', "POST", accept, R"({"by": "someone"})", 400, "unknown_field", "by"},
      {"accept bad id", 'P', "POST", "/api/v1/alerts/A-44-x/accept", "", 400, "invalid_field", "id"},
      {"accept unknown alert", 'P', "POST", "/api/v1/alerts/A-440000000000-999/accept", "", 404, "not_found"},
      {"accept oversize", 'P', "POST", accept, oversize_json(), 413, "body_too_large"},

      {"feedback malformed", 'P', "POST", fb, "{\"visit_date\": \"2026-", 400, "malformed_json"},
      {"feedback not an object", 'P', "POST", fb, "true", 400, "malformed_json"},
      {"feedback empty", 'P', "POST", fb, "", 400, "malformed_json"},
      {"feedback missing visit_date", 'P', "POST", fb, feedback_with("visit_date", nullptr, true), 400, "missing_field", "visit_date"},
      {"feedback missing truthful", 'P', "POST", fb, feedback_with("truthful", nullptr, true), 400, "missing_field", "truthful"},
      {"feedback missing decision", 'P', "POST", fb, feedback_with("decision", nullptr, true), 400, "missing_field", "decision"},
      {"feedback bad date", 'P', "POST", fb, feedback_with("visit_date", "2026/11/23"), 400, "invalid_field", "visit_date"},
      {"feedback date a number", 'P', "POST", fb, feedback_with("visit_date", 20261123), 400, "invalid_field", "visit_date"},
      {"feedback date in the future", 'P', "POST", fb, feedback_with("visit_date", shanghai_date(3)), 400, "invalid_argument"},
      {"feedback truthful a string", 'P', "POST", fb, feedback_with("truthful", "yes"), 400, "invalid_field", "truthful"},
      {"feedback needs not a list", 'P', "POST", fb, feedback_with("needs", "health"), 400, "invalid_field", "needs"},
      {"feedback needs of numbers", 'P', "POST", fb, feedback_with("needs", json::array({1, 2})), 400, "invalid_field", "needs"},
      {"feedback unknown need", 'P', "POST", fb, feedback_with("needs", json::array({"money"})), 400, "invalid_argument"},
      {"feedback unknown method", 'P', "POST", fb, feedback_with("method", "letter"), 400, "invalid_argument"},
      {"feedback unknown decision", 'P', "POST", fb, feedback_with("decision", "maybe"), 400, "invalid_argument"},
      {"feedback referral without one", 'P', "POST", fb, feedback_with("decision", "referral"), 400, "invalid_argument"},
      {"feedback unknown field", 'P', "POST", fb, feedback_with("mood", "fine"), 400, "unknown_field", "mood"},
      {"feedback unknown alert", 'P', "POST", "/api/v1/alerts/A-440000000000-999/feedback", feedback_with("method", "phone"), 404,
       "not_found"},
      {"feedback oversize", 'P', "POST", fb, oversize_json(), 413, "body_too_large"},

      {"close malformed", 'P', "POST", close, "{{}", 400, "malformed_json"},
      {"close unknown field", 'P', "POST", close, R"({"reason": "done"})", 400, "unknown_field", "reason"},
      {"close an open alert", 'P', "POST", close, "{}", 400, "invalid_argument"},
      {"close bad id", 'P', "POST", "/api/v1/alerts/H-440000000000-1/close", "", 400, "invalid_field", "id"},
      {"close oversize", 'P', "POST", close, oversize_json(), 413, "body_too_large"},

      {"escalate malformed", 'P', "POST", escalate, "{\"note\": ", 400, "malformed_json"},
      {"escalate empty", 'P', "POST", escalate, "", 400, "malformed_json"},
      {"escalate missing note", 'P', "POST", escalate, "{}", 400, "missing_field", "note"},
      {"escalate empty note", 'P', "POST", escalate, R"({"note": ""})", 400, "missing_field", "note"},
      {"escalate note a number", 'P', "POST", escalate, R"({"note": 3})", 400, "invalid_field", "note"},
      {"escalate note too long", 'P', "POST", escalate, json{{"note", std::string(501, 'x')}}.dump(), 400, "invalid_field", "note"},
      {"escalate unknown field", 'P', "POST", escalate, R"({"note": "x", "level": 1})", 400, "unknown_field", "level"},
      {"escalate bad id", 'P', "POST", "/api/v1/alerts/P-440000000000-1/escalate", R"({"note": "x"})", 400, "invalid_field", "id"},
      {"escalate unknown alert", 'P', "POST", "/api/v1/alerts/A-440000000000-999/escalate", R"({"note": "x"})", 404, "not_found"},
      {"escalate oversize", 'P', "POST", escalate, oversize_json(), 413, "body_too_large"},
  });
}

TEST_F(ApiInputTest, Applications) {
  const std::string submit = "/api/v1/applications", decide = "/api/v1/applications/P-441303001000-1/decision";
  run_cases({
      {"malformed", 'T', "POST", submit, "{\"name\":", 400, "malformed_json"},
      {"not an object", 'T', "POST", submit, "[{}]", 400, "malformed_json"},
      {"missing name", 'T', "POST", submit, application_with("name", nullptr, true), 400, "missing_field", "name"},
      {"missing village", 'T', "POST", submit, application_with("village", nullptr, true), 400, "missing_field", "village"},
      {"name a number", 'T', "POST", submit, application_with("name", 5), 400, "invalid_field", "name"},
      {"id_number a number", 'T', "POST", submit, application_with("id_number", 441303196606066160), 400, "invalid_field", "id_number"},
      {"needs not a list", 'T', "POST", submit, application_with("needs", "basic_living"), 400, "invalid_field", "needs"},
      {"needs of numbers", 'T', "POST", submit, application_with("needs", json::array({1})), 400, "invalid_field", "needs"},
      {"bad check digit", 'T', "POST", submit, application_with("id_number", kBadCheck), 400, "invalid_argument"},
      {"invalid village code", 'T', "POST", submit, application_with("village", "12345"), 400, "invalid_argument"},
      {"village of this node", 'T', "POST", submit, application_with("village", kVillage), 400, "invalid_argument"},
      {"not a village", 'T', "POST", submit, application_with("village", "441303108000"), 400, "invalid_argument"},
      {"unknown field", 'T', "POST", submit, application_with("urgent", true), 400, "unknown_field", "urgent"},
      // An application's texts are listed whole (GET /api/v1/applications).
      {"phone holds an ID number", 'T', "POST", submit, application_with("phone", kHead), 400, "invalid_argument", "phone"},
      {"a need holds an ID number", 'T', "POST", submit, application_with("needs", json::array({"basic_living", "家属" + kHead})), 400,
       "invalid_argument", "needs"},
      {"name holds an ID number", 'T', "POST", submit, application_with("name", "吴" + kHead), 400, "invalid_argument", "name"},
      {"oversize", 'T', "POST", submit, oversize_json(), 413, "body_too_large"},
      {"at a province", 'P', "POST", submit, application_with("name", "吴测试"), 403, "forbidden"},

      {"decision malformed", 'T', "POST", decide, "{\"status\"", 400, "malformed_json"},
      {"decision not an object", 'T', "POST", decide, "\"accepted\"", 400, "malformed_json"},
      {"decision missing status", 'T', "POST", decide, R"({"note": "x"})", 400, "missing_field", "status"},
      {"decision unknown status", 'T', "POST", decide, R"({"status": "maybe"})", 400, "invalid_argument"},
      {"decision note a number", 'T', "POST", decide, R"({"status": "accepted", "note": 1})", 400, "invalid_field", "note"},
      {"decision unknown field", 'T', "POST", decide, R"({"status": "accepted", "by": "x"})", 400, "unknown_field", "by"},
      {"decision bad id", 'T', "POST", "/api/v1/applications/A-441303001000-1/decision", R"({"status": "accepted"})", 400,
       "invalid_argument"},
      {"decision unknown application", 'T', "POST", decide, R"({"status": "accepted"})", 404, "not_found"},
      {"decision oversize", 'T', "POST", decide, oversize_json(), 413, "body_too_large"},
  });
}

TEST_F(ApiInputTest, PolicyAndStandards) {
  const std::string policy = "/api/v1/policy", standards = "/api/v1/policy/standards";
  run_cases({
      {"malformed", 'P', "PUT", policy, "{\"version\": 2,", 400, "malformed_json"},
      {"not an object", 'P', "PUT", policy, "[2]", 400, "malformed_json"},
      {"empty object", 'P', "PUT", policy, "{}", 400, "invalid_argument"},
      {"version a string", 'P', "PUT", policy, policy_with("version", "two"), 400, "invalid_argument"},
      {"version not newer", 'P', "PUT", policy, policy_with("version", 1), 400, "invalid_argument"},
      {"unknown field", 'P', "PUT", policy, policy_with("colour", "red"), 400, "invalid_argument"},
      {"indicators not a list", 'P', "PUT", policy, policy_with("indicators", "none"), 400, "invalid_argument"},
      {"oversize", 'P', "PUT", policy, oversize_json(), 413, "body_too_large"},
      {"at a township", 'T', "PUT", policy, testing::policy_version(2), 403, "forbidden"},

      {"standards malformed", 'P', "PUT", standards, "{\"441303000000\": ", 400, "malformed_json"},
      {"standards not an object", 'P', "PUT", standards, "[]", 400, "malformed_json"},
      {"standards empty", 'P', "PUT", standards, "{}", 400, "invalid_argument"},
      {"standards not a county", 'P', "PUT", standards, R"({"441303001001": {"urban_yuan": 1000, "rural_yuan": 800}})", 400,
       "invalid_argument"},
      {"standards invalid code", 'P', "PUT", standards, R"({"4413": {"urban_yuan": 1000, "rural_yuan": 800}})", 400,
       "invalid_argument"},
      {"standards county not in the tree", 'P', "PUT", standards, R"({"441399000000": {"urban_yuan": 1000, "rural_yuan": 800}})",
       400, "invalid_argument"},
      {"standards negative", 'P', "PUT", standards, R"({"441303000000": {"urban_yuan": -1, "rural_yuan": 800}})", 400,
       "invalid_argument"},
      {"standards a string", 'P', "PUT", standards, R"({"441303000000": {"urban_yuan": "1000", "rural_yuan": 800}})", 400,
       "invalid_argument"},
      {"standards missing rural", 'P', "PUT", standards, R"({"441303000000": {"urban_yuan": 1000}})", 400, "invalid_argument"},
      {"standards unknown key", 'P', "PUT", standards,
       R"({"441303000000": {"urban_yuan": 1000, "rural_yuan": 800, "currency": "CNY"}})", 400, "invalid_argument"},
      {"standards under a fen", 'P', "PUT", standards, R"({"441303000000": {"urban_yuan": 0.004, "rural_yuan": 800}})", 400,
       "invalid_argument"},
      {"standards three decimals", 'P', "PUT", standards, R"({"441303000000": {"urban_yuan": 1000, "rural_yuan": 1000.555}})", 400,
       "invalid_argument"},
      {"standards illustrative a string", 'P', "PUT", standards,
       R"({"441303000000": {"urban_yuan": 1000, "rural_yuan": 800, "illustrative": "yes"}})", 400, "invalid_argument"},
      {"standards illustrative null", 'P', "PUT", standards,
       R"({"441303000000": {"urban_yuan": 1000, "rural_yuan": 800, "illustrative": null}})", 400, "invalid_argument"},
      {"standards oversize", 'P', "PUT", standards, oversize_json(), 413, "body_too_large"},
      {"standards at a township", 'T', "PUT", standards, R"({"441303000000": {"urban_yuan": 1000, "rural_yuan": 800}})", 403,
       "forbidden"},
  });
}

TEST_F(ApiInputTest, Users) {
  const std::string users = "/api/v1/users";
  run_cases({
      {"malformed", 'P', "POST", users, "{\"name\": \"li\"", 400, "malformed_json"},
      {"not an object", 'P', "POST", users, "1", 400, "malformed_json"},
      {"missing name", 'P', "POST", users, R"({"role": "operator"})", 400, "missing_field", "name"},
      {"missing role", 'P', "POST", users, R"({"name": "li.ming"})", 400, "missing_field", "role"},
      {"name with a space", 'P', "POST", users, R"({"name": "Li Ming", "role": "operator"})", 400, "account_name_chars", "name"},
      {"name too short", 'P', "POST", users, R"({"name": "li", "role": "operator"})", 400, "account_name_length", "name"},
      {"name a number", 'P', "POST", users, R"({"name": 7, "role": "operator"})", 400, "invalid_field", "name"},
      {"unknown role", 'P', "POST", users, R"({"name": "li.ming", "role": "root"})", 400, "invalid_field", "role"},
      {"role a list", 'P', "POST", users, R"({"name": "li.ming", "role": ["admin"]})", 400, "invalid_field", "role"},
      {"invalid jurisdiction", 'P', "POST", users, R"({"name": "li.ming", "role": "operator", "jurisdiction": "4413"})", 400,
       "invalid_field", "jurisdiction"},
      {"jurisdiction a number", 'P', "POST", users, R"({"name": "li.ming", "role": "operator", "jurisdiction": 441300000000})", 400,
       "invalid_field", "jurisdiction"},
      {"jurisdiction outside", 'P', "POST", users, R"({"name": "li.ming", "role": "operator", "jurisdiction": "450000000000"})", 403,
       "forbidden"},
      {"unknown field", 'P', "POST", users, R"({"name": "li.ming", "role": "operator", "password": "x"})", 400, "unknown_field",
       "password"},
      // An account name is shown whole (alerts' history, the account list,
      // the audit log): 18 digits pass the name's character rule, but no ID
      // number may be or be in a name.
      {"name an ID number", 'P', "POST", users, json{{"name", kHead}, {"role", "operator"}}.dump(), 400, "invalid_argument",
       "name"},
      {"name holds an ID number", 'P', "POST", users, json{{"name", "op." + kLowerX}, {"role", "operator"}}.dump(), 400,
       "invalid_argument", "name"},
      {"existing name", 'P', "POST", users, R"({"name": "admin", "role": "operator"})", 409, "account_exists", "name"},
      {"oversize", 'P', "POST", users, oversize_json(), 413, "body_too_large"},

      {"update malformed", 'P', "PATCH", users + "/admin", "{\"role\"", 400, "malformed_json"},
      {"update not an object", 'P', "PATCH", users + "/admin", "[]", 400, "malformed_json"},
      {"update nothing", 'P', "PATCH", users + "/admin", "{}", 400, "nothing_to_change"},
      {"update unknown role", 'P', "PATCH", users + "/admin", R"({"role": "root"})", 400, "invalid_field", "role"},
      {"update disabled a string", 'P', "PATCH", users + "/admin", R"({"disabled": "yes"})", 400, "invalid_field", "disabled"},
      {"update reset a number", 'P', "PATCH", users + "/admin", R"({"reset_password": 1})", 400, "invalid_field", "reset_password"},
      {"update unknown field", 'P', "PATCH", users + "/admin", R"({"jurisdiction": "441300000000"})", 400, "unknown_field",
       "jurisdiction"},
      {"update self lockout", 'P', "PATCH", users + "/admin", R"({"disabled": true})", 400, "self_lockout"},
      {"update self demotion", 'P', "PATCH", users + "/admin", R"({"role": "operator"})", 400, "self_lockout"},
      {"update unknown account", 'P', "PATCH", users + "/nobody", R"({"disabled": true})", 404, "not_found"},
      {"update oversize", 'P', "PATCH", users + "/admin", oversize_json(), 413, "body_too_large"},
  });
}

TEST_F(ApiInputTest, ListQueryParameters) {
  run_cases({
      {"level 0", 'P', "GET", "/api/v1/alerts?level=0", "", 400, "invalid_field", "level"},
      {"level 9", 'P', "GET", "/api/v1/alerts?level=9", "", 400, "invalid_field", "level"},
      {"level 12", 'P', "GET", "/api/v1/alerts?level=12", "", 400, "invalid_field", "level"},
      {"level a word", 'P', "GET", "/api/v1/alerts?level=red", "", 400, "invalid_field", "level"},
      {"state unknown", 'P', "GET", "/api/v1/alerts?state=open", "", 400, "invalid_field", "state"},
      {"state empty", 'P', "GET", "/api/v1/alerts?state=", "", 400, "invalid_field", "state"},
      {"limit 0", 'P', "GET", "/api/v1/alerts?limit=0", "", 400, "invalid_field", "limit"},
      {"limit 501", 'P', "GET", "/api/v1/alerts?limit=501", "", 400, "invalid_field", "limit"},
      {"limit negative", 'P', "GET", "/api/v1/households?limit=-1", "", 400, "invalid_field", "limit"},
      {"limit huge", 'P', "GET", "/api/v1/households?limit=99999999999999999999", "", 400, "invalid_field", "limit"},
      {"limit a word", 'P', "GET", "/api/v1/audit?limit=all", "", 400, "invalid_field", "limit"},
      {"cursor odd length", 'P', "GET", "/api/v1/alerts?cursor=abc", "", 400, "invalid_field", "cursor"},
      {"cursor not hex", 'P', "GET", "/api/v1/households?cursor=zz", "", 400, "invalid_field", "cursor"},
      {"cursor too long", 'P', "GET", "/api/v1/audit?cursor=" + std::string(300, 'a'), "", 400, "invalid_field", "cursor"},
      {"within not a code", 'P', "GET", "/api/v1/alerts?within=4413", "", 400, "invalid_field", "within"},
      {"within letters", 'P', "GET", "/api/v1/households?within=abcdefghijkl", "", 400, "invalid_field", "within"},
      {"within outside", 'P', "GET", "/api/v1/households?within=450000000000", "", 403, "forbidden"},
      {"due_before bad month", 'P', "GET", "/api/v1/alerts?due_before=2026-13-01", "", 400, "invalid_field", "due_before"},
      {"due_before not a date", 'P', "GET", "/api/v1/alerts?due_before=tomorrow", "", 400, "invalid_field", "due_before"},
      {"open not a flag", 'P', "GET", "/api/v1/alerts?open=maybe", "", 400, "invalid_field", "open"},
      {"overdue not a flag", 'P', "GET", "/api/v1/alerts?overdue=2", "", 400, "invalid_field", "overdue"},
      {"escalated not a flag", 'P', "GET", "/api/v1/alerts?escalated=yes", "", 400, "invalid_field", "escalated"},
      {"open_alert not a flag", 'P', "GET", "/api/v1/households?open_alert=yes", "", 400, "invalid_field", "open_alert"},
      {"category too long", 'P', "GET", "/api/v1/households?category=" + std::string(65, 'c'), "", 400, "invalid_field", "category"},
      {"conflicts within not a code", 'P', "GET", "/api/v1/persons/conflicts?within=44", "", 400, "invalid_field", "within"},
      {"conflicts within outside", 'T', "GET", "/api/v1/persons/conflicts?within=441303002000", "", 403, "forbidden"},
      {"conflicts limit 0", 'P', "GET", "/api/v1/persons/conflicts?limit=0", "", 400, "invalid_field", "limit"},
      {"conflicts cursor not hex", 'P', "GET", "/api/v1/persons/conflicts?cursor=zz", "", 400, "invalid_field", "cursor"},
      {"audit node invalid", 'P', "GET", "/api/v1/audit?node=12", "", 400, "invalid_field", "node"},
      {"audit filter too long", 'P', "GET", "/api/v1/audit?action=" + std::string(65, 'x'), "", 400, "invalid_field"},
      {"alert bad id", 'P', "GET", "/api/v1/alerts/A-1", "", 400, "invalid_field", "id"},
      {"alert unknown", 'P', "GET", "/api/v1/alerts/A-440000000000-999", "", 404, "not_found"},
      {"household unknown", 'P', "GET", "/api/v1/households/H-440000000000-999", "", 404, "not_found"},
      {"no such endpoint", 'P', "GET", "/api/v1/nothing", "", 404, "no_such_endpoint"},
  });
}

}  // namespace
}  // namespace lifeline
