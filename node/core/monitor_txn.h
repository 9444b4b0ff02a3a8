// Monitor::Txn: the monitoring domain inside one write transaction: typed
// access to the domain tables, the aggregate counts kept in step with them,
// and the holder-path replication of households (apply_sync). Internal to
// the Monitor (node/core/monitor*.cc).
//
// Lives for one Store::write callback; not copyable.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "node/core/monitor.h"
#include "node/core/monitor_reads.h"
#include "node/core/monitor_tables.h"
#include "protocol/domain_codec.h"

namespace lifeline::node {

struct Monitor::Txn : DomainReads<storage::WriteTxn> {
  Monitor& m;
  storage::WriteTxn& txn;  // the same transaction as DomainReads::txn, writable
  Outbound& out;
  Instant now;
  const Policy& policy;  // the staged policy if this transaction set one, else the running one

  Txn(Monitor& monitor, storage::WriteTxn& t, Outbound& o, const Instant& n);
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  uint64_t self() const { return m.self_.number(); }
  protocol::Stamp stamp() { return protocol::Stamp{out.hlc(), self()}; }
  protocol::RecordId next_id(char kind);
  Date today() const { return shanghai_date(now.wall_us); }

  protocol::HistoryEntry history(const protocol::HouseholdId& h, std::string kind, const protocol::AlertId& alert,
                                 std::string text);

  // Replication: merges a household's sync received from from_peer (self for
  // a local change), writes the result, and passes on what changed.
  Status check_sync(const protocol::HouseholdSync& sync, uint64_t from_peer) const;
  // What the caller of a local change already knows, so that apply_sync
  // need not look it up again.
  struct Known {
    const protocol::Household* held = nullptr;  // the household as held here, just read...
    bool header_only = false;  // ...only its id and village, for a sync that carries only those:
                               // the household is then never written or dropped (checked)
    bool new_alerts = false;   // the sync's alerts were issued in this transaction (new ids, new generations)
    bool new_entries = false;  // its history ids were taken in this transaction, and no
                               // node has applied its events (not in `events`)
  };
  void apply_sync(const protocol::HouseholdSync& sync, uint64_t from_peer);
  void apply_sync(const protocol::HouseholdSync& sync, uint64_t from_peer, const Known& known);

  // Messages. Syncs toward one neighbour are coalesced into batches
  // (kHouseholdSyncBatchZstd, or kHouseholdSyncBatch when compression does
  // not shrink it; a lone sync goes as kHouseholdSync); any other
  // message first sends the syncs pending, so messages keep their order.
  void send(uint64_t to, protocol::MessageKind kind, std::string payload);
  void flush_syncs();
  // Writes what is staged (syncs, counts); every write path calls it before
  // its transaction commits.
  void finish() {
    flush_syncs();
    flush_counts();
    flush_ids();
  }
  // Writes the id sequences next_id() used (also when a record is refused
  // after taking ids: an id is never handed out twice).
  void flush_ids();

  // Aggregates: count changes are staged and written by flush_counts()
  // (from finish()).
  uint64_t bucket(uint64_t village) const;
  void add_count(uint64_t bucket, const std::string& metric, int64_t delta);
  void flush_counts();
  std::map<std::string, int64_t> count_deltas;  // agg key -> staged change

 private:
  struct Merge;  // the working state of one apply_sync
  protocol::Alert merge_alert(const protocol::Alert& incoming, uint64_t village, Merge& mg);
  void write_household(const std::optional<protocol::Household>& before, const protocol::Household& after);
  void drop_household(const protocol::Household& before, uint64_t village, protocol::Stamp stamp);
  void index_person(const std::string& id_number, const std::string& hid);
  void unindex_person(const std::string& id_number, const std::string& hid);
  // Stores e as an entry of household h (the history table and its index).
  void put_history(const protocol::HouseholdId& h, const protocol::HistoryEntry& e);
  void write_alert(const std::optional<protocol::Alert>& before, const protocol::Alert& after, uint64_t village);
  void erase_alert(const protocol::Alert& a, uint64_t village);
  void rebucket_alerts(const protocol::HouseholdId& id, uint64_t from_village, uint64_t to_village);
  void count_household(const protocol::Household& h, int64_t sign);
  void count_alert(const protocol::Alert& a, uint64_t village, int64_t sign);
  void deliver_here(Merge& mg);
  void forward(Merge& mg, const protocol::HouseholdSync& incoming, uint64_t from_peer);
  protocol::HouseholdSync bundle(const protocol::Household& h) const;
  void send_sync(uint64_t to, const protocol::HouseholdSync& sync);
  void queue_sync(uint64_t to, std::string_view encoded);

  // The syncs waiting to go toward one neighbour.
  struct PendingSyncs {
    std::string first;  // the first one, sent alone if no other follows
    std::string batch;  // from the second on: the batch (protocol/domain_codec.h)
    size_t items = 0;
  };
  void send_pending(uint64_t to, PendingSyncs& p);
  std::map<uint64_t, PendingSyncs> pending_syncs_;
  std::string last_sealed_items_;  // the items of the batch last packed
  std::string last_sealed_;        // and that batch, packed and compressed when smaller
  protocol::MessageKind last_sealed_kind_ = protocol::MessageKind::kHouseholdSyncBatch;
  std::map<char, uint64_t> id_seqs_;  // kind -> last sequence handed out in this transaction
};

}  // namespace lifeline::node
