// FaultScript: which simulated request numbers misbehave, and how.
//
// The Stack Exchange and Slack simulators number the requests they serve
// (1, 2, 3, ... admin endpoints excluded) and consult the script before
// answering each one. The script is JSON lines, one fault per line; blank
// lines and lines starting with '#' are ignored:
//
//   {"request": 3, "fault": "throttle", "seconds": 20}
//   {"request": 5, "fault": "http", "status": 503}
//   {"from": 7, "to": 9, "fault": "slow", "ms": 1500}
//
// A line names one request ("request") or an inclusive range ("from"/"to",
// "to" omitted means forever). The fault kinds each simulator understands are
// listed in docs/simulators.md; the other fields are the fault's parameters.
//
// Thread-safety: immutable after Parse(); Find() may be called concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json/json.h"
#include "util/result.h"

namespace wisp::stackoverflow {

struct Fault {
  int64_t from = 0;
  int64_t to = 0;    // inclusive; INT64_MAX when open-ended
  std::string kind;  // "throttle", "http", "slow", ...
  Json params;       // the whole line, for the kind's own fields
};

class FaultScript {
 public:
  // Parses JSON lines; fails with InvalidArgument naming the bad line.
  static Result<FaultScript> Parse(std::string_view text);
  // Reads and parses a file.
  static Result<FaultScript> Load(const std::string& path);

  void Add(Fault fault) { faults_.push_back(std::move(fault)); }
  // The first fault that covers request number `n`, if any.
  std::optional<Fault> Find(int64_t n) const;
  bool empty() const { return faults_.empty(); }

 private:
  std::vector<Fault> faults_;
};

}  // namespace wisp::stackoverflow
