// The node: identity, links, aggregates, policy, and GET /metrics (web/API.md).
#include <set>

#include "node/core/civil_date.h"
#include "node/runtime/control.h"
#include "node/runtime/node.h"
#include "web/api.h"

namespace lifeline::web {

using nlohmann::json;

namespace {

json node_status(Api& api) {
  return api.on_loop<json>([](runtime::LoopContext& ctx) {
    json st = runtime::status_json(ctx.options, *ctx.parts.core, *ctx.parts.store, ctx.running, ctx.auth_refusals);
    const node::Policy& policy = ctx.parts.monitor->policy();
    st["policy_version"] = policy.version;
    // Deadlines count holidays only in years the calendar has a notice for.
    const std::set<int>& years = policy.calendar.years();
    const node::Date today = node::shanghai_date(ctx.now.wall_us);
    st["calendar"] = json{{"first_year", years.empty() ? 0 : *years.begin()},
                          {"last_year", years.empty() ? 0 : *years.rbegin()},
                          {"covers_next_60_days", policy.calendar.covers(today, node::add_days(today, 60))}};
    return st;
  });
}

json aggregates(Api& api) {
  auto r = api.on_loop<Result<json>>([](runtime::LoopContext& ctx) { return ctx.parts.monitor->aggregates(ctx.now); });
  if (!r) throw from_status(r.status());
  return *r;
}

// Policy documents: the province sets the policy, a province or city admin
// sets county standards (Monitor checks the node's level).
void put_policy(Api& api, const httplib::Request& req, httplib::Response& res, const Caller& c, bool standards) {
  if (c.session.jurisdiction != api.self().number())
    throw forbidden("修改政策需要本节点全辖区的管理员账号", "policy changes need an admin account over the node's whole jurisdiction");
  (void)json_object_body(req, api.options().web.max_json_bytes);  // its keys are checked by the policy parser
  std::string text = req.body;
  Status s = api.change<Status>(
      c,
      [text, standards](runtime::LoopContext& ctx) {
        return standards ? ctx.parts.monitor->set_standards(text, ctx.now) : ctx.parts.monitor->set_policy(text, ctx.now);
      },
      [standards](const Status& r) -> std::optional<AuditNote> {
        if (!r) return std::nullopt;
        return AuditNote{standards ? "standards_set" : "policy_set", "policy", "ok", ""};
      });
  if (!s) throw from_status(s);
  reply(res, 200, json{{"policy_version", api.policy()->version}});
}

void write_link_metrics(MetricsText& m, const json& st) {
  m.family("lifeline_link_up", MetricType::kGauge, "1 when the link is up.");
  for (const json& l : st["links"]) {
    std::string peer = l["peer"], role = l["role"];
    m.sample("lifeline_link_up", {{"peer", peer}, {"role", role}}, l["state"] == "up" ? 1.0 : 0.0);
  }
  auto per_link = [&](const char* name, MetricType type, const char* help, const char* key) {
    m.family(name, type, help);
    for (const json& l : st["links"]) {
      std::string peer = l["peer"];
      if (!l[key].is_null()) m.sample(name, {{"peer", peer}}, l[key].get<double>());
    }
  };
  per_link("lifeline_link_rtt_seconds", MetricType::kGauge, "Last measured round-trip time of the link.", "rtt_ms");
  per_link("lifeline_link_outbox_depth", MetricType::kGauge, "Messages waiting for the peer's acknowledgement.", "outbox_depth");
  per_link("lifeline_link_messages_in_total", MetricType::kCounter, "Messages received from the peer and applied.", "last_applied");
  per_link("lifeline_link_messages_out_total", MetricType::kCounter, "Messages written to the peer's outbox.", "last_assigned");
  per_link("lifeline_link_refusals_total", MetricType::kCounter, "Messages from the peer refused (jurisdiction, kind, route).", "refusals");
}

std::string metrics_text(Api& api) {
  json st = node_status(api);
  for (json& l : st["links"]) {
    if (!l["rtt_ms"].is_null()) l["rtt_ms"] = l["rtt_ms"].get<double>() / 1000.0;
  }
  json agg = aggregates(api);
  MetricsText m;
  write_link_metrics(m, st);
  m.counter("lifeline_auth_refusals_total", "CURVE handshakes refused.", st["auth_refusals"].get<uint64_t>());
  const json& f = agg["own"]["figures"];
  m.family("lifeline_alerts", MetricType::kGauge, "Alerts held, by level (open ones) and state.");
  for (auto& [level, states] : f["open_by_level"].items()) {
    for (auto& [state, n] : states.items()) m.sample("lifeline_alerts", {{"level", level}, {"state", state}}, n.get<double>());
  }
  m.family("lifeline_alerts_by_state", MetricType::kGauge, "Alerts held, by state (all levels).");
  for (auto& [state, n] : f["alerts_by_state"].items()) m.sample("lifeline_alerts_by_state", {{"state", state}}, n.get<double>());
  m.gauge("lifeline_alerts_overdue", "Open alerts past their home-visit deadline.", f["overdue"].get<double>());
  m.gauge("lifeline_alerts_due_soon", "Open alerts due today or on the next working day.", f["due_soon"].get<double>());
  m.gauge("lifeline_alerts_escalated", "Open alerts a supervisor escalated (督办).", f["open_escalated"].get<double>());
  m.gauge("lifeline_households", "Households held.", f["households"].get<double>());
  m.gauge("lifeline_person_conflicts", "Persons claimed by two households held here (registry conflicts).",
          agg["own"]["person_conflicts"].get<double>());
  m.gauge("lifeline_policy_version", "Version of the running policy.", st["policy_version"].get<double>());
  api.stats().write(m);
  return m.text();
}

}  // namespace

void install_node_routes(Api& api, httplib::Server& server) {
  api.route(server, "GET", "/api/v1/node", Access::kOperator, [&api](const httplib::Request&, httplib::Response& res, const Caller&) {
    json st = node_status(api);
    reply(res, 200, json{{"code", st["code"]}, {"level", st["level"]}, {"name", st["name"]},
                         {"policy_version", st["policy_version"]}, {"calendar", st["calendar"]}, {"store", st["store"]}});
  });
  api.route(server, "GET", "/api/v1/links", Access::kOperator, [&api](const httplib::Request&, httplib::Response& res, const Caller&) {
    json st = node_status(api);
    reply(res, 200, json{{"links", st["links"]}, {"auth_refusals", st["auth_refusals"]}, {"counters", st["counters"]}});
  });
  api.route(server, "GET", "/api/v1/aggregates", Access::kOperator,
            [&api](const httplib::Request&, httplib::Response& res, const Caller&) { reply(res, 200, aggregates(api)); });
  api.route(server, "GET", "/api/v1/policy", Access::kOperator, [&api](const httplib::Request&, httplib::Response& res, const Caller&) {
    json standards = api.on_loop<json>([](runtime::LoopContext& ctx) { return ctx.parts.monitor->standards_json(); });
    reply(res, 200, json{{"policy", json::parse(node::policy_to_json(*api.policy()))}, {"standards_set", standards}});
  });
  api.route(server, "PUT", "/api/v1/policy", Access::kAdmin,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) { put_policy(api, req, res, c, false); });
  api.route(server, "PUT", "/api/v1/policy/standards", Access::kAdmin,
            [&api](const httplib::Request& req, httplib::Response& res, const Caller& c) { put_policy(api, req, res, c, true); });
  api.route(server, "GET", "/metrics", Access::kPublic, [&api](const httplib::Request&, httplib::Response& res, const Caller&) {
    res.set_content(metrics_text(api), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace lifeline::web
