// The HTTP API of a real `lifeline run` process over loopback: signing in
// (one-time passwords, the password policy, sign-out), roles, jurisdictions,
// the sign-in limiter and CSRF for cookie sessions. One township node (the
// root of its own network, 441303001000) serves every test of this file;
// each test makes the accounts it needs, so they run in any order and alone.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <memory>
#include <set>
#include <string>

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

const std::string kTownship = "441303001000";                              // 淡水街道
const std::string kVillageA = "441303001001", kVillageB = "441303001002";  // two of its villages
const std::string kElsewhere = "441303108201";                             // a village under 永湖镇
const std::string kAdminPassword = "Township-Boss-2026";
const std::string kStaffPassword = "Staff-Pass-2026";  // every other account's, once changed
constexpr auto kPatience = 10s;
constexpr auto kPoll = 50ms;

std::string divisions() { return std::string(LIFELINE_SHARED_DATA) + "/huizhou_divisions.csv"; }

// Checks the error shape of a refusal: status, code, both messages, and the field when given.
void expect_refusal(const HttpReply& r, int status, const std::string& code, const std::string& field = "") {
  EXPECT_EQ(r.status, status) << r;
  ASSERT_TRUE(r.json.is_object() && r.json.contains("error")) << r;
  const json& e = r.json["error"];
  EXPECT_EQ(e.value("code", ""), code) << r;
  EXPECT_FALSE(e.value("message", "").empty()) << r;
  EXPECT_FALSE(e.value("message_en", "").empty()) << r;
  if (!field.empty()) {
    EXPECT_EQ(e.value("field", ""), field) << r;
  }
}

// A one-member household of village headed by a synthetic person (n-th of this file).
json household(const std::string& village, uint32_t n, const std::string& name = "陈测试") {
  return json{{"village", village},
              {"category", "marginal"},
              {"members", json::array({json{{"id_number", testing::make_id_number(441303, 19800101 + n, 100 + n)},
                                            {"name", name},
                                            {"relation", "head"}}})}};
}

class ApiSessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    int base = testing::test_base_port(1);
    net_ = std::make_unique<LocalNetwork>(LIFELINE_BIN, divisions(), kTownship, kTownship, base, true, base + 5);
    if (!net_->ok()) return;
    net_->start(kTownship);
    admin_ = testing::node_client(net_->node_dir(kTownship), kTownship);
    if (!testing::wait_until([] { return admin_.get("/api/v1/session").status == 401; }, 20s, kPoll)) return;
    ready_ = admin_.login_and_change("admin", testing::first_admin_password(net_->node_dir(kTownship)), kAdminPassword);
  }
  static void TearDownTestSuite() {
    if (net_) net_->stop_all();
    net_.reset();
  }
  void SetUp() override { ASSERT_TRUE(ready_) << (net_ ? net_->init_output() : "no network"); }

  // A client of the node without a session.
  static HttpClient anonymous() { return HttpClient(admin_.host(), admin_.port()); }

  // Creates an account (as the admin) and returns its one-time password.
  static std::string create_user(const std::string& name, const std::string& role, const std::string& jurisdiction = "") {
    json body{{"name", name}, {"role", role}};
    if (!jurisdiction.empty()) body["jurisdiction"] = jurisdiction;
    HttpReply r = admin_.post("/api/v1/users", body);
    EXPECT_EQ(r.status, 201) << r;
    EXPECT_EQ(r.json.value("must_change_password", false), true) << r;
    EXPECT_EQ(r.json.value("role", ""), role) << r;
    return r.json.value("one_time_password", "");
  }
  // Creates an account and signs it in with its own password.
  static HttpClient signed_in_user(const std::string& name, const std::string& role, const std::string& jurisdiction = "") {
    std::string otp = create_user(name, role, jurisdiction);
    HttpClient c = anonymous();
    EXPECT_TRUE(c.login_and_change(name, otp, kStaffPassword));
    return c;
  }
  // The audit entries of the node matching query (e.g. "account=x&action=refused"), as the admin.
  static json audit(const std::string& query) {
    HttpReply r = admin_.get("/api/v1/audit?" + query);
    return r.status == 200 ? r.json["entries"] : json::array();
  }

  static inline std::unique_ptr<LocalNetwork> net_;
  static inline HttpClient admin_;
  static inline bool ready_ = false;
};

