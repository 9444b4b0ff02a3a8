// Read-only queries of the monitoring domain for the operators' API: pages
// of alerts and households, and the case file. They read the store only
// (one short read transaction each) and no Monitor state, so any thread may
// run them while the node loop writes (Store::read is thread-safe); the HTTP
// pool does, so a list never waits behind the loop.
//
// Paging is by cursor: each page returns the key to continue after, so a
// page costs the same however deep the operator pages.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "node/core/monitor.h"
#include "storage/store.h"
#include "topology/division_code.h"

namespace lifeline::node {

struct AlertPage {
  std::vector<AlertView> alerts;
  std::string next;                     // "" when this is the last page
};

// Open alerts (and queries that ask for open or overdue ones) come in
// deadline order from the open-alert index; others in id order.
Result<AlertPage> query_alerts(const storage::Store& store, const AlertQuery& q, Date today);

struct HouseholdQuery {
  uint64_t within = 0;                  // 0 = any; else a division the village is in
  std::string category;                 // "" = any
  bool open_alert_only = false;         // only households with an open alert
  std::string after;                    // cursor ("" = first page)
  size_t limit = 50;
};

struct HouseholdSummary {
  protocol::Household household;
  std::optional<protocol::Alert> open_alert;
};

struct HouseholdPage {
  std::vector<HouseholdSummary> households;
  std::string next;
  uint64_t scanned = 0;                 // records read to fill the page
};

Result<HouseholdPage> query_households(const storage::Store& store, const HouseholdQuery& q);

// The case page's record (as Monitor::show_household).
Result<CaseFile> query_case(const storage::Store& store, const protocol::HouseholdId& id);

// The refusals several commands share, in English and Chinese.
Status household_not_held(const protocol::HouseholdId& id);
Status person_already_registered(std::string_view id_number, const protocol::HouseholdId& other);
// What a person_already_registered refusal names: the person's ID number
// (masked) and the other household. Nullopt for any other Status. The web
// shows the household only to an account whose jurisdiction holds it.
struct AlreadyRegistered {
  std::string masked_id_number;
  protocol::HouseholdId household;
};
std::optional<AlreadyRegistered> already_registered(const Status& s);
Result<protocol::HouseholdId> query_person(const storage::Store& store, std::string_view id_number);

// Persons claimed by two households held here (DESIGN §2.2 departure in the
// README: the first claim is indexed, each further one is a conflict row),
// for a supervisor to resolve. One row per further claim.
struct ConflictQuery {
  uint64_t within = 0;                  // 0 = any; else a division one of the two villages is in
  std::string after;                    // cursor ("" = first page)
  size_t limit = 50;
};

struct PersonConflict {
  std::string id_number;                // in full: callers mask it
  std::string name;                     // as the indexed household registers the person
  protocol::HouseholdId household;      // the household the persons index names
  uint64_t village = 0;                 // its village (0 if not held here)
  protocol::HouseholdId also_in;        // the further household claiming the person
  uint64_t also_in_village = 0;
};

struct ConflictPage {
  std::vector<PersonConflict> conflicts;
  std::string next;
};

Result<ConflictPage> query_conflicts(const storage::Store& store, const ConflictQuery& q);

struct AuditQuery {
  std::string account;                  // "" = any
  std::string action;                   // "" = any
  std::string target;                   // "" = any (e.g. a household id)
  uint64_t node = 0;                    // 0 = any; else entries made at this node
  uint64_t within = 0;                  // 0 = any; else entries made at nodes in this division
  std::string before;                   // cursor: newest first, continuing before this key
  size_t limit = 100;
};

struct AuditPage {
  std::vector<nlohmann::json> entries;  // newest first
  std::string next;
};

Result<AuditPage> query_audit(const storage::Store& store, const AuditQuery& q);

// Cursors are hex of the index key; a malformed one is refused.
std::string encode_cursor(std::string_view key);
Result<std::string> decode_cursor(std::string_view cursor);

}  // namespace lifeline::node
