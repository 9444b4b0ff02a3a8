// make bench: throughput, latency, catch-up, memory and restart figures of
// the network backbone, each beside a baseline measured in the same run
// (raw ZeroMQ, raw LMDB). Prints a table and writes results.json:
//   {"<name>": {"value": x, "unit": "...", "baseline": "<name>|null", "ratio": r|null}}
// These are figures, not tests: nothing here asserts a target.
//
// Usage: lifeline_bench LIFELINE_BIN DIVISIONS_CSV RESULTS_JSON
// Node data lives under $TMPDIR (the Makefile points it at build/bench/tmp,
// on disk: every commit is synced as in production).
#include <lmdb.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <zmq.hpp>

#include "node/runtime/control.h"
#include "storage/store.h"
#include "tests/bench/bench_common.h"
#include "tests/testing/local_network.h"

namespace {

using namespace std::chrono_literals;
using lifeline::bench::Clock;
using lifeline::bench::control;
using lifeline::bench::Results;
using lifeline::bench::seconds_since;
using lifeline::testing::LocalNetwork;
using nlohmann::json;

const std::string kProvince = "440000000000", kCity = "441300000000", kCounty = "441303000000",
                  kTownship = "441303001000", kVillage = "441303001001";
const std::vector<std::string> kChain = {kProvince, kCity, kCounty, kTownship, kVillage};
constexpr size_t kPayload = 256;

// ---------------------------------------------------------------------------
// Baselines

// DEALER -> ROUTER over loopback TCP, 256-byte messages, pipelined (the
// sender never waits), each side with its own context and I/O thread.
double raw_zmq_msgs_per_s(int port) {
  zmq::context_t ctx(1), sender_ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::rcvhwm, 100000);
  router.bind("tcp://127.0.0.1:" + std::to_string(port));
  const int n = 2'000'000;
  std::thread sender([&] {
    zmq::socket_t dealer(sender_ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::sndhwm, 100000);
    dealer.set(zmq::sockopt::routing_id, "bench");
    dealer.connect("tcp://127.0.0.1:" + std::to_string(port));
    std::string payload(kPayload, 'x');
    for (int i = 0; i < n; ++i) dealer.send(zmq::buffer(payload), zmq::send_flags::none);
    zmq::message_t done;
    (void)dealer.recv(done);
  });
  zmq::message_t id, msg;
  (void)router.recv(id);
  (void)router.recv(msg);
  auto t0 = Clock::now();
  for (int i = 1; i < n; ++i) {
    (void)router.recv(id);
    (void)router.recv(msg);
  }
  double rate = (n - 1) / seconds_since(t0);
  router.send(id, zmq::send_flags::sndmore);
  router.send(zmq::str_buffer("done"));
  sender.join();
  return rate;
}

// One-way latency of raw ZeroMQ at a steady 1,000 msgs/s (p50, p99 in ms).
std::pair<double, double> raw_zmq_latency_ms(int port) {
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router), dealer(ctx, zmq::socket_type::dealer);
  router.bind("tcp://127.0.0.1:" + std::to_string(port));
  dealer.connect("tcp://127.0.0.1:" + std::to_string(port));
  std::this_thread::sleep_for(200ms);
  std::vector<double> lat;
  std::thread rx([&] {
    zmq::message_t id, msg;
    for (int i = 0; i < 3000; ++i) {
      (void)router.recv(id);
      (void)router.recv(msg);
      int64_t sent;
      std::memcpy(&sent, msg.data(), 8);
      lat.push_back((Clock::now().time_since_epoch().count() - sent) / 1e6);
    }
  });
  std::string payload(kPayload, 'x');
  auto next = Clock::now();
  for (int i = 0; i < 3000; ++i) {
    int64_t now = Clock::now().time_since_epoch().count();
    std::memcpy(payload.data(), &now, 8);
    dealer.send(zmq::buffer(payload));
    next += 1ms;
    std::this_thread::sleep_until(next);
  }
  rx.join();
  std::sort(lat.begin(), lat.end());
  return {lat[lat.size() / 2], lat[lat.size() * 99 / 100]};
}

