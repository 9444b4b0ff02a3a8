// web/metrics: the Prometheus text format (0.0.4), compared byte for byte.
#include "web/metrics.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace lifeline::web {
namespace {

TEST(MetricsTextTest, WritesFamiliesAndSamplesExactly) {
  MetricsText m;
  m.counter("lifeline_restarts_total", "Restarts, with \\ and a\nnewline.", 7);
  m.family("lifeline_outbox_depth", MetricType::kGauge, "Records waiting to be \"acked\".");
  m.sample("lifeline_outbox_depth", {{"link", "parent"}, {"node", "441303000000"}}, 3.5);
  m.sample("lifeline_outbox_depth", {{"link", "child"}}, 0.0);
  m.gauge("lifeline_uptime_seconds", "Seconds since start.", 12.25);
  EXPECT_EQ(m.text(),
            "# HELP lifeline_restarts_total Restarts, with \\\\ and a\\nnewline.\n"
            "# TYPE lifeline_restarts_total counter\n"
            "lifeline_restarts_total 7\n"
            "# HELP lifeline_outbox_depth Records waiting to be \"acked\".\n"
            "# TYPE lifeline_outbox_depth gauge\n"
            "lifeline_outbox_depth{link=\"parent\",node=\"441303000000\"} 3.5\n"
            "lifeline_outbox_depth{link=\"child\"} 0\n"
            "# HELP lifeline_uptime_seconds Seconds since start.\n"
            "# TYPE lifeline_uptime_seconds gauge\n"
            "lifeline_uptime_seconds 12.25\n");
}

TEST(MetricsTextTest, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), R"(a\\b\"c\nd)");
  EXPECT_EQ(escape_label_value("路由/中文"), "路由/中文");
  MetricsText m;
  m.sample("x", {{"path", "C:\\dir \"q\"\nnext"}}, uint64_t{1});
  EXPECT_EQ(m.text(), "x{path=\"C:\\\\dir \\\"q\\\"\\nnext\"} 1\n");
}

TEST(MetricsTextTest, FormatsNumbersShortestAndSpecials) {
  EXPECT_EQ(format_metric_value(0.001), "0.001");
  EXPECT_EQ(format_metric_value(1), "1");
  EXPECT_EQ(format_metric_value(2.5), "2.5");
  EXPECT_EQ(format_metric_value(-3), "-3");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(std::stod(format_metric_value(0.1 + 0.2)), 0.1 + 0.2);
}

TEST(LatencyHistogramTest, BucketsAreCumulativeAndInclusive) {
  LatencyHistogram h({0.25, 0.5, 1});
  for (double s : {0.125, 0.25, 0.375, 2.0}) h.observe(s);
  h.observe(-1);  // a clock step counts as 0
  MetricsText m;
  h.write(m, "job_seconds", "Job time.", {{"kind", "import"}});
  EXPECT_EQ(m.text(),
            "# HELP job_seconds Job time.\n"
            "# TYPE job_seconds histogram\n"
            "job_seconds_bucket{kind=\"import\",le=\"0.25\"} 3\n"
            "job_seconds_bucket{kind=\"import\",le=\"0.5\"} 4\n"
            "job_seconds_bucket{kind=\"import\",le=\"1\"} 4\n"
            "job_seconds_bucket{kind=\"import\",le=\"+Inf\"} 5\n"
            "job_seconds_sum{kind=\"import\"} 2.75\n"
            "job_seconds_count{kind=\"import\"} 5\n");
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.sum(), 2.75);
}

TEST(LatencyHistogramTest, WithoutLabelsOrObservations) {
  LatencyHistogram h({1});
  MetricsText m;
  h.write_samples(m, "t", {});
  EXPECT_EQ(m.text(), "t_bucket{le=\"1\"} 0\nt_bucket{le=\"+Inf\"} 0\nt_sum 0\nt_count 0\n");
}

