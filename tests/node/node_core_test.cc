// Two or three NodeCores over real temporary stores, wired by hand: each
// frame a core sends is captured and delivered (or not) by the test.
#include "node/core/node_core.h"

#include <gtest/gtest.h>

#include <deque>

#include "protocol/codec.h"
#include "tests/testing/temp_dir.h"

namespace lifeline::node {
namespace {

using topology::DivisionCode;

constexpr uint64_t kCounty = 441303000000;
constexpr uint64_t kTownship = 441303001000;
constexpr uint64_t kVillage = 441303001001;
constexpr uint64_t kOtherVillage = 441302001001;  // another county

DivisionCode code(uint64_t n) { return *DivisionCode::from_number(n); }

struct Captured {
  uint64_t from, to;
  std::string bytes;
};

class CaptureSink : public FrameSink {
 public:
  CaptureSink(uint64_t self, std::deque<Captured>& out) : self_(self), out_(out) {}
  bool send(uint64_t peer, std::string&& bytes) override {
    if (refuse) return false;
    out_.push_back({self_, peer, std::move(bytes)});
    return true;
  }
  bool refuse = false;

 private:
  uint64_t self_;
  std::deque<Captured>& out_;
};

struct TestNode {
  TestNode(const testing::TempDir& dir, uint64_t self, std::optional<uint64_t> parent, std::vector<uint64_t> children,
           std::deque<Captured>& wire)
      : sink(self, wire) {
    std::vector<DivisionCode> kids;
    for (uint64_t c : children) kids.push_back(code(c));
    std::optional<DivisionCode> p;
    if (parent) p = code(*parent);
    store = std::move(*storage::Store::open(storage::StorageOptions{dir.sub(std::to_string(self)), 1 << 20, false}, self));
    LinkOptions o;
    o.frame_max_records = 8;
    o.window_max_records = 32;
    core = std::make_unique<NodeCore>(topology::Neighbourhood(code(self), p, kids), store.get(), o);
    EXPECT_TRUE(core->start(Instant{0, 0}).is_ok());
  }
  LinkStatus link(uint64_t peer) const {
    for (auto& l : core->status().links)
      if (l.peer == peer) return l;
    return {};
  }
  storage::StreamMark mark(uint64_t origin) const {
    storage::StreamMark out;
    (void)store->read([&](const storage::ReadTxn& t) {
      for (auto& m : t.stream_marks())
        if (m.origin == origin) out = m;
    });
    return out;
  }
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<NodeCore> core;
  CaptureSink sink;
};

class NodeCoreTest : public ::testing::Test {
 protected:
  NodeCoreTest()
      : township(dir, kTownship, kCounty, {kVillage}, wire), village(dir, kVillage, kTownship, {}, wire) {}

  TestNode& node(uint64_t c) { return c == kTownship ? township : village; }
  // Flushes both nodes and delivers everything (frames to kCounty vanish), repeatedly.
  void pump(int rounds = 20, bool drop_acks_to_township = false) {
    for (int i = 0; i < rounds; ++i) {
      now.mono_us += 1000;
      now.wall_us += 1000;
      for (TestNode* n : {&township, &village}) {
        n->core->on_tick(now);
        n->core->flush(n->sink, now);
      }
      std::map<uint64_t, std::vector<InFrame>> batches;
      while (!wire.empty()) {
        Captured c = std::move(wire.front());
        wire.pop_front();
        if (c.to == kCounty || (drop_acks_to_township && c.to == kTownship)) continue;
        batches[c.to].push_back(InFrame{c.from, std::move(c.bytes)});
      }
      for (auto& [to, frames] : batches) ASSERT_TRUE(node(to).core->on_frames(frames, now).is_ok());
    }
  }

