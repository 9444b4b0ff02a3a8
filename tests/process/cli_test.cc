// The command line against stopped and running nodes: status, post and
// inbox work on the store of a stopped node, reach a running one over its
// control socket, and fail clearly when neither is possible.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "node/runtime/control.h"
#include "node/runtime/options.h"
#include "tests/testing/http_client.h"
#include "tests/testing/local_network.h"

namespace lifeline {
namespace {

using namespace std::chrono_literals;
using testing::HttpClient;
using testing::LocalNetwork;

const std::string kProvince = "440000000000", kTownship = "441303001000", kVillage = "441303001001";

std::string divisions() { return std::string(LIFELINE_SHARED_DATA) + "/huizhou_divisions.csv"; }

TEST(CliTest, PostOnAStoppedNodeWaitsInItsStoreAndFlowsOnceItRuns) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(4));
  ASSERT_TRUE(net.ok()) << net.init_output();
  ASSERT_TRUE(net.post(kVillage, kTownship, 25));
  nlohmann::json st = net.status(kVillage);
  ASSERT_TRUE(st.is_object());
  EXPECT_EQ(st["running"], false);
  EXPECT_EQ(st["links"][0]["outbox_depth"], 25);
  EXPECT_EQ(st["links"][0]["peer_features"], nlohmann::json::array()) << "nothing heard from the peer yet";
  net.start(kTownship);
  net.start(kVillage);
  ASSERT_TRUE(testing::wait_until([&] { return net.applied(kTownship, kVillage).first == 25; }, 15s));
  st = net.status(kVillage);
  EXPECT_EQ(st["running"], true);
  EXPECT_EQ(st["links"][0]["peer_features"], nlohmann::json::array({"zstd_batches"}));
  EXPECT_EQ(net.applied(kTownship, kVillage).second, 25);
}

TEST(CliTest, ClearErrorWhenTheNodeHoldsItsLockButDoesNotAnswer) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(5));
  ASSERT_TRUE(net.ok()) << net.init_output();
  auto options = runtime::load_options(net.config(kVillage));
  ASSERT_TRUE(options.is_ok());
  auto lock = runtime::NodeLock::acquire(options->data_dir);  // as a node that hangs would
  ASSERT_TRUE(lock.is_ok());
  int rc = 0;
  nlohmann::json out = net.cli_json(kVillage, {"status", "--json", "--timeout-ms", "300"}, &rc);
  EXPECT_EQ(rc, 1);
  EXPECT_TRUE(out.is_null());
}

TEST(CliTest, BadArgumentsAreRefusedWithoutTouchingTheStore) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(6));
  ASSERT_TRUE(net.ok()) << net.init_output();
  int rc = 0;
  net.cli_json(kVillage, {"post", "--to", "4413030010", "--count", "3"}, &rc);
  EXPECT_NE(rc, 0);
  net.cli_json(kVillage, {"post", "--to", "441399999999", "--count", "3"}, &rc);  // valid shape, not in the tree
  EXPECT_NE(rc, 0);
  nlohmann::json st = net.status(kVillage);
  EXPECT_EQ(st["links"][0]["last_assigned"], 0);
  // The node is not running: its links show no time of a state change (it
  // used to be this command's own start).
  EXPECT_EQ(st["running"], false);
  EXPECT_TRUE(st["links"][0]["since"].is_null()) << st;
  // The table for people shows what README lists, as --json does.
  auto table = testing::run_command_capture({LIFELINE_BIN, "status", "--config", net.config(kVillage)});
  ASSERT_EQ(table.rc, 0) << table.err;
  for (const char* column : {"assigned", "malformed", "features", "auth refusals"})
    EXPECT_NE(table.out.find(column), std::string::npos) << column << " in " << table.out;
  std::vector<std::string> argv{LIFELINE_BIN, "status", "--config", "/nonexistent/node.toml"};
  testing::run_command(argv, &rc);
  EXPECT_EQ(rc, 1);
}

// A node whose HTTP address is already taken by another process does not
// start: it says so and exits, and the node that holds the address keeps
// answering. (cpp-httplib's default socket options set SO_REUSEPORT, under
// which the second bind succeeded and the kernel shared the operators'
// requests out between the two nodes.)
TEST(CliTest, ANodeDoesNotStartOnAnHttpAddressAnotherNodeListensOn) {
  int base = testing::test_base_port(7);
  LocalNetwork net(LIFELINE_BIN, divisions(), kTownship, kVillage, base, false, base + 5);
  ASSERT_TRUE(net.ok()) << net.init_output();
  auto web_listen = [&](const std::string& code) {
    auto options = runtime::load_options(net.config(code));
    return options.is_ok() ? options->web.listen : std::string();
  };
  const std::string taken = web_listen(kTownship), own = web_listen(kVillage);
  ASSERT_FALSE(taken.empty());
  ASSERT_FALSE(own.empty());
  ASSERT_NE(taken, own);
  ASSERT_TRUE(net.edit_config(kVillage, "listen = \"" + own + "\"", "listen = \"" + taken + "\""));
  ASSERT_EQ(web_listen(kVillage), taken);
  net.start(kTownship);
  HttpClient township(taken.substr(0, taken.rfind(':')), std::stoi(taken.substr(taken.rfind(':') + 1)));
  ASSERT_TRUE(testing::wait_until([&] { return township.get("/api/v1/session").status == 401; }, 20s));
  net.start(kVillage);
  ASSERT_TRUE(testing::wait_until([&] { return !net.process(kVillage).running(); }, 20s))
      << "the second node started on an HTTP address already in use";
  std::ifstream log(net.node_dir(kVillage) + "/node.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("HTTP server cannot listen on " + taken), std::string::npos) << text;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(township.get("/api/v1/session").status, 401);
}

}  // namespace
}  // namespace lifeline
