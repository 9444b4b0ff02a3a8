#include "storage/store.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <fstream>
#include <map>

#include "storage/lmdb_env.h"
#include "storage/tables.h"
#include "topology/logging.h"

namespace lifeline::storage {
namespace {

constexpr std::string_view kHlcKey = "hlc";  // meta: the hybrid logical clock (tables.h)

using tables::get_be64;
using tables::get_le64;
using tables::key64;
using tables::put_le64;

constexpr int kMaxGrowRetries = 40;
// Group commit (Store::write_in_group). The group's own commit must never
// find the map full: by then its writes have run and been answered for, and
// cannot be run again. So a group's transaction begins only with at least
// kGroupHeadroomBytes (and at least as much as is used) free in the map, and
// commits as soon as its writes put kGroupBytesCommittedAtOnce: its small
// writes dirty a few MiB of pages at most (32 tasks a turn), far below the
// room kept free. A write that puts kLargeGroupWriteBytes or more (an
// import) commits with the group at once if the map has kRoomPerByte times
// what the group put free, and more; else it is undone and runs again on
// its own, outside the group's transaction (where a full map at commit
// grows the map and runs it again).
constexpr uint64_t kGroupHeadroomBytes = 64u << 20;
constexpr uint64_t kLargeGroupWriteBytes = 256u << 10;
constexpr uint64_t kRoomPerByte = 4;  // pages a put dirties, over its key and value: generous for large writes
constexpr uint64_t kGroupBytesCommittedAtOnce = 4u << 20;
// ... or as soon as they made this many puts. A put dirties at most a leaf
// and its path to the root, split (about 15 pages in these tables' depth),
// plus the overflow pages of a large value (counted in the bytes above): a
// group's transaction thus takes at most about 30 MiB of the 64 MiB kept
// free before any write of it starts, and a write that then fills the map
// leaves the group's commit the room it took.
constexpr uint64_t kGroupPutsCommittedAtOnce = 512;
constexpr size_t kRecordHeaderBytes = 34;  // origin, origin_seq, destination, hlc, kind

// Writes r's outbox value (kRecordHeaderBytes + payload) at out.
void encode_record_value(const protocol::Record& r, char* out) {
  put_le64(out, r.origin);
  put_le64(out + 8, r.origin_seq);
  put_le64(out + 16, r.destination);
  put_le64(out + 24, r.hlc);
  std::memcpy(out + 32, &r.kind, 2);
  std::memcpy(out + kRecordHeaderBytes, r.payload.data(), r.payload.size());
}

void decode_record_value(std::string_view v, protocol::Record& r) {
  if (v.size() < kRecordHeaderBytes) throw LmdbError("outbox value too short", MDB_CORRUPTED);
  r.origin = get_le64(v.data());
  r.origin_seq = get_le64(v.data() + 8);
  r.destination = get_le64(v.data() + 16);
  r.hlc = get_le64(v.data() + 24);
  std::memcpy(&r.kind, v.data() + 32, 2);
  r.payload.assign(v.data() + kRecordHeaderBytes, v.size() - kRecordHeaderBytes);
}

std::string encode_cursor(const LinkCursor& c) {
  std::string v(24, '\0');
  put_le64(v.data(), c.last_assigned);
  put_le64(v.data() + 8, c.acked);
  put_le64(v.data() + 16, c.applied);
  return v;
}

LinkCursor decode_cursor(std::string_view v) {
  if (v.size() != 24) throw LmdbError("cursor value has wrong size", MDB_CORRUPTED);
  return LinkCursor{get_le64(v.data()), get_le64(v.data() + 8), get_le64(v.data() + 16)};
}

std::string encode_mark(const StreamMark& m) {
  std::string v(24, '\0');
  put_le64(v.data(), m.contiguous_through);
  put_le64(v.data() + 8, m.count);
  put_le64(v.data() + 16, m.out_of_order);
  return v;
}

// RAII over MDB_cursor.
class Cursor {
 public:
  Cursor(MDB_txn* txn, MDB_dbi dbi) { check_lmdb(mdb_cursor_open(txn, dbi, &cursor_), "mdb_cursor_open"); }
  ~Cursor() { mdb_cursor_close(cursor_); }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  // Positions at the first key ≥ key; false when none.
  bool seek(std::string_view key, MDB_val& k, MDB_val& v) {
    k = to_val(key);
    return step(MDB_SET_RANGE, k, v);
  }
  bool next(MDB_val& k, MDB_val& v) { return step(MDB_NEXT, k, v); }
  bool first(MDB_val& k, MDB_val& v) { return step(MDB_FIRST, k, v); }
  bool last(MDB_val& k, MDB_val& v) { return step(MDB_LAST, k, v); }
  bool prev(MDB_val& k, MDB_val& v) { return step(MDB_PREV, k, v); }
  void del() { check_lmdb(mdb_cursor_del(cursor_, 0), "mdb_cursor_del"); }

