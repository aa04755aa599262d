// Entity names, parameters, annotations, versions and action limits: the
// rules that every OpenWhisk entity (action, package, trigger, rule) follows,
// as pure functions so that the controller and its tests share them
// (spec openwhisk.md §1.1, §1.4, §3.1, §3.4).
//
// Every error is a Status whose message is the text OpenWhisk answers with,
// so a handler only renders it (whisk/error_response.h).
//
// Thread-safety: pure functions and values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "json/json.h"
#include "util/result.h"

namespace wisp::whisk {

// The namespace of the shared catalog (/whisk.system/utils, ...).
inline constexpr std::string_view kSystemNamespace = "whisk.system";
// The path segment that means "the caller's namespace".
inline constexpr std::string_view kDefaultNamespace = "_";

// Texts OpenWhisk answers with (HTTP/ErrorResponse.scala `Messages`).
inline constexpr std::string_view kIllegalNameText = "The name of the entity contains illegal characters.";
inline constexpr std::string_view kNotEntitledText =
    "The supplied authentication is not authorized to access this resource.";
inline constexpr std::string_view kExistsText = "resource already exists";
inline constexpr std::string_view kConcurrentText = "Concurrent modification to resource detected.";
inline constexpr std::string_view kWrongCollectionText = "Resource by this name exists but is not in this collection.";
inline constexpr std::string_view kMalformedPrefix = "The request content was malformed:\n";
inline constexpr std::string_view kNotFqText =
    "The fully qualified name of the entity must contain at least the namespace and the name of the entity.";

// True for OpenWhisk entity names: 1..256 characters matching
// \A([\w]|[\w][\w@ .&-]{0,254}[\w@.&-])\z with ASCII \w.
bool IsValidEntityName(std::string_view name);

// A fully qualified entity name: /ns/name or /ns/pkg/name.
struct EntityName {
  std::string ns;
  std::string package;  // empty when the entity is not in a package
  std::string name;

  // The stored `namespace` field: "ns" or "ns/pkg".
  std::string Path() const;
  // The key of the one name table per namespace: "ns/[pkg/]name".
  std::string DocId() const { return Path() + "/" + name; }
  // "/ns/[pkg/]name", as sequences, rules and __OW_ACTION_NAME spell it.
  std::string FullName() const { return "/" + DocId(); }
  // "[pkg/]name": the key of the activations list's `name` filter.
  std::string Relative() const { return package.empty() ? name : package + "/" + name; }
};

// Parses "/ns/name", "/ns/pkg/name", "ns/name" or "ns/pkg/name" (every form
// names the namespace), resolving `_` to `caller_ns`. InvalidArgument with
// kNotFqText for a bare name, kIllegalNameText for a bad segment.
Result<EntityName> ParseFullyQualifiedName(std::string_view text, std::string_view caller_ns);

// The body "The request content was malformed:\n<detail>" as a 400.
Status Malformed(std::string_view detail);

// Checks a `parameters` or `annotations` array: objects with a string `key`
// and a `value` (parameters may also carry `init: true`). 400 otherwise.
Status ValidateKeyValues(const Json& list, std::string_view field);

// The value of `key` in a [{key, value}] list, or null.
Json KeyValue(const Json& list, std::string_view key);
// True when `key` is present with a truthy value (not false, null, 0 or "").
bool KeyValueIsTrue(const Json& list, std::string_view key);
// Sets `key` to `value` in a [{key, value}] list, in place, keeping the order.
void SetKeyValue(Json& list, std::string_view key, Json value);
// `lower` overlaid with `higher` by key: the higher entry replaces a lower one.
Json MergeKeyValues(const Json& lower, const Json& higher);
// True for a parameter flagged `"init": true`.
bool IsInitParameter(const Json& entry);
// [{key, value}] -> {key: value}, skipping entries flagged `init: true` when
// `skip_init` (they go to the runtime's /init environment instead).
Json KeyValuesToObject(const Json& list, bool skip_init = false);

// "0.0.1" for a new entity; the patch bumped on update ("0.0.9" -> "0.0.10").
inline constexpr std::string_view kFirstVersion = "0.0.1";
std::string NextVersion(std::string_view version);
// True for "major.minor.patch" with decimal parts.
bool IsValidVersion(std::string_view version);

// Action limits (spec §3.4). Bounds in the units the API uses.
struct LimitBounds {
  int64_t min_timeout_ms = 100, max_timeout_ms = 300'000, default_timeout_ms = 60'000;
  int64_t min_memory_mb = 128, max_memory_mb = 512, default_memory_mb = 256;
  int64_t min_logs_mb = 0, max_logs_mb = 10, default_logs_mb = 10;
  int64_t min_concurrency = 1, max_concurrency = 1, default_concurrency = 1;
  int64_t max_instances = 30;  // the namespace's concurrentInvocations
};

// `requested` merged over `base` field by field and checked against `bounds`.
// An empty `base` means the defaults. 400 with OpenWhisk's "requirement
// failed: ..." text when a value is out of range or not a number.
Result<Json> MergeLimits(const Json& base, const Json& requested, const LimitBounds& bounds);

// True when `code` is what OpenWhisk flags as binary: non-empty after
// trimming, a multiple of 4 long, and only base64 characters.
bool LooksLikeBase64(std::string_view code);

}  // namespace wisp::whisk
