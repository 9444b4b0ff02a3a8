// Key encodings of the monitoring domain's tables (storage::Table). Integers
// are big-endian in keys so that keys sort numerically; a record id is its
// origin code then its sequence (16 bytes). Values are Cap'n Proto
// (protocol/domain_codec.h) unless said otherwise.
//
//   households        H(16)                         -> Household
//   persons           ID number (18 ASCII)          -> H(16)
//   events            department \0 record id       -> H(16): applied once, ever (kept after a move away)
//   household_events  H(16) department \0 record id -> DeptEvent
//   alerts            A(16)                         -> Alert
//   household_alerts  H(16) generation(4)           -> A(16)
//   aliases           A(16) merged away             -> A(16) surviving
//   open_alerts       due date(4) A(16)             -> bucket (8) level (1) state (1) village (8): alerts before verified
//   history           entry id(16)                  -> HistoryEntry: keyed by id so that new entries (ids
//                                                      rise per origin) go at the end of the tree; keyed by
//                                                      household, an import that gave 156,179 households an
//                                                      entry rewrote nearly every page of a 200 MB table
//   household_history H(16) entry id(16)            -> (empty): the index of a household's entries
//   village_households village(8) H(16)             -> (empty): the households held, by village; a
//                                                      division's villages are one key range
//                                                      (DivisionCode::last_descendant)
//   moved             H(16)                         -> new village (8) stamp hlc (8) stamp node (8)
//   applications      P(16)                         -> JSON
//   domain            "policy"                      -> the running policy's JSON
//                     "seq:<c>"                     -> u64: last id sequence of kind c (H, A, E, P)
//                     "agg:" bucket(8) metric       -> u64: aggregate count of a bucket
//                     "child:" code(8)              -> JSON: the child's last snapshot
//                     "std:" county(8)              -> JSON: the county's effective 低保 standards
//                     "index:village_households"    -> "1" once that index covers every household
//                                                      (built at start on a store written before it)
//
// A bucket is the division directly under this node that contains a
// village (this node itself at a village node); the aggregates of a child
// are its bucket's counts.
//
// Crash: every table changes only inside the transaction of the change that
// caused it, with the outbox entries that carry it on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/domain.h"
#include "storage/tables.h"

namespace lifeline::node::keys {

inline std::string id(const protocol::RecordId& r) { return storage::tables::key64(r.origin, r.seq); }
inline protocol::RecordId parse_id(std::string_view k) {
  return protocol::RecordId{storage::tables::get_be64(k.data()), storage::tables::get_be64(k.data() + 8)};
}
inline std::string be32(uint32_t v) {
  std::string k(4, '\0');
  for (int i = 3; i >= 0; --i, v >>= 8) k[i] = static_cast<char>(v & 0xff);
  return k;
}
inline uint32_t get_be32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline std::string event(std::string_view department, std::string_view record_id) {
  std::string k(department);
  k.push_back('\0');
  k.append(record_id);
  return k;
}
inline std::string household_alert(const protocol::HouseholdId& h, uint32_t generation) {
  return id(h) + be32(generation);
}
inline std::string open_alert(protocol::Date due, const protocol::AlertId& a) { return be32(due) + id(a); }
inline std::string village_household(uint64_t village, const protocol::HouseholdId& h) {
  return storage::tables::key64(village) + id(h);
}
inline std::string household_history(const protocol::HouseholdId& h, const protocol::RecordId& entry) {
  return id(h) + id(entry);
}
// The open-alert index's value: the bucket, the alert's level and state, and
// the household's village, so that a list filters and shows alerts without
// decoding their households (a move rewrites the entries).
inline std::string open_alert_value(uint64_t bucket, const protocol::Alert& a, uint64_t village) {
  std::string v = storage::tables::key64(bucket);
  v.push_back(static_cast<char>(a.level));
  v.push_back(static_cast<char>(a.state));
  v += storage::tables::key64(village);
  return v;
}
inline std::string agg(uint64_t bucket, std::string_view metric) {
  return "agg:" + storage::tables::key64(bucket) + std::string(metric);
}
inline std::string child(uint64_t code) { return "child:" + storage::tables::key64(code); }
inline std::string standard(uint64_t county) { return "std:" + storage::tables::key64(county); }
inline std::string u64(uint64_t v) {
  std::string s(8, '\0');
  storage::tables::put_le64(s.data(), v);
  return s;
}
inline uint64_t get_u64(std::string_view v) { return v.size() == 8 ? storage::tables::get_le64(v.data()) : 0; }

}  // namespace lifeline::node::keys
