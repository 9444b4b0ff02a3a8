#include "node/runtime/monitor_commands.h"

#include <map>
#include <set>

#include "node/core/alert_merge.h"
#include "node/core/household_json.h"
#include "node/core/id_number.h"
#include "topology/logging.h"
#include "topology/utf8.h"

namespace lifeline::runtime {

using nlohmann::json;
using protocol::format_id;
using topology::DivisionCode;

namespace {

// "error_zh": the cause in Chinese, where the refusing code wrote one.
json error_json(const Status& s) {
  json out{{"ok", false}, {"error", s.to_string()}};
  if (!s.message_zh().empty()) out["error_zh"] = s.message_zh();
  return out;
}
json ok_json(json body = json::object()) {
  body["ok"] = true;
  return body;
}

std::string str(const json& req, const char* key) {
  auto it = req.find(key);
  return it != req.end() && it->is_string() ? it->get<std::string>() : "";
}

Result<uint64_t> code_field(const json& req, const char* key) {
  auto c = DivisionCode::parse(str(req, key));
  if (!c) return Status::invalid_argument(std::string(key) + ": " + c.status().message());
  return c->number();
}

Result<protocol::RecordId> id_field(const json& req, const char* key, char prefix) {
  protocol::RecordId id;
  if (!protocol::parse_id(str(req, key), prefix, id))
    return Status::invalid_argument(std::string(key) + ": '" + str(req, key) + "' is not an id like " + prefix + "-441303001001-1");
  return id;
}

json history_json(const protocol::HistoryEntry& e) {
  json j{{"id", format_id('E', e.id)}, {"kind", e.kind}, {"hlc_ms", e.hlc >> 16}, {"text", e.text}};
  if (e.alert.valid()) j["alert"] = format_id('A', e.alert);
  if (e.has_feedback) {
    const auto& f = e.feedback;
    j["feedback"] = json{{"visit_date", node::format_date(f.visit_date)}, {"method", f.method}, {"visitor", f.visitor},
                         {"truthful", f.truthful}, {"findings", f.findings}, {"needs", f.needs},
                         {"decision", f.decision}, {"referral", f.referral}};
  }
  return j;
}

json member_json(const protocol::Member& m, bool whole) {
  auto id = node::parse_id_number(m.id_number);
  json j{{"id_number", whole ? m.id_number : node::mask_id_number(m.id_number)},
         {"name", whole ? m.name : node::mask_name(m.name)},
         {"relation", m.relation},
         {"disability_grade", m.disability_grade},
         {"disability_kind", m.disability_kind},
         {"major_illness", m.major_illness},
         {"single_person_coverage", m.single_person_coverage}};
  if (id) {
    j["sex"] = id->male ? "male" : "female";
    j["birth_date"] = node::format_date(id->birth_date);
  }
  return j;
}

json cmd_import(node::Monitor& mon, const json& req, const node::Instant& now) {
  std::string text = str(req, "text");
  std::string format = str(req, "format");
  node::ImportFormat f = format == "jsonl" ? node::ImportFormat::kJsonLines
                         : format == "csv" ? node::ImportFormat::kCsv
                                           : node::detect_format(str(req, "file_name"), text);
  auto r = mon.import_events(text, f, now, req.value("dry_run", false));
  return r ? ok_json(import_report_json(*r)) : error_json(r.status());
}

json cmd_alerts(node::Monitor& mon, const json& req, const node::Instant& now) {
  node::AlertFilter f;
  if (req.contains("level")) {
    if (!req["level"].is_number_unsigned() || req["level"] < 1 || req["level"] > 5) return error_json(Status::invalid_argument("level must be 1..5"));
    f.level = req["level"].get<uint32_t>();
  }
  if (req.contains("state")) {
    f.state = node::parse_alert_state(str(req, "state"));
    if (f.state == 0) return error_json(Status::invalid_argument("state must be issued, delivered, accepted, verified or closed"));
  }
  f.overdue_only = req.value("overdue", false);
  f.escalated_only = req.value("escalated", false);
  f.open_only = req.value("open", false);
  if (req.contains("limit") && req["limit"].is_number_unsigned()) f.limit = req["limit"].get<size_t>();
  auto r = mon.list_alerts(f, now);
  if (!r) return error_json(r.status());
  json list = json::array();
  for (const auto& v : *r) list.push_back(alert_json(v, mon.policy()));
  return ok_json(json{{"alerts", list}, {"count", list.size()}});
}

json cmd_feedback(node::Monitor& mon, const json& req, const node::Instant& now) {
  auto id = id_field(req, "alert", 'A');
  if (!id) return error_json(id.status());
  protocol::Feedback f;
  f.alert = *id;
  auto d = node::parse_date(str(req, "visit_date"));
  if (!d) return error_json(Status::invalid_argument("visit_date must be YYYY-MM-DD"));
  f.visit_date = *d;
  f.method = str(req, "method");
  f.visitor = str(req, "visitor");
  if (!req.contains("truthful") || !req["truthful"].is_boolean()) return error_json(Status::invalid_argument("truthful must be true or false"));
  f.truthful = req["truthful"].get<bool>();
  f.findings = str(req, "findings");
  if (req.contains("needs")) {
    if (!req["needs"].is_array()) return error_json(Status::invalid_argument("needs must be a list"));
    for (auto& n : req["needs"]) f.needs.push_back(n.is_string() ? n.get<std::string>() : "?");
  }
  f.decision = str(req, "decision");
  f.referral = str(req, "referral");
  Status s = mon.record_feedback(f, now);
  return s ? ok_json(json{{"alert", format_id('A', *id)}, {"state", "verified"}}) : error_json(s);
}

json cmd_household(node::Monitor& mon, const json& req, const node::Instant& now) {
  std::string action = str(req, "action");
  if (action == "add") {
    auto h = node::household_from_json(req.value("household", json()));
    if (!h) return error_json(h.status());
    auto id = mon.add_household(*h, now);
    return id ? ok_json(json{{"household", format_id('H', *id)}}) : error_json(id.status());
  }
  if (action == "import") {
    auto r = mon.import_households(str(req, "text"), now);
    if (!r) return error_json(r.status());
    json rejected = json::array();
    for (const auto& l : r->rejected) rejected.push_back(json{{"line", l.line}, {"reason", l.reason}, {"reason_en", l.reason_en}});
    return ok_json(json{{"lines_read", r->lines_read}, {"registered", r->registered}, {"rejected", rejected}});
  }
  if (action == "show") {
    protocol::HouseholdId id;
    if (!str(req, "id_number").empty()) {
      auto found = mon.find_person(str(req, "id_number"));
      if (!found) return error_json(found.status());
      id = *found;
    } else {
      auto parsed = id_field(req, "household", 'H');
      if (!parsed) return error_json(parsed.status());
      id = *parsed;
    }
    auto cf = mon.show_household(id);
    if (!cf) return error_json(cf.status());
    // A full view of personal data goes into the audit log, as the API's
    // case page does (without the data itself), under the OS user who ran
    // the command; without the entry nothing is shown.
    const std::string user = topology::clean_text(str(req, "os_user").empty() ? "unknown" : str(req, "os_user"), 64);
    auto audited = mon.append_audit(json{{"account", "cli:" + user},
                                         {"role", "cli"},
                                         {"address", "local"},
                                         {"action", "case_viewed"},
                                         {"target", format_id('H', id)},
                                         {"outcome", "ok"},
                                         {"detail", str(req, "id_number").empty() ? "full personal data shown (command line)"
                                                                                  : "found by ID number; full personal data shown (command line)"}},
                                    now);
    if (!audited)
      return error_json(Status::unavailable("the audit entry could not be written; nothing shown: " + audited.status().message())
                            .with_zh("审计日志写入失败，未显示个人信息"));
    return ok_json(case_json(*cf, mon.policy(), node::shanghai_date(now.wall_us)));
  }
  if (action == "move") {
    auto id = id_field(req, "household", 'H');
    if (!id) return error_json(id.status());
    auto v = code_field(req, "to");
    if (!v) return error_json(v.status());
    Status s = mon.move_household(*id, *v, now);
    return s ? ok_json(json{{"household", format_id('H', *id)}, {"village", DivisionCode::format(*v)}}) : error_json(s);
  }
  if (action == "conflicts") {
    node::ConflictQuery q;
    if (!str(req, "within").empty()) {
      auto w = code_field(req, "within");
      if (!w) return error_json(w.status());
      auto self = DivisionCode::from_number(mon.self());
      if (!self || !self->contains(DivisionCode::or_invalid(*w)))
        return error_json(Status::refused(DivisionCode::format(*w) + " is outside this node's jurisdiction (" +
                                          DivisionCode::format(mon.self()) + ")")
                              .with_zh(DivisionCode::format(*w) + " 不在本节点（" + DivisionCode::format(mon.self()) + "）管辖范围内"));
      q.within = *w;
    }
    q.limit = 500;
    if (!str(req, "cursor").empty()) {
      auto after = node::decode_cursor(str(req, "cursor"));
      if (!after) return error_json(after.status());
      q.after = *after;
    }
    auto page = node::query_conflicts(mon.store(), q);
    return page ? ok_json(conflicts_json(*page)) : error_json(page.status());
  }
  return error_json(Status::invalid_argument("household action must be add, import, show, move or conflicts"));
}

json cmd_apply(node::Monitor& mon, const json& req, const node::Instant& now) {
  std::string action = str(req, "action");
  if (action == "list") {
    auto r = mon.applications();
    return r ? ok_json(json{{"applications", *r}}) : error_json(r.status());
  }
  if (action == "decide") {
    Status s = mon.decide_application(str(req, "id"), str(req, "status"), str(req, "note"), now);
    return s ? ok_json(json{{"id", str(req, "id")}, {"status", str(req, "status")}}) : error_json(s);
  }
  auto id = mon.submit_application(req.value("application", json()), now);
  return id ? ok_json(json{{"id", *id}, {"status", "transferred"}}) : error_json(id.status());
}

json cmd_policy(node::Monitor& mon, const json& req, const node::Instant& now) {
  std::string action = str(req, "action");
  if (action == "show") {
    return ok_json(json{{"policy", json::parse(node::policy_to_json(mon.policy()))},
                        {"standards_set", mon.standards_json()}});
  }
  Status s = action == "set"             ? mon.set_policy(str(req, "text"), now)
             : action == "set_standards" ? mon.set_standards(str(req, "text"), now)
                                         : Status::invalid_argument("policy action must be show, set or set_standards");
  return s ? ok_json(json{{"policy_version", mon.policy().version}}) : error_json(s);
}

}  // namespace

bool is_monitor_command(const std::string& cmd) {
  static const std::set<std::string> k = {"import", "alerts", "accept", "feedback", "close", "escalate", "household",
                                          "apply", "aggregates", "policy"};
  return k.count(cmd) != 0;
}

json answer_monitor(node::Monitor& mon, const json& req, const node::Instant& now) {
  std::string cmd = str(req, "cmd");
  if (cmd == "import") return cmd_import(mon, req, now);
  if (cmd == "alerts") return cmd_alerts(mon, req, now);
  if (cmd == "feedback") return cmd_feedback(mon, req, now);
  if (cmd == "household") return cmd_household(mon, req, now);
  if (cmd == "apply") return cmd_apply(mon, req, now);
  if (cmd == "policy") return cmd_policy(mon, req, now);
  if (cmd == "aggregates") {
    auto r = mon.aggregates(now);
    return r ? ok_json(*r) : error_json(r.status());
  }
  if (cmd == "accept" || cmd == "close") {
    auto id = id_field(req, "alert", 'A');
    if (!id) return error_json(id.status());
    Status s = cmd == "accept" ? mon.accept_alert(*id, str(req, "by"), now) : mon.close_alert(*id, now);
    return s ? ok_json(json{{"alert", format_id('A', *id)}, {"state", cmd == "accept" ? "accepted" : "closed"}}) : error_json(s);
  }
  if (cmd == "escalate") {
    auto id = id_field(req, "alert", 'A');
    if (!id) return error_json(id.status());
    Status s = mon.escalate_alert(*id, str(req, "by"), str(req, "note"), now);
    return s ? ok_json(json{{"alert", format_id('A', *id)}, {"escalated", true}}) : error_json(s);
  }
  return error_json(Status::invalid_argument("unknown command '" + cmd + "'"));
}

json alert_json(const node::AlertView& v, const node::Policy& policy) {
  const protocol::Alert& a = v.alert;
  const node::LevelRule* rule = policy.level(a.level);
  json inds = json::array();
  for (const auto& i : a.indicators)
    inds.push_back(json{{"code", i.code}, {"points", i.points}, {"event_date", node::format_date(i.event_date)}});
  json aliases = json::array();
  for (const auto& al : a.aliases) aliases.push_back(format_id('A', al));
  return json{{"id", format_id('A', a.id)},
              {"household", format_id('H', a.household)},
              {"village", DivisionCode::format(v.village)},
              {"generation", a.generation},
              {"score", a.score},
              {"level", a.level},
              {"colour", rule ? rule->colour : ""},
              {"level_name", rule ? rule->name_zh : ""},
              {"action", rule ? rule->action : ""},
              {"indicators", inds},
              {"state", node::alert_state_name(a.state)},
              {"issued_date", node::format_date(a.issued_date)},
              {"due_date", node::format_date(a.due_date)},
              {"deadline", node::format_date(a.due_date) + "T23:59:59+08:00"},
              {"overdue", v.overdue},
              {"accepted_by", a.accepted_by},
              {"issued_at_ms", a.issued_hlc >> 16},
              {"delivered_at_us", a.delivered_at_us},
              {"accepted_at_us", a.accepted_at_us},
              {"verified_at_us", a.verified_at_us},
              {"closed_at_us", a.closed_at_us},
              {"escalated_at_us", a.escalated_at_us},
              {"aliases", aliases}};
}

namespace {

// A JSON string as nlohmann's dump writes it (UTF-8 kept, control
// characters escaped); other input goes through nlohmann itself.
void append_string(std::string& out, std::string_view s) {
  if (!topology::valid_utf8(s)) {
    out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  out.push_back('"');
  // Runs of characters that need no escape are appended whole.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && ch != '"' && ch != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void key(std::string& out, const char* k, bool first = false) {
  if (!first) out.push_back(',');
  out.push_back('"');
  out += k;
  out += "\":";
}

}  // namespace

// Keys in nlohmann's (sorted) order, values as alert_json writes them.
void append_alert_json(std::string& out, const node::AlertView& v, const node::Policy& policy) {
  const protocol::Alert& a = v.alert;
  const node::LevelRule* rule = policy.level(a.level);
  out.push_back('{');
  key(out, "accepted_at_us", true);
  out += std::to_string(a.accepted_at_us);
  key(out, "accepted_by");
  append_string(out, a.accepted_by);
  key(out, "action");
  append_string(out, rule ? rule->action : "");
  key(out, "aliases");
  out.push_back('[');
  for (size_t i = 0; i < a.aliases.size(); ++i) {
    if (i) out.push_back(',');
    append_string(out, format_id('A', a.aliases[i]));
  }
  out.push_back(']');
  key(out, "closed_at_us");
  out += std::to_string(a.closed_at_us);
  key(out, "colour");
  append_string(out, rule ? rule->colour : "");
  key(out, "deadline");
  append_string(out, node::format_date(a.due_date) + "T23:59:59+08:00");
  key(out, "delivered_at_us");
  out += std::to_string(a.delivered_at_us);
  key(out, "due_date");
  append_string(out, node::format_date(a.due_date));
  key(out, "escalated_at_us");
  out += std::to_string(a.escalated_at_us);
  key(out, "generation");
  out += std::to_string(a.generation);
  key(out, "household");
  append_string(out, format_id('H', a.household));
  key(out, "id");
  append_string(out, format_id('A', a.id));
  key(out, "indicators");
  out.push_back('[');
  for (size_t i = 0; i < a.indicators.size(); ++i) {
    const auto& ind = a.indicators[i];
    out += i ? ",{" : "{";
    key(out, "code", true);
    append_string(out, ind.code);
    key(out, "event_date");
    append_string(out, node::format_date(ind.event_date));
    key(out, "points");
    out += std::to_string(ind.points);
    out.push_back('}');
  }
  out.push_back(']');
  key(out, "issued_at_ms");
  out += std::to_string(a.issued_hlc >> 16);
  key(out, "issued_date");
  append_string(out, node::format_date(a.issued_date));
  key(out, "level");
  out += std::to_string(a.level);
  key(out, "level_name");
  append_string(out, rule ? rule->name_zh : "");
  key(out, "overdue");
  out += v.overdue ? "true" : "false";
  key(out, "score");
  out += std::to_string(a.score);
  key(out, "state");
  append_string(out, node::alert_state_name(a.state));
  key(out, "verified_at_us");
  out += std::to_string(a.verified_at_us);
  key(out, "village");
  append_string(out, DivisionCode::format(v.village));
  out.push_back('}');
}

json case_json(const node::CaseFile& cf, const node::Policy& policy, node::Date today) {
  const protocol::Household& h = cf.household;
  if (cf.moved_to != 0)
    return json{{"household", format_id('H', h.id)}, {"moved_to", DivisionCode::format(cf.moved_to)},
                {"message", "搬迁至 " + DivisionCode::format(cf.moved_to) + "，本节点仅保留迁移记录"},
                {"message_en", "moved to " + DivisionCode::format(cf.moved_to) + "; only a tombstone is held here"}};
  json members = json::array();
  for (const auto& m : h.members.value) members.push_back(member_json(m, true));
  json alerts = json::array();
  for (const auto& a : cf.alerts) {
    alerts.push_back(alert_json(node::AlertView{a, h.village.value, node::alert_overdue(a, today)}, policy));
  }
  json history = json::array();
  for (const auto& e : cf.history) history.push_back(history_json(e));
  json events = json::array();
  for (const auto& e : cf.events)
    events.push_back(json{{"department", e.department}, {"record_id", e.record_id},
                          {"id_number", node::mask_id_number(e.id_number)}, {"indicator", e.indicator},
                          {"event_date", node::format_date(e.event_date)}, {"imported_at", DivisionCode::format(e.imported_at)}});
  json also = json::array();
  for (const auto& [id_number, other] : cf.also_registered)
    also.push_back(json{{"id_number", node::mask_id_number(id_number)}, {"household", format_id('H', other)},
                        {"message", "该成员同时登记在家庭 " + format_id('H', other) + "，请核实后从其中一户移除"},
                        {"message_en", "this member is also registered in household " + format_id('H', other) +
                                           "; verify and remove them from one of the two"}});
  return json{{"household", format_id('H', h.id)}, {"village", DivisionCode::format(h.village.value)},
              {"category", h.category.value}, {"income_yuan", h.income_fen.value / 100.0},
              {"phone", h.phone.value}, {"address", h.address.value}, {"source", h.source.value},
              {"members", members}, {"alerts", alerts}, {"history", history}, {"events", events},
              {"also_registered", also}};
}

json conflicts_json(const node::ConflictPage& page) {
  auto code = [](uint64_t c) { return c == 0 ? json() : json(DivisionCode::format(c)); };
  json list = json::array();
  for (const auto& c : page.conflicts) {
    list.push_back(json{{"id_number", node::mask_id_number(c.id_number)}, {"name", node::mask_name(c.name)},
                        {"household", format_id('H', c.household)}, {"village", code(c.village)},
                        {"also_in", format_id('H', c.also_in)}, {"also_in_village", code(c.also_in_village)},
                        {"message", "该人员同时登记在两户家庭，请核实后从其中一户移除"},
                        {"message_en", "this person is registered in two households; verify and remove them from one"}});
  }
  json out{{"conflicts", list}, {"count", list.size()}};
  out["next"] = page.next.empty() ? json() : json(page.next);
  return out;
}

json import_report_json(const node::ImportReport& r) {
  json rejected = json::array();
  for (const auto& l : r.rejected)
    rejected.push_back(json{{"line", l.line}, {"reason_code", l.reason_code}, {"reason", l.reason}, {"reason_en", l.reason_en}});
  return json{{"lines_read", r.lines_read}, {"applied", r.applied}, {"duplicates", r.duplicates},
              {"not_monitored", r.not_monitored}, {"rejected", rejected}, {"alerts_issued", r.alerts_issued},
              {"alerts_updated", r.alerts_updated}, {"dry_run", r.dry_run}};
}

}  // namespace lifeline::runtime
