// ProgressBar: one line on a terminal that `wisp backup` and `wisp restore`
// redraw as they go (done, total, percentage, rate), and nothing at all when
// the stream is not a terminal, so logs and pipes stay clean.
//
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace wisp::cli {

// The line, without the carriage return: a bar of `width` cells filled to
// `fraction` (0..1; negative: unknown, no bar), `done` (and `/total` when
// total >= 0) `unit`, and the rate over `seconds`. Numbers get thousands
// separators.
std::string FormatProgress(double fraction, int64_t done, int64_t total, std::string_view unit, double seconds,
                           int width = 30);

class ProgressBar {
 public:
  // Draws on `out` only when `enabled` (the caller checks isatty).
  ProgressBar(std::FILE* out, bool enabled, std::string unit);

  // Redraws, at most ten times a second unless `force`.
  void Update(double fraction, int64_t done, int64_t total, bool force = false);
  // Ends the line, so what follows starts on a fresh one.
  void Finish();

 private:
  std::FILE* out_;
  const bool enabled_;
  const std::string unit_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
};

}  // namespace wisp::cli
