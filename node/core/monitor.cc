#include "node/core/monitor.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

#include "node/core/alert_merge.h"
#include "node/core/household_json.h"
#include "node/core/id_number.h"
#include "node/core/monitor_queries.h"
#include "node/core/monitor_txn.h"
#include "topology/logging.h"

namespace lifeline::node {

using protocol::Alert;
using protocol::AlertId;
using protocol::AlertState;
using protocol::HistoryEntry;
using protocol::Household;
using protocol::HouseholdId;
using protocol::HouseholdSync;
using protocol::MessageKind;
using storage::Table;
using topology::DivisionCode;

namespace {

const std::set<std::string>& categories() {
  static const std::set<std::string> k = {"minimum_living", "destitute", "marginal", "expenditure_hardship", "other"};
  return k;
}
const std::set<std::string>& relations() {
  static const std::set<std::string> k = {"head", "spouse", "child", "parent", "grandparent", "grandchild", "sibling", "other"};
  return k;
}

// An alert that has moved past the state a command needs.
Status already_in_state(const Alert& a) {
  const std::string state = alert_state_name(a.state);
  return Status::invalid_argument("alert is already " + state).with_zh("该预警已处于 " + state + " 状态");
}

HouseholdImportReport::Rejected rejected_line(uint64_t line, const Status& s) {
  return {line, s.message_zh().empty() ? s.message() : s.message_zh(), s.message()};
}

}  // namespace

Monitor::Monitor(NodeCore* core, storage::Store* store, MonitorOptions options)
    : self_(core->neighbourhood().self()), core_(core), store_(store), options_(std::move(options)) {}

// A store written before the village index holds households without it:
// the index is built once, in one transaction, and marked built.
Status Monitor::build_village_index() {
  static constexpr std::string_view kMarker = "index:village_households";
  bool built = false;
  Status s = store_->read([&](const storage::ReadTxn& txn) {
    std::string_view v;
    built = txn.get(Table::kDomain, kMarker, v);
  });
  if (!s || built) return s;
  uint64_t n = 0;
  s = store_->write([&](storage::WriteTxn& txn) {
    std::vector<std::string> rows;
    Status bad = Status::ok();
    txn.scan(Table::kHouseholds, {}, [&](std::string_view k, std::string_view v) {
      auto h = protocol::decode_household(v);
      if (!h || k.size() != 16) {
        bad = Status::corruption("household record " + std::to_string(rows.size()) + " does not decode");
        return false;
      }
      rows.push_back(keys::village_household(h->village.value, h->id));
      return true;
    });
    if (!bad) return bad;
    for (const auto& r : rows) txn.put(Table::kVillageHouseholds, r, std::string_view(""));
    txn.put(Table::kDomain, kMarker, std::string_view("1"));
    n = rows.size();
    return Status::ok();
  });
  if (s && n > 0) folder_logger("node")->info("village index built for {} households held", n);
  return s;
}

Status Monitor::start() {
  Status built = build_village_index();
  if (!built) return built;
  std::string text;
  Status s = store_->read([&](const storage::ReadTxn& txn) {
    std::string_view v;
    if (txn.get(Table::kDomain, "policy", v)) text.assign(v);
  });
  if (!s) return s;
  if (text.empty()) {
    policy_ = default_policy();
    return Status::ok();
  }
  auto p = parse_policy(text);
  if (!p) return Status::corruption("stored policy does not parse: " + p.status().message());
  policy_ = std::move(*p);
  return Status::ok();
}

bool Monitor::handles(uint16_t kind) const {
  return kind >= static_cast<uint16_t>(MessageKind::kHouseholdSync) &&
         kind <= static_cast<uint16_t>(MessageKind::kHouseholdSyncBatchZstd);
}

// Applications and their statuses are routed across the tree; every other
// kind goes from a node to its neighbour, which makes its own to pass on.
bool Monitor::neighbour_only(uint16_t kind) const {
  return handles(kind) && kind != static_cast<uint16_t>(MessageKind::kApplication) &&
         kind != static_cast<uint16_t>(MessageKind::kApplicationStatus);
}

// A peer of an earlier release gets a compressed batch as the plain batch
// inside it.
Status Monitor::adapt_for_peer(protocol::Record& r, uint64_t peer_features) const {
  if (r.kind != static_cast<uint16_t>(MessageKind::kHouseholdSyncBatchZstd) ||
      (peer_features & protocol::kFeatureZstdBatches) != 0)
    return Status::ok();
  auto plain = protocol::expand_sync_batch(r.payload);
  if (!plain) return plain.status();
  r.payload = std::move(*plain);
  r.kind = static_cast<uint16_t>(MessageKind::kHouseholdSyncBatch);
  return Status::ok();
}

void Monitor::begin() {
  staged_policy_.reset();
  staged_dirty_ = false;
}

void Monitor::committed() {
  if (staged_policy_) {
    folder_logger("node")->info("policy version {} now running (was {})", staged_policy_->version, policy_.version);
    policy_ = std::move(*staged_policy_);
    staged_policy_.reset();
  }
  figures_dirty_ = figures_dirty_ || staged_dirty_;
  staged_dirty_ = false;
}

Status Monitor::on_record(storage::WriteTxn& txn, const protocol::Record& r, uint64_t from_peer, Outbound& out,
                          const Instant& now) {
  Txn t(*this, txn, out, now);
  Status s = dispatch(t, r, from_peer);
  if (s) {
    t.finish();
  } else {
    t.flush_ids();
  }
  return s;
}

Status Monitor::dispatch(Txn& t, const protocol::Record& r, uint64_t from_peer) {
  switch (static_cast<MessageKind>(r.kind)) {
    case MessageKind::kHouseholdSync: {
      auto sync = protocol::decode_sync(r.payload);
      if (!sync) return sync.status();
      Status s = t.check_sync(*sync, from_peer);
      if (!s) return s;
      t.apply_sync(*sync, from_peer);
      return Status::ok();
    }
    case MessageKind::kHouseholdSyncBatch:
    case MessageKind::kHouseholdSyncBatchZstd: {
      // Each item applies as a kHouseholdSync record of its own would: one
      // that fails its checks is refused alone, the others apply.
      std::string_view payload = r.payload;
      Result<std::string> expanded = std::string();
      if (r.kind == static_cast<uint16_t>(MessageKind::kHouseholdSyncBatchZstd)) {
        expanded = protocol::expand_sync_batch(r.payload);
        if (!expanded) return expanded.status();
        payload = *expanded;
      }
      auto unpacked = protocol::open_sync_batch(payload);
      if (!unpacked) return unpacked.status();
      auto items = protocol::split_sync_batch(*unpacked);
      if (!items) return items.status();
      for (size_t i = 0; i < items->size(); ++i) {
        auto sync = protocol::decode_sync((*items)[i]);
        Status s = sync ? t.check_sync(*sync, from_peer) : sync.status();
        if (!s) {
          t.out.refuse(from_peer, "record " + DivisionCode::format(r.origin) + "/" + std::to_string(r.origin_seq) +
                                      " item " + std::to_string(i) + " refused: " + s.message());
          continue;
        }
        t.apply_sync(*sync, from_peer);
      }
      return Status::ok();
    }
    case MessageKind::kPolicy: return receive_policy(t, r.payload, from_peer);
    case MessageKind::kStandards: return receive_standards(t, r.payload, from_peer);
    case MessageKind::kAggregate: return receive_aggregate(t, r.payload, from_peer);
    case MessageKind::kApplication: return receive_application(t, r);
    case MessageKind::kApplicationStatus: return receive_application_status(t, r);
    case MessageKind::kAudit: return receive_audit(t, r.payload, from_peer);
    default: return Status::invalid_argument("unknown domain kind " + std::to_string(r.kind));
  }
}

Status Monitor::run(const Instant& now, const std::function<Status(Txn&)>& fn) {
  return core_->execute([&](storage::WriteTxn& txn, Outbound& out) {
    Txn t(*this, txn, out, now);
    Status s = fn(t);
    if (s) t.finish();
    return s;
  }, now);
}

// ---------------------------------------------------------------------------
// Registry

Status Monitor::check_village(uint64_t village) const {
  auto v = DivisionCode::from_number(village);
  const std::string code = DivisionCode::format(village);
  if (!v)
    return Status::invalid_argument("village code: " + v.status().message()).with_zh("村代码 " + code + " 不是有效的行政区划代码");
  if (v->level() != topology::Level::village)
    return Status::invalid_argument(code + " is not a village-level code").with_zh(code + " 不是村（社区）级代码");
  if (options_.known_division && !options_.known_division(*v))
    return Status::invalid_argument(code + " is not in the divisions tree").with_zh(code + " 不在本系统的行政区划表中");
  if (!self_.contains(*v))
    return Status::refused(code + " is outside this node's jurisdiction (" + self_.to_string() + ")")
        .with_zh(code + " 不在本节点（" + self_.to_string() + "）管辖范围内");
  return Status::ok();
}

Status Monitor::check_members(const std::vector<protocol::Member>& members, Date today) const {
  auto bad = [](std::string en, std::string zh) {
    return Status::invalid_argument("field 'members': " + en).with_zh("家庭成员：" + zh);
  };
  if (members.empty()) return bad("a household needs at least one member", "一户至少要有一名成员");
  if (members.size() > protocol::kMaxMembers)
    return bad("too many members", "成员超过 " + std::to_string(protocol::kMaxMembers) + " 人");
  int heads = 0;
  std::set<std::string> seen;
  for (const auto& mem : members) {
    auto id = parse_id_number(mem.id_number, today);
    if (!id) return bad("id_number: " + id.status().message(), id.status().message_zh());
    if (!seen.insert(id->number).second)
      return bad("ID number listed twice: " + mask_id_number(id->number), "身份证号码 " + mask_id_number(id->number) + " 重复列出");
    // Every text field has a bound here: the record codec refuses a text
    // over protocol's limit when it reads one back, so a longer one would
    // be stored and then unreadable.
    if (mem.disability_kind.size() > 64)
      return Status::invalid_argument("member: field 'disability_kind' must be at most 64 bytes")
          .with_zh("家庭成员：残疾类别 disability_kind 不超过 64 字节");
    for (Status t : {check_person_name(mem.name, "name", "姓名"),
                     refuse_id_number_in(mem.disability_kind, "disability_kind", "残疾类别")}) {
      if (!t) return Status::invalid_argument("member: " + t.message()).with_zh("家庭成员：" + t.message_zh());
    }
    if (!relations().count(mem.relation))
      return bad("unknown relation '" + mem.relation + "'",
                 "未知的与户主关系 '" + mem.relation + "'（应为 head、spouse、child、parent、grandparent、grandchild、sibling 或 other）");
    if (mem.disability_grade > 4) return bad("disability_grade must be 0..4", "残疾等级应为 0 到 4");
    heads += mem.relation == "head";
  }
  if (heads != 1) return bad("a household has exactly one head", "一户必须有且只有一名户主（relation 为 head）");
  return Status::ok();
}

Status Monitor::check_household(NewHousehold& in, Date today) const {
  Status s = check_village(in.village);
  if (!s) return s;
  if (!categories().count(in.category))
    return Status::invalid_argument("field 'category': unknown category '" + in.category + "'")
        .with_zh("未知的类别 '" + in.category +
                 "'（应为 minimum_living 低保、destitute 特困、marginal 低保边缘、expenditure_hardship 支出型困难或 other 其他）");
  // "synthetic": generated demo data (lifeline demo-data), flagged wherever shown.
  if (in.source != "active_discovery" && in.source != "application" && in.source != "synthetic")
    return Status::invalid_argument("source must be active_discovery, application or synthetic")
        .with_zh("来源 source 应为 active_discovery（主动发现）、application（依申请）或 synthetic（演示数据）");
  if (in.income_fen < 0) return Status::invalid_argument("field 'income_yuan': must not be negative").with_zh("人均收入不能为负数");
  // 单人保 (DESIGN §2.2): a member of a marginal household with disability
  // grade 1–2, grade 3–4 intellectual or mental, or a major illness.
  for (const auto& mem : in.members) {
    if (!mem.single_person_coverage) continue;
    if (in.category != "marginal")
      return Status::invalid_argument("member: field 'single_person_coverage': single-person coverage is for a member of a marginal household")
          .with_zh("家庭成员：单人保（single_person_coverage）只适用于低保边缘家庭（marginal）的成员");
    const std::string& kind = mem.disability_kind;
    bool intellectual_or_mental = kind == "intellectual" || kind == "mental" || kind.find("智力") != std::string::npos ||
                                  kind.find("精神") != std::string::npos;
    bool severe = (mem.disability_grade >= 1 && mem.disability_grade <= 2) ||
                  (mem.disability_grade >= 3 && mem.disability_grade <= 4 && intellectual_or_mental) || mem.major_illness;
    if (!severe)
      return Status::invalid_argument(
                 "member: field 'single_person_coverage': single-person coverage needs disability grade 1-2, grade 3-4 "
                 "intellectual or mental disability, or a major illness")
          .with_zh("家庭成员：单人保（single_person_coverage）须为一、二级残疾人，三、四级智力或精神残疾人，或患重病人员");
  }
  if (in.phone.size() > 32 || in.address.size() > 256)
    return Status::invalid_argument("phone or address too long").with_zh("电话（不超过 32 字节）或地址（不超过 256 字节）过长");
  for (Status t : {refuse_id_number_in(in.phone, "phone", "电话"), refuse_id_number_in(in.address, "address", "地址")}) {
    if (!t) return t;
  }
  for (auto& mem : in.members) {
    if (!mem.id_number.empty() && mem.id_number.back() == 'x') mem.id_number.back() = 'X';
  }
  return check_members(in.members, today);
}

// Registers one checked household in t; fails (writing nothing) when one of
// its members is already registered.
Result<HouseholdId> Monitor::register_household(Txn& t, const NewHousehold& in) {
  if (Status s = check_marginal_income(t, in.village, in.category, in.income_fen); !s) return s;
  for (const auto& mem : in.members) {
    if (auto other = t.person(mem.id_number))
      return person_already_registered(mem.id_number, *other);
  }
  HouseholdId id = t.next_id('H');
  protocol::Stamp st = t.stamp();
  Household h;
  h.id = id;
  h.village = {in.village, st};
  h.category = {in.category, st};
  h.income_fen = {in.income_fen, st};
  h.phone = {in.phone, st};
  h.address = {in.address, st};
  h.source = {in.source, st};
  h.members = {in.members, st};
  HistoryEntry e = t.history(id, "registered", {}, "registered at " + self_.to_string() + " (" + in.source + ")");
  t.apply_sync(HouseholdSync{h, {}, {e}, {}}, self());
  return id;
}

Result<HouseholdId> Monitor::add_household(const NewHousehold& input, const Instant& now) {
  NewHousehold in = input;
  Status s = check_household(in, shanghai_date(now.wall_us));
  if (!s) return s;
  HouseholdId id;
  s = run(now, [&](Txn& t) {
    auto r = register_household(t, in);
    if (!r) return r.status();
    id = *r;
    return Status::ok();
  });
  if (!s) return s;
  return id;
}

Result<HouseholdImportReport> Monitor::import_households(std::string_view text, const Instant& now) {
  if (text.size() > kImportMaxBytes) return Status::invalid_argument("file larger than the import limit");
  HouseholdImportReport report;
  std::vector<std::pair<uint64_t, NewHousehold>> valid;
  Date today = shanghai_date(now.wall_us);
  uint64_t line = 0;
  for (size_t b = 0; b < text.size();) {
    size_t e = text.find('\n', b);
    if (e == std::string_view::npos) e = text.size();
    std::string_view l = text.substr(b, e - b);
    b = e + 1;
    ++line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.find_first_not_of(" \t") == std::string_view::npos) continue;
    ++report.lines_read;
    const nlohmann::json doc = nlohmann::json::parse(l, nullptr, false);
    if (doc.is_discarded()) {
      report.rejected.push_back({line, "不是有效的 JSON", "not valid JSON"});
      continue;
    }
    auto h = household_from_json(doc);
    Status s = h ? check_household(*h, today) : h.status();
    if (!s) {
      report.rejected.push_back(rejected_line(line, s));
      continue;
    }
    valid.emplace_back(line, std::move(*h));
  }
  // Chunks keep one transaction's dirty pages bounded; each chunk commits
  // whole, and a line rejected inside one changes nothing.
  for (size_t at = 0; at < valid.size(); at += kHouseholdImportChunk) {
    size_t end = std::min(valid.size(), at + kHouseholdImportChunk);
    HouseholdImportReport part;
    Status s = run(now, [&](Txn& t) {
      part = HouseholdImportReport{};
      for (size_t i = at; i < end; ++i) {
        auto id = register_household(t, valid[i].second);
        if (id) {
          ++part.registered;
        } else {
          part.rejected.push_back(rejected_line(valid[i].first, id.status()));
        }
      }
      return Status::ok();
    });
    if (!s) return s;
    report.registered += part.registered;
    report.rejected.insert(report.rejected.end(), part.rejected.begin(), part.rejected.end());
  }
  std::sort(report.rejected.begin(), report.rejected.end(), [](auto& x, auto& y) { return x.line < y.line; });
  return report;
}

