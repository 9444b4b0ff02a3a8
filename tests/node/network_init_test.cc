#include "node/runtime/network_init.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "node/runtime/options.h"
#include "tests/testing/temp_dir.h"

namespace lifeline::runtime {
namespace {

std::string divisions() { return std::string(LIFELINE_SHARED_DATA) + "/huizhou_divisions.csv"; }

TEST(NetworkInitTest, CodesImplyAncestorsAndEveryConfigLoads) {
  testing::TempDir dir;
  NetworkInitOptions o{divisions(), "440000000000", dir.sub("net"), {"441303001001", "441303108201"}, 21000};
  auto n = network_init(o);
  ASSERT_TRUE(n.is_ok()) << n.status().to_string();
  EXPECT_EQ(n->nodes, 7u);  // province, city, county, two townships, two villages
  ASSERT_EQ(n->admins.size(), 7u);  // each node's first admin, with a one-time password that verifies
  for (const auto& a : n->admins) {
    EXPECT_EQ(a.name, "admin");
    EXPECT_EQ(a.password.size(), 16u);
    EXPECT_NE(a.url.find("http://127.0.0.1:22"), std::string::npos) << a.url;  // base port + 1000
  }
  for (const char* code : {"440000000000", "441300000000", "441303000000", "441303001000", "441303108000",
                           "441303001001", "441303108201"}) {
    auto opts = load_options(dir.sub("net/") + code + "/node.toml");
    ASSERT_TRUE(opts.is_ok()) << code << ": " << opts.status().to_string();
    EXPECT_EQ(opts->code.to_string(), code);
  }
  auto county = load_options(dir.sub("net/441303000000/node.toml"));
  EXPECT_EQ(county->children.size(), 2u);
  EXPECT_EQ(county->parent->code.to_string(), "441300000000");
  auto root = load_options(dir.sub("net/440000000000/node.toml"));
  EXPECT_FALSE(root->parent.has_value());
  EXPECT_FALSE(root->listen_endpoint.empty());
}

TEST(NetworkInitTest, WholeSubtreeWithoutCodes) {
  testing::TempDir dir;
  auto n = network_init(NetworkInitOptions{divisions(), "441303108000", dir.sub("net"), {}, 21000});
  ASSERT_TRUE(n.is_ok()) << n.status().to_string();
  EXPECT_EQ(n->nodes, 15u);  // 永湖镇 and its 14 villages
}

TEST(NetworkInitTest, RefusesUnknownCodesAndAnExistingNetwork) {
  testing::TempDir dir;
  EXPECT_FALSE(network_init(NetworkInitOptions{divisions(), "449999000000", dir.sub("a"), {}, 21000}).is_ok());
  EXPECT_FALSE(network_init(NetworkInitOptions{divisions(), "440000000000", dir.sub("b"), {"441303001999"}, 21000}).is_ok());
  EXPECT_FALSE(network_init(NetworkInitOptions{divisions(), "441303000000", dir.sub("c"), {"441302001000"}, 21000}).is_ok());
  ASSERT_TRUE(network_init(NetworkInitOptions{divisions(), "441303108000", dir.sub("d"), {"441303108201"}, 21000}).is_ok());
  EXPECT_FALSE(network_init(NetworkInitOptions{divisions(), "441303108000", dir.sub("d"), {"441303108201"}, 21000}).is_ok());
}

// Ports that cannot work are refused before anything is written: HTTP
// ports over the link ports (a node would then fail to bind at start), or
// HTTP ports running past 65535.
TEST(NetworkInitTest, RefusesPortsThatOverlapOrRunOutBeforeWritingAnything) {
  testing::TempDir dir;
  auto overlap = network_init(NetworkInitOptions{divisions(), "441303000000", dir.sub("a"), {}, 40200, 40201});
  ASSERT_FALSE(overlap.is_ok());
  EXPECT_NE(overlap.status().message().find("overlap the link ports"), std::string::npos) << overlap.status().to_string();
  auto past_end = network_init(NetworkInitOptions{divisions(), "441303000000", dir.sub("b"), {}, 40200, 65530});
  ASSERT_FALSE(past_end.is_ok());
  EXPECT_NE(past_end.status().message().find("below 65536"), std::string::npos) << past_end.status().to_string();
  EXPECT_FALSE(std::filesystem::exists(dir.sub("a"))) << "nothing is written for a refused network";
  EXPECT_FALSE(std::filesystem::exists(dir.sub("b")));
  // A chain's link ports end before the HTTP ports start: accepted.
  EXPECT_TRUE(network_init(NetworkInitOptions{divisions(), "440000000000", dir.sub("c"), {"441303001001"}, 40200, 40205}).is_ok());
}

}  // namespace
}  // namespace lifeline::runtime
