// Households (list, case page, register, update, move), person lookup,
// department-event imports and cross-location applications (web/API.md).
#include "node/core/alert_merge.h"
#include "node/core/civil_date.h"
#include "node/core/household_json.h"
#include "node/core/id_number.h"
#include "node/core/monitor_queries.h"
#include "node/runtime/monitor_commands.h"
#include "node/runtime/node.h"
#include "node/runtime/system_clock.h"
#include "web/api.h"

namespace lifeline::web {

using nlohmann::json;
using topology::DivisionCode;

namespace {

protocol::HouseholdId household_id(const httplib::Request& req) {
  protocol::HouseholdId id;
  if (!protocol::parse_id(path_arg(req), 'H', id))
    throw bad_field("id", "家庭编号格式错误", "'" + path_arg(req) + "' is not a household id like H-441303001001-1");
  return id;
}

// One household as lists show it: names and ID numbers masked.
json summary_json(const node::HouseholdSummary& s, node::Date day) {
  const protocol::Household& h = s.household;
  json head;
  for (const auto& m : h.members.value) {
    if (m.relation == "head") head = json{{"name", node::mask_name(m.name)}, {"id_number", node::mask_id_number(m.id_number)}};
  }
  json j{{"id", protocol::format_id('H', h.id)}, {"village", DivisionCode::format(h.village.value)},
         {"category", h.category.value}, {"members", h.members.value.size()}, {"head", head},
         {"source", h.source.value}, {"synthetic", h.source.value == "synthetic"}};
  if (s.open_alert) {
    const protocol::Alert& a = *s.open_alert;
    j["open_alert"] = json{{"id", protocol::format_id('A', a.id)}, {"level", a.level}, {"state", node::alert_state_name(a.state)},
                           {"due_date", node::format_date(a.due_date)}, {"overdue", node::alert_overdue(a, day)}};
  } else {
    j["open_alert"] = nullptr;
  }
  return j;
}

void list_households(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  node::HouseholdQuery q;
  q.within = api.list_scope(req, c);
  // The node holds only households of its own jurisdiction: listing all of
  // it reads the households table in order, not the village index.
  if (q.within == api.self().number()) q.within = 0;
  q.category = query(req, "category").value_or("");
  if (q.category.size() > 64) throw bad_field("category", "category 过长", "category too long");
  q.open_alert_only = flag(req, "open_alert");
  q.after = cursor_param(req, "cursor");
  q.limit = page_limit(req);
  FairGate::Slot slot(api.list_gate());  // the query and the page's text: CPU-bound
  auto page = node::query_households(api.store(), q);
  if (!page) throw from_status(page.status());
  json list = json::array();
  node::Date day = today_shanghai();
  for (const auto& s : page->households) list.push_back(summary_json(s, day));
  json body{{"households", list}, {"count", list.size()}};
  body["next"] = page->next.empty() ? json() : json(page->next);
  reply(res, 200, body);
}

// Persons registered in two households held here: masked, for a supervisor
// to resolve. Listed when either household's village lies in the scope.
void list_conflicts(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  node::ConflictQuery q;
  q.within = api.list_scope(req, c);
  q.after = cursor_param(req, "cursor");
  q.limit = page_limit(req);
  auto page = node::query_conflicts(api.store(), q);
  if (!page) throw from_status(page.status());
  reply(res, 200, runtime::conflicts_json(*page));
}

// The case page: personal data in full, so the view is audited before it is shown.
void show_household(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  auto id = household_id(req);
  auto cf = node::query_case(api.store(), id);
  if (!cf) throw from_status(cf.status());
  std::string target = protocol::format_id('H', id);
  if (cf->moved_to == 0) {
    api.check_jurisdiction(c, cf->household.village.value, target);
    api.audit(c, "case_viewed", target, "ok", "full personal data shown", true);
  }
  json body = runtime::case_json(*cf, *api.policy(), today_shanghai());
  if (cf->moved_to == 0) body["synthetic"] = cf->household.source.value == "synthetic";
  reply(res, 200, body);
}

// The ID number travels in the body, never in a URL (proxies log URLs).
void find_person(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  json body = json_body(req, api.options().web.max_json_bytes, {"id_number"});
  std::string number = need_string(body, "id_number", 18);
  auto parsed = node::parse_id_number(number);
  if (!parsed) throw bad_field("id_number", parsed.status().message_zh(), "id_number: " + parsed.status().message());
  auto id = node::query_person(api.store(), parsed->number);
  if (id) {
    auto cf = node::query_case(api.store(), *id);
    if (!cf) throw from_status(cf.status());
    if (cf->moved_to == 0) api.check_jurisdiction(c, cf->household.village.value, node::mask_id_number(parsed->number));
  }
  api.audit(c, "person_lookup", node::mask_id_number(parsed->number), id ? "found" : "not_found", "", false);
  if (!id) throw from_status(id.status());
  reply(res, 200, json{{"household", protocol::format_id('H', *id)}});
}

// The error for a refused registration or update. When a member is already
// in another household, the core's message names that household: it is
// shown only if its village lies in the caller's jurisdiction. Otherwise the
// answer (409) says only that the person is registered outside it, and the
// refusal is audited as a lookup, which POST /persons/lookup would have
// refused (403) for that household.
ApiError change_refusal(Api& api, const Caller& c, const Status& s, const std::string& what) {
  auto other = node::already_registered(s);
  if (!other) return from_status(s);
  auto cf = node::query_case(api.store(), other->household);
  if (cf && cf->moved_to == 0 && api.in_jurisdiction(c, cf->household.village.value)) return from_status(s);
  api.audit(c, "person_lookup", other->masked_id_number, "registered_elsewhere", what + " refused", false);
  const std::string& person = other->masked_id_number;
  return ApiError{409, "registered_elsewhere", "人员 " + person + " 已登记在本账号管辖范围以外的家庭中",
                  "person " + person + " is already registered in a household outside the account's jurisdiction (" +
                      DivisionCode::format(c.session.jurisdiction) + ")",
                  "members"};
}

void add_household(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  json body = json_body(req, api.options().web.max_json_bytes,
                        {"village", "category", "income_yuan", "phone", "address", "source", "members"});
  auto h = node::household_from_json(body);
  if (!h) throw from_status(h.status());
  api.check_jurisdiction(c, h->village, DivisionCode::format(h->village));
  auto id = api.change<Result<protocol::HouseholdId>>(
      c, [in = *h](runtime::LoopContext& ctx) { return ctx.parts.monitor->add_household(in, ctx.now); },
      [](const Result<protocol::HouseholdId>& r) -> std::optional<AuditNote> {
        if (!r) return std::nullopt;
        return AuditNote{"household_registered", protocol::format_id('H', *r), "ok", ""};
      });
  if (!id) throw change_refusal(api, c, id.status(), "household registration");
  reply(res, 201, json{{"household", protocol::format_id('H', *id)}});
}

node::HouseholdUpdate update_of(const json& body) {
  node::HouseholdUpdate u;
  u.category = opt_string(body, "category", 64);
  u.phone = opt_string(body, "phone", 32);
  u.address = opt_string(body, "address", 256);
  if (body.contains("income_yuan")) {
    const json& v = body["income_yuan"];
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1e7)
      throw bad_field("income_yuan", "income_yuan 必须是 0 到 10,000,000 之间的数", "income_yuan must be a number from 0 to 10,000,000");
    u.income_fen = static_cast<int64_t>(v.get<double>() * 100 + 0.5);
  }
  if (body.contains("members")) {
    if (!body["members"].is_array()) throw bad_field("members", "members 必须是列表", "members must be a list");
    std::vector<protocol::Member> members;
    for (const json& m : body["members"]) {
      auto mem = node::member_from_json(m);
      if (!mem) throw ApiError{400, "invalid_field", "成员信息无效：" + mem.status().message(), mem.status().message(), "members"};
      members.push_back(std::move(*mem));
    }
    u.members = std::move(members);
  }
  return u;
}

// Changes run on the loop after the household's village is checked here.
void household_change(Api& api, const Caller& c, const protocol::HouseholdId& id, const std::string& action,
                      std::function<Status(node::Monitor&, const node::Instant&)> fn, httplib::Response& res) {
  auto cf = node::query_case(api.store(), id);
  if (!cf) throw from_status(cf.status());
  if (cf->moved_to != 0) throw ApiError{409, "moved", "该家庭已迁出本辖区", "the household moved to " + DivisionCode::format(cf->moved_to), ""};
  api.check_jurisdiction(c, cf->household.village.value, protocol::format_id('H', id));
  const std::string target = protocol::format_id('H', id);
  Status s = api.change<Status>(
      c, [fn](runtime::LoopContext& ctx) { return fn(*ctx.parts.monitor, ctx.now); },
      [action, target](const Status& r) -> std::optional<AuditNote> {
        if (!r) return std::nullopt;
        return AuditNote{action, target, "ok", ""};
      });
  if (!s) throw change_refusal(api, c, s, action == "household_updated" ? "household update" : "household move");
  reply(res, 200, json{{"household", protocol::format_id('H', id)}, {"updated", true}});
}

void import_events(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  // An import scores every household the node holds: only accounts over the
  // node's whole jurisdiction may run one.
  if (c.session.jurisdiction != api.self().number())
    throw forbidden("导入部门数据需要本节点全辖区的账号", "imports need an account over the node's whole jurisdiction");
  std::string text, file_name;
  if (req.is_multipart_form_data()) {
    if (!req.has_file("file")) throw ApiError{400, "missing_field", "缺少上传文件 file", "multipart field 'file' is required", "file"};
    auto f = req.get_file_value("file");
    text = f.content;
    file_name = f.filename;
  } else {
    text = req.body;
    file_name = query(req, "file_name").value_or("");
  }
  if (text.empty()) throw ApiError{400, "empty_file", "导入文件为空", "the import file is empty", "file"};
  auto fmt = query(req, "format").value_or("");
  if (!fmt.empty() && fmt != "csv" && fmt != "jsonl") throw bad_field("format", "format 必须是 csv 或 jsonl", "format must be csv or jsonl");
  node::ImportFormat f = fmt == "jsonl" ? node::ImportFormat::kJsonLines
                         : fmt == "csv" ? node::ImportFormat::kCsv
                                        : node::detect_format(file_name, text);
  const bool dry_run = flag(req, "dry_run");
  auto report = api.change<Result<node::ImportReport>>(
      c,
      [text = std::move(text), f, dry_run](runtime::LoopContext& ctx) {
        return ctx.parts.monitor->import_events(text, f, ctx.now, dry_run);
      },
      [file_name, dry_run](const Result<node::ImportReport>& r) -> std::optional<AuditNote> {
        if (!r) return std::nullopt;
        return AuditNote{dry_run ? "events_import_checked" : "events_imported", file_name, "ok",
                         std::to_string(r->lines_read) + " lines, " + std::to_string(r->applied) +
                             (dry_run ? " would apply (dry run, rolled back)" : " applied")};
      });
  if (!report) throw from_status(report.status());
  reply(res, 200, runtime::import_report_json(*report));
}

void submit_application(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  json body = json_body(req, api.options().web.max_json_bytes, {"village", "name", "id_number", "phone", "reason", "needs"});
  (void)need_string(body, "village", 12);
  (void)need_string(body, "name", 64);
  (void)need_string(body, "id_number", 18);
  (void)opt_string(body, "phone", 32);
  (void)opt_string(body, "reason", 2000);
  if (body.contains("needs")) {
    const json& n = body["needs"];
    bool ok = n.is_array() && n.size() <= 32;
    for (const json& e : n) ok = ok && e.is_string() && !e.get<std::string>().empty() && e.get<std::string>().size() <= 64;
    if (!ok) throw bad_field("needs", "needs 必须是字符串列表", "needs must be a list of at most 32 strings of 1..64 bytes");
  }
  auto id = api.change<Result<std::string>>(
      c,
      [body, scope = c.session.jurisdiction](runtime::LoopContext& ctx) {
        return ctx.parts.monitor->submit_application(body, ctx.now, scope);
      },
      [](const Result<std::string>& r) -> std::optional<AuditNote> {
        if (!r) return std::nullopt;
        return AuditNote{"application_taken", *r, "ok", ""};
      });
  if (!id) throw from_status(id.status());
  reply(res, 201, json{{"id", *id}, {"status", "transferred"}});
}

// An application concerns the caller when its home village, the node that
// took it or the division of the account that took it lies in the caller's
// jurisdiction.
bool concerns(const Caller& c, const json& app) {
  auto scope = DivisionCode::from_number(c.session.jurisdiction);
  for (const char* k : {"village", "taken_at", "taken_for"}) {
    auto code = app.contains(k) && app[k].is_string() ? DivisionCode::parse(app[k].get<std::string>()) : Result<DivisionCode>(Status::not_found(""));
    if (scope && code && scope->contains(*code)) return true;
  }
  return false;
}

void list_applications(Api& api, httplib::Response& res, const Caller& c) {
  auto apps = api.on_loop<Result<json>>([](runtime::LoopContext& ctx) { return ctx.parts.monitor->applications(); });
  if (!apps) throw from_status(apps.status());
  json list = json::array();
  for (json a : *apps) {
    if (!concerns(c, a)) continue;
    if (a.contains("id_number") && a["id_number"].is_string()) a["id_number"] = node::mask_id_number(a["id_number"].get<std::string>());
    if (a.contains("name") && a["name"].is_string()) a["name"] = node::mask_name(a["name"].get<std::string>());
    list.push_back(std::move(a));
  }
  reply(res, 200, json{{"applications", list}, {"count", list.size()}});
}

void decide_application(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  json body = json_body(req, api.options().web.max_json_bytes, {"status", "note"});
  std::string status = need_string(body, "status", 32);
  std::string note = opt_string(body, "note", 2000).value_or("");
  std::string id = path_arg(req);
  auto apps = api.on_loop<Result<json>>([](runtime::LoopContext& ctx) { return ctx.parts.monitor->applications(); });
  if (!apps) throw from_status(apps.status());
  for (const json& a : *apps) {
    if (a.value("id", "") == id && !concerns(c, a)) throw forbidden("超出账号管辖范围：" + id, id + " is outside the account's jurisdiction");
  }
  Status s = api.change<Status>(
      c,
      [id, status, note](runtime::LoopContext& ctx) { return ctx.parts.monitor->decide_application(id, status, note, ctx.now); },
      [id, status](const Status& r) -> std::optional<AuditNote> {
        if (!r) return std::nullopt;
        return AuditNote{"application_decided", id, status, ""};
      });
  if (!s) throw from_status(s);
  reply(res, 200, json{{"id", id}, {"status", status}});
}

}  // namespace

