#include "util/clock.h"

#include <cstdint>
#include <ctime>
#include <string_view>
#include <utility>

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

namespace {

// Reads exactly `n` digits at `pos` into *out.
bool ReadDigits(std::string_view text, size_t& pos, size_t n, int* out) {
  if (pos + n > text.size()) return false;
  int value = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += n;
  *out = value;
  return true;
}

bool Expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

Result<Clock::WallTime> ParseIso8601(std::string_view text) {
  using namespace std::chrono;
  const auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a time: expected e.g. 2026-11-27T22:30:00Z or 2026-11-27");
  };
  size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!ReadDigits(text, pos, 4, &y) || !Expect(text, pos, '-') || !ReadDigits(text, pos, 2, &mo) ||
      !Expect(text, pos, '-') || !ReadDigits(text, pos, 2, &d)) {
    return bad();
  }
  const year_month_day date{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  // WallTime counts nanoseconds: it reaches from 1678 to 2262.
  if (!date.ok() || y < 1678 || y > 2261) return bad();
  milliseconds offset{0};
  milliseconds fraction{0};
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return bad();
    ++pos;
    if (!ReadDigits(text, pos, 2, &h) || !Expect(text, pos, ':') || !ReadDigits(text, pos, 2, &mi) || h > 23 ||
        mi > 59) {
      return bad();
    }
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!ReadDigits(text, pos, 2, &sec) || sec > 60) return bad();
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int64_t scale = 100;
        const size_t first = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          fraction += milliseconds((text[pos] - '0') * scale);
          scale /= 10;
          ++pos;
        }
        if (pos == first) return bad();
      }
    }
    if (pos >= text.size()) return bad();  // a time of day needs its zone
    if (text[pos] == 'Z' || text[pos] == 'z') {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      const int sign = text[pos] == '-' ? -1 : 1;
      ++pos;
      int oh = 0, om = 0;
      if (!ReadDigits(text, pos, 2, &oh) || !Expect(text, pos, ':') || !ReadDigits(text, pos, 2, &om)) return bad();
      offset = sign * (hours(oh) + minutes(om));
    } else {
      return bad();
    }
    if (pos != text.size()) return bad();
  }
  const auto t = sys_days(date) + hours(h) + minutes(mi) + seconds(sec) + fraction - offset;
  return Clock::WallTime(duration_cast<Clock::WallTime::duration>(t.time_since_epoch()));
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  using namespace std::chrono;
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}, {"w", 604'800'000}};
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string_view unit = text.substr(digits);
  for (const auto& [name, ms] : kUnits) {
    if (digits == 0 || digits > 12 || unit != name) continue;
    int64_t n = 0;
    for (size_t i = 0; i < digits; ++i) n = n * 10 + (text[i] - '0');
    if (n > INT64_MAX / ms / 1000) break;
    return milliseconds(n * ms);
  }
  return Status::InvalidArgument("'" + std::string(text) +
                                 "' is not a duration: expected a number and a unit (ms, s, m, h, d, w), e.g. 10m or 7d");
}

}  // namespace wisp
