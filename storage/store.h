// Store: one node's durable state in one LMDB environment (DESIGN §3.5):
// the outbox of each link, the link cursors, the per-destination origin
// sequences, the applied-id set (dedupe), the applied test messages and the
// durable counters. storage/tables.h documents each table's key encoding and
// what a crash leaves behind.
//
// All changes happen in Store::write, one write transaction per call, so a
// batch of inputs shares one commit (group commit): the caller's effects,
// outbox entries and cursors commit together or not at all. Reads happen in
// Store::read, one short read-only transaction per call.
//
// The map grows when full (no fixed ceiling): before a write when more than
// half is used, and on MDB_MAP_FULL by aborting, doubling and re-running the
// write. Hence a write's callback may run more than once and must keep its
// in-memory changes staged until write() returns ok.
//
// Thread-safety: writes and the release_* calls come from one thread (the
// node loop); read() may be called from any thread at the same time (the
// HTTP pool's queries), a shared lock keeping map growth and reopens out
// meanwhile. Other processes may open the same directory concurrently (LMDB
// locks); one process must open a directory only once. Not copyable, not
// movable.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame.h"
#include "topology/status.h"

namespace lifeline::storage {

struct StorageOptions {
  // Directory holding data.mdb and lock.mdb; created (mode 0700) if missing.
  std::string path;
  // Map size at the first open. The map doubles whenever it fills, so this
  // only sets how often growth happens early on.
  size_t initial_map_bytes = size_t{64} << 20;
  // fsync at each commit (LMDB's default). Production always syncs; only
  // in-process tests that do not simulate power loss may turn it off.
  bool sync = true;
};

// The state of the link toward one peer (tables.h `cursors`).
struct LinkCursor {
  uint64_t last_assigned = 0;  // highest link seq written to the outbox toward the peer
  uint64_t acked = 0;          // highest link seq the peer acknowledged
  uint64_t applied = 0;        // highest link seq received from the peer and committed
  bool operator==(const LinkCursor&) const = default;
};

// Origin sequences and applied marks are kept per stream: (origin,
// destination, channel). Test messages use the destination code itself;
// monitoring messages (every other kind) use it with this bit set, so the
// two never share sequence numbers and `lifeline inbox` counts test
// messages only.
inline constexpr uint64_t kMonitorChannel = uint64_t{1} << 63;
inline uint64_t stream_of(const protocol::Record& r) {
  return r.kind == static_cast<uint16_t>(protocol::MessageKind::kTest) ? r.destination
                                                                       : r.destination | kMonitorChannel;
}

// Applied messages of one (origin, destination) stream at this node.
struct StreamMark {
  uint64_t origin = 0;
  uint64_t destination = 0;         // with kMonitorChannel set for monitoring messages
  uint64_t contiguous_through = 0;  // every origin_seq ≤ this is applied
  uint64_t count = 0;               // messages applied (each once)
  uint64_t out_of_order = 0;        // applies that were not contiguous_through + 1
};

// One applied test message (tables.h `inbox`).
struct InboxEntry {
  uint64_t origin = 0;
  uint64_t destination = 0;
  uint64_t origin_seq = 0;
  uint64_t hlc = 0;            // creation time at the origin
  uint64_t applied_at_us = 0;  // wall clock at this node when applied
  std::string payload;
};

enum class ApplyOutcome { kApplied, kDuplicate };

// The monitoring domain's tables (DESIGN §2): opaque keys and values to the
// store; node/core/monitor_tables.h gives each one's key encoding and value.
enum class Table : uint8_t {
  kHouseholds,       // household id -> Household
  kPersons,          // ID number -> household id
  kEvents,           // department \0 record id -> household id (dedupe, kept forever)
  kHouseholdEvents,  // household id ++ department \0 record id -> DeptEvent
  kAlerts,           // alert id -> Alert
  kHouseholdAlerts,  // household id ++ generation -> alert id
  kAliases,          // merged-away alert id -> surviving alert id
  kOpenAlerts,       // due date ++ alert id -> bucket code (open alerts only)
  kHistory,          // entry id -> HistoryEntry
  kMoved,            // household id -> new village ++ stamp (tombstone)
  kApplications,     // application id -> JSON
  kDomain,           // ASCII name -> value (policy, id sequences, aggregate counts, children's snapshots)
  kAudit,            // time(8) origin(8) seq(8) -> JSON audit entry (append-only)
  kUsers,            // account name -> account (web/auth/account.h); per node, not replicated
  kHouseholdHistory, // household id ++ entry id -> (empty): a household's history entries
  kPersonConflicts,  // ID number ++ household id -> (empty): a further household claiming a person indexed in kPersons
  kVillageHouseholds,  // village code ++ household id -> (empty): the households held, by village
  kCount
};
const char* table_name(Table table);

// The write side of one transaction; valid only inside Store::write's callback.
class WriteTxn {
 public:
  LinkCursor cursor(uint64_t peer) const;
  void put_cursor(uint64_t peer, const LinkCursor& cursor);
  // The hybrid logical clock's last timestamp, kept so that a restarted node
  // never stamps a change below one it made or saw before (meta "hlc").
  void put_hlc(uint64_t hlc);
  // Writes r (keyed by r.link_seq) to the outbox toward peer.
  void outbox_put(uint64_t peer, const protocol::Record& r);
  // Deletes outbox entries toward peer with link_seq ≤ through; returns how many.
  uint64_t outbox_delete_through(uint64_t peer, uint64_t through);
  // Allocates the next origin_seq of the stream from this node to
  // destination (with kMonitorChannel set: the monitoring stream).
  uint64_t next_origin_seq(uint64_t destination) { return reserve_origin_seqs(destination, 1); }
  // Allocates count consecutive origin_seqs; returns the first.
  uint64_t reserve_origin_seqs(uint64_t destination, uint64_t count);
  // Applies a test message here unless its (origin, destination, origin_seq)
  // was applied before: records the id, the stream mark and the inbox entry.
  ApplyOutcome apply(const protocol::Record& r, uint64_t applied_at_us);
  // Records r's id as applied (the dedupe set and stream mark) without
  // keeping its payload; kDuplicate when it was applied before.
  ApplyOutcome mark_applied(const protocol::Record& r);
  void add_counter(std::string_view name, uint64_t delta);

