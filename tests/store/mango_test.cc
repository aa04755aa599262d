#include "store/mango.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace wisp::store {
namespace {

Json J(const std::string& text) { return Json::parse(text); }

Selector Sel(const std::string& text) {
  auto parsed = Selector::Parse(J(text));
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status().ToString();
  return parsed.ok() ? *parsed : Selector();
}

bool Matches(const std::string& selector, const std::string& doc) { return Sel(selector).Matches(J(doc)); }

Status ParseError(const Json& selector) {
  auto parsed = Selector::Parse(selector);
  EXPECT_FALSE(parsed.ok()) << selector.dump();
  return parsed.ok() ? Status() : parsed.status();
}

Status ParseError(const std::string& text) { return ParseError(J(text)); }
Status ParseError(const char* text) { return ParseError(J(text)); }

// ---- Normalisation --------------------------------------------------------

TEST(SelectorTest, EmptySelectorMatchesEveryDocument) {
  const Selector s = Sel("{}");
  EXPECT_TRUE(s.MatchesEverything());
  EXPECT_TRUE(s.Matches(J(R"({"_id":"x"})")));
  EXPECT_TRUE(s.Matches(J("{}")));
  EXPECT_TRUE(Selector().Matches(J(R"({"a":1})")));
  EXPECT_EQ(s.ToJson(), J("{}"));
}

TEST(SelectorTest, BareValueIsImplicitEq) {
  EXPECT_TRUE(Matches(R"({"a":1})", R"({"a":1})"));
  EXPECT_TRUE(Matches(R"({"a":1})", R"({"a":1.0})"));  // numbers compare by value
  EXPECT_FALSE(Matches(R"({"a":1})", R"({"a":2})"));
  EXPECT_FALSE(Matches(R"({"a":1})", R"({"a":"1"})"));
  EXPECT_FALSE(Matches(R"({"a":1})", R"({"b":1})"));
  EXPECT_TRUE(Matches(R"({"a":[1,2]})", R"({"a":[1,2]})"));
  EXPECT_FALSE(Matches(R"({"a":[1,2]})", R"({"a":[2,1]})"));
  EXPECT_FALSE(Matches(R"({"a":1})", R"({"a":[1]})"));  // no implicit array traversal
  EXPECT_EQ(Sel(R"({"a":1})").ToJson(), J(R"({"a":{"$eq":1}})"));
}

TEST(SelectorTest, EqNullMatchesNullButNotMissing) {
  EXPECT_TRUE(Matches(R"({"twitter":null})", R"({"twitter":null})"));
  EXPECT_FALSE(Matches(R"({"twitter":null})", R"({"name":"x"})"));
}

TEST(SelectorTest, SeveralFieldsAreAnImplicitAnd) {
  const std::string sel = R"({"name":"Paul","location":"Boston"})";
  EXPECT_TRUE(Matches(sel, R"({"name":"Paul","location":"Boston","age":3})"));
  EXPECT_FALSE(Matches(sel, R"({"name":"Paul","location":"Paris"})"));
  EXPECT_FALSE(Matches(sel, R"({"name":"Paul"})"));
  EXPECT_EQ(Sel(sel).ToJson(), J(R"({"$and":[{"location":{"$eq":"Boston"}},{"name":{"$eq":"Paul"}}]})"));
}

TEST(SelectorTest, SeveralOperatorsOnOneFieldAreAnImplicitAnd) {
  const std::string sel = R"({"age":{"$gt":1,"$lt":5}})";
  EXPECT_TRUE(Matches(sel, R"({"age":3})"));
  EXPECT_FALSE(Matches(sel, R"({"age":5})"));
  EXPECT_FALSE(Matches(sel, R"({"age":1})"));
  EXPECT_EQ(Sel(sel).ToJson(), J(R"({"$and":[{"age":{"$gt":1}},{"age":{"$lt":5}}]})"));
}

TEST(SelectorTest, NestedObjectsNameSubfieldsLikeDottedPaths) {
  for (const std::string sel : {R"({"imdb":{"rating":8}})", R"({"imdb.rating":8})"}) {
    EXPECT_TRUE(Matches(sel, R"({"imdb":{"rating":8,"votes":10}})")) << sel;  // not whole-object equality
    EXPECT_FALSE(Matches(sel, R"({"imdb":{"rating":7}})")) << sel;
    EXPECT_FALSE(Matches(sel, R"({"imdb":8})")) << sel;
    EXPECT_FALSE(Matches(sel, R"({"imdb.rating":8})")) << sel;
    EXPECT_EQ(Sel(sel).ToJson(), J(R"({"imdb.rating":{"$eq":8}})"));
  }
  EXPECT_TRUE(Matches(R"({"a":{"b":{"c":{"$gte":2}}}})", R"({"a":{"b":{"c":3}}})"));
  EXPECT_TRUE(Matches(R"({"a.b":{"c.d":true}})", R"({"a":{"b":{"c":{"d":true}}}})"));
}

TEST(SelectorTest, NestedObjectWithSeveralKeysIsAnAndOfSubfields) {
  const std::string sel = R"({"a":{"b":1,"c":2}})";
  EXPECT_TRUE(Matches(sel, R"({"a":{"b":1,"c":2,"d":3}})"));
  EXPECT_FALSE(Matches(sel, R"({"a":{"b":1}})"));
  EXPECT_EQ(Sel(sel).ToJson(), J(R"({"$and":[{"a.b":{"$eq":1}},{"a.c":{"$eq":2}}]})"));
}

TEST(SelectorTest, EmptyObjectAsConditionMeansEqualToEmptyObject) {
  EXPECT_TRUE(Matches(R"({"a":{}})", R"({"a":{}})"));
  EXPECT_FALSE(Matches(R"({"a":{}})", R"({"a":{"b":1}})"));
  EXPECT_FALSE(Matches(R"({"a":{}})", R"({})"));
}

TEST(SelectorTest, EscapedDotIsPartOfTheFieldName) {
  EXPECT_TRUE(Matches(R"({"a\\.b":1})", R"({"a.b":1})"));
  EXPECT_FALSE(Matches(R"({"a\\.b":1})", R"({"a":{"b":1}})"));
  EXPECT_TRUE(Matches(R"({"x.a\\.b.c":1})", R"({"x":{"a.b":{"c":1}}})"));
  // A field whose name starts with "$" is escaped with a backslash.
  EXPECT_TRUE(Matches(R"({"\\$ref":"y"})", R"({"$ref":"y"})"));
}

TEST(SelectorTest, IntegerSegmentsIndexArrays) {
  EXPECT_TRUE(Matches(R"({"tags.1":"x"})", R"({"tags":["a","x"]})"));
  EXPECT_FALSE(Matches(R"({"tags.0":"x"})", R"({"tags":["a","x"]})"));
  EXPECT_TRUE(Matches(R"({"a.0.b":2})", R"({"a":[{"b":2}]})"));
  EXPECT_TRUE(Matches(R"({"tags.01":"x"})", R"({"tags":["a","x"]})"));  // as Erlang reads integers
  EXPECT_TRUE(Matches(R"({"tags.+1":"x"})", R"({"tags":["a","x"]})"));
  EXPECT_FALSE(Matches(R"({"tags.2":"x"})", R"({"tags":["a","x"]})"));
  EXPECT_FALSE(Matches(R"({"tags.-1":"x"})", R"({"tags":["a","x"]})"));
  EXPECT_FALSE(Matches(R"({"tags.99999999999999999999999":"x"})", R"({"tags":["a","x"]})"));
  // An object member named "0" is a member, not an index.
  EXPECT_TRUE(Matches(R"({"m.0":"x"})", R"({"m":{"0":"x"}})"));
}

TEST(SelectorTest, MissingFieldsNeverMatchExceptExistsFalse) {
  for (const std::string cond :
       {R"({"$eq":null})", R"({"$ne":1})", R"({"$gt":null})", R"({"$lt":{}})", R"({"$nin":[1]})", R"({"$type":"null"})",
        R"({"$size":0})", R"({"$regex":""})", R"({"$exists":true})", R"({"$not":{"$regex":"x"}})",
        R"({"$not":{"$eq":1}})", R"({"$elemMatch":{}})", R"({"$all":[[]]})"}) {
    EXPECT_FALSE(Matches(R"({"missing":)" + cond + "}", R"({"a":1})")) << cond;
  }
  EXPECT_TRUE(Matches(R"({"missing":{"$exists":false}})", R"({"a":1})"));
}

TEST(SelectorTest, PathThroughAScalarMatchesNothingNotEvenExistsFalse) {
  // mango_doc:get_field answers bad_path here, and only not_found lets
  // {"$exists": false} match.
  EXPECT_FALSE(Matches(R"({"a.b":{"$exists":false}})", R"({"a":5})"));
  EXPECT_FALSE(Matches(R"({"a.b":{"$exists":false}})", R"({"a":[1]})"));
  EXPECT_TRUE(Matches(R"({"a.b":{"$exists":false}})", R"({"a":{}})"));
  EXPECT_TRUE(Matches(R"({"a.b":{"$exists":false}})", R"({})"));
  EXPECT_FALSE(Matches(R"({"a.b":{"$ne":1}})", R"({"a":"str"})"));
}

TEST(SelectorTest, FieldsStartingWithUnderscoreAreOrdinaryFields) {
  EXPECT_TRUE(Matches(R"({"_id":{"$gt":null}})", R"({"_id":"x","_rev":"1-a"})"));
  EXPECT_TRUE(Matches(R"({"_id":"foo","_rev":"bar"})", R"({"_id":"foo","_rev":"bar","user_id":11})"));
  EXPECT_FALSE(Matches(R"({"_id":"foo","_rev":"quux"})", R"({"_id":"foo","_rev":"bar","user_id":11})"));
  EXPECT_FALSE(Matches(R"({"user_id":"11"})", R"({"_id":"foo","user_id":11})"));
}

// ---- Comparison operators -------------------------------------------------

TEST(SelectorTest, EqWithObjectOrArrayOperandIsWholeValueEquality) {
  EXPECT_TRUE(Matches(R"({"a":{"$eq":{"b":1}}})", R"({"a":{"b":1}})"));
  EXPECT_FALSE(Matches(R"({"a":{"$eq":{"b":1}}})", R"({"a":{"b":1,"c":2}})"));
  EXPECT_TRUE(Matches(R"({"a":{"$eq":[1,{"x":"y"}]}})", R"({"a":[1.0,{"x":"y"}]})"));
  // The operand of $eq is a value, even when it looks like an operator.
  EXPECT_TRUE(Matches(R"({"a":{"$eq":{"$gt":1}}})", R"({"a":{"$gt":1}})"));
  EXPECT_FALSE(Matches(R"({"a":{"$eq":{"$gt":1}}})", R"({"a":5})"));
}

TEST(SelectorTest, NeMatchesOtherValuesIncludingNull) {
  EXPECT_TRUE(Matches(R"({"t":{"$ne":"x"}})", R"({"t":"y"})"));
  EXPECT_TRUE(Matches(R"({"t":{"$ne":"x"}})", R"({"t":null})"));
  EXPECT_TRUE(Matches(R"({"t":{"$ne":"x"}})", R"({"t":["x"]})"));
  EXPECT_FALSE(Matches(R"({"t":{"$ne":"x"}})", R"({"t":"x"})"));
  EXPECT_FALSE(Matches(R"({"t":{"$ne":1}})", R"({"t":1.0})"));
}

TEST(SelectorTest, RangeOperatorsOnNumbers) {
  EXPECT_TRUE(Matches(R"({"n":{"$gt":5}})", R"({"n":6})"));
  EXPECT_FALSE(Matches(R"({"n":{"$gt":5}})", R"({"n":5})"));
  EXPECT_TRUE(Matches(R"({"n":{"$gte":5}})", R"({"n":5.0})"));
  EXPECT_FALSE(Matches(R"({"n":{"$gte":5}})", R"({"n":4.999})"));
  EXPECT_TRUE(Matches(R"({"n":{"$lt":5}})", R"({"n":-10})"));
  EXPECT_FALSE(Matches(R"({"n":{"$lt":5}})", R"({"n":5})"));
  EXPECT_TRUE(Matches(R"({"n":{"$lte":5}})", R"({"n":5})"));
  EXPECT_FALSE(Matches(R"({"n":{"$lte":5}})", R"({"n":5.5})"));
}

TEST(SelectorTest, RangeOperatorsOnStringsUseViewCollation) {
  // "a" < "A" < "aa" < "b" < "B": case is only a tie-break.
  EXPECT_TRUE(Matches(R"({"s":{"$gt":"a"}})", R"({"s":"A"})"));
  EXPECT_TRUE(Matches(R"({"s":{"$lt":"b"}})", R"({"s":"AA"})"));
  EXPECT_FALSE(Matches(R"({"s":{"$lt":"b"}})", R"({"s":"B"})"));
  EXPECT_TRUE(Matches(R"({"s":{"$lte":"a"}})", R"({"s":"a"})"));
  EXPECT_FALSE(Matches(R"({"s":{"$lte":"a"}})", R"({"s":"A"})"));
  EXPECT_TRUE(Matches(R"({"s":{"$gte":"a"}})", R"({"s":"aa"})"));
}

// CouchDB's matcher compares across types with view collation (see
// "lt includes null but not missing" and 17-multi-type-value-test.py); it
// does not restrict a range to the operand's type.
TEST(SelectorTest, RangeOperatorsCompareAcrossTypesAsCouchDbDoes) {
  const std::string gt5 = R"({"a":{"$gt":5}})";
  EXPECT_TRUE(Matches(gt5, R"({"a":"str"})"));
  EXPECT_TRUE(Matches(gt5, R"({"a":[]})"));
  EXPECT_TRUE(Matches(gt5, R"({"a":{}})"));
  EXPECT_FALSE(Matches(gt5, R"({"a":null})"));
  EXPECT_FALSE(Matches(gt5, R"({"a":true})"));

  const std::string lt1 = R"({"twitter":{"$lt":1}})";
  EXPECT_TRUE(Matches(lt1, R"({"twitter":null})"));
  EXPECT_TRUE(Matches(lt1, R"({"twitter":false})"));
  EXPECT_FALSE(Matches(lt1, R"({"twitter":"@x"})"));
  EXPECT_FALSE(Matches(lt1, R"({"name":"no twitter"})"));

  EXPECT_TRUE(Matches(R"({"t":{"$lte":null}})", R"({"t":null})"));
  EXPECT_FALSE(Matches(R"({"t":{"$lte":null}})", R"({"t":false})"));
  EXPECT_TRUE(Matches(R"({"t":{"$gte":null}})", R"({"t":"anything"})"));

  // The multi-type test: {"name": {"$gte": 0}} takes strings, numbers, objects.
  const std::string gte0 = R"({"name":{"$gte":0}})";
  EXPECT_TRUE(Matches(gte0, R"({"name":"Jimi"})"));
  EXPECT_TRUE(Matches(gte0, R"({"name":{"forename":"Eddie"}})"));
  EXPECT_TRUE(Matches(gte0, R"({"name":1})"));
  EXPECT_FALSE(Matches(gte0, R"({"name":null})"));

  // A $type condition restricts a range to one type.
  EXPECT_FALSE(Matches(R"({"a":{"$gt":5,"$type":"number"}})", R"({"a":"str"})"));
  EXPECT_TRUE(Matches(R"({"a":{"$gt":5,"$type":"number"}})", R"({"a":6})"));
}

TEST(SelectorTest, InMatchesAnyListedValue) {
  const std::string sel = R"({"a":{"$in":["Ruby","Python",1]}})";
  EXPECT_TRUE(Matches(sel, R"({"a":"Python"})"));
  EXPECT_TRUE(Matches(sel, R"({"a":1.0})"));
  EXPECT_FALSE(Matches(sel, R"({"a":"Erlang"})"));
  EXPECT_FALSE(Matches(sel, R"({"b":"Ruby"})"));
  // An array field matches when any element is listed.
  EXPECT_TRUE(Matches(sel, R"({"a":["Lisp","Ruby"]})"));
  EXPECT_FALSE(Matches(sel, R"({"a":["Lisp","C"]})"));
  EXPECT_FALSE(Matches(sel, R"({"a":[]})"));
  // ... which is why a whole array operand does not match the same array.
  EXPECT_FALSE(Matches(R"({"a":{"$in":[[1,2]]}})", R"({"a":[1,2]})"));
  EXPECT_TRUE(Matches(R"({"a":{"$in":[[1,2]]}})", R"({"a":[[1,2]]})"));
  EXPECT_FALSE(Matches(R"({"a":{"$in":[]}})", R"({"a":1})"));
}

TEST(SelectorTest, NinMatchesValuesNotListed) {
  const std::string sel = R"({"a":{"$nin":["Erlang","Python"]}})";
  EXPECT_TRUE(Matches(sel, R"({"a":"Ruby"})"));
  EXPECT_FALSE(Matches(sel, R"({"a":"Python"})"));
  EXPECT_TRUE(Matches(sel, R"({"a":["Ruby","C"]})"));
  EXPECT_FALSE(Matches(sel, R"({"a":["Ruby","Erlang"]})"));
  EXPECT_TRUE(Matches(sel, R"({"a":[]})"));
  EXPECT_FALSE(Matches(sel, R"({"b":1})"));
  EXPECT_TRUE(Matches(R"({"a":{"$nin":[]}})", R"({"a":1})"));
  EXPECT_TRUE(Matches(R"({"a":{"$nin":[]}})", R"({"a":[1]})"));
}

// ---- Object and array operators ----------------------------------------------

TEST(SelectorTest, ExistsChecksPresenceRegardlessOfValue) {
  EXPECT_TRUE(Matches(R"({"a":{"$exists":true}})", R"({"a":null})"));
  EXPECT_TRUE(Matches(R"({"a":{"$exists":true}})", R"({"a":false})"));
  EXPECT_FALSE(Matches(R"({"a":{"$exists":true}})", R"({"b":1})"));
  EXPECT_TRUE(Matches(R"({"a":{"$exists":false}})", R"({"b":1})"));
  EXPECT_FALSE(Matches(R"({"a":{"$exists":false}})", R"({"a":null})"));
  EXPECT_TRUE(Matches(R"({"name.forename":{"$exists":true}})", R"({"name":{"forename":"Eddie"}})"));
}

TEST(SelectorTest, TypeNamesTheJsonType) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"null", "null"}, {"boolean", "true"}, {"boolean", "false"}, {"number", "1"},  {"number", "1.5"},
      {"number", "-3"}, {"string", "\"\""},  {"array", "[]"},      {"object", "{}"},
  };
  const std::vector<std::string> types = {"null", "boolean", "number", "string", "array", "object"};
  for (const auto& [type, value] : cases) {
    for (const std::string& t : types) {
      EXPECT_EQ(Matches(R"({"a":{"$type":")" + t + R"("}})", R"({"a":)" + value + "}"), t == type)
          << t << " on " << value;
    }
  }
  EXPECT_FALSE(Matches(R"({"a":{"$type":"integer"}})", R"({"a":1})"));  // unknown names match nothing
}