void install_household_routes(Api& api, httplib::Server& server) {
  auto bind = [&api](void (*fn)(Api&, const httplib::Request&, httplib::Response&, const Caller&)) {
    return [&api, fn](const httplib::Request& req, httplib::Response& res, const Caller& c) { fn(api, req, res, c); };
  };
  api.route(server, "GET", "/api/v1/households", Access::kOperator, bind(list_households));
  api.route(server, "GET", "/api/v1/households/:id", Access::kOperator, bind(show_household));
  api.route(server, "POST", "/api/v1/households", Access::kOperator, bind(add_household));
  api.route(server, "PATCH", "/api/v1/households/:id", Access::kOperator,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) {
              json body = json_body(req, api.options().web.max_json_bytes, {"category", "income_yuan", "phone", "address", "members"});
              auto id = household_id(req);
              node::HouseholdUpdate u = update_of(body);
              household_change(api, c, id, "household_updated",
                               [id, u](node::Monitor& m, const node::Instant& now) { return m.update_household(id, u, now); }, res);
            });
  api.route(server, "POST", "/api/v1/households/:id/move", Access::kSupervisor,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) {
              json body = json_body(req, api.options().web.max_json_bytes, {"village"});
              auto id = household_id(req);
              uint64_t village = parse_code_field(need_string(body, "village", 12), "village");
              api.check_jurisdiction(c, village, DivisionCode::format(village));
              household_change(api, c, id, "household_moved",
                               [id, village](node::Monitor& m, const node::Instant& now) { return m.move_household(id, village, now); }, res);
            });
  api.route(server, "POST", "/api/v1/persons/lookup", Access::kOperator, bind(find_person));
  api.route(server, "GET", "/api/v1/persons/conflicts", Access::kSupervisor, bind(list_conflicts));
  api.route(server, "POST", "/api/v1/imports", Access::kOperator, bind(import_events));
  api.route(server, "GET", "/api/v1/applications", Access::kOperator,
            [&api](const httplib::Request&, httplib::Response& res, const Caller& c) { list_applications(api, res, c); });
  api.route(server, "POST", "/api/v1/applications", Access::kOperator, bind(submit_application));
  api.route(server, "POST", "/api/v1/applications/:id/decision", Access::kSupervisor, bind(decide_application));
}

}  // namespace lifeline::web