TEST_F(ApiSessionTest, OneTimePasswordMustBeChangedThenSignOutEndsTheSession) {
  std::string otp = create_user("clerk.chen", "operator");
  ASSERT_FALSE(otp.empty());
  HttpClient c = anonymous();

  expect_refusal(c.login("clerk.chen", otp + "x"), 401, "bad_credentials");
  expect_refusal(c.login("nobody.here", otp), 401, "bad_credentials");  // the same answer for a missing account
  expect_refusal(c.get("/api/v1/session"), 401, "unauthenticated");

  HttpReply in = c.login("clerk.chen", otp);
  ASSERT_EQ(in.status, 200) << in;
  EXPECT_EQ(in.json["account"], "clerk.chen");
  EXPECT_EQ(in.json["role"], "operator");
  EXPECT_EQ(in.json["jurisdiction"], kTownship);
  EXPECT_EQ(in.json["must_change_password"], true);
  EXPECT_EQ(in.json["token"].get<std::string>().size(), 64u) << in;
  EXPECT_FALSE(in.json["csrf_token"].get<std::string>().empty());
  std::string cookie = in.header("Set-Cookie");
  EXPECT_NE(cookie.find("lifeline_session=" + in.json["token"].get<std::string>()), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;

  // Until the one-time password is changed only the session endpoints answer.
  HttpReply me = c.get("/api/v1/session");
  ASSERT_EQ(me.status, 200) << me;
  EXPECT_EQ(me.json["must_change_password"], true);
  EXPECT_FALSE(me.json.contains("token")) << "the token is shown only at sign-in";
  for (const char* path : {"/api/v1/households", "/api/v1/alerts", "/api/v1/node"})
    expect_refusal(c.get(path), 403, "password_change_required");
  expect_refusal(c.post("/api/v1/households", household(kVillageA, 1)), 403, "password_change_required");

  // The policy refuses a short password, naming the field; a wrong current password is refused too.
  expect_refusal(c.post("/api/v1/session/password", json{{"current_password", otp}, {"new_password", "Short1"}}), 400,
                 "password_too_short", "new_password");
  expect_refusal(c.post("/api/v1/session/password", json{{"current_password", otp}, {"new_password", "alllowercaseletters"}}),
                 400, "password_too_simple", "new_password");
  expect_refusal(c.post("/api/v1/session/password",
                        json{{"current_password", "Wrong-Password-1"}, {"new_password", "Good-Password-2026"}}),
                 400, "bad_credentials", "current_password");
  HttpReply changed = c.post("/api/v1/session/password", json{{"current_password", otp}, {"new_password", "Good-Password-2026"}});
  ASSERT_EQ(changed.status, 200) << changed;
  EXPECT_EQ(changed.json["password_changed"], true);

  // The same session now works.
  me = c.get("/api/v1/session");
  EXPECT_EQ(me.json["must_change_password"], false) << me;
  EXPECT_EQ(c.get("/api/v1/households").status, 200);
  HttpReply node = c.get("/api/v1/node");
  EXPECT_EQ(node.json.value("code", ""), kTownship);
  // The default calendar holds the notices of 2024 to 2026; whether it covers
  // the next 60 days depends on today.
  const node::Date today = node::shanghai_date(runtime::system_now().wall_us);
  EXPECT_EQ(node.json["calendar"]["first_year"], 2024) << node;
  EXPECT_EQ(node.json["calendar"]["last_year"], 2026) << node;
  EXPECT_EQ(node.json["calendar"]["covers_next_60_days"], node::add_days(today, 60) <= 20261231) << node;

  // The one-time password is gone; the new one signs in.
  expect_refusal(anonymous().login("clerk.chen", otp), 401, "bad_credentials");
  HttpClient second = anonymous();
  HttpReply again = second.login("clerk.chen", "Good-Password-2026");
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.json["must_change_password"], false);

  // Signing out ends that session only.
  HttpReply out = second.del("/api/v1/session");
  ASSERT_EQ(out.status, 200) << out;
  EXPECT_EQ(out.json["signed_out"], true);
  expect_refusal(second.get("/api/v1/session"), 401, "unauthenticated");
  expect_refusal(second.get("/api/v1/households"), 401, "unauthenticated");
  EXPECT_EQ(c.get("/api/v1/session").status, 200);

  // Sign-ins, failures and the password change are in the audit log.
  EXPECT_TRUE(testing::wait_until([&] {
    json e = audit("account=clerk.chen");
    bool failed = false, ok = false, changed_pw = false, logout = false;
    for (const json& x : e) {
      failed = failed || (x["action"] == "login" && x["outcome"] == "failed");
      ok = ok || (x["action"] == "login" && x["outcome"] == "ok");
      changed_pw = changed_pw || x["action"] == "password_changed";
      logout = logout || x["action"] == "logout";
    }
    return failed && ok && changed_pw && logout;
  }, kPatience, kPoll)) << audit("account=clerk.chen");
}

