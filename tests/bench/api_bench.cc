// make bench, operators' API part: at a county node whose registry holds
// 1,000,000 persons (tests/testing/api_load.h), over real HTTP on loopback:
//   api_alert_list_single_p50/p99_ms  one client listing open alerts (50 a page)
//   api_alert_list_p50/p99_ms         the same list while 50 clients list and
//                                     post feedback together (target p99 <= 50 ms)
//   api_feedback_per_s                verification feedback acknowledged per
//                                     second, 50 clients posting only feedback
// beside the baseline raw_http_requests_per_s: a bare cpp-httplib server in
// this process answering a fixed 10 KiB JSON body to 50 clients.
// Merges its figures into RESULTS_JSON.
//
// Usage: lifeline_api_bench LIFELINE_BIN DIVISIONS_CSV RESULTS_JSON [PERSONS]
// BENCH_API_SECONDS (environment): length of the mixed phase (default 30).
#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "tests/bench/bench_common.h"
#include "tests/testing/api_load.h"

namespace {

using lifeline::bench::Results;
using lifeline::testing::ApiLoadOptions;
using lifeline::testing::ApiLoadResult;
using lifeline::testing::percentile;

// Requests per second a bare cpp-httplib server answers to `clients`
// keep-alive clients for `seconds`: the ceiling of any handler.
double raw_http_requests_per_s(int port, int clients, double seconds) {
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  server.set_tcp_nodelay(true);  // as the node's server
  std::string body = "{\"alerts\":[\"" + std::string(10 * 1024, 'x') + "\"]}";
  server.Get("/raw", [&](const httplib::Request&, httplib::Response& res) { res.set_content(body, "application/json"); });
  if (!server.bind_to_port("127.0.0.1", port)) return 0;
  std::thread listener([&] { server.listen_after_bind(); });
  std::atomic<uint64_t> done{0};
  auto end = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                    std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  auto t0 = std::chrono::steady_clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      httplib::Client cl("127.0.0.1", port);
      cl.set_keep_alive(true);
      cl.set_tcp_nodelay(true);
      while (std::chrono::steady_clock::now() < end) {
        auto r = cl.Get("/raw");
        if (r && r->status == 200) done.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  double rate = done.load() / lifeline::bench::seconds_since(t0);
  server.stop();
  listener.join();
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s LIFELINE_BIN DIVISIONS_CSV RESULTS_JSON [PERSONS]\n", argv[0]);
    return 2;
  }
  Results r;
  r.load(argv[3]);
  int port = 28000 + static_cast<int>(::getpid() % 100) * 20;
  r.add("raw_http_requests_per_s", raw_http_requests_per_s(port, 50, 5), "requests/s");

  ApiLoadOptions o;
  o.persons = argc > 4 ? std::stoull(argv[4]) : 1'000'000;
  o.events = 60'000;
  lifeline::testing::CountyUnderLoad county(argv[1], argv[2], port + 1, port + 6);
  ApiLoadResult setup;
  std::string err = county.set_up(o, setup);
  if (!err.empty()) {
    std::fprintf(stderr, "set-up failed: %s\n", err.c_str());
    return 1;
  }
  std::printf("county: %llu households, %llu open alerts, set up in %.0f s\n", (unsigned long long)setup.households,
              (unsigned long long)setup.open_alerts_before, setup.setup_seconds);

  ApiLoadOptions single = o;
  single.clients = 1;
  single.seconds = 10;
  single.feedback_share = 0;
  ApiLoadResult a;
  county.run(single, a);
  r.add("api_alert_list_single_p50_ms", percentile(a.list_ms, 50), "ms");
  r.add("api_alert_list_single_p99_ms", percentile(a.list_ms, 99), "ms");
  r.add("api_alert_list_single_per_s", a.lists / a.seconds, "requests/s", "raw_http_requests_per_s");

  ApiLoadOptions mixed = o;
  mixed.seconds = std::getenv("BENCH_API_SECONDS") ? std::atof(std::getenv("BENCH_API_SECONDS")) : 30;
  ApiLoadResult b;
  county.run(mixed, b);
  r.add("api_alert_list_p50_ms", percentile(b.list_ms, 50), "ms");
  r.add("api_alert_list_p99_ms", percentile(b.list_ms, 99), "ms");
  r.add("api_mixed_requests_per_s", (b.lists + b.feedback_ok) / b.seconds, "requests/s", "raw_http_requests_per_s");

  ApiLoadOptions writes = o;
  writes.seconds = 10;
  writes.feedback_share = 1.0;
  ApiLoadResult c;
  county.run(writes, c);
  r.add("api_feedback_per_s", c.feedback_ok / c.seconds, "feedback/s");
  r.add("api_feedback_p99_ms", percentile(c.feedback_ms, 99), "ms");
  uint64_t errors = a.status_5xx + b.status_5xx + c.status_5xx + a.transport_errors + b.transport_errors + c.transport_errors;
  std::printf("5xx and transport errors in all phases: %llu\n", (unsigned long long)errors);
  for (const ApiLoadResult* x : {&a, &b, &c})
    for (const auto& [kind, n] : x->transport_error_kinds) std::printf("  transport error: %s x %llu\n", kind.c_str(), (unsigned long long)n);
  r.save(argv[3]);
  std::printf("written %s\n", argv[3]);
  return errors == 0 ? 0 : 1;
}
