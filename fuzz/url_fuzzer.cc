// Fuzzes the parsers that read request targets straight off the network:
// SplitTarget, SplitPath, ParseQuery and PercentDecode. They must never crash,
// and decoding must agree with encoding.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wisp::http;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto target = SplitTarget(input);
  if (target.ok()) {
    auto segments = SplitPath(target->path);
    (void)segments;
    auto query = ParseQuery(target->query);
    (void)query;
  }
  (void)PercentDecode(input, /*plus_as_space=*/true);

  // Round trip: whatever is encoded decodes to itself (NUL bytes excepted,
  // which decoding refuses on purpose).
  if (input.find('\0') == std::string_view::npos) {
    auto decoded = PercentDecode(PercentEncode(input));
    if (!decoded.ok() || *decoded != input) std::abort();
  }
  return 0;
}
