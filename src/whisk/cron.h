// CronSchedule: a parsed cron expression, as the alarms feed takes it (spec
// openwhisk.md §3.3, docs/alarms.md), and the search for its next fire.
//
// Five fields (minute hour day-of-month month day-of-week) or six with a
// leading seconds field. Each field is `*`, a value, a range `a-b`, a step
// `*/n`, `a-b/n` or `a/n`, or a comma list of those; months and weekdays
// also take English names (jan..dec, sun..sat, any case); weekday 7 is
// Sunday. When both day fields are restricted a day matches if either
// does (the classic cron OR rule); otherwise both must.
//
// Times are searched in the schedule's civil time: UTC, or an IANA zone
// read from the system tzdata (util/time_zone.h). A local time skipped by a
// DST change fires at the instant mktime() would map it to (one hour later);
// a local time that occurs twice fires once, at its first occurrence.
//
// Thread-safety: a CronSchedule is immutable after Parse(); Next() may be
// called from any thread.
#pragma once

#include <bitset>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"
#include "util/time_zone.h"

namespace wisp::whisk {

class CronSchedule {
 public:
  using Seconds = std::chrono::sys_seconds;

  // 400-style errors: "cron pattern '<p>' is not valid" with why.
  static Result<CronSchedule> Parse(std::string_view pattern, std::string timezone = "");

  // Whether `zone` names a zone of the system tzdata ("" is UTC).
  static bool IsKnownTimezone(const std::string& zone);

  // The first fire strictly after `after`; nullopt when the pattern never
  // matches in the next eight years (e.g. February 30).
  std::optional<Seconds> Next(Seconds after) const;

  const std::string& pattern() const { return pattern_; }
  const std::string& timezone() const { return timezone_; }

 private:
  bool DayMatches(int year, unsigned month, unsigned day) const;

  std::string pattern_;
  std::string timezone_;                  // "" for UTC
  std::shared_ptr<const TimeZone> zone_;  // null for UTC
  std::bitset<60> seconds_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

}  // namespace wisp::whisk
