// Metrics for GET /metrics in the Prometheus text exposition format,
// version 0.0.4 (Content-Type: text/plain; version=0.0.4; charset=utf-8).
// Input: counts and latencies gathered by the HTTP layer and the node.
// Output: one text document per scrape.
//
//   # HELP lifeline_http_requests_total HTTP requests answered.
//   # TYPE lifeline_http_requests_total counter
//   lifeline_http_requests_total{method="GET",route="/api/alerts",status="200"} 3
//
// Each family is written as its HELP and TYPE lines followed by all of its
// samples. In HELP text a backslash and a newline are escaped (\\, \n); in a
// label value also a double quote (\"). Numbers are written in the shortest
// form that reads back exactly ("0.25", "1", "1e-05"); infinities as +Inf
// and -Inf, NaN as NaN.
//
// MetricsText is a value built by one thread per scrape (copyable, not
// thread-safe). LatencyHistogram and HttpStats are shared by the HTTP
// handler threads and are thread-safe (one mutex each); not copyable.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace lifeline::web {

enum class MetricType { kCounter, kGauge, kHistogram };

// Label name and value; the value is escaped when written. Names must match
// [a-zA-Z_][a-zA-Z0-9_]* (they are program constants; a bad one aborts).
using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

class MetricsText {
 public:
  // The HELP and TYPE lines that open a family. name must match
  // [a-zA-Z_:][a-zA-Z0-9_:]* (a program constant; a bad one aborts).
  void family(std::string_view name, MetricType type, std::string_view help);
  // One sample line: name{labels} value.
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, const Labels& labels, uint64_t value);
  // A family with a single unlabelled sample.
  void counter(std::string_view name, std::string_view help, uint64_t value);
  void gauge(std::string_view name, std::string_view help, double value);

  const std::string& text() const { return text_; }

 private:
  void sample_prefix(std::string_view name, const Labels& labels);

  std::string text_;  // the document so far
};

// "le" and sample values: shortest exact decimal; +Inf, -Inf, NaN.
std::string format_metric_value(double value);
// value with \ " and newline escaped for a label value.
std::string escape_label_value(std::string_view value);

// 1 ms to 5 s, Prometheus client libraries' defaults below 10 s.
std::vector<double> default_latency_buckets();

// A cumulative histogram of durations in seconds. Not copyable; thread-safe.
class LatencyHistogram {
 public:
  // Requires bounds finite and strictly increasing (may be empty: then only
  // +Inf). The +Inf bucket is implied.
  explicit LatencyHistogram(std::vector<double> bounds_seconds = default_latency_buckets());
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  // Counts one duration in the first bucket whose bound is >= seconds. A
  // negative or NaN duration (a clock step) counts as 0.
  void observe(double seconds);

  // The family (HELP, TYPE histogram) and its samples.
  void write(MetricsText& out, std::string_view name, std::string_view help, const Labels& labels = {}) const;
  // Only the samples: name_bucket{labels...,le="b"} for each bound and
  // +Inf (cumulative), name_sum{labels}, name_count{labels}. For families
  // with several label sets.
  void write_samples(MetricsText& out, std::string_view name, const Labels& labels) const;

  uint64_t count() const;
  double sum() const;

 private:
  const std::vector<double> bounds_;  // upper bounds, increasing, +Inf excluded
  mutable std::mutex mutex_;          // guards the three below
  std::vector<uint64_t> counts_;      // per bucket, not cumulative; last = above every bound
  double sum_ = 0;                    // of observed durations
  uint64_t count_ = 0;                // observations
};

// Requests answered by the HTTP server. Not copyable; thread-safe.
class HttpStats {
 public:
  explicit HttpStats(std::vector<double> bounds_seconds = default_latency_buckets());
  HttpStats(const HttpStats&) = delete;
  HttpStats& operator=(const HttpStats&) = delete;

  // Counts one request. route is the router's pattern ("/api/households/:id"),
  // never the raw path, so that the series stay few; requests no route
  // matched should pass one fixed name such as "unmatched". A method other
  // than GET HEAD POST PUT DELETE PATCH OPTIONS counts as "other" (clients
  // choose it).
  void record(std::string_view method, std::string_view route, int status, double seconds);

  // lifeline_http_requests_total{method,route,status} (counter) and
  // lifeline_http_request_duration_seconds{route} (histogram), ordered by
  // label values.
  void write(MetricsText& out) const;

 private:
  using Key = std::tuple<std::string, std::string, int>;  // method, route, status

  const std::vector<double> bounds_;  // for each route's histogram
  mutable std::mutex mutex_;          // guards the two maps (not the histograms' contents)
  std::map<Key, uint64_t> requests_;  // requests per (method, route, status)
  std::map<std::string, std::unique_ptr<LatencyHistogram>, std::less<>> latency_;  // per route
};

}  // namespace lifeline::web
