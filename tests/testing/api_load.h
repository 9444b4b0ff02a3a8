// CountyUnderLoad: a county node process whose registry holds a large
// synthetic population (households in the communities of 淡水街道, no
// township or village node running, so the county is every household's home
// node and records feedback itself), with alerts raised by a department
// feed, driven over its HTTP API by many concurrent clients that list
// alerts and post verification feedback. Used by the load test (which
// asserts: no 5xx, no transport error, every acknowledged feedback verified
// after a restart) and by the API benchmark (which reports latencies and
// rates). Real processes, real HTTP on loopback.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "node/core/civil_date.h"
#include "node/runtime/system_clock.h"
#include "tests/testing/local_network.h"
#include "tests/testing/registry_fixtures.h"

namespace lifeline::testing {

struct ApiLoadOptions {
  uint64_t persons = 1'000'000;
  uint64_t events = 30'000;
  int clients = 50;
  double seconds = 60;
  double feedback_share = 0.2;  // of each client's requests
  int server_threads = 64;      // [web] threads of the county
};

struct ApiLoadResult {
  std::string error;                // set when the set-up failed
  uint64_t households = 0;
  uint64_t open_alerts_before = 0;
  uint64_t lists = 0;
  uint64_t feedback_ok = 0;         // 200 answers to feedback
  uint64_t feedback_4xx = 0;
  uint64_t status_5xx = 0;
  uint64_t other_4xx = 0;
  uint64_t transport_errors = 0;    // no HTTP answer at all
  uint64_t feedback_unanswered = 0; // of which feedback posts (applied or not: unknown)
  std::map<std::string, uint64_t> transport_error_kinds;  // httplib::to_string(error) -> count
  uint64_t verified_after_restart = 0;
  double seconds = 0;
  double setup_seconds = 0;
  std::vector<double> list_ms;      // every list request's latency
  std::vector<double> feedback_ms;  // every acknowledged feedback's latency
};

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())));
  return v[i];
}

class CountyUnderLoad {
 public:
  static constexpr const char* kCounty = "441303000000";

  CountyUnderLoad(std::string lifeline, std::string divisions, int base_port, int web_port)
      : net_(lifeline, std::move(divisions), kCounty, kCounty, base_port, false, web_port),
        lifeline_(std::move(lifeline)),
        port_(web_port) {}

  ~CountyUnderLoad() { net_.stop_all(); }

  // Registry, feed and account; leaves the node running. Empty on success.
  std::string set_up(const ApiLoadOptions& o, ApiLoadResult& r) {
    auto t0 = std::chrono::steady_clock::now();
    if (!net_.ok()) return "network init failed: " + net_.init_output();
    if (!net_.edit_config(kCounty, "[web]\n", "[web]\nthreads = " + std::to_string(o.server_threads) + "\n"))
      return "no [web] section in the county's config";
    std::string dir = net_.node_dir(kCounty);
    std::ofstream(dir + "/registry.jsonl") << registry_file(o.persons, 441303001001, 28, &r.households);
    node::Date today = node::shanghai_date(runtime::system_now().wall_us);
    std::ofstream(dir + "/events.csv") << events_file(o.events, o.persons, 7, today);
    int rc = 0;
    // The node is not running yet: the CLI works on its store directly.
    std::string out = run_command({lifeline_, "household", "import", "--config", net_.config(kCounty), "--json",
                                   dir + "/registry.jsonl"}, &rc);
    if (rc != 0) return "household import failed: " + out.substr(0, 500);
    out = run_command({lifeline_, "import", "--config", net_.config(kCounty), "--json", dir + "/events.csv"}, &rc);
    if (rc != 0) return "event import failed: " + out.substr(0, 500);
    std::remove((dir + "/registry.jsonl").c_str());
    if (!start_and_sign_in()) return "county did not start or sign-in failed: " + last_error_;
    alerts_ = open_alert_ids();
    r.open_alerts_before = alerts_.size();
    r.setup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return alerts_.empty() ? "no open alerts after the import" : "";
  }

