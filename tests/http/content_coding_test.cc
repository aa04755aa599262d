// http/content_coding.h: request bodies sent gzip- or deflate-compressed.
#include "http/content_coding.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace wisp::http {
namespace {

// `text` compressed by zlib with the given wrapper (16 + 15: gzip).
std::string Compress(const std::string& text, int window_bits) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&stream, text.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

TEST(ContentCoding, GzipAndDeflateBodiesDecode) {
  const std::string json = R"({"docs":[{"id":"a"}],"note":"caf\u00e9"})";
  EXPECT_EQ(DecodeContentCoding("gzip", Compress(json, 16 + 15), 1 << 20).value(), json);
  EXPECT_EQ(DecodeContentCoding("GZIP", Compress(json, 16 + 15), 1 << 20).value(), json);
  EXPECT_EQ(DecodeContentCoding("deflate", Compress(json, 15), 1 << 20).value(), json);
  EXPECT_EQ(DecodeContentCoding("deflate", Compress(json, -15), 1 << 20).value(), json);
  EXPECT_EQ(DecodeContentCoding("identity", json, 1 << 20).value(), json);
}

TEST(ContentCoding, BadCodingsBytesAndBombsAreRefused) {
  EXPECT_EQ(DecodeContentCoding("br", "x", 100).status().code(), StatusCode::kUnsupportedMediaType);
  EXPECT_TRUE(DecodeContentCoding("gzip", "not gzip at all", 100).status().IsInvalidArgument());
  const std::string gz = Compress(std::string(10000, 'a'), 16 + 15);
  EXPECT_TRUE(DecodeContentCoding("gzip", gz.substr(0, gz.size() / 2), 1 << 20).status().IsInvalidArgument());
  EXPECT_TRUE(DecodeContentCoding("gzip", gz, 1000).status().IsPayloadTooLarge());
}

}  // namespace
}  // namespace wisp::http
