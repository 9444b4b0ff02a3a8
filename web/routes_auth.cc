// Sign-in, sign-out, the caller's session and password change (web/API.md §Session).
#include <algorithm>
#include <chrono>

#include "node/core/id_number.h"
#include "node/runtime/accounts.h"
#include "node/runtime/node.h"
#include "node/runtime/system_clock.h"
#include "web/api.h"
#include "web/auth/password.h"

namespace lifeline::web {

using nlohmann::json;

namespace {

// Checked when the account does not exist, so that the time a failed
// sign-in takes does not tell which names exist.
const std::string& dummy_hash() {
  static const std::string h = *hash_password("not-a-real-password-Z9");
  return h;
}

std::string session_cookie(const Api& api, const std::string& name, const std::string& value, bool http_only,
                           int64_t max_age_s) {
  std::string c = name + "=" + value + "; Path=/; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
  if (http_only) c += "; HttpOnly";
  if (api.options().web.secure_cookies) c += "; Secure";
  return c;
}

json session_json(const Session& s, bool with_secrets) {
  json j{{"account", s.account},
         {"role", role_name(s.role)},
         {"jurisdiction", topology::DivisionCode::format(s.jurisdiction)},
         {"must_change_password", s.must_change_password},
         {"created_us", s.created_us},
         {"csrf_token", s.csrf}};
  if (with_secrets) j["token"] = s.token;
  return j;
}

// Sign-in takes no CSRF token (there is no session yet), and any body parses
// as JSON whatever its Content-Type: a page of another site could post a form
// (enctype text/plain) that signs the visitor's browser into an account of
// the attacker's. Such a post comes from a browser, which says so: it sends
// Origin, and Sec-Fetch-Site "cross-site" where it supports it, and a form
// cannot set Content-Type application/json (a page's fetch with that type
// across sites needs CORS, which this server never grants). So a request
// with Origin must be JSON, and a cross-site one is refused. Scripts and
// curl send no Origin and are unaffected. Origin is not compared with Host,
// which a reverse proxy may rewrite.
void refuse_cross_site(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (req.get_header_value("Sec-Fetch-Site") == "cross-site" || (req.has_header("Origin") && type != "application/json"))
    throw ApiError{403, "cross_origin", "不接受来自其他网站页面的登录请求（浏览器须以 application/json 提交）",
                   "sign-in from a page of another site is refused (a browser must send application/json)", ""};
}

void login(Api& api, const httplib::Request& req, httplib::Response& res) {
  refuse_cross_site(req);
  json body = json_body(req, api.options().web.max_json_bytes, {"name", "password", "bearer"});
  std::string name = need_string(body, "name", 64);
  std::string password = need_string(body, "password", kMaxPasswordBytes);
  // Scripts ask for the token in the body (then sent as a Bearer header);
  // browsers get only the HttpOnly cookie, which page scripts cannot read.
  bool bearer = opt_bool(body, "bearer").value_or(false);
  std::string address = api.client_address(req);
  int64_t now = runtime::system_now().wall_us;
  if (int64_t wait = api.limiter().retry_after_s(name, address, now)) {
    res.set_header("Retry-After", std::to_string(wait));  // not audited: the lock's cause was
    throw ApiError{429, "too_many_attempts", "登录失败次数过多，请 " + std::to_string(wait) + " 秒后再试",
                   "too many failed sign-ins; retry after " + std::to_string(wait) + " s", ""};
  }
  auto account = runtime::load_account(api.store(), name);
  bool ok = account ? verify_password(account->password_hash, password) : (verify_password(dummy_hash(), password), false);
  if (ok && account->disabled) ok = false;
  if (!ok) {
    // What was typed as the name may be a password or an ID number: shown
    // as "(invalid name)" when it is no account name, with any ID number
    // masked, in the log and the audit log alike.
    const std::string shown = node::mask_id_numbers_in(LoginLimiter::shown_name(name));
    api.limiter().record_failure(name, address, now, shown);
    api.audit_anonymous(shown, address, "login", "failed", "");
    throw ApiError{401, "bad_credentials", "账号或密码错误", "wrong account name or password", ""};
  }
  api.limiter().record_success(name, address, now);
  api.sessions().sweep(now);  // expired sessions of others go now and then
  Session s = api.sessions().create(*account, address, now);
  int64_t max_age = api.options().web.session_max_us / 1'000'000;
  res.set_header("Set-Cookie", session_cookie(api, "lifeline_session", s.token, true, max_age));
  Caller c{s, address, false};
  api.audit(c, "login", name, "ok", bearer ? "bearer token" : "cookie", false);
  reply(res, 200, session_json(s, bearer));
}

void logout(Api& api, const httplib::Request&, httplib::Response& res, const Caller& c) {
  api.sessions().end(c.session.token);
  res.set_header("Set-Cookie", session_cookie(api, "lifeline_session", "", true, 0));
  api.audit(c, "logout", c.session.account, "ok", "", false);
  reply(res, 200, json{{"signed_out", true}});
}

void change_password(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  json body = json_body(req, api.options().web.max_json_bytes, {"current_password", "new_password"});
  std::string current = need_string(body, "current_password", kMaxPasswordBytes);
  std::string next = need_string(body, "new_password", kMaxPasswordBytes);
  auto account = runtime::load_account(api.store(), c.session.account);
  if (!account) throw from_status(account.status());
  int64_t now = runtime::system_now().wall_us;
  if (int64_t wait = api.limiter().retry_after_s(account->name, c.address, now)) {
    res.set_header("Retry-After", std::to_string(wait));
    throw ApiError{429, "too_many_attempts", "失败次数过多，请 " + std::to_string(wait) + " 秒后再试",
                   "too many failed attempts; retry after " + std::to_string(wait) + " s", ""};
  }
  if (!verify_password(account->password_hash, current)) {
    api.limiter().record_failure(account->name, c.address, now);
    throw ApiError{400, "bad_credentials", "当前密码错误", "the current password is wrong", "current_password"};
  }
  if (auto e = check_password_policy(next, account->name)) throw ApiError{400, e->code, e->message_zh, e->message_en, "new_password"};
  if (next == current) throw ApiError{400, "password_unchanged", "新密码不能与当前密码相同", "the new password must differ", "new_password"};
  auto hash = hash_password(next);  // on this pool thread, not the loop
  if (!hash) throw from_status(hash.status());
  std::string name = account->name;
  std::string expected = account->password_hash;
  Status s = api.change<Status>(
      c,
      [name, expected, h = *hash, token = c.session.token, &sessions = api.sessions()](runtime::LoopContext& ctx) {
        auto a = runtime::load_account(*ctx.parts.store, name);
        if (!a) return a.status();
        if (a->password_hash != expected) return Status::invalid_argument("the password was changed meanwhile");
        const int64_t before = a->password_changed_us;
        a->password_hash = h;
        a->must_change_password = false;
        a->password_changed_us = next_password_change_us(*a, ctx.now.wall_us);
        // This session sees its own change before the store does, so that
        // a request of it meanwhile is not ended as signed in before it.
        sessions.set_password_changed(token, a->password_changed_us);
        Status st = runtime::update_account(*ctx.parts.store, *a);
        if (!st) {
          sessions.set_password_changed(token, before);
          return st;
        }
        // The account's other sessions end with the change, in this task:
        // an answer of 503 cannot leave a stolen session alive.
        sessions.end_others(name, token);
        sessions.set_must_change(name, false);
        return Status::ok();
      },
      [name](const Status& r) -> std::optional<AuditNote> {
        if (!r) return std::nullopt;
        return AuditNote{"password_changed", name, "ok", ""};
      });
  if (!s) throw from_status(s);
  reply(res, 200, json{{"password_changed", true}});
}

}  // namespace

void install_auth_routes(Api& api, httplib::Server& server) {
  api.route(server, "POST", "/api/v1/session", Access::kPublic,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller&) { login(api, req, res); });
  api.route(server, "GET", "/api/v1/session", Access::kAnySession,
            [](const httplib::Request&, httplib::Response& res, const Caller& c) { reply(res, 200, session_json(c.session, false)); });
  api.route(server, "DELETE", "/api/v1/session", Access::kAnySession,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) { logout(api, req, res, c); });
  api.route(server, "POST", "/api/v1/session/password", Access::kAnySession,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) { change_password(api, req, res, c); });
}

}  // namespace lifeline::web
