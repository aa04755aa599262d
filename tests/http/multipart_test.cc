#include "http/multipart.h"

#include <gtest/gtest.h>

namespace wisp::http {
namespace {

TEST(MultipartBoundaryTest, QuotedAndBare) {
  EXPECT_EQ(MultipartBoundary(R"(multipart/related; boundary="a b")"), "a b");
  EXPECT_EQ(MultipartBoundary("multipart/related; boundary=xyz; type=application/json"), "xyz");
  EXPECT_EQ(MultipartBoundary("multipart/related"), "");
  EXPECT_EQ(MultipartBoundary(R"(multipart/related; boundary=")"), "");
}

TEST(SplitMultipartTest, PartsWithHeadersAndAPreamble) {
  auto parts = SplitMultipart(
      "ignored\r\n--b\r\nContent-Type: text/plain\r\nX:  y\r\n\r\nhello\r\n--b\r\n\r\n"
      "two\r\nlines\r\n--b--\r\n",
      "b");
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].headers.GetOr("content-type"), "text/plain");
  EXPECT_EQ((*parts)[0].headers.GetOr("X"), "y");
  EXPECT_EQ((*parts)[0].body, "hello");
  EXPECT_TRUE((*parts)[1].headers.entries().empty());
  EXPECT_EQ((*parts)[1].body, "two\r\nlines");
}

// Found while writing the fuzz target's invariant (docs/security.md,
// "Fuzzing"): an empty part, or one whose blank line is the line break in
// front of the next delimiter, took the rest of the body (delimiters and
// all) as its header and its bytes.
TEST(SplitMultipartTest, EmptyPartsStayEmpty) {
  auto right_after = SplitMultipart("--b\r\n--b--", "b");
  ASSERT_TRUE(right_after.ok());
  ASSERT_EQ(right_after->size(), 1u);
  EXPECT_EQ((*right_after)[0].body, "");

  auto blank_line = SplitMultipart("--b\r\n\r\n--b\r\nA: 1\r\n\r\n--b--", "b");
  ASSERT_TRUE(blank_line.ok());
  ASSERT_EQ(blank_line->size(), 2u);
  EXPECT_EQ((*blank_line)[0].body, "");
  EXPECT_TRUE((*blank_line)[0].headers.entries().empty());
  EXPECT_EQ((*blank_line)[1].headers.GetOr("A"), "1");
  EXPECT_EQ((*blank_line)[1].body, "");
}

TEST(SplitMultipartTest, MissingBoundaryOrCloseDelimiterFails) {
  EXPECT_FALSE(SplitMultipart("no delimiter here", "b").ok());
  EXPECT_FALSE(SplitMultipart("--b\r\nA: 1\r\n\r\nbody", "b").ok());
  EXPECT_FALSE(SplitMultipart("--b", "b").ok());
}

}  // namespace
}  // namespace wisp::http