Status Monitor::move_household(const HouseholdId& id, uint64_t village, const Instant& now) {
  Status s = check_village(village);
  if (!s) return s;
  return run(now, [&](Txn& t) {
    auto h = t.household(id);
    if (!h) return household_not_held(id);
    if (h->village.value == village)
      return Status::invalid_argument("the household already lives in " + DivisionCode::format(village))
          .with_zh("该家庭已在 " + DivisionCode::format(village) + " 居住");
    uint64_t from = h->village.value;
    h->village = {village, t.stamp()};
    HistoryEntry e = t.history(id, "moved", {}, "moved from " + DivisionCode::format(from) + " to " + DivisionCode::format(village));
    t.apply_sync(HouseholdSync{*h, {}, {e}, {}}, self());
    return Status::ok();
  });
}

Result<CaseFile> Monitor::show_household(const HouseholdId& id) const { return query_case(*store_, id); }

Result<HouseholdId> Monitor::find_person(std::string_view id_number) const {
  // Numbers are stored with an upper-case check character (parse_id_number).
  std::string number(id_number);
  if (number.size() == kIdNumberLength && number.back() == 'x') number.back() = 'X';
  return query_person(*store_, number);
}

// ---------------------------------------------------------------------------
// Department events and scoring

Result<ImportReport> Monitor::import_events(std::string_view text, ImportFormat format, const Instant& now, bool dry_run) {
  Date today = shanghai_date(now.wall_us);
  auto parsed = parse_events(text, format, policy_, today);
  if (!parsed) return parsed.status();
  ImportReport report;
  bool rolled_back = false;
  Status s = run(now, [&](Txn& t) {
    report = ImportReport{};
    report.lines_read = parsed->lines_read;
    report.rejected = parsed->rejected;
    report.dry_run = dry_run;
    Status applied = apply_events(t, parsed->events, report);
    if (!applied || !dry_run) return applied;
    // A failed callback aborts the transaction: nothing written, staged or sent.
    rolled_back = true;
    return Status::invalid_argument("dry run: rolled back");
  });
  if (!s && !rolled_back) return s;
  folder_logger("node")->info("import{}: {} lines, {} applied, {} duplicates, {} not monitored, {} rejected, {} alerts issued, {} updated",
                              dry_run ? " (dry run, rolled back)" : "", report.lines_read, report.applied, report.duplicates,
                              report.not_monitored, report.rejected.size(), report.alerts_issued, report.alerts_updated);
  return report;
}

