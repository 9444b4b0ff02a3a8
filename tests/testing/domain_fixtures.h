// Domain test data for the monitoring tests (tests/node/monitor_test.cc,
// tests/sim/): valid resident ID numbers, department event files, a
// verification feedback, the default policy under a new version, and a
// read-only view of what one store holds of a household (for comparing
// holders and checking that non-holders keep no personal data).
//
// Header-only; pure functions except the store reads. Thread-compatible.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "node/core/civil_date.h"
#include "node/core/id_number.h"
#include "node/core/monitor_tables.h"
#include "node/core/policy.h"
#include "protocol/domain.h"
#include "protocol/domain_codec.h"
#include "storage/store.h"

namespace lifeline::testing {

// 2026-11-23 10:00 Asia/Shanghai, a Monday: deadlines fall in the default
// policy's 2026 calendar (no holiday before 2027-01-01).
inline constexpr int64_t kWall0Us = int64_t{1795399200} * 1'000'000;

// A valid GB 11643 number: 6-digit address, birth date, 3-digit sequence,
// check character.
inline std::string make_id_number(uint32_t address, protocol::Date birth, uint32_t seq) {
  char first17[18];
  std::snprintf(first17, sizeof first17, "%06u%08u%03u", address % 1000000, birth, seq % 1000);
  return std::string(first17) + node::id_check_char(first17);
}

// The n-th distinct ID number of a test (n < 1,000,000): births spread over
// 1950..2009 so every holder of the number is an adult or a child, never
// born after the simulated today.
inline std::string nth_id_number(uint64_t n) {
  uint32_t year = 1950 + static_cast<uint32_t>(n / 1000 % 60);
  uint32_t month = 1 + static_cast<uint32_t>(n / 60000 % 12);
  uint32_t day = 1 + static_cast<uint32_t>(n / 720000 % 28);
  return make_id_number(441303, year * 10000 + month * 100 + day, static_cast<uint32_t>(n % 1000));
}

inline protocol::Member member(std::string id_number, std::string name, std::string relation) {
  protocol::Member m;
  m.id_number = std::move(id_number);
  m.name = std::move(name);
  m.relation = std::move(relation);
  return m;
}

// One line of a department event file.
struct EventLine {
  std::string department;
  std::string record_id;
  std::string id_number;
  std::string indicator;
  protocol::Date date = 0;
};

inline std::string events_csv(const std::vector<EventLine>& lines) {
  std::string out = "source_department,source_record_id,id_number,indicator,event_date\n";
  for (const EventLine& l : lines)
    out += l.department + "," + l.record_id + "," + l.id_number + "," + l.indicator + "," + node::format_date(l.date) + "\n";
  return out;
}

inline protocol::Feedback feedback_for(const protocol::AlertId& alert, protocol::Date visit,
                                       std::string decision = "temporary_assistance",
                                       std::vector<std::string> needs = {"basic_living", "financial_aid"}) {
  protocol::Feedback f;
  f.alert = alert;
  f.visit_date = visit;
  f.method = "home_visit";
  f.visitor = "李协理员";
  f.truthful = true;
  f.findings = "医疗支出大，收入骤减";
  f.needs = std::move(needs);
  f.decision = std::move(decision);
  if (f.decision == "referral") f.referral = "medical";
  return f;
}

// The default policy document as version `version`, with the points of
// `indicator` changed to `points` when given.
inline std::string policy_version(uint64_t version, const std::string& indicator = "", uint32_t points = 0) {
  nlohmann::json doc = nlohmann::json::parse(node::default_policy_json());
  doc["version"] = version;
  doc["note"] = "test version " + std::to_string(version);
  if (!indicator.empty()) {
    for (auto& i : doc["indicators"]) {
      if (i["code"] == indicator) i["points"] = points;
    }
  }
  return doc.dump();
}

// What one store holds of a household, read straight from the domain
// tables (node/core/monitor_tables.h).
struct HeldHousehold {
  std::optional<protocol::Household> household;
  uint64_t moved_to = 0;                                   // tombstone's village
  bool person_rows = false;                                // some member's ID number is indexed (persons, or person_conflicts)
  std::map<protocol::AlertId, protocol::Alert> alerts;     // by id (via household_alerts)
  std::vector<protocol::RecordId> history;                 // entry ids, in key order
  std::vector<std::string> events;                         // department \0 record id, in key order
};

inline HeldHousehold read_held(const storage::ReadTxn& txn, const protocol::HouseholdId& id,
                               const std::vector<std::string>& member_ids) {
  namespace keys = node::keys;
  using storage::Table;
  HeldHousehold out;
  std::string hid = keys::id(id);
  std::string_view v;
  if (txn.get(Table::kHouseholds, hid, v)) out.household = *protocol::decode_household(v);
  if (txn.get(Table::kMoved, hid, v) && v.size() == 24) out.moved_to = keys::get_u64(v.substr(0, 8));
  for (const std::string& n : member_ids) {
    if ((txn.get(Table::kPersons, n, v) && v == hid) || txn.get(Table::kPersonConflicts, n + hid, v)) out.person_rows = true;
  }
  txn.scan(Table::kHouseholdAlerts, hid, [&](std::string_view, std::string_view a) {
    std::string_view bytes;
    if (a.size() == 16 && txn.get(Table::kAlerts, a, bytes)) {
      protocol::Alert al = *protocol::decode_alert(bytes);
      out.alerts[al.id] = al;
    }
    return true;
  });
  txn.scan(Table::kHouseholdHistory, hid, [&](std::string_view k, std::string_view) {
    out.history.push_back(keys::parse_id(k.substr(16)));
    return true;
  });
  txn.scan(Table::kHouseholdEvents, hid, [&](std::string_view k, std::string_view) {
    out.events.emplace_back(k.substr(16));
    return true;
  });
  return out;
}

// The alert an id names at a store (after its alias, if any), if held.
inline std::optional<protocol::Alert> resolve_alert(const storage::ReadTxn& txn, const protocol::AlertId& id) {
  namespace keys = node::keys;
  std::string_view v;
  std::string key = keys::id(id);
  if (txn.get(storage::Table::kAliases, key, v) && v.size() == 16) key.assign(v);
  if (!txn.get(storage::Table::kAlerts, key, v)) return std::nullopt;
  return *protocol::decode_alert(v);
}

// The last sequence a node gave to ids of kind c (H, A, E, P): ids
// (node, 1..n) are every one it ever issued.
inline uint64_t issued_ids(const storage::ReadTxn& txn, char kind) {
  std::string_view v;
  return txn.get(storage::Table::kDomain, std::string("seq:") + kind, v) ? node::keys::get_u64(v) : 0;
}

}  // namespace lifeline::testing
