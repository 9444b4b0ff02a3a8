// The command line against stopped and running nodes: status, post and
// inbox work on the store of a stopped node, reach a running one over its
// control socket, and fail clearly when neither is possible.
#include <gtest/gtest.h>

#include <thread>

#include "node/runtime/control.h"
#include "node/runtime/options.h"
#include "tests/testing/local_network.h"

namespace lifeline {
namespace {

using namespace std::chrono_literals;
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
  std::vector<std::string> argv{LIFELINE_BIN, "status", "--config", "/nonexistent/node.toml"};
  testing::run_command(argv, &rc);
  EXPECT_EQ(rc, 1);
}

}  // namespace
}  // namespace lifeline
