#include "node/core/civil_date.h"

#include <gtest/gtest.h>

namespace lifeline::node {
namespace {

constexpr int64_t kUsPerHour = int64_t{3600} * 1'000'000;

TEST(CivilDateTest, ValidDateKnowsMonthLengthsAndLeapYears) {
  EXPECT_TRUE(valid_date(2024, 2, 29));  // divisible by 4
  EXPECT_FALSE(valid_date(2025, 2, 29));
  EXPECT_TRUE(valid_date(2000, 2, 29));   // divisible by 400
  EXPECT_FALSE(valid_date(1900, 2, 29));  // divisible by 100 only
  EXPECT_FALSE(valid_date(2024, 4, 31));
  EXPECT_TRUE(valid_date(2024, 12, 31));
  EXPECT_FALSE(valid_date(2024, 13, 1));
  EXPECT_FALSE(valid_date(2024, 0, 1));
  EXPECT_FALSE(valid_date(2024, 1, 0));
  EXPECT_FALSE(valid_date(1899, 12, 31));
  EXPECT_TRUE(valid_date(1900, 1, 1));
}

TEST(CivilDateTest, ParsesBothFormsAndRejectsTheRest) {
  EXPECT_EQ(parse_date("2024-10-01"), Date{20241001});
  EXPECT_EQ(parse_date("20241001"), Date{20241001});
  EXPECT_EQ(parse_date("2024-02-30"), std::nullopt);
  EXPECT_EQ(parse_date("2024-1-01"), std::nullopt);
  EXPECT_EQ(parse_date("2024/10/01"), std::nullopt);
  EXPECT_EQ(parse_date("2024-10-0a"), std::nullopt);
  EXPECT_EQ(parse_date("+024-10-01"), std::nullopt);
  EXPECT_EQ(parse_date(""), std::nullopt);
  EXPECT_EQ(parse_date("2024-10-011"), std::nullopt);
}

TEST(CivilDateTest, FormatsWithDashes) {
  EXPECT_EQ(format_date(20240105), "2024-01-05");
  EXPECT_EQ(format_date(19000101), "1900-01-01");
}

TEST(CivilDateTest, CountsDaysFromTheEpochBothWays) {
  EXPECT_EQ(days_from_date(19700101), 0);
  EXPECT_EQ(days_from_date(19700102), 1);
  EXPECT_EQ(days_from_date(19691231), -1);
  EXPECT_EQ(days_from_date(20000301), 11'017);
  for (int64_t days : {-25'567, -1, 0, 1, 11'016, 11'017, 19'782, 2'932'896}) {
    EXPECT_EQ(days_from_date(date_from_days(days)), days) << days;
  }
  EXPECT_EQ(date_from_days(-25'567), Date{19000101});
}

TEST(CivilDateTest, WeekdayStartsOnMonday) {
  EXPECT_EQ(weekday(19700101), 3);  // a Thursday
  EXPECT_EQ(weekday(20241001), 1);  // Tuesday
  EXPECT_EQ(weekday(20241005), 5);  // Saturday
  EXPECT_EQ(weekday(20241006), 6);  // Sunday
  EXPECT_EQ(weekday(20241007), 0);  // Monday
  EXPECT_EQ(weekday(19000101), 0);  // Monday, before the epoch
}

TEST(CivilDateTest, AddsDaysAcrossMonthsYearsAndLeapDays) {
  EXPECT_EQ(add_days(20240228, 1), Date{20240229});
  EXPECT_EQ(add_days(20240229, 1), Date{20240301});
  EXPECT_EQ(add_days(20231231, 1), Date{20240101});
  EXPECT_EQ(add_days(20240101, -1), Date{20231231});
  EXPECT_EQ(add_days(20240101, 366), Date{20250101});
}

TEST(CivilDateTest, SubtractMonthsClampsToTheMonthsLastDay) {
  EXPECT_EQ(subtract_months(20250615, 12), Date{20240615});
  EXPECT_EQ(subtract_months(20250331, 1), Date{20250228});
  EXPECT_EQ(subtract_months(20240331, 1), Date{20240229});
  EXPECT_EQ(subtract_months(20250228, 12), Date{20240228});
  EXPECT_EQ(subtract_months(20240229, 12), Date{20230228});
  EXPECT_EQ(subtract_months(20250115, 1), Date{20241215});
  EXPECT_EQ(subtract_months(20250115, 25), Date{20221215});
  EXPECT_EQ(subtract_months(20250115, 0), Date{20250115});
  EXPECT_EQ(subtract_months(20250131, -1), Date{20250228});  // negative adds
}

TEST(CivilDateTest, ShanghaiDateIsUtcPlusEight) {
  // 2024-09-30 15:59:59.999999 UTC is the last instant of 30 September in
  // Shanghai; one microsecond later it is 1 October there.
  const int64_t utc_midnight_oct1 = days_from_date(20241001) * 24 * kUsPerHour;
  const int64_t shanghai_midnight_oct1 = utc_midnight_oct1 - 8 * kUsPerHour;
  EXPECT_EQ(shanghai_date(shanghai_midnight_oct1 - 1), Date{20240930});
  EXPECT_EQ(shanghai_date(shanghai_midnight_oct1), Date{20241001});
  EXPECT_EQ(shanghai_date(0), Date{19700101});                    // 08:00 in Shanghai
  EXPECT_EQ(shanghai_date(-8 * kUsPerHour - 1), Date{19691231});  // before the epoch rounds down
}

TEST(CivilDateTest, EndOfDayIsTheLastMicrosecondInShanghai) {
  const int64_t end = shanghai_end_of_day_us(20241008);
  EXPECT_EQ(shanghai_date(end), Date{20241008});
  EXPECT_EQ(shanghai_date(end + 1), Date{20241009});
  // 23:59:59.999999 +08:00 is 15:59:59.999999 UTC.
  EXPECT_EQ(end, days_from_date(20241008) * 24 * kUsPerHour + 16 * kUsPerHour - 1);
}

}  // namespace
}  // namespace lifeline::node