Status Monitor::apply_events(Txn& t, const std::vector<ParsedEvent>& events, ImportReport& report) {
  // Duplicates first, in file order: the first of a file's repeats applies.
  // The set holds views of the parsed events' (department, record id).
  using EventKey = std::pair<std::string_view, std::string_view>;
  struct EventKeyHash {
    size_t operator()(const EventKey& k) const {
      return std::hash<std::string_view>{}(k.first) * 31 + std::hash<std::string_view>{}(k.second);
    }
  };
  std::unordered_set<EventKey, EventKeyHash> in_file;
  in_file.reserve(events.size());
  // The fresh events with their ID numbers copied next to their index, so
  // that sorting them reads one small array instead of the events.
  struct ByPerson {
    std::array<char, kIdNumberLength> id_number;
    uint32_t index;
    bool operator<(const ByPerson& o) const {
      int c = std::memcmp(id_number.data(), o.id_number.data(), id_number.size());
      return c != 0 ? c < 0 : index < o.index;
    }
  };
  std::vector<ByPerson> fresh;
  fresh.reserve(events.size());
  for (uint32_t i = 0; i < events.size(); ++i) {
    const protocol::DeptEvent& e = events[i].event;
    if (!in_file.emplace(e.department, e.record_id).second || t.has_event(e)) {
      ++report.duplicates;
      continue;
    }
    LIFELINE_CHECK(e.id_number.size() == kIdNumberLength, "the parser passed an ID number of the wrong length");
    ByPerson& p = fresh.emplace_back();
    std::memcpy(p.id_number.data(), e.id_number.data(), kIdNumberLength);
    p.index = i;
  }
  // The persons are looked up in the order of their ID numbers, so that the
  // lookups walk the persons table once instead of jumping about it.
  std::sort(fresh.begin(), fresh.end());
  // (household, index in the file) pairs, sorted to group the events by
  // household in file order: sorting small pairs, not the events.
  std::vector<std::pair<HouseholdId, uint32_t>> found;
  found.reserve(fresh.size());
  for (const ByPerson& p : fresh) {
    auto h = t.person(std::string_view(p.id_number.data(), p.id_number.size()));
    if (!h) {
      ++report.not_monitored;
      continue;
    }
    found.emplace_back(*h, p.index);
    ++report.applied;
  }
  std::sort(found.begin(), found.end());
  for (size_t i = 0; i < found.size();) {
    const HouseholdId id = found[i].first;
    size_t end = i + 1;
    while (end < found.size() && found[end].first == id) ++end;
    std::vector<protocol::DeptEvent> evs;
    evs.reserve(end - i);
    for (; i < end; ++i) {
      protocol::DeptEvent& a = evs.emplace_back(events[found[i].second].event);
      a.imported_at = self();
      a.hlc = t.out.hlc();
    }
    // Only the household's id and village are read: its syncs carry no more.
    auto h = t.household_header(id);
    LIFELINE_CHECK(h.has_value(), "persons index names a household that is not held");
    score_household_events(t, *h, std::move(evs), report);
  }
  return Status::ok();
}

