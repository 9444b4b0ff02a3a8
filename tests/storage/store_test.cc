#include "storage/store.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <map>
#include <optional>
#include <thread>

#include "tests/testing/temp_dir.h"

namespace lifeline::storage {
namespace {

constexpr uint64_t kSelf = 441303001000;
constexpr uint64_t kChild = 441303001001;
constexpr uint64_t kOther = 441303001002;

protocol::Record record(uint64_t link_seq, uint64_t origin_seq, size_t payload = 16) {
  return protocol::Record{link_seq, kChild, origin_seq, kSelf, 1, 42, std::string(payload, 'x')};
}

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> open(size_t map = size_t{1} << 20) {
    auto s = Store::open(StorageOptions{dir_.path(), map, true}, kSelf);
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    return std::move(s.value());
  }
  testing::TempDir dir_;
};

TEST_F(StoreTest, OutboxKeepsRecordsInLinkOrderPerPeer) {
  auto store = open();
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    for (uint64_t i = 1; i <= 5; ++i) t.outbox_put(kChild, record(i, i));
    t.outbox_put(kOther, record(1, 9));
    return Status::ok();
  }));
  std::vector<protocol::Record> out;
  ASSERT_TRUE(store->read([&](const ReadTxn& t) { t.outbox_read(kChild, 2, 10, 1 << 20, out); }));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out.front(), record(2, 2));
  EXPECT_EQ(out.back().link_seq, 5u);
}

TEST_F(StoreTest, OutboxReadStopsAtByteBudgetButReturnsAtLeastOne) {
  auto store = open();
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    for (uint64_t i = 1; i <= 5; ++i) t.outbox_put(kChild, record(i, i, 1000));
    return Status::ok();
  }));
  std::vector<protocol::Record> out;
  ASSERT_TRUE(store->read([&](const ReadTxn& t) { t.outbox_read(kChild, 1, 10, 10, out); }));
  EXPECT_EQ(out.size(), 1u);
}

TEST_F(StoreTest, DeleteThroughRemovesOnlyAcknowledgedEntriesOfThatPeer) {
  auto store = open();
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    for (uint64_t i = 1; i <= 5; ++i) t.outbox_put(kChild, record(i, i));
    t.outbox_put(kOther, record(1, 1));
    EXPECT_EQ(t.outbox_delete_through(kChild, 3), 3u);
    return Status::ok();
  }));
  ASSERT_TRUE(store->read([&](const ReadTxn& t) {
    EXPECT_EQ(t.outbox_seqs(kChild), (std::vector<uint64_t>{4, 5}));
    EXPECT_EQ(t.outbox_seqs(kOther), (std::vector<uint64_t>{1}));
  }));
}

TEST_F(StoreTest, FailedWriteLeavesNothingBehind) {
  auto store = open();
  Status s = store->write([](WriteTxn& t) {
    t.outbox_put(kChild, record(1, 1));
    t.put_cursor(kChild, LinkCursor{1, 0, 0});
    return Status::invalid_argument("caller changed its mind");
  });
  EXPECT_FALSE(s.is_ok());
  ASSERT_TRUE(store->read([&](const ReadTxn& t) {
    EXPECT_TRUE(t.outbox_seqs(kChild).empty());
    EXPECT_EQ(t.cursor(kChild), LinkCursor{});
  }));
}

// Reads a Table::kDomain key on another thread: what the last commit holds.
std::optional<std::string> read_elsewhere(const Store& store, const std::string& key) {
  std::optional<std::string> out;
  std::thread([&] {
    EXPECT_TRUE(store.read([&](const ReadTxn& t) {
      std::string_view v;
      if (t.get(Table::kDomain, key, v)) out = std::string(v);
    }));
  }).join();
  return out;
}

std::optional<std::string> read_here(const Store& store, const std::string& key) {
  std::optional<std::string> out;
  EXPECT_TRUE(store.read([&](const ReadTxn& t) {
    std::string_view v;
    if (t.get(Table::kDomain, key, v)) out = std::string(v);
  }));
  return out;
}