TEST_F(ApiSessionTest, RolesAreEnforcedAndEveryRefusalIsAudited) {
  HttpClient op = signed_in_user("op.wang", "operator");
  HttpClient sup = signed_in_user("sup.li", "supervisor");

  // An operator may not close an alert, read the audit log or create accounts.
  expect_refusal(op.post_raw("/api/v1/alerts/A-" + kTownship + "-1/close", ""), 403, "role");
  expect_refusal(op.get("/api/v1/audit"), 403, "role");
  expect_refusal(op.post("/api/v1/users", json{{"name", "op.zhao"}, {"role", "operator"}}), 403, "role");
  expect_refusal(op.get("/api/v1/users"), 403, "role");
  expect_refusal(op.put("/api/v1/policy", json::object()), 403, "role");
  // ...but does an operator's work.
  EXPECT_EQ(op.get("/api/v1/alerts").status, 200);
  EXPECT_EQ(op.get("/api/v1/households").status, 200);

  // A supervisor reads the audit log and the accounts, but creates none.
  HttpReply users = sup.get("/api/v1/users");
  ASSERT_EQ(users.status, 200) << users;
  EXPECT_EQ(users.body.find("password_hash"), std::string::npos) << users;
  expect_refusal(sup.post("/api/v1/users", json{{"name", "op.zhao"}, {"role", "operator"}}), 403, "role");
  expect_refusal(sup.patch("/api/v1/users/op.wang", json{{"disabled", true}}), 403, "role");

  // Each refusal is in the audit log, as "refused" with the caller and the path.
  json refused;
  ASSERT_TRUE(testing::wait_until([&] {
    HttpReply r = sup.get("/api/v1/audit?account=op.wang&action=refused");
    if (r.status != 200) return false;
    refused = r.json["entries"];
    return refused.size() >= 5;
  }, kPatience, kPoll)) << refused;
  EXPECT_EQ(refused.size(), 5u) << refused;
  std::set<std::string> targets;
  for (const json& e : refused) {
    targets.insert(e.value("target", ""));
    EXPECT_EQ(e["outcome"], "403") << e;
    EXPECT_EQ(e["role"], "operator") << e;
    EXPECT_EQ(e["address"], "127.0.0.1") << e;
    EXPECT_EQ(e["node"], kTownship) << e;
    EXPECT_NE(e.value("detail", "").find("role"), std::string::npos) << e;
  }
  EXPECT_EQ(targets, (std::set<std::string>{"/api/v1/alerts/A-" + kTownship + "-1/close", "/api/v1/audit",
                                             "/api/v1/users", "/api/v1/policy"}));
  EXPECT_TRUE(testing::wait_until([&] { return audit("account=sup.li&action=refused").size() == 2; }, kPatience, kPoll))
      << audit("account=sup.li&action=refused");

  // An admin's change of role ends the account's sessions.
  HttpReply promoted = admin_.patch("/api/v1/users/op.wang", json{{"role", "supervisor"}});
  ASSERT_EQ(promoted.status, 200) << promoted;
  EXPECT_EQ(promoted.json["role"], "supervisor");
  expect_refusal(op.get("/api/v1/alerts"), 401, "unauthenticated");
  ASSERT_EQ(op.login("op.wang", kStaffPassword).status, 200);
  EXPECT_EQ(op.get("/api/v1/audit").status, 200);
}

