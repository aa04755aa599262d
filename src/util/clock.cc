#include "util/clock.h"

#include <ctime>

namespace wisp {

int64_t Clock::NowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch()).count();
}

Clock& Clock::System() {
  static SystemClock clock;
  return clock;
}

FakeClock::FakeClock(WallTime start) : wall_(start), steady_(SteadyTime(std::chrono::hours(1))) {}

Clock::WallTime FakeClock::Now() const {
  std::lock_guard lock(mu_);
  return wall_;
}

Clock::SteadyTime FakeClock::SteadyNow() const {
  std::lock_guard lock(mu_);
  return steady_;
}

void FakeClock::Advance(std::chrono::nanoseconds d) {
  std::vector<std::function<void()>> observers;
  {
    std::lock_guard lock(mu_);
    if (d.count() > 0) {
      wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
      steady_ += d;
    }
    observers = observers_;
  }
  for (auto& observer : observers) observer();
}

void FakeClock::SetWall(WallTime t) {
  std::vector<std::function<void()>> observers;
  {
    std::lock_guard lock(mu_);
    wall_ = t;
    observers = observers_;
  }
  for (auto& observer : observers) observer();
}

void FakeClock::OnChange(std::function<void()> observer) {
  std::lock_guard lock(mu_);
  observers_.push_back(std::move(observer));
}

std::string FormatIso8601(Clock::WallTime t) {
  using namespace std::chrono;
  // floor, not duration_cast: times before 1970 round toward negative infinity,
  // including their sub-millisecond part.
  const auto since_epoch = floor<milliseconds>(t.time_since_epoch());
  const auto secs = floor<seconds>(since_epoch);
  const auto millis = (since_epoch - secs).count();
  const std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return buf;
}

}  // namespace wisp
