#include "web/api.h"

#include <algorithm>
#include <chrono>
#include <regex>
#include <thread>

#include "node/core/civil_date.h"
#include "node/core/monitor.h"
#include "node/core/monitor_queries.h"
#include "node/runtime/accounts.h"
#include "node/core/id_number.h"
#include "node/runtime/node.h"
#include "node/runtime/system_clock.h"
#include "topology/logging.h"
#include "topology/utf8.h"

namespace lifeline::web {

using nlohmann::json;

namespace {

// The access rule's name in GET /api/v1 (web/API.md §3).
const char* access_name(Access a) {
  switch (a) {
    case Access::kPublic: return "public";
    case Access::kAnySession: return "any_session";
    case Access::kOperator: return "operator";
    case Access::kSupervisor: return "supervisor";
    case Access::kAdmin: return "admin";
  }
  return "?";
}

constexpr const char* kSessionCookie = "lifeline_session";
constexpr const char* kCsrfHeader = "X-CSRF-Token";

int64_t wall_now_us() { return runtime::system_now().wall_us; }

// The value of one cookie of the Cookie header; "" when absent.
std::string cookie(const httplib::Request& req, const std::string& name) {
  std::string header = req.get_header_value("Cookie");
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(pos, end - pos);
    size_t b = part.find_first_not_of(' ');
    if (b != std::string::npos) part = part.substr(b);
    if (part.size() > name.size() && part.compare(0, name.size(), name) == 0 && part[name.size()] == '=')
      return part.substr(name.size() + 1);
    pos = end + 1;
  }
  return "";
}

bool unsafe_method(const std::string& m) { return m != "GET" && m != "HEAD" && m != "OPTIONS"; }

Role required_role(Access a) {
  switch (a) {
    case Access::kSupervisor: return Role::kSupervisor;
    case Access::kAdmin: return Role::kAdmin;
    default: return Role::kOperator;
  }
}

// "field 'x'" in a core message names the field.
std::string field_of(const std::string& message) {
  static const std::regex quoted("field '([a-z_]+)'");
  std::smatch m;
  return std::regex_search(message, m, quoted) ? std::string(m[1]) : std::string();
}

}  // namespace

// ---------------------------------------------------------------------------
// Replies and errors

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json; charset=utf-8");
}

void reply_error(httplib::Response& res, const ApiError& e) {
  // A message may quote what was sent (a path, a village code): an ID number
  // typed into the wrong field is shown masked (web/API.md §5).
  json err{{"code", e.code}, {"message", node::mask_id_numbers_in(e.message)}, {"message_en", node::mask_id_numbers_in(e.message_en)}};
  if (!e.field.empty()) err["field"] = e.field;
  reply(res, e.status, json{{"error", err}});
}

ApiError bad_field(const std::string& field, const std::string& zh, const std::string& en) {
  return ApiError{400, "invalid_field", zh, en, field};
}

ApiError forbidden(const std::string& zh, const std::string& en) { return ApiError{403, "forbidden", zh, en, ""}; }

ApiError from_status(const Status& s) {
  const std::string& m = s.message();
  // The cause in Chinese where the refusing code wrote one, else the English.
  const std::string& zh = s.message_zh().empty() ? m : s.message_zh();
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
      return ApiError{400, "invalid_argument", "请求内容不符合要求：" + zh, m, field_of(m)};
    case Status::Code::kNotFound: return ApiError{404, "not_found", "未找到：" + zh, m, ""};
    case Status::Code::kRefused: return ApiError{403, "forbidden", "无权操作（超出本节点管辖范围或权限）：" + zh, m, ""};
    case Status::Code::kUnavailable: return ApiError{503, "unavailable", "暂时无法处理，请稍后重试", m, ""};
    default: return ApiError{500, "internal", "服务器内部错误", m, ""};
  }
}

json json_object_body(const httplib::Request& req, size_t max_bytes) {
  if (req.body.size() > max_bytes)
    throw ApiError{413, "body_too_large", "请求体过大", "request body larger than " + std::to_string(max_bytes) + " bytes", ""};
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded())
    throw ApiError{400, "malformed_json", "请求体不是有效的 JSON", "the request body is not valid JSON", ""};
  if (!body.is_object())
    throw ApiError{400, "malformed_json", "请求体必须是 JSON 对象", "the request body must be a JSON object", ""};
  return body;
}

json json_body(const httplib::Request& req, size_t max_bytes, std::initializer_list<const char*> allowed) {
  json body = json_object_body(req, max_bytes);
  for (auto& [key, value] : body.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) throw ApiError{400, "unknown_field", "未知字段：" + key, "unknown field '" + key + "'", key};
  }
  return body;
}

