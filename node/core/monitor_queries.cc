#include "node/core/monitor_queries.h"

#include "node/core/alert_merge.h"
#include "node/core/id_number.h"
#include "node/core/monitor_reads.h"

namespace lifeline::node {

using storage::Table;

namespace {

constexpr size_t kMaxPage = 500;
// A page stops after reading this many records even if it is not full, so a
// selective filter cannot make one request scan a whole registry; the cursor
// continues from there.
constexpr uint64_t kMaxScan = 20000;

bool within(uint64_t division, uint64_t village) {
  if (division == 0) return true;
  auto d = topology::DivisionCode::from_number(division);
  auto v = topology::DivisionCode::from_number(village);
  return d && v && d->contains(*v);
}

bool alert_matches(const AlertQuery& q, const protocol::Alert& a, bool overdue) {
  return (!q.level || a.level == q.level) && (!q.state || static_cast<int>(a.state) == q.state) &&
         (!q.open_only || alert_open(a)) && (!q.overdue_only || overdue) &&
         (!q.escalated_only || a.escalated_at_us != 0) && (!q.due_before || a.due_date <= q.due_before);
}

// Scans table from the cursor; fn returns false to stop. Returns the key to
// continue after when stopped early.
template <class Fn>
std::string scan_page(const storage::ReadTxn& txn, Table table, const std::string& after, Fn fn) {
  std::string next;
  uint64_t scanned = 0;
  txn.scan_from(table, after, [&](std::string_view k, std::string_view v) {
    if (!after.empty() && k == after) return true;  // the previous page's last key
    if (++scanned > kMaxScan || !fn(k, v)) {
      next = std::string(k);
      return false;
    }
    return true;
  });
  return next;
}

// The division code under key in an audit entry, 0 if absent or not one.
uint64_t parse_code(const nlohmann::json& e, const char* key) {
  auto it = e.find(key);
  if (it == e.end() || !it->is_string()) return 0;
  auto c = topology::DivisionCode::parse(it->get<std::string>());
  return c ? c->number() : 0;
}
uint64_t parse_node(const nlohmann::json& e) { return parse_code(e, "node"); }

}  // namespace

std::string encode_cursor(std::string_view key) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : key) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

