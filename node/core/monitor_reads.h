// Typed reads of the monitoring domain's tables (monitor_tables.h), the same
// for a write transaction (Monitor::Txn) and a read-only one (queries).
// Internal to the Monitor. T is storage::ReadTxn or storage::WriteTxn.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "node/core/alert_merge.h"
#include "node/core/monitor_tables.h"
#include "protocol/domain_codec.h"
#include "storage/store.h"
#include "topology/status.h"

namespace lifeline::node {

template <class T>
struct DomainReads {
  const T& txn;

  template <class V, class Decode>
  static V decoded(std::string_view bytes, Decode decode, const char* what) {
    auto r = decode(bytes);
    LIFELINE_CHECK(r.is_ok(), std::string("stored ") + what + " does not decode: " + r.status().to_string());
    return std::move(*r);
  }

  std::optional<protocol::Household> household(const protocol::HouseholdId& id) const {
    std::string_view v;
    if (!txn.get(storage::Table::kHouseholds, keys::id(id), v)) return std::nullopt;
    return decoded<protocol::Household>(v, protocol::decode_household, "household");
  }
  // Only the household's id and village (protocol::decode_household_header).
  std::optional<protocol::Household> household_header(const protocol::HouseholdId& id) const {
    std::string_view v;
    if (!txn.get(storage::Table::kHouseholds, keys::id(id), v)) return std::nullopt;
    return decoded<protocol::Household>(v, protocol::decode_household_header, "household");
  }
  // The tombstone's village, 0 when none.
  uint64_t moved_to(const protocol::HouseholdId& id, protocol::Stamp* stamp = nullptr) const {
    std::string_view v;
    if (!txn.get(storage::Table::kMoved, keys::id(id), v) || v.size() != 24) return 0;
    if (stamp != nullptr) *stamp = protocol::Stamp{keys::get_u64(v.substr(8, 8)), keys::get_u64(v.substr(16, 8))};
    return keys::get_u64(v.substr(0, 8));
  }
  std::optional<protocol::HouseholdId> person(std::string_view id_number) const {
    std::string_view v;
    if (!txn.get(storage::Table::kPersons, id_number, v) || v.size() != 16) return std::nullopt;
    return keys::parse_id(v);
  }
  protocol::AlertId resolve(const protocol::AlertId& id) const {
    std::string_view v;
    return txn.get(storage::Table::kAliases, keys::id(id), v) && v.size() == 16 ? keys::parse_id(v) : id;
  }
  // The alert, after resolving aliases.
  std::optional<protocol::Alert> alert(const protocol::AlertId& id) const {
    std::string_view v;
    if (!txn.get(storage::Table::kAlerts, keys::id(resolve(id)), v)) return std::nullopt;
    return decoded<protocol::Alert>(v, protocol::decode_alert, "alert");
  }
  std::vector<protocol::Alert> alerts_of(const protocol::HouseholdId& id) const {
    std::vector<protocol::AlertId> ids;
    txn.scan(storage::Table::kHouseholdAlerts, keys::id(id), [&](std::string_view, std::string_view v) {
      if (v.size() == 16) ids.push_back(keys::parse_id(v));
      return true;
    });
    std::vector<protocol::Alert> out;
    for (const protocol::AlertId& a : ids) {
      if (auto al = alert(a)) out.push_back(std::move(*al));
    }
    return out;
  }
  // The open alert of the highest generation, if any.
  std::optional<protocol::Alert> open_alert(const protocol::HouseholdId& id) const {
    std::optional<protocol::Alert> open;
    for (protocol::Alert& a : alerts_of(id)) {
      if (alert_open(a) && (!open || a.generation > open->generation)) open = std::move(a);
    }
    return open;
  }
  uint32_t max_generation(const protocol::HouseholdId& id) const {
    uint32_t g = 0;
    txn.scan(storage::Table::kHouseholdAlerts, keys::id(id), [&](std::string_view k, std::string_view) {
      if (k.size() == 20) g = std::max(g, keys::get_be32(k.data() + 16));
      return true;
    });
    return g;
  }
  std::vector<protocol::DeptEvent> events_of(const protocol::HouseholdId& id) const {
    return all<protocol::DeptEvent>(storage::Table::kHouseholdEvents, id, protocol::decode_event, "event");
  }
  // The other households held here that claim the same person (a registry
  // conflict: Monitor::Txn::index_person), the indexed one first.
  std::vector<protocol::HouseholdId> other_claims(const std::string& id_number, const protocol::HouseholdId& id) const {
    std::vector<protocol::HouseholdId> out;
    const std::string hid = keys::id(id);
    std::string_view v;
    if (txn.get(storage::Table::kPersons, id_number, v) && v.size() == 16 && v != hid) out.push_back(keys::parse_id(v));
    txn.scan(storage::Table::kPersonConflicts, id_number, [&](std::string_view k, std::string_view) {
      if (k.size() == id_number.size() + 16 && k.substr(id_number.size()) != hid) out.push_back(keys::parse_id(k.substr(id_number.size())));
      return true;
    });
    return out;
  }
  // In entry id order (origin, then sequence), as the index holds them.
  std::vector<protocol::HistoryEntry> history_of(const protocol::HouseholdId& id) const {
    std::vector<protocol::HistoryEntry> out;
    txn.scan(storage::Table::kHouseholdHistory, keys::id(id), [&](std::string_view k, std::string_view) {
      std::string_view v;
      LIFELINE_CHECK(k.size() == 32 && txn.get(storage::Table::kHistory, k.substr(16), v),
                     "household_history names an entry the history table does not hold");
      out.push_back(decoded<protocol::HistoryEntry>(v, protocol::decode_history, "history entry"));
      return true;
    });
    return out;
  }
  bool has_history(const protocol::RecordId& entry) const {
    std::string_view v;
    return txn.get(storage::Table::kHistory, keys::id(entry), v);
  }
  bool has_event(const protocol::DeptEvent& e) const {
    std::string_view v;
    return txn.get(storage::Table::kEvents, keys::event(e.department, e.record_id), v);
  }

 private:
  template <class V, class Decode>
  std::vector<V> all(storage::Table table, const protocol::HouseholdId& id, Decode decode, const char* what) const {
    std::vector<V> out;
    txn.scan(table, keys::id(id), [&](std::string_view, std::string_view v) {
      out.push_back(decoded<V>(v, decode, what));
      return true;
    });
    return out;
  }
};

using ReadView = DomainReads<storage::ReadTxn>;

}  // namespace lifeline::node