TEST(SelectorTest, SizeMatchesArrayLength) {
  EXPECT_TRUE(Matches(R"({"a":{"$size":2}})", R"({"a":[1,[2,3]]})"));
  EXPECT_FALSE(Matches(R"({"a":{"$size":2}})", R"({"a":[1]})"));
  EXPECT_TRUE(Matches(R"({"a":{"$size":0}})", R"({"a":[]})"));
  EXPECT_FALSE(Matches(R"({"a":{"$size":2}})", R"({"a":"ab"})"));
  EXPECT_FALSE(Matches(R"({"a":{"$size":1}})", R"({"a":{"k":1}})"));
}

TEST(SelectorTest, ModMatchesIntegersWithTheRemainder) {
  EXPECT_TRUE(Matches(R"({"a":{"$mod":[2,1]}})", R"({"a":7})"));
  EXPECT_FALSE(Matches(R"({"a":{"$mod":[2,1]}})", R"({"a":8})"));
  EXPECT_TRUE(Matches(R"({"a":{"$mod":[2,0]}})", R"({"a":0})"));
  // Erlang's rem: the sign follows the dividend.
  EXPECT_TRUE(Matches(R"({"a":{"$mod":[3,-2]}})", R"({"a":-5})"));
  EXPECT_FALSE(Matches(R"({"a":{"$mod":[3,1]}})", R"({"a":-5})"));
  EXPECT_TRUE(Matches(R"({"a":{"$mod":[-3,2]}})", R"({"a":5})"));
  // Only integers: 4.0 is a float.
  EXPECT_FALSE(Matches(R"({"a":{"$mod":[2,0]}})", R"({"a":4.0})"));
  EXPECT_FALSE(Matches(R"({"a":{"$mod":[2,0]}})", R"({"a":"4"})"));
  // No overflow at the edges of 64 bits.
  EXPECT_TRUE(Matches(R"({"a":{"$mod":[-1,0]}})", R"({"a":-9223372036854775808})"));
  EXPECT_TRUE(Matches(R"({"a":{"$mod":[10,5]}})", R"({"a":18446744073709551615})"));
  EXPECT_TRUE(Matches(R"({"a":{"$mod":[18446744073709551615,3]}})", R"({"a":3})"));
}