TEST_F(ApiSessionTest, AnAccountSeesOnlyItsJurisdiction) {
  // A household in village B, registered by the node's admin.
  HttpReply reg = admin_.post("/api/v1/households", household(kVillageB, 2, "钱测试"));
  ASSERT_EQ(reg.status, 201) << reg;
  const std::string hh_b = reg.json["household"];
  HttpReply reg_a = admin_.post("/api/v1/households", household(kVillageA, 3, "孙测试"));
  ASSERT_EQ(reg_a.status, 201) << reg_a;
  const std::string hh_a = reg_a.json["household"];

  // An operator of village A.
  HttpClient op = signed_in_user("op.village.a", "operator", kVillageA);
  EXPECT_EQ(op.get("/api/v1/session").json.value("jurisdiction", ""), kVillageA);

  expect_refusal(op.get("/api/v1/households/" + hh_b), 403, "forbidden");
  HttpReply own = op.get("/api/v1/households/" + hh_a);
  EXPECT_EQ(own.status, 200) << own;
  expect_refusal(op.get("/api/v1/households?within=" + kVillageB), 403, "forbidden");
  expect_refusal(op.get("/api/v1/households?within=" + kTownship), 403, "forbidden");
  expect_refusal(op.get("/api/v1/alerts?within=" + kVillageB), 403, "forbidden");
  expect_refusal(op.post("/api/v1/households", household(kVillageB, 4)), 403, "forbidden");
  // Its lists hold its village only.
  HttpReply list = op.get("/api/v1/households");
  ASSERT_EQ(list.status, 200) << list;
  EXPECT_NE(list.body.find(hh_a), std::string::npos) << list;
  EXPECT_EQ(list.body.find(hh_b), std::string::npos) << list;
  EXPECT_EQ(op.get("/api/v1/households?within=" + kVillageA).status, 200);

  // The node's admin sees both, but not a village outside the node.
  EXPECT_EQ(admin_.get("/api/v1/households/" + hh_b).status, 200);
  expect_refusal(admin_.post("/api/v1/households", household(kElsewhere, 5)), 403, "forbidden");
  expect_refusal(admin_.get("/api/v1/households?within=" + kElsewhere), 403, "forbidden");
  expect_refusal(admin_.post("/api/v1/users", json{{"name", "op.far"}, {"role", "operator"}, {"jurisdiction", kElsewhere}}),
                 403, "forbidden");

  // The refused case view is audited with the account and the household.
  json refused;
  ASSERT_TRUE(testing::wait_until([&] {
    refused = audit("account=op.village.a&action=refused");
    return refused.size() >= 5;
  }, kPatience, kPoll)) << refused;
  bool case_refused = false;
  for (const json& e : refused) case_refused = case_refused || e["target"] == "/api/v1/households/" + hh_b;
  EXPECT_TRUE(case_refused) << refused;
  // No case_viewed entry for it, one for the household shown.
  EXPECT_TRUE(audit("account=op.village.a&action=case_viewed&target=" + hh_b).empty());
  EXPECT_EQ(audit("account=op.village.a&action=case_viewed&target=" + hh_a).size(), 1u);
}

// Registering a person who is already in a household names that household
// only to an account whose jurisdiction holds it: POST /persons/lookup
// refuses the question outside it, and a registration (or an update adding
// the person) must not answer it instead. Such a refusal is audited as a
// lookup.
TEST_F(ApiSessionTest, ARegisteredPersonsHouseholdIsNamedOnlyWithinTheJurisdiction) {
  HttpReply reg_b = admin_.post("/api/v1/households", household(kVillageB, 7, "冯测试"));
  ASSERT_EQ(reg_b.status, 201) << reg_b;
  const std::string hh_b = reg_b.json["household"];
  const std::string number_b = testing::make_id_number(441303, 19800101 + 7, 100 + 7);
  const std::string masked_b = number_b.substr(0, 4) + std::string(10, '*') + number_b.substr(14);
  auto with_spouse = [](json h, const std::string& number) {
    h["members"].push_back(json{{"id_number", number}, {"name", "卫测试"}, {"relation", "spouse"}});
    return h;
  };
  HttpClient op = signed_in_user("op.register.a", "operator", kVillageA);

  // Outside the account's jurisdiction: 409, no household named.
  HttpReply r = op.post("/api/v1/households", with_spouse(household(kVillageA, 8, "褚测试"), number_b));
  expect_refusal(r, 409, "registered_elsewhere", "members");
  EXPECT_EQ(r.body.find("H-"), std::string::npos) << r;
  EXPECT_NE(r.body.find(masked_b), std::string::npos) << r;
  HttpReply own = op.post("/api/v1/households", household(kVillageA, 8, "褚测试"));
  ASSERT_EQ(own.status, 201) << own;
  const std::string hh_a = own.json["household"];
  json members = json::array({household(kVillageA, 8, "褚测试")["members"][0],
                              json{{"id_number", number_b}, {"name", "卫测试"}, {"relation", "spouse"}}});
  HttpReply p = op.patch("/api/v1/households/" + hh_a, json{{"members", members}});
  expect_refusal(p, 409, "registered_elsewhere", "members");
  EXPECT_EQ(p.body.find("H-"), std::string::npos) << p;
  json lookups;
  ASSERT_TRUE(testing::wait_until([&] { return (lookups = audit("account=op.register.a&action=person_lookup")).size() == 2; },
                                  kPatience, kPoll))
      << lookups;
  for (const json& e : lookups) {
    EXPECT_EQ(e.value("target", ""), masked_b) << e;
    EXPECT_EQ(e.value("outcome", ""), "registered_elsewhere") << e;
    EXPECT_EQ(e.dump().find("H-"), std::string::npos) << e;
  }

  // Within it, the household is named (400, as before).
  const std::string number_a = testing::make_id_number(441303, 19800101 + 8, 100 + 8);
  HttpReply named = op.post("/api/v1/households", with_spouse(household(kVillageA, 9, "蒋测试"), number_a));
  expect_refusal(named, 400, "invalid_argument");
  EXPECT_NE(named.body.find(hh_a), std::string::npos) << named;
  HttpReply by_admin = admin_.post("/api/v1/households", with_spouse(household(kVillageA, 9, "蒋测试"), number_b));
  expect_refusal(by_admin, 400, "invalid_argument");
  EXPECT_NE(by_admin.body.find(hh_b), std::string::npos) << by_admin;
  EXPECT_EQ(audit("account=op.register.a&action=person_lookup").size(), 2u);
}