void Monitor::follow_up_uncovered(Txn& t, const Household& held, uint32_t generation,
                                  const std::vector<protocol::AlertIndicator>& uncovered) {
  bool open = false;
  std::vector<Alert> later;  // finished alerts of later generations
  for (Alert& a : t.alerts_of(held.id)) {
    open = open || alert_open(a);
    if (!alert_open(a) && a.generation > generation) later.push_back(std::move(a));
  }
  // Later alerts were visited and finished: only what none of them held is
  // still unseen (the cut-off side may have gone on to later generations
  // without ever hearing of these indicators).
  auto seen_later = [&](const protocol::AlertIndicator& i) {
    return std::any_of(later.begin(), later.end(), [&](const Alert& a) { return indicator_covered(a, i); });
  };
  if (!open && !later.empty() && std::all_of(uncovered.begin(), uncovered.end(), seen_later)) return;
  ImportReport report;
  score_household_events(t, held, {}, report);
  if (report.alerts_issued + report.alerts_updated > 0)
    folder_logger("node")->info("household {}: indicators not covered by the feedback of a finished alert; {}",
                                protocol::format_id('H', held.id), report.alerts_issued ? "next alert issued" : "open alert updated");
}

// Scores one household with its new events and issues or updates its alert.
// held: the household's id and village as held here (the rest not read).
void Monitor::score_household_events(Txn& t, const Household& held, std::vector<protocol::DeptEvent> events,
                                     ImportReport& report) {
  const HouseholdId& id = held.id;
  std::map<std::string, Date> latest;
  for (const auto& e : events) latest[e.indicator] = std::max(latest[e.indicator], e.event_date);
  for (const auto& e : t.events_of(id)) latest[e.indicator] = std::max(latest[e.indicator], e.event_date);
  Date today = t.today();
  ScoreResult sr = score_household(t.policy, latest, today);
  // Only the household's id and village travel (held is just those): its
  // fields did not change.
  HouseholdSync sync{held, {}, {}, std::move(events)};
  // The open alert of the highest generation and the highest generation,
  // from one scan of the household's alerts (as open_alert and
  // max_generation would find them).
  uint32_t max_generation = 0;
  std::vector<AlertId> alert_ids;
  t.txn.scan(Table::kHouseholdAlerts, keys::id(id), [&](std::string_view k, std::string_view v) {
    if (k.size() == 20) max_generation = std::max(max_generation, keys::get_be32(k.data() + 16));
    if (v.size() == 16) alert_ids.push_back(keys::parse_id(v));
    return true;
  });
  std::optional<Alert> open;
  for (const AlertId& aid : alert_ids) {
    std::optional<Alert> al = t.alert(aid);
    if (al && alert_open(*al) && (!open || al->generation > open->generation)) open = std::move(al);
  }
  // The events were checked unseen (apply_events); history ids are new.
  Txn::Known known{&held, true, false, true};
  if (sr.score == 0 && !open) {
    t.apply_sync(sync, self(), known);
    return;
  }
  Alert a;
  if (open) {
    a = *open;
  } else {
    a.id = t.next_id('A');
    a.household = id;
    a.generation = max_generation + 1;
    a.issued_date = today;
    a.issued_hlc = t.out.hlc();
    a.level = 5;
  }
  for (const std::string& code : sr.counted) {
    const Indicator* ind = t.policy.indicator(code);
    auto it = std::find_if(a.indicators.begin(), a.indicators.end(), [&](auto& i) { return i.code == code; });
    if (it == a.indicators.end()) {
      a.indicators.push_back({code, ind->points, latest[code]});
    } else {
      it->event_date = std::max(it->event_date, latest[code]);
    }
  }
  std::sort(a.indicators.begin(), a.indicators.end(), [](auto& x, auto& y) { return x.code < y.code; });
  a.score = 0;
  for (auto& i : a.indicators) a.score += i.points;
  const LevelRule* rule = t.policy.level_for(a.score);
  uint32_t level = rule ? rule->level : 5;
  // The deadline only shortens: a level that rose brings a nearer deadline.
  if (!open || level < a.level) {
    Date due = deadline(t.policy, level, today);
    a.due_date = a.due_date == 0 ? due : std::min(a.due_date, due);
    a.level = std::min(a.level, level);
  }
  if (open && a == *open) {
    t.apply_sync(sync, self(), known);
    return;
  }
  std::string what = (open ? "level " : "issued level ") + std::to_string(a.level) + ", score " + std::to_string(a.score) +
                     ", due " + format_date(a.due_date);
  sync.history.push_back(t.history(id, open ? "alert_updated" : "alert_issued", a.id, what));
  sync.alerts.push_back(a);
  ++(open ? report.alerts_updated : report.alerts_issued);
  known.new_alerts = !open;
  t.apply_sync(sync, self(), known);
}

