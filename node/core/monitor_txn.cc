#include "node/core/monitor_txn.h"

#include <algorithm>
#include <map>
#include <set>

#include "node/core/alert_merge.h"
#include "node/core/id_number.h"
#include "topology/logging.h"

namespace lifeline::node {

using protocol::Alert;
using protocol::AlertId;
using protocol::DeptEvent;
using protocol::HistoryEntry;
using protocol::Household;
using protocol::HouseholdId;
using protocol::HouseholdSync;
using storage::Table;
using topology::DivisionCode;

namespace {

DivisionCode as_code(uint64_t n) { return DivisionCode::or_invalid(n); }

// Merges every register of b into a; true when a changed.
bool merge_household(Household& a, const Household& b) {
  bool changed = false;
  changed |= a.village.merge(b.village);
  changed |= a.category.merge(b.category);
  changed |= a.income_fen.merge(b.income_fen);
  changed |= a.phone.merge(b.phone);
  changed |= a.address.merge(b.address);
  changed |= a.source.merge(b.source);
  changed |= a.members.merge(b.members);
  return changed;
}

// The household as a sync carries it when its fields did not change: the id
// and the village (which routes it); the other registers stay unwritten
// (zero stamps) and so change nothing where they are merged.
Household header_of(const Household& h) {
  Household out;
  out.id = h.id;
  out.village = h.village;
  return out;
}

// A sync travels as one record, so its encoding must fit a record's payload
// (kMaxDomainBytes) and its lists kMaxListItems. A large one (a household's
// whole file after years of events, handed over on a move; an import of
// thousands of events for one household) goes as several, in order: the
// first with the household and its alerts, each next one with the
// household's id and village and a share of its history and events.
constexpr size_t kSyncPartBytes = 192u << 10;
constexpr size_t kSyncPartItems = 1024;

// Appends parts carrying `items` (the sync's list `member`) with header.
template <class T>
void encode_chunks(const Household& header, const std::vector<T>& items, std::vector<T> HouseholdSync::*member,
                   std::vector<std::string>& parts) {
  size_t n = kSyncPartItems;
  for (size_t at = 0; at < items.size();) {
    size_t end = std::min(items.size(), at + n);
    HouseholdSync part{header, {}, {}, {}};
    (part.*member).assign(items.begin() + static_cast<std::ptrdiff_t>(at), items.begin() + static_cast<std::ptrdiff_t>(end));
    std::string encoded = protocol::encode_sync(part);
    if (encoded.size() > kSyncPartBytes && end - at > 1) {
      n = (end - at) / 2;  // fewer items a part, then retry
      continue;
    }
    parts.push_back(std::move(encoded));
    at = end;
  }
}

std::vector<std::string> encode_sync_parts(const HouseholdSync& s) {
  if (s.history.size() <= kSyncPartItems && s.events.size() <= kSyncPartItems) {
    std::string whole = protocol::encode_sync(s);
    if (whole.size() <= kSyncPartBytes) return {std::move(whole)};
  }
  std::vector<std::string> parts;
  parts.push_back(protocol::encode_sync(HouseholdSync{s.household, s.alerts, {}, {}}));
  const Household header = header_of(s.household);
  encode_chunks(header, s.history, &HouseholdSync::history, parts);
  encode_chunks(header, s.events, &HouseholdSync::events, parts);
  return parts;
}

// True when merged holds a newer value than `sent` for a register that was
// sent (a zero stamp means not sent): the sender's copy is behind.
bool sender_behind(const Household& merged, const Household& sent) {
  auto behind = [](const auto& m, const auto& s) { return s.stamp != protocol::Stamp{} && s.stamp < m.stamp; };
  return merged.village != sent.village || behind(merged.category, sent.category) ||
         behind(merged.income_fen, sent.income_fen) || behind(merged.phone, sent.phone) ||
         behind(merged.address, sent.address) || behind(merged.source, sent.source) ||
         behind(merged.members, sent.members);
}

}  // namespace

// The working state of one apply_sync.
struct Monitor::Txn::Merge {
  HouseholdId id;
  std::optional<Household> local;      // held before the merge (not a tombstone)
  Household merged;
  uint64_t old_village = 0;            // village before the merge (held or tombstone), 0 if unknown
  uint64_t village = 0;                // after
  bool holder = false;                 // this node holds the household after the merge
  bool new_alerts = false;             // Known::new_alerts
  std::vector<Alert> changed_alerts;   // alerts whose local state changed
  std::vector<Alert> reply_alerts;     // merged alerts that differ from what the sender sent
  std::vector<HistoryEntry> new_history;
  std::vector<DeptEvent> new_events;
  // A finished (verified or closed) alert gained indicators its feedback did
  // not cover, in a join: the generation of the finished result, else 0,
  // and those indicators.
  uint32_t uncovered_generation = 0;
  std::vector<protocol::AlertIndicator> uncovered;
};

namespace {

// The indicators of joined that the verification of a finished side (a or
// b, verified or closed) did not see: a code it lacks, or a later event of
// one of its codes. A side may itself be the join of a finished alert and
// one it never saw (a replica passing the join on), so each finished side
// is checked on its own. Empty when neither side is finished.
std::vector<protocol::AlertIndicator> uncovered_by_feedback(const Alert& a, const Alert& b, const Alert& joined) {
  std::vector<protocol::AlertIndicator> out;
  for (const protocol::AlertIndicator& i : joined.indicators) {
    if ((a.state >= protocol::AlertState::kVerified && !indicator_covered(a, i)) ||
        (b.state >= protocol::AlertState::kVerified && !indicator_covered(b, i)))
      out.push_back(i);
  }
  return out;
}

}  // namespace

Monitor::Txn::Txn(Monitor& monitor, storage::WriteTxn& t, Outbound& o, const Instant& n)
    : DomainReads<storage::WriteTxn>{t}, m(monitor), txn(t), out(o), now(n), policy(monitor.staged_policy_ ? *monitor.staged_policy_ : monitor.policy_) {}

// The last sequence of each kind is read once per transaction and written
// back by flush_ids().
protocol::RecordId Monitor::Txn::next_id(char kind) {
  auto it = id_seqs_.find(kind);
  if (it == id_seqs_.end()) {
    std::string_view v;
    uint64_t last = txn.get(Table::kDomain, std::string("seq:") + kind, v) ? keys::get_u64(v) : 0;
    it = id_seqs_.emplace(kind, last).first;
  }
  return protocol::RecordId{self(), ++it->second};
}

void Monitor::Txn::flush_ids() {
  for (auto& [kind, last] : id_seqs_) txn.put(Table::kDomain, std::string("seq:") + kind, keys::u64(last));
  id_seqs_.clear();
}

HistoryEntry Monitor::Txn::history(const HouseholdId& h, std::string kind, const AlertId& alert, std::string text) {
  HistoryEntry e;
  e.id = next_id('E');
  e.household = h;
  e.hlc = out.hlc();
  e.kind = std::move(kind);
  e.alert = alert;
  e.text = std::move(text);
  return e;
}

// ---------------------------------------------------------------------------
// Aggregate counts

uint64_t Monitor::Txn::bucket(uint64_t village) const {
  DivisionCode v = as_code(village);
  if (v == m.self_ || !m.self_.contains(v)) return self();
  while (v.valid() && v.parent() != m.self_) v = v.parent();
  return v.valid() ? v.number() : self();
}

void Monitor::Txn::add_count(uint64_t b, const std::string& metric, int64_t delta) {
  if (delta == 0) return;
  count_deltas[keys::agg(b, metric)] += delta;
  m.staged_dirty_ = true;
}

// The counts change by many small deltas on a few hot keys: summed here and
// written once per transaction.
void Monitor::Txn::flush_counts() {
  for (auto& [key, delta] : count_deltas) {
    if (delta == 0) continue;
    std::string_view v;
    int64_t value = static_cast<int64_t>(txn.get(Table::kDomain, key, v) ? keys::get_u64(v) : 0) + delta;
    if (value <= 0) {
      txn.del(Table::kDomain, key);
    } else {
      txn.put(Table::kDomain, key, keys::u64(static_cast<uint64_t>(value)));
    }
  }
  count_deltas.clear();
}

void Monitor::Txn::count_household(const Household& h, int64_t sign) {
  uint64_t b = bucket(h.village.value);
  add_count(b, "households", sign);
  add_count(b, "persons", sign * static_cast<int64_t>(h.members.value.size()));
  add_count(b, "category:" + h.category.value, sign);
}

void Monitor::Txn::count_alert(const Alert& a, uint64_t village, int64_t sign) {
  uint64_t b = bucket(village);
  add_count(b, std::string("state:") + alert_state_name(a.state), sign);
  if (alert_open(a)) {
    add_count(b, "open:" + std::to_string(a.level) + ":" + alert_state_name(a.state), sign);
    if (a.escalated_at_us != 0) add_count(b, "escalated", sign);
  } else {
    add_count(b, "verified", sign);
    if (a.verified_at_us != 0 && a.verified_at_us <= shanghai_end_of_day_us(a.due_date)) add_count(b, "on_time", sign);
  }
}

// ---------------------------------------------------------------------------
// Writes

void Monitor::Txn::write_household(const std::optional<Household>& before, const Household& after) {
  std::set<std::string> old_ids, new_ids;
  if (before) {
    for (auto& mem : before->members.value) old_ids.insert(mem.id_number);
    count_household(*before, -1);
  }
  for (auto& mem : after.members.value) new_ids.insert(mem.id_number);
  std::string hid = keys::id(after.id);
  for (auto& n : old_ids) {
    if (!new_ids.count(n)) unindex_person(n, hid);
  }
  for (auto& n : new_ids) {
    if (!old_ids.count(n)) index_person(n, hid);
  }
  txn.put(Table::kHouseholds, hid, protocol::encode_household(after));
  if (before && before->village.value != after.village.value)
    txn.del(Table::kVillageHouseholds, keys::village_household(before->village.value, after.id));
  if (!before || before->village.value != after.village.value)
    txn.put(Table::kVillageHouseholds, keys::village_household(after.village.value, after.id), std::string_view(""));
  txn.del(Table::kMoved, hid);
  count_household(after, +1);
}

// A person is registered once where the registration is made, but two
// places that have not yet seen each other's registrations can each put the
// same person into a household; a node holding both then has two claims.
// The first indexed keeps the persons row (events score against it); each
// further one is kept in person_conflicts and takes the row over when the
// household holding it lets the person go, so a person of a held household
// is never left unindexed.
void Monitor::Txn::index_person(const std::string& id_number, const std::string& hid) {
  std::string_view v;
  if (txn.get(Table::kPersons, id_number, v) && v != hid) {
    folder_logger("node")->warn("person {} is registered in households {} and {}", mask_id_number(id_number),
                                protocol::format_id('H', keys::parse_id(v)), protocol::format_id('H', keys::parse_id(hid)));
    txn.put(Table::kPersonConflicts, id_number + hid, std::string_view(""));
    return;
  }
  txn.put(Table::kPersons, id_number, hid);
}

void Monitor::Txn::unindex_person(const std::string& id_number, const std::string& hid) {
  std::string_view v;
  if (!txn.get(Table::kPersons, id_number, v) || v != hid) {
    txn.del(Table::kPersonConflicts, id_number + hid);
    return;
  }
  // The indexed household lets go: the next claim, if any, takes the row over.
  const std::vector<HouseholdId> others = other_claims(id_number, keys::parse_id(hid));
  if (others.empty()) {
    txn.del(Table::kPersons, id_number);
  } else {
    const std::string next = keys::id(others.front());
    txn.put(Table::kPersons, id_number, next);
    txn.del(Table::kPersonConflicts, id_number + next);
  }
}

// The household now lives outside this node's jurisdiction: its personal
// data, alerts, history and per-household events go; a tombstone points to
// the new village. The dedupe entries of its events stay.
void Monitor::Txn::drop_household(const Household& before, uint64_t village, protocol::Stamp stamp) {
  std::string hid = keys::id(before.id);
  for (auto& mem : before.members.value) unindex_person(mem.id_number, hid);
  count_household(before, -1);
  for (const Alert& a : alerts_of(before.id)) erase_alert(a, before.village.value);
  std::vector<std::string> doomed;
  for (Table t : {Table::kHouseholdAlerts, Table::kHouseholdEvents, Table::kHouseholdHistory}) {
    doomed.clear();
    txn.scan(t, hid, [&](std::string_view k, std::string_view) {
      doomed.emplace_back(k);
      return true;
    });
    for (auto& k : doomed) {
      txn.del(t, k);
      // An index row of the history names its entry (the key's last 16 bytes).
      if (t == Table::kHouseholdHistory) txn.del(Table::kHistory, std::string_view(k).substr(16));
    }
  }
  txn.del(Table::kHouseholds, hid);
  txn.del(Table::kVillageHouseholds, keys::village_household(before.village.value, before.id));
  txn.put(Table::kMoved, hid, keys::u64(village) + keys::u64(stamp.hlc) + keys::u64(stamp.node));
}

void Monitor::Txn::put_history(const HouseholdId& h, const HistoryEntry& e) {
  txn.put(Table::kHistory, keys::id(e.id), protocol::encode_history(e));
  txn.put(Table::kHouseholdHistory, keys::household_history(h, e.id), std::string_view(""));
}

void Monitor::Txn::write_alert(const std::optional<Alert>& before, const Alert& after, uint64_t village) {
  if (before) {
    count_alert(*before, village, -1);
    if (alert_open(*before)) txn.del(Table::kOpenAlerts, keys::open_alert(before->due_date, before->id));
  }
  txn.put(Table::kAlerts, keys::id(after.id), protocol::encode_alert(after));
  txn.put(Table::kHouseholdAlerts, keys::household_alert(after.household, after.generation), keys::id(after.id));
  if (alert_open(after))
    txn.put(Table::kOpenAlerts, keys::open_alert(after.due_date, after.id), keys::open_alert_value(bucket(village), after, village));
  count_alert(after, village, +1);
}

void Monitor::Txn::erase_alert(const Alert& a, uint64_t village) {
  count_alert(a, village, -1);
  if (alert_open(a)) txn.del(Table::kOpenAlerts, keys::open_alert(a.due_date, a.id));
  txn.del(Table::kAlerts, keys::id(a.id));
  for (const AlertId& alias : a.aliases) txn.del(Table::kAliases, keys::id(alias));
}

void Monitor::Txn::rebucket_alerts(const HouseholdId& id, uint64_t from_village, uint64_t to_village) {
  if (bucket(from_village) == bucket(to_village)) {
    // Same counts; the open-alert index still names the new village.
    for (const Alert& a : alerts_of(id)) {
      if (alert_open(a))
        txn.put(Table::kOpenAlerts, keys::open_alert(a.due_date, a.id), keys::open_alert_value(bucket(to_village), a, to_village));
    }
    return;
  }
  for (const Alert& a : alerts_of(id)) {
    count_alert(a, from_village, -1);
    write_alert(std::nullopt, a, to_village);
  }
}

// ---------------------------------------------------------------------------
// Replication

// A child may speak only of households it holds or held; the parent only
// of households in this node's jurisdiction (or that were, for a move away).
Status Monitor::Txn::check_sync(const HouseholdSync& sync, uint64_t from_peer) const {
  const HouseholdId& id = sync.household.id;
  if (!id.valid() || !as_code(sync.household.village.value).valid())
    return Status::invalid_argument("household sync without a valid id or village");
  if (from_peer == self()) return Status::ok();
  DivisionCode scope = from_peer == (m.core_->neighbourhood().parent() ? m.core_->neighbourhood().parent()->number() : 0)
                           ? m.self_
                           : as_code(from_peer);
  if (scope.contains(as_code(sync.household.village.value))) return Status::ok();
  auto held = household(id);
  uint64_t before = held ? held->village.value : moved_to(id);
  if (before != 0 && scope.contains(as_code(before))) return Status::ok();
  return Status::refused("household " + protocol::format_id('H', id) + " of village " +
                                   DivisionCode::format(sync.household.village.value) + " is outside " +
                                   scope.to_string() + "'s jurisdiction");
}

Alert Monitor::Txn::merge_alert(const Alert& incoming, uint64_t village, Merge& mg) {
  // A new alert has no alias, no stored copy and no other alert of its generation.
  std::optional<Alert> local = mg.new_alerts ? std::nullopt : alert(resolve(incoming.id));
  Alert merged = incoming;
  // Feedback covers the indicators its operator saw. A join that adds
  // others to a finished alert (an alert raised elsewhere across a cut, or
  // an update made while the feedback was on its way) must not bury them:
  // noted here, followed up at the home node (Monitor::follow_up_uncovered).
  auto note_uncovered = [&](const Alert& a, const Alert& b, const Alert& joined) {
    if (joined.state < protocol::AlertState::kVerified) return;
    std::vector<protocol::AlertIndicator> gained = uncovered_by_feedback(a, b, joined);
    if (gained.empty()) return;
    mg.uncovered_generation = std::max(mg.uncovered_generation, joined.generation);
    mg.uncovered.insert(mg.uncovered.end(), gained.begin(), gained.end());
  };
  if (local) {
    merged = join_alerts(*local, incoming);
    note_uncovered(*local, incoming, merged);
  } else if (!mg.new_alerts) {
    // Another alert of the same generation, raised concurrently elsewhere: merge the two.
    std::string_view v;
    if (txn.get(Table::kHouseholdAlerts, keys::household_alert(incoming.household, incoming.generation), v) &&
        v.size() == 16 && keys::parse_id(v) != incoming.id) {
      local = alert(keys::parse_id(v));
      if (local) {
        merged = join_alerts(*local, incoming);
        note_uncovered(*local, incoming, merged);
        AlertId loser = merged.id == local->id ? incoming.id : local->id;
        txn.put(Table::kAliases, keys::id(loser), keys::id(merged.id));
        if (loser == local->id) {
          erase_alert(*local, village);
          for (const AlertId& a : merged.aliases) txn.put(Table::kAliases, keys::id(a), keys::id(merged.id));
          local.reset();
        }
        HistoryEntry e = history(incoming.household, "alert_merged", merged.id,
                                 protocol::format_id('A', loser) + " -> " + protocol::format_id('A', merged.id));
        if (mg.holder) put_history(mg.id, e);
        mg.new_history.push_back(std::move(e));
      }
    }
  }
  // The merged indicators may reach a more severe level under this node's
  // policy; its deadline then applies too, counted from the issue day so
  // that every holder computes the same one (DESIGN §2.3, §2.4).
  if (const LevelRule* rule = policy.level_for(merged.score); rule != nullptr && rule->level < merged.level) {
    merged.level = rule->level;
    Date due = m.deadline(policy, merged.level, merged.issued_date);
    if (due != 0 && (merged.due_date == 0 || due < merged.due_date)) merged.due_date = due;
  }
  for (const AlertId& a : merged.aliases) txn.put(Table::kAliases, keys::id(a), keys::id(merged.id));
  if (!local || merged != *local) {
    if (mg.holder) write_alert(local, merged, village);
    mg.changed_alerts.push_back(merged);
  }
  return merged;
}

void Monitor::Txn::apply_sync(const HouseholdSync& in, uint64_t from_peer) { apply_sync(in, from_peer, Known{}); }

void Monitor::Txn::apply_sync(const HouseholdSync& in, uint64_t from_peer, const Known& known) {
  Merge mg;
  mg.id = in.household.id;
  mg.new_alerts = known.new_alerts;
  if (known.held != nullptr && known.held->id == mg.id) {
    mg.local = *known.held;
  } else {
    mg.local = household(mg.id);
  }
  protocol::Stamp tomb_stamp;
  uint64_t tomb = mg.local ? 0 : moved_to(mg.id, &tomb_stamp);
  if (mg.local) {
    mg.merged = *mg.local;
  } else {
    mg.merged.id = mg.id;
    if (tomb != 0) mg.merged.village = protocol::Lww<uint64_t>{tomb, tomb_stamp};
  }
  mg.old_village = mg.local ? mg.local->village.value : tomb;
  merge_household(mg.merged, in.household);
  mg.village = mg.merged.village.value;
  mg.holder = m.self_.contains(as_code(mg.village));

  // A header read for a sync of the same header changes nothing; anything
  // else would write or drop a household without its members.
  LIFELINE_CHECK(!known.header_only || (mg.holder && mg.local && *mg.local == mg.merged),
                 "a sync applied against a household's header would change or drop the household");
  if (mg.holder) {
    if (!mg.local || *mg.local != mg.merged) write_household(mg.local, mg.merged);
    if (mg.local && mg.old_village != mg.village) rebucket_alerts(mg.id, mg.old_village, mg.village);
  }
  for (const Alert& a : in.alerts) {
    Alert merged = merge_alert(a, mg.village, mg);
    if (merged != a) mg.reply_alerts.push_back(merged);
  }
  for (const HistoryEntry& e : in.history) {
    if (!known.new_entries && has_history(e.id)) continue;
    if (mg.holder) put_history(mg.id, e);
    mg.new_history.push_back(e);
  }
  for (const DeptEvent& e : in.events) {
    std::string ek = keys::event(e.department, e.record_id);
    std::string hk = keys::id(mg.id) + ek;
    std::string_view v;
    // An event in household_events is in events too (written together).
    if (!known.new_entries && txn.get(Table::kHouseholdEvents, hk, v)) continue;
    bool seen = !known.new_entries && txn.get(Table::kEvents, ek, v);
    if (!seen) txn.put(Table::kEvents, ek, keys::id(mg.id));
    if (mg.holder) txn.put(Table::kHouseholdEvents, hk, protocol::encode_event(e));
    if (!seen || mg.holder) mg.new_events.push_back(e);
  }
  if (mg.holder) {
    deliver_here(mg);
  } else if (mg.local) {
    drop_household(*mg.local, mg.village, mg.merged.village.stamp);
  } else if (tomb != mg.village) {
    txn.put(Table::kMoved, keys::id(mg.id),
            keys::u64(mg.village) + keys::u64(mg.merged.village.stamp.hlc) + keys::u64(mg.merged.village.stamp.node));
  }
  forward(mg, in, from_peer);
  if (mg.uncovered_generation != 0 && mg.holder && m.core_->neighbourhood().route(as_code(mg.village)).kind == topology::Route::Kind::kLocal)
    m.follow_up_uncovered(*this, mg.merged, mg.uncovered_generation, mg.uncovered);
}

// At the household's home node an alert is delivered (DESIGN §2.4).
void Monitor::Txn::deliver_here(Merge& mg) {
  if (m.core_->neighbourhood().route(as_code(mg.village)).kind != topology::Route::Kind::kLocal) return;
  // A household that has just come to this home (a move; a home node that
  // started after the household was registered) may bring an open alert
  // already delivered at its old home: the hand-over is recorded here, so
  // the history shows the alert became this home's to visit.
  if (!mg.local || mg.old_village != mg.village) {
    if (auto open = open_alert(mg.id); open && open->state >= protocol::AlertState::kDelivered) {
      HistoryEntry e = history(mg.id, "handed_over", open->id,
                               "open alert handed over to " + m.self_.to_string() + " (village " +
                                   DivisionCode::format(mg.village) + ")");
      put_history(mg.id, e);
      mg.new_history.push_back(std::move(e));
    }
  }
  for (Alert& a : mg.changed_alerts) {
    if (a.state >= protocol::AlertState::kDelivered) continue;
    Alert before = a;
    a.state = protocol::AlertState::kDelivered;
    a.delivered_at_us = now.wall_us;
    write_alert(before, a, mg.village);
    HistoryEntry e = history(mg.id, "delivered", a.id, "delivered to " + m.self_.to_string());
    put_history(mg.id, e);
    mg.new_history.push_back(std::move(e));
    for (Alert& r : mg.reply_alerts) {
      if (r.id == a.id) r = a;
    }
    if (std::none_of(mg.reply_alerts.begin(), mg.reply_alerts.end(), [&](const Alert& r) { return r.id == a.id; }))
      mg.reply_alerts.push_back(a);
  }
}

HouseholdSync Monitor::Txn::bundle(const Household& h) const {
  return HouseholdSync{h, alerts_of(h.id), history_of(h.id), events_of(h.id)};
}

void Monitor::Txn::send_sync(uint64_t to, const HouseholdSync& sync) {
  for (const std::string& part : encode_sync_parts(sync)) queue_sync(to, part);
}

void Monitor::Txn::send(uint64_t to, protocol::MessageKind kind, std::string payload) {
  flush_syncs();
  out.send(to, kind, std::move(payload));
}

// One outbox record per batch instead of one per household: far fewer and
// larger puts, and one origin sequence per batch.
void Monitor::Txn::queue_sync(uint64_t to, std::string_view encoded) {
  PendingSyncs& p = pending_syncs_[to];
  if (p.items > 0) {
    size_t size = (p.items == 1 ? 8 + p.first.size() : p.batch.size()) + 8 + encoded.size();
    if (size > protocol::kSyncBatchTargetBytes || p.items >= protocol::kMaxListItems) send_pending(to, p);
  }
  if (p.items == 0) {
    p.first.assign(encoded);
    p.items = 1;
    return;
  }
  if (p.items == 1) {
    p.batch.reserve(protocol::kSyncBatchTargetBytes);
    protocol::append_to_sync_batch(p.batch, p.first);
    p.first.clear();
  }
  protocol::append_to_sync_batch(p.batch, encoded);
  ++p.items;
}

void Monitor::Txn::send_pending(uint64_t to, PendingSyncs& p) {
  if (p.items == 1) {
    out.send(to, protocol::MessageKind::kHouseholdSync, std::move(p.first));
  } else if (p.items > 1) {
    // The parent and the child toward a household's village are usually
    // sent the same syncs in the same order, so their batches fill and
    // flush together: the second is packed and compressed once, by the
    // first. The outbox keeps the compressed form; a peer of an earlier
    // release is sent the plain batch inside it (Monitor::adapt_for_peer).
    if (p.batch != last_sealed_items_) {
      last_sealed_ = protocol::seal_sync_batch(p.batch);
      last_sealed_kind_ = protocol::MessageKind::kHouseholdSyncBatch;
      if (auto z = protocol::compress_sync_batch(last_sealed_)) {
        last_sealed_ = std::move(*z);
        last_sealed_kind_ = protocol::MessageKind::kHouseholdSyncBatchZstd;
      }
      last_sealed_items_ = std::move(p.batch);
    }
    out.send(to, last_sealed_kind_, last_sealed_);
  }
  p = PendingSyncs{};
}

void Monitor::Txn::flush_syncs() {
  for (auto& [to, p] : pending_syncs_) send_pending(to, p);
  pending_syncs_.clear();
}

// Passes on what changed to the household's other holders next door: the
// parent, the child toward its village (the whole file when that child is
// new to it, after a move), the child toward its old village (which keeps a
// tombstone), and back to the sender when the sender's copy was behind.
void Monitor::Txn::forward(Merge& mg, const HouseholdSync& in, uint64_t from_peer) {
  const topology::Neighbourhood& nb = m.core_->neighbourhood();
  bool household_changed = !mg.local || *mg.local != mg.merged;
  bool news = household_changed || !mg.changed_alerts.empty() || !mg.new_history.empty() || !mg.new_events.empty();
  auto child_toward = [&](uint64_t village) -> uint64_t {
    if (village == 0 || !m.self_.contains(as_code(village))) return 0;
    topology::Route r = nb.route(as_code(village));
    return r.kind == topology::Route::Kind::kChild ? r.next.number() : 0;
  };
  uint64_t parent = nb.parent() ? nb.parent()->number() : 0;
  uint64_t down = child_toward(mg.village);
  uint64_t old_down = mg.old_village != mg.village ? child_toward(mg.old_village) : 0;
  bool new_path = mg.old_village != mg.village && down != 0 && down != old_down;
  // A node that no longer holds the household (it moved away) passes what
  // came from below up as it came: the village in it, one this node held,
  // is what lets the parent take it from this child (check_sync).
  // The household's fields travel only when they changed here; otherwise
  // its id and village do (header_of). Encoded once for both directions.
  const Household& carried = !mg.holder ? in.household : household_changed ? mg.merged : header_of(mg.merged);
  std::vector<std::string> update;
  auto send_update = [&](uint64_t to) {
    if (update.empty()) update = encode_sync_parts(HouseholdSync{carried, mg.changed_alerts, mg.new_history, mg.new_events});
    for (const std::string& part : update) queue_sync(to, part);
  };
  if (news && parent != 0 && parent != from_peer) send_update(parent);
  if (down != 0 && down != from_peer && (news || new_path)) {
    if (new_path && mg.holder) {
      send_sync(down, bundle(mg.merged));
    } else if (news) {
      send_update(down);
    }
  }
  if (old_down != 0 && old_down != down && old_down != from_peer)
    send_sync(old_down, HouseholdSync{header_of(mg.merged), {}, {}, {}});
  // Answers go only to a holder next door. A non-holder has nothing to
  // answer with, and a child off the household's path was sent its
  // tombstone when the path left it (old_down above).
  if (from_peer == self() || !mg.holder || (from_peer != parent && from_peer != down)) return;
  // A sender whose copy of the household was behind may also have missed
  // the file that went with it: a move's hand-over (it won a concurrent
  // move; it was moved away and back, dropping what it had done meanwhile).
  // It gets the whole file back.
  bool behind = sender_behind(mg.merged, in.household) || (new_path && down == from_peer && mg.local);
  if (behind) {
    send_sync(from_peer, bundle(mg.merged));
    return;
  }
  // Otherwise the sender gets what differs and what was recorded here in
  // answer (a delivery, a merge).
  HouseholdSync reply{header_of(mg.merged), mg.reply_alerts, {}, {}};
  for (const HistoryEntry& e : mg.new_history) {
    if (std::none_of(in.history.begin(), in.history.end(), [&](const HistoryEntry& x) { return x.id == e.id; }))
      reply.history.push_back(e);
  }
  if (!reply.alerts.empty() || !reply.history.empty()) send_sync(from_peer, reply);
}

}  // namespace lifeline::node