Result<std::string> decode_cursor(std::string_view cursor) {
  auto nibble = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  const Status malformed = Status::invalid_argument("malformed cursor").with_zh("翻页游标 cursor 格式不正确");
  if (cursor.size() % 2 != 0 || cursor.size() > 256) return malformed;
  std::string out;
  for (size_t i = 0; i < cursor.size(); i += 2) {
    int hi = nibble(cursor[i]), lo = nibble(cursor[i + 1]);
    if (hi < 0 || lo < 0) return malformed;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

// One page, read in one transaction: fill(txn, page, limit) fills it and
// leaves page.next the key to continue after (empty when there is no more),
// which goes out hex-encoded as the cursor.
template <class Page, class Fill>
Result<Page> read_page(const storage::Store& store, size_t asked, Fill fill) {
  Page page;
  const size_t limit = std::min(std::max<size_t>(asked, 1), kMaxPage);
  Status s = store.read([&](const storage::ReadTxn& txn) { fill(txn, page, limit); });
  if (!s) return s;
  if (!page.next.empty()) page.next = encode_cursor(page.next);
  return page;
}

Result<AlertPage> query_alerts(const storage::Store& store, const AlertQuery& q, Date today) {
  bool by_deadline = q.open_only || q.overdue_only || (q.state > 0 && q.state < static_cast<int>(protocol::AlertState::kVerified));
  return read_page<AlertPage>(store, q.limit, [&](const storage::ReadTxn& txn, AlertPage& page, size_t limit) {
    ReadView v{txn};
    auto take_at = [&](const protocol::Alert& a, uint64_t village) {
      bool overdue = alert_overdue(a, today);
      if (!alert_matches(q, a, overdue) || !within(q.within, village)) return;
      page.alerts.push_back(AlertView{a, village, overdue});
    };
    auto take = [&](const protocol::Alert& a) {
      auto h = v.household(a.household);
      take_at(a, h ? h->village.value : 0);
    };
    std::string_view last;  // in the map: valid while the transaction is open
    std::string next = scan_page(txn, by_deadline ? Table::kOpenAlerts : Table::kAlerts, q.after,
                                 [&](std::string_view k, std::string_view val) {
      if (page.alerts.size() >= limit) return false;
      if (by_deadline && q.due_before && k.size() == 20 && keys::get_be32(k.data()) > q.due_before) {
        last = {};
        return false;  // deadline order: nothing later can match
      }
      last = k;  // read: the next page continues after it
      if (by_deadline) {
        if (k.size() != 20) return true;
        // The index carries level and state: skip what cannot match unread.
        if (val.size() >= 10 && ((q.level && static_cast<uint8_t>(val[8]) != q.level) ||
                                 (q.state && static_cast<uint8_t>(val[9]) != q.state)))
          return true;
        if (val.size() >= 18 && !within(q.within, storage::tables::get_be64(val.data() + 10))) return true;
        auto a = v.alert(keys::parse_id(k.substr(4)));
        if (a && val.size() >= 18) {
          take_at(*a, storage::tables::get_be64(val.data() + 10));
        } else if (a) {
          take(*a);
        }
      } else if (auto a = protocol::decode_alert(val)) {
        take(*a);
      }
      return true;
    });
    // Stopped early (page full or scan bound): continue after the last key read.
    page.next = next.empty() ? std::string() : std::string(last);
  });
}

Result<HouseholdPage> query_households(const storage::Store& store, const HouseholdQuery& q) {
  // With a division, the village index gives its households as one key
  // range (village order, then id); without, the households table (id order).
  auto division = topology::DivisionCode::from_number(q.within);
  return read_page<HouseholdPage>(store, q.limit, [&](const storage::ReadTxn& txn, HouseholdPage& page, size_t limit) {
    ReadView v{txn};
    std::string_view last;  // in the map: valid while the transaction is open
    auto take = [&](protocol::Household h) {
      if (!within(q.within, h.village.value) || (!q.category.empty() && h.category.value != q.category)) return;
      HouseholdSummary sum{std::move(h), std::nullopt};
      sum.open_alert = v.open_alert(sum.household.id);
      if (q.open_alert_only && !sum.open_alert) return;
      page.households.push_back(std::move(sum));
    };
    std::string next;
    if (division) {
      const std::string first = storage::tables::key64(division->number());
      const uint64_t end = division->last_descendant();
      next = scan_page(txn, Table::kVillageHouseholds, std::max(q.after, first), [&](std::string_view k, std::string_view) {
        if (k.size() != 24 || storage::tables::get_be64(k.data()) > end) {
          last = {};
          return false;  // past the division's range: the last page
        }
        if (page.households.size() >= limit) return false;
        ++page.scanned;
        last = k;
        if (auto h = v.household(keys::parse_id(k.substr(8)))) take(std::move(*h));
        return true;
      });
    } else {
      next = scan_page(txn, Table::kHouseholds, q.after, [&](std::string_view k, std::string_view val) {
        if (page.households.size() >= limit) return false;
        ++page.scanned;
        last = k;
        if (auto h = protocol::decode_household(val)) take(std::move(*h));
        return true;
      });
    }
    page.next = next.empty() || last.empty() ? std::string() : std::string(last);
  });
}

Result<ConflictPage> query_conflicts(const storage::Store& store, const ConflictQuery& q) {
  return read_page<ConflictPage>(store, q.limit, [&](const storage::ReadTxn& txn, ConflictPage& page, size_t limit) {
    ReadView v{txn};
    std::string_view last;
    std::string next = scan_page(txn, Table::kPersonConflicts, q.after, [&](std::string_view k, std::string_view) {
      if (page.conflicts.size() >= limit) return false;
      last = k;
      if (k.size() <= 16) return true;
      PersonConflict c;
      c.id_number = std::string(k.substr(0, k.size() - 16));
      c.also_in = keys::parse_id(k.substr(k.size() - 16));
      std::string_view indexed;
      if (!txn.get(Table::kPersons, c.id_number, indexed) || indexed.size() != 16) return true;
      c.household = keys::parse_id(indexed);
      if (auto h = v.household(c.household)) {
        c.village = h->village.value;
        for (const auto& m : h->members.value) {
          if (m.id_number == c.id_number) c.name = m.name;
        }
      }
      if (auto h = v.household(c.also_in)) c.also_in_village = h->village.value;
      if (!within(q.within, c.village) && !within(q.within, c.also_in_village)) return true;
      page.conflicts.push_back(std::move(c));
      return true;
    });
    page.next = next.empty() ? std::string() : std::string(last);
  });
}

Result<AuditPage> query_audit(const storage::Store& store, const AuditQuery& q) {
  return read_page<AuditPage>(store, q.limit, [&](const storage::ReadTxn& txn, AuditPage& page, size_t limit) {
    uint64_t scanned = 0;
    std::string last;
    txn.scan_back(Table::kAudit, q.before, [&](std::string_view k, std::string_view v) {
      if (page.entries.size() >= limit || ++scanned > kMaxScan) {
        page.next = last;
        return false;
      }
      last = std::string(k);
      nlohmann::json e = nlohmann::json::parse(v, nullptr, false);
      if (!e.is_object() || (!q.account.empty() && e.value("account", "") != q.account) ||
          (!q.action.empty() && e.value("action", "") != q.action) ||
          (!q.target.empty() && e.value("target", "") != q.target) ||
          (q.node && e.value("node", "") != topology::DivisionCode::format(q.node)) ||
          (q.within && !within(q.within, parse_node(e)) && !within(q.within, parse_code(e, "jurisdiction"))))
        return true;
      page.entries.push_back(std::move(e));
      return true;
    });
  });
}

Result<CaseFile> query_case(const storage::Store& store, const protocol::HouseholdId& id) {
  CaseFile cf;
  bool found = false;
  Status s = store.read([&](const storage::ReadTxn& txn) {
    ReadView v{txn};
    if (auto h = v.household(id)) {
      cf.household = std::move(*h);
      cf.alerts = v.alerts_of(id);
      cf.history = v.history_of(id);
      cf.events = v.events_of(id);
      for (const auto& m : cf.household.members.value) {
        for (const protocol::HouseholdId& other : v.other_claims(m.id_number, id)) cf.also_registered.emplace_back(m.id_number, other);
      }
      found = true;
    } else if (uint64_t moved = v.moved_to(id)) {
      cf.household.id = id;
      cf.moved_to = moved;
      found = true;
    }
  });
  if (!s) return s;
  if (!found) return household_not_held(id);
  return cf;
}

Status household_not_held(const protocol::HouseholdId& id) {
  const std::string h = protocol::format_id('H', id);
  return Status::not_found("household " + h + " is not held here").with_zh("本节点没有家庭 " + h + " 的数据");
}

namespace {
constexpr std::string_view kPersonPrefix = "person ", kAlreadyIn = " is already in household ";
}  // namespace

Status person_already_registered(std::string_view id_number, const protocol::HouseholdId& other) {
  const std::string masked = mask_id_number(id_number), h = protocol::format_id('H', other);
  // already_registered reads this message back: change the two together.
  return Status::invalid_argument(std::string(kPersonPrefix) + masked + std::string(kAlreadyIn) + h)
      .with_zh("人员 " + masked + " 已登记在家庭 " + h + " 中");
}

std::optional<AlreadyRegistered> already_registered(const Status& s) {
  if (s.code() != Status::Code::kInvalidArgument) return std::nullopt;
  std::string_view m = s.message();
  if (!m.starts_with(kPersonPrefix)) return std::nullopt;
  const size_t at = m.find(kAlreadyIn);
  if (at == std::string_view::npos) return std::nullopt;
  AlreadyRegistered out;
  out.masked_id_number = std::string(m.substr(kPersonPrefix.size(), at - kPersonPrefix.size()));
  if (!protocol::parse_id(m.substr(at + kAlreadyIn.size()), 'H', out.household)) return std::nullopt;
  return out;
}

Result<protocol::HouseholdId> query_person(const storage::Store& store, std::string_view id_number) {
  std::optional<protocol::HouseholdId> h;
  Status s = store.read([&](const storage::ReadTxn& txn) { h = ReadView{txn}.person(id_number); });
  if (!s) return s;
  if (!h)
    return Status::not_found("person " + mask_id_number(id_number) + " is in no household held here")
        .with_zh("本节点管辖的家庭中没有人员 " + mask_id_number(id_number));
  return *h;
}

}  // namespace lifeline::node
