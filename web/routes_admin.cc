// Accounts (web/API.md §Users) and the audit log (§Audit).
#include "node/core/monitor_queries.h"
#include "node/runtime/accounts.h"
#include "node/runtime/node.h"
#include "node/runtime/system_clock.h"
#include "web/api.h"
#include "web/auth/password.h"

namespace lifeline::web {

using nlohmann::json;
using topology::DivisionCode;

namespace {

Role role_field(const json& body) {
  std::string r = need_string(body, "role", 16);
  auto role = parse_role(r);
  if (!role) throw bad_field("role", "role 必须是 operator、supervisor 或 admin", "role must be operator, supervisor or admin");
  return *role;
}

void list_users(Api& api, httplib::Response& res, const Caller& c) {
  json list = json::array();
  auto scope = DivisionCode::from_number(c.session.jurisdiction);
  for (const Account& a : runtime::list_accounts(api.store())) {
    auto j = DivisionCode::from_number(a.jurisdiction);
    if (scope && j && scope->contains(*j)) list.push_back(runtime::account_json(a));
  }
  reply(res, 200, json{{"users", list}, {"count", list.size()}});
}

void add_user(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  json body = json_body(req, api.options().web.max_json_bytes, {"name", "role", "jurisdiction"});
  runtime::NewAccount a;
  a.name = need_string(body, "name", 64);
  if (auto e = check_account_name(a.name)) throw ApiError{400, e->code, e->message_zh, e->message_en, "name"};
  a.role = role_field(body);
  a.created_by = c.session.account;
  if (auto j = opt_string(body, "jurisdiction", 12)) a.jurisdiction = parse_code_field(*j, "jurisdiction");
  api.check_jurisdiction(c, a.jurisdiction != 0 ? a.jurisdiction : c.session.jurisdiction, "jurisdiction");
  if (a.jurisdiction == 0) a.jurisdiction = c.session.jurisdiction;
  Status s = runtime::check_new_account(a, api.self());
  if (!s) throw from_status(s);
  std::string password = generate_password(16);
  auto hash = hash_password(password);  // on this pool thread
  if (!hash) throw from_status(hash.status());
  Account acc;
  acc.name = a.name;
  acc.role = a.role;
  acc.jurisdiction = a.jurisdiction;
  acc.password_hash = *hash;
  acc.must_change_password = true;
  acc.created_by = a.created_by;
  acc.created_us = runtime::system_now().wall_us;
  s = api.change<Status>(
      c, [acc](runtime::LoopContext& ctx) { return runtime::insert_account(*ctx.parts.store, acc); },
      [name = a.name, detail = std::string("role ") + role_name(a.role)](const Status& r) -> std::optional<AuditNote> {
        if (!r) return std::nullopt;
        return AuditNote{"user_created", name, "ok", detail};
      });
  if (!s && s.message().find("already exists") != std::string::npos) throw ApiError{409, "account_exists", "账号已存在", s.message(), "name"};
  if (!s) throw from_status(s);
  json out = runtime::account_json(acc);
  out["one_time_password"] = password;
  reply(res, 201, out);
}

void change_user(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  json body = json_body(req, api.options().web.max_json_bytes, {"role", "disabled", "reset_password"});
  std::string name = path_arg(req);
  auto existing = runtime::load_account(api.store(), name);
  if (!existing) throw from_status(existing.status());
  api.check_jurisdiction(c, existing->jurisdiction, "account " + name);
  std::optional<Role> role;
  if (body.contains("role")) role = role_field(body);
  auto disabled = opt_bool(body, "disabled");
  auto reset = opt_bool(body, "reset_password");
  if (!role && !disabled && !reset.value_or(false))
    throw ApiError{400, "nothing_to_change", "没有要修改的内容", "give role, disabled or reset_password", ""};
  if (name == c.session.account && (disabled.value_or(false) || (role && *role != Role::kAdmin)))
    throw ApiError{400, "self_lockout", "不能停用自己或降低自己的角色", "an admin cannot disable or demote their own account", ""};
  std::string password;
  std::string hash;
  if (reset.value_or(false)) {
    password = generate_password(16);
    auto h = hash_password(password);
    if (!h) throw from_status(h.status());
    hash = *h;
  }
  auto updated = api.change<Result<Account>>(
      c,
      [name, role, disabled, hash, &sessions = api.sessions()](runtime::LoopContext& ctx) -> Result<Account> {
        auto a = runtime::load_account(*ctx.parts.store, name);
        if (!a) return a.status();
        if (role) a->role = *role;
        if (disabled) a->disabled = *disabled;
        if (!hash.empty()) {
          a->password_hash = hash;
          a->must_change_password = true;
          a->password_changed_us = next_password_change_us(*a, ctx.now.wall_us);
        }
        Status s = runtime::update_account(*ctx.parts.store, *a);
        if (!s) return s;
        // Role, state or password changed: sign in again. In this task, so
        // that an answer of 503 cannot leave the sessions alive.
        sessions.end_all(name);
        return *a;
      },
      [name, detail = body.dump()](const Result<Account>& r) -> std::optional<AuditNote> {
        if (!r) return std::nullopt;
        return AuditNote{"user_changed", name, "ok", detail};
      });
  if (!updated) throw from_status(updated.status());
  json out = runtime::account_json(*updated);
  if (!password.empty()) out["one_time_password"] = password;
  reply(res, 200, out);
}

void list_audit(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  node::AuditQuery q;
  q.account = query(req, "account").value_or("");
  q.action = query(req, "action").value_or("");
  q.target = query(req, "target").value_or("");
  if (q.account.size() > 64 || q.action.size() > 64 || q.target.size() > 64)
    throw bad_field("account", "筛选条件过长", "filters are at most 64 bytes");
  if (auto n = query(req, "node")) {
    q.node = parse_code_field(*n, "node");
    api.check_jurisdiction(c, q.node, DivisionCode::format(q.node));
  }
  q.within = c.session.jurisdiction;
  q.before = cursor_param(req, "cursor");
  q.limit = page_limit(req);
  auto page = node::query_audit(api.store(), q);
  if (!page) throw from_status(page.status());
  json body{{"entries", page->entries}, {"count", page->entries.size()}};
  body["next"] = page->next.empty() ? json() : json(page->next);
  reply(res, 200, body);
}

}  // namespace

void install_admin_routes(Api& api, httplib::Server& server) {
  api.route(server, "GET", "/api/v1/users", Access::kSupervisor,
            [&api](const httplib::Request&, httplib::Response& res, const Caller& c) { list_users(api, res, c); });
  api.route(server, "POST", "/api/v1/users", Access::kAdmin,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) { add_user(api, req, res, c); });
  api.route(server, "PATCH", "/api/v1/users/:name", Access::kAdmin,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) { change_user(api, req, res, c); });
  api.route(server, "GET", "/api/v1/audit", Access::kSupervisor,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) { list_audit(api, req, res, c); });
}

}  // namespace lifeline::web
