#include "store/collation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace wisp::store {
namespace {

int Sign(int v) { return (v > 0) - (v < 0); }

Json J(const char* text) { return Json::parse(text); }

// Every value sorts strictly before the next one.
void ExpectStrictlyAscending(const std::vector<Json>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(CollateJson(values[i], values[i]), 0) << values[i].dump();
    for (size_t j = i + 1; j < values.size(); ++j) {
      EXPECT_LT(CollateJson(values[i], values[j]), 0) << values[i].dump() << " < " << values[j].dump();
      EXPECT_GT(CollateJson(values[j], values[i]), 0) << values[j].dump() << " > " << values[i].dump();
    }
  }
}

void ExpectStringsAscending(const std::vector<std::string>& strings) {
  for (size_t i = 0; i + 1 < strings.size(); ++i) {
    EXPECT_LT(CollateString(strings[i], strings[i + 1]), 0) << "'" << strings[i] << "' < '" << strings[i + 1] << "'";
    EXPECT_GT(CollateString(strings[i + 1], strings[i]), 0) << "'" << strings[i + 1] << "' > '" << strings[i] << "'";
  }
}

// The list in CouchDB's couch_mrview_collation_tests.erl and collation.rst,
// less the values that need real ICU (zero-width spaces) and the
// member-order case that a sorted-key DOM cannot express.
TEST(CollateJsonTest, MixedListFromCouchDbSortsInOrder) {
  std::vector<Json> values = {
      J("null"),
      J("false"),
      J("true"),
      J("-2"),
      J("-0.1"),
      J("0"),
      J("0.1"),
      J("1"),
      J("2"),
      J("3.0"),
      J("4"),
      J(R"("a")"),
      J(R"("A")"),
      J(R"("aa")"),
      J(R"("b")"),
      J(R"("B")"),
      J(R"("ba")"),
      J(R"("bb")"),
      J(R"(["a"])"),
      J(R"(["b"])"),
      J(R"(["b","c"])"),
      J(R"(["b","c","a"])"),
      J(R"(["b","d"])"),
      J(R"(["b","d","e"])"),
      J(R"({"a":1})"),
      J(R"({"a":2})"),
      J(R"({"b":1})"),
      J(R"({"b":2})"),
      J(R"({"b":2,"c":2})"),
  };
  ExpectStrictlyAscending(values);

  // Sorting a shuffled copy restores the order.
  std::vector<Json> shuffled = values;
  std::mt19937 rng(42);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  std::sort(shuffled.begin(), shuffled.end(), [](const Json& a, const Json& b) { return CollateJson(a, b) < 0; });
  EXPECT_EQ(shuffled, values);
}

TEST(CollateJsonTest, TypeClassesSortNullFalseTrueNumberStringArrayObject) {
  ExpectStrictlyAscending({J("null"), J("false"), J("true"), J("-1e300"), J("1e300"), J(R"("")"), J(R"("~")"), J("[]"),
                           J("[null]"), J("{}"), J(R"({"":null})")});
  // Type class wins over content.
  EXPECT_LT(CollateJson(J("99999"), J(R"("0")")), 0);
  EXPECT_LT(CollateJson(J(R"("zzz")"), J("[]")), 0);
  EXPECT_LT(CollateJson(J("[{}]"), J("{}")), 0);
  EXPECT_LT(CollateJson(J("true"), J("-5")), 0);
}

TEST(CollateJsonTest, IntegersAndDoublesCompareByValue) {
  EXPECT_EQ(CollateJson(J("1"), J("1.0")), 0);
  EXPECT_EQ(CollateJson(J("-0.0"), J("0")), 0);
  EXPECT_LT(CollateJson(J("1"), J("1.5")), 0);
  EXPECT_GT(CollateJson(J("2"), J("1.5")), 0);
  EXPECT_LT(CollateJson(J("-2"), J("-1.5")), 0);
  EXPECT_GT(CollateJson(J("-1"), J("-1.5")), 0);
  EXPECT_LT(CollateJson(J("3.0"), J("4")), 0);
}

