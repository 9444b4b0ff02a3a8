#include "node/core/civil_date.h"

#include <algorithm>
#include <cstdio>

namespace lifeline::node {
namespace {

constexpr int64_t kUsPerDay = int64_t{86'400} * 1'000'000;
constexpr int kMinYear = 1900;
constexpr int kMaxYear = 9999;

struct Ymd {
  int y, m, d;
};

Ymd split(Date date) {
  return {static_cast<int>(date / 10'000), static_cast<int>(date / 100 % 100), static_cast<int>(date % 100)};
}

Date join(int y, int m, int d) { return static_cast<Date>(y * 10'000 + m * 100 + d); }

bool leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : kDays[m - 1];
}

// Floor division: days before 1970 and instants before the epoch must fall
// on the earlier day, not be truncated toward zero.
int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0) ? 1 : 0); }

// Howard Hinnant's days_from_civil: eras of 400 years (146097 days) with
// the year starting in March, so that the leap day is the era's last day.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146'097 + doe - 719'468;
}

Ymd civil_from_days(int64_t z) {
  z += 719'468;
  const int64_t era = floor_div(z, 146'097);
  const int64_t doe = z - era * 146'097;
  const int64_t yoe = (doe - doe / 1'460 + doe / 36'524 - doe / 146'096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return {static_cast<int>(y), static_cast<int>(m), static_cast<int>(d)};
}

// Reads `count` ASCII digits at `pos`; -1 when any is not a digit.
int read_digits(std::string_view text, size_t pos, size_t count) {
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

bool valid_date(int y, int m, int d) {
  if (y < kMinYear || y > kMaxYear || m < 1 || m > 12) return false;
  return d >= 1 && d <= days_in_month(y, m);
}

std::optional<Date> date_of(int y, int m, int d) {
  if (!valid_date(y, m, d)) return std::nullopt;
  return join(y, m, d);
}

std::optional<Date> parse_date(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    y = read_digits(text, 0, 4), m = read_digits(text, 5, 2), d = read_digits(text, 8, 2);
  } else if (text.size() == 8) {
    y = read_digits(text, 0, 4), m = read_digits(text, 4, 2), d = read_digits(text, 6, 2);
  } else {
    return std::nullopt;
  }
  return date_of(y, m, d);  // also refuses the -1 of a non-digit
}

std::optional<Date> parse_spreadsheet_date(std::string_view text) {
  if (std::optional<Date> iso = parse_date(text)) return iso;
  // YYYY?M?D with ? the same separator twice and one or two digits a part.
  if (text.size() < 8 || text.size() > 10 || (text[4] != '-' && text[4] != '/')) return std::nullopt;
  const size_t second = text.find(text[4], 5);
  if (second == std::string_view::npos || second < 6 || second > 7 || text.size() - second - 1 > 2 ||
      second + 1 == text.size())
    return std::nullopt;
  // date_of also refuses the -1 of a non-digit.
  return date_of(read_digits(text, 0, 4), read_digits(text, 5, second - 5),
                 read_digits(text, second + 1, text.size() - second - 1));
}

std::string format_date(Date date) {
  const Ymd p = split(date);
  if (p.y < 0 || p.y > 9999 || p.m < 0 || p.m > 99 || p.d < 0 || p.d > 99) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", p.y, p.m, p.d);
    return buf;
  }
  // Written by hand: lists of alerts format several dates each, and
  // snprintf was a measurable share of a list's time.
  std::string out(10, '-');
  out[0] = static_cast<char>('0' + p.y / 1000);
  out[1] = static_cast<char>('0' + p.y / 100 % 10);
  out[2] = static_cast<char>('0' + p.y / 10 % 10);
  out[3] = static_cast<char>('0' + p.y % 10);
  out[5] = static_cast<char>('0' + p.m / 10);
  out[6] = static_cast<char>('0' + p.m % 10);
  out[8] = static_cast<char>('0' + p.d / 10);
  out[9] = static_cast<char>('0' + p.d % 10);
  return out;
}

int64_t days_from_date(Date date) {
  const Ymd p = split(date);
  return days_from_civil(p.y, p.m, p.d);
}

Date date_from_days(int64_t days) {
  const Ymd p = civil_from_days(days);
  return join(p.y, p.m, p.d);
}

int weekday(Date date) {
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  const int64_t w = (days_from_date(date) + 3) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

Date add_days(Date date, int64_t days) { return date_from_days(days_from_date(date) + days); }

Date subtract_months(Date date, int months) {
  const Ymd p = split(date);
  const int64_t index = int64_t{p.y} * 12 + (p.m - 1) - months;  // months since year 0
  const int y = static_cast<int>(floor_div(index, 12));
  const int m = static_cast<int>(index - int64_t{y} * 12) + 1;
  // 31 March minus one month is the last day of February, not 3 March.
  const int d = std::min(p.d, days_in_month(y, m));
  return join(y, m, d);
}

Date shanghai_date(int64_t unix_us) { return date_from_days(floor_div(unix_us + kShanghaiOffsetUs, kUsPerDay)); }

int64_t shanghai_end_of_day_us(Date date) { return (days_from_date(date) + 1) * kUsPerDay - kShanghaiOffsetUs - 1; }

}  // namespace lifeline::node
