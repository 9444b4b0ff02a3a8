// Api: the operators' JSON API under /api/v1/ and GET /metrics (web/API.md),
// installed on a cpp-httplib server.
//
// Threading (STYLE habit 7): every handler runs on the server's worker pool.
// Reads (lists, the case page, accounts, the audit log) go straight to the
// store in short read transactions, which is thread-safe; anything that
// writes or needs the core (imports, feedback, registration, policy, the
// audit log's appends, aggregates, links) is posted to the node loop as a
// task and waited for (WebOptions::loop_timeout_ms, then 503).
//
// Every request passes through one wrapper (Api::route) that resolves the
// caller's session (cookie or Bearer token), checks the CSRF header for
// cookie sessions on state-changing methods, checks the role, turns
// ApiError into the error shape {"error": {code, message, message_en,
// field}}, audits refusals (403), and counts the request for /metrics.
//
// Not copyable.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "node/core/policy.h"
#include "node/runtime/loop_queue.h"
#include "node/runtime/options.h"
#include "storage/store.h"
#include "web/auth/account.h"
#include "web/auth/rate_limit.h"
#include "web/auth/sessions.h"
#include "web/fair_gate.h"
#include "web/metrics.h"

namespace lifeline::web {

// A refusal, answered as {"error": {...}} with the HTTP status.
struct ApiError {
  int status = 400;
  std::string code;        // stable, machine-readable
  std::string message;     // zh-CN
  std::string message_en;  // English
  std::string field;       // the offending field, when one is
};

// The signed-in caller of one request.
struct Caller {
  Session session;
  std::string address;  // client address (X-Forwarded-For only from trusted proxies)
  bool bearer = false;  // authenticated by an Authorization header, not a cookie
};

using Handler = std::function<void(const httplib::Request&, httplib::Response&, const Caller&)>;

// What one audit entry says besides who acted (web/API.md §5).
struct AuditNote {
  std::string action;
  std::string target;
  std::string outcome = "ok";
  std::string detail;
};

// The caller's part of an audit entry: account, role, address and the
// acting account's jurisdiction, cleaned (valid UTF-8, no control
// characters, bounded), any ID number in the account masked. Built on the
// request thread.
nlohmann::json audit_caller_fields(const Caller& caller);
// The whole entry: the caller's fields and the note, its target and detail
// cleaned, bounded and with any ID number masked. The one place an entry is
// built.
nlohmann::json audit_entry(const nlohmann::json& caller_fields, const AuditNote& note);
// Appends entry to the audit log; on the node loop only. False (and an
// error logged) when it could not be written.
bool append_audit_entry(runtime::LoopContext& ctx, const nlohmann::json& entry);

// Who may call a route.
enum class Access {
  kPublic,         // no session (login, metrics)
  kAnySession,     // signed in, even with a password still to change
  kOperator,       // signed in, password changed, role at least operator
  kSupervisor,
  kAdmin,
};

class Api {
 public:
  Api(const runtime::NodeOptions& options, runtime::LoopQueue& queue, const storage::Store& store);
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  void install(httplib::Server& server);

  // Shared by the route files (web/routes_*.cc).
  const runtime::NodeOptions& options() const { return options_; }
  const storage::Store& store() const { return store_; }
  topology::DivisionCode self() const { return options_.code; }
  SessionTable& sessions() { return sessions_; }
  LoginLimiter& limiter() { return limiter_; }
  HttpStats& stats() { return stats_; }
  // Lists run through this gate, at most twice as many at once as the
  // machine has cores (web/fair_gate.h).
  FairGate& list_gate() { return list_gate_; }

  // Runs fn on the node loop and returns its result; 503 when the loop does
  // not answer in time.
  template <class R>
  R on_loop(std::function<R(runtime::LoopContext&)> fn) {
    std::optional<R> r;
    try {
      r = queue_.call<R>(std::move(fn), options_.web.loop_timeout_ms);
    } catch (const ApiError&) {
      throw;
    } catch (const std::future_error&) {
      r.reset();
    }
    if (!r) throw ApiError{503, "node_busy", "节点繁忙或正在停止，请稍后重试", "the node did not answer in time; try again", ""};
    return std::move(*r);
  }
  // Runs a change on the node loop and, in the same loop task right after
  // it, appends the audit entry note gives for its result (none when note
  // gives nullopt, e.g. for a refused change). So the entry is written
  // whenever the change is, also when this request has already answered
  // 503 (the task may still run later) and never when the queue refused the
  // task (then neither runs). The change and the entry are two store
  // transactions: a crash between them can still lose the entry. fn and
  // note run on the loop; the caller's fields are taken here.
  template <class R>
  R change(const Caller& caller, std::function<R(runtime::LoopContext&)> fn,
           std::function<std::optional<AuditNote>(const R&)> note) {
    return on_loop<R>([fn = std::move(fn), note = std::move(note), who = audit_caller_fields(caller)](runtime::LoopContext& ctx) {
      R r = fn(ctx);
      if (std::optional<AuditNote> n = note(r)) (void)append_audit_entry(ctx, audit_entry(who, *n));
      return r;
    });
  }
  // Appends an audit entry that records no change (a view, a sign-in, a
  // refusal) through the loop. wait: the caller needs it written before
  // answering (a full view of personal data).
  void audit(const Caller& caller, const std::string& action, const std::string& target, const std::string& outcome,
             const std::string& detail, bool wait);
  // The same for a request without a session (a failed login).
  void audit_anonymous(const std::string& account, const std::string& address, const std::string& action,
                       const std::string& outcome, const std::string& detail);

