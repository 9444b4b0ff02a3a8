// make bench, monitoring part: import and scoring throughput with 1,000,000
// monitored persons in the registry (beside raw LMDB batched puts measured
// in the same run, and beside raw LMDB writing exactly the records the import
// wrote: the ceiling LMDB sets on this machine), the same for a department
// feed in which one person in five is monitored, the registry's size per
// person, the time to open a node holding them, and the alert latency from
// an import at the province to the alert applied at a village on a
// five-level network of real processes.
// Merges its figures into RESULTS_JSON (written by lifeline_bench first).
//
// Usage: lifeline_monitor_bench LIFELINE_BIN DIVISIONS_CSV RESULTS_JSON [PERSONS]
// BENCH_EVENTS (environment): events in the import (default 200,000).
// BENCH_IMPORT_RUNS (environment): imports, each into a fresh copy of the
// registry (default 3; the median is import_events_per_s).
// BENCH_IMPORT_ONLY (environment): only the import figures.
// BENCH_PERF_CTL (environment): a perf control FIFO (`perf record -D -1
// --control fifo:FIFO`); the imports of department events, and nothing
// else, are profiled.
#include <lmdb.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "node/core/civil_date.h"
#include "node/core/id_number.h"
#include "node/core/monitor.h"
#include "node/runtime/control.h"
#include "node/runtime/system_clock.h"
#include "tests/bench/bench_common.h"
#include "storage/store.h"
#include "storage/tables.h"
#include "tests/testing/local_network.h"
#include "tests/testing/registry_fixtures.h"

