#include "json/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace wisp {
namespace {

using ::testing::HasSubstr;

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// --- Parse ---

TEST(ParseTest, NumberTooLargeForADoubleIsAnErrorNotACrash) {
  // Found by fuzz/mango_fuzzer: the library throws out_of_range here.
  auto r = json::Parse(R"({"a": 1e999})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("out_of_range"), std::string::npos) << r.status().message();
}

TEST(ParseTest, RefusesNestingDeeperThanTheLimit) {
  // 100,000 levels parse fine in the library, then crash whoever copies or
  // prints the value: the recursion exhausts the stack.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto r = json::Parse(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "JSON nests deeper than 512 levels");
  const std::string at_limit = std::string(json::kMaxDepth, '[') + std::string(json::kMaxDepth, ']');
  EXPECT_TRUE(json::Parse(at_limit).ok());
  // Brackets inside strings do not count.
  EXPECT_TRUE(json::Parse("\"" + std::string(1000, '[') + "\"").ok());
  EXPECT_TRUE(json::Parse(R"({"a":"\"[[[[","b":1})").ok());
}

TEST(ParseTest, ParsesAnObject) {
  Result<Json> r = json::Parse(R"({"name":"hello","limits":{"timeout":60000},"tags":[1,2]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["name"], "hello");
  EXPECT_EQ((*r)["limits"]["timeout"], 60000);
  EXPECT_EQ((*r)["tags"], Json::array({1, 2}));
}

TEST(ParseTest, ParsesAnyTopLevelValue) {
  EXPECT_TRUE(json::Parse("[1,2,3]")->is_array());
  EXPECT_EQ(*json::Parse("42"), 42);
  EXPECT_EQ(*json::Parse("-1.5"), -1.5);
  EXPECT_EQ(*json::Parse(R"("text")"), "text");
  EXPECT_EQ(*json::Parse("true"), true);
  EXPECT_TRUE(json::Parse("null")->is_null());
}

TEST(ParseTest, IgnoresSurroundingWhitespace) {
  Result<Json> r = json::Parse(" \n\t{ \"a\" : 1 }\r\n ");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["a"], 1);
}

TEST(ParseTest, DecodesUnicodeEscapesToUtf8) {
  Result<Json> r = json::Parse(R"("caf\u00e9 \ud83d\ude00")");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->get<std::string>(), "caf\xC3\xA9 \xF0\x9F\x98\x80");
}

TEST(ParseTest, ReadsTextThatIsNotNulTerminated) {
  const std::string buffer = R"({"a":1}garbage)";
  Result<Json> r = json::Parse(std::string_view(buffer).substr(0, 7));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["a"], 1);
}

TEST(ParseTest, InvalidTextIsInvalidArgumentNamingThePosition) {
  Result<Json> r = json::Parse(R"({"a": })");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_THAT(r.status().message(), HasSubstr("parse error"));
  EXPECT_THAT(r.status().message(), HasSubstr("line 1, column 7"));
}

TEST(ParseTest, RejectsMalformedInputs) {
  const char* inputs[] = {
      "",              // empty
      "   ",           // whitespace only
      "{",             // truncated
      R"({"a":1,})",   // trailing comma
      R"({'a':1})",    // single quotes
      "{} {}",         // two values
      "[1] x",         // trailing garbage
      "NaN",           // not JSON
      "// c\n{}",      // comments
      "\"\xFF\"",      // invalid UTF-8 inside a string
      R"("\ud800")",   // lone surrogate escape
      "01",            // leading zero
  };
  for (const char* text : inputs) {
    Result<Json> r = json::Parse(text);
    EXPECT_FALSE(r.ok()) << "accepted: " << text;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << text;
    EXPECT_FALSE(r.status().message().empty()) << text;
  }
}

// --- ParseObject ---