TEST(LatencyHistogramTest, DefaultBucketsAreTheDocumentedOnes) {
  EXPECT_EQ(default_latency_buckets(),
            (std::vector<double>{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}));
  LatencyHistogram h;
  h.observe(0.003);
  MetricsText m;
  h.write_samples(m, "d", {});
  EXPECT_NE(m.text().find("d_bucket{le=\"0.0025\"} 0\nd_bucket{le=\"0.005\"} 1\n"), std::string::npos) << m.text();
}

TEST(LatencyHistogramTest, ConcurrentObservationsAreAllCounted) {
  LatencyHistogram h({0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.observe(i % 2 ? 0.25 : 1.0);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(h.count(), 40000u);
  EXPECT_EQ(h.sum(), 20000 * 0.25 + 20000 * 1.0);
}

TEST(HttpStatsTest, CountsByMethodRouteStatusAndTimesByRoute) {
  HttpStats stats({0.01});
  stats.record("GET", "/api/alerts", 200, 0.0078125);
  stats.record("GET", "/api/alerts", 200, 0.015625);
  stats.record("POST", "/api/login", 403, 0.25);
  stats.record("BREW", "/api/alerts", 405, 0.0);
  MetricsText m;
  stats.write(m);
  EXPECT_EQ(m.text(),
            "# HELP lifeline_http_requests_total HTTP requests answered, by method, route pattern and status.\n"
            "# TYPE lifeline_http_requests_total counter\n"
            "lifeline_http_requests_total{method=\"GET\",route=\"/api/alerts\",status=\"200\"} 2\n"
            "lifeline_http_requests_total{method=\"POST\",route=\"/api/login\",status=\"403\"} 1\n"
            "lifeline_http_requests_total{method=\"other\",route=\"/api/alerts\",status=\"405\"} 1\n"
            "# HELP lifeline_http_request_duration_seconds Time to answer an HTTP request, by route pattern.\n"
            "# TYPE lifeline_http_request_duration_seconds histogram\n"
            "lifeline_http_request_duration_seconds_bucket{route=\"/api/alerts\",le=\"0.01\"} 2\n"
            "lifeline_http_request_duration_seconds_bucket{route=\"/api/alerts\",le=\"+Inf\"} 3\n"
            "lifeline_http_request_duration_seconds_sum{route=\"/api/alerts\"} 0.0234375\n"
            "lifeline_http_request_duration_seconds_count{route=\"/api/alerts\"} 3\n"
            "lifeline_http_request_duration_seconds_bucket{route=\"/api/login\",le=\"0.01\"} 0\n"
            "lifeline_http_request_duration_seconds_bucket{route=\"/api/login\",le=\"+Inf\"} 1\n"
            "lifeline_http_request_duration_seconds_sum{route=\"/api/login\"} 0.25\n"
            "lifeline_http_request_duration_seconds_count{route=\"/api/login\"} 1\n");
}

TEST(HttpStatsTest, EmptyStatsWriteTheFamilyHeadersOnly) {
  HttpStats stats;
  MetricsText m;
  stats.write(m);
  EXPECT_EQ(m.text(),
            "# HELP lifeline_http_requests_total HTTP requests answered, by method, route pattern and status.\n"
            "# TYPE lifeline_http_requests_total counter\n"
            "# HELP lifeline_http_request_duration_seconds Time to answer an HTTP request, by route pattern.\n"
            "# TYPE lifeline_http_request_duration_seconds histogram\n");
}

TEST(HttpStatsTest, ConcurrentRecordsAreAllCounted) {
  HttpStats stats({0.01});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&stats, t] {
      for (int i = 0; i < 5000; ++i) stats.record("GET", "/r" + std::to_string(i % 3), 200, 0.001 * t);
    });
  }
  for (std::thread& t : threads) t.join();
  MetricsText m;
  stats.write(m);
  EXPECT_NE(m.text().find("{method=\"GET\",route=\"/r0\",status=\"200\"} 6668\n"), std::string::npos) << m.text();
  EXPECT_NE(m.text().find("_count{route=\"/r2\"} 6664\n"), std::string::npos) << m.text();
}

}  // namespace
}  // namespace lifeline::web
