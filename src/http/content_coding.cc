#include "http/content_coding.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

namespace wisp::http {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// zlib's inflate; `window_bits` picks the wrapper (gzip, or zlib with a raw
// deflate fallback for senders that omit the zlib header).
Result<std::string> Inflate(std::string_view body, int window_bits, size_t max_bytes) {
  z_stream stream{};
  if (inflateInit2(&stream, window_bits) != Z_OK) return Status::Internal("cannot start zlib");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  stream.avail_in = static_cast<uInt>(body.size());
  std::string out;
  char chunk[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk);
    stream.avail_out = sizeof chunk;
    rc = inflate(&stream, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&stream);
      return Status::InvalidArgument("the request body does not decode");
    }
    out.append(chunk, sizeof chunk - stream.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&stream);
      return Status::PayloadTooLarge("the decoded request body is too large");
    }
    if (rc == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
      inflateEnd(&stream);
      return Status::InvalidArgument("the request body is cut short");
    }
  }
  inflateEnd(&stream);
  return out;
}

}  // namespace

Result<std::string> DecodeContentCoding(std::string_view encoding, std::string_view body, size_t max_bytes) {
  const std::string coding = Lower(encoding);
  if (coding.empty() || coding == "identity") return std::string(body);
  if (coding == "gzip" || coding == "x-gzip") return Inflate(body, 16 + MAX_WBITS, max_bytes);
  if (coding == "deflate") {
    Result<std::string> wrapped = Inflate(body, MAX_WBITS, max_bytes);
    if (wrapped.ok() || wrapped.status().IsPayloadTooLarge()) return wrapped;
    return Inflate(body, -MAX_WBITS, max_bytes);
  }
  return Status::UnsupportedMediaType("Content-Encoding " + std::string(encoding) + " is not supported");
}

}  // namespace wisp::http