TEST_F(ApiSessionTest, AVillagesAccountAtTheTownshipNodeFindsWhatItDid) {
  // The villages here run no node of their own: their operators work at the
  // township's node, each within its village.
  HttpClient op = signed_in_user("op.taker.a", "supervisor", kVillageA);
  HttpClient other = signed_in_user("op.other.b", "supervisor", kVillageB);
  json app{{"village", kElsewhere}, {"name", "周测试"}, {"id_number", testing::make_id_number(441303, 19750505, 55)},
           {"reason", "合成示例：异地务工"}};
  HttpReply taken = op.post("/api/v1/applications", app);
  ASSERT_EQ(taken.status, 201) << taken;
  const std::string id = taken.json["id"];
  // The taker's account finds the application it took (by taken_for); the
  // other village's account does not; the node's admin does.
  auto lists = [](HttpClient& c, const std::string& app_id) {
    HttpReply r = c.get("/api/v1/applications");
    EXPECT_EQ(r.status, 200) << r;
    return r.body.find(app_id) != std::string::npos;
  };
  EXPECT_TRUE(lists(op, id));
  EXPECT_FALSE(lists(other, id));
  EXPECT_TRUE(lists(admin_, id));
  HttpReply mine = op.get("/api/v1/applications");
  ASSERT_EQ(mine.status, 200) << mine;
  for (const json& a : mine.json["applications"]) {
    if (a.value("id", "") == id) {
      EXPECT_EQ(a.value("taken_at", ""), kTownship);
      EXPECT_EQ(a.value("taken_for", ""), kVillageA);
    }
  }
  // Its audit entries, made at the township's node, are listed to it by the
  // jurisdiction of the acting account; the other village's are not.
  (void)op.get("/api/v1/households");
  auto actions_of = [](HttpClient& c, const std::string& account) {
    HttpReply r = c.get("/api/v1/audit?account=" + account);
    EXPECT_EQ(r.status, 200) << r;
    std::set<std::string> out;
    if (r.status == 200) {
      for (const json& e : r.json["entries"]) out.insert(e.value("action", ""));
    }
    return out;
  };
  ASSERT_TRUE(testing::wait_until([&] { return actions_of(op, "op.taker.a").count("application_taken") == 1; }, kPatience, kPoll))
      << op.get("/api/v1/audit");
  json entry = audit("account=op.taker.a&action=application_taken");
  ASSERT_EQ(entry.size(), 1u) << entry;
  EXPECT_EQ(entry[0].value("node", ""), kTownship);
  EXPECT_EQ(entry[0].value("jurisdiction", ""), kVillageA);
  EXPECT_TRUE(actions_of(other, "op.taker.a").empty());
  EXPECT_TRUE(actions_of(op, "admin").empty());
}

TEST_F(ApiSessionTest, FiveWrongPasswordsLockTheAccount) {
  std::string otp = create_user("guard.xu", "operator");
  ASSERT_FALSE(otp.empty());
  for (int i = 0; i < 5; ++i) expect_refusal(anonymous().login("guard.xu", "Wrong-Guess-" + std::to_string(i)), 401, "bad_credentials");
  // The sixth attempt is refused without checking, even with the right password.
  HttpReply locked = anonymous().login("guard.xu", otp);
  expect_refusal(locked, 429, "too_many_attempts");
  std::string retry = locked.header("Retry-After");
  ASSERT_FALSE(retry.empty()) << locked;
  int seconds = std::stoi(retry);
  EXPECT_GT(seconds, 0);
  EXPECT_LE(seconds, 15 * 60);
  EXPECT_FALSE(locked.json.contains("token"));
  expect_refusal(anonymous().login("guard.xu", otp), 429, "too_many_attempts");
  // Other accounts from the same address still sign in.
  EXPECT_EQ(anonymous().login("admin", kAdminPassword).status, 200);
  // The failures are in the audit log.
  EXPECT_TRUE(testing::wait_until([&] {
    size_t failed = 0;
    for (const json& e : audit("account=guard.xu&action=login")) failed += e["outcome"] == "failed";
    return failed == 5;
  }, kPatience, kPoll)) << audit("account=guard.xu&action=login");
}