TEST(SelectorTest, RegexSearchesStringsUnanchored) {
  EXPECT_TRUE(Matches(R"({"s":{"$regex":"ew Y"}})", R"({"s":"New York"})"));
  EXPECT_TRUE(Matches(R"({"s":{"$regex":"^New"}})", R"({"s":"New York"})"));
  EXPECT_FALSE(Matches(R"({"s":{"$regex":"^York"}})", R"({"s":"New York"})"));
  EXPECT_TRUE(Matches(R"({"s":{"$regex":"York$"}})", R"({"s":"New York"})"));
  EXPECT_TRUE(Matches(R"({"s":{"$regex":"^\\d{3}-\\d{4}$"}})", R"({"s":"555-1234"})"));
  EXPECT_FALSE(Matches(R"({"s":{"$regex":"^\\d{3}-\\d{4}$"}})", R"({"s":"555-12345"})"));
  EXPECT_TRUE(Matches(R"({"s":{"$regex":"a|b"}})", R"({"s":"xbx"})"));
  EXPECT_TRUE(Matches(R"({"s":{"$regex":""}})", R"({"s":""})"));
  EXPECT_FALSE(Matches(R"({"s":{"$regex":"new"}})", R"({"s":"New York"})"));
  // Only strings match.
  EXPECT_FALSE(Matches(R"({"s":{"$regex":"1"}})", R"({"s":1})"));
  EXPECT_FALSE(Matches(R"({"s":{"$regex":"a"}})", R"({"s":["a"]})"));
}

