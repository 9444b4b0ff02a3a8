#include "node/runtime/options.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "node/runtime/keys.h"
#include "tests/testing/temp_dir.h"

namespace lifeline::runtime {
namespace {

class OptionsTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_.sub(name);
    std::ofstream(path) << text;
    return path;
  }
  std::string key() { return generate_keypair()->public_key; }
  testing::TempDir dir_;
};

TEST_F(OptionsTest, SampleConfigParsesWithEveryKey) {
  auto o = load_options(std::string(LIFELINE_SOURCE_DIR) + "/node/runtime/node.sample.toml");
  // The sample's parent key is a placeholder, so it must be refused with the key named.
  ASSERT_FALSE(o.is_ok());
  EXPECT_NE(o.status().message().find("[parent] public_key"), std::string::npos) << o.status().message();
}

// A misspelt key or section is refused naming it, not ignored with its
// default in force; every key of the sample is a known one.
TEST_F(OptionsTest, UnknownKeysAndSectionsAreRefused) {
  const std::string base = "[node]\ncode = \"441303001001\"\n";
  auto typo = load_options(write("t.toml", base + "[link]\nheartbeat_interval = 5\n"));
  ASSERT_FALSE(typo.is_ok());
  EXPECT_NE(typo.status().message().find("[link] heartbeat_interval is not a known setting"), std::string::npos)
      << typo.status().message();
  auto section = load_options(write("s.toml", base + "[links]\nheartbeat_interval_ms = 100\n"));
  ASSERT_FALSE(section.is_ok());
  EXPECT_NE(section.status().message().find("[links] is not a known section"), std::string::npos) << section.status().message();
  auto top = load_options(write("k.toml", "verbose = true\n" + base));
  EXPECT_FALSE(top.is_ok());
  std::ifstream in(std::string(LIFELINE_SOURCE_DIR) + "/node/runtime/node.sample.toml");
  std::string sample((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = sample.find("\npublic_key = \"");  // the [parent] key, not the one in a comment
  ASSERT_NE(at, std::string::npos);
  const size_t end = sample.find('"', at + 15);
  sample.replace(at + 15, end - at - 15, key());
  write("allowlist.toml", "");
  auto whole = load_options(write("sample.toml", sample));
  EXPECT_TRUE(whole.is_ok()) << whole.status().to_string();
}

TEST_F(OptionsTest, LoadsAChildConfigAndResolvesPaths) {
  std::string k = key();
  auto o = load_options(write("node.toml", "[node]\ncode = \"441303001001\"\n[parent]\ncode = \"441303001000\"\n"
                                           "endpoint = \"tcp://127.0.0.1:1\"\npublic_key = \"" + k + "\"\n"
                                           "[link]\nheartbeat_interval_ms = 100\ndown_after_ms = 500\n"));
  ASSERT_TRUE(o.is_ok()) << o.status().to_string();
  EXPECT_EQ(o->code.to_string(), "441303001001");
  EXPECT_EQ(o->data_dir, dir_.sub("data"));
  EXPECT_EQ(o->link.heartbeat_interval_us, 100'000);
  EXPECT_EQ(o->control_endpoint, "ipc://" + dir_.sub("data") + "/control.sock");
}

TEST_F(OptionsTest, BadValuesAreErrorsNamingTheKey) {
  auto bad_code = load_options(write("a.toml", "[node]\ncode = \"44130300100\"\n"));
  EXPECT_FALSE(bad_code.is_ok());
  EXPECT_NE(bad_code.status().message().find("[node] code"), std::string::npos);
  auto bad_range = load_options(write("b.toml", "[node]\ncode = \"441303001001\"\n[link]\nwindow_max_records = 0\n"));
  EXPECT_NE(bad_range.status().message().find("window_max_records"), std::string::npos);
  auto bad_type = load_options(write("c.toml", "[node]\ncode = \"441303001001\"\n[link]\ndown_after_ms = \"soon\"\n"));
  EXPECT_NE(bad_type.status().message().find("wrong type"), std::string::npos);
  auto not_toml = load_options(write("d.toml", "[node\ncode = 1"));
  EXPECT_FALSE(not_toml.is_ok());
  auto foreign_parent = load_options(write("e.toml", "[node]\ncode = \"441303001001\"\n[parent]\ncode = \"441302000000\"\n"
                                                     "endpoint = \"tcp://127.0.0.1:1\"\npublic_key = \"" + key() + "\"\n"));
  EXPECT_NE(foreign_parent.status().message().find("does not contain"), std::string::npos);
  EXPECT_FALSE(load_options(dir_.sub("missing.toml")).is_ok());
}

TEST_F(OptionsTest, AllowlistRejectsChildrenOutsideTheJurisdiction) {
  write("allow.toml", "[[child]]\ncode = \"441302001001\"\npublic_key = \"" + key() + "\"\n");
  auto o = load_options(write("n.toml", "[node]\ncode = \"441303001000\"\n[listen]\nendpoint = \"tcp://127.0.0.1:1\"\n"
                                        "allowlist = \"allow.toml\"\n"));
  ASSERT_FALSE(o.is_ok());
  EXPECT_NE(o.status().message().find("not within"), std::string::npos);
}

TEST_F(OptionsTest, KeygenWritesSecretWithMode0600AndRefusesOverwrite) {
  auto kp = generate_keypair();
  ASSERT_TRUE(kp.is_ok());
  ASSERT_TRUE(write_keypair(dir_.sub("keys"), *kp).is_ok());
  struct stat st;
  ASSERT_EQ(::stat(dir_.sub("keys/node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*read_key_file(dir_.sub("keys/node.pub")), kp->public_key);
  EXPECT_FALSE(write_keypair(dir_.sub("keys"), *kp).is_ok());
}

}  // namespace
}  // namespace lifeline::runtime