std::optional<std::string> opt_string(const json& body, const char* key, size_t max_bytes) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw bad_field(key, std::string("字段 ") + key + " 必须是字符串", std::string(key) + " must be a string");
  std::string v = it->get<std::string>();
  if (v.size() > max_bytes)
    throw bad_field(key, std::string("字段 ") + key + " 过长", std::string(key) + " is longer than " + std::to_string(max_bytes) + " bytes");
  return v;
}

std::string need_string(const json& body, const char* key, size_t max_bytes) {
  auto v = opt_string(body, key, max_bytes);
  if (!v || v->empty()) throw ApiError{400, "missing_field", std::string("缺少字段 ") + key, std::string(key) + " is required", key};
  return *v;
}

std::optional<bool> opt_bool(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) throw bad_field(key, std::string("字段 ") + key + " 必须是 true 或 false", std::string(key) + " must be true or false");
  return it->get<bool>();
}

std::optional<std::string> query(const httplib::Request& req, const char* key) {
  if (!req.has_param(key)) return std::nullopt;
  return req.get_param_value(key);
}

uint64_t parse_code_field(const std::string& text, const char* field) {
  auto c = topology::DivisionCode::parse(text);
  if (!c) throw bad_field(field, std::string("字段 ") + field + " 不是有效的区划代码", std::string(field) + ": " + c.status().message());
  return c->number();
}

size_t page_limit(const httplib::Request& req) {
  auto l = query(req, "limit");
  if (!l) return 50;
  if (l->empty() || l->size() > 3 || l->find_first_not_of("0123456789") != std::string::npos || std::stoul(*l) < 1 ||
      std::stoul(*l) > 500)
    throw bad_field("limit", "limit 必须是 1 到 500 的整数", "limit must be an integer from 1 to 500");
  return std::stoul(*l);
}

std::string cursor_param(const httplib::Request& req, const char* key) {
  auto c = query(req, key);
  if (!c) return "";
  auto d = node::decode_cursor(*c);
  if (!d) throw bad_field(key, "分页游标无效", "malformed cursor");
  return *d;
}

bool flag(const httplib::Request& req, const char* key) {
  auto v = query(req, key);
  if (!v) return false;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  throw bad_field(key, std::string(key) + " 必须是 true 或 false", std::string(key) + " must be true or false");
}

node::Date today_shanghai() { return node::shanghai_date(runtime::system_now().wall_us); }

std::string path_arg(const httplib::Request& req) {
  // As matched: cpp-httplib decoded req.path once before matching it, and
  // decoding again would turn "%2561dmin" into "admin".
  return req.matches.size() > 1 ? req.matches[1].str() : "";
}

// Actions without parameters take an empty body or {}.
void no_body(Api& api, const httplib::Request& req) {
  if (!req.body.empty()) (void)json_body(req, api.options().web.max_json_bytes, {});
}

// ---------------------------------------------------------------------------
// Api

Api::Api(const runtime::NodeOptions& options, runtime::LoopQueue& queue, const storage::Store& store)
    : options_(options),
      queue_(queue),
      store_(store),
      sessions_(options.web.session_idle_us, options.web.session_max_us, 5),
      list_gate_(2 * std::max(1u, std::thread::hardware_concurrency())) {}

void Api::install(httplib::Server& server) {
  install_auth_routes(*this, server);
  install_alert_routes(*this, server);
  install_household_routes(*this, server);
  install_node_routes(*this, server);
  install_admin_routes(*this, server);
  // The index of the endpoints (last: it lists every route, itself too),
  // with the access each needs; web/API.md documents each one (a test
  // checks that it does).
  route(server, "GET", "/api/v1", Access::kAnySession, [this](const httplib::Request&, httplib::Response& res, const Caller&) {
    nlohmann::json endpoints = nlohmann::json::array();
    for (const RouteInfo& r : routes_)
      endpoints.push_back({{"method", r.method}, {"path", r.path}, {"access", access_name(r.access)}});
    res.set_content(nlohmann::json{{"version", 1}, {"endpoints", std::move(endpoints)}}.dump(), "application/json");
  });
  server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    int status = res.status;
    ApiError e{status, status == 404 ? "no_such_endpoint" : "http_error", status == 404 ? "没有这个接口" : "请求错误",
               status == 404 ? "no such endpoint: " + req.method + " " + req.path : "HTTP error " + std::to_string(status), ""};
    if (status == 413) e = ApiError{413, "body_too_large", "请求体过大", "request body too large", ""};
    reply_error(res, e);
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    stats_.record(req.method, "unmatched", status, 0);
  });
}

