// The working-day calendar against the real State Council notices for
// 2024–2026 (the default policy's calendar, which must equal
// ../shared/data/cn_workday_calendar.csv). Every expected date below was
// counted by hand from the notice; the comments show the count.
#include "node/core/workdays.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "node/core/policy.h"

namespace lifeline::node {
namespace {

const WorkdayCalendar& calendar() { return default_policy().calendar; }

std::string read_shared(const std::string& name) {
  std::ifstream in(std::string(LIFELINE_SHARED_DATA) + "/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(WorkdaysTest, DefaultCalendarEqualsTheSharedCsv) {
  const std::string csv = read_shared("cn_workday_calendar.csv");
  ASSERT_FALSE(csv.empty()) << "cannot read " << LIFELINE_SHARED_DATA;
  Result<WorkdayCalendar> from_csv = WorkdayCalendar::from_csv(csv);
  ASSERT_TRUE(from_csv.is_ok()) << from_csv.status().to_string();
  EXPECT_EQ(from_csv->entries().size(), 75u);
  EXPECT_EQ(from_csv->entries(), calendar().entries());
  EXPECT_EQ(*from_csv, calendar());
}

TEST(WorkdaysTest, WeekdaysWorkWeekendsRestUnlessListed) {
  EXPECT_TRUE(calendar().is_working_day(20240930));   // Monday
  EXPECT_FALSE(calendar().is_working_day(20241001));  // Tuesday, 国庆节
  EXPECT_FALSE(calendar().is_working_day(20241005));  // Saturday, not listed
  EXPECT_TRUE(calendar().is_working_day(20240929));   // Sunday, 调休
  EXPECT_TRUE(calendar().is_working_day(20241012));   // Saturday, 调休
  EXPECT_FALSE(calendar().is_working_day(20241013));  // Sunday
  // A year with no notice loaded falls back to Monday–Friday.
  EXPECT_TRUE(calendar().is_working_day(20271001));   // Friday
  EXPECT_FALSE(calendar().is_working_day(20271002));  // Saturday
}

TEST(WorkdaysTest, ZeroWorkingDaysIsTheDayItself) {
  EXPECT_EQ(calendar().add_working_days(20241001, 0), Date{20241001});  // even a holiday
  EXPECT_EQ(calendar().add_working_days(20240930, 0), Date{20240930});
}

TEST(WorkdaysTest, NextWorkingDayNeverCountsTheStartDay) {
  EXPECT_EQ(calendar().add_working_days(20240930, 1), Date{20241008});  // Mon → after 10/1–10/7
  EXPECT_EQ(calendar().add_working_days(20240927, 1), Date{20240929});  // Fri → Sun 调休
  EXPECT_EQ(calendar().add_working_days(20250103, 1), Date{20250106});  // an ordinary weekend
}

struct DueCase {
  const char* label;
  Date issued;
  uint32_t level;  // level 1 = 3, 2 = 5, 3 = 7, 4 and 5 = 10 working days
  Date due;
};
void PrintTo(const DueCase& c, std::ostream* os) { *os << c.label; }

class DueDateTest : public testing::TestWithParam<DueCase> {};

TEST_P(DueDateTest, CountsWorkingDaysOfTheNotice) {
  const DueCase& c = GetParam();
  EXPECT_EQ(due_date(default_policy(), c.level, c.issued), c.due) << c.label;
}

// 2024 国庆节: off 10/1 (Tue)–10/7 (Mon); Sun 9/29 and Sat 10/12 worked.
// 2025 国庆节、中秋节: off 10/1 (Wed)–10/8 (Wed); Sun 9/28 and Sat 10/11 worked.
// 2026: 中秋节 Fri 9/25 off; 国庆节 off 10/1 (Thu)–10/7 (Wed); Sun 9/20 and Sat 10/10 worked.
INSTANTIATE_TEST_SUITE_P(NationalDay, DueDateTest,
                         testing::Values(
                             // Fri 9/27 + 3: Sat 9/28 off, Sun 9/29 (1), Mon 9/30 (2), 10/1–10/7 off, Tue 10/8 (3).
                             DueCase{"2024 from Fri 9/27", 20240927, 1, 20241008},
                             // Sat 9/28 + 3: Sun 9/29 (1), Mon 9/30 (2), Tue 10/8 (3).
                             DueCase{"2024 from Sat 9/28", 20240928, 1, 20241008},
                             // Mon 9/30 + 3: 10/8 (1), 10/9 (2), 10/10 (3).
                             DueCase{"2024 from Mon 9/30", 20240930, 1, 20241010},
                             // Tue 10/1 + 5: 10/8, 10/9, 10/10, 10/11 (4), Sat 10/12 worked (5).
                             DueCase{"2024 from 10/1", 20241001, 2, 20241012},
                             // Fri 9/26 + 3: Sat 9/27 off, Sun 9/28 (1), Mon 9/29 (2), Tue 9/30 (3).
                             DueCase{"2025 from Fri 9/26", 20250926, 1, 20250930},
                             // Tue 9/30 + 3: 10/1–10/8 off, Thu 10/9 (1), Fri 10/10 (2), Sat 10/11 worked (3).
                             DueCase{"2025 from Tue 9/30", 20250930, 1, 20251011},
                             // Mon 9/29 + 10: 9/30 (1), 10/9 (2), 10/10 (3), 10/11 (4), 10/13–10/17 (5–9),
                             // weekend 10/18–19 off, Mon 10/20 (10).
                             DueCase{"2025 from Mon 9/29", 20250929, 4, 20251020},
                             // Fri 9/18 + 3: Sat 9/19 off, Sun 9/20 (1), Mon 9/21 (2), Tue 9/22 (3).
                             DueCase{"2026 from Fri 9/18", 20260918, 1, 20260922},
                             // Thu 9/24 + 3: Fri 9/25 中秋节, weekend, Mon 9/28 (1), 9/29 (2), 9/30 (3).
                             DueCase{"2026 from Thu 9/24", 20260924, 1, 20260930},
                             // Wed 9/30 + 5: 10/1–10/7 off, Thu 10/8 (1), Fri 10/9 (2), Sat 10/10 worked (3),
                             // Sun 10/11 off, Mon 10/12 (4), Tue 10/13 (5).
                             DueCase{"2026 from Wed 9/30", 20260930, 2, 20261013}));

// 2024 春节: off 2/10 (Sat)–2/17 (Sat), weekdays 2/12–2/16 listed; Sun 2/4 and Sun 2/18 worked.
// 2025 春节: off 1/28 (Tue)–2/4 (Tue); Sun 1/26 and Sat 2/8 worked.
// 2026 春节: off 2/15 (Sun)–2/23 (Mon); Sat 2/14 and Sat 2/28 worked.
INSTANTIATE_TEST_SUITE_P(
    SpringFestival, DueDateTest,
    testing::Values(
        // Fri 2/2 + 3: Sat 2/3 off, Sun 2/4 worked (1), Mon 2/5 (2), Tue 2/6 (3).
        DueCase{"2024 from Fri 2/2", 20240202, 1, 20240206},
        // Thu 2/8 + 3: Fri 2/9 (除夕, worked in 2024) (1), 2/10–2/17 off, Sun 2/18 worked (2), Mon 2/19 (3).
        DueCase{"2024 from Thu 2/8", 20240208, 1, 20240219},
        // Fri 2/9 + 5: Sun 2/18 (1), 2/19 (2), 2/20 (3), 2/21 (4), Thu 2/22 (5).
        DueCase{"2024 from Fri 2/9", 20240209, 2, 20240222},
        // Fri 1/24 + 3: Sat 1/25 off, Sun 1/26 worked (1), Mon 1/27 (2), 1/28–2/4 off, Wed 2/5 (3).
        DueCase{"2025 from Fri 1/24", 20250124, 1, 20250205},
        // Mon 1/27 + 5: 2/5 (1), 2/6 (2), 2/7 (3), Sat 2/8 worked (4), Sun 2/9 off, Mon 2/10 (5).
        DueCase{"2025 from Mon 1/27", 20250127, 2, 20250210},
        // Fri 2/13 + 3: Sat 2/14 worked (1), 2/15–2/23 off, Tue 2/24 (2), Wed 2/25 (3).
        DueCase{"2026 from Fri 2/13", 20260213, 1, 20260225},
        // Tue 2/24 + 5: 2/25 (1), 2/26 (2), 2/27 (3), Sat 2/28 worked (4), Sun 3/1 off, Mon 3/2 (5).
        DueCase{"2026 from Tue 2/24", 20260224, 2, 20260302}));

TEST(WorkdaysTest, CoversOnlyYearsWithANotice) {
  EXPECT_EQ(calendar().years(), (std::set<int>{2024, 2025, 2026}));
  EXPECT_TRUE(calendar().covers(20240101, 20261231));
  EXPECT_TRUE(calendar().covers(20261230, 20261231));
  EXPECT_FALSE(calendar().covers(20261215, 20270105));
  EXPECT_FALSE(calendar().covers(20231231, 20240102));
  EXPECT_FALSE(WorkdayCalendar().covers(20250101, 20250101));
}

TEST(WorkdaysTest, FromEntriesSortsAndRejectsContradictions) {
  Result<WorkdayCalendar> ok = WorkdayCalendar::from_entries(
      {{20250101, false, "元旦"}, {20240929, true, "国庆节"}, {20241001, false, "国庆节"}});
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  ASSERT_EQ(ok->entries().size(), 3u);
  EXPECT_EQ(ok->entries().front().date, Date{20240929});
  EXPECT_EQ(ok->years(), (std::set<int>{2024, 2025}));

  auto fails = [](std::vector<CalendarEntry> entries, const std::string& why) {
    Result<WorkdayCalendar> r = WorkdayCalendar::from_entries(std::move(entries));
    ASSERT_FALSE(r.is_ok()) << why;
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
  };
  fails({{20241001, false, "a"}, {20241001, false, "b"}}, "listed twice");
  fails({{20241005, false, "国庆节"}}, "weekend");  // Saturday as a holiday
  fails({{20241008, true, "国庆节"}}, "weekday");   // Tuesday as a workday
  fails({{20240230, false, "x"}}, "malformed date");
}

TEST(WorkdaysTest, FromCsvNamesTheBadLine) {
  EXPECT_TRUE(WorkdayCalendar::from_csv("date,kind,name\r\n2024-10-01,holiday,国庆节\r\n").is_ok());
  EXPECT_TRUE(WorkdayCalendar::from_csv("\xEF\xBB\xBF"
                                        "date,kind,name\n")
                  .is_ok());
  auto error = [](std::string_view csv) { return WorkdayCalendar::from_csv(csv).status().message(); };
  EXPECT_NE(error("day,kind,name\n").find("first line"), std::string::npos);
  EXPECT_NE(error("date,kind,name\n2024-10-01,holiday,国庆节\n2024-10-32,holiday,x\n").find("line 3"),
            std::string::npos);
  EXPECT_NE(error("date,kind,name\n2024-10-01,off,国庆节\n").find("kind"), std::string::npos);
  EXPECT_NE(error("date,kind,name\n2024-10-01,holiday\n").find("3 fields"), std::string::npos);
  EXPECT_NE(error("date,kind,name\n2024-10-01,holiday,a,b\n").find("3 fields"), std::string::npos);
}

}  // namespace
}  // namespace lifeline::node