// ---------------------------------------------------------------------------
// Alerts

Status Monitor::change_alert(const AlertId& id, const Instant& now, const std::function<Status(Txn&, Alert&, HistoryEntry&)>& fn) {
  return run(now, [&](Txn& t) {
    auto a = t.alert(id);
    if (!a)
      return Status::not_found("alert " + protocol::format_id('A', id) + " is not held here")
          .with_zh("本节点没有预警 " + protocol::format_id('A', id) + " 的数据");
    auto h = t.household(a->household);
    if (!h) return household_not_held(a->household);
    HistoryEntry e = t.history(a->household, "", a->id, "");
    Status s = fn(t, *a, e);
    if (!s) return s;
    t.apply_sync(HouseholdSync{*h, {*a}, {e}, {}}, self());
    return Status::ok();
  });
}

Status Monitor::accept_alert(const AlertId& id, const std::string& by, const Instant& now) {
  if (by.empty() || by.size() > 64)
    return Status::invalid_argument("--by names the operator (1..64 bytes)").with_zh("应注明受理人（1 到 64 字节）");
  if (Status s = refuse_id_number_in(by, "by", "受理人"); !s) return s;
  return change_alert(id, now, [&](Txn&, Alert& a, HistoryEntry& e) {
    if (a.state >= AlertState::kAccepted) return already_in_state(a);
    a.state = AlertState::kAccepted;
    a.accepted_at_us = now.wall_us;
    a.accepted_by = by;
    e.kind = "accepted";
    e.text = "accepted by " + by;
    return Status::ok();
  });
}

