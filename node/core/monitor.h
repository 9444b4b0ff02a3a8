// Monitor: the monitoring domain of one node (DESIGN §2, §3.4; seed 004):
// the household registry, department events and scoring, alerts with their
// working-day deadlines, verification feedback, policy, aggregates and
// cross-location applications. It plugs into NodeCore as its DomainHandler:
// every change is made in one write transaction together with the messages
// it causes, so links carry it durably.
//
// Replication (the holder path): a household's holders are its home node
// (the lowest running node containing its village) and every ancestor. A
// change made at a holder is applied there and sent as a HouseholdSync to
// the next holders both ways (parent; the child toward the village); each
// hop merges it (fields last-writer-wins by Stamp, alerts by their join,
// history and events as grow-only sets) and passes on what changed, and
// answers the sender when the sender's copy was behind. A node that finds
// the household's village outside its jurisdiction after a merge (a move)
// keeps only a tombstone pointing to the new village.
// The syncs one transaction sends toward a neighbour go as one record
// (kHouseholdSyncBatch, protocol/README.md) whose items apply one by one.
//
// Alerts: issued where scoring happens, one generation at a time per
// household; two alerts of the same household and generation (raised
// concurrently at two nodes) merge at every holder into the one with the
// smaller id, the other id kept as an alias.
//
// Threading: single-threaded, on the node loop (or the simulation). Reads
// go through short read transactions; writes through NodeCore::execute or
// the DomainHandler calls. Not copyable.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "node/core/department_import.h"
#include "node/core/domain_handler.h"
#include "node/core/node_core.h"
#include "node/core/policy.h"
#include "protocol/domain.h"

namespace lifeline::node {

template <class T>
struct DomainReads;
using ReadView = DomainReads<storage::ReadTxn>;

struct MonitorOptions {
  int64_t aggregate_interval_us = 60'000'000;     // a snapshot goes up at least this often
  int64_t aggregate_min_interval_us = 1'000'000;  // and at most this often when figures change
  // True when a code names a division this node knows (the divisions tree);
  // unset: every well-formed code is accepted.
  std::function<bool(topology::DivisionCode)> known_division;
};

// What an import did (node/import/README.md, the report JSON).
struct ImportReport {
  uint64_t lines_read = 0;
  uint64_t applied = 0;        // events stored for a monitored person
  uint64_t duplicates = 0;     // (department, record id) seen before, here or earlier in the file
  uint64_t not_monitored = 0;  // persons in no household of this node's jurisdiction (not stored)
  uint64_t alerts_issued = 0;
  uint64_t alerts_updated = 0;
  std::vector<RejectedLine> rejected;
  bool dry_run = false;        // checked and scored, then rolled back: nothing was stored or sent
};

struct NewHousehold {
  uint64_t village = 0;
  std::string category;
  int64_t income_fen = 0;
  std::string phone;
  std::string address;
  std::string source = "active_discovery";
  std::vector<protocol::Member> members;
};

// The fields an operator may change on a registered household; unset = unchanged.
struct HouseholdUpdate {
  std::optional<std::string> category;
  std::optional<int64_t> income_fen;
  std::optional<std::string> phone;
  std::optional<std::string> address;
  std::optional<std::vector<protocol::Member>> members;
};

// What a household registration file did (`lifeline household import`).
struct HouseholdImportReport {
  struct Rejected {
    uint64_t line = 0;
    std::string reason;     // Chinese (the English one where none was written)
    std::string reason_en;  // English
  };
  uint64_t lines_read = 0;
  uint64_t registered = 0;
  std::vector<Rejected> rejected;
};

// Households per transaction of a registration file.
inline constexpr size_t kHouseholdImportChunk = 10000;
// An escalation's note (督办意见), in bytes.
inline constexpr size_t kMaxEscalationNoteBytes = 500;

// Which alerts a list shows: one page of the API's query (query_alerts,
// node/core/monitor_queries.h), or with AlertFilter the command line's whole
// list (Monitor::list_alerts).
struct AlertQuery {
  uint32_t level = 0;                   // 0 = any
  int state = 0;                        // 0 = any, else an AlertState
  bool open_only = false;               // states before verified
  bool overdue_only = false;
  bool escalated_only = false;          // alerts a supervisor escalated (督办)
  protocol::Date due_before = 0;        // 0 = any; else due on or before this day
  uint64_t within = 0;                  // 0 = any; else a division the household's village is in
  std::string after;                    // the cursor of the previous page ("" = first page)
  size_t limit = 50;                    // alerts in the page
};

// The same filter; limit counts the whole list, read page after page.
struct AlertFilter : AlertQuery {
  AlertFilter() { limit = 1000; }
};

struct AlertView {
  protocol::Alert alert;
  uint64_t village = 0;       // the household's village
  bool overdue = false;
};

// One household as a case page shows it.
struct CaseFile {
  protocol::Household household;
  std::vector<protocol::Alert> alerts;
  std::vector<protocol::HistoryEntry> history;
  std::vector<protocol::DeptEvent> events;
  uint64_t moved_to = 0;  // non-zero: only a tombstone is held here
  // Members also claimed by another household held here (ID number, that
  // household): a registry conflict for a supervisor to resolve.
  std::vector<std::pair<std::string, protocol::HouseholdId>> also_registered;
};

class Monitor : public DomainHandler {
 public:
  Monitor(NodeCore* core, storage::Store* store, MonitorOptions options);
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Loads the running policy (the compiled-in default on a new store).
  Status start();

