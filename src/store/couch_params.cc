#include "store/couch_params.h"

#include <charconv>

namespace wisp::store::params {
namespace {

std::optional<int64_t> ParseNonNegative(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < 0) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::string> First(const http::QueryParams& query, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (auto v = query.Get(name)) return v;
  }
  return std::nullopt;
}

Result<bool> Bool(const http::QueryParams& query, std::string_view name, bool fallback) {
  std::optional<std::string> v = query.Get(name);
  if (!v) return fallback;
  if (*v == "true") return true;
  if (*v == "false") return false;
  return Status::InvalidArgument("Invalid boolean parameter: \"" + *v + "\"");
}

Result<std::optional<int64_t>> Count(const http::QueryParams& query, std::string_view name) {
  std::optional<std::string> v = query.Get(name);
  if (!v) return std::optional<int64_t>();
  std::optional<int64_t> n = ParseNonNegative(*v);
  if (!n) return Status::InvalidArgument("Invalid value for `" + std::string(name) + "`: \"" + *v + "\"");
  return n;
}

Result<std::optional<Json>> JsonValue(const http::QueryParams& query, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    std::optional<std::string> v = query.Get(name);
    if (!v) continue;
    Result<Json> parsed = json::Parse(*v);
    if (!parsed.ok()) return Status::InvalidArgument("Invalid JSON value for `" + std::string(name) + "`: " + *v);
    return std::optional<Json>(std::move(*parsed));
  }
  return std::optional<Json>();
}

Result<int64_t> ParseSince(std::string_view text, int64_t now) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  if (text == "now") return now;
  if (text.empty()) return int64_t{0};
  std::string_view digits = text.substr(0, text.find('-'));
  std::optional<int64_t> n = ParseNonNegative(digits);
  if (!n) return Status::InvalidArgument("Invalid `since` value: \"" + std::string(text) + "\"");
  return *n;
}

Result<std::optional<std::chrono::milliseconds>> Heartbeat(const http::QueryParams& query) {
  using Ms = std::optional<std::chrono::milliseconds>;
  std::optional<std::string> v = query.Get("heartbeat");
  if (!v || *v == "false") return Ms();
  if (*v == "true" || v->empty()) return Ms(std::chrono::milliseconds(60'000));
  std::optional<int64_t> n = ParseNonNegative(*v);
  if (!n) return Status::InvalidArgument("Invalid heartbeat value: \"" + *v + "\"");
  // A zero heartbeat would spin; CouchDB's floor is well above a millisecond.
  return Ms(std::chrono::milliseconds(std::max<int64_t>(*n, 10)));
}

}  // namespace wisp::store::params
