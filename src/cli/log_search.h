// What `wisp activation logs --grep/--since/--until` keeps: the time bounds
// as a user writes them and the test each stored log line must pass.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace wisp::cli {

// A bound of a time range, relative to `now_ms` (epoch ms): a duration ago
// ("10m", "2h", "7d"; ParseDuration), an ISO-8601 time ("2026-11-28T07:00:00Z",
// or a date), or epoch milliseconds (wsk's unit for `activation list --since`).
// InvalidArgument naming the three forms otherwise.
Result<int64_t> ParseTimeBound(std::string_view text, int64_t now_ms);

struct LogFilter {
  std::string grep;              // substring the line must hold; "" keeps every line
  bool ignore_case = false;      // -i: compare ASCII letters case-insensitively
  std::optional<int64_t> since;  // the line's own timestamp (when it has one) >= since
  std::optional<int64_t> until;  // ... <= until

  // True when `line`, a stored activation log line ("<ISO time> stdout: text"
  // or text alone), passes. A line without a timestamp is judged by the time
  // bounds of its activation, which the caller has applied already.
  bool Matches(std::string_view line) const;
};

}  // namespace wisp::cli