TEST_F(StoreTest, AGroupsWritesCommitTogetherAndOneThatFailsLeavesTheOthers) {
  auto store = open();
  store->begin_group();
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    t.put(Table::kDomain, "a", "1");
    return Status::ok();
  }));
  EXPECT_FALSE(store->write([](WriteTxn& t) {
    t.put(Table::kDomain, "a", "overwritten");
    t.put(Table::kDomain, "b", "2");
    return Status::invalid_argument("caller changed its mind");
  }));
  ASSERT_TRUE(store->write([&](WriteTxn& t) {
    // A write of the group sees the ones before it, and a read made
    // inside it sees what it wrote so far.
    std::string_view v;
    EXPECT_TRUE(t.get(Table::kDomain, "a", v) && v == "1");
    t.put(Table::kDomain, "c", "3");
    EXPECT_EQ(read_here(*store, "c"), "3");
    return Status::ok();
  }));
  // The writing thread reads what the group wrote; no other thread does
  // before the group's commit.
  EXPECT_EQ(read_here(*store, "a"), "1");
  EXPECT_EQ(read_here(*store, "b"), std::nullopt);
  EXPECT_EQ(read_elsewhere(*store, "a"), std::nullopt) << "a write of the group was committed on its own";
  EXPECT_EQ(read_elsewhere(*store, "c"), std::nullopt);
  ASSERT_TRUE(store->end_group());
  EXPECT_EQ(read_elsewhere(*store, "a"), "1");
  EXPECT_EQ(read_elsewhere(*store, "b"), std::nullopt);
  EXPECT_EQ(read_elsewhere(*store, "c"), "3");
  store.reset();
  store = open();
  EXPECT_EQ(read_here(*store, "a"), "1");
  EXPECT_EQ(read_here(*store, "c"), "3");
  // Outside a group, each write is its own commit again.
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    t.put(Table::kDomain, "d", "4");
    return Status::ok();
  }));
  EXPECT_EQ(read_elsewhere(*store, "d"), "4");
}

// The group's own commit must never find the map full (its writes have run
// and cannot run again): a group begins with room to spare, a large write
// commits with the group at once, and one too large for the room left runs
// again on its own, after the group's writes so far are committed.
TEST_F(StoreTest, AGroupKeepsRoomInTheMapAndATooLargeWriteOfItRunsOnItsOwn) {
  auto store = open(size_t{1} << 20);  // 1 MiB to start
  store->begin_group();
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    t.put(Table::kDomain, "small", "1");
    return Status::ok();
  }));
  EXPECT_GE(store->map_bytes() - store->used_bytes(), size_t{64} << 20) << "a group began without room to spare";
  EXPECT_EQ(read_elsewhere(*store, "small"), std::nullopt);
  auto large = [&](const std::string& name, int values, int& runs) {
    return store->write([&, name, values](WriteTxn& t) {
      ++runs;
      for (int i = 0; i < values; ++i) t.put(Table::kDomain, name + "." + std::to_string(i), std::string(1000, 'x'));
      return Status::ok();
    });
  };
  int runs = 0;
  ASSERT_TRUE(large("large", 1500, runs));  // ~1.5 MB: room enough
  EXPECT_EQ(runs, 1) << "a large write with room enough should not run twice";
  EXPECT_EQ(read_elsewhere(*store, "small"), "1") << "a large write commits the group at once";
  EXPECT_EQ(read_elsewhere(*store, "large.1499"), std::string(1000, 'x'));
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    t.put(Table::kDomain, "before", "2");
    return Status::ok();
  }));
  const size_t map = store->map_bytes();
  runs = 0;
  ASSERT_TRUE(large("huge", int(map / 4 / 1000), runs));  // a quarter of the map: more than the room kept for it
  EXPECT_EQ(runs, 2) << "the write too large for the room left should have run again on its own";
  EXPECT_EQ(read_elsewhere(*store, "before"), "2");
  EXPECT_EQ(read_elsewhere(*store, "huge.0"), std::string(1000, 'x'));
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    t.put(Table::kDomain, "after", "3");
    return Status::ok();
  }));
  EXPECT_EQ(read_here(*store, "after"), "3");
  EXPECT_EQ(read_elsewhere(*store, "after"), std::nullopt) << "the writes after a large one still make a group";
  ASSERT_TRUE(store->end_group());
  EXPECT_EQ(read_elsewhere(*store, "after"), "3");
}

// A group's transaction takes at most a bounded share of the room kept
// free: it commits early after 512 puts, whatever their size (a put of a
// few bytes can still split pages up to the root).
TEST_F(StoreTest, AGroupCommitsEarlyAfterManyPuts) {
  auto store = open();
  store->begin_group();
  for (int i = 0; i < 511; ++i) {
    ASSERT_TRUE(store->write([i](WriteTxn& t) {
      t.put(Table::kDomain, "p" + std::to_string(i), "v");
      return Status::ok();
    }));
  }
  EXPECT_EQ(read_elsewhere(*store, "p0"), std::nullopt);
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    t.put(Table::kDomain, "p511", "v");
    return Status::ok();
  }));
  EXPECT_EQ(read_elsewhere(*store, "p0"), "v") << "the group should have committed at its 512th put";
  EXPECT_EQ(read_elsewhere(*store, "p511"), "v");
  ASSERT_TRUE(store->end_group());
}