  // The clients' run for o.seconds: each lists open alerts (a random level
  // filter, or the next page) and, with probability o.feedback_share, posts
  // feedback for the next alert no client has taken yet.
  void run(const ApiLoadOptions& o, ApiLoadResult& r) {
    std::mutex mu;
    std::vector<std::thread> threads;
    auto start = std::chrono::steady_clock::now();
    auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(o.seconds));
    for (int c = 0; c < o.clients; ++c) {
      threads.emplace_back([&, c] {
        ApiLoadResult mine;
        client_loop(o, c, end, mine);
        std::lock_guard lock(mu);
        merge(r, mine);
      });
    }
    for (auto& t : threads) t.join();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  // Stops the node (SIGTERM), starts it again and counts verified alerts.
  bool restart_and_count(ApiLoadResult& r) {
    net_.stop(kCounty);
    if (!start_and_sign_in(false)) return false;
    uint64_t n = 0;
    std::string cursor;
    for (;;) {
      auto res = client().Get(("/api/v1/alerts?state=verified&limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor)).c_str(),
                              auth());
      if (!res || res->status != 200) return false;
      auto body = nlohmann::json::parse(res->body);
      n += body["alerts"].size();
      if (body["next"].is_null()) break;
      cursor = body["next"].get<std::string>();
    }
    r.verified_after_restart = n;
    return true;
  }

  const std::string& last_error() const { return last_error_; }

 private:
  httplib::Client client() const {
    httplib::Client cl("127.0.0.1", port_);
    cl.set_tcp_nodelay(true);
    cl.set_read_timeout(60, 0);
    cl.set_connection_timeout(5, 0);
    return cl;
  }
  httplib::Headers auth() const { return {{"Authorization", "Bearer " + token_}}; }

  // Starts the county and waits for its API; signs in as its first admin
  // (changing the one-time password the first time).
  bool start_and_sign_in(bool first = true) {
    net_.start(kCounty);
    std::string name = "admin";
    std::string password = first ? one_time_password() : kPassword;
    for (int i = 0; i < 600; ++i) {
      auto res = client().Post("/api/v1/session", nlohmann::json{{"name", name}, {"password", password}, {"bearer", true}}.dump(),
                               "application/json");
      if (res && res->status == 200) {
        token_ = nlohmann::json::parse(res->body)["token"];
        break;
      }
      if (res) {
        last_error_ = res->body;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (token_.empty()) return false;
    if (!first) return true;
    auto res = client().Post("/api/v1/session/password", auth(),
                             nlohmann::json{{"current_password", password}, {"new_password", kPassword}}.dump(),
                             "application/json");
    if (!res || res->status != 200) {
      last_error_ = res ? res->body : "no answer";
      return false;
    }
    return true;
  }

  std::string one_time_password() const {
    std::ifstream in(net_.node_dir(kCounty) + "/first_admin.txt");
    std::string name, password;
    std::getline(in, name);
    std::getline(in, password);
    return password;
  }

  std::vector<std::string> open_alert_ids() {
    std::vector<std::string> ids;
    std::string cursor;
    for (;;) {
      auto res = client().Get(("/api/v1/alerts?open=true&limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor)).c_str(), auth());
      if (!res || res->status != 200) break;
      auto body = nlohmann::json::parse(res->body);
      for (const auto& a : body["alerts"]) ids.push_back(a["id"]);
      if (body["next"].is_null()) break;
      cursor = body["next"].get<std::string>();
    }
    return ids;
  }

  void client_loop(const ApiLoadOptions& o, int c, std::chrono::steady_clock::time_point end, ApiLoadResult& r) {
    httplib::Client cl = client();
    cl.set_keep_alive(true);
    std::mt19937_64 rng(static_cast<uint64_t>(c) * 7919 + 1);
    std::string cursor;
    std::string visit = node::format_date(node::shanghai_date(runtime::system_now().wall_us));
    while (std::chrono::steady_clock::now() < end) {
      bool feedback = std::uniform_real_distribution<double>(0, 1)(rng) < o.feedback_share && next_alert_ < alerts_.size();
      size_t alert = feedback ? next_alert_.fetch_add(1) : 0;  // each alert gets feedback once
      feedback = feedback && alert < alerts_.size();
      // The request is made before the clock starts and the latency ends
      // when the answer is read, before the client parses it: client work
      // is not the server's latency.
      std::string path, body;
      if (feedback) {
        path = "/api/v1/alerts/" + alerts_[alert] + "/feedback";
        body = nlohmann::json{{"visit_date", visit}, {"method", "home_visit"}, {"visitor", "load-" + std::to_string(c)},
                              {"truthful", true}, {"findings", "synthetic load test"}, {"needs", {"basic_living"}},
                              {"decision", "keep_monitoring"}}.dump();
      } else {
        path = "/api/v1/alerts?open=true&limit=50";
        if (rng() % 3 == 0) path += "&level=" + std::to_string(1 + rng() % 5);
        else if (!cursor.empty() && rng() % 2 == 0) path += "&cursor=" + cursor;
      }
      auto t0 = std::chrono::steady_clock::now();
      httplib::Result res = feedback ? cl.Post(path.c_str(), auth(), body, "application/json") : cl.Get(path.c_str(), auth());
      auto answered = std::chrono::steady_clock::now();
      if (!feedback && res && res->status == 200 && path.find("level") == std::string::npos) cursor = next_cursor(res->body);
      double ms = std::chrono::duration<double, std::milli>(answered - t0).count();
      count(res, feedback, ms, r);
    }
  }

  // The page's "next" cursor, found without parsing the page: 50 clients
  // share this machine's two cores with the node, and a full parse of each
  // page cost them ~40 % of the CPU. The sequence "next": cannot occur
  // inside a JSON string (its inner quote would be escaped).
  static std::string next_cursor(const std::string& body) {
    size_t at = body.rfind("\"next\":\"");
    if (at == std::string::npos) return "";
    at += 8;
    size_t end = body.find('"', at);
    return end == std::string::npos ? "" : body.substr(at, end - at);
  }

  static void count(const httplib::Result& res, bool feedback, double ms, ApiLoadResult& r) {
    if (!res) {
      ++r.transport_errors;
      if (feedback) ++r.feedback_unanswered;
      ++r.transport_error_kinds[httplib::to_string(res.error())];
      return;
    }
    int s = res->status;
    if (s >= 500) ++r.status_5xx;
    if (feedback) {
      if (s == 200) {
        ++r.feedback_ok;
        r.feedback_ms.push_back(ms);
      } else if (s < 500) {
        ++r.feedback_4xx;
      }
    } else {
      if (s == 200) {
        ++r.lists;
        r.list_ms.push_back(ms);
      } else if (s < 500) {
        ++r.other_4xx;
      }
    }
  }

  static void merge(ApiLoadResult& to, const ApiLoadResult& from) {
    to.lists += from.lists;
    to.feedback_ok += from.feedback_ok;
    to.feedback_4xx += from.feedback_4xx;
    to.status_5xx += from.status_5xx;
    to.other_4xx += from.other_4xx;
    to.transport_errors += from.transport_errors;
    to.feedback_unanswered += from.feedback_unanswered;
    for (const auto& [k, n] : from.transport_error_kinds) to.transport_error_kinds[k] += n;
    to.list_ms.insert(to.list_ms.end(), from.list_ms.begin(), from.list_ms.end());
    to.feedback_ms.insert(to.feedback_ms.end(), from.feedback_ms.begin(), from.feedback_ms.end());
  }

  static constexpr const char* kPassword = "Load-Test-Pass-2026";
  LocalNetwork net_;
  std::string lifeline_;
  int port_;
  std::string token_;
  std::string last_error_;
  std::vector<std::string> alerts_;  // open alert ids at the start
  std::atomic<size_t> next_alert_{0};  // the next of alerts_ to give feedback for
};

}  // namespace lifeline::testing
