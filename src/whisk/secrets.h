// Secret parameters: which parameters are secret, and how wisp keeps their
// values out of what it shows. docs/security.md "Secrets" is the user's view.
//
// A parameter is secret when its name is one of kKnownSecretNames (the
// credentials of the Stack Overflow package, and the usual names of
// passwords and keys), or when the entity that defines it (an action, its
// package or binding, a trigger) lists it in the annotation
// `secret-parameters: ["name", ...]`.
//
// What wisp does with them:
//   - GET (and PUT and DELETE) answers of actions, packages and triggers show
//     the value of a secret parameter as kMaskedValue. A PUT that sends
//     kMaskedValue back for a secret parameter keeps the stored value, so a
//     client that reads an entity, edits it and writes it back loses nothing
//     (RestoreMaskedParameters()).
//   - Activation records (stored, and returned by a blocking invoke) are
//     written through a SecretRedactor: the value of a key with a secret name
//     is masked anywhere in the result, and every occurrence of a secret
//     value (at least kMinRedactedLength characters) in the result's strings
//     and in the log lines is replaced by kMaskedValue.
//   - The action itself receives the real values.
//
// Thread-safety: the functions are pure; a SecretRedactor is immutable once
// filled and may then be shared.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "json/json.h"

namespace wisp::whisk {

// What a secret value is shown as.
inline constexpr char kMaskedValue[] = "********";
// The annotation that marks parameters secret: an array of names.
inline constexpr char kSecretParametersAnnotation[] = "secret-parameters";
// Shorter values are not searched for in text (an empty or one-letter
// "secret" would mask everything).
inline constexpr size_t kMinRedactedLength = 4;

// Names that are secret without an annotation.
const std::set<std::string, std::less<>>& KnownSecretNames();

// The secret names of an entity: the known ones, plus the names listed in
// `secret-parameters` of each annotation list given ([{key, value}]).
std::set<std::string, std::less<>> SecretNames(std::initializer_list<const Json*> annotation_lists);

// `parameters` ([{key, value}]) with the value of each secret name replaced
// by kMaskedValue (a null or empty value stays as it is: there is nothing to hide).
Json MaskParameters(const Json& parameters, const std::set<std::string, std::less<>>& secret_names);

// An entity document as answered to a client: its `parameters` masked with
// the names of its own annotations (and `extra_annotations`, e.g. its package's).
Json MaskEntity(Json entity, const Json* extra_annotations = nullptr);

// The parameters a PUT stores: `sent`, except that a secret parameter whose
// value is kMaskedValue keeps its value from `stored` (when there is one).
Json RestoreMaskedParameters(const Json& sent, const Json& stored,
                             const std::set<std::string, std::less<>>& secret_names);

// Removes secret values from what wisp records about an activation.
class SecretRedactor {
 public:
  // Adds `names` to the secret names, and collects the values of those names
  // among `parameters` (an object, or a [{key, value}] list): strings as they
  // are, other values as JSON.
  void Add(const std::set<std::string, std::less<>>& names, const Json& parameters);

  bool empty() const { return values_.empty() && names_.empty(); }
  // `text` with each secret value replaced by kMaskedValue.
  std::string Redact(std::string_view text) const;
  // `value` with secret-named keys masked and secret values replaced in strings.
  Json Redact(const Json& value) const;
  // An activation record: its response.result and its logs.
  Json RedactRecord(Json record) const;

 private:
  std::set<std::string, std::less<>> names_;
  std::vector<std::string> values_;  // longest first, so a value that contains another is replaced whole
};

}  // namespace wisp::whisk
