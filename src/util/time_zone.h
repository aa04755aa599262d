// TimeZone: an IANA time zone read from the system's tzdata (the TZif files
// under /usr/share/zoneinfo, RFC 8536), converting UTC instants to civil time
// and back without the C library's process-wide TZ variable.
//
// Why not the C library: localtime_r/mktime read the zone from the TZ
// environment variable, and changing it with setenv() while other threads
// read the environment (libcurl does, for proxies) is a data race. libstdc++
// 12 has no C++20 <chrono> zones. TZif is a small, documented format, so the
// alarms scheduler reads it itself.
//
// Instants past the file's last transition follow the POSIX TZ rule in the
// file's footer (e.g. "CET-1CEST,M3.5.0,M10.5.0/3"), as the C library does.
// Leap seconds are ignored (the "right/" zones are not supported).
//
// Thread-safety: a TimeZone is immutable after Load(); every const method may
// be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace wisp {

class TimeZone {
 public:
  // Reads `name` (e.g. "Europe/Berlin") from `zoneinfo_dir`. NotFound for a
  // name that is not a zone file (names with ".." or a leading '/' included),
  // InvalidArgument for a file that is not TZif.
  static Result<TimeZone> Load(std::string_view name, const std::string& zoneinfo_dir = "/usr/share/zoneinfo");

  // Parses TZif bytes; `name` is only for messages.
  static Result<TimeZone> Parse(std::string_view name, std::string_view tzif);

  // UTC, with no transitions.
  static TimeZone Utc();

  // Seconds east of UTC in effect at `utc_seconds` (Unix time).
  int32_t OffsetAt(int64_t utc_seconds) const;

  // The instant of a civil time, given as seconds since 1970-01-01T00:00
  // local. A civil time that occurs twice (a fold, when clocks go back) maps
  // to its first occurrence; one that a gap skips (clocks go forward) maps to
  // the instant the offset before the gap gives, which reads one gap later
  // (02:30 in a 02:00 -> 03:00 gap is 03:30), as mktime() does.
  int64_t ToUtc(int64_t civil_seconds) const;

  // Civil seconds of an instant: utc_seconds + OffsetAt(utc_seconds).
  int64_t ToCivil(int64_t utc_seconds) const { return utc_seconds + OffsetAt(utc_seconds); }

  const std::string& name() const { return name_; }

 private:
  // The POSIX TZ rule of the footer: standard time, and optionally daylight
  // time between two yearly transitions.
  struct PosixRule {
    struct When {
      enum class Kind { kJulian1, kJulian0, kMonthWeekDay } kind = Kind::kMonthWeekDay;
      int day = 0;          // Jn: 1..365; n: 0..365; Mm.w.d: d (0 = Sunday)
      int month = 0;        // Mm.w.d only
      int week = 0;         // Mm.w.d only, 5 = the last
      int32_t time = 7200;  // seconds after local midnight, may be negative or past 24 h
    };
    int32_t std_offset = 0;  // seconds east of UTC
    std::optional<int32_t> dst_offset;
    When dst_start;
    When dst_end;
  };

  static std::optional<PosixRule> ParsePosixRule(std::string_view text);
  static int64_t RuleCivilSeconds(const PosixRule::When& when, int year);
  int32_t RuleOffsetAt(int64_t utc_seconds) const;

  std::string name_;
  std::vector<int64_t> transitions_;   // ascending UTC instants
  std::vector<int32_t> offset_after_;  // the offset from each transition on
  int32_t initial_offset_ = 0;         // before the first transition
  std::optional<PosixRule> rule_;      // after the last transition
};

}  // namespace wisp