TEST(SelectorTest, RegexAcceptsPcreCaselessAndMultilineFlags) {
  // From CouchDB's operator tests: {"location.state": {"$regex": "(?i)new.*"}}.
  EXPECT_TRUE(Matches(R"({"s":{"$regex":"(?i)new.*"}})", R"({"s":"New York"})"));
  EXPECT_TRUE(Matches(R"({"s":{"$regex":"(?i)^NEW"}})", R"({"s":"new"})"));
  EXPECT_FALSE(Matches(R"({"s":{"$regex":"^b"}})", R"({"s":"a\nb"})"));
  EXPECT_TRUE(Matches(R"({"s":{"$regex":"(?m)^b"}})", R"({"s":"a\nb"})"));
  EXPECT_TRUE(Matches(R"({"s":{"$regex":"(?im)^B$"}})", R"({"s":"a\nb\nc"})"));
}

TEST(SelectorTest, RegexOnLongStringsNeitherBacktracksNorRecurses) {
  // The default std::regex executor backtracks and recurses per character:
  // on these inputs it would run for hours or overflow the stack, so merely
  // finishing is the check.
  Json doc = {{"s", std::string(1 << 16, 'a')}};
  EXPECT_FALSE(Sel(R"({"s":{"$regex":"(a*)*b"}})").Matches(doc));
  EXPECT_FALSE(Sel(R"({"s":{"$regex":".*x"}})").Matches(doc));
  EXPECT_TRUE(Sel(R"({"s":{"$regex":"a$"}})").Matches(doc));
  doc["s"] = std::string(1 << 16, 'a') + "b";
  EXPECT_TRUE(Sel(R"({"s":{"$regex":"(a|aa)+b$"}})").Matches(doc));
}

TEST(SelectorTest, InvalidRegexIsABadArgument) {
  for (const std::string pattern : {"(", "a)(b", "[a-", "*a", "a{2,1}", "\\"}) {
    const Status s = ParseError(Json{{"s", {{"$regex", pattern}}}});
    EXPECT_TRUE(s.IsInvalidArgument()) << pattern;
    EXPECT_TRUE(s.message().starts_with("Bad argument for operator $regex: ")) << s.message();
    EXPECT_EQ(MangoErrorType(s), "bad_arg");
  }
}

TEST(SelectorTest, RegexFeaturesBeyondLinearEcmaScriptAreRejected) {
  for (const std::string pattern : {"(a)\\1", "(?<=a)b", "(?<n>a)", "(?s)a.b", "(?x) a"}) {
    EXPECT_TRUE(
        ParseError(Json{{"s", {{"$regex", pattern}}}}).message().starts_with("Bad argument for operator $regex"))
        << pattern;
  }
}

TEST(SelectorTest, RegexLengthAndComplexityAreCapped) {
  EXPECT_TRUE(Selector::Parse(Json{{"s", {{"$regex", std::string(kMaxRegexBytes, 'a')}}}}).ok());
  const Status too_long = ParseError(Json{{"s", {{"$regex", std::string(kMaxRegexBytes + 1, 'a')}}}});
  EXPECT_EQ(too_long.message(), "Bad argument for operator $regex: pattern longer than 1024 bytes");
  for (const std::string pattern : {"a{100000}", "(a{100}){101}", "((a?){30}){30}{30}", "x{1,20000}",
                                    // Numbers that would overflow inside libstdc++'s regex compiler.
                                    "b?{9999999999999999999999991,i", "a{1,99999999999}", "(a)\\12345678901"}) {
    EXPECT_EQ(ParseError(Json{{"s", {{"$regex", pattern}}}}).message(),
              "Bad argument for operator $regex: pattern too complex")
        << pattern;
  }
  EXPECT_TRUE(Selector::Parse(Json{{"s", {{"$regex", "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$"}}}}).ok());
  EXPECT_TRUE(Selector::Parse(Json{{"s", {{"$regex", "(ab){50}x{3,90}"}}}}).ok());
  EXPECT_TRUE(Selector::Parse(Json{{"s", {{"$regex", "^\\+1234567890123$"}}}}).ok());  // long literal numbers
  EXPECT_TRUE(Selector::Parse(Json{{"s", {{"$regex", "[{}]+x{2}"}}}}).ok());           // braces in a class
}

TEST(SelectorTest, NonStringRegexOrBeginsWithIsAnInvalidOperator) {
  // CouchDB has no clause for these and falls through to invalid_operator.
  EXPECT_EQ(ParseError(R"({"s":{"$regex":5}})").message(), "Invalid operator: $regex");
  EXPECT_EQ(ParseError(R"({"s":{"$beginsWith":123}})").message(), "Invalid operator: $beginsWith");
  EXPECT_EQ(ParseError(R"({"s":{"$beginsWith":[]}})").message(), "Invalid operator: $beginsWith");
}