TEST_F(StoreTest, CursorsSurviveReopen) {
  {
    auto store = open();
    ASSERT_TRUE(store->write([](WriteTxn& t) {
      t.put_cursor(kChild, LinkCursor{7, 5, 3});
      return Status::ok();
    }));
  }
  auto store = open();
  ASSERT_TRUE(store->read([&](const ReadTxn& t) { EXPECT_EQ(t.cursor(kChild), (LinkCursor{7, 5, 3})); }));
}

TEST_F(StoreTest, RefusesStoreOfAnotherNode) {
  { auto store = open(); }
  auto other = Store::open(StorageOptions{dir_.path(), 1 << 20, true}, kOther);
  EXPECT_FALSE(other.is_ok());
}

TEST_F(StoreTest, ApplyDedupesAndTracksContiguousThrough) {
  auto store = open();
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    EXPECT_EQ(t.apply(record(0, 1), 1), ApplyOutcome::kApplied);
    EXPECT_EQ(t.apply(record(0, 3), 1), ApplyOutcome::kApplied);  // out of order
    EXPECT_EQ(t.apply(record(0, 1), 1), ApplyOutcome::kDuplicate);
    EXPECT_EQ(t.apply(record(0, 3), 1), ApplyOutcome::kDuplicate);
    EXPECT_EQ(t.apply(record(0, 2), 1), ApplyOutcome::kApplied);  // closes the gap
    return Status::ok();
  }));
  ASSERT_TRUE(store->read([&](const ReadTxn& t) {
    auto marks = t.stream_marks();
    ASSERT_EQ(marks.size(), 1u);
    EXPECT_EQ(marks[0].contiguous_through, 3u);
    EXPECT_EQ(marks[0].count, 3u);
    EXPECT_EQ(marks[0].out_of_order, 1u);
    size_t inbox = 0;
    t.for_each_inbox([&](const InboxEntry&) { return ++inbox, true; });
    EXPECT_EQ(inbox, 3u);
  }));
}

TEST_F(StoreTest, OriginSequencesArePerDestinationAndDurable) {
  auto store = open();
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    EXPECT_EQ(t.next_origin_seq(kChild), 1u);
    EXPECT_EQ(t.next_origin_seq(kChild), 2u);
    EXPECT_EQ(t.next_origin_seq(kOther), 1u);
    return Status::ok();
  }));
  ASSERT_TRUE(store->write([](WriteTxn& t) {
    EXPECT_EQ(t.next_origin_seq(kChild), 3u);
    return Status::ok();
  }));
}

TEST_F(StoreTest, MapGrowsWhenFullWithoutLosingTheTransaction) {
  auto store = open(size_t{1} << 20);  // 1 MiB to start
  size_t initial = store->map_bytes();
  int runs = 0;
  Status s = store->write([&](WriteTxn& t) {
    ++runs;
    for (uint64_t i = 1; i <= 4000; ++i) t.outbox_put(kChild, record(i, i, 1000));  // ~4 MB in one transaction
    return Status::ok();
  });
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_GT(runs, 1) << "the first run should have hit MDB_MAP_FULL";
  EXPECT_GT(store->map_bytes(), initial);
  ASSERT_TRUE(store->read([&](const ReadTxn& t) { EXPECT_EQ(t.outbox_seqs(kChild).size(), 4000u); }));
}

