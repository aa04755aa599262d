#include "cli/log_search.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "util/clock.h"

namespace wisp::cli {
namespace {

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t Millis(Clock::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

bool ContainsIgnoringCase(std::string_view haystack, std::string_view needle) {
  const auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != haystack.end();
}

// The time at the start of a stored log line ("2026-11-28T07:00:00.123456789Z  stdout: ..."), if any.
std::optional<int64_t> LineTime(std::string_view line) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || space < 10) return std::nullopt;
  Result<Clock::WallTime> t = ParseIso8601(line.substr(0, space));
  if (!t.ok()) return std::nullopt;
  return Millis(*t);
}

}  // namespace

Result<int64_t> ParseTimeBound(std::string_view text, int64_t now_ms) {
  if (AllDigits(text) && text.size() <= 16) return std::stoll(std::string(text));
  if (Result<std::chrono::milliseconds> ago = ParseDuration(text); ago.ok()) return now_ms - ago->count();
  if (Result<Clock::WallTime> at = ParseIso8601(text); at.ok()) return Millis(*at);
  return Status::InvalidArgument("'" + std::string(text) +
                                 "' is not a time: give a duration ago (10m, 2h, 7d), an ISO-8601 time "
                                 "(2026-11-28T07:00:00Z) or epoch milliseconds");
}

bool LogFilter::Matches(std::string_view line) const {
  if (!grep.empty()) {
    const bool found = ignore_case ? ContainsIgnoringCase(line, grep) : line.find(grep) != std::string_view::npos;
    if (!found) return false;
  }
  if (since || until) {
    if (const std::optional<int64_t> t = LineTime(line)) {
      if (since && *t < *since) return false;
      if (until && *t > *until) return false;
    }
  }
  return true;
}

}  // namespace wisp::cli