TEST(CollateJsonTest, LargeIntegersCompareExactly) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  const int64_t min = std::numeric_limits<int64_t>::min();
  const uint64_t umax = std::numeric_limits<uint64_t>::max();
  // 2^53 + 1 is not a double; a naive conversion would call these equal.
  EXPECT_GT(CollateJson(Json(int64_t{9007199254740993}), Json(9007199254740992.0)), 0);
  EXPECT_LT(CollateJson(Json(int64_t{9007199254740991}), Json(int64_t{9007199254740992})), 0);
  EXPECT_LT(CollateJson(Json(max), Json(uint64_t{1} << 63)), 0);
  EXPECT_LT(CollateJson(Json(min), Json(uint64_t{0})), 0);
  EXPECT_EQ(CollateJson(Json(int64_t{5}), Json(uint64_t{5})), 0);
  EXPECT_LT(CollateJson(Json(umax), Json(1e20)), 0);
  EXPECT_GT(CollateJson(Json(umax), Json(1e19)), 0);
  EXPECT_EQ(CollateJson(Json(uint64_t{1} << 63), Json(9223372036854775808.0)), 0);
  EXPECT_GT(CollateJson(Json(max), Json(-1e300)), 0);
  EXPECT_EQ(CollateJson(Json(min), Json(-9223372036854775808.0)), 0);
  EXPECT_GT(CollateJson(Json(-1.0), Json(min)), 0);
  EXPECT_LT(CollateJson(Json(-1e19), Json(min)), 0);
}

TEST(CollateJsonTest, NanSortsBelowOtherNumbersAndEqualsItself) {
  const Json nan = Json(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(CollateJson(nan, nan), 0);
  EXPECT_LT(CollateJson(nan, Json(-1e300)), 0);
  EXPECT_LT(CollateJson(nan, Json(int64_t{-5})), 0);
  EXPECT_GT(CollateJson(Json(uint64_t{5}), nan), 0);
  EXPECT_GT(CollateJson(nan, Json(true)), 0);
}

TEST(CollateJsonTest, ArraysCompareElementWiseThenByLength) {
  ExpectStrictlyAscending({J("[]"), J("[1]"), J("[1,1]"), J("[1,2]"), J("[2]"), J(R"([2,"a"])"), J(R"(["a"])")});
  EXPECT_EQ(CollateJson(J("[1,[2,3]]"), J("[1.0,[2,3.0]]")), 0);
  EXPECT_LT(CollateJson(J("[1,[2,3]]"), J("[1,[2,3,0]]")), 0);
}

TEST(CollateJsonTest, ObjectsCompareKeyThenValueThenSize) {
  ExpectStrictlyAscending(
      {J("{}"), J(R"({"a":1})"), J(R"({"a":1,"b":0})"), J(R"({"a":2})"), J(R"({"A":1})"), J(R"({"b":0})")});
  EXPECT_EQ(CollateJson(J(R"({"x":{"y":[1]}})"), J(R"({"x":{"y":[1.0]}})")), 0);
}

TEST(CollateJsonTest, DeeplyNestedValuesDoNotExhaustTheStack) {
  Json a = Json::array();
  Json b = Json::array();
  for (int i = 0; i < 200000; ++i) {
    a = Json::array({std::move(a)});
    b = Json::array({std::move(b)});
  }
  EXPECT_EQ(CollateJson(a, b), 0);
  Json c = Json::object();
  Json d = Json::object();
  for (int i = 0; i < 200000; ++i) {
    c = Json{{"k", std::move(c)}};
    d = Json{{"k", std::move(d)}};
  }
  EXPECT_EQ(CollateJson(c, d), 0);
}

TEST(CollateJsonTest, IsAntisymmetricAndTransitiveOnRandomValues) {
  std::mt19937 rng(7);
  const std::vector<Json> atoms = {J("null"),   J("false"),  J("true"),   J("0"),     J("1.5"),   J("-3"),
                                   J(R"("a")"), J(R"("A")"), J(R"("b")"), J(R"("")"), J(R"("_")")};
  auto random_value = [&](auto& self, int depth) -> Json {
    const int kind = static_cast<int>(rng() % (depth > 2 ? 1 : 3));
    if (kind == 0) return atoms[rng() % atoms.size()];
    Json v = kind == 1 ? Json::array() : Json::object();
    const int n = static_cast<int>(rng() % 3);
    for (int i = 0; i < n; ++i) {
      if (kind == 1) {
        v.push_back(self(self, depth + 1));
      } else {
        v[std::string(1, static_cast<char>('a' + rng() % 3))] = self(self, depth + 1);
      }
    }
    return v;
  };
  std::vector<Json> values;
  for (int i = 0; i < 150; ++i) values.push_back(random_value(random_value, 0));
  for (const Json& x : values) {
    for (const Json& y : values) {
      ASSERT_EQ(Sign(CollateJson(x, y)), -Sign(CollateJson(y, x))) << x.dump() << " vs " << y.dump();
    }
  }
  std::sort(values.begin(), values.end(), [](const Json& a, const Json& b) { return CollateJson(a, b) < 0; });
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    for (size_t j = i + 1; j < values.size(); ++j) ASSERT_LE(CollateJson(values[i], values[j]), 0);
  }
}

