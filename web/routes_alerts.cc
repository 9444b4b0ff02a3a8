// Alerts: the list, one alert, accept, verification feedback, escalate,
// close (web/API.md §Alerts).
#include "node/core/alert_merge.h"
#include "node/core/civil_date.h"
#include "node/core/monitor_queries.h"
#include "node/core/monitor_reads.h"
#include "node/runtime/monitor_commands.h"
#include "node/runtime/node.h"
#include "web/api.h"

namespace lifeline::web {

using nlohmann::json;

namespace {

protocol::AlertId alert_id(const httplib::Request& req) {
  protocol::AlertId id;
  if (!protocol::parse_id(path_arg(req), 'A', id))
    throw bad_field("id", "预警编号格式错误", "'" + path_arg(req) + "' is not an alert id like A-441303001001-1");
  return id;
}

// The alert and its household's village, read on this thread.
std::pair<protocol::Alert, uint64_t> load_alert(Api& api, const protocol::AlertId& id) {
  std::optional<protocol::Alert> alert;
  uint64_t village = 0;
  Status s = api.store().read([&](const storage::ReadTxn& txn) {
    node::ReadView v{txn};
    alert = v.alert(id);
    if (alert) {
      if (auto h = v.household(alert->household)) village = h->village.value;
    }
  });
  if (!s) throw from_status(s);
  if (!alert) throw ApiError{404, "not_found", "本节点没有这条预警", "alert " + protocol::format_id('A', id) + " is not held here", ""};
  return {*alert, village};
}

void list_alerts(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  node::AlertQuery q;
  if (auto l = query(req, "level")) {
    if (l->size() != 1 || (*l)[0] < '1' || (*l)[0] > '5') throw bad_field("level", "level 必须是 1 到 5", "level must be 1..5");
    q.level = static_cast<uint32_t>((*l)[0] - '0');
  }
  if (auto st = query(req, "state")) {
    q.state = node::parse_alert_state(*st);
    if (q.state == 0) throw bad_field("state", "state 必须是 issued、delivered、accepted、verified 或 closed",
                                      "state must be issued, delivered, accepted, verified or closed");
  }
  q.open_only = flag(req, "open");
  q.overdue_only = flag(req, "overdue");
  q.escalated_only = flag(req, "escalated");
  if (auto d = query(req, "due_before")) {
    auto date = node::parse_date(*d);
    if (!date) throw bad_field("due_before", "due_before 必须是 YYYY-MM-DD", "due_before must be YYYY-MM-DD");
    q.due_before = *date;
  }
  q.within = api.list_scope(req, c);
  q.after = cursor_param(req, "cursor");
  q.limit = page_limit(req);
  node::Date today = today_shanghai();
  FairGate::Slot slot(api.list_gate());  // the query and the page's text: CPU-bound
  auto page = node::query_alerts(api.store(), q, today);
  if (!page) throw from_status(page.status());
  // Written directly (the same bytes as the JSON tree would give, without
  // its allocations): {"alerts":[...],"count":N,"next":...}.
  auto policy = api.policy();
  std::string body = "{\"alerts\":[";
  body.reserve(page->alerts.size() * 900 + 64);
  for (size_t i = 0; i < page->alerts.size(); ++i) {
    if (i) body.push_back(',');
    runtime::append_alert_json(body, page->alerts[i], *policy);
  }
  body += "],\"count\":" + std::to_string(page->alerts.size()) + ",\"next\":";
  body += page->next.empty() ? "null" : "\"" + page->next + "\"";  // hex: nothing to escape
  body.push_back('}');
  res.status = 200;
  res.set_content(std::move(body), "application/json; charset=utf-8");
}

void get_alert(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c) {
  auto [alert, village] = load_alert(api, alert_id(req));
  api.check_jurisdiction(c, village, protocol::format_id('A', alert.id));
  node::Date today = today_shanghai();
  reply(res, 200, runtime::alert_json(node::AlertView{alert, village, node::alert_overdue(alert, today)}, *api.policy()));
}

// Runs one alert change on the loop and answers with the alert as it is then.
void change(Api& api, const Caller& c, httplib::Response& res, const protocol::AlertId& id, const std::string& action,
            std::function<Status(node::Monitor&, const node::Instant&)> fn) {
  auto [alert, village] = load_alert(api, id);
  api.check_jurisdiction(c, village, protocol::format_id('A', id));
  Status s = api.change<Status>(
      c, [fn](runtime::LoopContext& ctx) { return fn(*ctx.parts.monitor, ctx.now); },
      [action, target = protocol::format_id('A', id),
       detail = "household " + protocol::format_id('H', alert.household)](const Status& r) -> std::optional<AuditNote> {
        if (!r) return std::nullopt;
        return AuditNote{action, target, "ok", detail};
      });
  if (!s) throw from_status(s);
  auto [after, v] = load_alert(api, id);
  node::Date today = today_shanghai();
  reply(res, 200, runtime::alert_json(node::AlertView{after, v, node::alert_overdue(after, today)}, *api.policy()));
}

protocol::Feedback feedback_of(const json& body, const protocol::AlertId& id) {
  protocol::Feedback f;
  f.alert = id;
  auto d = node::parse_date(need_string(body, "visit_date", 10));
  if (!d) throw bad_field("visit_date", "visit_date 必须是 YYYY-MM-DD", "visit_date must be YYYY-MM-DD");
  f.visit_date = *d;
  f.method = need_string(body, "method", 64);
  f.visitor = need_string(body, "visitor", 64);
  auto truthful = opt_bool(body, "truthful");
  if (!truthful) throw ApiError{400, "missing_field", "缺少字段 truthful", "truthful is required", "truthful"};
  f.truthful = *truthful;
  f.findings = opt_string(body, "findings", 2000).value_or("");
  f.decision = need_string(body, "decision", 64);  // its values are checked by the Monitor
  f.referral = opt_string(body, "referral", 256).value_or("");
  if (body.contains("needs")) {
    const json& n = body["needs"];
    if (!n.is_array() || n.size() > 32) throw bad_field("needs", "needs 必须是字符串列表", "needs must be a list of at most 32 strings");
    for (const json& e : n) {
      if (!e.is_string() || e.get<std::string>().empty() || e.get<std::string>().size() > 64)
        throw bad_field("needs", "needs 必须是字符串列表", "needs must be a list of strings of 1..64 bytes");
      f.needs.push_back(e.get<std::string>());
    }
  }
  return f;
}

}  // namespace

void install_alert_routes(Api& api, httplib::Server& server) {
  api.route(server, "GET", "/api/v1/alerts", Access::kOperator,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) { list_alerts(api, req, res, c); });
  api.route(server, "GET", "/api/v1/alerts/:id", Access::kOperator,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) { get_alert(api, req, res, c); });
  api.route(server, "POST", "/api/v1/alerts/:id/accept", Access::kOperator,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) {
              no_body(api, req);
              auto id = alert_id(req);
              std::string by = c.session.account;
              change(api, c, res, id, "alert_accepted",
                     [id, by](node::Monitor& m, const node::Instant& now) { return m.accept_alert(id, by, now); });
            });
  api.route(server, "POST", "/api/v1/alerts/:id/feedback", Access::kOperator,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) {
              json body = json_body(req, api.options().web.max_json_bytes,
                                    {"visit_date", "method", "visitor", "truthful", "findings", "needs", "decision", "referral"});
              auto id = alert_id(req);
              protocol::Feedback f = feedback_of(body, id);
              change(api, c, res, id, "feedback_recorded",
                     [f](node::Monitor& m, const node::Instant& now) { return m.record_feedback(f, now); });
            });
  api.route(server, "POST", "/api/v1/alerts/:id/escalate", Access::kSupervisor,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) {
              json body = json_body(req, api.options().web.max_json_bytes, {"note"});
              std::string note = need_string(body, "note", node::kMaxEscalationNoteBytes);
              auto id = alert_id(req);
              std::string by = c.session.account;
              change(api, c, res, id, "alert_escalated", [id, by, note](node::Monitor& m, const node::Instant& now) {
                return m.escalate_alert(id, by, note, now);
              });
            });
  api.route(server, "POST", "/api/v1/alerts/:id/close", Access::kSupervisor,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) {
              no_body(api, req);
              auto id = alert_id(req);
              change(api, c, res, id, "alert_closed",
                     [id](node::Monitor& m, const node::Instant& now) { return m.close_alert(id, now); });
            });
}

}  // namespace lifeline::web