Status Monitor::record_feedback(const protocol::Feedback& fb, const Instant& now) {
  bool station = self_.level() == topology::Level::township || self_.level() == topology::Level::village;
  Status s = check_feedback(fb, shanghai_date(now.wall_us));
  if (!s) return s;
  return change_alert(fb.alert, now, [&](Txn& t, Alert& a, HistoryEntry& e) {
    // Feedback is recorded at a township or village station, or at the
    // household's home node when no node runs below it for that village.
    auto h = t.household(a.household);
    auto village = h ? topology::DivisionCode::from_number(h->village.value) : Result<DivisionCode>(Status::not_found(""));
    bool home = village && core_->neighbourhood().route(*village).kind == topology::Route::Kind::kLocal;
    if (!station && !home)
      return Status::refused("verification feedback is recorded at a township or village node, or at the household's home node")
          .with_zh("核查反馈应在乡镇（街道）或村（社区）节点录入，或在该家庭所属的节点录入");
    if (!alert_open(a)) return already_in_state(a);
    a.state = AlertState::kVerified;
    a.verified_at_us = now.wall_us;
    e.kind = "feedback";
    e.text = "verified: " + fb.decision;
    e.has_feedback = true;
    e.feedback = fb;
    e.feedback.alert = a.id;
    return Status::ok();
  });
}

