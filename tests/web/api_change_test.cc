// Changes through the HTTP API and their audit entries when the node loop is
// slower than the request's wait ([web] loop_timeout_ms, here its least,
// 100 ms): large imports keep the loop busy while a household is
// registered and a password is changed. Both requests answer 503 node_busy,
// yet both changes run later; each must then have its audit entry (written
// in the same loop task as the change), and the password change must still
// end the account's other sessions.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

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

const std::string kTownship = "441303001000", kVillage = "441303001001";
const std::string kAdminPassword = "Busy-Boss-2026", kStaffPassword = "Staff-Pass-2026";

std::string divisions() { return std::string(LIFELINE_SHARED_DATA) + "/huizhou_divisions.csv"; }

// An import the loop takes a while over: events for persons the node does
// not hold (each line read, checked and looked up, then reported).
std::string busy_import(size_t lines) {
  const std::string day =
      node::format_date(node::add_days(node::shanghai_date(runtime::system_now().wall_us), -3));
  std::string text = "source_department,source_record_id,id_number,indicator,event_date\n";
  text.reserve(lines * 80);
  for (size_t i = 0; i < lines; ++i)
    text += "health,WJ-BUSY-" + std::to_string(i) + "," + testing::nth_id_number(i) + ",birth," + day + "\n";
  return text;
}

TEST(ApiChangeTest, AChangeAnsweredWith503IsStillAuditedAndEndsTheOtherSessions) {
  const int base = testing::test_base_port(4);
  LocalNetwork net(LIFELINE_BIN, divisions(), kTownship, kTownship, base, true, base + 5);
  ASSERT_TRUE(net.ok()) << net.init_output();
  ASSERT_TRUE(net.edit_config(kTownship, "[web]\n", "[web]\nloop_timeout_ms = 100\n"));
  net.start(kTownship);
  HttpClient admin = testing::node_client(net.node_dir(kTownship), kTownship);
  ASSERT_TRUE(testing::wait_until([&] { return admin.get("/api/v1/session").status == 401; }, 20s, 50ms));
  ASSERT_TRUE(admin.login_and_change("admin", testing::first_admin_password(net.node_dir(kTownship)), kAdminPassword));

  // An account signed in twice: the first session will change the password.
  HttpReply made = admin.post("/api/v1/users", json{{"name", "slow.clerk"}, {"role", "operator"}});
  ASSERT_EQ(made.status, 201) << made;
  HttpClient first(admin.host(), admin.port()), second(admin.host(), admin.port());
  ASSERT_TRUE(first.login_and_change("slow.clerk", made.json["one_time_password"], kStaffPassword));
  ASSERT_EQ(second.login("slow.clerk", kStaffPassword).status, 200);
  ASSERT_EQ(second.get("/api/v1/session").status, 200);

  // Two clients keep the loop busy with dry-run imports, one queued behind
  // the other, until both changes have been answered; the loop is busy once
  // a read through it (the node's status) answers 503. The two changes are
  // then sent at once.
  const std::string csv = busy_import(200000);
  std::atomic<bool> done{false};
  auto keep_busy = [&] {
    for (int i = 0; i < 20 && !done; ++i) (void)admin.post_raw("/api/v1/imports?file_name=busy.csv&dry_run=true", csv, "text/csv");
  };
  std::thread busy1(keep_busy), busy2(keep_busy);
  bool loop_busy = testing::wait_until([&] { return admin.get("/api/v1/node").status == 503; }, 30s, 10ms);
  const std::string head = testing::make_id_number(441303, 19810203, 321);
  HttpReply reg, pw;
  std::thread registering([&] {
    reg = admin.post("/api/v1/households",
                     json{{"village", kVillage},
                          {"category", "marginal"},
                          {"members", json::array({json{{"id_number", head}, {"name", "陈慢"}, {"relation", "head"}}})}});
  });
  std::thread changing([&] {
    pw = first.post("/api/v1/session/password", json{{"current_password", kStaffPassword}, {"new_password", "Another-Pass-2027"}});
  });
  registering.join();
  changing.join();
  done = true;
  busy1.join();
  busy2.join();
  ASSERT_TRUE(loop_busy) << "the import did not keep the loop busy";
  ASSERT_EQ(reg.status, 503) << "the registration was not slowed past loop_timeout_ms: " << reg;
  ASSERT_EQ(pw.status, 503) << "the password change was not slowed past loop_timeout_ms: " << pw;
  EXPECT_EQ(reg.json["error"].value("code", ""), "node_busy") << reg;

  // Both changes ran after all, each with its audit entry. (The imports
  // queued meanwhile run first: the loop is idle again when it answers.)
  ASSERT_TRUE(testing::wait_until([&] { return admin.get("/api/v1/node").status == 200; }, 60s, 50ms));
  auto entries = [&](const std::string& query) {
    HttpReply r = admin.get("/api/v1/audit?" + query);
    return r.status == 200 ? r.json["entries"] : json::array();
  };
  json registered;
  ASSERT_TRUE(testing::wait_until([&] { return (registered = entries("account=admin&action=household_registered")).size() == 1; },
                                  30s, 50ms))
      << registered;
  const std::string hh = registered[0].value("target", "");
  HttpReply shown = admin.get("/api/v1/households/" + hh);
  ASSERT_EQ(shown.status, 200) << shown;
  EXPECT_NE(shown.body.find(head), std::string::npos) << shown;
  EXPECT_TRUE(testing::wait_until([&] { return entries("account=slow.clerk&action=password_changed").size() == 2; }, 30s, 50ms))
      << entries("account=slow.clerk");
  // The new password is in force, and the session that did not change it has ended.
  EXPECT_EQ(HttpClient(admin.host(), admin.port()).login("slow.clerk", "Another-Pass-2027").status, 200);
  EXPECT_EQ(second.get("/api/v1/session").status, 401);
  EXPECT_EQ(first.get("/api/v1/session").status, 200);
  net.stop_all();
}

}  // namespace
}  // namespace lifeline