  // Domain tables. A returned view is valid until the next write in this
  // transaction.
  bool get(Table table, std::string_view key, std::string_view& value) const;
  void put(Table table, std::string_view key, std::string_view value);
  bool del(Table table, std::string_view key);  // false when absent
  // Calls fn for each entry whose key starts with prefix, in key order,
  // until fn returns false. fn must not write to this transaction.
  void scan(Table table, std::string_view prefix,
            const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
  // Like scan, over keys ≥ from (no prefix restriction).
  void scan_from(Table table, std::string_view from,
                 const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
  uint64_t entries(Table table) const;

 private:
  friend class Store;
  struct Impl;
  explicit WriteTxn(Impl* impl) : impl_(impl) {}
  Impl* impl_;  // not owned; lives for the callback
};

// The read side of one short transaction; valid only inside Store::read's callback.
class ReadTxn {
 public:
  LinkCursor cursor(uint64_t peer) const;
  std::map<uint64_t, LinkCursor> all_cursors() const;
  // Appends to out the outbox records toward peer with link_seq ≥ from, at
  // most max_records and stopping once max_bytes of payload are reached
  // (at least one record if any). Returns how many were appended.
  size_t outbox_read(uint64_t peer, uint64_t from, size_t max_records, size_t max_bytes,
                     std::vector<protocol::Record>& out) const;
  // Link seqs present in the outbox toward peer, in order (for invariants).
  std::vector<uint64_t> outbox_seqs(uint64_t peer) const;
  std::vector<StreamMark> stream_marks() const;
  // Origin seqs allocated so far per destination (tables.h `streams`).
  std::map<uint64_t, uint64_t> streams() const;
  std::map<std::string, uint64_t> counters() const;
  uint64_t hlc() const;  // as put_hlc left it; 0 in a store that never had one
  // Calls fn for each inbox entry in key order; stops when fn returns false.
  void for_each_inbox(const std::function<bool(const InboxEntry&)>& fn) const;

  // Domain tables, as in WriteTxn.
  bool get(Table table, std::string_view key, std::string_view& value) const;
  void scan(Table table, std::string_view prefix,
            const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
  void scan_from(Table table, std::string_view from,
                 const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
  // Keys before `before` (every key when empty), last first; stops when fn returns false.
  void scan_back(Table table, std::string_view before,
                 const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
  uint64_t entries(Table table) const;

 private:
  friend class Store;
  struct Impl;
  explicit ReadTxn(const Impl* impl) : impl_(impl) {}
  const Impl* impl_;  // not owned; lives for the callback
};

// Whether an exception thrown inside a write transaction's callback came
// from the data being written (a key or value LMDB cannot hold, a thrown
// parse or type error) rather than from the store (a full map, which
// write() grows and retries; a failing disk). The first kind repeats every
// time the same data is written; the second must not be blamed on the data.
bool is_data_error(const std::exception& e);

class Store {
 public:
  // Opens or creates the store of node `node_code` at options.path. Fails if
  // the store belongs to another node or has another format version.
  static Result<std::unique_ptr<Store>> open(const StorageOptions& options, uint64_t node_code);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // How a commit reaches the disk. Both sync the data pages before LMDB
  // writes the meta page (MDB_NOMETASYNC; never MDB_NOSYNC, with which a
  // power loss could corrupt the store).
  enum class Sync {
    kDurable,   // the meta page synced too: on disk when write() returns
    kDataOnly,  // the meta page left to the next durable commit: a power
                // loss may undo this commit, never corrupt the store. Only
                // for changes that are safe to lose: deleting acknowledged
                // outbox entries, which the peer's next ack deletes again.
  };

  // Runs fn in one write transaction and commits it when fn returns ok. fn
  // may run more than once (map growth). A non-ok Status from fn, or an
  // LMDB error, aborts: nothing of the transaction remains.
  // Inside a group (below), the group's commit makes it durable, whatever sync says.
  Status write(const std::function<Status(WriteTxn&)>& fn, Sync sync = Sync::kDurable);
  // Runs fn in one read-only transaction. Thread-safe: any thread may read
  // while the owning thread writes (the HTTP pool's queries do).
  Status read(const std::function<void(const ReadTxn&)>& fn) const;

  // Group commit of independent writes (the HTTP API's tasks of one loop
  // turn): between begin_group() and end_group(), the writes run as nested
  // transactions of one write transaction, which end_group() commits and
  // syncs (writes that put 4 MiB or make 512 puts, a large write, or one
  // that fills the map commit it early and go on in a new one; a write too
  // large for the room left runs on its own). A write of the
  // group that fails leaves the others as they were; none is sure to be on
  // disk before end_group() returns, and callers must not report one as
  // durable before. On the writing thread, read() inside a group sees the group's
  // writes so far; other threads see the last commit. A commit or sync that
  // fails stops the process: what it has handed out may be ahead of what
  // the disk keeps.
  // Writing thread only.
  void begin_group();
  Status end_group();

  // Drops this process's resident pages of the map (they stay in the page
  // cache and fault back in when read). For an idle node; requires that no
  // transaction of this process is open.
  void release_mapped_pages();
  // Gives back to the heap the memory LMDB keeps for pages a write
  // transaction dirtied (it frees it only when the environment closes), by
  // closing and reopening the environment, if a transaction since the last
  // reopen put at least kRetainedPagesWorthReopening bytes. Same conditions
  // as release_mapped_pages. On an error the environment stays closed and
  // the store must not be used again: the caller must stop.
  static constexpr uint64_t kRetainedPagesWorthReopening = uint64_t{4} << 20;
  Status release_retained_pages();
  // Keys and values put by the transactions committed since the store
  // opened (a measure of write traffic).
  uint64_t bytes_written() const;

  uint64_t node_code() const;
  size_t map_bytes() const;         // current map size
  size_t used_bytes() const;        // pages in use × page size
  const std::string& path() const;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  Status write_in_group(const std::function<Status(WriteTxn&)>& fn);
  void commit_group();
  std::unique_ptr<Impl> impl_;  // the environment and table handles
};

}  // namespace lifeline::storage
