// Monitor: operators' edits of a household and the audit log (DESIGN §4).
#include <set>

#include "node/core/id_number.h"
#include "node/core/monitor.h"
#include "node/core/monitor_queries.h"
#include "node/core/monitor_txn.h"
#include "topology/logging.h"

namespace lifeline::node {

using nlohmann::json;
using protocol::HistoryEntry;
using protocol::HouseholdId;
using protocol::HouseholdSync;
using protocol::MessageKind;
using storage::Table;

namespace {

// The fields an update changes, for the history entry (no personal data).
std::string changed_fields(const HouseholdUpdate& u) {
  std::string out;
  auto add = [&](bool set, const char* name) {
    if (!set) return;
    out += out.empty() ? "" : ", ";
    out += name;
  };
  add(u.category.has_value(), "category");
  add(u.income_fen.has_value(), "income");
  add(u.phone.has_value(), "phone");
  add(u.address.has_value(), "address");
  add(u.members.has_value(), "members");
  return out;
}

constexpr size_t kMaxAuditEntryBytes = 4096;

}  // namespace

Status Monitor::update_household(const HouseholdId& id, const HouseholdUpdate& u, const Instant& now) {
  if (!u.category && !u.income_fen && !u.phone && !u.address && !u.members)
    return Status::invalid_argument("nothing to change").with_zh("没有要修改的字段");
  return run(now, [&](Txn& t) {
    auto h = t.household(id);
    if (!h) return household_not_held(id);
    NewHousehold check{h->village.value, u.category.value_or(h->category.value), u.income_fen.value_or(h->income_fen.value),
                       u.phone.value_or(h->phone.value), u.address.value_or(h->address.value), h->source.value,
                       u.members.value_or(h->members.value)};
    Status s = check_household(check, t.today());
    if (!s) return s;
    if (u.category || u.income_fen) {
      s = check_marginal_income(t, check.village, check.category, check.income_fen);
      if (!s) return s;
    }
    // Only a person new to the household must not be in another one: a
    // person it already has may be claimed elsewhere too (a registry
    // conflict, Txn::index_person), which must not block its other fields.
    std::set<std::string> had;
    for (const auto& mem : h->members.value) had.insert(mem.id_number);
    for (const auto& mem : check.members) {
      if (had.count(mem.id_number)) continue;
      auto other = t.person(mem.id_number);
      if (other && !(*other == id))
        return person_already_registered(mem.id_number, *other);
    }
    protocol::Stamp st = t.stamp();
    if (u.category) h->category = {check.category, st};
    if (u.income_fen) h->income_fen = {check.income_fen, st};
    if (u.phone) h->phone = {check.phone, st};
    if (u.address) h->address = {check.address, st};
    if (u.members) h->members = {check.members, st};
    HistoryEntry e = t.history(id, "updated", {}, "changed: " + changed_fields(u));
    t.apply_sync(HouseholdSync{*h, {}, {e}, {}}, self());
    return Status::ok();
  });
}

Result<std::string> Monitor::append_audit(json entry, const Instant& now) {
  if (!entry.is_object()) return Status::invalid_argument("an audit entry is a JSON object");
  std::string id;
  Status s = run(now, [&](Txn& t) {
    json e = entry;
    id = protocol::format_id('U', t.next_id('U'));
    e["id"] = id;
    e["node"] = self_.to_string();
    e["at_us"] = now.wall_us;
    Status st = store_audit(t, e);
    if (!st) return st;
    send_audit_up(t, e);
    return Status::ok();
  });
  if (!s) return s;
  return id;
}

Status Monitor::store_audit(Txn& t, const json& e) {
  // A string that is not valid UTF-8 is kept with U+FFFD in its place (dump
  // would throw); the entry is still bounded below.
  std::string text = e.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxAuditEntryBytes) return Status::invalid_argument("audit entry too large");
  protocol::RecordId rid;
  if (!e.contains("id") || !e["id"].is_string() || !protocol::parse_id(e["id"].get<std::string>(), 'U', rid) ||
      !e.contains("at_us") || !e["at_us"].is_number_integer())
    return Status::invalid_argument("audit entry needs an id U-<code>-<n> and at_us");
  std::string key = storage::tables::key64(static_cast<uint64_t>(e["at_us"].get<int64_t>())) + keys::id(rid);
  t.txn.put(Table::kAudit, key, text);
  return Status::ok();
}

Status Monitor::receive_audit(Txn& t, std::string_view payload, uint64_t from_peer) {
  json e = json::parse(payload, nullptr, false);
  if (!e.is_object()) return Status::invalid_argument("audit entry is not a JSON object");
  protocol::RecordId rid;
  if (!e.contains("id") || !e["id"].is_string() || !protocol::parse_id(e["id"].get<std::string>(), 'U', rid))
    return Status::invalid_argument("audit entry without a valid id");
  // A child reports only entries made in its own jurisdiction.
  auto origin = topology::DivisionCode::from_number(rid.origin);
  auto peer = topology::DivisionCode::from_number(from_peer);
  if (!origin || !peer || !peer->contains(*origin) || !self_.contains(*peer))
    return Status::refused("audit entry " + e["id"].get<std::string>() + " from " + std::to_string(from_peer) +
                           " is outside that child's jurisdiction");
  // The lists filter on these as text: each is a string, the entry's node is
  // the node its id names, and the acting account served a division there.
  for (const char* k : {"account", "role", "address", "action", "target", "outcome", "detail", "node", "jurisdiction"}) {
    if (e.contains(k) && !e[k].is_string()) return Status::invalid_argument(std::string("audit entry: '") + k + "' is not a string");
  }
  if (e.value("node", "") != origin->to_string()) return Status::invalid_argument("audit entry: 'node' is not the node of its id");
  if (e.contains("jurisdiction")) {
    auto j = topology::DivisionCode::parse(e["jurisdiction"].get<std::string>());
    if (!j || !origin->contains(*j)) return Status::invalid_argument("audit entry: 'jurisdiction' is not inside its node");
  }
  Status s = store_audit(t, e);
  if (!s) return s;
  send_audit_up(t, e);
  return Status::ok();
}

// Below county level the entry goes on up; a county (or above) keeps it.
void Monitor::send_audit_up(Txn& t, const json& e) {
  auto parent = core_->neighbourhood().parent();
  if (self_.level() > topology::Level::county && parent)
    t.send(parent->number(), MessageKind::kAudit, e.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace lifeline::node