TEST(SelectorTest, BeginsWithMatchesAStringPrefix) {
  EXPECT_TRUE(Matches(R"({"s":{"$beginsWith":"New "}})", R"({"s":"New York"})"));
  EXPECT_FALSE(Matches(R"({"s":{"$beginsWith":" New"}})", R"({"s":"New York"})"));
  EXPECT_FALSE(Matches(R"({"s":{"$beginsWith":"new"}})", R"({"s":"New York"})"));  // case-sensitive
  EXPECT_TRUE(Matches(R"({"s":{"$beginsWith":""}})", R"({"s":"x"})"));
  EXPECT_FALSE(Matches(R"({"s":{"$beginsWith":"1"}})", R"({"s":12})"));
  EXPECT_TRUE(Matches(R"({"_id":{"$beginsWith":"f"}})", R"({"_id":"foo"})"));
}

TEST(SelectorTest, AllNeedsEveryArgumentInTheArray) {
  const std::string sel = R"({"f":{"$all":["Lisp","Python"]}})";
  EXPECT_TRUE(Matches(sel, R"({"f":["Python","C","Lisp"]})"));
  EXPECT_FALSE(Matches(sel, R"({"f":["Python","C"]})"));
  EXPECT_FALSE(Matches(sel, R"({"f":"Lisp Python"})"));  // "all non array"
  EXPECT_FALSE(Matches(R"({"f":{"$all":[]}})", R"({"f":[1]})"));
  // A single array argument also matches the equal array.
  EXPECT_TRUE(Matches(R"({"f":{"$all":[[1,2]]}})", R"({"f":[1,2]})"));
  EXPECT_TRUE(Matches(R"({"f":{"$all":[[1,2]]}})", R"({"f":[[1,2],3]})"));
  EXPECT_FALSE(Matches(R"({"f":{"$all":[[1,2]]}})", R"({"f":[2,1]})"));
  // Membership is strict term equality, as Erlang's lists:member: 1.0 is not 1.
  EXPECT_TRUE(Matches(R"({"f":{"$all":[1]}})", R"({"f":[1]})"));
  EXPECT_FALSE(Matches(R"({"f":{"$all":[1.0]}})", R"({"f":[1]})"));
  EXPECT_TRUE(Matches(R"({"f":{"$all":[{"a":[1]}]}})", R"({"f":[{"a":[1]}]})"));
}

TEST(SelectorTest, ElemMatchNeedsOneMatchingElement) {
  // CouchDB's "elem match" operator test.
  const std::string sel = R"({"_id":{"$gt":null},"bang":{"$elemMatch":{"foo":{"$gte":1},"bam":true}}})";
  EXPECT_FALSE(Matches(sel, R"({"_id":"a","bang":[{"foo":1,"bar":2}]})"));
  EXPECT_TRUE(Matches(sel, R"({"_id":"b","bang":[{"foo":2,"bam":true}]})"));
  // Conditions on the elements themselves.
  const std::string range = R"({"s":{"$elemMatch":{"$gte":80,"$lt":85}}})";
  EXPECT_TRUE(Matches(range, R"({"s":[70,82,90]})"));
  EXPECT_FALSE(Matches(range, R"({"s":[70,90]})"));
  EXPECT_FALSE(Matches(range, R"({"s":[]})"));
  EXPECT_FALSE(Matches(range, R"({"s":82})"));
  EXPECT_TRUE(Matches(R"({"s":{"$elemMatch":{"$eq":"x"}}})", R"({"s":["y","x"]})"));
  EXPECT_EQ(Sel(range).ToJson(), J(R"({"s":{"$elemMatch":{"$and":[{"":{"$gte":80}},{"":{"$lt":85}}]}}})"));
}

TEST(SelectorTest, AllMatchNeedsEveryElementAndANonEmptyArray) {
  // CouchDB's "all match" operator test.
  const std::string sel = R"({"bang":{"$allMatch":{"foo":{"$mod":[2,1]},"bar":{"$mod":[2,0]}}}})";
  EXPECT_TRUE(Matches(sel, R"({"bang":[{"foo":1,"bar":2},{"foo":3,"bar":4}]})"));
  EXPECT_FALSE(Matches(sel, R"({"bang":[{"foo":1,"bar":2},{"foo":4,"bar":4}]})"));
  EXPECT_FALSE(Matches(sel, R"({"bang":[]})"));
  EXPECT_FALSE(Matches(sel, R"({"bang":{"foo":1,"bar":2}})"));
  EXPECT_TRUE(Matches(R"({"a":{"$allMatch":{"$gt":0}}})", R"({"a":[1,2,3]})"));
  EXPECT_FALSE(Matches(R"({"a":{"$allMatch":{"$gt":0}}})", R"({"a":[1,-2,3]})"));
}

TEST(SelectorTest, KeyMapMatchMatchesObjectKeys) {
  const std::string sel = R"({"foo":{"$keyMapMatch":{"$eq":"aa"}}})";
  EXPECT_TRUE(Matches(sel, R"({"foo":{"aa":"bar","bb":"bang"}})"));
  EXPECT_FALSE(Matches(sel, R"({"foo":{"cc":"bar","bb":"bang"}})"));
  EXPECT_FALSE(Matches(sel, R"({"foo":["aa"]})"));
  EXPECT_TRUE(Matches(R"({"m":{"$keyMapMatch":{"$regex":"^x"}}})", R"({"m":{"a":1,"xy":2}})"));
}

// ---- Combination operators ---------------------------------------------------

TEST(SelectorTest, AndOrNor) {
  const std::string and_sel = R"({"$and":[{"a":1},{"b":{"$gt":2}}]})";
  EXPECT_TRUE(Matches(and_sel, R"({"a":1,"b":3})"));
  EXPECT_FALSE(Matches(and_sel, R"({"a":1,"b":2})"));

  const std::string or_sel = R"({"$or":[{"a":1},{"b":{"$gt":2}}]})";
  EXPECT_TRUE(Matches(or_sel, R"({"a":1})"));
  EXPECT_TRUE(Matches(or_sel, R"({"b":3})"));
  EXPECT_FALSE(Matches(or_sel, R"({"a":2,"b":2})"));

  const std::string nor_sel = R"({"$nor":[{"a":1},{"b":2}]})";
  EXPECT_TRUE(Matches(nor_sel, R"({"a":2,"b":3})"));
  EXPECT_FALSE(Matches(nor_sel, R"({"a":1,"b":3})"));
  // $nor becomes $and of negated conditions, which need their fields.
  EXPECT_FALSE(Matches(nor_sel, R"({"a":2})"));
  EXPECT_EQ(Sel(nor_sel).ToJson(), J(R"({"$and":[{"a":{"$ne":1}},{"b":{"$ne":2}}]})"));
}

TEST(SelectorTest, EmptyAndOrNorMatchEverything) {
  EXPECT_TRUE(Matches(R"({"$and":[]})", R"({"a":1})"));
  EXPECT_TRUE(Matches(R"({"$or":[]})", R"({"a":1})"));
  EXPECT_TRUE(Matches(R"({"$nor":[]})", R"({"a":1})"));
}