TEST(ParseObjectTest, AcceptsAnObject) {
  Result<Json> r = json::ParseObject(R"({"k":"v"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(json::GetString(*r, "k"), "v");
  EXPECT_TRUE(json::ParseObject("{}").ok());
}

TEST(ParseObjectTest, RejectsArraysAndScalarsWithFixedMessage) {
  for (const char* text : {"[]", "[{}]", "1", "\"{}\"", "true", "null"}) {
    Result<Json> r = json::ParseObject(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << text;
    EXPECT_EQ(r.status().message(), "Request body must be a JSON object") << text;
  }
}

TEST(ParseObjectTest, InvalidJsonReportsTheParseError) {
  Result<Json> r = json::ParseObject("{\"a\":");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_THAT(r.status().message(), HasSubstr("parse error"));
}

// --- Dump and Pretty ---

TEST(DumpTest, WritesCompactTextWithoutSpaces) {
  Json value = {{"b", Json::array({true, nullptr, 1.5})}, {"a", 1}, {"s", "x y"}};
  EXPECT_EQ(json::Dump(value), R"({"a":1,"b":[true,null,1.5],"s":"x y"})");
}

TEST(DumpTest, KeepsNonAsciiAsUtf8) {
  EXPECT_EQ(json::Dump(Json("caf\xC3\xA9")), "\"caf\xC3\xA9\"");
}

TEST(DumpTest, EscapesQuotesAndControlCharacters) {
  EXPECT_EQ(json::Dump(Json(std::string("a\"b\\c\nd\x01", 8))), R"("a\"b\\c\nd\u0001")");
}

TEST(DumpTest, RoundTripsThroughParse) {
  const std::string text = R"({"a":[1,-2,3.25,"x"],"b":{"c":null,"d":false}})";
  Result<Json> r = json::Parse(text);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(json::Dump(*r), text);
}

TEST(DumpTest, ReplacesInvalidUtf8WithReplacementCharacterInsteadOfThrowing) {
  Json value = {{"bad", std::string("a\xFFz")}};
  std::string text;
  ASSERT_NO_THROW(text = json::Dump(value));
  EXPECT_EQ(text, std::string(R"({"bad":"a)") + kReplacement + R"(z"})");
  // The result is valid JSON again.
  Result<Json> back = json::Parse(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(json::GetString(*back, "bad"), std::string("a") + kReplacement + "z");
}

TEST(DumpTest, ReplacesTruncatedSequenceAtEndOfString) {
  std::string text;
  ASSERT_NO_THROW(text = json::Dump(Json(std::string("ab\xC3"))));
  EXPECT_EQ(text, std::string("\"ab") + kReplacement + "\"");
}

TEST(DumpTest, ReplacesInvalidUtf8InKeys) {
  Json value = {{std::string("k\x80"), 1}};
  std::string text;
  ASSERT_NO_THROW(text = json::Dump(value));
  EXPECT_EQ(text, std::string("{\"k") + kReplacement + "\":1}");
}

TEST(PrettyTest, IndentsByTwoSpaces) {
  Json value = {{"a", 1}, {"b", Json::array({true})}};
  EXPECT_EQ(json::Pretty(value), "{\n  \"a\": 1,\n  \"b\": [\n    true\n  ]\n}");
}

TEST(PrettyTest, ReplacesInvalidUtf8InsteadOfThrowing) {
  std::string text;
  ASSERT_NO_THROW(text = json::Pretty(Json(std::string("\xFE"))));
  EXPECT_EQ(text, std::string("\"") + kReplacement + "\"");
}

// --- GetString and GetInt ---

TEST(GetStringTest, ReturnsTheStringAtKey) {
  Json object = {{"name", "hello"}, {"empty", ""}};
  EXPECT_EQ(json::GetString(object, "name"), "hello");
  EXPECT_EQ(json::GetString(object, "empty", "fallback"), "");
}

TEST(GetStringTest, ReturnsFallbackWhenAbsent) {
  Json object = {{"name", "hello"}};
  EXPECT_EQ(json::GetString(object, "kind"), "");
  EXPECT_EQ(json::GetString(object, "kind", "nodejs:20"), "nodejs:20");
}

TEST(GetStringTest, ReturnsFallbackWhenNotAString) {
  Json object = {{"n", 1}, {"b", true}, {"z", nullptr}, {"o", Json::object()}, {"a", Json::array({"x"})}};
  for (const char* key : {"n", "b", "z", "o", "a"}) {
    EXPECT_EQ(json::GetString(object, key, "fb"), "fb") << key;
  }
}

TEST(GetStringTest, ReturnsFallbackWhenNotAnObject) {
  EXPECT_EQ(json::GetString(Json::array({"name"}), "name", "fb"), "fb");
  EXPECT_EQ(json::GetString(Json("name"), "name", "fb"), "fb");
  EXPECT_EQ(json::GetString(Json(), "name", "fb"), "fb");
}

TEST(GetIntTest, ReturnsTheIntegerAtKey) {
  Json object = {{"timeout", 60000}, {"neg", -5}, {"zero", 0},
                 {"max", std::numeric_limits<int64_t>::max()},
                 {"min", std::numeric_limits<int64_t>::min()}};
  EXPECT_EQ(json::GetInt(object, "timeout"), 60000);
  EXPECT_EQ(json::GetInt(object, "neg", 7), -5);
  EXPECT_EQ(json::GetInt(object, "zero", 7), 0);
  EXPECT_EQ(json::GetInt(object, "max"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(json::GetInt(object, "min"), std::numeric_limits<int64_t>::min());
}

TEST(GetIntTest, ReadsParsedUnsignedIntegerInRange) {
  Result<Json> r = json::Parse(R"({"n":9223372036854775807})");  // parsed as unsigned
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(json::GetInt(*r, "n"), std::numeric_limits<int64_t>::max());
}

TEST(GetIntTest, ReturnsFallbackWhenAbsent) {
  Json object = {{"a", 1}};
  EXPECT_EQ(json::GetInt(object, "b"), 0);
  EXPECT_EQ(json::GetInt(object, "b", 42), 42);
}

TEST(GetIntTest, ReturnsFallbackWhenNotAnInteger) {
  Json object = {{"f", 1.5}, {"whole", 2.0}, {"s", "5"}, {"b", true}, {"z", nullptr}, {"a", Json::array({1})}};
  for (const char* key : {"f", "whole", "s", "b", "z", "a"}) {
    EXPECT_EQ(json::GetInt(object, key, -1), -1) << key;
  }
}

TEST(GetIntTest, ReturnsFallbackWhenNotAnObject) {
  EXPECT_EQ(json::GetInt(Json::array({1}), "0", 9), 9);
  EXPECT_EQ(json::GetInt(Json(5), "x", 9), 9);
}

TEST(GetIntTest, ReturnsFallbackForIntegerBeyondInt64) {
  // 2^64 - 1 and 2^63 fit nlohmann's unsigned type but not int64_t; they must
  // not wrap around to negative numbers.
  Result<Json> r = json::Parse(R"({"max":18446744073709551615,"big":9223372036854775808})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(json::GetInt(*r, "max", 7), 7);
  EXPECT_EQ(json::GetInt(*r, "big", 7), 7);
}

}  // namespace
}  // namespace wisp
