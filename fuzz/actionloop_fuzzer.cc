// Fuzzes what wisp reads from an actionloop process: the bytes on fd 3, cut
// into result lines (ResultLineReader) and each classified as the result or
// as a developer error (ClassifyActionloopResult, IsActionloopAck), and the
// same bytes as stdout log lines (EmitLogLines, ActivationLog). A child
// writes whatever it wants, so none of it may crash wisp, a result line is
// never longer than the limit, an activation's result is always an object or
// array, an error result always has "error", and an unfinished log line never
// holds more than kMaxLogLineBytes.
//
// The first input byte picks the line limit and the size of the reads the
// bytes arrive in, as a pipe may split them anywhere.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "util/clock.h"
#include "whisk/actionloop_process.h"
#include "whisk/native_runtime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wisp::whisk;
  if (size == 0) return 0;
  const size_t max_line = 1 + (data[0] & 0x3f) * 4;
  const size_t chunk = 1 + (data[0] >> 6) * 13;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  wisp::FakeClock clock;
  ActivationLog log(512, clock);
  ResultLineReader lines(max_line);
  std::string partial;
  while (!bytes.empty()) {
    const std::string_view piece = bytes.substr(0, chunk);
    bytes.remove_prefix(piece.size());
    lines.Append(piece);
    partial.append(piece);
    (void)EmitLogLines(partial, "stdout", log);
    if (partial.size() > kMaxLogLineBytes) std::abort();

    ResultRead read;
    while (lines.Take(&read)) {
      if (read.status == ResultReadStatus::kLine) {
        if (read.line.size() > max_line || read.line.find('\n') != std::string::npos) std::abort();
      } else if (read.status == ResultReadStatus::kTooLarge) {
        if (read.line.size() != max_line || read.size < max_line) std::abort();
      } else {
        std::abort();
      }
      (void)IsActionloopAck(read.line);
      RunOutcome outcome;
      ClassifyActionloopResult(outcome, read.line);
      if (!outcome.result.is_object() && !outcome.result.is_array()) std::abort();
      if (outcome.status != ActivationStatus::kSuccess && !outcome.result.contains("error")) std::abort();
    }
    if (lines.buffered_bytes() > max_line) std::abort();
  }
  (void)log.Finish();
  return 0;
}