std::string Api::client_address(const httplib::Request& req) const {
  std::string addr = req.remote_addr;
  for (const std::string& p : options_.web.trusted_proxies) {
    if (p == addr && req.has_header("X-Forwarded-For")) {
      std::string fwd = req.get_header_value("X-Forwarded-For");
      size_t comma = fwd.rfind(',');
      std::string last = comma == std::string::npos ? fwd : fwd.substr(comma + 1);
      size_t b = last.find_first_not_of(' ');
      return b == std::string::npos ? addr : last.substr(b);
    }
  }
  return addr;
}

std::optional<Caller> Api::authenticate(const httplib::Request& req) const {
  Caller c;
  std::string token;
  std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0) {
    token = auth.substr(7);
    c.bearer = true;
  } else {
    token = cookie(req, kSessionCookie);
  }
  if (token.empty() || token.size() > 128) return std::nullopt;
  auto& sessions = const_cast<SessionTable&>(sessions_);
  auto s = sessions.touch(token, wall_now_us());
  if (!s) return std::nullopt;
  // The account as stored now: disabled, a changed role or jurisdiction, or
  // a password changed since the session signed in (a reset, also by
  // `lifeline user reset` on the node, even of a one-time password the
  // session had not changed yet; or a change from another session) ends
  // the session.
  auto account = runtime::load_account(store_, s->account);
  if (!account || account->disabled || account->role != s->role || account->jurisdiction != s->jurisdiction ||
      account->password_changed_us > s->password_changed_us ||
      (account->must_change_password && !s->must_change_password)) {
    sessions.end(token);
    return std::nullopt;
  }
  c.session = std::move(*s);
  c.address = client_address(req);
  return c;
}

void Api::check_access(const httplib::Request& req, Access access, const Caller& caller) {
  if (!caller.bearer && unsafe_method(req.method) && !csrf_matches(caller.session, req.get_header_value(kCsrfHeader)))
    throw ApiError{403, "csrf", "缺少或错误的 CSRF 令牌（请求头 X-CSRF-Token）",
                   "missing or wrong CSRF token (header X-CSRF-Token) for a cookie session", ""};
  if (access == Access::kAnySession) return;
  if (caller.session.must_change_password)
    throw ApiError{403, "password_change_required", "请先修改初始密码", "change the one-time password first", ""};
  if (static_cast<int>(caller.session.role) < static_cast<int>(required_role(access)))
    throw ApiError{403, "role", std::string("需要") + role_name(required_role(access)) + "角色",
                   std::string("this needs the ") + role_name(required_role(access)) + " role", ""};
}

void Api::route(httplib::Server& server, const std::string& method, const std::string& pattern, Access access,
                Handler handler) {
  auto fn = [this, method, pattern, access, handler](const httplib::Request& req, httplib::Response& res) {
    handle(method, pattern, access, handler, req, res);
  };
  routes_.push_back(RouteInfo{method, std::regex_replace(pattern, std::regex(":([a-z_]+)"), "{$1}"), access});
  std::string regex = std::regex_replace(pattern, std::regex(":[a-z_]+"), "([^/]+)");
  if (method == "GET") server.Get(regex, fn);
  else if (method == "POST") server.Post(regex, fn);
  else if (method == "PUT") server.Put(regex, fn);
  else if (method == "PATCH") server.Patch(regex, fn);
  else if (method == "DELETE") server.Delete(regex, fn);
}

void Api::handle(const std::string& method, const std::string& route_name, Access access, const Handler& handler,
                 const httplib::Request& req, httplib::Response& res) {
  auto start = std::chrono::steady_clock::now();
  Caller caller;
  caller.address = client_address(req);
  try {
    if (access != Access::kPublic) {
      auto c = authenticate(req);
      if (!c) throw ApiError{401, "unauthenticated", "请先登录", "sign in first (session cookie or Bearer token)", ""};
      caller = std::move(*c);
      check_access(req, access, caller);
    }
    handler(req, res, caller);
  } catch (const ApiError& e) {
    reply_error(res, e);
    if (e.status == 403 && access != Access::kPublic)
      audit(caller, "refused", req.path, "403", method + " " + req.path + ": " + e.message_en, false);
  } catch (const std::exception& e) {
    folder_logger("web")->error("{} {} failed: {}", method, route_name, e.what());
    reply_error(res, ApiError{500, "internal", "服务器内部错误", "internal error", ""});
  }
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // As the client sent it: cpp-httplib answers HEAD with the GET handler.
  stats_.record(req.method, route_name, res.status, seconds);
}