double raw_lmdb_synced_puts_per_s(const std::string& dir) {
  MDB_env* env;
  mdb_env_create(&env);
  mdb_env_set_mapsize(env, size_t{2} << 30);
  mdb_env_open(env, dir.c_str(), 0, 0600);
  MDB_dbi dbi;
  const int batches = 500, per_batch = 1000;
  std::string value(kPayload + 34, 'v');
  auto t0 = Clock::now();
  for (int b = 0; b < batches; ++b) {
    MDB_txn* txn;
    mdb_txn_begin(env, nullptr, 0, &txn);
    mdb_dbi_open(txn, nullptr, 0, &dbi);
    for (int i = 0; i < per_batch; ++i) {
      uint64_t key = __builtin_bswap64(static_cast<uint64_t>(b) * per_batch + i);
      MDB_val k{8, &key}, v{value.size(), value.data()};
      mdb_put(txn, dbi, &k, &v, 0);
    }
    mdb_txn_commit(txn);  // synced: LMDB's default
  }
  double rate = batches * per_batch / seconds_since(t0);
  mdb_env_close(env);
  return rate;
}

// ---------------------------------------------------------------------------
// Lifeline

int64_t applied_count(const LocalNetwork& net, const std::string& at, const std::string& origin) {
  json in = control(net, at, {{"cmd", "inbox"}}, 5000);
  if (!in.is_object() || !in["applied"].contains(origin)) return 0;
  return in["applied"][origin]["count"].get<int64_t>();
}

bool links_up(const LocalNetwork& net, const std::string& code) {
  json st = control(net, code, {{"cmd", "status"}}, 2000);
  if (!st.is_object() || st["links"].empty()) return false;
  for (const auto& l : st["links"])
    if (l["state"] != "up") return false;
  return true;
}

void wait_chain_up(const LocalNetwork& net, const std::vector<std::string>& codes) {
  lifeline::testing::wait_until([&] {
    for (const auto& c : codes)
      if (!links_up(net, c)) return false;
    return true;
  }, 30s, 10ms);
}

// Posts count messages at `at` for `to` and waits until all are applied;
// returns messages per second from the post to the last apply.
double transfer(const LocalNetwork& net, const std::string& at, const std::string& to, int64_t count) {
  int64_t before = applied_count(net, to, at);
  auto t0 = Clock::now();
  std::thread poster([&] { control(net, at, {{"cmd", "post"}, {"to", to}, {"count", count}, {"size", kPayload}}); });
  while (applied_count(net, to, at) < before + count) std::this_thread::sleep_for(5ms);
  double rate = count / seconds_since(t0);
  poster.join();
  return rate;
}

double link_msgs_per_s(const std::string& bin, const std::string& divisions, int port) {
  LocalNetwork net(bin, divisions, kProvince, kVillage, port);
  net.start(kTownship);
  net.start(kVillage);
  wait_chain_up(net, {kVillage});
  return transfer(net, kVillage, kTownship, 1'000'000);
}

std::pair<double, double> latency_ms(const LocalNetwork& net, int seconds) {
  auto next = Clock::now();
  uint64_t first_seq = 0;
  for (int i = 0; i < seconds * 100; ++i) {  // 10 messages every 10 ms: 1,000 msgs/s
    json r = control(net, kProvince, {{"cmd", "post"}, {"to", kVillage}, {"count", 10}, {"size", kPayload}});
    if (first_seq == 0 && r.is_object()) first_seq = r.value("first_origin_seq", uint64_t{0});
    next += 10ms;
    std::this_thread::sleep_until(next);
  }
  std::this_thread::sleep_for(500ms);
  std::vector<double> lat;
  auto store = lifeline::storage::Store::open(lifeline::storage::StorageOptions{net.node_dir(kVillage) + "/data"},
                                              std::stoull(kVillage));
  if (!store) return {-1, -1};
  (void)(*store)->read([&](const lifeline::storage::ReadTxn& txn) {
    txn.for_each_inbox([&](const lifeline::storage::InboxEntry& e) {
      if (e.origin == std::stoull(kProvince) && e.origin_seq >= first_seq && e.payload.size() >= 16) {
        uint64_t created;
        std::memcpy(&created, e.payload.data() + 8, 8);
        lat.push_back((static_cast<double>(e.applied_at_us) - static_cast<double>(created)) / 1000.0);
      }
      return true;
    });
  });
  if (lat.empty()) return {-1, -1};
  std::sort(lat.begin(), lat.end());
  return {lat[lat.size() / 2], lat[lat.size() * 99 / 100]};
}

