#include "json/json.h"

#include <algorithm>

#include <cstdint>

namespace wisp::json {

namespace {

// The deepest nesting of arrays and objects in `text`, counting brackets
// outside strings. Stops counting once past `limit`.
int NestingDepth(std::string_view text, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

Result<Json> Parse(std::string_view text) {
  if (NestingDepth(text, kMaxDepth) > kMaxDepth) {
    return Status::InvalidArgument("JSON nests deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  Json value = Json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    // Re-parse with exceptions on to get the library's position-bearing message.
    try {
      [[maybe_unused]] Json unused = Json::parse(text);
    } catch (const Json::exception& e) {  // parse_error, or out_of_range for "1e999"
      return Status::InvalidArgument(e.what());
    }
    return Status::InvalidArgument("invalid JSON");
  }
  return value;
}

Result<Json> ParseObject(std::string_view text) {
  WISP_ASSIGN_OR_RETURN(Json value, Parse(text));
  if (!value.is_object()) return Status::InvalidArgument("Request body must be a JSON object");
  return value;
}

std::string Dump(const Json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

std::string Dump(const OrderedJson& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

std::string Pretty(const Json& value) {
  return value.dump(2, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

std::string GetString(const Json& object, std::string_view key, std::string fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

int64_t GetInt(const Json& object, std::string_view key, int64_t fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return fallback;
  // An unsigned value above INT64_MAX would wrap to a negative number.
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return fallback;
  return it->get<int64_t>();
}

}  // namespace wisp::json
