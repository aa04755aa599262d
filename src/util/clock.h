// Clock: where the time comes from, so that tests can drive it.
//
// Production code takes a `Clock&` and never calls std::chrono's clocks
// directly. Tests pass a FakeClock and move time with Advance(); code that
// waits for a deadline registers an observer so that it re-checks its
// deadlines whenever fake time moves, instead of sleeping.
//
// Thread-safety: every method of SystemClock and FakeClock may be called from
// any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "util/result.h"

namespace wisp {

class Clock {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  using SteadyTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;

  // Wall-clock time, for timestamps that people and other systems read.
  virtual WallTime Now() const = 0;
  // Monotonic time, for durations and deadlines.
  virtual SteadyTime SteadyNow() const = 0;

  // Milliseconds since the Unix epoch, the unit OpenWhisk and CouchDB use on the wire.
  int64_t NowMillis() const;

  // The process-wide real clock.
  static Clock& System();
};

class SystemClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  SteadyTime SteadyNow() const override { return std::chrono::steady_clock::now(); }
};

// A clock that moves only when told to. Starts at `start` (wall) and at an
// arbitrary steady origin; Advance() moves both by the same amount.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime(std::chrono::seconds(1'700'000'000)));

  WallTime Now() const override;
  SteadyTime SteadyNow() const override;

  // Moves time forward by `d` (which must not be negative), then calls every
  // observer, outside the clock's lock.
  void Advance(std::chrono::nanoseconds d);
  // Sets wall time (e.g. across a DST change) without moving steady time.
  void SetWall(WallTime t);

  // Calls `observer` after each Advance() or SetWall(). Observers live as long
  // as the clock.
  void OnChange(std::function<void()> observer);

 private:
  mutable std::mutex mu_;
  WallTime wall_;                  // GUARDED_BY(mu_)
  SteadyTime steady_;              // GUARDED_BY(mu_)
  std::vector<std::function<void()>> observers_;  // GUARDED_BY(mu_)
};

// "2026-11-27T22:30:00.123Z": UTC with milliseconds, as logs and records print it.
std::string FormatIso8601(Clock::WallTime t);

// "2026-11-27T22:30:00Z", with optional fractional seconds, "Z" or "+HH:MM"
// / "-HH:MM", or a date alone ("2026-11-27", midnight UTC). InvalidArgument
// for anything else.
Result<Clock::WallTime> ParseIso8601(std::string_view text);

// A duration as people write it on a command line: a whole number and a
// unit, "500ms", "30s", "10m", "2h", "7d" or "1w". InvalidArgument, naming
// the text, for a missing or unknown unit, a negative or too large number.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace wisp
