// Store::write_deferred: the callback on a thread of its own against a
// snapshot, its writes replayed into LMDB meanwhile. Each test checks what
// the store holds afterwards against the same callback run the ordinary way
// (Store::write) into a second store, and whether the deferred way was
// taken or fell back (Store::deferred_stats).
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "storage/store.h"
#include "tests/testing/temp_dir.h"

namespace lifeline::storage {
namespace {

constexpr uint64_t kSelf = 441303000000;
constexpr uint64_t kChild = 441303001000;

std::string key(uint64_t i) {
  std::string k(8, '\0');
  for (int b = 7; b >= 0; --b, i >>= 8) k[b] = static_cast<char>(i & 0xFF);
  return k;
}

class DeferredWriteTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> open(const std::string& name, size_t map = size_t{64} << 20) {
    auto s = Store::open(StorageOptions{dir_.sub(name), map, false}, kSelf);
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    return std::move(s.value());
  }
  // Every entry of table t.
  static std::map<std::string, std::string> contents(const Store& store, Table t) {
    std::map<std::string, std::string> out;
    EXPECT_TRUE(store.read([&](const ReadTxn& r) {
      r.scan_from(t, "", [&](std::string_view k, std::string_view v) {
        out.emplace(k, v);
        return true;
      });
    }).is_ok());
    return out;
  }
  // The same callback into a fresh store each way: deferred and ordinary.
  void both_ways(const std::function<void(Store&)>& setup, const std::function<Status(WriteTxn&)>& fn,
                 Store::DeferredStats expected) {
    auto deferred = open("deferred");
    auto ordinary = open("ordinary");
    setup(*deferred);
    setup(*ordinary);
    ASSERT_TRUE(deferred->write_deferred(fn).is_ok());
    ASSERT_TRUE(ordinary->write(fn).is_ok());
    const Store::DeferredStats stats = deferred->deferred_stats();
    EXPECT_EQ(stats.committed, expected.committed);
    EXPECT_EQ(stats.conflicts, expected.conflicts);
    EXPECT_EQ(stats.map_full, expected.map_full);
    for (Table t : {Table::kAlerts, Table::kHistory, Table::kEvents, Table::kDomain}) {
      EXPECT_EQ(contents(*deferred, t), contents(*ordinary, t)) << table_name(t);
    }
  }
  testing::TempDir dir_{true};
  int counter_ = 0;
};

void preload(Store& store) {
  ASSERT_TRUE(store.write([](WriteTxn& t) {
    for (uint64_t i = 0; i < 100; ++i) t.put(Table::kAlerts, key(i * 10), "old " + std::to_string(i));
    t.put(Table::kDomain, "seq", "7");
    return Status::ok();
  }).is_ok());
}

TEST_F(DeferredWriteTest, LookupsSeeTheTransactionsOwnWritesAndEverythingCommits) {
  both_ways(preload, [](WriteTxn& t) {
    std::string_view v;
    // Many chunks of writes, out of key order, with overwrites and deletes of
    // keys held before and of keys written in this transaction.
    std::mt19937_64 rng(7);
    for (uint64_t i = 0; i < 30'000; ++i) t.put(Table::kHistory, key(rng() % 20'000), "h" + std::to_string(i));
    for (uint64_t i = 0; i < 90; i += 3) EXPECT_TRUE(t.del(Table::kAlerts, key(i * 10)));
    EXPECT_FALSE(t.del(Table::kAlerts, key(5))) << "never held";
    t.put(Table::kAlerts, key(5), "new");
    EXPECT_TRUE(t.get(Table::kAlerts, key(5), v));
    EXPECT_EQ(v, "new");
    EXPECT_TRUE(t.del(Table::kAlerts, key(5)));
    EXPECT_FALSE(t.get(Table::kAlerts, key(5), v)) << "deleted in this transaction";
    EXPECT_FALSE(t.del(Table::kAlerts, key(5)));
    EXPECT_FALSE(t.get(Table::kAlerts, key(0), v)) << "held before, deleted in this transaction";
    EXPECT_TRUE(t.get(Table::kAlerts, key(10), v));
    EXPECT_EQ(v, "old 1") << "held before, untouched";
    // A read-modify-write of one key, as counters and sequences are kept.
    for (int i = 0; i < 50; ++i) {
      EXPECT_TRUE(t.get(Table::kDomain, "seq", v));
      t.put(Table::kDomain, "seq", std::to_string(std::stoi(std::string(v)) + 1));
    }
    EXPECT_TRUE(t.get(Table::kDomain, "seq", v));
    EXPECT_EQ(v, "57");
    // Keys in ascending order (appended at the end of the table) and an
    // overwrite of the last one.
    for (uint64_t i = 0; i < 5'000; ++i) t.put(Table::kEvents, key(1'000'000 + i), std::string(100, 'e'));
    t.put(Table::kEvents, key(1'000'000 + 4'999), "last, rewritten");
    // A scan that cannot meet a written key (all are below key(900)) is exact.
    int held = 0;
    t.scan_from(Table::kAlerts, key(950), [&](std::string_view, std::string_view) { return ++held, true; });
    EXPECT_EQ(held, 5);
    return Status::ok();
  }, {1, 0, 0});
}

TEST_F(DeferredWriteTest, AScanOverWrittenKeysRunsTheTransactionAgainTheOrdinaryWay) {
  int runs = 0;
  size_t seen_last_run = 0;
  auto deferred = open("deferred");
  preload(*deferred);
  ASSERT_TRUE(deferred->write_deferred([&](WriteTxn& t) {
    ++runs;
    t.put(Table::kAlerts, key(15), "written");
    size_t seen = 0;
    // Keys from 0 up: the written key 15 lies among them.
    t.scan_from(Table::kAlerts, key(0), [&](std::string_view, std::string_view) { return ++seen, true; });
    seen_last_run = seen;
    return Status::ok();
  }).is_ok());
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(seen_last_run, 101u) << "the ordinary run's scan sees the key it wrote";
  EXPECT_EQ(deferred->deferred_stats().conflicts, 1u);
  EXPECT_EQ(deferred->deferred_stats().committed, 0u);
  EXPECT_EQ(contents(*deferred, Table::kAlerts).size(), 101u);
}

TEST_F(DeferredWriteTest, ScansAndCountsThatCouldMeetWrittenKeysConflict) {
  auto conflicts = [&](const std::function<void(WriteTxn&)>& read) {
    auto store = open("s" + std::to_string(counter_++));
    preload(*store);
    EXPECT_TRUE(store->write_deferred([&](WriteTxn& t) {
      t.put(Table::kAlerts, key(500), "written");  // between key(490) and key(500)'s successor
      read(t);
      return Status::ok();
    }).is_ok());
    return store->deferred_stats().conflicts == 1;
  };
  auto noop = [](std::string_view, std::string_view) { return true; };
  EXPECT_TRUE(conflicts([&](WriteTxn& t) { t.scan(Table::kAlerts, key(500), noop); }));
  EXPECT_TRUE(conflicts([&](WriteTxn& t) { t.scan(Table::kAlerts, key(500).substr(0, 7), noop); }));
  EXPECT_TRUE(conflicts([&](WriteTxn& t) { (void)t.entries(Table::kAlerts); }));
  EXPECT_FALSE(conflicts([&](WriteTxn& t) { t.scan(Table::kAlerts, key(501), noop); }));
  EXPECT_FALSE(conflicts([&](WriteTxn& t) { t.scan(Table::kAlerts, key(499), noop); }));
  EXPECT_FALSE(conflicts([&](WriteTxn& t) { t.scan_from(Table::kAlerts, key(501), noop); }));
  EXPECT_FALSE(conflicts([&](WriteTxn& t) { (void)t.entries(Table::kHistory); }));
  EXPECT_FALSE(conflicts([&](WriteTxn& t) { t.scan_from(Table::kHistory, "", noop); }));
}

TEST_F(DeferredWriteTest, AFailedCallbackLeavesNothingBehind) {
  auto store = open("failed");
  preload(*store);
  const auto before = contents(*store, Table::kAlerts);
  Status s = store->write_deferred([](WriteTxn& t) {
    for (uint64_t i = 0; i < 20'000; ++i) t.put(Table::kAlerts, key(i), "doomed");
    EXPECT_TRUE(t.del(Table::kAlerts, key(10)));
    return Status::invalid_argument("refused after writing");
  });
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(contents(*store, Table::kAlerts), before);
  EXPECT_EQ(store->deferred_stats().committed, 0u);
}

TEST_F(DeferredWriteTest, AFullMapRunsTheTransactionAgainTheOrdinaryWayWhichGrowsIt) {
  auto store = open("full", size_t{1} << 20);  // 1 MiB to start
  int runs = 0;
  Status s = store->write_deferred([&](WriteTxn& t) {
    ++runs;
    for (uint64_t i = 0; i < 4'000; ++i) t.put(Table::kHistory, key(i), std::string(1'000, 'x'));  // ~4 MB
    t.outbox_put(kChild, protocol::Record{1, kSelf, 1, kChild, 1, 42, "payload"});
    return Status::ok();
  });
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_GE(runs, 2);
  EXPECT_EQ(store->deferred_stats().map_full, 1u);
  EXPECT_EQ(contents(*store, Table::kHistory).size(), 4'000u);
  ASSERT_TRUE(store->read([&](const ReadTxn& t) { EXPECT_EQ(t.outbox_seqs(kChild), std::vector<uint64_t>{1}); }).is_ok());
}

TEST_F(DeferredWriteTest, OutboxRecordsAndTheirSequencesAreWrittenAsTheOrdinaryWayWrites) {
  auto deferred = open("deferred");
  auto ordinary = open("ordinary");
  auto fn = [](WriteTxn& t) {
    for (uint64_t i = 1; i <= 3'000; ++i) {
      uint64_t seq = t.next_origin_seq(kChild);
      t.outbox_put(kChild, protocol::Record{i, kSelf, seq, kChild, 1, 42, std::string(50 + i % 7, 'p')});
    }
    t.put_cursor(kChild, LinkCursor{3'000, 0, 0});
    return Status::ok();
  };
  ASSERT_TRUE(deferred->write_deferred(fn).is_ok());
  ASSERT_TRUE(ordinary->write(fn).is_ok());
  EXPECT_EQ(deferred->deferred_stats().committed, 1u);
  std::vector<protocol::Record> a, b;
  ASSERT_TRUE(deferred->read([&](const ReadTxn& t) {
    t.outbox_read(kChild, 1, 10'000, size_t{1} << 30, a);
    EXPECT_EQ(t.cursor(kChild).last_assigned, 3'000u);
  }).is_ok());
  ASSERT_TRUE(ordinary->read([&](const ReadTxn& t) { t.outbox_read(kChild, 1, 10'000, size_t{1} << 30, b); }).is_ok());
  ASSERT_EQ(a.size(), 3'000u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.back().origin_seq, 3'000u);
}

TEST_F(DeferredWriteTest, DeletingAcknowledgedOutboxRecordsIsLeftToTheOrdinaryWay) {
  auto store = open("acks");
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    for (uint64_t i = 1; i <= 5; ++i) t.outbox_put(kChild, protocol::Record{i, kSelf, i, kChild, 1, 42, "p"});
    return Status::ok();
  }).is_ok());
  ASSERT_TRUE(store->write_deferred([](WriteTxn& t) {
    EXPECT_EQ(t.outbox_delete_through(kChild, 3), 3u);
    return Status::ok();
  }).is_ok());
  EXPECT_EQ(store->deferred_stats().conflicts, 1u);
  ASSERT_TRUE(store->read([&](const ReadTxn& t) { EXPECT_EQ(t.outbox_seqs(kChild), (std::vector<uint64_t>{4, 5})); }).is_ok());
}

}  // namespace
}  // namespace lifeline::storage
