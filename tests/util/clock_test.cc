#include "util/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace wisp {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

Clock::WallTime WallAt(seconds s, nanoseconds extra = nanoseconds(0)) {
  return Clock::WallTime(std::chrono::duration_cast<Clock::WallTime::duration>(s + extra));
}

// --- FakeClock ---

TEST(FakeClockTest, StartsAtGivenWallTime) {
  FakeClock clock(WallAt(seconds(1234)));
  EXPECT_EQ(clock.Now(), WallAt(seconds(1234)));
  EXPECT_EQ(clock.NowMillis(), 1'234'000);
}

TEST(FakeClockTest, DefaultStartIsNovember2023) {
  FakeClock clock;
  EXPECT_EQ(clock.NowMillis(), 1'700'000'000'000);
  EXPECT_EQ(FormatIso8601(clock.Now()), "2023-11-14T22:13:20.000Z");
}

TEST(FakeClockTest, TimeDoesNotMoveOnItsOwn) {
  FakeClock clock;
  const auto wall = clock.Now();
  const auto steady = clock.SteadyNow();
  EXPECT_EQ(clock.Now(), wall);
  EXPECT_EQ(clock.SteadyNow(), steady);
}

TEST(FakeClockTest, AdvanceMovesWallAndSteadyByTheSameAmount) {
  FakeClock clock;
  const auto wall = clock.Now();
  const auto steady = clock.SteadyNow();
  clock.Advance(milliseconds(1500));
  EXPECT_EQ(clock.Now() - wall, milliseconds(1500));
  EXPECT_EQ(clock.SteadyNow() - steady, milliseconds(1500));
  EXPECT_EQ(clock.NowMillis(), 1'700'000'001'500);

  clock.Advance(nanoseconds(7));
  EXPECT_EQ(clock.SteadyNow() - steady, milliseconds(1500) + nanoseconds(7));
}

TEST(FakeClockTest, SetWallMovesWallTimeButNotSteadyTime) {
  FakeClock clock;
  const auto steady = clock.SteadyNow();
  clock.SetWall(WallAt(seconds(10)));  // backwards, as after a clock correction
  EXPECT_EQ(clock.Now(), WallAt(seconds(10)));
  EXPECT_EQ(clock.SteadyNow(), steady);

  clock.Advance(seconds(5));
  EXPECT_EQ(clock.Now(), WallAt(seconds(15)));
  EXPECT_EQ(clock.SteadyNow() - steady, seconds(5));
}

TEST(FakeClockTest, ObserversRunAfterEveryAdvanceAndSetWall) {
  FakeClock clock;
  int first = 0;
  int second = 0;
  clock.OnChange([&] { ++first; });
  clock.OnChange([&] { ++second; });

  clock.Advance(seconds(1));
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);

  clock.SetWall(WallAt(seconds(99)));
  EXPECT_EQ(first, 2);
  EXPECT_EQ(second, 2);
}

TEST(FakeClockTest, ObserverSeesTheNewTime) {
  FakeClock clock(WallAt(seconds(100)));
  Clock::WallTime seen{};
  clock.OnChange([&] { seen = clock.Now(); });  // would deadlock if called under the lock
  clock.Advance(seconds(1));
  EXPECT_EQ(seen, WallAt(seconds(101)));
  clock.SetWall(WallAt(seconds(7)));
  EXPECT_EQ(seen, WallAt(seconds(7)));
}

TEST(FakeClockTest, ObserverMayRegisterAnotherObserver) {
  FakeClock clock;
  int inner_calls = 0;
  bool registered = false;
  clock.OnChange([&] {
    if (!registered) {
      registered = true;
      clock.OnChange([&] { ++inner_calls; });
    }
  });
  clock.Advance(seconds(1));
  EXPECT_EQ(inner_calls, 0);  // added during this round; runs from the next one
  clock.Advance(seconds(1));
  EXPECT_EQ(inner_calls, 1);
}

// The pattern the header describes: a waiter re-checks its deadline whenever
// fake time moves, so the test needs no sleep.
TEST(FakeClockTest, WaiterWakesWhenAdvancePassesItsDeadline) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  clock.OnChange([&] {
    std::lock_guard lock(mu);
    cv.notify_all();
  });

  const auto deadline = clock.SteadyNow() + seconds(30);
  std::atomic<bool> woke{false};
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    // The real-time bound only keeps a broken clock from hanging the test.
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return clock.SteadyNow() >= deadline; });
    woke = clock.SteadyNow() >= deadline;
  });

  clock.Advance(seconds(10));
  clock.Advance(seconds(20));
  waiter.join();
  EXPECT_TRUE(woke);
}

TEST(FakeClockTest, ConcurrentAdvancesAllCount) {
  FakeClock clock;
  const auto start = clock.SteadyNow();
  std::atomic<int> notified{0};
  clock.OnChange([&] { ++notified; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) clock.Advance(milliseconds(1));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.SteadyNow() - start, seconds(4));
  EXPECT_EQ(notified.load(), 4000);
}

// --- FormatIso8601 ---

TEST(FormatIso8601Test, FormatsEpoch) {
  EXPECT_EQ(FormatIso8601(Clock::WallTime{}), "1970-01-01T00:00:00.000Z");
}

