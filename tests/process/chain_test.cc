// A five-level chain of real `lifeline run` processes on loopback with CURVE:
// 10,000 messages village → province and 10,000 province → village at the
// same time, while the county and township are killed -9 and restarted three
// times each and the township–village link is cut for a spell. Afterwards,
// counted from the stores: every message applied exactly once, in order.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "node/runtime/options.h"
#include "tests/testing/local_network.h"
#include "tests/testing/netns_link.h"

namespace lifeline {
namespace {

using namespace std::chrono_literals;
using testing::LocalNetwork;

const std::string kProvince = "440000000000", kCity = "441300000000", kCounty = "441303000000",
                  kTownship = "441303001000", kVillage = "441303001001";
const std::vector<std::string> kChain = {kProvince, kCity, kCounty, kTownship, kVillage};

std::string divisions() { return std::string(LIFELINE_SHARED_DATA) + "/huizhou_divisions.csv"; }

bool all_links_up(const LocalNetwork& net) {
  for (size_t i = 0; i + 1 < kChain.size(); ++i) {
    if (net.link_state(kChain[i], kChain[i + 1]) != "up" || net.link_state(kChain[i + 1], kChain[i]) != "up") return false;
  }
  return true;
}

// Posts total messages in chunks, retrying a chunk whose post failed
// because the node was momentarily unreachable (a post that failed did not
// commit: the CLI reports success only after the commit).
void post_in_chunks(const LocalNetwork& net, const std::string& at, const std::string& to, int total, int chunk,
                    std::atomic<int>& posted) {
  while (posted < total) {
    if (net.post(at, to, std::min(chunk, total - posted.load()))) {
      posted += std::min(chunk, total - posted.load());
    }
    std::this_thread::sleep_for(100ms);  // spread the traffic over the kills and the cut
  }
}

TEST(ChainTest, TwentyThousandMessagesExactlyOnceThroughKillsAndACutLink) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(0));
  ASSERT_TRUE(net.ok()) << net.init_output();
  // As root (as on CI) the village is a host of its own: a network namespace
  // behind a veth pair, and the township–village link crosses that interface.
  testing::NetnsLink host(static_cast<int>(::getpid() % 200));
  if (host.available()) {
    std::string endpoint = runtime::load_options(net.config(kTownship))->listen_endpoint;
    std::string moved = "tcp://" + host.host_ip() + endpoint.substr(endpoint.rfind(':'));
    ASSERT_TRUE(net.edit_config(kTownship, endpoint, moved));
    ASSERT_TRUE(net.edit_config(kVillage, endpoint, moved));
    net.set_prefix(kVillage, host.exec_prefix());
  }
  std::cout << "township-village link cut by "
            << (host.available() ? "taking a veth interface down (network namespace)" : "stopping the village (SIGSTOP)")
            << "\n";
  for (const auto& c : kChain) net.start(c);
  ASSERT_TRUE(testing::wait_until([&] { return all_links_up(net); }, 20s)) << "links did not come up";

  std::atomic<int> up_posted{0}, down_posted{0};
  std::thread up([&] { post_in_chunks(net, kVillage, kProvince, 10000, 100, up_posted); });
  std::thread down([&] { post_in_chunks(net, kProvince, kVillage, 10000, 100, down_posted); });

  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(300ms);
    net.kill9(kCounty);
    std::this_thread::sleep_for(200ms);
    net.start(kCounty);
    std::this_thread::sleep_for(300ms);
    net.kill9(kTownship);
    std::this_thread::sleep_for(200ms);
    net.start(kTownship);
  }
  // Cut the township–village link for a spell longer than down_after_ms.
  auto cut = [&] { return host.available() ? host.cut() : (net.process(kVillage).signal(SIGSTOP), true); };
  auto heal = [&] { return host.available() ? host.heal() : (net.process(kVillage).signal(SIGCONT), true); };
  ASSERT_TRUE(cut());
  EXPECT_TRUE(testing::wait_until([&] { return net.link_state(kTownship, kVillage) == "down"; }, 10s));
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(heal());
  EXPECT_LT(up_posted.load(), 10000) << "traffic should still be flowing when the cut heals";
  up.join();
  down.join();

  auto done = [&] {
    return net.applied(kProvince, kVillage).first == 10000 && net.applied(kVillage, kProvince).first == 10000;
  };
  EXPECT_TRUE(testing::wait_until(done, 120s, 200ms)) << "not everything arrived";
  net.stop_all();
  // Counted from the stores: the nodes are stopped, so inbox reads each store.
  auto up_applied = net.applied(kProvince, kVillage), down_applied = net.applied(kVillage, kProvince);
  EXPECT_EQ(up_applied.first, 10000);
  EXPECT_EQ(up_applied.second, 10000);
  EXPECT_EQ(down_applied.first, 10000);
  EXPECT_EQ(down_applied.second, 10000);
  for (const auto& c : kChain) {
    nlohmann::json in = net.inbox(c);
    for (auto& [origin, e] : in["applied"].items()) EXPECT_EQ(e["out_of_order"], 0) << c << " from " << origin;
    nlohmann::json st = net.status(c);
    EXPECT_EQ(st["counters"].value("duplicates", 0), 0) << c;
    for (const auto& l : st["links"]) EXPECT_EQ(l["outbox_depth"], 0) << c << " toward " << l["peer"];
  }
}

}  // namespace
}  // namespace lifeline
