// CronSchedule: the syntax the alarms feed accepts and the next fire times it
// computes, in UTC and across DST changes of an IANA zone.
#include "whisk/cron.h"

#include <gtest/gtest.h>

namespace wisp::whisk {
namespace {

using Seconds = CronSchedule::Seconds;

// "2024-02-28T23:59:59Z" -> seconds since the epoch (UTC).
Seconds At(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  const std::chrono::sys_days day = std::chrono::year(y) / std::chrono::month(mo) / std::chrono::day(d);
  return Seconds(day) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(s);
}

Seconds Next(const std::string& pattern, Seconds after, const std::string& zone = "") {
  Result<CronSchedule> cron = CronSchedule::Parse(pattern, zone);
  EXPECT_TRUE(cron.ok()) << cron.status().ToString();
  if (!cron.ok()) return Seconds{};
  const std::optional<Seconds> next = cron->Next(after);
  EXPECT_TRUE(next.has_value()) << pattern;
  return next.value_or(Seconds{});
}

TEST(Cron, FiveFieldsStartAtSecondZero) {
  EXPECT_EQ(Next("* * * * *", At(2024, 1, 1, 10, 0, 0)), At(2024, 1, 1, 10, 1, 0));
  EXPECT_EQ(Next("30 9 * * *", At(2024, 1, 1, 10, 0, 0)), At(2024, 1, 2, 9, 30, 0));
}

TEST(Cron, SixFieldsHaveLeadingSeconds) {
  EXPECT_EQ(Next("*/1 * * * * *", At(2024, 1, 1, 10, 0, 0)), At(2024, 1, 1, 10, 0, 1));
  EXPECT_EQ(Next("15,45 * * * * *", At(2024, 1, 1, 10, 0, 20)), At(2024, 1, 1, 10, 0, 45));
}

TEST(Cron, RangesStepsListsAndNames) {
  EXPECT_EQ(Next("0 8-10/2 * * *", At(2024, 1, 1, 8, 30)), At(2024, 1, 1, 10, 0));
  EXPECT_EQ(Next("5/20 * * * *", At(2024, 1, 1, 8, 30)), At(2024, 1, 1, 8, 45));
  EXPECT_EQ(Next("0 0 1 JAN,jul *", At(2024, 2, 1)), At(2024, 7, 1));
  EXPECT_EQ(Next("0 0 * * Mon-Wed", At(2024, 1, 6)), At(2024, 1, 8));  // Saturday -> Monday
  EXPECT_EQ(Next("0 0 * * 7", At(2024, 1, 1)), At(2024, 1, 7));        // 7 is Sunday
}

TEST(Cron, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // The 15th or any Friday: 2024-03-08 is a Friday before the 15th.
  EXPECT_EQ(Next("0 0 15 * fri", At(2024, 3, 1, 12)), At(2024, 3, 8));
  // Only one restricted: both must match (every Friday).
  EXPECT_EQ(Next("0 0 * * fri", At(2024, 3, 8, 12)), At(2024, 3, 15));
}

TEST(Cron, MonthEndsAndLeapYears) {
  EXPECT_EQ(Next("0 0 31 * *", At(2024, 4, 1)), At(2024, 5, 31));
  EXPECT_EQ(Next("0 0 29 2 *", At(2024, 3, 1)), At(2028, 2, 29));
  EXPECT_EQ(Next("59 23 28 2 *", At(2023, 2, 28, 23, 59)), At(2024, 2, 28, 23, 59));
  Result<CronSchedule> never = CronSchedule::Parse("0 0 30 2 *");
  ASSERT_TRUE(never.ok());
  EXPECT_FALSE(never->Next(At(2024, 1, 1)).has_value());
}

TEST(Cron, TimezoneAndDaylightSaving) {
  // 09:00 in New York is 14:00Z in winter and 13:00Z in summer.
  EXPECT_EQ(Next("0 9 * * *", At(2024, 1, 10), "America/New_York"), At(2024, 1, 10, 14));
  EXPECT_EQ(Next("0 9 * * *", At(2024, 7, 10), "America/New_York"), At(2024, 7, 10, 13));
  // 2024-03-10 02:30 does not exist in New York: it fires an hour on, 07:30Z.
  EXPECT_EQ(Next("30 2 * * *", At(2024, 3, 10, 5), "America/New_York"), At(2024, 3, 10, 7, 30));
  // 2024-11-03 01:30 happens twice: it fires once, at the first (EDT, 05:30Z).
  const Seconds first = Next("30 1 * * *", At(2024, 11, 3, 4), "America/New_York");
  EXPECT_EQ(first, At(2024, 11, 3, 5, 30));
  EXPECT_EQ(Next("30 1 * * *", first, "America/New_York"), At(2024, 11, 4, 6, 30));
}

TEST(Cron, BadPatternsAreRefusedWithTheAlarmsText) {
  for (const char* bad : {"", "* * * *", "* * * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
                          "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *", "1,,2 * * * *", "* * * foo *"}) {
    Result<CronSchedule> cron = CronSchedule::Parse(bad);
    ASSERT_FALSE(cron.ok()) << bad;
    EXPECT_EQ(cron.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(cron.status().message().rfind("cron pattern '" + std::string(bad) + "' is not valid", 0), 0u)
        << cron.status().message();
  }
  EXPECT_FALSE(CronSchedule::Parse("* * * * *", "Mars/Olympus").ok());
  EXPECT_FALSE(CronSchedule::Parse("* * * * *", "../../etc/passwd").ok());
}

}  // namespace
}  // namespace wisp::whisk