TEST(FormatIso8601Test, FormatsMilliseconds) {
  EXPECT_EQ(FormatIso8601(WallAt(seconds(1'795'818'600), milliseconds(123))), "2026-11-27T22:30:00.123Z");
  EXPECT_EQ(FormatIso8601(WallAt(seconds(1'700'000'000), milliseconds(7))), "2023-11-14T22:13:20.007Z");
  EXPECT_EQ(FormatIso8601(WallAt(seconds(1'700'000'000), milliseconds(999))), "2023-11-14T22:13:20.999Z");
}

TEST(FormatIso8601Test, TruncatesSubMillisecondsAfter1970) {
  EXPECT_EQ(FormatIso8601(WallAt(seconds(1'700'000'000), microseconds(999'999))), "2023-11-14T22:13:20.999Z");
  EXPECT_EQ(FormatIso8601(WallAt(seconds(0), microseconds(999))), "1970-01-01T00:00:00.000Z");
}

TEST(FormatIso8601Test, FormatsLeapDay) {
  EXPECT_EQ(FormatIso8601(WallAt(seconds(1'709'208'000))), "2024-02-29T12:00:00.000Z");
}

TEST(FormatIso8601Test, RoundsTimesBefore1970TowardNegativeInfinity) {
  EXPECT_EQ(FormatIso8601(WallAt(seconds(0), milliseconds(-1))), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIso8601(WallAt(seconds(-1))), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(FormatIso8601(WallAt(seconds(-1), milliseconds(-1))), "1969-12-31T23:59:58.999Z");
  EXPECT_EQ(FormatIso8601(WallAt(seconds(-2'208'988'800), milliseconds(250))), "1900-01-01T00:00:00.250Z");
}

TEST(FormatIso8601Test, RoundsSubMillisecondsBefore1970TowardNegativeInfinity) {
  // 1.5 ms before the epoch lies in the millisecond that starts at .998.
  EXPECT_EQ(FormatIso8601(WallAt(seconds(0), microseconds(-1500))), "1969-12-31T23:59:59.998Z");
  EXPECT_EQ(FormatIso8601(WallAt(seconds(0), microseconds(-1))), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIso8601(WallAt(seconds(-1), microseconds(-1))), "1969-12-31T23:59:58.999Z");
}

// --- SystemClock ---

TEST(SystemClockTest, NowIsCloseToTheRealClock) {
  Clock& clock = Clock::System();
  const auto before = std::chrono::system_clock::now();
  const auto now = clock.Now();
  const auto after = std::chrono::system_clock::now();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
  EXPECT_GT(clock.NowMillis(), int64_t{1'600'000'000'000});  // after September 2020
}

TEST(SystemClockTest, SteadyTimeNeverGoesBackwards) {
  Clock& clock = Clock::System();
  auto last = clock.SteadyNow();
  for (int i = 0; i < 1000; ++i) {
    const auto now = clock.SteadyNow();
    ASSERT_GE(now, last);
    last = now;
  }
}

TEST(SystemClockTest, SystemReturnsOneSharedInstance) {
  EXPECT_EQ(&Clock::System(), &Clock::System());
  EXPECT_NE(dynamic_cast<SystemClock*>(&Clock::System()), nullptr);
}

}  // namespace
}  // namespace wisp

namespace wisp {
namespace {

int64_t MillisOf(Clock::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TEST(ParseDurationTest, ReadsEveryUnit) {
  EXPECT_EQ(ParseDuration("250ms")->count(), 250);
  EXPECT_EQ(ParseDuration("30s")->count(), 30'000);
  EXPECT_EQ(ParseDuration("10m")->count(), 600'000);
  EXPECT_EQ(ParseDuration("2h")->count(), 7'200'000);
  EXPECT_EQ(ParseDuration("7d")->count(), 604'800'000);
  EXPECT_EQ(ParseDuration("1w")->count(), 604'800'000);
  EXPECT_EQ(ParseDuration("0s")->count(), 0);
}

TEST(ParseDurationTest, RejectsWhatIsNotANumberAndAUnit) {
  for (const char* text : {"", "10", "m", "-5m", "1.5h", "10 m", "10x", "99999999999999d"}) {
    EXPECT_TRUE(ParseDuration(text).status().IsInvalidArgument()) << text;
  }
}

TEST(ParseIso8601Test, ReadsWhatFormatIso8601Writes) {
  const Clock::WallTime t = Clock::WallTime(std::chrono::milliseconds(1'764'313'200'123));
  Result<Clock::WallTime> parsed = ParseIso8601(FormatIso8601(t));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(MillisOf(*parsed), 1'764'313'200'123);
}

TEST(ParseIso8601Test, ReadsOffsetsDatesAndLongFractions) {
  EXPECT_EQ(MillisOf(*ParseIso8601("1970-01-01T01:00:00+01:00")), 0);
  EXPECT_EQ(MillisOf(*ParseIso8601("1970-01-02")), 86'400'000);
  EXPECT_EQ(MillisOf(*ParseIso8601("1970-01-01T00:00:01.5Z")), 1'500);
  EXPECT_EQ(MillisOf(*ParseIso8601("1970-01-01T00:00:00.123456789Z")), 123);
  EXPECT_EQ(MillisOf(*ParseIso8601("1970-01-01T00:01Z")), 60'000);
}

TEST(ParseIso8601Test, RejectsMalformedTimes) {
  for (const char* text : {"", "2026-13-01", "2026-02-30", "2026-11-28T07:00:00", "2026-11-28T25:00:00Z",
                           "2026-11-28T07:00:00Zjunk", "yesterday", "2026-11-28T07:00:00.Z",
                           "2999-01-01"}) {
    EXPECT_TRUE(ParseIso8601(text).status().IsInvalidArgument()) << text;
  }
}

}  // namespace
}  // namespace wisp