// VmRSS of pid in MB; prints the anonymous / file / shared split.
double rss_mb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  double rss = -1;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stod(line.substr(6)) / 1024.0;
    if (line.rfind("Rss", 0) == 0) std::printf("  village %s\n", line.c_str());
  }
  return rss;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s LIFELINE_BIN DIVISIONS_CSV RESULTS_JSON\n", argv[0]);
    return 2;
  }
  std::string bin = argv[1], divisions = argv[2];
  int port = 26000 + static_cast<int>(::getpid() % 100) * 20;
  Results r;
  std::printf("%-28s %14s %-10s\n", "name", "value", "unit");
  r.add("raw_zmq_msgs_per_s", raw_zmq_msgs_per_s(port), "msgs/s");
  auto raw_lat = raw_zmq_latency_ms(port + 1);
  r.add("raw_zmq_latency_p50_ms", raw_lat.first, "ms");
  r.add("raw_zmq_latency_p99_ms", raw_lat.second, "ms");
  {
    lifeline::testing::TempDir dir;
    r.add("raw_lmdb_synced_puts_per_s", raw_lmdb_synced_puts_per_s(dir.path()), "puts/s");
  }
  r.add("link_msgs_per_s", link_msgs_per_s(bin, divisions, port + 2), "msgs/s", "raw_zmq_msgs_per_s");

  LocalNetwork net(bin, divisions, kProvince, kVillage, port + 10);
  for (const auto& c : kChain) net.start(c);
  wait_chain_up(net, kChain);
  r.add("chain_down_msgs_per_s", transfer(net, kProvince, kVillage, 100'000), "msgs/s", "raw_zmq_msgs_per_s");
  r.add("chain_up_msgs_per_s", transfer(net, kVillage, kProvince, 100'000), "msgs/s", "raw_zmq_msgs_per_s");
  auto lat = latency_ms(net, 5);
  r.add("latency_p50_ms", lat.first, "ms", "raw_zmq_latency_p50_ms");
  r.add("latency_p99_ms", lat.second, "ms", "raw_zmq_latency_p99_ms");

  // Catch-up: the province is down while the city queues 100,000 messages for it.
  net.stop(kProvince);
  control(net, kCity, {{"cmd", "post"}, {"to", kProvince}, {"count", 100'000}, {"size", kPayload}});
  int64_t before = 0;
  {
    auto t0 = Clock::now();
    net.start(kProvince);
    while (applied_count(net, kProvince, kCity) < before + 100'000) std::this_thread::sleep_for(5ms);
    r.add("catchup_msgs_per_s", 100'000 / seconds_since(t0), "msgs/s", "raw_zmq_msgs_per_s");
  }

  // Restart: kill -9 the township, start it again, time until both its links are up.
  std::vector<double> restarts;
  for (int i = 0; i < 3; ++i) {
    net.kill9(kTownship);
    std::this_thread::sleep_for(300ms);
    auto t0 = Clock::now();
    net.start(kTownship);
    lifeline::testing::wait_until([&] { return links_up(net, kTownship); }, 30s, 5ms);
    restarts.push_back(seconds_since(t0) * 1000);
  }
  std::sort(restarts.begin(), restarts.end());
  r.add("restart_resume_ms", restarts.back(), "ms");

  std::this_thread::sleep_for(5s);  // idle
  r.add("village_idle_rss_mb", rss_mb(net.process(kVillage).pid()), "MB");
  net.stop_all();

  r.save(argv[3]);
  std::printf("written %s\n", argv[3]);
  return 0;
}