TEST_F(ApiSessionTest, CookieSessionsNeedTheCsrfHeader) {
  HttpClient c = anonymous();
  HttpReply in = c.login("admin", kAdminPassword, /*use_cookie=*/true);
  ASSERT_EQ(in.status, 200) << in;
  // Reads need no CSRF token.
  EXPECT_EQ(c.get("/api/v1/session").status, 200);
  EXPECT_EQ(c.get("/api/v1/households").status, 200);

  c.set_send_csrf(false);
  expect_refusal(c.post("/api/v1/households", household(kVillageA, 6)), 403, "csrf");
  expect_refusal(c.request("POST", "/api/v1/households", household(kVillageA, 6).dump(), "application/json",
                           {{"X-CSRF-Token", "0123456789abcdef"}}),
                 403, "csrf");
  expect_refusal(c.del("/api/v1/session"), 403, "csrf");
  EXPECT_EQ(c.get("/api/v1/session").status, 200) << "the refused sign-out left the session alone";

  c.set_send_csrf(true);
  HttpReply reg = c.post("/api/v1/households", household(kVillageA, 6));
  EXPECT_EQ(reg.status, 201) << reg;
  EXPECT_EQ(c.del("/api/v1/session").status, 200);
  expect_refusal(c.get("/api/v1/session"), 401, "unauthenticated");
}

// A password reset ends every session signed in before it, also one that
// had not changed its one-time password yet (which had outlived
// `lifeline user reset`); a session that changes the password itself
// lives on.
TEST_F(ApiSessionTest, AResetEndsASessionThatHadNotChangedItsOneTimePassword) {
  std::string otp = create_user("reset.clerk", "operator");
  HttpClient before = anonymous();
  ASSERT_EQ(before.login("reset.clerk", otp).status, 200);
  ASSERT_EQ(before.get("/api/v1/session").status, 200);

  const testing::CommandResult reset = testing::run_command_capture(
      {LIFELINE_BIN, "user", "reset", "--config", net_->config(kTownship), "--name", "reset.clerk", "--json"});
  ASSERT_EQ(reset.rc, 0) << reset.out << reset.err;
  const std::string fresh = reset.json.value("one_time_password", "");
  ASSERT_FALSE(fresh.empty()) << reset.out;
  expect_refusal(before.get("/api/v1/session"), 401, "unauthenticated");
  expect_refusal(before.login("reset.clerk", otp), 401, "bad_credentials");

  // Signed in after the reset: it works, changes the password and goes on working.
  HttpClient after = anonymous();
  ASSERT_EQ(after.login("reset.clerk", fresh).status, 200);
  EXPECT_EQ(after.get("/api/v1/session").status, 200);
  ASSERT_EQ(after.post("/api/v1/session/password", json{{"current_password", fresh}, {"new_password", kStaffPassword}}).status, 200);
  EXPECT_EQ(after.get("/api/v1/households").status, 200);
  EXPECT_EQ(after.get("/api/v1/session").json.value("must_change_password", true), false);
}

