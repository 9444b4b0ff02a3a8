// The tables (LMDB named databases) of a node's store: key encodings, value
// layouts and what a crash leaves behind. Integers are big-endian in keys
// (so keys sort numerically) and little-endian in values. A division code is
// its 12 digits as a uint64. Internal to storage/.
//
// A crash (kill -9, power loss) leaves every table exactly as the last
// committed write transaction left it: LMDB commits are atomic and, with the
// default durable settings used in production (no MDB_NOSYNC), on disk when
// mdb_txn_commit returns. No table is ever half-updated, and every table
// below is written only together with the others it must agree with.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace lifeline::storage::tables {

// `meta`: key = ASCII name, value = bytes.
//   "code"    -> u64 LE: the division code of the node owning the store; set
//                once at first open, checked at every open.
//   "format"  -> u32 LE: the store format version (kFormatVersion).
//   "hlc"     -> u64 LE: the node's hybrid logical clock as of the last
//                commit that moved it (WriteTxn::put_hlc); absent until then.
// Crash: "code" and "format" are written in the first transaction only
// (absent means a new store); "hlc" commits with the change that moved it.
inline constexpr const char* kMeta = "meta";
// 2: history keyed by entry id, with the household_history index (was
//    household id ++ entry id -> entry). A store of format 1 is refused.
inline constexpr uint32_t kFormatVersion = 2;

// `outbox`: key = peer code (8 BE) ++ link seq (8 BE);
//   value = origin (8) ++ origin_seq (8) ++ destination (8) ++ hlc (8) ++
//           kind (2) ++ payload (rest).
// Holds every record assigned to the link toward `peer` and not yet acked.
// Written in the same transaction as the change that caused it (a post, or
// the relay of a record received on another link) and as the cursor's
// last_assigned; deleted in the transaction that records the ack.
// Crash: entries from acked+1 to last_assigned, contiguous.
inline constexpr const char* kOutbox = "outbox";

// `cursors`: key = peer code (8 BE);
//   value = last_assigned (8) ++ acked (8) ++ applied (8).
//   last_assigned: highest link seq written to the outbox toward peer;
//   acked:         highest link seq the peer acknowledged (all ≤ it deleted);
//   applied:       highest link seq received from peer and committed.
// Crash: the values of the last commit; they never move backward.
inline constexpr const char* kCursors = "cursors";

// `streams`: key = destination code (8 BE), with the top bit set for the
// monitoring channel (store.h kMonitorChannel); value = last origin_seq (8)
// assigned to a message created here for that destination and channel.
// Crash: the last commit's value; a message and its origin_seq are written
// in one transaction, so no origin_seq is ever used twice.
inline constexpr const char* kStreams = "streams";

// `applied_marks`: key = origin (8 BE) ++ destination (8 BE, top bit set for
//   the monitoring channel);
//   value = contiguous_through (8) ++ count (8) ++ out_of_order (8).
//   contiguous_through: highest origin_seq with every seq ≤ it applied here;
//   count:        number of messages of the stream applied here;
//   out_of_order: applies whose seq was not contiguous_through + 1.
// `applied_ids`: key = origin (8 BE) ++ destination (8 BE) ++ origin_seq (8 BE);
//   value = empty. Ids applied above contiguous_through (normally none);
//   removed as the mark passes them. Together: the applied-id set (dedupe).
// Crash: both agree with `inbox` (one transaction).
inline constexpr const char* kAppliedMarks = "applied_marks";
inline constexpr const char* kAppliedIds = "applied_ids";

// `inbox`: key = origin (8 BE) ++ destination (8 BE) ++ origin_seq (8 BE);
//   value = hlc (8) ++ applied_at_us (8, wall clock) ++ payload (rest).
// The test messages applied at this node. Crash: as applied_marks.
inline constexpr const char* kInbox = "inbox";

// `counters`: key = ASCII name (e.g. "refused:441303001001"); value = u64 LE.
// Durable counts shown in status. Crash: the last commit's values.
inline constexpr const char* kCounters = "counters";

// The monitoring domain's tables (storage::Table: households, persons,
// events, household_events, alerts, household_alerts, aliases, open_alerts,
// history, moved, applications, domain) are opaque to the store; their key
// encodings and values are documented in node/core/monitor_tables.h. They
// change only in the transactions of the changes that cause them, together
// with the outbox entries that carry those changes on.

inline void put_be64(char* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}
inline uint64_t get_be64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}
inline void put_le64(char* out, uint64_t v) { std::memcpy(out, &v, 8); }
inline uint64_t get_le64(const char* in) {
  uint64_t v;
  std::memcpy(&v, in, 8);
  return v;
}

// Big-endian key of one, two or three u64 parts.
inline std::string key64(uint64_t a) {
  std::string k(8, '\0');
  put_be64(k.data(), a);
  return k;
}
inline std::string key64(uint64_t a, uint64_t b) {
  std::string k(16, '\0');
  put_be64(k.data(), a);
  put_be64(k.data() + 8, b);
  return k;
}
inline std::string key64(uint64_t a, uint64_t b, uint64_t c) {
  std::string k(24, '\0');
  put_be64(k.data(), a);
  put_be64(k.data() + 8, b);
  put_be64(k.data() + 16, c);
  return k;
}

}  // namespace lifeline::storage::tables
