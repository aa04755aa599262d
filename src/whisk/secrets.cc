#include "whisk/secrets.h"

#include <algorithm>

#include "whisk/entity.h"

namespace wisp::whisk {
namespace {

// Whether a parameter's value has anything to hide.
bool HasValue(const Json& value) { return !value.is_null() && !(value.is_string() && value.get_ref<const std::string&>().empty()); }

}  // namespace

const std::set<std::string, std::less<>>& KnownSecretNames() {
  // The Stack Overflow package's credentials (apps/stackoverflow), and the
  // names every user reads as a secret.
  static const std::set<std::string, std::less<>> names = {"slackURL", "botURL", "apikey",
                                                           "api_key",  "store_password", "password"};
  return names;
}

std::set<std::string, std::less<>> SecretNames(std::initializer_list<const Json*> annotation_lists) {
  std::set<std::string, std::less<>> names = KnownSecretNames();
  for (const Json* annotations : annotation_lists) {
    if (annotations == nullptr || !annotations->is_array()) continue;
    const Json listed = KeyValue(*annotations, kSecretParametersAnnotation);
    if (!listed.is_array()) continue;
    for (const Json& name : listed) {
      if (name.is_string()) names.insert(name.get<std::string>());
    }
  }
  return names;
}

Json MaskParameters(const Json& parameters, const std::set<std::string, std::less<>>& secret_names) {
  if (!parameters.is_array()) return parameters;
  Json out = parameters;
  for (Json& p : out) {
    if (!p.is_object() || !p.contains("key") || !p["key"].is_string()) continue;
    if (secret_names.count(p["key"].get_ref<const std::string&>()) && HasValue(p.value("value", Json()))) {
      p["value"] = kMaskedValue;
    }
  }
  return out;
}

Json MaskEntity(Json entity, const Json* extra_annotations) {
  if (!entity.is_object() || !entity.contains("parameters")) return entity;
  const Json annotations = entity.value("annotations", Json::array());
  entity["parameters"] = MaskParameters(entity["parameters"], SecretNames({&annotations, extra_annotations}));
  return entity;
}

Json RestoreMaskedParameters(const Json& sent, const Json& stored,
                             const std::set<std::string, std::less<>>& secret_names) {
  if (!sent.is_array() || !stored.is_array()) return sent;
  Json out = sent;
  for (Json& p : out) {
    if (!p.is_object() || !p.contains("key") || !p["key"].is_string()) continue;
    const std::string& key = p["key"].get_ref<const std::string&>();
    if (!secret_names.count(key) || p.value("value", Json()) != Json(kMaskedValue)) continue;
    const Json previous = KeyValue(stored, key);
    if (!previous.is_null()) p["value"] = previous;
  }
  return out;
}

void SecretRedactor::Add(const std::set<std::string, std::less<>>& names, const Json& parameters) {
  names_.insert(names.begin(), names.end());
  auto add = [&](const std::string& key, const Json& value) {
    if (!names_.count(key) || !HasValue(value)) return;
    std::string text = value.is_string() ? value.get<std::string>() : json::Dump(value);
    if (text.size() < kMinRedactedLength || std::find(values_.begin(), values_.end(), text) != values_.end()) return;
    values_.push_back(std::move(text));
  };
  if (parameters.is_object()) {
    for (const auto& [key, value] : parameters.items()) add(key, value);
  } else if (parameters.is_array()) {
    for (const Json& p : parameters) {
      if (p.is_object() && p.contains("key") && p["key"].is_string()) add(p["key"].get<std::string>(), p.value("value", Json()));
    }
  }
  std::sort(values_.begin(), values_.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string SecretRedactor::Redact(std::string_view text) const {
  std::string out(text);
  for (const std::string& value : values_) {
    for (size_t at = out.find(value); at != std::string::npos; at = out.find(value, at + sizeof(kMaskedValue) - 1)) {
      out.replace(at, value.size(), kMaskedValue);
    }
  }
  return out;
}

Json SecretRedactor::Redact(const Json& value) const {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    return values_.empty() ? value : Json(Redact(std::string_view(text)));
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const Json& item : value) out.push_back(Redact(item));
    return out;
  }
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [key, item] : value.items()) {
      out[key] = names_.count(key) && HasValue(item) ? Json(kMaskedValue) : Redact(item);
    }
    return out;
  }
  return value;
}

Json SecretRedactor::RedactRecord(Json record) const {
  if (!record.is_object()) return record;
  if (record.contains("response") && record["response"].is_object() && record["response"].contains("result")) {
    record["response"]["result"] = Redact(record["response"]["result"]);
  }
  if (record.contains("logs") && record["logs"].is_array() && !values_.empty()) {
    for (Json& line : record["logs"]) {
      if (line.is_string()) line = Redact(std::string_view(line.get_ref<const std::string&>()));
    }
  }
  return record;
}

}  // namespace wisp::whisk