Status Monitor::check_feedback(const protocol::Feedback& fb, Date today) const {
  static const std::set<std::string> methods = {"home_visit", "phone"};
  static const std::set<std::string> needs = {"basic_living", "rehabilitation", "care", "nursing",
                                              "psychological", "health", "financial_aid"};
  static const std::set<std::string> decisions = {"include_minimum_living", "include_destitute", "include_single_person",
                                                  "temporary_assistance", "referral", "none_needed", "keep_monitoring"};
  static const std::set<std::string> referrals = {"medical", "education", "housing", "employment"};
  auto bad = [](const char* field, const std::string& en, const std::string& zh) {
    return Status::invalid_argument(std::string("field '") + field + "': " + en).with_zh(std::string("字段 ") + field + "：" + zh);
  };
  if (fb.visit_date == 0 || fb.visit_date > today)
    return bad("visit_date", "must be a date not after today", "走访日期应为不晚于今天的日期");
  if (!methods.count(fb.method)) return bad("method", "must be home_visit or phone", "核查方式应为 home_visit（入户）或 phone（电话）");
  if (fb.visitor.empty() || fb.visitor.size() > 64) return bad("visitor", "must be 1..64 bytes", "核查人不能为空，且不超过 64 字节");
  if (fb.findings.size() > 2000) return bad("findings", "must be at most 2000 bytes", "核查情况不超过 2000 字节");
  if (Status s = refuse_id_number_in(fb.visitor, "visitor", "核查人"); !s) return s;
  if (Status s = refuse_id_number_in(fb.findings, "findings", "核查情况"); !s) return s;
  for (auto& n : fb.needs) {
    if (!needs.count(n))
      return bad("needs", "unknown need '" + n + "'",
                 "未知的需求 '" + n + "'（应为 basic_living、rehabilitation、care、nursing、psychological、health 或 financial_aid）");
  }
  if (!decisions.count(fb.decision))
    return bad("decision", "unknown decision '" + fb.decision + "'",
               "未知的处理意见 '" + fb.decision +
                   "'（应为 include_minimum_living、include_destitute、include_single_person、temporary_assistance、referral、"
                   "none_needed 或 keep_monitoring）");
  if ((fb.decision == "referral") != !fb.referral.empty() || (!fb.referral.empty() && !referrals.count(fb.referral)))
    return bad("referral", "a referral decision names one of medical, education, housing, employment (and only then)",
               "处理意见为 referral（转介）时须注明 medical、education、housing 或 employment 之一，其他意见不填");
  return Status::ok();
}

