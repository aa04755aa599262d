// Query-parameter parsing for the CouchDB API.
//
// CouchDB's query values are typed: booleans are `true`/`false`, counts are
// decimal integers, and keys (`key`, `keys`, `startkey`, `open_revs`,
// `doc_ids`, ...) are JSON-encoded (spec couchdb.md §0). Each parser returns
// the value, nullopt when the parameter is absent, or InvalidArgument whose
// message is the reason CouchDB gives for its 400 `query_parse_error`.
// Unknown parameters are never an error: callers only ask for what they use.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "http/url.h"
#include "json/json.h"
#include "util/result.h"

namespace wisp::store::params {

// The value of the first of `names` present (for aliases such as
// startkey/start_key), or nullopt.
std::optional<std::string> First(const http::QueryParams& query, std::initializer_list<std::string_view> names);

// `true` or `false`; `fallback` when absent.
Result<bool> Bool(const http::QueryParams& query, std::string_view name, bool fallback);

// A non-negative decimal integer; nullopt when absent.
Result<std::optional<int64_t>> Count(const http::QueryParams& query, std::string_view name);

// A JSON-encoded value of the first of `names` present; nullopt when absent.
Result<std::optional<Json>> JsonValue(const http::QueryParams& query, std::initializer_list<std::string_view> names);

// A `_changes` `since`: an integer, "now" (-> `now`), or a string that starts
// with "<int>-" as CouchDB 2+ sequences do (the integer prefix is taken). A
// JSON-quoted form ("\"12\"") is accepted too.
Result<int64_t> ParseSince(std::string_view text, int64_t now);

// A `heartbeat`: milliseconds, or "true" for CouchDB's default of 60000.
// nullopt when absent or "false".
Result<std::optional<std::chrono::milliseconds>> Heartbeat(const http::QueryParams& query);

}  // namespace wisp::store::params