 private:
  bool step(MDB_cursor_op op, MDB_val& k, MDB_val& v) {
    int rc = mdb_cursor_get(cursor_, &k, &v, op);
    if (rc == MDB_NOTFOUND) return false;
    check_lmdb(rc, "mdb_cursor_get");
    return true;
  }
  MDB_cursor* cursor_ = nullptr;  // owned
};

bool starts_with_be64(const MDB_val& k, uint64_t prefix) {
  return k.mv_size >= 8 && get_be64(static_cast<const char*>(k.mv_data)) == prefix;
}

}  // namespace

// Table handles shared by both transaction kinds.
struct Dbis {
  MDB_dbi meta = 0, outbox = 0, cursors = 0, streams = 0, marks = 0, ids = 0, inbox = 0, counters = 0;
  MDB_dbi domain[static_cast<size_t>(Table::kCount)] = {};
};

const char* table_name(Table table) {
  static constexpr const char* kNames[] = {"households", "persons", "events", "household_events", "alerts",
                                           "household_alerts", "aliases", "open_alerts", "history", "moved",
                                           "applications", "domain", "audit", "users", "household_history",
                                           "person_conflicts", "village_households"};
  static_assert(std::size(kNames) == static_cast<size_t>(Table::kCount));
  return kNames[static_cast<size_t>(table)];
}

// Lookups shared by WriteTxn::Impl and ReadTxn::Impl.
struct TxnBase {
  MDB_txn* txn = nullptr;  // not owned
  const Dbis* dbis = nullptr;