Status Monitor::escalate_alert(const AlertId& id, const std::string& by, const std::string& note, const Instant& now) {
  if (self_.level() > topology::Level::county)
    return Status::refused("alerts are escalated at a county node or above").with_zh("督办应在县（区）及以上节点发起");
  if (by.empty() || by.size() > 64)
    return Status::invalid_argument("the escalation names who escalates (1..64 bytes)").with_zh("应注明督办人（1 到 64 字节）");
  if (note.empty() || note.size() > kMaxEscalationNoteBytes) {
    const std::string limit = std::to_string(kMaxEscalationNoteBytes);
    return Status::invalid_argument("field 'note': must be 1.." + limit + " bytes")
        .with_zh("字段 note：督办意见不能为空，且不超过 " + limit + " 字节");
  }
  if (Status s = refuse_id_number_in(by, "by", "督办人"); !s) return s;
  if (Status s = refuse_id_number_in(note, "note", "督办意见"); !s) return s;
  return change_alert(id, now, [&](Txn&, Alert& a, HistoryEntry& e) {
    if (!alert_open(a)) return already_in_state(a);
    a.escalated_at_us = now.wall_us;
    e.kind = "escalated";
    e.text = "escalated at " + self_.to_string() + " by " + by + ": " + note;
    return Status::ok();
  });
}

Status Monitor::close_alert(const AlertId& id, const Instant& now) {
  if (self_.level() > topology::Level::county)
    return Status::refused("alerts are closed at a county node or above").with_zh("预警应在县（区）及以上节点办结");
  return change_alert(id, now, [&](Txn&, Alert& a, HistoryEntry& e) {
    if (a.state != AlertState::kVerified)
      return Status::invalid_argument("only a verified alert can be closed").with_zh("只有已核查的预警才能办结");
    a.state = AlertState::kClosed;
    a.closed_at_us = now.wall_us;
    e.kind = "closed";
    e.text = "closed at " + self_.to_string();
    return Status::ok();
  });
}

// The API's paged query (query_alerts), page after page up to the limit:
// one filter for both. Open, overdue and not-yet-verified alerts come in
// deadline order (the open-alert index), others in id order.
Result<std::vector<AlertView>> Monitor::list_alerts(const AlertFilter& f, const Instant& now) const {
  AlertQuery q = f;
  const Date today = shanghai_date(now.wall_us);
  std::vector<AlertView> out;
  while (out.size() < f.limit) {
    q.limit = f.limit - out.size();
    auto page = query_alerts(*store_, q, today);
    if (!page) return page.status();
    for (AlertView& a : page->alerts) out.push_back(std::move(a));
    if (page->next.empty()) break;
    auto after = decode_cursor(page->next);
    if (!after) return after.status();
    q.after = std::move(*after);
  }
  return out;
}

Date Monitor::deadline(const Policy& policy, uint32_t level, Date issued) {
  const Date due = due_date(policy, level, issued);
  if (due == 0 || policy.calendar.covers(issued, due)) return due;
  for (int year = static_cast<int>(issued / 10'000); year <= static_cast<int>(due / 10'000); ++year) {
    if (policy.calendar.years().contains(year) || !calendar_gaps_logged_.insert(year).second) continue;
    folder_logger("node")->warn(
        "the working-day calendar of policy version {} has no notice for {}: deadlines there skip weekends only, not "
        "holidays; set a policy whose calendar holds the State Council's notice for {}",
        policy.version, year, year);
  }
  return due;
}

}  // namespace lifeline::node
