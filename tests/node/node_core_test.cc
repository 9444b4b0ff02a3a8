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

// A stand-in for the monitoring domain: records of kinds 2..10 write a
// key; "poison" throws after writing (as a JSON field of the wrong type
// would), "oversize" writes a key LMDB cannot hold; kind 3 travels one link
// only; "damaged" cannot be rewritten for a peer.
class StubDomain : public DomainHandler {
 public:
  bool handles(uint16_t kind) const override { return kind >= 2 && kind <= 10; }
  bool neighbour_only(uint16_t kind) const override { return kind == 3; }
  void begin() override {}
  void committed() override {}
  Status on_record(storage::WriteTxn& txn, const protocol::Record& r, uint64_t, Outbound&, const Instant&) override {
    txn.put(storage::Table::kDomain, "got:" + r.payload, "1");
    if (r.payload == "poison") throw std::runtime_error("type must be string, but is number");
    if (r.payload == "oversize") txn.put(storage::Table::kDomain, std::string(600, 'k'), "1");
    return Status::ok();
  }
  Status adapt_for_peer(protocol::Record& r, uint64_t) const override {
    return r.payload == "damaged" ? Status::corruption("not a zstd frame") : Status::ok();
  }
};

bool has_key(const TestNode& n, const std::string& key) {
  bool found = false;
  (void)n.store->read([&](const storage::ReadTxn& t) {
    std::string_view v;
    found = t.get(storage::Table::kDomain, key, v);
  });
  return found;
}

// A record that throws while it applies (a field of the wrong type, a key
// too long for LMDB) used to fail its whole batch at every resend, holding
// up the link for good. It is refused alone; what it wrote is undone; the
// records after it apply.
TEST_F(NodeCoreTest, ARecordThatFailsToApplyIsRefusedAloneAndTheLinkGoesOn) {
  StubDomain domain;
  township.core->set_domain(&domain);
  pump(3);
  std::vector<protocol::Record> recs;
  uint64_t seq = 0;
  for (const char* p : {"before", "poison", "oversize", "after"}) {
    ++seq;
    recs.push_back(protocol::Record{seq, kVillage, seq, kTownship, 2, 0, p});
  }
  protocol::Frame f{kVillage, 0, protocol::Data{recs}};
  InFrame in{kVillage, protocol::encode_frame(f)};
  ASSERT_TRUE(township.core->on_frames(std::span(&in, 1), now).is_ok());
  EXPECT_EQ(township.link(kVillage).last_applied, 4u);
  EXPECT_EQ(township.link(kVillage).refusals, 2u);
  EXPECT_TRUE(has_key(township, "got:before"));
  EXPECT_TRUE(has_key(township, "got:after"));
  EXPECT_FALSE(has_key(township, "got:poison"));
  EXPECT_FALSE(has_key(township, "got:oversize"));
  // A resend of the same frame is a duplicate: nothing more is refused.
  ASSERT_TRUE(township.core->on_frames(std::span(&in, 1), now).is_ok());
  EXPECT_EQ(township.link(kVillage).refusals, 2u);
  township.core->set_domain(nullptr);
}

// A child must not have its parent relay, in its own name, a kind that
// travels one link (a policy for a sibling); nor a parent pass on such a
// record made above it.
TEST_F(NodeCoreTest, ARecordOfAOneLinkKindIsTakenOnlyFromTheNeighbourThatMadeItForThisNode) {
  StubDomain domain;
  township.core->set_domain(&domain);
  village.core->set_domain(&domain);
  pump(3);
  protocol::Record own{1, kVillage, 1, kTownship, 3, 0, "own"};
  protocol::Record relayed{2, kVillage, 1, kCounty, 3, 0, "relayed"};
  protocol::Frame up{kVillage, 0, protocol::Data{{own, relayed}}};
  InFrame in{kVillage, protocol::encode_frame(up)};
  ASSERT_TRUE(township.core->on_frames(std::span(&in, 1), now).is_ok());
  EXPECT_TRUE(has_key(township, "got:own"));
  EXPECT_EQ(township.link(kVillage).refusals, 1u);
  EXPECT_EQ(township.link(kCounty).outbox_depth, 0u);  // not passed on
  protocol::Record from_above{1, kCounty, 1, kVillage, 3, 0, "from_above"};
  protocol::Frame down{kTownship, 0, protocol::Data{{from_above}}};
  InFrame in2{kTownship, protocol::encode_frame(down)};
  ASSERT_TRUE(village.core->on_frames(std::span(&in2, 1), now).is_ok());
  EXPECT_FALSE(has_key(village, "got:from_above"));
  EXPECT_EQ(village.link(kTownship).refusals, 1u);
  township.core->set_domain(nullptr);
  village.core->set_domain(nullptr);
}