  testing::TempDir dir;
  std::deque<Captured> wire;
  TestNode township, village;
  Instant now{0, 0};
};

TEST_F(NodeCoreTest, ChildHelloBringsBothSidesUp) {
  pump(3);
  EXPECT_EQ(township.link(kVillage).state, LinkState::kUp);
  EXPECT_EQ(village.link(kTownship).state, LinkState::kUp);
}

TEST_F(NodeCoreTest, PostedMessagesArriveOnceAndOutboxEmpties) {
  pump(3);
  ASSERT_TRUE(township.core->post(kVillage, 100, 32, now).is_ok());
  pump(40);
  storage::StreamMark m = village.mark(kTownship);
  EXPECT_EQ(m.count, 100u);
  EXPECT_EQ(m.contiguous_through, 100u);
  EXPECT_EQ(township.link(kVillage).outbox_depth, 0u);
  EXPECT_EQ(township.link(kVillage).last_acked, 100u);
}

TEST_F(NodeCoreTest, MessagesPostedWhileDownWaitAndFlowAfterHello) {
  ASSERT_TRUE(village.core->post(kTownship, 10, 8, now).is_ok());
  EXPECT_EQ(village.link(kTownship).outbox_depth, 10u);
  pump(20);
  EXPECT_EQ(township.mark(kVillage).count, 10u);
}

TEST_F(NodeCoreTest, LostAcksDoNotStallTheLinkAndNothingAppliesTwice) {
  pump(3);
  ASSERT_TRUE(township.core->post(kVillage, 20, 8, now).is_ok());
  pump(5, /*drop_acks_to_township=*/true);
  EXPECT_GT(township.link(kVillage).outbox_depth, 0u);
  // Past resend_after with no ack progress, the township asks and resends.
  now.mono_us += 2'000'000;
  pump(20);
  EXPECT_EQ(village.mark(kTownship).count, 20u);
  EXPECT_EQ(township.link(kVillage).outbox_depth, 0u);
}

TEST_F(NodeCoreTest, LinkGoesDownWhenNothingIsHeard) {
  pump(3);
  now.mono_us += 5'000'000;
  township.core->on_tick(now);
  EXPECT_EQ(township.link(kVillage).state, LinkState::kDown);
}

TEST_F(NodeCoreTest, EachSideKnowsWhatThePeerAnnouncedUntilTheLinkGoesDown) {
  pump(3);
  EXPECT_EQ(township.link(kVillage).peer_features, protocol::kFeatures);
  EXPECT_EQ(village.link(kTownship).peer_features, protocol::kFeatures);
  // The village restarts as a node of an earlier release: its frames
  // announce nothing, and the township believes its latest frame.
  LinkOptions earlier;
  earlier.features = 0;
  village.core = std::make_unique<NodeCore>(village.core->neighbourhood(), village.store.get(), earlier);
  ASSERT_TRUE(village.core->start(now).is_ok());
  pump(3);
  EXPECT_EQ(township.link(kVillage).peer_features, 0u);
  // Up again as this release; then nothing is heard and the link goes down:
  // what the peer will be when it comes back is not known.
  village.core = std::make_unique<NodeCore>(village.core->neighbourhood(), village.store.get(), LinkOptions{});
  ASSERT_TRUE(village.core->start(now).is_ok());
  pump(3);
  EXPECT_EQ(township.link(kVillage).peer_features, protocol::kFeatures);
  now.mono_us += 5'000'000;
  township.core->on_tick(now);
  EXPECT_EQ(township.link(kVillage).state, LinkState::kDown);
  EXPECT_EQ(township.link(kVillage).peer_features, 0u);
}

TEST_F(NodeCoreTest, HeartbeatEchoMeasuresRoundTrip) {
  pump(5);
  EXPECT_GE(village.link(kTownship).rtt_us, 0);
}

TEST_F(NodeCoreTest, RefusedSendKeepsRecordsForLater) {
  pump(3);
  township.sink.refuse = true;
  ASSERT_TRUE(township.core->post(kVillage, 5, 8, now).is_ok());
  pump(3);
  EXPECT_EQ(village.mark(kTownship).count, 0u);
  township.sink.refuse = false;
  pump(10);
  EXPECT_EQ(village.mark(kTownship).count, 5u);
}

// A child sending a record whose origin is outside its own jurisdiction.
TEST_F(NodeCoreTest, ParentRefusesRecordFromChildWithForeignOrigin) {
  pump(3);
  protocol::Record forged{1, kOtherVillage, 1, kTownship, 1, 0, "x"};
  protocol::Frame f{kVillage, 0, protocol::Data{{forged}}};
  InFrame in{kVillage, protocol::encode_frame(f)};
  ASSERT_TRUE(township.core->on_frames(std::span(&in, 1), now).is_ok());
  EXPECT_EQ(township.link(kVillage).refusals, 1u);
  EXPECT_EQ(township.link(kVillage).last_applied, 1u);  // consumed, never applied
  EXPECT_EQ(township.mark(kOtherVillage).count, 0u);
}

// A parent sending a record for a destination outside the child's jurisdiction.
TEST_F(NodeCoreTest, ChildRefusesRecordFromParentForForeignDestination) {
  pump(3);
  protocol::Record stray{1, kCounty, 1, kOtherVillage, 1, 0, "x"};
  protocol::Frame f{kTownship, 0, protocol::Data{{stray}}};
  InFrame in{kTownship, protocol::encode_frame(f)};
  ASSERT_TRUE(village.core->on_frames(std::span(&in, 1), now).is_ok());
  EXPECT_EQ(village.link(kTownship).refusals, 1u);
  EXPECT_EQ(village.mark(kCounty).count, 0u);
}

TEST_F(NodeCoreTest, MalformedFrameIsRefusedAndChangesNothing) {
  pump(3);
  LinkStatus before = township.link(kVillage);
  InFrame garbage{kVillage, std::string("\x01\x02\x03garbage-bytes!!", 18)};
  ASSERT_TRUE(township.core->on_frames(std::span(&garbage, 1), now).is_ok());
  LinkStatus after = township.link(kVillage);
  EXPECT_EQ(after.malformed_frames, before.malformed_frames + 1);
  EXPECT_EQ(after.last_applied, before.last_applied);
  EXPECT_EQ(after.state, LinkState::kUp);
}

TEST_F(NodeCoreTest, FrameWhoseSenderFieldIsNotThePeerIsRefused) {
  pump(3);
  protocol::Frame f{kOtherVillage, 0, protocol::Data{{protocol::Record{1, kVillage, 1, kTownship, 1, 0, "x"}}}};
  InFrame in{kVillage, protocol::encode_frame(f)};
  ASSERT_TRUE(township.core->on_frames(std::span(&in, 1), now).is_ok());
  EXPECT_EQ(township.link(kVillage).malformed_frames, 1u);
  EXPECT_EQ(township.link(kVillage).last_applied, 0u);
}

TEST_F(NodeCoreTest, RecordsAfterAGapWaitForTheResend) {
  pump(3);
  protocol::Record r3{3, kVillage, 3, kTownship, 1, 0, "x"};
  InFrame in{kVillage, protocol::encode_frame(protocol::Frame{kVillage, 0, protocol::Data{{r3}}})};
  ASSERT_TRUE(township.core->on_frames(std::span(&in, 1), now).is_ok());
  EXPECT_EQ(township.link(kVillage).last_applied, 0u);
  EXPECT_EQ(township.mark(kVillage).count, 0u);
}

TEST_F(NodeCoreTest, CursorsAndOutboxSurviveRestart) {
  pump(3);
  ASSERT_TRUE(village.core->post(kTownship, 7, 8, now).is_ok());
  village.core = std::make_unique<NodeCore>(village.core->neighbourhood(), village.store.get(), LinkOptions{});
  ASSERT_TRUE(village.core->start(now).is_ok());
  EXPECT_EQ(village.link(kTownship).outbox_depth, 7u);
  pump(30);
  EXPECT_EQ(township.mark(kVillage).count, 7u);
}

TEST_F(NodeCoreTest, PostRejectsUnroutableAndOversizedRequests) {
  EXPECT_FALSE(township.core->post(12345, 1, 8, now).is_ok());
  EXPECT_FALSE(township.core->post(kVillage, 1, (2u << 20), now).is_ok());
}

}  // namespace
}  // namespace lifeline::node