  // DomainHandler
  bool handles(uint16_t kind) const override;
  bool neighbour_only(uint16_t kind) const override;
  void begin() override;
  Status on_record(storage::WriteTxn& txn, const protocol::Record& record, uint64_t from_peer, Outbound& out,
                   const Instant& now) override;
  void committed() override;
  Status adapt_for_peer(protocol::Record& record, uint64_t peer_features) const override;

  // Commands (operators and scripts). Each is one transaction: all or nothing.
  // dry_run: the same work and the same report, in a transaction that is
  // then rolled back (an operator checks a department's file first).
  Result<ImportReport> import_events(std::string_view text, ImportFormat format, const Instant& now,
                                     bool dry_run = false);
  Result<protocol::HouseholdId> add_household(const NewHousehold& input, const Instant& now);
  // A registration file: JSON Lines, one household per line in the shape of
  // household_from_json (node/core/household_json.h). Checked lines are
  // registered in transactions of kHouseholdImportChunk; a rejected line
  // (malformed, invalid, or a person already registered) changes nothing.
  Result<HouseholdImportReport> import_households(std::string_view text, const Instant& now);
  Status move_household(const protocol::HouseholdId& id, uint64_t village, const Instant& now);
  Result<CaseFile> show_household(const protocol::HouseholdId& id) const;
  Result<protocol::HouseholdId> find_person(std::string_view id_number) const;
  Result<std::vector<AlertView>> list_alerts(const AlertFilter& filter, const Instant& now) const;
  Status accept_alert(const protocol::AlertId& id, const std::string& by, const Instant& now);
  Status record_feedback(const protocol::Feedback& feedback, const Instant& now);
  Status close_alert(const protocol::AlertId& id, const Instant& now);
  // Escalation (督办) of an open alert by a supervisor at a county node or
  // above: `by` names them, `note` says what is asked (1..kMaxEscalationNoteBytes).
  // The alert's escalated_at_us is set at every holder and the case history
  // gets an "escalated" entry with the note.
  Status escalate_alert(const protocol::AlertId& id, const std::string& by, const std::string& note, const Instant& now);
  // Policy: a new document (province only); standards (province or city).
  Status set_policy(std::string_view json_text, const Instant& now);
  Status set_standards(std::string_view json_text, const Instant& now);
  // The county standards set by a province or city, by county code.
  nlohmann::json standards_json() const;
  // Cross-location applications (异地受理). taken_for: the division the
  // taking account serves (a code inside this node; 0 = the node's own), kept
  // as `taken_for` so that a village's account at its township's node finds
  // the applications it took.
  Result<std::string> submit_application(const nlohmann::json& application, const Instant& now, uint64_t taken_for = 0);
  Status decide_application(const std::string& id, const std::string& status, const std::string& note,
                            const Instant& now);
  Result<nlohmann::json> applications() const;
  // The store, for the read-only queries (node/core/monitor_queries.h).
  const storage::Store& store() const { return *store_; }
  // Aggregates: this node's snapshot and, per child, its report beside the
  // figures computed here.
  Result<nlohmann::json> aggregates(const Instant& now) const;
  // Sends the aggregate snapshot up when due.
  void on_tick(const Instant& now);

