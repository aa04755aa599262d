// Fuzzes the MIME multipart parser that reads multipart/related document
// uploads (http/multipart.h). The input's first line is the Content-Type,
// the rest the body. Parsing must never crash, and the parts are slices of
// the body: their bytes together never exceed it.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wisp::http;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t eol = input.find('\n');
  const std::string_view content_type = input.substr(0, eol);
  const std::string_view body = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);

  const std::string boundary = MultipartBoundary(content_type);
  if (boundary.size() > content_type.size()) std::abort();
  auto parts = SplitMultipart(body, boundary);
  if (!parts.ok()) return 0;
  size_t bytes = 0;
  for (const MultipartPart& part : *parts) {
    bytes += part.body.size();
    for (const auto& [name, value] : part.headers.entries()) bytes += name.size() + value.size();
  }
  if (bytes > body.size()) std::abort();
  return 0;
}
