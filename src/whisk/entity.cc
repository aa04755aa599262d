#include "whisk/entity.h"

#include <vector>

namespace wisp::whisk {
namespace {

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::vector<std::string_view> SplitSlash(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = text.find('/', start);
    parts.push_back(text.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

// A limit field: absent keeps `fallback`; anything but an integer is refused.
Result<int64_t> LimitField(const Json& requested, const char* key, int64_t fallback) {
  if (!requested.contains(key) || requested[key].is_null()) return fallback;
  const Json& v = requested[key];
  if (v.is_number_integer() || v.is_number_unsigned()) return v.get<int64_t>();
  if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>()))) {
    return static_cast<int64_t>(v.get<double>());
  }
  return Malformed(std::string(key) + " limit must be a whole number");
}

// True when `entry` is {key: `key`, ...}; entries with other shapes match nothing.
bool IsEntryFor(const Json& entry, std::string_view key) {
  if (!entry.is_object()) return false;
  const auto it = entry.find("key");
  return it != entry.end() && it->is_string() && it->get_ref<const std::string&>() == key;
}

}  // namespace

bool IsValidEntityName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  if (!IsWordChar(name.front())) return false;
  if (name.size() == 1) return true;
  for (size_t i = 1; i + 1 < name.size(); ++i) {
    const char c = name[i];
    if (!IsWordChar(c) && c != '@' && c != ' ' && c != '.' && c != '&' && c != '-') return false;
  }
  const char last = name.back();
  return IsWordChar(last) || last == '@' || last == '.' || last == '&' || last == '-';
}

std::string EntityName::Path() const { return package.empty() ? ns : ns + "/" + package; }

Result<EntityName> ParseFullyQualifiedName(std::string_view text, std::string_view caller_ns) {
  if (!text.empty() && text.front() == '/') text.remove_prefix(1);
  const std::vector<std::string_view> parts = SplitSlash(text);
  if (parts.size() < 2) return Status::InvalidArgument(std::string(kNotFqText));
  if (parts.size() > 3) return Status::InvalidArgument(std::string(kIllegalNameText));
  EntityName out;
  out.ns = parts[0] == kDefaultNamespace ? std::string(caller_ns) : std::string(parts[0]);
  if (parts.size() == 3) out.package = std::string(parts[1]);
  out.name = std::string(parts.back());
  if (!IsValidEntityName(out.ns) || !IsValidEntityName(out.name) ||
      (parts.size() == 3 && !IsValidEntityName(out.package))) {
    return Status::InvalidArgument(std::string(kIllegalNameText));
  }
  return out;
}

Status Malformed(std::string_view detail) {
  return Status::InvalidArgument(std::string(kMalformedPrefix) + std::string(detail));
}

Status ValidateKeyValues(const Json& list, std::string_view field) {
  if (!list.is_array()) return Malformed(std::string(field) + " must be an array of {key, value} objects");
  for (const Json& entry : list) {
    if (!entry.is_object() || !entry.contains("key") || !entry["key"].is_string()) {
      return Malformed(std::string(field) + " must be an array of {key, value} objects");
    }
  }
  return Status::Ok();
}

Json KeyValue(const Json& list, std::string_view key) {
  if (!list.is_array()) return nullptr;
  for (const Json& entry : list) {
    if (IsEntryFor(entry, key)) return entry.value("value", Json());
  }
  return nullptr;
}

bool KeyValueIsTrue(const Json& list, std::string_view key) {
  const Json v = KeyValue(list, key);
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get<std::string>().empty();
  return !v.is_null();
}

void SetKeyValue(Json& list, std::string_view key, Json value) {
  if (!list.is_array()) list = Json::array();
  for (Json& entry : list) {
    if (IsEntryFor(entry, key)) {
      entry["value"] = std::move(value);
      return;
    }
  }
  list.push_back({{"key", std::string(key)}, {"value", std::move(value)}});
}