TEST(SelectorTest, CombinationsInsideAFieldApplyToThatField) {
  const std::string sel = R"({"a":{"$or":[{"$lt":0},{"$gt":10}]}})";
  EXPECT_TRUE(Matches(sel, R"({"a":-1})"));
  EXPECT_TRUE(Matches(sel, R"({"a":11})"));
  EXPECT_FALSE(Matches(sel, R"({"a":5})"));
  EXPECT_EQ(Sel(sel).ToJson(), J(R"({"$or":[{"a":{"$lt":0}},{"a":{"$gt":10}}]})"));
  // CouchDB's "lte at z except null" case.
  const std::string twitter = R"({"twitter":{"$and":[{"$lte":"@z"},{"$ne":null}]}})";
  EXPECT_TRUE(Matches(twitter, R"({"twitter":"@a"})"));
  EXPECT_FALSE(Matches(twitter, R"({"twitter":null})"));
  EXPECT_FALSE(Matches(twitter, R"({"name":"x"})"));
}

TEST(SelectorTest, NotIsPushedDownToTheConditions) {
  const std::string sel = R"({"$not":{"a":{"$gt":5}}})";
  EXPECT_EQ(Sel(sel).ToJson(), J(R"({"a":{"$lte":5}})"));
  EXPECT_TRUE(Matches(sel, R"({"a":5})"));
  EXPECT_FALSE(Matches(sel, R"({"a":6})"));
  EXPECT_FALSE(Matches(sel, R"({"b":1})"));  // the negated condition still needs the field

  // De Morgan.
  const std::string dm = R"({"$not":{"$and":[{"a":{"$gt":10}},{"a":{"$lt":5}}]}})";
  EXPECT_EQ(Sel(dm).ToJson(), J(R"({"$or":[{"a":{"$lte":10}},{"a":{"$gte":5}}]})"));
  EXPECT_EQ(Sel(R"({"$not":{"$or":[{"a":1},{"b":{"$in":[1]}}]}})").ToJson(),
            J(R"({"$and":[{"a":{"$ne":1}},{"b":{"$nin":[1]}}]})"));
  EXPECT_EQ(Sel(R"({"$not":{"a":{"$exists":true}}})").ToJson(), J(R"({"a":{"$exists":false}})"));
  EXPECT_TRUE(Matches(R"({"$not":{"a":{"$exists":true}}})", R"({"b":1})"));

  // Double negation cancels; $not of $nor is $or.
  EXPECT_EQ(Sel(R"({"$not":{"$not":{"a":1}}})").ToJson(), J(R"({"a":{"$eq":1}})"));
  EXPECT_EQ(Sel(R"({"$not":{"$nor":[{"a":1}]}})").ToJson(), J(R"({"$or":[{"a":{"$eq":1}}]})"));
  // $not inside a field.
  EXPECT_EQ(Sel(R"({"a":{"$not":{"$eq":1}}})").ToJson(), J(R"({"a":{"$ne":1}})"));
}

TEST(SelectorTest, NotIsKeptOnConditionsWithoutAnInverse) {
  const std::string sel = R"({"s":{"$not":{"$regex":"^x"}}})";
  EXPECT_EQ(Sel(sel).ToJson(), J(R"({"s":{"$not":{"$regex":"^x"}}})"));
  EXPECT_TRUE(Matches(sel, R"({"s":"yx"})"));
  EXPECT_FALSE(Matches(sel, R"({"s":"xy"})"));
  EXPECT_TRUE(Matches(sel, R"({"s":5})"));   // not a string, so the regex fails, so $not holds
  EXPECT_FALSE(Matches(sel, R"({"t":1})"));  // but the field must exist
  EXPECT_TRUE(Matches(R"({"a":{"$not":{"$size":1}}})", R"({"a":[1,2]})"));
  EXPECT_TRUE(Matches(R"({"a":{"$not":{"$elemMatch":{"$eq":1}}}})", R"({"a":[2,3]})"));
  EXPECT_FALSE(Matches(R"({"a":{"$not":{"$elemMatch":{"$eq":1}}}})", R"({"a":[1,3]})"));
  EXPECT_EQ(Sel(R"({"$not":{"$not":{"a":{"$type":"string"}}}})").ToJson(), J(R"({"a":{"$type":"string"}})"));
}

TEST(SelectorTest, ConditionsWithoutAFieldApplyToTheValueInsideAnd) {
  // Only a bare condition at the very top is refused; below a combination it
  // applies to the document itself, as in CouchDB.
  EXPECT_TRUE(Matches(R"({"$and":[{"$type":"object"}]})", R"({"a":1})"));
  EXPECT_FALSE(Matches(R"({"$and":[{}]})", R"({"a":1})"));  // {} alone here means "equals {}"
}

// ---- Invalid selectors -----------------------------------------------------

TEST(SelectorTest, UnknownOperatorsAreRejectedWithCouchDbsReason) {
  const Status s = ParseError(R"({"a":{"$foo":1}})");
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "Invalid operator: $foo");
  EXPECT_EQ(MangoErrorType(s), "invalid_operator");
  EXPECT_EQ(ParseError(R"({"$foo":[1]})").message(), "Invalid operator: $foo");
  EXPECT_EQ(ParseError(R"({"$or":[{"a":1},{"b":{"$bar":2}}]})").message(), "Invalid operator: $bar");
  EXPECT_EQ(ParseError(R"({"a":{"$elemMatch":{"$baz":1}}})").message(), "Invalid operator: $baz");
  EXPECT_EQ(ParseError(R"({"$":1})").message(), "Invalid operator: $");  // mango.rst's "\\$" advice
  EXPECT_EQ(ParseError(R"({"a":{"$EQ":1}})").message(), "Invalid operator: $EQ");
}

TEST(SelectorTest, KnownButUnsupportedOperatorsAreRejected) {
  for (const std::string op : {"$where", "$geoWithin", "$geoIntersects", "$near", "$nearSphere", "$text"}) {
    const Status s = ParseError(Json{{"a", {{op, 1}}}});
    EXPECT_EQ(s.message(), "Unsupported operator: " + op);
    EXPECT_EQ(MangoErrorType(s), "not_supported");
  }
}

