#include "whisk/blocking_waits.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include "testing/notification.h"

namespace wisp::whisk {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// What one wait's on_end saw: how often it ran, and with which record.
struct Ends {
  std::mutex mu;
  int calls = 0;
  std::optional<Json> record;  // nullopt: ended without a record
  testing::Notification ended;

  BlockingWaits::OnEnd Callback() {
    return [this](const Json* r) {
      {
        std::lock_guard lock(mu);
        ++calls;
        if (r != nullptr) record = *r;
      }
      ended.Notify();
    };
  }
  int Calls() {
    std::lock_guard lock(mu);
    return calls;
  }
};

TEST(BlockingWaits, AFinishedActivationEndsItsWaitWithTheRecord) {
  BlockingWaits waits;
  Ends ends;
  auto wait = waits.Create(ends.Callback());
  waits.Arm(wait, Clock::now() + 1h);
  EXPECT_EQ(waits.armed(), 1u);
  waits.Finish(wait, Json{{"activationId", "a1"}});
  ASSERT_TRUE(ends.ended.HasBeenNotified()) << "ended on the finishing thread";
  EXPECT_EQ(ends.record, Json({{"activationId", "a1"}}));
  EXPECT_EQ(waits.armed(), 0u);
  waits.Finish(wait, Json{{"activationId", "again"}});
  EXPECT_EQ(ends.Calls(), 1);
}

TEST(BlockingWaits, AnActivationThatEndsBeforeTheWaitIsArmedIsNotMissed) {
  BlockingWaits waits;
  Ends ends;
  auto wait = waits.Create(ends.Callback());
  waits.Finish(wait, Json{{"activationId", "fast"}});
  waits.Arm(wait, Clock::now() + 1h);
  EXPECT_EQ(ends.Calls(), 1);
  EXPECT_EQ(ends.record, Json({{"activationId", "fast"}}));
  EXPECT_EQ(waits.armed(), 0u);
}

TEST(BlockingWaits, ADeadlineEndsTheWaitWithoutARecordAndOnlyOnce) {
  BlockingWaits waits;
  Ends late;
  Ends later;
  auto first = waits.Create(late.Callback());
  auto second = waits.Create(later.Callback());
  waits.Arm(second, Clock::now() + 1h);
  waits.Arm(first, Clock::now() + 20ms);  // a new earliest deadline wakes the thread
  ASSERT_TRUE(late.ended.WaitFor(10s));
  EXPECT_FALSE(late.record.has_value());
  waits.Finish(first, Json{{"activationId", "too late"}});
  EXPECT_EQ(late.Calls(), 1);
  EXPECT_FALSE(later.ended.HasBeenNotified());
  EXPECT_EQ(waits.armed(), 1u);
}

TEST(BlockingWaits, StopAllEndsEveryWaitNowAndLaterOnesAtOnce) {
  BlockingWaits waits;
  Ends armed;
  Ends after;
  auto wait = waits.Create(armed.Callback());
  waits.Arm(wait, Clock::now() + 1h);
  waits.StopAll();
  EXPECT_EQ(armed.Calls(), 1);
  EXPECT_FALSE(armed.record.has_value());
  auto late = waits.Create(after.Callback());
  waits.Arm(late, Clock::now() + 1h);
  EXPECT_EQ(after.Calls(), 1);
  EXPECT_FALSE(after.record.has_value());
}

TEST(BlockingWaits, ADiscardedWaitNeverAnswers) {
  Ends ends;
  {
    BlockingWaits waits;
    auto wait = waits.Create(ends.Callback());
    waits.Discard(wait);
    waits.Arm(wait, Clock::now());
    waits.Finish(wait, Json::object());
  }
  EXPECT_EQ(ends.Calls(), 0);
}

TEST(BlockingWaits, DestructionEndsTheWaitsStillArmed) {
  Ends ends;
  {
    BlockingWaits waits;
    waits.Arm(waits.Create(ends.Callback()), Clock::now() + 1h);
  }
  EXPECT_EQ(ends.Calls(), 1);
  EXPECT_FALSE(ends.record.has_value());
}

TEST(BlockingWaits, AnAnswerThatThrowsDoesNotStopTheOthers) {
  BlockingWaits waits;
  Ends ends;
  auto throwing = waits.Create([](const Json*) { throw std::runtime_error("boom"); });
  auto fine = waits.Create(ends.Callback());
  waits.Arm(throwing, Clock::now());
  waits.Arm(fine, Clock::now() + 10ms);
  ASSERT_TRUE(ends.ended.WaitFor(10s)) << "the deadline thread survived the exception";
}

}  // namespace
}  // namespace wisp::whisk
