// The filters of `wisp activation logs --grep/--since/--until`.
#include "cli/log_search.h"

#include <gtest/gtest.h>

namespace wisp::cli {
namespace {

constexpr int64_t kNow = 1'764'313'200'000;  // 2025-11-28T07:00:00Z

TEST(ParseTimeBoundTest, ReadsDurationsAgoTimesAndEpochMillis) {
  EXPECT_EQ(*ParseTimeBound("10m", kNow), kNow - 600'000);
  EXPECT_EQ(*ParseTimeBound("7d", kNow), kNow - 7 * 86'400'000LL);
  EXPECT_EQ(*ParseTimeBound("2025-11-28T06:00:00Z", kNow), kNow - 3'600'000);
  EXPECT_EQ(*ParseTimeBound("1764313200000", kNow), kNow);
  EXPECT_TRUE(ParseTimeBound("soon", kNow).status().IsInvalidArgument());
  EXPECT_TRUE(ParseTimeBound("", kNow).status().IsInvalidArgument());
}

TEST(LogFilterTest, GrepKeepsLinesHoldingTheText) {
  LogFilter filter;
  filter.grep = "Timeout";
  EXPECT_TRUE(filter.Matches("2025-11-28T07:00:00.1Z stdout: Timeout after 3 s"));
  EXPECT_FALSE(filter.Matches("2025-11-28T07:00:00.1Z stdout: timeout after 3 s"));
  filter.ignore_case = true;
  EXPECT_TRUE(filter.Matches("2025-11-28T07:00:00.1Z stdout: timeout after 3 s"));
  EXPECT_FALSE(filter.Matches("2025-11-28T07:00:00.1Z stdout: all good"));
}

TEST(LogFilterTest, TimeBoundsApplyToTheLinesOwnTimestamp) {
  LogFilter filter;
  filter.since = kNow - 60'000;
  filter.until = kNow;
  EXPECT_TRUE(filter.Matches("2025-11-28T06:59:30.000000000Z  stdout: in range"));
  EXPECT_FALSE(filter.Matches("2025-11-28T06:58:00.000Z stderr: too early"));
  EXPECT_FALSE(filter.Matches("2025-11-28T07:00:01.000Z stdout: too late"));
  EXPECT_TRUE(filter.Matches("a line without a timestamp"));  // its activation's bounds decide
}

TEST(LogFilterTest, AnEmptyFilterKeepsEverything) {
  EXPECT_TRUE(LogFilter{}.Matches(""));
  EXPECT_TRUE(LogFilter{}.Matches("anything"));
}

}  // namespace
}  // namespace wisp::cli
