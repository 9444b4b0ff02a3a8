#include "web/metrics.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "topology/status.h"

namespace lifeline::web {
namespace {

constexpr std::string_view kRequestsName = "lifeline_http_requests_total";
constexpr std::string_view kDurationName = "lifeline_http_request_duration_seconds";
constexpr std::array<std::string_view, 7> kMethods = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};

bool is_name_start(char c, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}

bool is_valid_name(std::string_view name, bool colon_ok) {
  if (name.empty() || !is_name_start(name[0], colon_ok)) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return is_name_start(c, colon_ok) || (c >= '0' && c <= '9'); });
}

const char* type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// Backslash and newline escaped, and double quotes too when quote (label
// values; HELP text leaves them, format 0.0.4).
std::string escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) { return escape(help, false); }

std::string_view known_method(std::string_view method) {
  const auto it = std::find(kMethods.begin(), kMethods.end(), method);
  return it == kMethods.end() ? std::string_view("other") : *it;
}

}  // namespace

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  std::array<char, 32> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  LIFELINE_CHECK(ec == std::errc(), "to_chars of a double");
  return std::string(buffer.data(), end);
}

std::string escape_label_value(std::string_view value) { return escape(value, true); }

std::vector<double> default_latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
}

void MetricsText::family(std::string_view name, MetricType type, std::string_view help) {
  LIFELINE_CHECK(is_valid_name(name, true), "bad metric name " + std::string(name));
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  text_ += escape_help(help);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type_name(type);
  text_ += '\n';
}

void MetricsText::sample(std::string_view name, const Labels& labels, double value) {
  sample_prefix(name, labels);
  text_ += format_metric_value(value);
  text_ += '\n';
}

void MetricsText::sample(std::string_view name, const Labels& labels, uint64_t value) {
  sample_prefix(name, labels);
  text_ += std::to_string(value);
  text_ += '\n';
}

void MetricsText::counter(std::string_view name, std::string_view help, uint64_t value) {
  family(name, MetricType::kCounter, help);
  sample(name, {}, value);
}

void MetricsText::gauge(std::string_view name, std::string_view help, double value) {
  family(name, MetricType::kGauge, help);
  sample(name, {}, value);
}

// name{a="x",b="y"} and the space before the value; no braces without labels.
void MetricsText::sample_prefix(std::string_view name, const Labels& labels) {
  LIFELINE_CHECK(is_valid_name(name, true), "bad metric name " + std::string(name));
  text_ += name;
  for (size_t i = 0; i < labels.size(); ++i) {
    LIFELINE_CHECK(is_valid_name(labels[i].first, false), "bad label name " + std::string(labels[i].first));
    text_ += i == 0 ? '{' : ',';
    text_ += labels[i].first;
    text_ += "=\"";
    text_ += escape_label_value(labels[i].second);
    text_ += '"';
  }
  if (!labels.empty()) text_ += '}';
  text_ += ' ';
}

LatencyHistogram::LatencyHistogram(std::vector<double> bounds_seconds)
    : bounds_(std::move(bounds_seconds)), counts_(bounds_.size() + 1, 0) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    LIFELINE_CHECK(std::isfinite(bounds_[i]), "histogram bounds must be finite");
    LIFELINE_CHECK(i == 0 || bounds_[i - 1] < bounds_[i], "histogram bounds must increase");
  }
}

void LatencyHistogram::observe(double seconds) {
  if (!(seconds > 0)) seconds = 0;  // negative or NaN
  const size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin();
  std::lock_guard lock(mutex_);
  ++counts_[bucket];
  sum_ += seconds;
  ++count_;
}

void LatencyHistogram::write(MetricsText& out, std::string_view name, std::string_view help,
                             const Labels& labels) const {
  out.family(name, MetricType::kHistogram, help);
  write_samples(out, name, labels);
}

void LatencyHistogram::write_samples(MetricsText& out, std::string_view name, const Labels& labels) const {
  std::vector<uint64_t> counts;
  double sum = 0;
  {
    std::lock_guard lock(mutex_);  // one consistent snapshot: +Inf bucket == count
    counts = counts_;
    sum = sum_;
  }
  const std::string bucket_name = std::string(name) + "_bucket";
  Labels with_le = labels;
  with_le.emplace_back("le", "");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts[i];
    const std::string le = i < bounds_.size() ? format_metric_value(bounds_[i]) : "+Inf";
    with_le.back().second = le;
    out.sample(bucket_name, with_le, cumulative);
  }
  out.sample(std::string(name) + "_sum", labels, sum);
  out.sample(std::string(name) + "_count", labels, cumulative);
}

uint64_t LatencyHistogram::count() const {
  std::lock_guard lock(mutex_);
  return count_;
}

double LatencyHistogram::sum() const {
  std::lock_guard lock(mutex_);
  return sum_;
}

HttpStats::HttpStats(std::vector<double> bounds_seconds) : bounds_(std::move(bounds_seconds)) {
  const LatencyHistogram check(bounds_);  // aborts now, not at the first request, on bad bounds
}

void HttpStats::record(std::string_view method, std::string_view route, int status, double seconds) {
  LatencyHistogram* histogram = nullptr;
  {
    std::lock_guard lock(mutex_);
    ++requests_[Key(std::string(known_method(method)), std::string(route), status)];
    auto it = latency_.find(route);
    if (it == latency_.end()) {
      it = latency_.emplace(std::string(route), std::make_unique<LatencyHistogram>(bounds_)).first;
    }
    histogram = it->second.get();  // lives as long as this; entries are never erased
  }
  histogram->observe(seconds);
}

void HttpStats::write(MetricsText& out) const {
  std::lock_guard lock(mutex_);
  out.family(kRequestsName, MetricType::kCounter, "HTTP requests answered, by method, route pattern and status.");
  for (const auto& [key, count] : requests_) {
    const auto& [method, route, status] = key;
    const std::string status_text = std::to_string(status);
    out.sample(kRequestsName, {{"method", method}, {"route", route}, {"status", status_text}}, count);
  }
  out.family(kDurationName, MetricType::kHistogram, "Time to answer an HTTP request, by route pattern.");
  for (const auto& [route, histogram] : latency_) histogram->write_samples(out, kDurationName, {{"route", route}});
}

}  // namespace lifeline::web