namespace {

using namespace std::chrono_literals;
using lifeline::bench::Clock;
using lifeline::bench::control;
using lifeline::bench::Results;
using lifeline::bench::seconds_since;
using lifeline::node::Instant;
using lifeline::testing::LocalNetwork;
using nlohmann::json;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

Instant now() { return lifeline::runtime::system_now(); }

// Switches perf on or off around a measured section (BENCH_PERF_CTL).
void perf_control(const char* command) {
  const char* fifo = getenv("BENCH_PERF_CTL");
  if (fifo == nullptr) return;
  std::ofstream ctl(fifo);
  ctl << command << '\n';
}

using lifeline::testing::registry_file;
std::string id_number(uint64_t i) { return lifeline::testing::registry_id_number(i); }
std::string events_file(uint64_t events, uint64_t persons, uint64_t salt) {
  return lifeline::testing::events_file(events, persons, salt, lifeline::node::shanghai_date(now().wall_us));
}

void check_mdb(int rc, const char* what) {
  if (rc != 0) {
    std::fprintf(stderr, "%s: %s\n", what, mdb_strerror(rc));
    std::exit(1);
  }
}

MDB_env* open_raw_env(const std::string& dir, unsigned flags) {
  MDB_env* env;
  check_mdb(mdb_env_create(&env), "mdb_env_create");
  check_mdb(mdb_env_set_maxdbs(env, 32), "mdb_env_set_maxdbs");
  check_mdb(mdb_env_set_mapsize(env, size_t{4} << 30), "mdb_env_set_mapsize");
  check_mdb(mdb_env_open(env, dir.c_str(), flags, 0600), "mdb_env_open");
  return env;
}

double raw_lmdb_batched_puts_per_s(const std::string& dir) {
  MDB_env* env = open_raw_env(dir, 0);
  MDB_dbi dbi;
  const int batches = 20, per_batch = 50'000;
  std::string value(120, 'v');
  auto t0 = Clock::now();
  for (int b = 0; b < batches; ++b) {
    MDB_txn* txn;
    check_mdb(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
    check_mdb(mdb_dbi_open(txn, nullptr, 0, &dbi), "mdb_dbi_open");
    for (int i = 0; i < per_batch; ++i) {
      uint64_t key = __builtin_bswap64((static_cast<uint64_t>(b) * per_batch + i) * 2654435761u % 1000003u);
      MDB_val k{8, &key}, v{value.size(), value.data()};
      check_mdb(mdb_put(txn, dbi, &k, &v, 0), "mdb_put");
    }
    check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");
  }
  double rate = batches * per_batch / seconds_since(t0);
  mdb_env_close(env);
  return rate;
}

// One in-process county node over a store on disk. With links, a parent and
// a child are configured, so every change also goes to their outboxes, as
// in production; without, the store holds the registry alone (a network
// whose outboxes have drained).
struct BenchNode {
  std::unique_ptr<lifeline::storage::Store> store;
  std::unique_ptr<lifeline::node::NodeCore> core;
  std::unique_ptr<lifeline::node::Monitor> monitor;

  BenchNode(const std::string& dir, bool links) {
    using lifeline::topology::DivisionCode;
    auto c = [](uint64_t n) { return *DivisionCode::from_number(n); };
    auto opened = lifeline::storage::Store::open(lifeline::storage::StorageOptions{dir, size_t{1} << 30, true}, 441303000000);
    if (!opened) {
      std::fprintf(stderr, "store at %s did not open: %s\n", dir.c_str(), opened.status().to_string().c_str());
      std::exit(1);
    }
    store = std::move(*opened);
    lifeline::topology::Neighbourhood nb = links ? lifeline::topology::Neighbourhood(c(441303000000), c(441300000000), {c(441303001000)})
                                                 : lifeline::topology::Neighbourhood(c(441303000000), std::nullopt, {});
    core = std::make_unique<lifeline::node::NodeCore>(nb, store.get(), lifeline::node::LinkOptions{});
    monitor = std::make_unique<lifeline::node::Monitor>(core.get(), store.get(), lifeline::node::MonitorOptions{});
    core->set_domain(monitor.get());
    if (!core->start(now()) || !monitor->start()) std::abort();
  }
  ~BenchNode() {
    monitor.reset();
    core.reset();
  }
};

// The middle of three or more figures (this machine drifts between runs).
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A fresh copy of a node's store directory.
void copy_store(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
}

// Entries of every domain table, in Table order.
std::vector<uint64_t> table_entries(const lifeline::storage::Store& store) {
  std::vector<uint64_t> n;
  lifeline::Status s = store.read([&](const lifeline::storage::ReadTxn& t) {
    for (size_t i = 0; i < static_cast<size_t>(lifeline::storage::Table::kCount); ++i)
      n.push_back(t.entries(static_cast<lifeline::storage::Table>(i)));
  });
  if (!s) {
    std::fprintf(stderr, "store read failed: %s\n", s.to_string().c_str());
    std::exit(1);
  }
  return n;
}

// The records one import wrote, database by database, each in key order:
// every key of `after` that `before` lacks or holds with another value.
struct WrittenRecords {
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> dbs;
  uint64_t records = 0, bytes = 0;
};

std::string_view sv(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

WrittenRecords written_records(const std::string& before_dir, const std::string& after_dir) {
  MDB_env* before = open_raw_env(before_dir, MDB_RDONLY);
  MDB_env* after = open_raw_env(after_dir, MDB_RDONLY);
  MDB_txn *tb, *ta;
  check_mdb(mdb_txn_begin(before, nullptr, MDB_RDONLY, &tb), "mdb_txn_begin");
  check_mdb(mdb_txn_begin(after, nullptr, MDB_RDONLY, &ta), "mdb_txn_begin");
  // The named databases are the keys of the unnamed one.
  std::vector<std::string> names;
  MDB_dbi main_dbi;
  check_mdb(mdb_dbi_open(ta, nullptr, 0, &main_dbi), "mdb_dbi_open");
  MDB_cursor* c;
  check_mdb(mdb_cursor_open(ta, main_dbi, &c), "mdb_cursor_open");
  MDB_val k, v;
  for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
    names.emplace_back(sv(k));
  mdb_cursor_close(c);
  WrittenRecords out;
  for (const std::string& name : names) {
    MDB_dbi da, db;
    check_mdb(mdb_dbi_open(ta, name.c_str(), 0, &da), name.c_str());
    const bool had = mdb_dbi_open(tb, name.c_str(), 0, &db) == 0;
    std::vector<std::pair<std::string, std::string>> recs;
    check_mdb(mdb_cursor_open(ta, da, &c), "mdb_cursor_open");
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
      MDB_val old;
      MDB_val key = k;
      if (had && mdb_get(tb, db, &key, &old) == 0 && sv(old) == sv(v)) continue;
      recs.emplace_back(sv(k), sv(v));
      out.bytes += k.mv_size + v.mv_size;
    }
    mdb_cursor_close(c);
    out.records += recs.size();
    if (!recs.empty()) out.dbs.emplace_back(name, std::move(recs));
  }
  mdb_txn_abort(ta);
  mdb_txn_abort(tb);
  mdb_env_close(after);
  mdb_env_close(before);
  return out;
}

// The ceiling LMDB itself sets: into a fresh copy of the registry's store,
// one synced transaction that reads what the import must read (each event's
// person, in ID-number order, and each household it found) and puts exactly
// the records the import wrote, database by database in key order (the
// cheapest order there is), without decoding, scoring or encoding anything.
// With `skip` named, that database's records are left out.
double raw_lmdb_same_records_events_per_s(const std::string& registry_dir, const WrittenRecords& w, const std::string& csv,
                                          uint64_t events, const std::string& skip = "") {
  std::vector<std::string> id_numbers;
  id_numbers.reserve(events);
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    size_t a = line.find(','), b = line.find(',', a + 1), c = line.find(',', b + 1);
    id_numbers.push_back(line.substr(b + 1, c - b - 1));
  }
  std::sort(id_numbers.begin(), id_numbers.end());
  lifeline::testing::TempDir copy;
  copy_store(registry_dir, copy.path());
  MDB_env* env = open_raw_env(copy.path(), 0);
  auto t0 = Clock::now();
  MDB_txn* txn;
  check_mdb(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
  MDB_dbi persons, households;
  check_mdb(mdb_dbi_open(txn, lifeline::storage::table_name(lifeline::storage::Table::kPersons), 0, &persons), "persons");
  check_mdb(mdb_dbi_open(txn, lifeline::storage::table_name(lifeline::storage::Table::kHouseholds), 0, &households), "households");
  std::vector<std::string> found;
  found.reserve(events);
  for (const std::string& id : id_numbers) {
    MDB_val k{id.size(), const_cast<char*>(id.data())}, v;
    if (mdb_get(txn, persons, &k, &v) == 0) found.emplace_back(sv(v));
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  size_t held = 0;
  for (const std::string& h : found) {
    MDB_val k{h.size(), const_cast<char*>(h.data())}, v;
    held += mdb_get(txn, households, &k, &v) == 0;
  }
  for (const auto& [name, recs] : w.dbs) {
    if (name == skip) continue;
    MDB_dbi dbi;
    check_mdb(mdb_dbi_open(txn, name.c_str(), MDB_CREATE, &dbi), name.c_str());
    for (const auto& [key, value] : recs) {
      MDB_val k{key.size(), const_cast<char*>(key.data())}, v{value.size(), const_cast<char*>(value.data())};
      check_mdb(mdb_put(txn, dbi, &k, &v, 0), "mdb_put");
    }
  }
  check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");
  const double rate = events / seconds_since(t0);
  mdb_env_close(env);
  if (held != found.size()) {
    std::fprintf(stderr, "raw baseline: %zu of %zu households found\n", held, found.size());
    std::exit(1);
  }
  return rate;
}

void import_benchmarks(Results& r, uint64_t persons, const std::string& tmp) {
  {
    // The baseline too is the median of three runs.
    std::vector<double> raw;
    for (int i = 0; i < 3; ++i) {
      lifeline::testing::TempDir dir;
      raw.push_back(raw_lmdb_batched_puts_per_s(dir.path()));
    }
    r.add("raw_lmdb_batched_puts_per_s", median(raw), "puts/s");
  }
  lifeline::testing::TempDir dir;
  uint64_t households = 0;
  {
    std::string file = registry_file(persons, 441303001001, 28, &households);
    BenchNode node(dir.path(), false);
    auto t0 = Clock::now();
    auto rep = node.monitor->import_households(file, now());
    if (!rep || rep->registered != households) {
      std::fprintf(stderr, "registry import failed: %s\n", rep ? std::to_string(rep->rejected.size()).c_str() : rep.status().to_string().c_str());
      std::exit(1);
    }
    r.add("registry_households_per_s", households / seconds_since(t0), "households/s");
    r.add("registry_bytes_per_person", double(node.store->used_bytes()) / persons, "bytes");
  }
  {
    auto t0 = Clock::now();
    BenchNode node(dir.path(), true);
    r.add("open_1m_ms", seconds_since(t0) * 1000, "ms");
  }
  // The import runs several times, each into a fresh copy of the registry's
  // store, and the median counts: this machine's speed drifts by a third
  // between runs of the same code.
  const uint64_t events = getenv("BENCH_EVENTS") ? std::stoull(getenv("BENCH_EVENTS")) : 200'000;
  const int runs = getenv("BENCH_IMPORT_RUNS") ? std::max(1, std::atoi(getenv("BENCH_IMPORT_RUNS"))) : 3;
  const std::string csv = events_file(events, persons, 1);
  std::vector<double> rates;
  WrittenRecords written;
  for (int run = 0; run < runs; ++run) {
    lifeline::testing::TempDir copy;
    copy_store(dir.path(), copy.path());
    auto node_ptr = std::make_unique<BenchNode>(copy.path(), true);
    BenchNode& node = *node_ptr;
    size_t used0 = node.store->used_bytes();
    const std::vector<uint64_t> entries0 = table_entries(*node.store);
    auto t0 = Clock::now();
    double cpu0 = cpu_seconds();
    perf_control("enable");
    auto rep = node.monitor->import_events(csv, lifeline::node::ImportFormat::kCsv, now());
    perf_control("disable");
    double secs = seconds_since(t0);
    if (!rep || !rep->rejected.empty() || rep->applied != events) {
      std::string why = !rep ? rep.status().to_string()
                        : !rep->rejected.empty() ? rep->rejected.front().reason_en
                                                 : std::to_string(rep->applied) + " of " + std::to_string(events) + " events applied";
      std::fprintf(stderr, "event import failed: %s\n", why.c_str());
      std::exit(1);
    }
    std::printf("  (import %d: %.0f events/s; %.2f s wall, %.2f s CPU; store %.0f -> %.0f MiB; %llu persons in %llu households; "
                "%llu events applied, %llu alerts issued, %llu updated)\n",
                run + 1, events / secs, secs, cpu_seconds() - cpu0, used0 / 1048576.0, node.store->used_bytes() / 1048576.0,
                (unsigned long long)persons, (unsigned long long)households, (unsigned long long)rep->applied,
                (unsigned long long)rep->alerts_issued, (unsigned long long)rep->alerts_updated);
    rates.push_back(events / secs);
    if (run == 0) {
      // The records the import added, table by table (rewrites of existing
      // records are not counted): what one event costs the B-trees.
      const std::vector<uint64_t> entries1 = table_entries(*node.store);
      uint64_t added = 0;
      std::string by_table;
      for (size_t t = 0; t < entries1.size(); ++t) {
        if (entries1[t] == entries0[t]) continue;
        added += entries1[t] - entries0[t];
        by_table += std::string(by_table.empty() ? "" : ", ") + lifeline::storage::table_name(static_cast<lifeline::storage::Table>(t)) +
                    " +" + std::to_string(entries1[t] - entries0[t]);
      }
      std::printf("  (records added by the import: %s)\n", by_table.c_str());
      r.add("import_new_records_per_event", double(added) / events, "records");
      r.add("import_store_growth_mib", (node.store->used_bytes() - used0) / 1048576.0, "MiB");
      node_ptr.reset();  // closed, so that its file can be read raw
      written = written_records(dir.path(), copy.path());
      std::printf("  (records written by the import, outbox and link tables included: %llu, %.1f MiB of keys and values)\n",
                  (unsigned long long)written.records, written.bytes / 1048576.0);
      for (const auto& [name, recs] : written.dbs) {
        uint64_t bytes = 0;
        for (const auto& [k, v] : recs) bytes += k.size() + v.size();
        std::printf("    %-20s %8zu records %7.1f MiB\n", name.c_str(), recs.size(), bytes / 1048576.0);
      }
    }
  }
  // The same ceiling, median of three; then without the outbox, whose
  // records toward parent and child are most of the bytes the import writes.
  for (const std::string skip : {"", lifeline::storage::tables::kOutbox}) {
    std::vector<double> raw;
    for (int i = 0; i < 3; ++i) raw.push_back(raw_lmdb_same_records_events_per_s(dir.path(), written, csv, events, skip));
    std::sort(raw.begin(), raw.end());
    std::printf("  (raw LMDB, the import's records%s: %.0f / %.0f / %.0f events/s)\n", skip.empty() ? "" : " but the outbox's", raw[0],
                raw[1], raw[2]);
    r.add(skip.empty() ? "raw_lmdb_import_records_events_per_s" : "raw_lmdb_import_records_without_outbox_events_per_s", median(raw), "events/s");
  }
  // A feed of the kind departments send: every record of theirs, of which
  // one person in five is monitored here (the others are counted, not
  // stored). Beside the figure above, not instead of it: that one has every
  // line apply to a monitored person.
  {
    const std::string feed = lifeline::testing::events_file(events, 5 * persons, 2, lifeline::node::shanghai_date(now().wall_us));
    std::vector<double> feed_rates;
    for (int run = 0; run < runs; ++run) {
      lifeline::testing::TempDir copy;
      copy_store(dir.path(), copy.path());
      BenchNode node(copy.path(), true);
      auto t0 = Clock::now();
      auto rep = node.monitor->import_events(feed, lifeline::node::ImportFormat::kCsv, now());
      double secs = seconds_since(t0);
      if (!rep || !rep->rejected.empty() || rep->applied + rep->not_monitored != events) {
        std::fprintf(stderr, "feed import failed\n");
        std::exit(1);
      }
      std::printf("  (feed import %d: %.0f lines/s; %llu applied, %llu not monitored, %llu alerts issued)\n", run + 1,
                  events / secs, (unsigned long long)rep->applied, (unsigned long long)rep->not_monitored,
                  (unsigned long long)rep->alerts_issued);
      feed_rates.push_back(events / secs);
    }
    r.add("import_lines_per_s_one_in_five_monitored", median(feed_rates), "lines/s", "raw_lmdb_batched_puts_per_s");
  }
  r.add("import_events_per_s", median(rates), "events/s", "raw_lmdb_batched_puts_per_s");
  r.add("import_events_per_s_vs_same_records", median(rates), "events/s", "raw_lmdb_import_records_events_per_s");
  r.add("import_events_per_s_slowest", *std::min_element(rates.begin(), rates.end()), "events/s");
  r.add("import_events_per_s_fastest", *std::max_element(rates.begin(), rates.end()), "events/s");
}

int64_t own_households(const LocalNetwork& net, const std::string& code) {
  json a = control(net, code, {{"cmd", "aggregates"}}, 10000);
  return a.is_object() && a.value("ok", false) ? a["own"]["figures"]["households"].get<int64_t>() : -1;
}

// 10,000 alerts, imported at the province in 20 files of 500 events a
// second apart; latency = applied (delivered) at the village − issued.
void alert_latency(Results& r, const std::string& bin, const std::string& divisions, int port) {
  const std::vector<std::string> chain = {"440000000000", "441300000000", "441303000000", "441303001000", "441303001001"};
  LocalNetwork net(bin, divisions, chain.front(), chain.back(), port);
  for (const auto& c : chain) net.start(c);
  const uint64_t n = 10'000;
  std::ostringstream reg;
  for (uint64_t i = 0; i < n; ++i)
    reg << json{{"village", "441303001001"}, {"category", "marginal"},
                {"members", json::array({json{{"id_number", id_number(i)}, {"name", "测试"}, {"relation", "head"}}})}}.dump() << "\n";
  lifeline::testing::wait_until([&] { return own_households(net, chain.back()) == 0; }, 30s, 50ms);
  json rep = control(net, chain.back(), {{"cmd", "household"}, {"action", "import"}, {"text", reg.str()}});
  if (!rep.value("ok", false)) {
    std::fprintf(stderr, "registry at the village failed: %s\n", rep.dump().c_str());
    return;
  }
  lifeline::testing::wait_until([&] { return own_households(net, chain.front()) == int64_t(n); }, 300s, 100ms);
  lifeline::node::Date today = lifeline::node::shanghai_date(now().wall_us);
  for (int f = 0; f < 20; ++f) {
    std::ostringstream csv;
    csv << "source_department,source_record_id,id_number,indicator,event_date\n";
    for (uint64_t i = f * 500; i < (f + 1) * 500u; ++i)
      csv << "medical_insurance,LAT-" << i << "," << id_number(i) << ",serious_illness,"
          << lifeline::node::format_date(lifeline::node::add_days(today, -3)) << "\n";
    control(net, chain.front(), {{"cmd", "import"}, {"text", csv.str()}, {"format", "csv"}});
    std::this_thread::sleep_for(1s);
  }
  json alerts;
  lifeline::testing::wait_until([&] {
    alerts = control(net, chain.back(), {{"cmd", "alerts"}, {"state", "delivered"}, {"limit", n}}, 30000);
    return alerts.is_object() && alerts.value("count", 0) == int64_t(n);
  }, 300s, 200ms);
  std::vector<double> lat;
  for (const json& a : alerts["alerts"])
    lat.push_back(a["delivered_at_us"].get<int64_t>() / 1000.0 - a["issued_at_ms"].get<int64_t>());
  net.stop_all();
  if (lat.size() != n) {
    std::fprintf(stderr, "only %zu of %llu alerts reached the village\n", lat.size(), (unsigned long long)n);
    return;
  }
  std::sort(lat.begin(), lat.end());
  r.add("alert_latency_p50_ms", lat[lat.size() / 2], "ms");
  r.add("alert_latency_p99_ms", lat[lat.size() * 99 / 100], "ms");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s LIFELINE_BIN DIVISIONS_CSV RESULTS_JSON [PERSONS]\n", argv[0]);
    return 2;
  }
  uint64_t persons = argc > 4 ? std::stoull(argv[4]) : 1'000'000;
  Results r;
  r.load(argv[3]);
  import_benchmarks(r, persons, "");
  if (!getenv("BENCH_IMPORT_ONLY")) alert_latency(r, argv[1], argv[2], 27000 + static_cast<int>(::getpid() % 100) * 20);
  r.save(argv[3]);
  std::printf("written %s\n", argv[3]);
  return 0;
}