// What a request typed is stored in the audit log with any ID number
// masked: the path and message of a refusal, and a failed sign-in's name; a
// name that is no account name (a password typed into the name field) is
// stored, and logged when it locks, as "(invalid name)".
TEST_F(ApiSessionTest, AuditEntriesAndTheLogMaskWhatWasTyped) {
  const std::string number = testing::make_id_number(441303, 19850312, 124), masked = "4413**********1248";
  const std::string password_as_name = "Typed-Secret-2026!";
  std::string otp = create_user("mask.clerk", "operator");
  HttpClient c = anonymous();
  ASSERT_EQ(c.login("mask.clerk", otp).status, 200);
  expect_refusal(c.get("/api/v1/households/" + number), 403, "password_change_required");
  for (int i = 0; i < 5; ++i) expect_refusal(anonymous().login(password_as_name, "whatever"), 401, "bad_credentials");
  expect_refusal(anonymous().login(number, "whatever"), 401, "bad_credentials");

  json refused;
  ASSERT_TRUE(testing::wait_until([&] { return (refused = audit("account=mask.clerk&action=refused")).size() == 1; }, kPatience, kPoll))
      << refused;
  EXPECT_EQ(refused[0].value("target", ""), "/api/v1/households/" + masked) << refused;
  EXPECT_NE(refused[0].value("detail", "").find(masked), std::string::npos) << refused;
  json invalid, as_number;
  ASSERT_TRUE(testing::wait_until([&] {
    invalid = audit("action=login&account=%28invalid%20name%29");
    as_number = audit("action=login&account=" + masked);
    return invalid.size() == 5 && as_number.size() == 1;
  }, kPatience, kPoll)) << invalid << as_number;
  EXPECT_EQ(invalid[0].value("target", ""), "(invalid name)") << invalid;
  EXPECT_EQ(invalid[0].value("outcome", ""), "failed") << invalid;
  EXPECT_EQ(as_number[0].value("target", ""), masked) << as_number;
  const std::string log = admin_.get("/api/v1/audit?limit=500").body;
  EXPECT_EQ(log.find(number), std::string::npos) << log;
  EXPECT_EQ(log.find(password_as_name), std::string::npos) << log;

  // The lock of the name is logged without it.
  std::ifstream in(net_->node_dir(kTownship) + "/node.log");
  const std::string node_log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(node_log.find("sign-in locked for account '(invalid name)'"), std::string::npos) << node_log;
  EXPECT_EQ(node_log.find(password_as_name), std::string::npos) << node_log;
}

// cpp-httplib decodes the path once before matching it; the handler takes
// the path parameter as matched. Decoded a second time, "%2570ct.user"
// reached the account "pct.user" and "a%2525b%252Fc" became "a%b/c".
TEST_F(ApiSessionTest, PathParametersAreDecodedOnce) {
  ASSERT_FALSE(create_user("pct.user", "operator").empty());
  HttpReply r = admin_.patch("/api/v1/users/%2570ct.user", json{{"disabled", true}});
  expect_refusal(r, 404, "not_found");
  EXPECT_NE(r.json["error"].value("message_en", "").find("'%70ct.user'"), std::string::npos) << r;
  HttpReply users = admin_.get("/api/v1/users");
  ASSERT_EQ(users.status, 200) << users;
  for (const json& u : users.json["users"]) {
    if (u["name"] == "pct.user") {
      EXPECT_EQ(u["disabled"], false) << u;
    }
  }
  r = admin_.patch("/api/v1/users/a%2525b%252Fc", json{{"disabled", true}});
  expect_refusal(r, 404, "not_found");
  EXPECT_NE(r.json["error"].value("message_en", "").find("'a%25b%2Fc'"), std::string::npos) << r;
  // A household id decoded once: "H%2D…" is no id.
  expect_refusal(admin_.get("/api/v1/households/H%252D" + kTownship + "-1"), 400, "invalid_field", "id");
}

// GET /api/v1 lists every route the node serves; web/API.md documents each
// one under a heading "`METHOD PATH`" and states the access it needs.
TEST_F(ApiSessionTest, TheEndpointIndexListsEveryRouteAndApiMdDocumentsEachWithItsAccess) {
  EXPECT_EQ(anonymous().get("/api/v1").status, 401);
  HttpReply index = admin_.get("/api/v1");
  ASSERT_EQ(index.status, 200) << index;
  ASSERT_TRUE(index.json["endpoints"].is_array()) << index;
  std::ifstream in(LIFELINE_API_MD);
  ASSERT_TRUE(in) << LIFELINE_API_MD;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::set<std::string> seen;
  for (const json& e : index.json["endpoints"]) {
    const std::string method = e["method"], path = e["path"], access = e["access"];
    EXPECT_TRUE(seen.insert(method + " " + path).second) << "listed twice: " << method << " " << path;
    // The section: from its heading to the next heading.
    const std::string title = "`" + method + " " + path + "`";
    size_t at = 0;
    while (at < lines.size() && !(lines[at].rfind("#", 0) == 0 && lines[at].find(title) != std::string::npos)) ++at;
    if (at == lines.size()) {
      ADD_FAILURE() << "web/API.md has no heading for " << title;
      continue;
    }
    std::string section;
    for (size_t i = at + 1; i < lines.size() && lines[i].rfind("#", 0) != 0; ++i) section += lines[i] + "\n";
    std::string level = access == "any_session" ? "any session" : access;
    EXPECT_TRUE(std::regex_search(section, std::regex("\\*Access:\\*\\s*\\**" + level + "\\b")))
        << title << " in web/API.md does not state *Access:* " << level;
  }
  // The routes of every part of the API are there (the index is not empty or partial).
  for (const char* expected : {"POST /api/v1/session", "GET /api/v1/alerts/{id}", "POST /api/v1/alerts/{id}/feedback",
                               "POST /api/v1/imports", "PATCH /api/v1/households/{id}", "PUT /api/v1/policy/standards",
                               "GET /api/v1/audit", "PATCH /api/v1/users/{name}", "GET /metrics", "GET /api/v1"})
    EXPECT_TRUE(seen.count(expected)) << expected << " is not in the index: " << index;
}