TEST_F(StoreTest, AscendingKeysFillTheirPagesAndOtherKeysStillGoInPlace) {
  auto store = open(size_t{64} << 20);
  auto key = [](uint64_t i) {
    std::string k(8, '\0');
    for (int b = 7; b >= 0; --b, i >>= 8) k[b] = static_cast<char>(i & 0xFF);
    return k;
  };
  std::map<std::string, std::string> expected;
  const size_t used0 = store->used_bytes();
  ASSERT_TRUE(store->write([&](WriteTxn& t) {
    for (uint64_t i = 0; i < 2'000; ++i) {
      // Ascending keys (appended), and now and then one below the last.
      const std::string k = key(i % 97 == 50 ? 2 * (i - 50) + 1 : 2 * i);
      // Values of the size of a household's record: LMDB's usual split
      // leaves one such value a page where two fit.
      const std::string v = std::string(1'500, static_cast<char>('a' + i % 26));
      t.put(Table::kHouseholds, k, v);
      expected[k] = v;
    }
    t.put(Table::kHouseholds, key(2 * 1'999), "the last key, rewritten");
    expected[key(2 * 1'999)] = "the last key, rewritten";
    t.put(Table::kHouseholds, key(7), "a key in the middle");
    expected[key(7)] = "a key in the middle";
    return Status::ok();
  }));
  std::map<std::string, std::string> held;
  size_t bytes = 0;
  ASSERT_TRUE(store->read([&](const ReadTxn& t) {
    t.scan_from(Table::kHouseholds, "", [&](std::string_view k, std::string_view v) {
      held.emplace(k, v);
      bytes += k.size() + v.size();
      return true;
    });
  }));
  EXPECT_EQ(held, expected);
  // Filled pages take about a third more than the keys and values (two
  // values of 1,500 bytes a 4 KiB page); one value a page would take 2.7×.
  EXPECT_LT(static_cast<double>(store->used_bytes() - used0), 1.6 * static_cast<double>(bytes));
}

// LMDB keeps the pages a write transaction dirtied, once it commits, for
// later transactions, and frees them only when the environment closes.
// (This test binary uses glibc's malloc, whose mallinfo2 counts the heap in
// use.)
TEST_F(StoreTest, ReopeningGivesBackThePagesOfALargeTransactionAndKeepsEverything) {
  auto store = open(size_t{64} << 20);
  auto heap_in_use = [] { return static_cast<double>(mallinfo2().uordblks); };
  auto key = [](uint64_t i) { return std::to_string(i * 2654435761u % 1'000'003u); };
  std::map<std::string, std::string> expected;
  for (uint64_t i = 0; i < 16'000; ++i) expected[key(i)] = std::string(1'500, static_cast<char>('a' + i % 26));
  expected["after"] = "the reopen";  // written after it
  const double heap0 = heap_in_use();
  ASSERT_TRUE(store->write([&](WriteTxn& t) {
    for (const auto& [k, v] : expected) {
      if (k != "after") t.put(Table::kHouseholds, k, v);
    }
    return Status::ok();
  }));
  // 24 MB of values dirtied more pages than that.
  const double retained = heap_in_use() - heap0;
  EXPECT_GT(retained, 24e6);
  // Reading from another thread meanwhile: reads wait for the reopen.
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, wrong{0};
  std::thread reader([&] {
    while (!stop) {
      Status s = store->read([&](const ReadTxn& t) {
        std::string_view v;
        if (!t.get(Table::kHouseholds, key(77), v) || v != expected.at(key(77))) ++wrong;
      });
      if (!s) ++wrong;
      ++reads;
    }
  });
  while (reads < 10) std::this_thread::yield();
  ASSERT_TRUE(store->release_retained_pages());
  while (reads < 20) std::this_thread::yield();
  stop = true;
  reader.join();
  EXPECT_EQ(wrong, 0);
  // The new environment's own arrays (3 MiB: its dirty list and free-page
  // list) may now come from the freed heap: a quarter is the margin.
  EXPECT_LT(heap_in_use() - heap0, retained / 4) << "retained " << retained << " bytes before the reopen";
  // Everything is still there, and the store still writes.
  ASSERT_TRUE(store->write([&](WriteTxn& t) {
    t.put(Table::kHouseholds, "after", "the reopen");
    return Status::ok();
  }));
  std::map<std::string, std::string> held;
  ASSERT_TRUE(store->read([&](const ReadTxn& t) {
    t.scan_from(Table::kHouseholds, "", [&](std::string_view k, std::string_view v) {
      held.emplace(k, v);
      return true;
    });
  }));
  EXPECT_EQ(held, expected);
  EXPECT_EQ(store->bytes_written(), [&] {
    uint64_t n = 0;
    for (const auto& [k, v] : expected) n += k.size() + v.size();
    return n;
  }());
  // Small transactions since: nothing worth a reopen, nothing changes.
  const double heap1 = heap_in_use();
  ASSERT_TRUE(store->release_retained_pages());
  EXPECT_NEAR(heap_in_use(), heap1, 1e6);
}

TEST_F(StoreTest, CountersAccumulate) {
  auto store = open();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store->write([](WriteTxn& t) {
      t.add_counter("refused:441303001001", 2);
      return Status::ok();
    }));
  }
  ASSERT_TRUE(store->read([&](const ReadTxn& t) { EXPECT_EQ(t.counters().at("refused:441303001001"), 6u); }));
}

}  // namespace
}  // namespace lifeline::storage