TEST(CollateStringTest, CaseIsOnlyATieBreakWithLowercaseFirst) {
  ExpectStringsAscending({"a", "A", "aa", "aA", "Aa", "AA", "ab", "Ab", "b", "B", "ba", "bb"});
  // collation.rst: "abc < Abc < ABC < abc1 < AbcZZZZZ".
  ExpectStringsAscending({"abc", "Abc", "ABC", "abc1", "AbcZZZZZ"});
  // The first case difference from the left decides.
  EXPECT_LT(CollateString("aB", "Ab"), 0);
  EXPECT_LT(CollateString("A", "aa"), 0);
  EXPECT_LT(CollateString("a", "AA"), 0);
}

TEST(CollateStringTest, SymbolsSortBeforeDigitsBeforeLettersInIcuOrder) {
  // ICU root order of ASCII, as printed by ICU 72 for every printable
  // character: whitespace, punctuation and symbols, digits, letters.
  const std::string order =
      "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789aAbBcCdDeEfFgGhHiIjJkKlLmMnNoO"
      "pPqQrRsStTuUvVwWxXyYzZ";
  std::vector<std::string> singles;
  for (char c : order) singles.emplace_back(1, c);
  ExpectStringsAscending(singles);
  EXPECT_LT(CollateString("~", "0"), 0);  // even the "high" ASCII symbols
  EXPECT_LT(CollateString("9", "a"), 0);
  EXPECT_GT(CollateString("Z", "~"), 0);
}

TEST(CollateStringTest, PrimaryDifferenceAnywhereBeatsCase) {
  EXPECT_LT(CollateString("a b", "ab"), 0);   // space sorts below letters
  EXPECT_GT(CollateString("a-b", "a_b"), 0);  // "_" sorts before "-"
  EXPECT_LT(CollateString("Z1", "z2"), 0);
  EXPECT_LT(CollateString("item10", "item9"), 0);  // no numeric collation
}

TEST(CollateStringTest, AsciiControlCharactersAreIgnoredAsIcuIgnoresThem) {
  EXPECT_EQ(CollateString(std::string("a\x01"
                                      "b",
                                      3),
                          "ab"),
            0);
  EXPECT_EQ(CollateString(std::string("\x7f"), ""), 0);
  EXPECT_EQ(CollateString(std::string("\0a", 2), "a"), 0);
  // Whitespace controls are not ignored.
  EXPECT_LT(CollateString("\t", " "), 0);
  EXPECT_LT(CollateString("a\nb", "ab"), 0);
}

TEST(CollateStringTest, NonAsciiSortsAfterAsciiByCodePoint) {
  ExpectStringsAscending({"z", "Z", "\xc3\xa9" /* é */, "\xe2\x82\xac" /* € */, "\xef\xbf\xb0" /* U+FFF0 */,
                          "\xf0\x9f\x98\x80" /* U+1F600 */});
  // The "high" sentinel of collation.rst closes a prefix range.
  EXPECT_LT(CollateString("abcZZZZ", "abc\xef\xbf\xb0"), 0);
  EXPECT_LT(CollateString("abc", "abc\xef\xbf\xb0"), 0);
}

TEST(CollateStringTest, InvalidUtf8SortsLastAndDeterministically) {
  const std::string bad1 = "\xff";
  const std::string bad2 = "\xfe";
  const std::string max = "\xff\xff\xff\xff";  // CouchDB's "max string"
  EXPECT_GT(CollateString(bad1, "\xf4\x8f\xbf\xbf" /* U+10FFFF */), 0);
  EXPECT_GT(CollateString(bad1, bad2), 0);
  EXPECT_GT(CollateString(max, "zzzz"), 0);
  EXPECT_EQ(CollateString(max, max), 0);
  // Truncated, overlong and surrogate sequences are invalid bytes too.
  EXPECT_NE(CollateString("\xc3", "\xc3\xa9"), 0);
  EXPECT_NE(CollateString("\xc0\xaf", "/"), 0);
  EXPECT_NE(CollateString("\xed\xa0\x80", "\xed\x9f\xbf"), 0);
}

TEST(CollateRawTest, IsUnsignedByteOrder) {
  EXPECT_LT(CollateRaw("A", "a"), 0);  // unlike CollateJson
  EXPECT_LT(CollateRaw("Z", "a"), 0);
  EXPECT_LT(CollateRaw("_design/", "_design/ZZZ"), 0);
  EXPECT_LT(CollateRaw("_design/ZZZ", "_design/abc"), 0);
  EXPECT_LT(CollateRaw("abc", "abcd"), 0);
  EXPECT_LT(CollateRaw("~", "\xc3\xa9"), 0);
  EXPECT_EQ(CollateRaw("", ""), 0);
  EXPECT_EQ(CollateRaw("doc", "doc"), 0);
  EXPECT_EQ(CollateRaw("b", "a"), 1);
  EXPECT_EQ(CollateRaw("a", "b"), -1);
}

}  // namespace
}  // namespace wisp::store