  // Registers method+pattern with the access rule. A ":name" segment of the
  // pattern matches one path segment (path_arg); the pattern itself names
  // the route in metrics.
  void route(httplib::Server& server, const std::string& method, const std::string& pattern, Access access,
             Handler handler);

  // The client address of a request.
  std::string client_address(const httplib::Request& req) const;

  // The running policy as stored (parsed again only when it changed).
  std::shared_ptr<const node::Policy> policy();

  // Whether village (any division code) lies in the caller's jurisdiction.
  bool in_jurisdiction(const Caller& caller, uint64_t village) const;
  // 403 (audited by the wrapper) unless village lies in the caller's jurisdiction.
  void check_jurisdiction(const Caller& caller, uint64_t village, const std::string& what) const;
  // The division a list is limited to: the query's "within" (checked) or the caller's jurisdiction.
  uint64_t list_scope(const httplib::Request& req, const Caller& caller) const;

 private:
  void handle(const std::string& method, const std::string& route_name, Access access, const Handler& handler,
              const httplib::Request& req, httplib::Response& res);
  std::optional<Caller> authenticate(const httplib::Request& req) const;
  void check_access(const httplib::Request& req, Access access, const Caller& caller);

  const runtime::NodeOptions& options_;
  runtime::LoopQueue& queue_;
  const storage::Store& store_;
  SessionTable sessions_;
  LoginLimiter limiter_;
  HttpStats stats_;
  FairGate list_gate_;
  // Every route registered, in registration order, as GET /api/v1 lists it
  // (path in the documented form, "/api/v1/alerts/{id}").
  struct RouteInfo {
    std::string method, path;
    Access access;
  };
  std::vector<RouteInfo> routes_;
  std::mutex policy_mutex_;
  std::string policy_text_;                      // the stored text policy_ was parsed from; guarded
  std::shared_ptr<const node::Policy> policy_;   // guarded by policy_mutex_
};

// ---------------------------------------------------------------------------
// Helpers for handlers (web/api.cc).

// Writes body as JSON with status.
void reply(httplib::Response& res, int status, const nlohmann::json& body);
void reply_error(httplib::Response& res, const ApiError& e);

// The error for a Status from the core: invalid_argument 400, not_found 404,
// refused 403, unavailable 503, else 500.
ApiError from_status(const Status& s);

// Parses the body as one JSON object with only the allowed keys; throws
// ApiError (413 too large, 400 malformed or unknown field).
nlohmann::json json_body(const httplib::Request& req, size_t max_bytes, std::initializer_list<const char*> allowed);

// Parses the body as one JSON object whose keys the core checks itself.
nlohmann::json json_object_body(const httplib::Request& req, size_t max_bytes);

// Typed fields of a JSON body; throw ApiError naming the field.
std::optional<std::string> opt_string(const nlohmann::json& body, const char* key, size_t max_bytes);
std::string need_string(const nlohmann::json& body, const char* key, size_t max_bytes);
std::optional<bool> opt_bool(const nlohmann::json& body, const char* key);
// A query parameter; nullopt when absent.
std::optional<std::string> query(const httplib::Request& req, const char* key);
uint64_t parse_code_field(const std::string& text, const char* field);
// Today in Asia/Shanghai (deadlines, overdue flags).
node::Date today_shanghai();
// The path parameter of a route with one (":id" in its pattern), as matched
// in the path the HTTP library decoded once.
std::string path_arg(const httplib::Request& req);
// Paging: ?limit= (1..500, default 50) and a cursor parameter (decoded).
size_t page_limit(const httplib::Request& req);
std::string cursor_param(const httplib::Request& req, const char* key);
// A boolean query parameter (true/false/1/0); false when absent.
bool flag(const httplib::Request& req, const char* key);
// Actions without parameters take an empty body or {}.
void no_body(Api& api, const httplib::Request& req);

ApiError bad_field(const std::string& field, const std::string& zh, const std::string& en);
ApiError forbidden(const std::string& zh, const std::string& en);

// Route installers (one file each).
void install_auth_routes(Api& api, httplib::Server& server);
void install_alert_routes(Api& api, httplib::Server& server);
void install_household_routes(Api& api, httplib::Server& server);
void install_node_routes(Api& api, httplib::Server& server);
void install_admin_routes(Api& api, httplib::Server& server);

}  // namespace lifeline::web
