#include "node/core/workdays.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace lifeline::node {
namespace {

constexpr int kSaturday = 5;
constexpr std::string_view kCsvHeader = "date,kind,name";
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool is_weekend(Date date) { return weekday(date) >= kSaturday; }

// Null when the entry can stand in a calendar on its own, else why not. A
// holiday on a weekend or a worked weekday would be a no-op in our rules, so
// it can only be a typo in the date or the kind.
struct EntryError {
  std::string en, zh;
};
std::optional<EntryError> entry_error(const CalendarEntry& entry) {
  const std::string shown = std::to_string(entry.date);
  if (!valid_date(static_cast<int>(entry.date / 10'000), static_cast<int>(entry.date / 100 % 100),
                  static_cast<int>(entry.date % 100))) {
    return EntryError{"malformed date " + shown, "日期 " + shown + " 无效"};
  }
  const std::string date = format_date(entry.date);
  if (!entry.working && is_weekend(entry.date))
    return EntryError{"holiday " + date + " is a weekend day", "节假日 " + date + " 本是周末，无需列出"};
  if (entry.working && !is_weekend(entry.date))
    return EntryError{"workday " + date + " is a weekday", "调休工作日 " + date + " 本是周一至周五，无需列出"};
  return std::nullopt;
}

// Splits on '\n', dropping a trailing '\r' so that CRLF files read the same.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

Result<CalendarEntry> parse_csv_row(std::string_view line, size_t line_number) {
  const std::string where = "calendar CSV line " + std::to_string(line_number) + ": ";
  const size_t first = line.find(',');
  const size_t second = first == std::string_view::npos ? first : line.find(',', first + 1);
  if (second == std::string_view::npos || line.find(',', second + 1) != std::string_view::npos) {
    return Status::invalid_argument(where + "expected 3 fields date,kind,name");
  }
  const std::optional<Date> date = parse_date(line.substr(0, first));
  if (!date) return Status::invalid_argument(where + "bad date '" + std::string(line.substr(0, first)) + "'");
  const std::string_view kind = line.substr(first + 1, second - first - 1);
  if (kind != "holiday" && kind != "workday") {
    return Status::invalid_argument(where + "kind must be holiday or workday, got '" + std::string(kind) + "'");
  }
  const std::string_view name = line.substr(second + 1);
  if (name.empty()) return Status::invalid_argument(where + "empty name");
  return CalendarEntry{*date, kind == "workday", std::string(name)};
}

}  // namespace

Result<WorkdayCalendar> WorkdayCalendar::from_entries(std::vector<CalendarEntry> entries) {
  WorkdayCalendar calendar;
  for (const CalendarEntry& entry : entries) {
    if (auto error = entry_error(entry)) return Status::invalid_argument("calendar: " + error->en).with_zh("日历：" + error->zh);
    if (!calendar.exceptions_.emplace(entry.date, entry.working).second) {
      const std::string date = format_date(entry.date);
      return Status::invalid_argument("calendar: " + date + " is listed twice").with_zh("日历：" + date + " 重复列出");
    }
    calendar.years_.insert(static_cast<int>(entry.date / 10'000));
  }
  std::sort(entries.begin(), entries.end(),
            [](const CalendarEntry& a, const CalendarEntry& b) { return a.date < b.date; });
  calendar.entries_ = std::move(entries);
  return calendar;
}

Result<WorkdayCalendar> WorkdayCalendar::from_csv(std::string_view text) {
  if (text.starts_with(kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());  // spreadsheet exports add one
  const std::vector<std::string_view> lines = split_lines(text);
  if (lines.empty() || lines[0] != kCsvHeader) {
    return Status::invalid_argument("calendar CSV: the first line must be '" + std::string(kCsvHeader) + "'");
  }
  std::vector<CalendarEntry> entries;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    Result<CalendarEntry> entry = parse_csv_row(lines[i], i + 1);
    if (!entry) return entry.status();
    entries.push_back(std::move(*entry));
  }
  return from_entries(std::move(entries));
}

bool WorkdayCalendar::is_working_day(Date date) const {
  const auto it = exceptions_.find(date);
  if (it != exceptions_.end()) return it->second;
  return !is_weekend(date);
}

Date WorkdayCalendar::add_working_days(Date from, int n) const {
  // Day by day: n is at most a few dozen, and a run of holidays is short.
  Date day = from;
  for (int counted = 0; counted < n;) {
    day = add_days(day, 1);
    if (is_working_day(day)) ++counted;
  }
  return day;
}

bool WorkdayCalendar::covers(Date from, Date to) const {
  for (int year = static_cast<int>(from / 10'000); year <= static_cast<int>(to / 10'000); ++year) {
    if (!years_.contains(year)) return false;
  }
  return true;
}

}  // namespace lifeline::node
