// Link security against real processes: a wrong key is refused at the
// handshake; a child with the right key that forges an origin outside its
// jurisdiction is refused record by record; garbage bytes on a node's port
// do not disturb its links.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>
#include <zmq.hpp>

#include "node/runtime/keys.h"
#include "node/runtime/options.h"
#include "protocol/codec.h"
#include "tests/testing/local_network.h"

namespace lifeline {
namespace {

using namespace std::chrono_literals;
using testing::LocalNetwork;

const std::string kProvince = "440000000000", kTownship = "441303001000", kVillage = "441303001001",
                  kForeignVillage = "441303108201";

std::string divisions() { return std::string(LIFELINE_SHARED_DATA) + "/huizhou_divisions.csv"; }

TEST(SecurityTest, ChildWithWrongKeyIsRefused) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(1));
  ASSERT_TRUE(net.ok()) << net.init_output();
  // Replace the village's keypair with one the township has never seen.
  std::filesystem::remove(net.node_dir(kVillage) + "/node.key");
  ASSERT_TRUE(runtime::write_keypair(net.node_dir(kVillage), *runtime::generate_keypair()).is_ok());
  net.start(kTownship);
  net.start(kVillage);
  ASSERT_TRUE(testing::wait_until([&] { return net.status(kTownship).value("auth_refusals", 0) > 0; }, 15s));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(net.link_state(kTownship, kVillage), "down");
  EXPECT_EQ(net.link_state(kVillage, kTownship), "down");
}

TEST(SecurityTest, ForgedOriginFromAdmittedChildIsRefusedAndNotApplied) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage + "," + kForeignVillage, testing::test_base_port(2));
  ASSERT_TRUE(net.ok()) << net.init_output();
  net.start(kTownship);
  auto village = runtime::load_options(net.config(kVillage));
  ASSERT_TRUE(village.is_ok()) << village.status().to_string();
  auto secret = runtime::read_key_file(village->secret_key_path), pub = runtime::read_key_file(village->public_key_path);
  // A client holding the village's real key, speaking the link protocol itself.
  zmq::context_t ctx;
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::routing_id, kVillage);
  dealer.set(zmq::sockopt::curve_serverkey, village->parent->public_key);
  dealer.set(zmq::sockopt::curve_publickey, *pub);
  dealer.set(zmq::sockopt::curve_secretkey, *secret);
  dealer.connect(village->parent->endpoint);
  uint64_t village_code = std::stoull(kVillage), foreign = std::stoull(kForeignVillage), township = std::stoull(kTownship);
  std::vector<protocol::Record> records;
  for (uint64_t i = 1; i <= 5; ++i) records.push_back(protocol::Record{i, foreign, i, township, 1, 0, "forged"});
  dealer.send(zmq::buffer(protocol::encode_frame(protocol::Frame{village_code, 0, protocol::Hello{0, true}})));
  dealer.send(zmq::buffer(protocol::encode_frame(protocol::Frame{village_code, 0, protocol::Data{records}})));
  auto refusals = [&] {
    nlohmann::json st = net.status(kTownship);
    for (const auto& l : st["links"])
      if (l["peer"] == kVillage) return l["refusals"].get<int>();
    return -1;
  };
  ASSERT_TRUE(testing::wait_until([&] { return refusals() == 5; }, 10s)) << "refusals: " << refusals();
  net.stop(kTownship);
  nlohmann::json inbox = net.inbox(kTownship);
  EXPECT_FALSE(inbox["applied"].contains(kForeignVillage));
  EXPECT_TRUE(inbox["applied"].empty());
}

// A child holding its own valid key connects with a sibling's routing id
// while the sibling is connected. With ROUTER_HANDOVER it took the id over
// and was sent the sibling's records (personal data of its villages); now
// its connection is refused, and the sibling keeps receiving.
TEST(SecurityTest, AChildCannotTakeOverASiblingsRoutingId) {
  const std::string kSibling = "441303001002";  // the village's sibling, under the same township
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage + "," + kSibling, testing::test_base_port(4));
  ASSERT_TRUE(net.ok()) << net.init_output();
  net.start(kTownship);
  net.start(kSibling);
  ASSERT_TRUE(testing::wait_until([&] { return net.link_state(kTownship, kSibling) == "up"; }, 15s));
  auto village = runtime::load_options(net.config(kVillage));
  ASSERT_TRUE(village.is_ok()) << village.status().to_string();
  auto secret = runtime::read_key_file(village->secret_key_path), pub = runtime::read_key_file(village->public_key_path);
  zmq::context_t ctx;
  zmq::socket_t impostor(ctx, zmq::socket_type::dealer);
  impostor.set(zmq::sockopt::linger, 0);
  impostor.set(zmq::sockopt::routing_id, kSibling);
  impostor.set(zmq::sockopt::curve_serverkey, village->parent->public_key);
  impostor.set(zmq::sockopt::curve_publickey, *pub);
  impostor.set(zmq::sockopt::curve_secretkey, *secret);
  impostor.connect(village->parent->endpoint);
  std::this_thread::sleep_for(500ms);  // the handshake, and (before the fix) the take-over
  ASSERT_TRUE(net.post(kTownship, kSibling, 50));
  int frames = 0;
  auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) {
    zmq::pollitem_t item{impostor.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, 100ms) > 0) {
      zmq::message_t m;
      while (impostor.recv(m, zmq::recv_flags::dontwait)) ++frames;
    }
  }
  EXPECT_EQ(frames, 0) << "the impostor was sent frames meant for " << kSibling;
  EXPECT_TRUE(testing::wait_until([&] { return net.applied(kSibling, kTownship).first == 50; }, 15s));
  EXPECT_EQ(net.link_state(kTownship, kSibling), "up");
}

TEST(SecurityTest, GarbageBytesOnTheParentPortDoNotDisturbLinks) {
  LocalNetwork net(LIFELINE_BIN, divisions(), kProvince, kVillage, testing::test_base_port(3));
  ASSERT_TRUE(net.ok()) << net.init_output();
  net.start(kTownship);
  net.start(kVillage);
  ASSERT_TRUE(testing::wait_until([&] { return net.link_state(kVillage, kTownship) == "up"; }, 15s));
  auto township = runtime::load_options(net.config(kTownship));
  int port = std::stoi(township->listen_endpoint.substr(township->listen_endpoint.rfind(':') + 1));
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    std::string junk(1 + rng() % 65536, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (round % 2 == 0) junk.replace(0, std::min<size_t>(junk.size(), 10), "\xff\0\0\0\0\0\0\0\x01\x7f", 10);  // ZMTP-like start
    (void)::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  ASSERT_TRUE(net.post(kVillage, kTownship, 100));
  ASSERT_TRUE(testing::wait_until([&] { return net.applied(kTownship, kVillage).first == 100; }, 15s));
  EXPECT_EQ(net.link_state(kTownship, kVillage), "up");
  EXPECT_EQ(net.link_state(kVillage, kTownship), "up");
}

}  // namespace
}  // namespace lifeline
