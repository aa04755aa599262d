#include "http/url.h"

#include <gtest/gtest.h>

namespace wisp::http {
namespace {

TEST(PercentDecode, DecodesEscapesOfEitherCase) {
  EXPECT_EQ(*PercentDecode("a%20b%2fc%2Fd"), "a b/c/d");
}

TEST(PercentDecode, PlusIsSpaceOnlyWhenAsked) {
  EXPECT_EQ(*PercentDecode("a+b"), "a+b");
  EXPECT_EQ(*PercentDecode("a+b", /*plus_as_space=*/true), "a b");
}

TEST(PercentDecode, RejectsTruncatedAndNonHexEscapes) {
  EXPECT_TRUE(PercentDecode("abc%").status().IsInvalidArgument());
  EXPECT_TRUE(PercentDecode("abc%4").status().IsInvalidArgument());
  EXPECT_TRUE(PercentDecode("%zz").status().IsInvalidArgument());
}

TEST(PercentDecode, RejectsEncodedNul) {
  EXPECT_TRUE(PercentDecode("a%00b").status().IsInvalidArgument());
}

TEST(PercentEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(PercentEncode("_design/x y"), "_design%2Fx%20y");
  const std::string all_bytes = [] {
    std::string s;
    for (int c = 1; c < 256; ++c) s.push_back(static_cast<char>(c));
    return s;
  }();
  EXPECT_EQ(*PercentDecode(PercentEncode(all_bytes)), all_bytes);
}

TEST(SplitPath, DecodesEachSegmentAfterSplitting) {
  auto segments = SplitPath("/db%2Fname/_design%2Fddoc/att%20x");
  ASSERT_TRUE(segments.ok());
  EXPECT_EQ(*segments, (std::vector<std::string>{"db/name", "_design/ddoc", "att x"}));
}

TEST(SplitPath, RootHasNoSegmentsAndTrailingSlashGivesEmptySegment) {
  EXPECT_TRUE(SplitPath("/")->empty());
  EXPECT_EQ(*SplitPath("/a/"), (std::vector<std::string>{"a", ""}));
  EXPECT_EQ(*SplitPath("/a//b"), (std::vector<std::string>{"a", "", "b"}));
}

TEST(SplitPath, KeepsPlusLiteralInPaths) {
  EXPECT_EQ(*SplitPath("/a+b"), (std::vector<std::string>{"a+b"}));
}

TEST(SplitPath, RejectsRelativePathsAndBadEscapes) {
  EXPECT_FALSE(SplitPath("").ok());
  EXPECT_FALSE(SplitPath("a/b").ok());
  EXPECT_FALSE(SplitPath("/a/%g0").ok());
}

TEST(ParseQuery, DecodesNamesAndValuesWithPlusAsSpace) {
  auto q = ParseQuery("startkey=%22a%22&name=x+y&flag&=empty");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->GetOr("startkey", ""), "\"a\"");
  EXPECT_EQ(q->GetOr("name", ""), "x y");
  ASSERT_TRUE(q->Has("flag"));
  EXPECT_EQ(*q->Get("flag"), "");
  EXPECT_EQ(q->GetOr("", "none"), "empty");
}

TEST(ParseQuery, KeepsRepeatedNamesInOrderAndSkipsEmptyPieces) {
  auto q = ParseQuery("k=1&&k=2&");
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->entries().size(), 2u);
  EXPECT_EQ(q->entries()[0].second, "1");
  EXPECT_EQ(q->entries()[1].second, "2");
  EXPECT_EQ(*q->Get("k"), "1");
}

TEST(ParseQuery, RejectsBadEscapes) {
  EXPECT_FALSE(ParseQuery("a=%2").ok());
}

TEST(SplitTarget, SeparatesPathAndQuery) {
  auto t = SplitTarget("/db/_changes?feed=longpoll&since=now");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/db/_changes");
  EXPECT_EQ(t->query, "feed=longpoll&since=now");
}

TEST(SplitTarget, AcceptsAbsoluteFormAsProxiesSendIt) {
  EXPECT_EQ(SplitTarget("http://localhost:5984/db?x=1")->path, "/db");
  EXPECT_EQ(SplitTarget("http://localhost:5984/db?x=1")->query, "x=1");
  EXPECT_EQ(SplitTarget("http://localhost:5984")->path, "/");
  EXPECT_EQ(SplitTarget("http://localhost?x=1")->query, "x=1");
}

TEST(SplitTarget, RejectsAsteriskAndEmptyTargets) {
  EXPECT_FALSE(SplitTarget("*").ok());
  EXPECT_FALSE(SplitTarget("").ok());
  EXPECT_FALSE(SplitTarget("db/doc").ok());
}

}  // namespace
}  // namespace wisp::http