// A record whose route leads back to the link it came from is refused, not
// sent back down it.
TEST_F(NodeCoreTest, ARecordRoutedBackToTheLinkItCameFromIsRefused) {
  pump(3);
  protocol::Record bounce{1, kVillage, 1, kVillage, 1, 0, "x"};
  protocol::Frame f{kVillage, 0, protocol::Data{{bounce}}};
  InFrame in{kVillage, protocol::encode_frame(f)};
  ASSERT_TRUE(township.core->on_frames(std::span(&in, 1), now).is_ok());
  EXPECT_EQ(township.link(kVillage).refusals, 1u);
  EXPECT_EQ(township.link(kVillage).outbox_depth, 0u);
}

// A record in the outbox that cannot be rewritten for the peer used to stop
// the node (and again at each reconnect). It goes as it is.
TEST_F(NodeCoreTest, ARecordThatCannotBeRewrittenForThePeerGoesAsItIs) {
  StubDomain domain;
  township.core->set_domain(&domain);
  village.core->set_domain(&domain);
  pump(3);
  ASSERT_TRUE(township.core
                  ->execute([](storage::WriteTxn&, Outbound& out) {
                    out.send(kVillage, static_cast<protocol::MessageKind>(2), "damaged");
                    return Status::ok();
                  }, now)
                  .is_ok());
  pump(10);
  EXPECT_TRUE(has_key(village, "got:damaged"));
  EXPECT_EQ(township.link(kVillage).outbox_depth, 0u);
  township.core->set_domain(nullptr);
  village.core->set_domain(nullptr);
}

// A stamp far in the future (a neighbour's clock set wrong, or one bad
// record) moves this node's clock no further than max_clock_lead_us ahead of
// its wall clock, or every clock of the tree would follow it; the record
// still applies and the clamp is counted.
TEST_F(NodeCoreTest, AStampFarAheadMovesTheClockOnlyUpToTheAllowedLead) {
  pump(3);
  now.wall_us = 1'790'000'000'000'000;  // 2026-09
  const uint64_t ten_days_ahead = static_cast<uint64_t>(now.wall_us / 1000 + 10LL * 86'400'000) << 16;
  for (uint64_t stamp : {ten_days_ahead, ~uint64_t{0} - 1}) {
    const uint64_t seq = village.link(kTownship).last_applied + 1;
    protocol::Record r{seq, kTownship, seq, kVillage, 1, stamp, "x"};
    protocol::Frame f{kTownship, 0, protocol::Data{{r}}};
    InFrame in{kTownship, protocol::encode_frame(f)};
    ASSERT_TRUE(village.core->on_frames(std::span(&in, 1), now).is_ok());
  }
  EXPECT_EQ(village.mark(kTownship).count, 2u);
  EXPECT_EQ(village.core->status().counters["clock_ahead"], 2u);
  uint64_t stored = 0;
  (void)village.store->read([&](const storage::ReadTxn& t) { stored = t.hlc(); });
  const uint64_t ceiling = static_cast<uint64_t>((now.wall_us + LinkOptions{}.max_clock_lead_us) / 1000) << 16;
  EXPECT_GT(stored, static_cast<uint64_t>(now.wall_us / 1000) << 16);
  EXPECT_LE(stored, ceiling);
}

// Acks that come without data are committed at once, their data pages
// synced (never with MDB_NOSYNC, which could corrupt the store on a power
// loss): the entries they free are deleted, and a restart resumes from them.
TEST_F(NodeCoreTest, AcksWithoutDataDeleteTheEntriesTheyFreeAndSurviveARestart) {
  pump(3);
  ASSERT_TRUE(township.core->post(kVillage, 10, 8, now).is_ok());
  pump(20);
  ASSERT_EQ(village.mark(kTownship).count, 10u);
  EXPECT_EQ(township.link(kVillage).last_acked, 10u);
  storage::LinkCursor stored;
  size_t entries = 0;
  (void)township.store->read([&](const storage::ReadTxn& t) {
    stored = t.all_cursors()[kVillage];
    std::vector<protocol::Record> out;
    t.outbox_read(kVillage, 1, 100, 1 << 20, out);
    entries = out.size();
  });
  EXPECT_EQ(stored.acked, 10u);
  EXPECT_EQ(entries, 0u);
  township.core = std::make_unique<NodeCore>(
      topology::Neighbourhood(code(kTownship), code(kCounty), {code(kVillage)}), township.store.get(), LinkOptions{});
  ASSERT_TRUE(township.core->start(now).is_ok());
  EXPECT_EQ(township.link(kVillage).last_acked, 10u);
  EXPECT_EQ(township.link(kVillage).outbox_depth, 0u);
}

}  // namespace
}  // namespace lifeline::node
