// URL pieces: percent-decoding, path segments and query strings.
//
// Paths are split on '/' *before* decoding, so that an encoded slash ("%2F")
// stays inside its segment: CouchDB database names and document ids depend on
// it. Query strings decode '+' as a space, as CouchDB and HTML forms do.
//
// These parsers face the network directly; they are fuzzed by
// fuzz/url_fuzzer.cc. They never throw and never read out of bounds.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace wisp::http {

// Decodes %XX escapes (and '+' as space when `plus_as_space`). Fails with
// InvalidArgument on a truncated or non-hex escape, or a decoded NUL byte.
Result<std::string> PercentDecode(std::string_view s, bool plus_as_space = false);

// Escapes everything but RFC 3986 unreserved characters.
std::string PercentEncode(std::string_view s);

// "/a/b%2Fc/" -> {"a", "b/c", ""}. The path must start with '/'. "/" gives {}.
Result<std::vector<std::string>> SplitPath(std::string_view raw_path);

// An ordered list of query parameters; repeated names are kept.
class QueryParams {
 public:
  // The first value of `name`.
  std::optional<std::string> Get(std::string_view name) const;
  std::string GetOr(std::string_view name, std::string_view fallback) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  void Add(std::string name, std::string value) { entries_.emplace_back(std::move(name), std::move(value)); }
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// "a=1&b=x+y&c" -> {a:"1", b:"x y", c:""}. Empty pieces ("a=1&&b=2") are skipped.
Result<QueryParams> ParseQuery(std::string_view query);

struct Target {
  std::string path;   // raw, not decoded
  std::string query;  // raw, without '?'
};

// Splits an origin-form request target ("/p?q"). An absolute-form target
// ("http://host/p?q", which proxies send) keeps only its path and query.
// Fails on anything else, such as "*" or an empty target.
Result<Target> SplitTarget(std::string_view target);

}  // namespace wisp::http