  // Operators' changes to a household's fields (last-writer-wins, replicated
  // like any change). Unset fields stay as they are.
  Status update_household(const protocol::HouseholdId& id, const HouseholdUpdate& update, const Instant& now);
  // Appends one entry to the audit log (kAudit) and, below county level,
  // sends it up; returns the entry's id. The entry is a JSON object (web/API.md).
  Result<std::string> append_audit(nlohmann::json entry, const Instant& now);

  const Policy& policy() const { return policy_; }
  uint64_t self() const { return self_.number(); }

 private:
  // The deadline of an alert of `level` issued on `issued` (due_date), with a
  // warning, once per year and run, when it falls in a year the policy's
  // calendar has no notice for: holidays are then not skipped there.
  Date deadline(const Policy& policy, uint32_t level, Date issued);
  struct Txn;  // the state of one write transaction (node/core/monitor_txn.h)
  friend struct Txn;

  Status run(const Instant& now, const std::function<Status(Txn&)>& fn);
  Status dispatch(Txn& t, const protocol::Record& r, uint64_t from_peer);
  Status read(const std::function<void(const ReadView&)>& fn) const;
  Status check_village(uint64_t village) const;
  Status build_village_index();
  Status check_household(NewHousehold& in, Date today) const;
  Result<protocol::HouseholdId> register_household(Txn& t, const NewHousehold& in);
  Status check_members(const std::vector<protocol::Member>& members, Date today) const;
  Status check_feedback(const protocol::Feedback& feedback, Date today) const;
  Status apply_events(Txn& t, const std::vector<ParsedEvent>& events, ImportReport& report);
  // At the home node: a finished alert of generation `generation` gained
  // indicators (`uncovered`) its feedback did not cover. The household is
  // scored again: its open alert is updated, or, when none is open, the
  // next generation is issued for a new visit, unless later finished
  // alerts hold every one of those indicators (their visits saw them).
  void follow_up_uncovered(Txn& t, const protocol::Household& held, uint32_t generation,
                           const std::vector<protocol::AlertIndicator>& uncovered);
  Status check_marginal_income(Txn& t, uint64_t village, const std::string& category, int64_t income_fen) const;
  void score_household_events(Txn& t, const protocol::Household& held, std::vector<protocol::DeptEvent> events,
                              ImportReport& report);
  Status change_alert(const protocol::AlertId& id, const Instant& now,
                      const std::function<Status(Txn&, protocol::Alert&, protocol::HistoryEntry&)>& fn);
  Status receive_policy(Txn& t, std::string_view payload, uint64_t from_peer);
  Status receive_standards(Txn& t, std::string_view payload, uint64_t from_peer);
  Status receive_aggregate(Txn& t, std::string_view payload, uint64_t from_peer);
  Status receive_application(Txn& t, const protocol::Record& r);
  Status receive_application_status(Txn& t, const protocol::Record& r);
  Status receive_audit(Txn& t, std::string_view payload, uint64_t from_peer);
  Status store_audit(Txn& t, const nlohmann::json& entry);
  void send_audit_up(Txn& t, const nlohmann::json& entry);
  Status store_standards(Txn& t, const nlohmann::json& entries, uint64_t from_peer, bool& changed);
  nlohmann::json snapshot(const ReadView& v, const Instant& now) const;
  nlohmann::json figures(const ReadView& v, uint64_t bucket, Date today) const;

  topology::DivisionCode self_;
  NodeCore* core_;            // not owned; outlives the monitor
  storage::Store* store_;     // not owned; outlives the monitor
  MonitorOptions options_;
  Policy policy_;             // the running policy (committed)
  std::set<int> calendar_gaps_logged_;  // years without a calendar notice already warned of
  std::optional<Policy> staged_policy_;  // written by the current attempt, published on commit
  bool figures_dirty_ = true;            // something counted in the aggregates changed since the last snapshot
  bool staged_dirty_ = false;
  int64_t last_snapshot_us_ = 0;         // monotonic time the last snapshot was sent
  std::string last_snapshot_;            // its figures, to see whether they changed
};

}  // namespace lifeline::node