// `lifeline user add` on the running node: the account signs in over HTTP
// with the printed one-time password and must change it first. A bad role,
// a taken name and a jurisdiction outside the node exit non-zero (their
// messages go to stderr) and leave the accounts as they were; so does a
// name that is or holds an ID number.
TEST_F(ApiSessionTest, UserAddOnTheCommandLineCreatesAnAccountThatSignsInOverHttp) {
  int rc = -1;
  const std::string config = net_->config(kTownship);
  std::string out = testing::run_command(
      {LIFELINE_BIN, "user", "add", "--config", config, "--name", "cli.supervisor", "--role", "supervisor", "--json"}, &rc);
  ASSERT_EQ(rc, 0) << out;
  json made = json::parse(out, nullptr, false);
  ASSERT_TRUE(made.is_object()) << out;
  EXPECT_EQ(made["name"], "cli.supervisor");
  EXPECT_EQ(made["role"], "supervisor");
  EXPECT_EQ(made["jurisdiction"], kTownship);
  EXPECT_EQ(made["must_change_password"], true);
  ASSERT_TRUE(made["one_time_password"].is_string()) << out;
  const std::string one_time = made["one_time_password"];

  HttpClient c = anonymous();
  HttpReply in = c.login("cli.supervisor", one_time);
  ASSERT_EQ(in.status, 200) << in;
  EXPECT_EQ(in.json["role"], "supervisor");
  EXPECT_EQ(in.json["must_change_password"], true);
  expect_refusal(c.get("/api/v1/alerts"), 403, "password_change_required");
  ASSERT_EQ(c.post("/api/v1/session/password", json{{"current_password", one_time}, {"new_password", kStaffPassword}}).status, 200);
  EXPECT_EQ(c.get("/api/v1/users").status, 200);  // a supervisor lists accounts
  EXPECT_EQ(c.post("/api/v1/users", json{{"name", "not.allowed"}, {"role", "operator"}}).status, 403);  // only an admin creates them

  const json before = admin_.get("/api/v1/users").json;
  ASSERT_TRUE(before.is_object()) << before;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--name", "cli.bad.role", "--role", "boss"},
        std::vector<std::string>{"--name", "cli.supervisor", "--role", "operator"},
        std::vector<std::string>{"--name", "cli.elsewhere", "--role", "operator", "--jurisdiction", kElsewhere},
        // An account name is shown whole: no ID number (18 digits pass the character rule).
        std::vector<std::string>{"--name", testing::make_id_number(441303, 19850312, 124), "--role", "operator"},
        std::vector<std::string>{"--name", "op." + testing::make_id_number(441303, 19850312, 125), "--role", "operator"}}) {
    std::vector<std::string> argv = {LIFELINE_BIN, "user", "add", "--config", config};
    argv.insert(argv.end(), args.begin(), args.end());
    const testing::CommandResult r = testing::run_command_capture(argv);
    EXPECT_EQ(r.rc, 1) << args[1] << ": " << r.out << r.err;
    // The node's reason is printed once, as it came: "lifeline: <kind>: <reason>",
    // after its Chinese text where it has one.
    const std::regex one_reason(R"(^(lifeline: [^\n]+\n)?lifeline: (invalid argument|refused|not found): [^\n]+\n$)");
    EXPECT_TRUE(std::regex_match(r.err, one_reason)) << args[1] << ": " << r.err;
    for (const char* kind : {"invalid argument", "refused", "not found"})
      EXPECT_EQ(r.err.find(kind), r.err.rfind(kind)) << "the kind is named once: " << r.err;
  }
  EXPECT_EQ(admin_.get("/api/v1/users").json, before);
}

}  // namespace
}  // namespace lifeline
