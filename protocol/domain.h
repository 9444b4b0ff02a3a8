// The monitoring domain as plain C++ values (DESIGN §2, §3.4): households and
// their members, department events, alerts, verification feedback and case
// history. protocol/domain_codec.h turns them into Cap'n Proto bytes
// (domain.capnp) and back, with limits for untrusted input; the same bytes
// are stored in the node's tables and carried in link payloads.
//
// Replication model: a Household's fields are last-writer-wins registers
// ordered by Stamp; an Alert is a join-semilattice (merge_alert in
// node/core/alert_merge.h); history entries and events are grow-only sets
// keyed by their ids. So any two replicas that have seen the same updates
// agree, whatever the order.
//
// Value types: copyable, movable, compared field by field.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

namespace lifeline::protocol {

// A calendar date as the integer YYYYMMDD (e.g. 20261123); 0 = none.
using Date = uint32_t;

// The order of last-writer-wins registers: hybrid logical clock first, the
// writing node's code breaks ties.
struct Stamp {
  uint64_t hlc = 0;   // hybrid logical clock of the write
  uint64_t node = 0;  // division code of the node that wrote it
  auto operator<=>(const Stamp&) const = default;
};

template <class T>
struct Lww {
  T value{};
  Stamp stamp;  // zero: never written
  bool operator==(const Lww&) const = default;
  // Takes other's value when it was written later; true when this changed.
  bool merge(const Lww& other) {
    if (!(stamp < other.stamp)) return false;
    *this = other;
    return true;
  }
};

// Ids made where the thing was created: that node's code and its own
// sequence. Ordered, so merges can pick a survivor deterministically.
struct RecordId {
  uint64_t origin = 0;  // division code of the creating node
  uint64_t seq = 0;     // 1, 2, ... per origin and kind
  auto operator<=>(const RecordId&) const = default;
  bool valid() const { return origin != 0 && seq != 0; }
};
using HouseholdId = RecordId;
using AlertId = RecordId;

// Text forms used by operators and scripts: "H-441303001001-17",
// "A-440000000000-5", "F-441303001001-2" (prefix, 12-digit origin, seq).
std::string format_id(char prefix, const RecordId& id);
// Parses the text form; false when malformed or the prefix differs.
bool parse_id(std::string_view text, char prefix, RecordId& out);

struct Member {
  std::string id_number;           // GB 11643, 18 characters, check digit verified
  std::string name;                // UTF-8
  std::string relation;            // head, spouse, child, parent, grandparent, grandchild, sibling, other
  uint32_t disability_grade = 0;   // 0 none, 1 (most severe) .. 4
  std::string disability_kind;     // "", physical, visual, hearing, speech, intellectual, mental, multiple
  bool major_illness = false;      // a listed major illness (重特大疾病)
  bool single_person_coverage = false;  // 单人保 flag
  bool operator==(const Member&) const = default;
};

// A monitored household (监测对象). Sex and birth date of members are
// derived from their ID numbers, never stored separately.
struct Household {
  HouseholdId id;
  Lww<uint64_t> village;            // home village code (12 digits); a move changes it
  Lww<std::string> category;        // minimum_living, destitute, marginal, expenditure_hardship, other
  Lww<int64_t> income_fen;          // per-capita monthly income, fen (0.01 yuan)
  Lww<std::string> phone;
  Lww<std::string> address;
  Lww<std::string> source;          // active_discovery or application
  Lww<std::vector<Member>> members;
  bool operator==(const Household&) const = default;
};

// One department record (部门数据比对), as imported. Its id is
// (department, record_id): it applies once, ever, at any node.
struct DeptEvent {
  std::string department;   // e.g. medical_insurance
  std::string record_id;    // the department's own record id
  std::string id_number;    // the person it concerns
  std::string indicator;    // an indicator code of the policy, e.g. serious_illness
  Date event_date = 0;
  uint64_t imported_at = 0;  // code of the node that imported it
  uint64_t hlc = 0;          // when it was imported
  bool operator==(const DeptEvent&) const = default;
};

enum class AlertState : uint8_t { kIssued = 1, kDelivered = 2, kAccepted = 3, kVerified = 4, kClosed = 5 };

struct AlertIndicator {
  std::string code;     // indicator code
  uint32_t points = 0;  // its points when scored
  Date event_date = 0;  // the latest event date seen for it
  bool operator==(const AlertIndicator&) const = default;
};

// A warning (预警信息). Level 1 (red, ≥9) .. 4 (blue, 6), 5 = green (1–5).
struct Alert {
  AlertId id;
  HouseholdId household;
  uint32_t generation = 0;                 // 1 + the highest generation known for the household when issued
  std::vector<AlertIndicator> indicators;  // sorted by code, each once
  uint32_t score = 0;                      // sum of indicators' points
  uint32_t level = 5;                      // 1 most severe .. 5 green
  Date issued_date = 0;                    // Asia/Shanghai date of issue
  Date due_date = 0;                       // the deadline's day (ends 23:59:59 Asia/Shanghai)
  AlertState state = AlertState::kIssued;
  uint64_t issued_hlc = 0;
  int64_t delivered_at_us = 0;             // wall clock, Unix µs; 0 = not yet
  int64_t accepted_at_us = 0;
  int64_t verified_at_us = 0;
  int64_t closed_at_us = 0;
  std::string accepted_by;                 // operator's name or node code
  std::vector<AlertId> aliases;            // ids merged into this one, sorted
  int64_t escalated_at_us = 0;             // the latest escalation (督办) by a supervisor; 0 = none
  bool operator==(const Alert&) const = default;
};

// Verification feedback (核查反馈, seed 004 §四(二), 附件1).
struct Feedback {
  AlertId alert;
  Date visit_date = 0;
  std::string method;               // home_visit or phone
  std::string visitor;
  bool truthful = true;             // 情况属实
  std::string findings;
  std::vector<std::string> needs;   // basic_living, rehabilitation, care, nursing, psychological, health, financial_aid
  std::string decision;             // include_minimum_living, include_destitute, include_single_person,
                                    // temporary_assistance, referral, none_needed, keep_monitoring
  std::string referral;             // medical, education, housing, employment (decision == referral)
  bool operator==(const Feedback&) const = default;
};

// One entry of a household's case history. Id = (recording node, its seq).
struct HistoryEntry {
  RecordId id;
  HouseholdId household;
  uint64_t hlc = 0;
  std::string kind;      // registered, updated, moved, alert_issued, alert_updated, alert_merged,
                         // delivered, handed_over, accepted, escalated, feedback, closed, application
  AlertId alert;         // the alert concerned, if any
  std::string text;      // a short description (no ID numbers)
  bool has_feedback = false;
  Feedback feedback;     // when kind == feedback
  bool operator==(const HistoryEntry&) const = default;
};

// What travels the holder path of one household (kHouseholdSync): its
// fields, the alerts that changed, and the history entries and events the
// receiver may not have. A hand-over bundle carries all of them.
struct HouseholdSync {
  Household household;
  std::vector<Alert> alerts;
  std::vector<HistoryEntry> history;
  std::vector<DeptEvent> events;
  bool operator==(const HouseholdSync&) const = default;
};

}  // namespace lifeline::protocol