  bool get(MDB_dbi dbi, std::string_view key, std::string_view& out) const {
    MDB_val k = to_val(key), v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    check_lmdb(rc, "mdb_get");
    out = to_view(v);
    return true;
  }
  MDB_dbi dbi(Table t) const { return dbis->domain[static_cast<size_t>(t)]; }
  void scan(Table t, std::string_view start, std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn) const {
    Cursor c(txn, dbi(t));
    MDB_val k, v;
    // LMDB refuses an empty key to MDB_SET_RANGE: start at the first.
    for (bool ok = start.empty() ? c.first(k, v) : c.seek(start, k, v); ok; ok = c.next(k, v)) {
      std::string_view key = to_view(k);
      if (key.substr(0, prefix.size()) != prefix || !fn(key, to_view(v))) break;
    }
  }
  // Keys < before (all when empty), last first.
  void scan_back(Table t, std::string_view before, const std::function<bool(std::string_view, std::string_view)>& fn) const {
    Cursor c(txn, dbi(t));
    MDB_val k, v;
    bool ok = before.empty() ? c.last(k, v) : (c.seek(before, k, v) ? c.prev(k, v) : c.last(k, v));
    for (; ok; ok = c.prev(k, v)) {
      if (!before.empty() && to_view(k) >= before) continue;
      if (!fn(to_view(k), to_view(v))) break;
    }
  }
  uint64_t entries(Table t) const {
    MDB_stat st;
    check_lmdb(mdb_stat(txn, dbi(t), &st), "mdb_stat");
    return st.ms_entries;
  }
  LinkCursor cursor(uint64_t peer) const {
    std::string_view v;
    return get(dbis->cursors, key64(peer), v) ? decode_cursor(v) : LinkCursor{};
  }
  StreamMark mark(uint64_t origin, uint64_t destination) const {
    StreamMark m{origin, destination, 0, 0, 0};
    std::string_view v;
    if (get(dbis->marks, key64(origin, destination), v) && v.size() == 24) {
      m.contiguous_through = get_le64(v.data());
      m.count = get_le64(v.data() + 8);
      m.out_of_order = get_le64(v.data() + 16);
    }
    return m;
  }
};

// A stream's mark as this transaction sees it: loaded once, written once
// (flush) however many messages of the stream the transaction applies.
struct CachedMark {
  StreamMark mark;
  bool has_ids = false;  // applied_ids may hold entries of this stream
  bool dirty = false;    // changed since loaded
};

struct WriteTxn::Impl : TxnBase {
  bool del(MDB_dbi dbi, std::string_view key) {
    MDB_val k = to_val(key);
    int rc = mdb_del(txn, dbi, &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    check_lmdb(rc, "mdb_del");
    return true;
  }
  void put(MDB_dbi dbi, std::string_view key, std::string_view value) {
    MDB_val k = to_val(key), v = to_val(value);
    put_val(dbi, k, v, 0);
  }
  // Reserves size bytes for key's value inside the map and returns where to
  // write them (saves building the value elsewhere and copying it).
  char* put_reserved(MDB_dbi dbi, std::string_view key, size_t size) {
    MDB_val k = to_val(key), v{size, nullptr};
    put_val(dbi, k, v, MDB_RESERVE);
    return static_cast<char*>(v.mv_data);
  }
  // Many tables are keyed by ids this node hands out in ascending order
  // (households, alerts, history entries, outbox records): their new keys
  // go after every key held. LMDB puts such a key with MDB_APPEND without
  // searching the tree and splits a full last page at its end, so the pages
  // fill up instead of being left half empty by the usual split in the
  // middle. MDB_APPEND refuses a key that is not above the last one
  // (MDB_KEYEXIST, nothing written) and the put is then made the usual way;
  // a table whose appends keep failing is tried again only after
  // exponentially more puts, so randomly keyed tables pay almost nothing.
  struct AppendTry {
    uint32_t skip = 0;     // puts left before the next try
    uint32_t backoff = 1;  // puts to skip after the next failure
  };
  static constexpr size_t kAppendTracked = 64;
  static constexpr uint32_t kMaxAppendBackoff = 1024;
  AppendTry append_tries[kAppendTracked];

  uint64_t bytes_put = 0;  // keys and values put by this transaction
  uint64_t puts = 0;       // and how many puts

  void put_val(MDB_dbi dbi, MDB_val& k, MDB_val& v, unsigned flags) {
    bytes_put += k.mv_size + v.mv_size;
    ++puts;
    if (dbi < kAppendTracked) {
      AppendTry& a = append_tries[dbi];
      if (a.skip == 0) {
        MDB_val value = v;
        int rc = mdb_put(txn, dbi, &k, &value, flags | MDB_APPEND);
        if (rc == MDB_SUCCESS) {
          a.backoff = 1;
          v = value;
          return;
        }
        if (rc != MDB_KEYEXIST) check_lmdb(rc, "mdb_put(MDB_APPEND)");
        a.skip = a.backoff;
        a.backoff = std::min(a.backoff * 2, kMaxAppendBackoff);
      } else {
        --a.skip;
      }
    }
    check_lmdb(mdb_put(txn, dbi, &k, &v, flags), flags & MDB_RESERVE ? "mdb_put(MDB_RESERVE)" : "mdb_put");
  }
  std::map<std::pair<uint64_t, uint64_t>, CachedMark> marks;  // streams touched by this transaction

  bool stream_has_ids(uint64_t origin, uint64_t destination) const {
    Cursor c(txn, dbis->ids);
    MDB_val k, v;
    std::string prefix = key64(origin, destination);
    return c.seek(prefix, k, v) && k.mv_size >= 16 && std::memcmp(k.mv_data, prefix.data(), 16) == 0;
  }
  CachedMark& cached_mark(uint64_t origin, uint64_t destination) {
    auto key = std::make_pair(origin, destination);
    auto it = marks.find(key);
    if (it != marks.end()) return it->second;
    CachedMark& cm = marks[key];
    cm.mark = mark(origin, destination);
    cm.has_ids = stream_has_ids(origin, destination);
    return cm;
  }
  void flush() {
    for (auto& [key, cm] : marks) {
      if (cm.dirty) put(dbis->marks, key64(key.first, key.second), encode_mark(cm.mark));
    }
    marks.clear();
  }
};
struct ReadTxn::Impl : TxnBase {};

LinkCursor WriteTxn::cursor(uint64_t peer) const { return impl_->cursor(peer); }

void WriteTxn::put_cursor(uint64_t peer, const LinkCursor& c) {
  impl_->put(impl_->dbis->cursors, key64(peer), encode_cursor(c));
}

void WriteTxn::put_hlc(uint64_t hlc) {
  char out[8];
  put_le64(out, hlc);
  impl_->put(impl_->dbis->meta, kHlcKey, std::string_view(out, 8));
}

void WriteTxn::outbox_put(uint64_t peer, const protocol::Record& r) {
  char* value = impl_->put_reserved(impl_->dbis->outbox, key64(peer, r.link_seq), kRecordHeaderBytes + r.payload.size());
  encode_record_value(r, value);
}

uint64_t WriteTxn::outbox_delete_through(uint64_t peer, uint64_t through) {
  // Newest first: LMDB compacts a page by moving the nodes written after the
  // one deleted, so deleting in reverse insertion order moves almost nothing.
  Cursor c(impl_->txn, impl_->dbis->outbox);
  MDB_val k, v;
  uint64_t deleted = 0;
  bool ok = c.seek(key64(peer, through + 1), k, v) ? c.prev(k, v) : c.last(k, v);
  while (ok && starts_with_be64(k, peer)) {
    if (get_be64(static_cast<const char*>(k.mv_data) + 8) > through) {
      ok = c.prev(k, v);
      continue;
    }
    c.del();
    ++deleted;
    ok = c.prev(k, v);
  }
  return deleted;
}

uint64_t WriteTxn::reserve_origin_seqs(uint64_t destination, uint64_t count) {
  std::string key = key64(destination);
  std::string_view v;
  uint64_t last = impl_->get(impl_->dbis->streams, key, v) && v.size() == 8 ? get_le64(v.data()) : 0;
  std::string out(8, '\0');
  put_le64(out.data(), last + count);
  impl_->put(impl_->dbis->streams, key, out);
  return last + 1;
}

ApplyOutcome WriteTxn::apply(const protocol::Record& r, uint64_t applied_at_us) {
  if (mark_applied(r) == ApplyOutcome::kDuplicate) return ApplyOutcome::kDuplicate;
  std::string id = key64(r.origin, r.destination, r.origin_seq);
  char* value = impl_->put_reserved(impl_->dbis->inbox, id, 16 + r.payload.size());
  put_le64(value, r.hlc);
  put_le64(value + 8, applied_at_us);
  std::memcpy(value + 16, r.payload.data(), r.payload.size());
  return ApplyOutcome::kApplied;
}

ApplyOutcome WriteTxn::mark_applied(const protocol::Record& r) {
  const uint64_t stream = stream_of(r);
  CachedMark& cm = impl_->cached_mark(r.origin, stream);
  StreamMark& m = cm.mark;
  std::string id = key64(r.origin, stream, r.origin_seq);
  std::string_view seen;
  if (r.origin_seq <= m.contiguous_through || (cm.has_ids && impl_->get(impl_->dbis->ids, id, seen)))
    return ApplyOutcome::kDuplicate;
  if (r.origin_seq == m.contiguous_through + 1) {
    ++m.contiguous_through;
    // Absorb ids applied earlier out of order that are now contiguous.
    while (cm.has_ids) {
      std::string next = key64(r.origin, stream, m.contiguous_through + 1);
      if (!impl_->get(impl_->dbis->ids, next, seen)) break;
      impl_->del(impl_->dbis->ids, next);
      ++m.contiguous_through;
    }
    if (cm.has_ids) cm.has_ids = impl_->stream_has_ids(r.origin, stream);
  } else {
    ++m.out_of_order;
    impl_->put(impl_->dbis->ids, id, std::string_view());
    cm.has_ids = true;
  }
  ++m.count;
  cm.dirty = true;
  return ApplyOutcome::kApplied;
}

bool WriteTxn::get(Table t, std::string_view key, std::string_view& value) const {
  return impl_->get(impl_->dbi(t), key, value);
}
void WriteTxn::put(Table t, std::string_view key, std::string_view value) { impl_->put(impl_->dbi(t), key, value); }
bool WriteTxn::del(Table t, std::string_view key) { return impl_->del(impl_->dbi(t), key); }
void WriteTxn::scan(Table t, std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  impl_->scan(t, prefix, prefix, fn);
}
void WriteTxn::scan_from(Table t, std::string_view from,
                         const std::function<bool(std::string_view, std::string_view)>& fn) const {
  impl_->scan(t, from, {}, fn);
}
uint64_t WriteTxn::entries(Table t) const { return impl_->entries(t); }

bool ReadTxn::get(Table t, std::string_view key, std::string_view& value) const {
  return impl_->get(impl_->dbi(t), key, value);
}
void ReadTxn::scan(Table t, std::string_view prefix,
                   const std::function<bool(std::string_view, std::string_view)>& fn) const {
  impl_->scan(t, prefix, prefix, fn);
}
void ReadTxn::scan_from(Table t, std::string_view from,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const {
  impl_->scan(t, from, {}, fn);
}
void ReadTxn::scan_back(Table t, std::string_view before,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const {
  impl_->scan_back(t, before, fn);
}
uint64_t ReadTxn::entries(Table t) const { return impl_->entries(t); }

void WriteTxn::add_counter(std::string_view name, uint64_t delta) {
  std::string_view v;
  uint64_t value = impl_->get(impl_->dbis->counters, name, v) && v.size() == 8 ? get_le64(v.data()) : 0;
  std::string out(8, '\0');
  put_le64(out.data(), value + delta);
  impl_->put(impl_->dbis->counters, name, out);
}

LinkCursor ReadTxn::cursor(uint64_t peer) const { return impl_->cursor(peer); }

std::map<uint64_t, LinkCursor> ReadTxn::all_cursors() const {
  std::map<uint64_t, LinkCursor> out;
  Cursor c(impl_->txn, impl_->dbis->cursors);
  MDB_val k, v;
  for (bool ok = c.first(k, v); ok; ok = c.next(k, v)) {
    if (k.mv_size == 8) out[get_be64(static_cast<const char*>(k.mv_data))] = decode_cursor(to_view(v));
  }
  return out;
}

size_t ReadTxn::outbox_read(uint64_t peer, uint64_t from, size_t max_records, size_t max_bytes,
                            std::vector<protocol::Record>& out) const {
  Cursor c(impl_->txn, impl_->dbis->outbox);
  MDB_val k, v;
  size_t n = 0, bytes = 0;
  for (bool ok = c.seek(key64(peer, from), k, v); ok && starts_with_be64(k, peer) && n < max_records;
       ok = c.next(k, v)) {
    if (n > 0 && bytes >= max_bytes) break;
    protocol::Record& r = out.emplace_back();
    r.link_seq = get_be64(static_cast<const char*>(k.mv_data) + 8);
    decode_record_value(to_view(v), r);
    bytes += r.payload.size() + kRecordHeaderBytes;
    ++n;
  }
  return n;
}

std::vector<uint64_t> ReadTxn::outbox_seqs(uint64_t peer) const {
  std::vector<uint64_t> out;
  Cursor c(impl_->txn, impl_->dbis->outbox);
  MDB_val k, v;
  for (bool ok = c.seek(key64(peer, 0), k, v); ok && starts_with_be64(k, peer); ok = c.next(k, v)) {
    out.push_back(get_be64(static_cast<const char*>(k.mv_data) + 8));
  }
  return out;
}

std::vector<StreamMark> ReadTxn::stream_marks() const {
  std::vector<StreamMark> out;
  Cursor c(impl_->txn, impl_->dbis->marks);
  MDB_val k, v;
  for (bool ok = c.first(k, v); ok; ok = c.next(k, v)) {
    if (k.mv_size != 16) continue;
    const char* key = static_cast<const char*>(k.mv_data);
    out.push_back(impl_->mark(get_be64(key), get_be64(key + 8)));
  }
  return out;
}

std::map<uint64_t, uint64_t> ReadTxn::streams() const {
  std::map<uint64_t, uint64_t> out;
  Cursor c(impl_->txn, impl_->dbis->streams);
  MDB_val k, v;
  for (bool ok = c.first(k, v); ok; ok = c.next(k, v)) {
    if (k.mv_size == 8 && v.mv_size == 8)
      out[get_be64(static_cast<const char*>(k.mv_data))] = get_le64(static_cast<const char*>(v.mv_data));
  }
  return out;
}

uint64_t ReadTxn::hlc() const {
  std::string_view v;
  return impl_->get(impl_->dbis->meta, kHlcKey, v) && v.size() == 8 ? get_le64(v.data()) : 0;
}

std::map<std::string, uint64_t> ReadTxn::counters() const {
  std::map<std::string, uint64_t> out;
  Cursor c(impl_->txn, impl_->dbis->counters);
  MDB_val k, v;
  for (bool ok = c.first(k, v); ok; ok = c.next(k, v)) {
    if (v.mv_size == 8) out[std::string(to_view(k))] = get_le64(static_cast<const char*>(v.mv_data));
  }
  return out;
}

void ReadTxn::for_each_inbox(const std::function<bool(const InboxEntry&)>& fn) const {
  Cursor c(impl_->txn, impl_->dbis->inbox);
  MDB_val k, v;
  InboxEntry e;
  for (bool ok = c.first(k, v); ok; ok = c.next(k, v)) {
    if (k.mv_size != 24 || v.mv_size < 16) continue;
    const char* key = static_cast<const char*>(k.mv_data);
    const char* val = static_cast<const char*>(v.mv_data);
    e.origin = get_be64(key);
    e.destination = get_be64(key + 8);
    e.origin_seq = get_be64(key + 16);
    e.hlc = get_le64(val);
    e.applied_at_us = get_le64(val + 8);
    e.payload.assign(val + 16, v.mv_size - 16);
    if (!fn(e)) break;
  }
}

// ---------------------------------------------------------------------------

struct Store::Impl {
  StorageOptions options;
  uint64_t node_code = 0;
  MDB_env* env = nullptr;  // owned; closed in the destructor
  Dbis dbis;
  // Read transactions of other threads (the HTTP pool) hold this shared;
  // resizing the map, which LMDB allows only with no transaction open in
  // the process, holds it exclusively.
  mutable std::shared_mutex map_lock;
  // Group commit (begin_group/end_group): the group's writes run as nested
  // transactions of one transaction, committed and synced once at the end.
  bool grouping = false;                // inside begin_group()/end_group()
  LmdbTxn group;                        // the group's transaction, once a write of it began
  // The thread that owns the group's transaction while it is open (read by
  // any thread's read(); no id otherwise).
  std::atomic<std::thread::id> group_owner{};
  MDB_txn* running_child = nullptr;     // the nested transaction of the write running now (owner only)
  uint64_t group_bytes = 0;             // keys and values the group's writes put
  uint64_t group_puts = 0;              // and how many puts they made
  uint64_t bytes_written = 0;      // keys and values put by committed transactions since open
  uint64_t largest_since_open = 0;  // the most one committed transaction put since the environment opened

  ~Impl() {
    group.abort();  // every transaction ends before the environment closes
    if (env != nullptr) mdb_env_close(env);
  }
  size_t map_size() const {
    MDB_envinfo info;
    mdb_env_info(env, &info);
    return info.me_mapsize;
  }
  size_t used() const {
    MDB_envinfo info;
    MDB_stat stat;
    mdb_env_info(env, &info);
    mdb_env_stat(env, &stat);
    return (info.me_last_pgno + 1) * size_t{stat.ms_psize};
  }
  // Doubles the map. Requires that this process has no transaction open.
  void grow() {
    std::unique_lock lock(map_lock);
    size_t next = map_size() * 2;
    check_lmdb(mdb_env_set_mapsize(env, next), "mdb_env_set_mapsize");
    folder_logger("storage")->info("map of {} grown to {} MiB", options.path, next >> 20);
  }
  // Free bytes in the map after the last commit.
  size_t free_bytes() const {
    const size_t u = used(), m = map_size();
    return u < m ? m - u : 0;
  }
  // Begins a transaction, adopting a map another process has grown.
  LmdbTxn begin(unsigned flags) const {
    for (int i = 0;; ++i) {
      try {
        return LmdbTxn(env, flags);
      } catch (const LmdbError& e) {
        if (e.code() != MDB_MAP_RESIZED || i > 3) throw;
        check_lmdb(mdb_env_set_mapsize(env, 0), "mdb_env_set_mapsize(0)");
      }
    }
  }
  void open_tables(MDB_txn* txn) {
    auto open = [&](const char* name, MDB_dbi& dbi) { check_lmdb(mdb_dbi_open(txn, name, MDB_CREATE, &dbi), name); };
    open(tables::kMeta, dbis.meta);
    open(tables::kOutbox, dbis.outbox);
    open(tables::kCursors, dbis.cursors);
    open(tables::kStreams, dbis.streams);
    open(tables::kAppliedMarks, dbis.marks);
    open(tables::kAppliedIds, dbis.ids);
    open(tables::kInbox, dbis.inbox);
    open(tables::kCounters, dbis.counters);
    for (size_t i = 0; i < static_cast<size_t>(Table::kCount); ++i) open(table_name(static_cast<Table>(i)), dbis.domain[i]);
  }
  Status check_meta(MDB_txn* txn);
  Status open_env();
};

Status Store::Impl::check_meta(MDB_txn* txn) {
  WriteTxn::Impl base;
  base.txn = txn;
  base.dbis = &dbis;
  std::string_view code, format;
  if (!base.get(dbis.meta, "code", code)) {
    std::string c(8, '\0'), f(4, '\0');
    put_le64(c.data(), node_code);
    std::memcpy(f.data(), &tables::kFormatVersion, 4);
    base.put(dbis.meta, "code", c);
    base.put(dbis.meta, "format", f);
    return Status::ok();
  }
  if (code.size() != 8 || get_le64(code.data()) != node_code)
    return Status::invalid_argument("store at " + options.path + " belongs to another node");
  uint32_t version = 0;
  if (!base.get(dbis.meta, "format", format) || format.size() != 4 ||
      (std::memcpy(&version, format.data(), 4), version != tables::kFormatVersion))
    return Status::corruption("store at " + options.path + " has an unknown format version");
  return Status::ok();
}

Status Store::Impl::open_env() {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) return Status::io_error("cannot create " + options.path + ": " + ec.message());
  ::chmod(options.path.c_str(), 0700);
  check_lmdb(mdb_env_create(&env), "mdb_env_create");
  check_lmdb(mdb_env_set_maxdbs(env, 32), "mdb_env_set_maxdbs");
  check_lmdb(mdb_env_set_mapsize(env, options.initial_map_bytes), "mdb_env_set_mapsize");
  // MDB_NOMETASYNC writes the meta page through the ordinary descriptor
  // instead of LMDB's O_DSYNC one; Store::write then makes the commit
  // durable with one fdatasync (mdb_env_sync). Same guarantee, and on this
  // project's machines the O_DSYNC meta write alone cost ~4 ms per commit.
  unsigned flags = MDB_NOTLS | MDB_NOMETASYNC | (options.sync ? 0 : MDB_NOSYNC);
  check_lmdb(mdb_env_open(env, options.path.c_str(), flags, 0600), "mdb_env_open");
  int dead = 0;
  mdb_reader_check(env, &dead);  // clear reader slots of killed processes
  // A map another process grew is larger than ours: adopt it.
  check_lmdb(mdb_env_set_mapsize(env, 0), "mdb_env_set_mapsize(0)");
  LmdbTxn txn = begin(0);
  open_tables(txn.get());
  Status s = check_meta(txn.get());
  if (!s) return s;
  txn.commit();
  return Status::ok();
}

Result<std::unique_ptr<Store>> Store::open(const StorageOptions& options, uint64_t node_code) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->node_code = node_code;
  try {
    Status s = impl->open_env();
    if (!s) return s;
  } catch (const std::exception& e) {
    return Status::io_error("opening store " + options.path + ": " + e.what());
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

bool is_data_error(const std::exception& e) {
  if (dynamic_cast<const MapFull*>(&e) != nullptr) return false;
  if (const auto* l = dynamic_cast<const LmdbError*>(&e)) return l->code() == MDB_BAD_VALSIZE;
  return true;
}

// Makes the last commits durable. A failed sync after a commit leaves
// what the process holds (link sequences handed out, records sent, answers
// given) ahead of what the disk may keep, and the kernel may already have
// dropped the pages it could not write: carrying on could reuse link
// sequences after a power loss. The process stops; a restart reads the
// store as it is.
static void sync_or_stop(MDB_env* env) {
  int rc = mdb_env_sync(env, 1);
  LIFELINE_CHECK(rc == 0, std::string("mdb_env_sync failed after a commit: ") + mdb_strerror(rc) +
                              "; stopping (restart to continue from what the disk holds)");
}

Status Store::write(const std::function<Status(WriteTxn&)>& fn, Sync sync) {
  // Every commit syncs its data pages before it writes its meta page
  // (MDB_NOMETASYNC; never MDB_NOSYNC, with which LMDB may write a meta page
  // to disk before the pages it points to, or reuse pages of the last
  // synced snapshot: a power loss could then corrupt the store). The meta
  // page is made durable by the sync below, or in a group by end_group().
  if (impl_->grouping) return write_in_group(fn);
  try {
    if (impl_->used() * 2 > impl_->map_size()) impl_->grow();
    for (int attempt = 0;; ++attempt) {
      LmdbTxn txn = impl_->begin(0);
      WriteTxn::Impl ti;
      ti.txn = txn.get();
      ti.dbis = &impl_->dbis;
      WriteTxn w(&ti);
      try {
        Status s = fn(w);
        if (!s) return s;  // txn aborts in its destructor
        ti.flush();
        txn.commit();
        impl_->bytes_written += ti.bytes_put;
        impl_->largest_since_open = std::max(impl_->largest_since_open, ti.bytes_put);
        // Data pages were synced before the meta page was written (LMDB's
        // order); this sync makes the meta page, hence the commit, durable.
        if (impl_->options.sync && sync == Sync::kDurable) sync_or_stop(impl_->env);
        return Status::ok();
      } catch (const MapFull&) {
        txn.abort();
        if (attempt >= kMaxGrowRetries) return Status::io_error("map full after repeated growth");
        impl_->grow();
      }
    }
  } catch (const std::exception& e) {
    return Status::io_error(std::string("write transaction on ") + impl_->options.path + ": " + e.what());
  }
}

// Commits the group's transaction so far, and syncs it. What the group's
// writes did is already in this process's hands (answers computed, link
// sequences handed out): a commit that fails stops the process, like a
// failed sync.
void Store::commit_group() {
  if (impl_->group.get() == nullptr) return;
  const uint64_t bytes = impl_->group_bytes;
  impl_->group_bytes = 0;
  impl_->group_puts = 0;
  impl_->group_owner.store(std::thread::id{});
  try {
    impl_->group.commit();
  } catch (const std::exception& e) {
    LIFELINE_CHECK(false, std::string("group commit of ") + impl_->options.path + " failed: " + e.what() +
                              "; stopping (restart to continue from what the disk holds)");
  }
  impl_->largest_since_open = std::max(impl_->largest_since_open, bytes);
  if (impl_->options.sync) sync_or_stop(impl_->env);
}

// A write of a group: a transaction nested in the group's, so that a write
// that fails (its fn refuses, or LMDB throws) leaves the group's other
// writes as they were. A write that finds the map full, or that turns out
// too large for the room left, is undone; the group's transaction so far is
// committed and synced, and fn runs again: after growing the map in a new
// group transaction, or on its own (Store::write outside the group, which
// grows the map and runs fn again if even its commit finds the map full).
Status Store::write_in_group(const std::function<Status(WriteTxn&)>& fn) {
  try {
    for (int attempt = 0;; ++attempt) {
      if (impl_->group.get() == nullptr) {
        while (impl_->free_bytes() < std::max<uint64_t>(kGroupHeadroomBytes, impl_->used())) impl_->grow();
        impl_->group = impl_->begin(0);
        impl_->group_owner.store(std::this_thread::get_id());
      }
      LmdbTxn child(impl_->env, impl_->group.get(), 0);
      WriteTxn::Impl ti;
      ti.txn = child.get();
      ti.dbis = &impl_->dbis;
      WriteTxn w(&ti);
      impl_->running_child = child.get();
      struct Clear {
        MDB_txn*& running;
        ~Clear() { running = nullptr; }
      } clear{impl_->running_child};
      try {
        Status s = fn(w);
        if (!s) return s;  // the nested transaction aborts in its destructor
        ti.flush();
        if (ti.bytes_put >= kLargeGroupWriteBytes &&
            impl_->free_bytes() < kRoomPerByte * (impl_->group_bytes + ti.bytes_put) + kGroupHeadroomBytes / 4) {
          child.abort();
          impl_->running_child = nullptr;
          commit_group();
          impl_->grouping = false;
          Status alone = write(fn, Sync::kDurable);
          impl_->grouping = true;
          return alone;
        }
        child.commit();
        impl_->bytes_written += ti.bytes_put;
        impl_->group_bytes += ti.bytes_put;
        impl_->group_puts += ti.puts;
        if (impl_->group_bytes >= kGroupBytesCommittedAtOnce || impl_->group_puts >= kGroupPutsCommittedAtOnce ||
            ti.bytes_put >= kLargeGroupWriteBytes)
          commit_group();
        return Status::ok();
      } catch (const MapFull&) {
        child.abort();
        impl_->running_child = nullptr;
        if (attempt >= kMaxGrowRetries) return Status::io_error("map full after repeated growth");
        commit_group();
        impl_->grow();
      }
    }
  } catch (const std::exception& e) {
    return Status::io_error(std::string("write transaction on ") + impl_->options.path + ": " + e.what());
  }
}

Status Store::read(const std::function<void(const ReadTxn&)>& fn) const {
  std::shared_lock lock(impl_->map_lock);
  try {
    ReadTxn::Impl ti;
    ti.dbis = &impl_->dbis;
    // The writing thread, inside a group, reads what the group wrote so far
    // (through the write running now, if any), as it did when each of the
    // group's writes was its own commit. Other threads read the last commit.
    if (impl_->group_owner.load() == std::this_thread::get_id()) {
      ti.txn = impl_->running_child != nullptr ? impl_->running_child : impl_->group.get();
      fn(ReadTxn(&ti));
      return Status::ok();
    }
    LmdbTxn txn = impl_->begin(MDB_RDONLY);
    ti.txn = txn.get();
    fn(ReadTxn(&ti));
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::io_error(std::string("read transaction on ") + impl_->options.path + ": " + e.what());
  }
}

// LMDB does not expose where it mapped the file (me_mapaddr is only set with
// MDB_FIXEDMAP), so the ranges are found in /proc/self/maps. The map is
// read-only and shared: dropping its pages loses nothing.
void Store::release_mapped_pages() {
  std::unique_lock lock(impl_->map_lock);
  std::error_code ec;
  std::string file = std::filesystem::canonical(impl_->options.path + "/data.mdb", ec).string();
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (!ec && std::getline(maps, line)) {
    if (line.size() < file.size() || line.compare(line.size() - file.size(), file.size(), file) != 0) continue;
    uintptr_t begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &begin, &end) == 2)
      ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  }
}

// LMDB frees a write transaction's dirty pages into a list of its own
// (me_dpages), reused by later transactions and returned to the heap only by
// mdb_env_close: after an import that dirtied 200 MiB, the process holds
// 200 MiB for good. Closing and reopening the environment gives them back.
// It must be closed first: a second environment on the same files in one
// process would lose its locks when the first one closed.
Status Store::release_retained_pages() {
  // Inside a group, its transaction may be open: not now.
  if (impl_->grouping || impl_->largest_since_open < kRetainedPagesWorthReopening) return Status::ok();
  std::unique_lock lock(impl_->map_lock);
  const uint64_t largest = impl_->largest_since_open;
  mdb_env_close(impl_->env);
  impl_->env = nullptr;
  impl_->largest_since_open = 0;
  Status s;
  try {
    s = impl_->open_env();
  } catch (const std::exception& e) {
    s = Status::io_error("reopening store " + impl_->options.path + ": " + e.what());
  }
  if (!s) {
    if (impl_->env != nullptr) mdb_env_close(impl_->env);
    impl_->env = nullptr;
    return s;
  }
  folder_logger("storage")->debug("store {} reopened to free the pages of a transaction of {} KiB", impl_->options.path,
                                  largest >> 10);
  return Status::ok();
}

uint64_t Store::bytes_written() const { return impl_->bytes_written; }

void Store::begin_group() { impl_->grouping = true; }

Status Store::end_group() {
  impl_->grouping = false;
  commit_group();
  return Status::ok();
}

uint64_t Store::node_code() const { return impl_->node_code; }
size_t Store::map_bytes() const { return impl_->map_size(); }
size_t Store::used_bytes() const { return impl_->used(); }
const std::string& Store::path() const { return impl_->options.path; }

}  // namespace lifeline::storage