std::shared_ptr<const node::Policy> Api::policy() {
  std::lock_guard lock(policy_mutex_);
  // The stored text is compared in place; it is copied and parsed only when
  // it changed (a new policy version).
  std::optional<std::string> changed;
  (void)store_.read([&](const storage::ReadTxn& txn) {
    std::string_view v;
    if (!txn.get(storage::Table::kDomain, "policy", v)) v = {};
    if (!policy_ || v != policy_text_) changed = std::string(v);
  });
  if (!changed) return policy_;
  auto p = changed->empty() ? Result<node::Policy>(node::default_policy()) : node::parse_policy(*changed);
  if (!p) throw ApiError{500, "internal", "服务器内部错误", "stored policy does not parse", ""};
  policy_ = std::make_shared<const node::Policy>(std::move(*p));
  policy_text_ = std::move(*changed);
  return policy_;
}

bool Api::in_jurisdiction(const Caller& caller, uint64_t village) const {
  auto j = topology::DivisionCode::from_number(caller.session.jurisdiction);
  auto v = topology::DivisionCode::from_number(village);
  return j && v && j->contains(*v);
}

void Api::check_jurisdiction(const Caller& caller, uint64_t village, const std::string& what) const {
  if (!in_jurisdiction(caller, village))
    throw forbidden("超出账号管辖范围：" + what, what + " is outside the account's jurisdiction (" +
                                                    topology::DivisionCode::format(caller.session.jurisdiction) + ")");
}

uint64_t Api::list_scope(const httplib::Request& req, const Caller& caller) const {
  auto within = query(req, "within");
  if (!within) return caller.session.jurisdiction;
  uint64_t code = parse_code_field(*within, "within");
  check_jurisdiction(caller, code, topology::DivisionCode::format(code));
  return code;
}

json audit_caller_fields(const Caller& caller) {
  // The account may come from the request (a failed sign-in's name): it is
  // cleaned, bounded and its ID numbers masked like target and detail.
  using topology::clean_text;
  json fields{{"account", clean_text(node::mask_id_numbers_in(caller.session.account), 128)},
              {"role", caller.session.token.empty() ? "" : role_name(caller.session.role)},
              {"address", clean_text(caller.address, 128)}};
  // The acting account's jurisdiction: an account serving a village at its
  // township's node finds its own entries by it (GET /api/v1/audit).
  if (caller.session.jurisdiction != 0) fields["jurisdiction"] = topology::DivisionCode::format(caller.session.jurisdiction);
  return fields;
}

json audit_entry(const json& caller_fields, const AuditNote& note) {
  // Targets and details can come from the request (an import's file name, a
  // refused path, a refusal's message quoting it): kept as valid UTF-8
  // without control characters and bounded, so that the entry always fits
  // the audit log's record, and with any ID number typed into them masked
  // (web/API.md §5; masked first, so that a cut cannot leave part of one).
  using topology::clean_text;
  json entry = caller_fields;
  entry["action"] = note.action;
  entry["target"] = clean_text(node::mask_id_numbers_in(note.target), 256);
  entry["outcome"] = note.outcome;
  entry["detail"] = clean_text(node::mask_id_numbers_in(note.detail), 500);
  return entry;
}

bool append_audit_entry(runtime::LoopContext& ctx, const json& entry) {
  auto r = ctx.parts.monitor->append_audit(entry, ctx.now);
  if (!r)
    folder_logger("web")->error("audit entry {} on {} not written: {}", entry.value("action", ""), entry.value("target", ""),
                                r.status().to_string());
  return r.is_ok();
}

void Api::audit(const Caller& caller, const std::string& action, const std::string& target, const std::string& outcome,
                const std::string& detail, bool wait) {
  json entry = audit_entry(audit_caller_fields(caller), AuditNote{action, target, outcome, detail});
  auto task = [entry](runtime::LoopContext& ctx) -> bool { return append_audit_entry(ctx, entry); };
  if (!wait) {
    bool queued = queue_.post([task](runtime::LoopContext& ctx) -> runtime::LoopQueue::Completion {
      task(ctx);
      return nullptr;
    });
    if (!queued)
      folder_logger("web")->error("audit entry {} on {} dropped: the node loop's queue is full or closed", action,
                                  entry.value("target", ""));
    return;
  }
  if (!on_loop<bool>(task))
    throw ApiError{503, "audit_failed", "审计日志写入失败，未显示个人信息", "the audit entry could not be written; nothing shown", ""};
}

void Api::audit_anonymous(const std::string& account, const std::string& address, const std::string& action,
                          const std::string& outcome, const std::string& detail) {
  Caller c;
  c.session.account = account;
  c.address = address;
  audit(c, action, account, outcome, detail, false);
}

}  // namespace lifeline::web