Json MergeKeyValues(const Json& lower, const Json& higher) {
  Json out = lower.is_array() ? lower : Json::array();
  if (!higher.is_array()) return out;
  for (const Json& entry : higher) {
    if (!entry.is_object() || !entry.contains("key")) continue;
    bool replaced = false;
    for (Json& existing : out) {
      if (existing.is_object() && existing["key"] == entry["key"]) {
        existing = entry;
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(entry);
  }
  return out;
}

bool IsInitParameter(const Json& entry) {
  if (!entry.is_object()) return false;
  const auto it = entry.find("init");
  return it != entry.end() && it->is_boolean() && it->get<bool>();
}

Json KeyValuesToObject(const Json& list, bool skip_init) {
  Json out = Json::object();
  if (!list.is_array()) return out;
  for (const Json& entry : list) {
    if (!entry.is_object() || !entry.contains("key") || !entry["key"].is_string()) continue;
    if (skip_init && IsInitParameter(entry)) continue;
    out[entry["key"].get<std::string>()] = entry.value("value", Json());
  }
  return out;
}

bool IsValidVersion(std::string_view version) {
  int dots = 0;
  bool digit_seen = false;
  for (char c : version) {
    if (c == '.') {
      if (!digit_seen) return false;
      ++dots;
      digit_seen = false;
    } else if (c >= '0' && c <= '9') {
      digit_seen = true;
    } else {
      return false;
    }
  }
  return dots == 2 && digit_seen && version.size() <= 64;
}

std::string NextVersion(std::string_view version) {
  if (!IsValidVersion(version)) return std::string(kFirstVersion);
  const size_t last_dot = version.rfind('.');
  const std::string_view patch = version.substr(last_dot + 1);
  uint64_t n = 0;
  for (char c : patch) n = n * 10 + static_cast<uint64_t>(c - '0');
  return std::string(version.substr(0, last_dot + 1)) + std::to_string(n + 1);
}

Result<Json> MergeLimits(const Json& base, const Json& requested, const LimitBounds& b) {
  const Json old = base.is_object() ? base : Json::object();
  if (!requested.is_null() && !requested.is_object()) return Malformed("limits must be an object");
  const Json req = requested.is_object() ? requested : Json::object();
  WISP_ASSIGN_OR_RETURN(int64_t timeout,
                        LimitField(req, "timeout", json::GetInt(old, "timeout", b.default_timeout_ms)));
  WISP_ASSIGN_OR_RETURN(int64_t memory, LimitField(req, "memory", json::GetInt(old, "memory", b.default_memory_mb)));
  WISP_ASSIGN_OR_RETURN(int64_t logs, LimitField(req, "logs", json::GetInt(old, "logs", b.default_logs_mb)));
  WISP_ASSIGN_OR_RETURN(int64_t concurrency,
                        LimitField(req, "concurrency", json::GetInt(old, "concurrency", b.default_concurrency)));
  const std::string fail = "requirement failed: ";
  const auto s = [](int64_t v) { return std::to_string(v); };
  if (timeout < b.min_timeout_ms) {
    return Malformed(fail + "duration " + s(timeout) + " milliseconds below allowed threshold of " +
                     s(b.min_timeout_ms) + " milliseconds");
  }
  if (timeout > b.max_timeout_ms) {
    return Malformed(fail + "duration " + s(timeout) + " milliseconds exceeds allowed threshold of " +
                     s(b.max_timeout_ms) + " milliseconds");
  }
  constexpr int64_t kMb = 1024 * 1024;
  if (memory < b.min_memory_mb) {
    return Malformed(fail + "memory " + s(memory) + " MB below allowed threshold of " + s(b.min_memory_mb * kMb) +
                     " B");
  }
  if (memory > b.max_memory_mb) {
    return Malformed(fail + "memory " + s(memory) + " MB exceeds allowed threshold of " + s(b.max_memory_mb * kMb) +
                     " B");
  }
  if (logs < b.min_logs_mb) {
    return Malformed(fail + "log size " + s(logs) + " MB below allowed threshold of " + s(b.min_logs_mb * kMb) + " B");
  }
  if (logs > b.max_logs_mb) {
    return Malformed(fail + "log size " + s(logs) + " MB exceeds allowed threshold of " + s(b.max_logs_mb * kMb) +
                     " B");
  }
  if (concurrency < b.min_concurrency) {
    return Malformed(fail + "concurrency " + s(concurrency) + " below allowed threshold of " + s(b.min_concurrency));
  }
  if (concurrency > b.max_concurrency) {
    return Malformed(fail + "concurrency " + s(concurrency) + " exceeds allowed threshold of " + s(b.max_concurrency));
  }
  Json out = {{"timeout", timeout}, {"memory", memory}, {"logs", logs}, {"concurrency", concurrency}};
  const bool has_instances = (req.contains("instances") && !req["instances"].is_null()) || old.contains("instances");
  if (has_instances) {
    WISP_ASSIGN_OR_RETURN(int64_t instances, LimitField(req, "instances", json::GetInt(old, "instances", 0)));
    if (instances < 1) {
      return Malformed(fail + "instances " + s(instances) + " below allowed threshold of 1");
    }
    if (instances > b.max_instances) {
      return Malformed(fail + "instances " + s(instances) + " exceeds allowed threshold of " + s(b.max_instances));
    }
    out["instances"] = instances;
  }
  return out;
}

bool LooksLikeBase64(std::string_view code) {
  while (!code.empty() &&
         (code.front() == ' ' || code.front() == '\n' || code.front() == '\t' || code.front() == '\r')) {
    code.remove_prefix(1);
  }
  while (!code.empty() && (code.back() == ' ' || code.back() == '\n' || code.back() == '\t' || code.back() == '\r')) {
    code.remove_suffix(1);
  }
  if (code.empty() || code.size() % 4 != 0) return false;
  for (size_t i = 0; i < code.size(); ++i) {
    const char c = code[i];
    const bool alpha = IsWordChar(c) && c != '_';
    if (alpha || c == '+' || c == '/') continue;
    if (c == '=' && i + 2 >= code.size()) continue;
    return false;
  }
  return true;
}

}  // namespace wisp::whisk
