// The project's JSON conventions, on top of nlohmann/json (the DOM).
//
// Parsing never throws: it returns Result<Json>. Serialising never throws
// either: invalid UTF-8 in a string is replaced with U+FFFD rather than
// aborting a response halfway.
//
//   WISP_ASSIGN_OR_RETURN(Json body, json::ParseObject(request.body));
//   std::string text = json::Dump(body);
//
// Thread-safety: the functions are pure; a Json value is not synchronised.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "util/result.h"

namespace wisp {

using Json = nlohmann::json;
// Keeps keys in insertion order: for bodies whose key order people read.
using OrderedJson = nlohmann::ordered_json;

namespace json {

// Arrays and objects may nest this deep. Copying and printing a value recurse
// once per level, so text from the network deeper than this is refused
// before it can exhaust a thread's stack.
inline constexpr int kMaxDepth = 512;

// Any JSON value. Fails with InvalidArgument, naming where the text broke,
// or when it nests deeper than kMaxDepth.
Result<Json> Parse(std::string_view text);

// A JSON object; an array or a scalar fails with InvalidArgument.
Result<Json> ParseObject(std::string_view text);

// Compact text, as the wire carries it.
std::string Dump(const Json& value);
std::string Dump(const OrderedJson& value);

// Indented text, for people (the CLI).
std::string Pretty(const Json& value);

// The string at `key` of an object, or `fallback` when absent or not a string.
std::string GetString(const Json& object, std::string_view key, std::string fallback = "");

// The integer at `key` of an object, or `fallback` when absent, not an integer,
// or outside the range of int64_t.
int64_t GetInt(const Json& object, std::string_view key, int64_t fallback = 0);

}  // namespace json
}  // namespace wisp