TEST(SelectorTest, BadOperatorArgumentsAreRejected) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"$in", "5"},          {"$nin", R"("x")"},  {"$all", "{}"},           {"$exists", "1"},    {"$exists", "null"},
      {"$type", "1"},        {"$size", "-1"},     {"$size", "1.0"},         {"$size", R"("2")"}, {"$mod", "[2]"},
      {"$mod", "[2,1,0]"},   {"$mod", "[2.0,1]"}, {"$mod", R"([2,"1"])"},   {"$mod", "[0,1]"},   {"$mod", "2"},
      {"$elemMatch", "[1]"}, {"$allMatch", "1"},  {"$keyMapMatch", "null"},
  };
  for (const auto& [op, arg] : cases) {
    const Status s = ParseError(R"({"a":{")" + op + R"(":)" + arg + "}}");
    EXPECT_EQ(s.message(), "Bad argument for operator " + op + ": " + Json::parse(arg).dump()) << op << arg;
    EXPECT_EQ(MangoErrorType(s), "bad_arg");
  }
  EXPECT_EQ(ParseError(R"({"$and":{"a":1}})").message(), R"(Bad argument for operator $and: {"a":1})");
  EXPECT_EQ(ParseError(R"({"$or":1})").message(), "Bad argument for operator $or: 1");
  EXPECT_EQ(ParseError(R"({"$nor":"x"})").message(), R"(Bad argument for operator $nor: "x")");
  EXPECT_EQ(ParseError(R"({"$not":[{"a":1}]})").message(), R"(Bad argument for operator $not: [{"a":1}])");
  EXPECT_EQ(ParseError(R"({"a":{"$not":1}})").message(), "Bad argument for operator $not: 1");
}

TEST(SelectorTest, AConditionWithoutAFieldIsRejected) {
  for (const std::string sel : {R"({"$gt":1})", R"({"$eq":{"a":1}})", R"({"$not":{"$gt":1}})",
                                R"({"$elemMatch":{"a":1}})", R"({"$regex":"x"})"}) {
    const Status s = ParseError(sel);
    EXPECT_EQ(s.message(), "One or more conditions is missing a field name.") << sel;
    EXPECT_EQ(MangoErrorType(s), "invalid_selector");
  }
}

TEST(SelectorTest, EmptyFieldNameSegmentsAreRejected) {
  for (const std::string field : {"", "a..b", ".a", "a.", "."}) {
    const Status s = ParseError(Json{{field, 1}});
    EXPECT_EQ(s.message(), "Invalid field name: " + field);
    EXPECT_EQ(MangoErrorType(s), "invalid_field_name");
  }
  EXPECT_EQ(ParseError(R"({"a":{"b..c":1}})").message(), "Invalid field name: b..c");
}

TEST(SelectorTest, SelectorMustBeAnObject) {
  for (const std::string text : {"[]", "1", R"("a")", "null"}) {
    const Status s = ParseError(text);
    EXPECT_EQ(s.message(), "Selector must be a JSON object, not: " + text);
    EXPECT_EQ(MangoErrorType(s), "invalid_selector_json");
  }
}

TEST(SelectorTest, DeeplyNestedSelectorsAreRejected) {
  Json deep = {{"a", 1}};
  for (int i = 0; i < kMaxSelectorDepth; ++i) deep = {{"$and", Json::array({deep})}};
  EXPECT_EQ(ParseError(deep).message(), "Selector is nested too deeply (more than 100 levels)");
  Json deep_arg = 1;
  for (int i = 0; i < 1000; ++i) deep_arg = Json::array({deep_arg});  // deeper copies overflow ASan's stack
  EXPECT_TRUE(ParseError(Json{{"a", deep_arg}}).IsInvalidArgument());
  Json ok = {{"a", 1}};
  for (int i = 0; i < 40; ++i) ok = {{"$and", Json::array({ok})}};
  EXPECT_TRUE(Selector::Parse(ok).ok());
}

TEST(SelectorTest, ParseFieldPathSplitsUnescapedDots) {
  EXPECT_EQ(*ParseFieldPath("ab"), (std::vector<std::string>{"ab"}));
  EXPECT_EQ(*ParseFieldPath("a.b.c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(*ParseFieldPath("a\\.b"), (std::vector<std::string>{"a.b"}));
  EXPECT_EQ(*ParseFieldPath("a.b\\.c"), (std::vector<std::string>{"a", "b.c"}));
  EXPECT_EQ(*ParseFieldPath("\\$x"), (std::vector<std::string>{"$x"}));
  EXPECT_FALSE(ParseFieldPath("a..b").ok());
}

TEST(SelectorTest, SelectorsAreSafeToShareAcrossThreads) {
  const Selector s = Sel(R"({"s":{"$regex":"^a+b$"},"n":{"$gt":1}})");
  const Json yes = J(R"({"s":"aaab","n":2})");
  const Json no = J(R"({"s":"aaac","n":2})");
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) bad[t] += !s.Matches(yes) + s.Matches(no);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad, std::vector<int>(4, 0));
}

// ---- Indexable conditions --------------------------------------------------------

TEST(IndexableConditionsTest, ListsTopLevelEqualityAndRangeConditions) {
  const Selector s = Sel(R"({
    "type": "user",
    "age": {"$gt": 20, "$lte": 65},
    "name": {"$ne": "x"},
    "tags": {"$in": ["a"]},
    "$or": [{"x": 1}, {"y": 2}],
    "a.b\\.c": {"$lt": "m"},
    "$and": [{"z": {"$gte": 0}}]
  })");
  const std::vector<IndexableCondition> conds = IndexableConditions(s);
  std::vector<std::string> described;
  for (const IndexableCondition& c : conds) {
    described.push_back(c.field + " " + std::string(RangeOpName(c.op)) + " " + c.operand.dump());
  }
  std::sort(described.begin(), described.end());
  EXPECT_EQ(described, (std::vector<std::string>{
                           R"(a.b\.c $lt "m")",
                           "age $gt 20",
                           "age $lte 65",
                           R"(type $eq "user")",
                           "z $gte 0",
                       }));
  const auto nested = std::find_if(conds.begin(), conds.end(), [](const auto& c) { return c.field == "a.b\\.c"; });
  ASSERT_NE(nested, conds.end());
  EXPECT_EQ(nested->path, (std::vector<std::string>{"a", "b.c"}));
}

TEST(IndexableConditionsTest, SeesThroughNegationsThatBecomeRanges) {
  const auto conds = IndexableConditions(Sel(R"({"$not":{"a":{"$lt":3}}})"));
  ASSERT_EQ(conds.size(), 1u);
  EXPECT_EQ(conds[0].field, "a");
  EXPECT_EQ(conds[0].op, RangeOp::kGte);
  EXPECT_EQ(conds[0].operand, Json(3));
}

TEST(IndexableConditionsTest, IgnoresOrElemMatchAndEmptySelectors) {
  EXPECT_TRUE(IndexableConditions(Sel("{}")).empty());
  EXPECT_TRUE(IndexableConditions(Sel(R"({"$or":[{"a":1}]})")).empty());
  EXPECT_TRUE(IndexableConditions(Sel(R"({"a":{"$elemMatch":{"$eq":1}}})")).empty());
  EXPECT_TRUE(IndexableConditions(Sel(R"({"a":{"$regex":"x"}})")).empty());
  const auto single = IndexableConditions(Sel(R"({"a":{"b":true}})"));
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].field, "a.b");
  EXPECT_EQ(single[0].op, RangeOp::kEq);
}

// ---- Sort -------------------------------------------------------------------------

