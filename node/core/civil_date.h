// Calendar dates and Asia/Shanghai time for the monitoring core. A date is
// the integer YYYYMMDD (protocol::Date). Asia/Shanghai is UTC+8 with no
// daylight saving; the machine's local zone is never used.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/domain.h"

namespace lifeline::node {

using protocol::Date;

inline constexpr int64_t kShanghaiOffsetUs = int64_t{8} * 3600 * 1'000'000;

// True when y-m-d is a real Gregorian date (years 1900..9999).
bool valid_date(int y, int m, int d);
// The date y-m-d; nullopt when it is not a real date (valid_date).
std::optional<Date> date_of(int y, int m, int d);
// "YYYY-MM-DD" (also "YYYYMMDD") → date; nullopt when malformed or not a real date.
std::optional<Date> parse_date(std::string_view text);
// As parse_date, and also a four-digit year with month and day of one or
// two digits each, separated by '-' or '/' (YYYY/M/D: the short date of
// spreadsheets in a Chinese locale, as departments' exports carry it).
std::optional<Date> parse_spreadsheet_date(std::string_view text);
// Date → "YYYY-MM-DD".
std::string format_date(Date date);
// Days since 1970-01-01 of date, and back.
int64_t days_from_date(Date date);
Date date_from_days(int64_t days);
// 0 = Monday .. 6 = Sunday.
int weekday(Date date);
Date add_days(Date date, int64_t days);
// The same day `months` calendar months earlier (clamped to the month's last day).
Date subtract_months(Date date, int months);
// The Asia/Shanghai date of a Unix time in microseconds.
Date shanghai_date(int64_t unix_us);
// Unix microseconds of 23:59:59.999999 Asia/Shanghai on date.
int64_t shanghai_end_of_day_us(Date date);

}  // namespace lifeline::node
