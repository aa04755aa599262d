#include "cli/progress_bar.h"

#include <algorithm>
#include <cmath>

namespace wisp::cli {
namespace {

constexpr std::chrono::milliseconds kRedrawInterval{100};

std::string WithSeparators(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace

std::string FormatProgress(double fraction, int64_t done, int64_t total, std::string_view unit, double seconds,
                           int width) {
  std::string line;
  if (fraction >= 0) {
    fraction = std::min(fraction, 1.0);
    const int filled = static_cast<int>(std::floor(fraction * width));
    line = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] " +
           std::to_string(static_cast<int>(std::floor(fraction * 100))) + "%  ";
  }
  line += WithSeparators(done);
  if (total >= 0) line += "/" + WithSeparators(total);
  line += " " + std::string(unit);
  if (seconds > 0) line += "  " + WithSeparators(static_cast<int64_t>(done / seconds)) + " " + std::string(unit) + "/s";
  return line;
}

ProgressBar::ProgressBar(std::FILE* out, bool enabled, std::string unit)
    : out_(out), enabled_(enabled), unit_(std::move(unit)) {}

void ProgressBar::Update(double fraction, int64_t done, int64_t total, bool force) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && drawn_ && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  drawn_ = true;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  // \033[K clears what a longer previous line left on the right.
  std::fprintf(out_, "\r%s\033[K", FormatProgress(fraction, done, total, unit_, seconds).c_str());
  std::fflush(out_);
}

void ProgressBar::Finish() {
  if (!enabled_ || !drawn_) return;
  std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace wisp::cli
