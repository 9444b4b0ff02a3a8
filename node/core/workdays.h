// The working-day calendar (工作日 / 调休, DESIGN §2.3): Monday to Friday are
// working days unless listed as a holiday; Saturday and Sunday are days off
// unless listed as an adjusted working day (调休). The entries are policy
// data (pushed down with the policy), never constants in code; the default
// comes from node/data/cn_workday_calendar.csv (a copy of the shared data)
// via the default policy.
//
// Value type; copyable; const methods are thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "node/core/civil_date.h"
#include "topology/status.h"

namespace lifeline::node {

struct CalendarEntry {
  Date date = 0;
  bool working = false;  // true: an adjusted working day (weekend worked); false: a holiday (weekday off)
  std::string name;      // the holiday's name, e.g. 国庆节
  bool operator==(const CalendarEntry&) const = default;
};

class WorkdayCalendar {
 public:
  WorkdayCalendar() = default;
  // Fails on a date listed twice, a holiday on a weekend or a working day
  // on a weekday (the notices never do either), or a malformed date.
  static Result<WorkdayCalendar> from_entries(std::vector<CalendarEntry> entries);
  // CSV with the header "date,kind,name", kind = holiday | workday.
  static Result<WorkdayCalendar> from_csv(std::string_view text);

  bool is_working_day(Date date) const;
  // The N-th working day after `from` (from itself never counts); n ≥ 0.
  Date add_working_days(Date from, int n) const;
  // Years with at least one entry: the years whose notice is loaded.
  const std::set<int>& years() const { return years_; }
  // True when every day in [from, to] lies in a loaded year.
  bool covers(Date from, Date to) const;
  const std::vector<CalendarEntry>& entries() const { return entries_; }
  bool operator==(const WorkdayCalendar& other) const { return entries_ == other.entries_; }

 private:
  std::vector<CalendarEntry> entries_;  // sorted by date
  std::map<Date, bool> exceptions_;     // date -> working
  std::set<int> years_;                 // years present in entries_
};

}  // namespace lifeline::node