TEST(SortTest, ParsesNamesAndDirections) {
  auto sort = ParseSort(J(R"(["a", {"b.c": "asc"}])"));
  ASSERT_TRUE(sort.ok()) << sort.status().ToString();
  ASSERT_EQ(sort->size(), 2u);
  EXPECT_EQ((*sort)[0].field, "a");
  EXPECT_FALSE((*sort)[0].descending);
  EXPECT_EQ((*sort)[1].path, (std::vector<std::string>{"b", "c"}));

  auto desc = ParseSort(J(R"([{"a": "desc"}, {"b": "desc"}])"));
  ASSERT_TRUE(desc.ok());
  EXPECT_TRUE((*desc)[0].descending && (*desc)[1].descending);

  auto none = ParseSort(J("[]"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(SortTest, MixedDirectionsAreRejectedWithCouchDbsReason) {
  auto sort = ParseSort(J(R"([{"a": "asc"}, {"b": "desc"}])"));
  ASSERT_FALSE(sort.ok());
  EXPECT_EQ(sort.status().message(), "Sorts currently only support a single direction for all fields.");
  EXPECT_EQ(MangoErrorType(sort.status()), "unsupported_mixed_sort");
  EXPECT_FALSE(ParseSort(J(R"(["a", {"b": "desc"}])")).ok());  // a bare name is ascending
}

TEST(SortTest, MalformedSortsAreRejected) {
  auto not_array = ParseSort(J(R"({"a":"asc"})"));
  ASSERT_FALSE(not_array.ok());
  EXPECT_EQ(not_array.status().message(), R"(Sort must be an array of sort specs, not: {"a":"asc"})");
  EXPECT_EQ(MangoErrorType(not_array.status()), "invalid_sort_json");
  for (const std::string spec : {"1", R"("")", R"({"a":"up"})", R"({"a":"asc","b":"asc"})", R"({"a":1})", "[]"}) {
    auto bad = ParseSort(J("[" + spec + "]"));
    ASSERT_FALSE(bad.ok()) << spec;
    EXPECT_EQ(bad.status().message(), "Invalid sort field: " + J(spec).dump());
    EXPECT_EQ(MangoErrorType(bad.status()), "invalid_sort_field");
  }
  EXPECT_EQ(ParseSort(J(R"(["a..b"])")).status().message(), "Invalid field name: a..b");
}

TEST(SortTest, ComparesDocumentsByCollationFieldByField) {
  const auto sort = *ParseSort(J(R"(["last", "first.name"])"));
  std::vector<Json> docs = {
      J(R"({"_id":"1","last":"b","first":{"name":"z"}})"),
      J(R"({"_id":"2","last":"B","first":{"name":"a"}})"),
      J(R"({"_id":"3","last":"a","first":{"name":"y"}})"),
      J(R"({"_id":"4","last":"b","first":{"name":"a"}})"),
      J(R"({"_id":"5","last":10})"),
      J(R"({"_id":"6"})"),
  };
  std::stable_sort(docs.begin(), docs.end(),
                   [&](const Json& a, const Json& b) { return CompareForSort(a, b, sort) < 0; });
  std::vector<std::string> ids;
  for (const Json& d : docs) ids.push_back(d["_id"].get<std::string>());
  // Missing first, then numbers, then strings with "b" < "B".
  EXPECT_EQ(ids, (std::vector<std::string>{"6", "5", "3", "4", "1", "2"}));

  const auto desc = *ParseSort(J(R"([{"last":"desc"}])"));
  EXPECT_GT(CompareForSort(J(R"({"last":"a"})"), J(R"({"last":"b"})"), desc), 0);
  EXPECT_LT(CompareForSort(J(R"({"last":"a"})"), J(R"({})"), desc), 0);  // missing last when descending
  EXPECT_EQ(CompareForSort(J(R"({"last":1})"), J(R"({"last":1.0})"), desc), 0);
  EXPECT_EQ(CompareForSort(J(R"({"a":1})"), J(R"({"a":2})"), {}), 0);
}

// ---- Fields -----------------------------------------------------------------------

TEST(FieldsTest, ParsesAnArrayOfNames) {
  auto fields = ParseFields(J(R"(["_id","a.b"])"));
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(*fields, (std::vector<std::string>{"_id", "a.b"}));
  EXPECT_TRUE(ParseFields(J("[]"))->empty());

  auto not_array = ParseFields(J(R"("a")"));
  ASSERT_FALSE(not_array.ok());
  EXPECT_EQ(not_array.status().message(), R"(Fields must be an array of strings, not: "a")");
  EXPECT_EQ(MangoErrorType(not_array.status()), "invalid_fields");
  auto not_string = ParseFields(J("[1]"));
  ASSERT_FALSE(not_string.ok());
  EXPECT_EQ(not_string.status().message(), "Invalid JSON for field spec: 1");
  EXPECT_EQ(MangoErrorType(not_string.status()), "invalid_field");
  EXPECT_EQ(ParseFields(J(R"(["a."])")).status().message(), "Invalid field name: a.");
}

TEST(FieldsTest, ProjectsNamedFieldsAtTheirPaths) {
  const Json doc = J(R"({"_id":"x","_rev":"1-a","title":"T","cast":["a","b"],
                        "imdb":{"rating":8,"votes":100},"a.b":1})");
  EXPECT_EQ(ProjectFields(doc, {"title", "cast"}), J(R"({"title":"T","cast":["a","b"]})"));
  EXPECT_EQ(ProjectFields(doc, {"_id", "imdb.rating"}), J(R"({"_id":"x","imdb":{"rating":8}})"));
  EXPECT_EQ(ProjectFields(doc, {"imdb.rating", "imdb.votes"}), J(R"({"imdb":{"rating":8,"votes":100}})"));
  EXPECT_EQ(ProjectFields(doc, {"a\\.b"}), J(R"({"a.b":1})"));
  EXPECT_EQ(ProjectFields(doc, {"missing", "imdb.missing", "title.x"}), J("{}"));
  EXPECT_EQ(ProjectFields(doc, {}), doc);
  // Through an array index, CouchDB builds objects keyed by the index.
  EXPECT_EQ(ProjectFields(doc, {"cast.1"}), J(R"({"cast":{"1":"b"}})"));
  // A field already copied whole keeps its shape.
  EXPECT_EQ(ProjectFields(doc, {"cast", "cast.0"}), J(R"({"cast":["a","b"]})"));
  EXPECT_EQ(ProjectFields(doc, {"imdb", "imdb.rating"}), J(R"({"imdb":{"rating":8,"votes":100}})"));
  EXPECT_EQ(ProjectFields(doc, {"a..b", "title"}), J(R"({"title":"T"})"));  // invalid names skipped
}

TEST(MangoErrorTypeTest, OtherStatusesAreBadRequests) {
  EXPECT_EQ(MangoErrorType(Status::InvalidArgument("something else")), "bad_request");
  EXPECT_EQ(MangoErrorType(Status::NotFound("Invalid operator: $x")), "bad_request");
  EXPECT_EQ(MangoErrorType(Status()), "bad_request");
}

}  // namespace
}  // namespace wisp::store
