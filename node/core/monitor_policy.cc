// The Monitor's policy, standards, aggregates and cross-location
// applications: the low-volume messages, carried as JSON.
#include <algorithm>
#include <set>

#include "node/core/id_number.h"
#include "node/core/monitor.h"
#include "node/core/monitor_txn.h"
#include "topology/logging.h"

namespace lifeline::node {

using nlohmann::json;
using protocol::MessageKind;
using storage::Table;
using topology::DivisionCode;

namespace {

DivisionCode as_code(uint64_t n) { return DivisionCode::or_invalid(n); }

// A 12-digit code string of a valid division, 0 otherwise.
uint64_t code_text(std::string_view text) {
  auto c = DivisionCode::parse(text);
  return c ? c->number() : 0;
}
uint64_t code_of(const json& j) { return j.is_string() ? code_text(j.get<std::string>()) : 0; }

// A string field of a JSON object from a link, "" when absent or of another
// type (json::value throws then); and whether the field is absent or a string.
std::string string_field(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}
bool string_field_or_absent(const json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() || it->is_string();
}

std::optional<json> parse_object(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

int status_rank(const std::string& s) {
  if (s == "transferred") return 1;
  if (s == "received") return 2;
  if (s == "accepted" || s == "declined") return 3;
  return 0;
}

}  // namespace

Status Monitor::read(const std::function<void(const ReadView&)>& fn) const {
  return store_->read([&](const storage::ReadTxn& txn) { fn(ReadView{txn}); });
}

// ---------------------------------------------------------------------------
// Policy

Status Monitor::set_policy(std::string_view text, const Instant& now) {
  if (self_.level() != topology::Level::province)
    return Status::refused("policy documents are set at the province").with_zh("政策文件只能在省级节点设置");
  auto p = parse_policy(text);
  if (!p) return p.status();
  if (p->version <= policy_.version) {
    const std::string v = std::to_string(p->version), running = std::to_string(policy_.version);
    return Status::invalid_argument("version " + v + " is not newer than the running " + running)
        .with_zh("版本 " + v + " 不比正在执行的版本 " + running + " 新");
  }
  p->issued_by = self();
  return run(now, [&](Txn& t) {
    std::string doc = policy_to_json(*p);
    t.txn.put(Table::kDomain, "policy", doc);
    staged_policy_ = *p;
    for (auto c : core_->neighbourhood().children()) t.send(c.number(), MessageKind::kPolicy, doc);
    return Status::ok();
  });
}

Status Monitor::receive_policy(Txn& t, std::string_view payload, uint64_t from_peer) {
  auto parent = core_->neighbourhood().parent();
  if (!parent || parent->number() != from_peer) return Status::refused("policy comes only from the parent");
  auto p = parse_policy(payload);
  if (!p) return Status::invalid_argument("policy: " + p.status().message());
  if (p->version <= t.policy.version) return Status::ok();  // an older or repeated version: nothing to do
  std::string doc = policy_to_json(*p);
  t.txn.put(Table::kDomain, "policy", doc);
  staged_policy_ = std::move(*p);
  for (auto c : core_->neighbourhood().children()) t.send(c.number(), MessageKind::kPolicy, doc);
  return Status::ok();
}

// {"<county>": {"urban_yuan": 1000.0, "rural_yuan": 800.0, "illustrative": true}, ...}
Status Monitor::set_standards(std::string_view text, const Instant& now) {
  if (self_.level() != topology::Level::province && self_.level() != topology::Level::city)
    return Status::refused("低保 standards are set at the province or a city").with_zh("低保标准只能在省级或市级节点设置");
  auto bad = [](const std::string& en, const std::string& zh) {
    return Status::invalid_argument("standards: " + en).with_zh("低保标准：" + zh);
  };
  auto doc = parse_object(text);
  if (!doc || doc->empty())
    return bad("expected a non-empty JSON object of county codes", "应为以县（区）代码为键的非空 JSON 对象");
  json entries = json::object();
  for (auto& [key, v] : doc->items()) {
    // A county, or a city without counties (东莞, 中山: its townships sit
    // directly under it), as in the policy file's standards.
    auto county = DivisionCode::parse(key);
    if (!county || (county->level() != topology::Level::county && county->level() != topology::Level::city))
      return bad("'" + key + "' is not a county-level code (or a city without counties)",
                 "'" + key + "' 不是县（区）级代码（或不设县区的市）");
    if (!self_.contains(*county))
      return Status::refused("standards: " + key + " is outside this node's jurisdiction")
          .with_zh("低保标准：" + key + " 不在本节点（" + self_.to_string() + "）管辖范围内");
    if (options_.known_division && !options_.known_division(*county))
      return bad(key + " is not in the divisions tree", key + " 不在本系统的行政区划表中");
    if (!v.is_object() || !v.contains("urban_yuan") || !v.contains("rural_yuan") || !v["urban_yuan"].is_number() ||
        !v["rural_yuan"].is_number() || v["urban_yuan"].get<double>() <= 0 || v["rural_yuan"].get<double>() <= 0 ||
        v["urban_yuan"].get<double>() > 100000 || v["rural_yuan"].get<double>() > 100000)
      return bad(key + " needs positive urban_yuan and rural_yuan",
                 key + " 须填写城市标准 urban_yuan 和农村标准 rural_yuan（元/月，大于 0，不超过 100,000）");
    for (auto& [k, x] : v.items()) {
      if (k != "urban_yuan" && k != "rural_yuan" && k != "illustrative")
        return bad("unknown key '" + k + "' for " + key, key + " 中有未知字段 '" + k + "'");
    }
    // Whole fen, as in the policy file's standards: not rounded silently.
    const std::optional<int64_t> urban = fen_of_yuan(v["urban_yuan"].get<double>()),
                                 rural = fen_of_yuan(v["rural_yuan"].get<double>());
    if (!urban || !rural)
      return bad(key + ": urban_yuan and rural_yuan must be at least 0.01 with at most 2 decimals",
                 key + " 的 urban_yuan 和 rural_yuan 应不少于 0.01 元，且最多两位小数");
    if (v.contains("illustrative") && !v["illustrative"].is_boolean())
      return bad("illustrative for " + key + " must be true or false", key + " 的 illustrative 应为 true 或 false");
    entries[key] = json{{"urban_fen", *urban},
                        {"rural_fen", *rural},
                        {"illustrative", v.value("illustrative", false)},
                        {"set_by", self_.to_string()}};
  }
  return run(now, [&](Txn& t) {
    json stamped = entries;
    uint64_t hlc = t.out.hlc();
    for (auto& [k, v] : stamped.items()) v["hlc"] = hlc;
    bool changed = false;
    return store_standards(t, stamped, self(), changed);
  });
}

Status Monitor::receive_standards(Txn& t, std::string_view payload, uint64_t from_peer) {
  auto doc = parse_object(payload);
  if (!doc) return Status::invalid_argument("standards: not a JSON object");
  bool changed = false;
  return store_standards(t, *doc, from_peer, changed);
}

// 低保边缘 (DESIGN §2.2): per-capita income below the policy's multiple
// (1.5) of the county's urban 低保 standard, where that standard is known
// here. Checked when a household is registered, or its category or income
// changes.
Status Monitor::check_marginal_income(Txn& t, uint64_t village, const std::string& category, int64_t income_fen) const {
  if (category != "marginal") return Status::ok();
  // The village's county; for a city without counties (东莞, 中山), the city.
  DivisionCode county = as_code(village).parent();
  while (county.valid() && county.level() > topology::Level::county) county = county.parent();
  if (!county.valid()) return Status::ok();
  // The standard set with `policy set --standards` (by the province or a
  // city), else the one in the running policy document.
  int64_t urban = 0;
  std::string_view v;
  if (t.txn.get(Table::kDomain, keys::standard(county.number()), v)) {
    auto standard = parse_object(v);
    if (standard && (*standard)["urban_fen"].is_number_integer()) urban = (*standard)["urban_fen"].get<int64_t>();
  } else if (auto it = t.policy.standards.find(county.number()); it != t.policy.standards.end()) {
    urban = it->second.urban_fen;
  }
  const int64_t line = urban * t.policy.marginal_multiplier_permille / 1000;
  if (urban <= 0 || income_fen < line) return Status::ok();
  auto yuan = [](int64_t fen) { return std::to_string(fen / 100) + "." + (fen % 100 < 10 ? "0" : "") + std::to_string(fen % 100); };
  const std::string times = std::to_string(t.policy.marginal_multiplier_permille / 1000.0).substr(0, 4);  // "1.50"
  return Status::invalid_argument("field 'income_yuan': " + yuan(income_fen) + " yuan a person is not below " + yuan(line) + " (" +
                                  times + " × the urban 低保 standard of " + county.to_string() + "): not a marginal household")
      .with_zh("人均收入 " + yuan(income_fen) + " 元不低于 " + county.to_string() + " 城市低保标准的 " + times + " 倍（" +
               yuan(line) + " 元），不属于低保边缘家庭");
}

// Keeps each county's newer entry (by hlc, then setter) and passes the
// entries on: up to the parent, down to children that hold the county.
Status Monitor::store_standards(Txn& t, const json& entries, uint64_t from_peer, bool& changed) {
  const auto& nb = core_->neighbourhood();
  bool from_child = from_peer != self() && nb.is_child(as_code(from_peer));
  // Every entry is checked before any is written: a record refused for one
  // entry leaves all of them as they were.
  for (auto& [key, v] : entries.items()) {
    uint64_t county = code_text(key);
    if (county == 0 || !v.is_object() || !v.contains("hlc") || !v["hlc"].is_number_unsigned() ||
        !v.contains("urban_fen") || !v["urban_fen"].is_number_integer() || !v.contains("rural_fen") ||
        !v["rural_fen"].is_number_integer())
      return Status::invalid_argument("standards: malformed entry '" + key + "'");
    if (from_child && !as_code(from_peer).contains(as_code(county)))
      return Status::refused("standards for " + key + " from a child outside it");
    // Set by the province or a city over the county; from a child, by
    // that child (a city passing up what it set), never by a node below it.
    const DivisionCode setter = as_code(code_of(v.contains("set_by") ? v["set_by"] : json()));
    if (!setter.valid() || setter.level() > topology::Level::city || !setter.contains(as_code(county)) ||
        (from_child && setter.number() != from_peer))
      return Status::refused("standards for " + key + " set by " + (setter.valid() ? setter.to_string() : "nobody") +
                             ", which may not set them");
  }
  json fresh = json::object();
  for (auto& [key, v] : entries.items()) {
    uint64_t county = code_text(key);
    std::string_view old;
    if (t.txn.get(Table::kDomain, keys::standard(county), old)) {
      // Two nodes may stamp the same hlc (one millisecond, no other write):
      // the setter's code then decides, the same way at every node.
      auto o = parse_object(old);
      auto setter = [](const json& e) { return e.contains("set_by") && e["set_by"].is_string() ? e["set_by"].get<std::string>() : ""; };
      if (o && std::pair(o->value("hlc", uint64_t{0}), setter(*o)) >= std::pair(v["hlc"].get<uint64_t>(), setter(v))) continue;
    }
    t.txn.put(Table::kDomain, keys::standard(county), v.dump());
    fresh[key] = v;
  }
  changed = !fresh.empty();
  if (!changed) return Status::ok();
  std::string text = fresh.dump();
  if (nb.parent() && nb.parent()->number() != from_peer) t.send(nb.parent()->number(), MessageKind::kStandards, text);
  for (DivisionCode c : nb.children()) {
    if (c.number() == from_peer) continue;
    bool wanted = false;
    for (auto& [key, v] : fresh.items()) {
      DivisionCode county = as_code(code_text(key));
      wanted = wanted || c.contains(county) || county.contains(c);
    }
    if (wanted) t.send(c.number(), MessageKind::kStandards, text);
  }
  return Status::ok();
}

json Monitor::standards_json() const {
  json standards = json::object();
  (void)read([&](const ReadView& v) {
    v.txn.scan(Table::kDomain, "std:", [&](std::string_view k, std::string_view val) {
      if (k.size() != 12) return true;
      standards[DivisionCode::format(storage::tables::get_be64(k.data() + 4))] = json::parse(val, nullptr, false);
      return true;
    });
  });
  return standards;
}

// ---------------------------------------------------------------------------
// Aggregates

json Monitor::figures(const ReadView& v, uint64_t bucket, Date today) const {
  json f{{"households", 0}, {"persons", 0}, {"by_category", json::object()}, {"alerts_by_state", json::object()},
         {"open_by_level", json::object()}, {"open", 0}, {"open_escalated", 0}, {"verified", 0}, {"verified_on_time", 0},
         {"overdue", 0}};
  std::string prefix = bucket == 0 ? std::string("agg:") : keys::agg(bucket, "");
  v.txn.scan(Table::kDomain, prefix, [&](std::string_view k, std::string_view val) {
    std::string metric(k.substr(12));
    int64_t n = static_cast<int64_t>(keys::get_u64(val));
    auto add = [&](json& slot) { slot = slot.is_number() ? slot.get<int64_t>() + n : n; };
    if (metric == "households" || metric == "persons" || metric == "verified") {
      add(f[metric]);
    } else if (metric == "on_time") {
      add(f["verified_on_time"]);
    } else if (metric == "escalated") {
      add(f["open_escalated"]);
    } else if (metric.rfind("category:", 0) == 0) {
      add(f["by_category"][metric.substr(9)]);
    } else if (metric.rfind("state:", 0) == 0) {
      add(f["alerts_by_state"][metric.substr(6)]);
    } else if (metric.rfind("open:", 0) == 0) {
      size_t colon = metric.find(':', 5);
      add(f["open_by_level"][metric.substr(5, colon - 5)][metric.substr(colon + 1)]);
      add(f["open"]);
    }
    return true;
  });
  // From the open-alert index, in deadline order: overdue (due before
  // today) and due soon (due today or on the next working day: 期限将至).
  const Date soon = policy_.calendar.add_working_days(today, 1);
  int64_t overdue = 0, due_soon = 0;
  v.txn.scan(Table::kOpenAlerts, {}, [&](std::string_view k, std::string_view val) {
    if (k.size() < 4) return false;
    const Date due = keys::get_be32(k.data());
    if (due > soon) return false;
    const bool here = bucket == 0 || (val.size() >= 8 && storage::tables::get_be64(val.data()) == bucket);
    (due < today ? overdue : due_soon) += here;
    return true;
  });
  f["overdue"] = overdue;
  f["due_soon"] = due_soon;
  int64_t verified = f["verified"].get<int64_t>();
  f["on_time_rate"] = verified == 0 ? json(nullptr) : json(double(f["verified_on_time"].get<int64_t>()) / verified);
  return f;
}

json Monitor::snapshot(const ReadView& v, const Instant& now) const {
  json links = json::array();
  uint64_t depth = 0;
  for (const LinkStatus& l : core_->status().links) {
    links.push_back(json{{"peer", DivisionCode::format(l.peer)}, {"state", link_state_name(l.state)},
                         {"rtt_ms", l.rtt_us < 0 ? json(nullptr) : json(l.rtt_us / 1000.0)},
                         {"outbox_depth", l.outbox_depth}});
    depth += l.outbox_depth;
  }
  // Registry conflicts (a person claimed by two households held here) are
  // this node's own figure: a conflict shows only where both households
  // are held, so it is not summed from the children or compared with them.
  return json{{"node", self_.to_string()},
              {"as_of_us", now.wall_us},
              {"interval_s", options_.aggregate_interval_us / 1'000'000},
              {"policy_version", policy_.version},
              {"figures", figures(v, 0, shanghai_date(now.wall_us))},
              {"person_conflicts", v.txn.entries(Table::kPersonConflicts)},
              {"links", links},
              {"outbox_depth", depth}};
}

Status Monitor::receive_aggregate(Txn& t, std::string_view payload, uint64_t from_peer) {
  if (!core_->neighbourhood().is_child(as_code(from_peer))) return Status::refused("aggregates come only from children");
  auto snap = parse_object(payload);
  if (!snap || code_of((*snap)["node"]) != from_peer || !(*snap)["as_of_us"].is_number_integer() ||
      !(*snap)["figures"].is_object())
    return Status::invalid_argument("aggregate snapshot malformed or not the sender's");
  std::string_view old;
  if (t.txn.get(Table::kDomain, keys::child(from_peer), old)) {
    // The newer snapshot by the child's hlc; a child of an earlier release
    // sends none, and its snapshots are ordered by as_of_us as before.
    auto o = parse_object(old);
    const json& held = o ? (*o)["snapshot"] : json();
    bool stamped = snap->contains("hlc") && (*snap)["hlc"].is_number_unsigned() && held.is_object() && held.contains("hlc") &&
                   held["hlc"].is_number_unsigned();
    if (stamped ? held["hlc"].get<uint64_t>() >= (*snap)["hlc"].get<uint64_t>()
                : o && held.is_object() && held.value("as_of_us", int64_t{0}) >= (*snap)["as_of_us"].get<int64_t>())
      return Status::ok();
  }
  t.txn.put(Table::kDomain, keys::child(from_peer), json{{"received_at_us", t.now.wall_us}, {"snapshot", *snap}}.dump());
  return Status::ok();
}

Result<json> Monitor::aggregates(const Instant& now) const {
  json out;
  Status s = read([&](const ReadView& v) {
    Date today = shanghai_date(now.wall_us);
    out = json{{"own", snapshot(v, now)}, {"children", json::array()}};
    for (DivisionCode c : core_->neighbourhood().children()) {
      json computed = figures(v, c.number(), today);
      json row{{"code", c.to_string()}, {"computed", computed}, {"reported", nullptr}, {"age_s", nullptr},
               {"stale", true}, {"mismatch", nullptr}, {"policy_behind", nullptr}};
      std::string_view stored;
      if (v.txn.get(Table::kDomain, keys::child(c.number()), stored)) {
        json rec = json::parse(stored, nullptr, false);
        // Read as const: operator[] on a non-const json adds the keys it
        // looks up, and the report is shown below as the child sent it.
        const json rep = rec.is_object() && rec.contains("snapshot") && rec["snapshot"].is_object() ? rec["snapshot"] : json::object();
        const json none;
        auto field = [&](const json& o, const char* k) -> const json& {
          auto it = o.find(k);
          return it != o.end() ? *it : none;
        };
        const json& reported = field(rep, "figures");
        const int64_t as_of = rep.value("as_of_us", int64_t{0});
        double age = (now.wall_us - as_of) / 1e6;
        json mismatched = json::array();
        for (const char* k : {"households", "persons", "by_category", "alerts_by_state", "open_by_level", "verified"}) {
          if (field(reported, k) != computed[k]) mismatched.push_back(k);
        }
        // Overdue depends on the day: compared only for a report of today.
        if (shanghai_date(as_of) == today && field(reported, "overdue") != computed["overdue"]) mismatched.push_back("overdue");
        // The child's own interval when it reports it (its config may differ
        // from this node's); a child of an earlier release does not.
        int64_t interval_us = options_.aggregate_interval_us;
        if (const json& i = field(rep, "interval_s"); i.is_number_integer() && i.get<int64_t>() > 0 && i.get<int64_t>() <= 86400)
          interval_us = i.get<int64_t>() * 1'000'000;
        row["reported"] = rep;
        row["age_s"] = age;
        row["stale"] = age * 1e6 > 3.0 * static_cast<double>(interval_us);
        row["mismatch"] = !mismatched.empty();
        row["mismatched"] = mismatched;
        // A child still running an older policy than this node (a push not yet through).
        if (const json& pv = field(rep, "policy_version"); pv.is_number_unsigned()) row["policy_behind"] = pv.get<uint64_t>() < policy_.version;
      }
      out["children"].push_back(row);
    }
  });
  if (!s) return s;
  return out;
}

void Monitor::on_tick(const Instant& now) {
  auto parent = core_->neighbourhood().parent();
  if (!parent) return;
  int64_t elapsed = now.mono_us - last_snapshot_us_;
  bool due = last_snapshot_.empty() || elapsed >= options_.aggregate_interval_us;
  if (!due && !(figures_dirty_ && elapsed >= options_.aggregate_min_interval_us)) return;
  json snap;
  if (!read([&](const ReadView& v) { snap = snapshot(v, now); })) return;
  std::string key = snap["figures"].dump() + std::to_string(policy_.version);
  figures_dirty_ = false;
  if (!due && key == last_snapshot_) return;
  Status s = run(now, [&](Txn& t) {
    // Ordered at the parent by this stamp, not by as_of_us: a wall clock
    // stepped back would leave the parent comparing its records with an old
    // snapshot until the clock caught up (the hlc never goes back, restarts
    // included).
    snap["hlc"] = t.stamp().hlc;
    t.send(parent->number(), MessageKind::kAggregate, snap.dump());
    return Status::ok();
  });
  if (!s) {
    folder_logger("node")->warn("aggregate snapshot not sent: {}", s.to_string());
    return;
  }
  last_snapshot_ = key;
  last_snapshot_us_ = now.mono_us;
}

// ---------------------------------------------------------------------------
// Cross-location applications (异地受理)

Result<std::string> Monitor::submit_application(const json& in, const Instant& now, uint64_t taken_for) {
  if (self_.level() != topology::Level::township && self_.level() != topology::Level::village)
    return Status::refused("applications are taken at a township or village node").with_zh("异地申请应在乡镇（街道）或村（社区）节点受理");
  auto bad = [](const std::string& en, const std::string& zh) {
    return Status::invalid_argument("application: " + en).with_zh("申请：" + zh);
  };
  if (taken_for == 0) taken_for = self();
  const std::string taken = DivisionCode::format(taken_for);
  if (!self_.contains(as_code(taken_for)))
    return bad("taken for " + taken + ", outside this node", "受理地 " + taken + " 不在本节点管辖范围内");
  if (!in.is_object()) return bad("expected an object", "应为 JSON 对象");
  static const std::set<std::string> allowed = {"village", "name", "id_number", "phone", "reason", "needs"};
  for (auto& [k, v] : in.items()) {
    if (!allowed.count(k)) return bad("unknown field '" + k + "'", "未知字段 '" + k + "'");
  }
  uint64_t village = code_of(in.value("village", json()));
  if (village == 0 || as_code(village).level() != topology::Level::village)
    return bad("village must be a 12-digit village code", "village 应为 12 位村（社区）代码");
  if (options_.known_division && !options_.known_division(as_code(village)))
    return bad("village " + DivisionCode::format(village) + " is not in the divisions tree",
               "村代码 " + DivisionCode::format(village) + " 不在本系统的行政区划表中");
  if (self_.contains(as_code(village)))
    return bad("the village is in this node's jurisdiction; register the household here",
               "该村在本节点管辖范围内，请直接在本节点登记该家庭");
  for (const char* k : {"name", "id_number", "phone", "reason"}) {
    if (in.contains(k) && !in[k].is_string() && !in[k].is_null())
      return bad(std::string("field '") + k + "' must be a string", std::string("字段 '") + k + "' 应为字符串");
  }
  auto text = [&](const char* k) { return in.contains(k) && in[k].is_string() ? in[k].get<std::string>() : std::string(); };
  std::string name = text("name"), reason = text("reason"), phone = text("phone");
  if (reason.size() > 2000 || phone.size() > 32)
    return bad("reason or phone too long", "申请理由（不超过 2000 字节）或电话（不超过 32 字节）过长");
  json needs = json::array();
  if (in.contains("needs") && !in["needs"].is_null()) {
    const json& n = in["needs"];
    bool ok = n.is_array() && n.size() <= 32;
    for (size_t i = 0; ok && i < n.size(); ++i)
      ok = n[i].is_string() && !n[i].get<std::string>().empty() && n[i].get<std::string>().size() <= 64;
    if (!ok) return bad("needs must be a list of at most 32 strings of 1..64 bytes", "needs 应为不超过 32 项、每项 1 到 64 字节的字符串列表");
    needs = n;
  }
  // Every text of an application is listed whole (GET /api/v1/applications)
  // and travels to the home node: none may hold an ID number but id_number.
  std::vector<Status> checks = {check_person_name(name, "name", "姓名"), refuse_id_number_in(phone, "phone", "电话"),
                                refuse_id_number_in(reason, "reason", "申请理由")};
  for (const json& n : needs) checks.push_back(refuse_id_number_in(n.get<std::string>(), "needs", "需求"));
  for (const Status& c : checks) {
    if (!c) return bad(c.message(), c.message_zh());
  }
  auto id = parse_id_number(text("id_number"), shanghai_date(now.wall_us));
  if (!id) return bad("id_number: " + id.status().message(), id.status().message_zh());
  std::string text_id;
  Status s = run(now, [&](Txn& t) {
    protocol::RecordId pid = t.next_id('P');
    text_id = protocol::format_id('P', pid);
    json app{{"id", text_id}, {"village", DivisionCode::format(village)}, {"name", name}, {"id_number", id->number},
             {"phone", phone}, {"reason", reason}, {"needs", needs},
             {"taken_at", self_.to_string()}, {"taken_for", DivisionCode::format(taken_for)},
             {"taken_at_us", now.wall_us}, {"status", "transferred"},
             {"home", nullptr}, {"household", nullptr}, {"note", ""}, {"updated_us", now.wall_us}};
    t.txn.put(Table::kApplications, keys::id(pid), app.dump());
    t.send(village, MessageKind::kApplication, app.dump());
    return Status::ok();
  });
  if (!s) return s;
  return text_id;
}

Status Monitor::receive_application(Txn& t, const protocol::Record& r) {
  auto app = parse_object(r.payload);
  protocol::RecordId pid;
  // Read with string_field: value() throws on a field of another type.
  if (!app || !protocol::parse_id(string_field(*app, "id"), 'P', pid) || pid.origin != r.origin ||
      code_of((*app)["village"]) == 0 || !as_code(r.destination).contains(as_code(code_of((*app)["village"]))) ||
      !parse_id_number(string_field(*app, "id_number")) || !string_field_or_absent(*app, "taken_at"))
    return Status::invalid_argument("application malformed");
  (*app)["status"] = "received";
  (*app)["home"] = self_.to_string();
  (*app)["updated_us"] = t.now.wall_us;
  if (auto h = t.person((*app)["id_number"].get<std::string>())) {
    (*app)["household"] = protocol::format_id('H', *h);
    if (auto hh = t.household(*h)) {
      protocol::HistoryEntry e = t.history(*h, "application", {}, "application " + string_field(*app, "id") + " taken at " +
                                                                      string_field(*app, "taken_at"));
      t.apply_sync(protocol::HouseholdSync{*hh, {}, {e}, {}}, self());
    }
  }
  t.txn.put(Table::kApplications, keys::id(pid), app->dump());
  json status{{"id", (*app)["id"]}, {"status", "received"}, {"home", self_.to_string()},
              {"household", (*app)["household"]}, {"note", ""}, {"updated_us", t.now.wall_us}};
  t.send(r.origin, MessageKind::kApplicationStatus, status.dump());
  return Status::ok();
}

Status Monitor::decide_application(const std::string& id, const std::string& status, const std::string& note,
                                   const Instant& now) {
  protocol::RecordId pid;
  if (!protocol::parse_id(id, 'P', pid))
    return Status::invalid_argument("'" + id + "' is not an application id").with_zh("'" + id + "' 不是申请编号（P-…）");
  if (status != "accepted" && status != "declined")
    return Status::invalid_argument("status must be accepted or declined").with_zh("status 应为 accepted（受理）或 declined（不予受理）");
  if (note.size() > 2000) return Status::invalid_argument("note too long").with_zh("备注不超过 2000 字节");
  if (Status s = refuse_id_number_in(note, "note", "备注"); !s) return s;
  return run(now, [&](Txn& t) {
    std::string_view v;
    if (!t.txn.get(Table::kApplications, keys::id(pid), v))
      return Status::not_found("application " + id + " is not held here").with_zh("本节点没有申请 " + id + " 的数据");
    json app = json::parse(v);
    if (app.value("home", json()) != json(self_.to_string()))
      return Status::refused("only the household's home node decides an application").with_zh("只有该家庭所属的节点才能办理申请");
    if (status_rank(app.value("status", "")) >= 3) {
      const std::string st = app.value("status", "");
      return Status::invalid_argument("application already " + st).with_zh("该申请已处于 " + st + " 状态");
    }
    app["status"] = status;
    app["note"] = note;
    app["updated_us"] = now.wall_us;
    t.txn.put(Table::kApplications, keys::id(pid), app.dump());
    json msg{{"id", id}, {"status", status}, {"home", self_.to_string()}, {"household", app["household"]},
             {"note", note}, {"updated_us", now.wall_us}};
    t.send(pid.origin, MessageKind::kApplicationStatus, msg.dump());
    return Status::ok();
  });
}

Status Monitor::receive_application_status(Txn& t, const protocol::Record& r) {
  auto st = parse_object(r.payload);
  protocol::RecordId pid;
  if (!st || !protocol::parse_id(string_field(*st, "id"), 'P', pid) || pid.origin != self() ||
      status_rank(string_field(*st, "status")) < 2 || !string_field_or_absent(*st, "home") ||
      !string_field_or_absent(*st, "note") || !(st->contains("household") && ((*st)["household"].is_string() || (*st)["household"].is_null())) ||
      !(st->contains("updated_us") && (*st)["updated_us"].is_number_integer()))
    return Status::invalid_argument("application status malformed or not for an application taken here");
  std::string_view v;
  if (!t.txn.get(Table::kApplications, keys::id(pid), v)) return Status::invalid_argument("unknown application");
  json app = json::parse(v);
  // Only a holder of the applicant's village (its home node or an ancestor
  // of it) speaks for the application.
  if (const uint64_t village = code_of(app["village"]); village == 0 || !as_code(r.origin).contains(as_code(village)))
    return Status::refused("application status from " + DivisionCode::format(r.origin) + ", which does not hold the application's village");
  if (status_rank(app.value("status", "")) >= status_rank((*st)["status"])) return Status::ok();
  for (const char* k : {"status", "home", "household", "note", "updated_us"}) app[k] = (*st)[k];
  t.txn.put(Table::kApplications, keys::id(pid), app.dump());
  return Status::ok();
}

Result<json> Monitor::applications() const {
  json out = json::array();
  Status s = read([&](const ReadView& v) {
    v.txn.scan(Table::kApplications, {}, [&](std::string_view, std::string_view val) {
      json app = json::parse(val, nullptr, false);
      if (app.is_object()) {
        app["name"] = mask_name(app.value("name", ""));
        app["id_number"] = mask_id_number(app.value("id_number", ""));
        out.push_back(app);
      }
      return true;
    });
  });
  if (!s) return s;
  return out;
}

}  // namespace lifeline::node
