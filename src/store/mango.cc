#include "store/mango.h"

#include <algorithm>
#include <cstdint>
#include <regex>
#include <utility>

#include "store/collation.h"

namespace wisp::store {

// ---------------------------------------------------------------------------
// Error reasons, worded as CouchDB's mango_error.erl words them, each with the
// `error` name CouchDB sends beside it.

namespace {

constexpr std::string_view kInvalidOperator = "Invalid operator: ";
constexpr std::string_view kUnsupportedOperator = "Unsupported operator: ";
constexpr std::string_view kBadArgument = "Bad argument for operator ";
constexpr std::string_view kMissingFieldName = "One or more conditions is missing a field name.";
constexpr std::string_view kInvalidFieldName = "Invalid field name: ";
constexpr std::string_view kSelectorNotObject = "Selector must be a JSON object, not: ";
constexpr std::string_view kSelectorTooDeep = "Selector is nested too deeply";
constexpr std::string_view kSortNotArray = "Sort must be an array of sort specs, not: ";
constexpr std::string_view kInvalidSortField = "Invalid sort field: ";
constexpr std::string_view kMixedSort = "Sorts currently only support a single direction for all fields.";
constexpr std::string_view kFieldsNotArray = "Fields must be an array of strings, not: ";
constexpr std::string_view kInvalidFieldSpec = "Invalid JSON for field spec: ";

struct ErrorName {
  std::string_view reason_prefix;
  std::string_view type;
};
constexpr ErrorName kErrorNames[] = {
    {kInvalidOperator, "invalid_operator"},
    {kUnsupportedOperator, "not_supported"},
    {kBadArgument, "bad_arg"},
    {kMissingFieldName, "invalid_selector"},
    {kInvalidFieldName, "invalid_field_name"},
    {kSelectorNotObject, "invalid_selector_json"},
    {kSelectorTooDeep, "invalid_selector"},
    {kSortNotArray, "invalid_sort_json"},
    {kInvalidSortField, "invalid_sort_field"},
    {kMixedSort, "unsupported_mixed_sort"},
    {kFieldsNotArray, "invalid_fields"},
    {kInvalidFieldSpec, "invalid_field"},
    {mango_reason::kMissingKey, "missing_required_key"},
    {mango_reason::kInvalidKey, "invalid_key"},
    {mango_reason::kInvalidString, "invalid_string"},
    {mango_reason::kInvalidBoolean, "invalid_boolean"},
    {mango_reason::kInvalidIndexType, "invalid_index"},
    {mango_reason::kIndexNotObject, "invalid_index"},
    {mango_reason::kNoIndexDefinition, "invalid_index"},
    {mango_reason::kInvalidIndexName, "invalid_index_name"},
    {mango_reason::kInvalidDdocLanguage, "invalid_ddoc_lang"},
    {mango_reason::kNoUsableIndex, "no_usable_index"},
};

Status Invalid(std::string_view prefix, std::string_view detail = {}) {
  std::string msg(prefix);
  msg += detail;
  return Status::InvalidArgument(std::move(msg));
}

Status BadArg(std::string_view op, const Json& arg) {
  return Invalid(kBadArgument, std::string(op) + ": " + json::Dump(arg));
}

Status BadArgBecause(std::string_view op, std::string_view why) {
  return Invalid(kBadArgument, std::string(op) + ": " + std::string(why));
}

}  // namespace

std::string_view MangoErrorType(const Status& status) {
  if (!status.IsInvalidArgument()) return "bad_request";
  for (const ErrorName& e : kErrorNames) {
    if (std::string_view(status.message()).starts_with(e.reason_prefix)) return e.type;
  }
  return "bad_request";
}

// ---------------------------------------------------------------------------
// Field paths.

Result<std::vector<std::string>> ParseFieldPath(std::string_view field) {
  // Split at every dot that does not follow a backslash, then drop every
  // backslash: mango_util:parse_field.
  std::vector<std::string> segments;
  size_t start = 0;
  for (size_t i = 0; i <= field.size(); ++i) {
    const bool split = i == field.size() || (field[i] == '.' && (i == 0 || field[i - 1] != '\\'));
    if (!split) continue;
    const std::string_view raw = field.substr(start, i - start);
    if (raw.empty()) return Invalid(kInvalidFieldName, field);
    std::string segment;
    segment.reserve(raw.size());
    for (char c : raw) {
      if (c != '\\') segment += c;
    }
    segments.push_back(std::move(segment));
    start = i + 1;
  }
  return segments;
}

namespace {

// A path joined back with dots, escaping the dots inside segments.
std::string JoinEscaped(const std::vector<std::string>& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (i > 0) out += '.';
    for (char c : path[i]) {
      if (c == '.') out += '\\';
      out += c;
    }
  }
  return out;
}

// A path joined with plain dots, as CouchDB's mango_util:join_field does.
std::string JoinPlain(const std::vector<std::string>& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (i > 0) out += '.';
    out += path[i];
  }
  return out;
}

enum class Lookup { kFound, kNotFound, kBadPath };

// An array index as Erlang's binary_to_integer reads it: an optional sign and
// at least one digit, nothing else.
bool ParseIndex(const std::string& s, size_t size, size_t* index) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (i == s.size()) return false;
  uint64_t value = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    value = value * 10 + static_cast<uint64_t>(s[i] - '0');
    if (value > size) value = size;  // saturate: anything this big is out of range
  }
  if (negative && value != 0) return false;
  if (value >= size) return false;
  *index = static_cast<size_t>(value);
  return true;
}

// Walks `path` from `value` (mango_doc:get_field): object members by name,
// array elements by integer index. Anything else on the way is a bad path.
Lookup GetField(const Json& value, const std::vector<std::string>& path, const Json** out) {
  const Json* v = &value;
  for (const std::string& name : path) {
    if (v->is_object()) {
      auto it = v->find(name);
      if (it == v->end()) return Lookup::kNotFound;
      v = &*it;
    } else if (v->is_array()) {
      size_t index = 0;
      if (!ParseIndex(name, v->size(), &index)) return Lookup::kBadPath;
      v = &(*v)[index];
    } else {
      return Lookup::kBadPath;
    }
  }
  *out = v;
  return Lookup::kFound;
}

// Sets `value` at `path` inside `target` (mango_doc:set_field): missing object
// members are created as nested objects; array elements are replaced only
// when the index exists; a scalar in the way leaves `target` unchanged.
void SetField(Json& target, const std::vector<std::string>& path, size_t depth, const Json& value) {
  const std::string& name = path[depth];
  const bool last = depth + 1 == path.size();
  if (target.is_object()) {
    auto it = target.find(name);
    if (last) {
      target[name] = value;
    } else if (it != target.end()) {
      SetField(*it, path, depth + 1, value);
    } else {
      Json nested = value;
      for (size_t i = path.size() - 1; i > depth; --i) nested = Json{{path[i], std::move(nested)}};
      target[name] = std::move(nested);
    }
  } else if (target.is_array()) {
    size_t index = 0;
    if (!ParseIndex(name, target.size(), &index)) return;
    if (last) {
      target[index] = value;
    } else {
      SetField(target[index], path, depth + 1, value);
    }
  }
}

// The depth of nested arrays and objects in `v` (a scalar is 0), computed
// without recursion, stopping early once past `limit`.
int JsonDepth(const Json& v, int limit) {
  std::vector<std::pair<const Json*, int>> todo{{&v, 0}};
  int deepest = 0;
  while (!todo.empty()) {
    auto [node, depth] = todo.back();
    todo.pop_back();
    if (!node->is_array() && !node->is_object()) continue;
    deepest = std::max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const Json& child : *node) todo.emplace_back(&child, depth + 1);
  }
  return deepest;
}

// Erlang's term equality on JSON: strings compare by bytes (not by collation)
// and, with `exact` (=:=), an integer never equals a float; without it (==),
// numbers compare by value. Iterative, for any depth.
bool TermEqual(const Json& a, const Json& b, bool exact) {
  std::vector<std::pair<const Json*, const Json*>> todo{{&a, &b}};
  while (!todo.empty()) {
    auto [x, y] = todo.back();
    todo.pop_back();
    if (x->is_number() && y->is_number()) {
      if (exact && x->is_number_float() != y->is_number_float()) return false;
      if (CollateJson(*x, *y) != 0) return false;
      continue;
    }
    if (x->type() != y->type()) return false;
    if (x->is_array()) {
      if (x->size() != y->size()) return false;
      for (size_t i = 0; i < x->size(); ++i) todo.emplace_back(&(*x)[i], &(*y)[i]);
    } else if (x->is_object()) {
      if (x->size() != y->size()) return false;
      for (auto ix = x->begin(), iy = y->begin(); ix != x->end(); ++ix, ++iy) {
        if (ix.key() != iy.key()) return false;
        todo.emplace_back(&ix.value(), &iy.value());
      }
    } else if (*x != *y) {
      return false;
    }
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------
// The normalised selector tree.

namespace mango_internal {

enum class Op {
  kEq,
  kNe,
  kLt,
  kLte,
  kGt,
  kGte,
  kIn,
  kNin,
  kExists,
  kType,
  kMod,
  kRegex,
  kBeginsWith,
  kSize,
  kAll,
  kElemMatch,
  kAllMatch,
  kKeyMapMatch,
};

// A compiled $regex. See CompileRegex.
struct Regex {
  std::regex re;
  bool whole_match;  // wrapped to be run with regex_match rather than regex_search
};

// After normalisation a selector is a tree of $and / $or over field
// conditions; each condition is one operator on one path, possibly negated.
struct Node {
  enum class Kind { kAnd, kOr, kField };
  Kind kind = Kind::kAnd;
  std::vector<Node> children;          // kAnd, kOr
  std::vector<std::string> path;       // kField; empty means the value itself
  Op op = Op::kEq;                     // kField
  bool negated = false;                // kField: a $not kept on a condition that has no inverse
  Json arg;                            // kField: the operator's argument
  std::shared_ptr<const Node> sub;     // $elemMatch, $allMatch, $keyMapMatch
  std::shared_ptr<const Regex> regex;  // $regex
};

}  // namespace mango_internal

using mango_internal::Node;
using mango_internal::Op;
using mango_internal::Regex;

namespace {

struct OpName {
  std::string_view name;
  Op op;
};
constexpr OpName kOpNames[] = {
    {"$eq", Op::kEq},
    {"$ne", Op::kNe},
    {"$lt", Op::kLt},
    {"$lte", Op::kLte},
    {"$gt", Op::kGt},
    {"$gte", Op::kGte},
    {"$in", Op::kIn},
    {"$nin", Op::kNin},
    {"$exists", Op::kExists},
    {"$type", Op::kType},
    {"$mod", Op::kMod},
    {"$regex", Op::kRegex},
    {"$beginsWith", Op::kBeginsWith},
    {"$size", Op::kSize},
    {"$all", Op::kAll},
    {"$elemMatch", Op::kElemMatch},
    {"$allMatch", Op::kAllMatch},
    {"$keyMapMatch", Op::kKeyMapMatch},
};

std::string_view NameOf(Op op) {
  for (const OpName& o : kOpNames) {
    if (o.op == op) return o.name;
  }
  return "$eq";
}

// Operators CouchDB knows and refuses.
constexpr std::string_view kUnsupported[] = {"$where", "$geoWithin", "$geoIntersects", "$near", "$nearSphere", "$text"};

// ---- $regex ---------------------------------------------------------------

// Estimates the number of NFA states a pattern compiles to, multiplying by
// counted repetitions ({n}, {n,}, {n,m}), saturating at kMaxRegexStates + 1.
// It only has to be a fair upper bound for patterns that compile.
size_t EstimateRegexStates(std::string_view p) {
  static constexpr size_t kCap = kMaxRegexStates + 1;
  auto add = [](size_t a, size_t b) { return std::min(kCap, a + b); };
  auto mul = [](size_t a, size_t b) { return b != 0 && a > kCap / b ? kCap : std::min(kCap, a * b); };
  struct Group {
    size_t total = 0;  // states of the finished atoms
    size_t last = 0;   // states of the latest atom, which a quantifier would repeat
  };
  std::vector<Group> groups(1);
  auto atom = [&](size_t states) {
    Group& g = groups.back();
    g.total = add(g.total, g.last);
    g.last = states;
  };
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      ++i;
      atom(1);
    } else if (c == '[') {
      ++i;
      if (i < p.size() && p[i] == '^') ++i;
      if (i < p.size() && p[i] == ']') ++i;
      while (i < p.size() && p[i] != ']') i += p[i] == '\\' ? 2 : 1;
      atom(1);
    } else if (c == '(') {
      groups.emplace_back();
      if (i + 1 < p.size() && p[i + 1] == '?') i += 2;  // (?: (?= (?!
    } else if (c == ')') {
      if (groups.size() == 1) continue;
      const Group inner = groups.back();
      groups.pop_back();
      atom(add(add(inner.total, inner.last), 2));
    } else if (c == '|') {
      Group& g = groups.back();
      g.total = add(add(g.total, g.last), 1);
      g.last = 0;
    } else if (c == '*' || c == '+' || c == '?') {
      groups.back().last = add(groups.back().last, 2);
    } else if (c == '{') {
      // {n}, {n,} or {n,m}; anything else is a literal brace.
      size_t j = i + 1;
      size_t bound = 0;
      bool digits = false;
      auto read = [&] {
        size_t v = 0;
        while (j < p.size() && p[j] >= '0' && p[j] <= '9') {
          v = std::min(kCap, v * 10 + static_cast<size_t>(p[j] - '0'));
          ++j;
          digits = true;
        }
        return v;
      };
      const size_t n = read();
      bound = n;
      if (digits && j < p.size() && p[j] == ',') {
        ++j;
        const size_t m = read();
        bound = std::max(n, m) + 1;
      }
      if (digits && j < p.size() && p[j] == '}') {
        Group& g = groups.back();
        g.last = add(mul(g.last, std::max<size_t>(bound, 1)), 2);
        i = j;
      } else {
        atom(1);
      }
    } else {
      atom(1);
    }
  }
  size_t total = 0;
  for (const Group& g : groups) total = add(total, add(g.total, g.last));
  return total;
}

// Whether a repetition count ({n}, {n,m}) or a back-reference (\n) has more
// than nine digits. libstdc++ reads such numbers into a long without checking
// for overflow, so they must not reach it.
bool HasOverlongNumber(std::string_view p) {
  auto digits_at = [&](size_t j) {
    size_t n = 0;
    while (j + n < p.size() && p[j + n] >= '0' && p[j + n] <= '9') ++n;
    return n;
  };
  constexpr size_t kMaxDigits = 9;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      if (digits_at(i + 1) > kMaxDigits) return true;
      ++i;  // the escaped character is a literal
    } else if (p[i] == '{') {
      const size_t first = digits_at(i + 1);
      if (first > kMaxDigits) return true;
      const size_t comma = i + 1 + first;
      if (comma < p.size() && p[comma] == ',' && digits_at(comma + 1) > kMaxDigits) return true;
    }
  }
  return false;
}

// Compiles a $regex pattern. A leading "(?i)" or "(?m)" (or "(?im)") becomes
// the icase / multiline flag. With libstdc++ the pattern is wrapped as
// [\s\S]*(?:pattern)[\s\S]* and compiled for the polynomial executor, so that
// an unanchored search is one linear pass with no backtracking and no
// recursion over the string (the default executor recurses per character and
// overflows the stack on long strings).
Result<std::shared_ptr<const Regex>> CompileRegex(const Json& arg) {
  const std::string& pattern = arg.get_ref<const std::string&>();
  if (pattern.size() > kMaxRegexBytes) {
    return BadArgBecause("$regex", "pattern longer than " + std::to_string(kMaxRegexBytes) + " bytes");
  }
  std::string_view body = pattern;
  auto flags = std::regex::ECMAScript;
  if (body.starts_with("(?")) {
    const size_t close = body.find(')');
    const std::string_view letters = close == std::string_view::npos ? "" : body.substr(2, close - 2);
    if (!letters.empty() && letters.find_first_not_of("im") == std::string_view::npos) {
      if (letters.find('i') != std::string_view::npos) flags |= std::regex::icase;
      if (letters.find('m') != std::string_view::npos) flags |= std::regex::multiline;
      body.remove_prefix(close + 1);
    }
  }
  if (HasOverlongNumber(body) || EstimateRegexStates(body) > kMaxRegexStates) {
    return BadArgBecause("$regex", "pattern too complex");
  }
  auto compiled = std::make_shared<Regex>();
  try {
#if defined(__GLIBCXX__)
    flags |= std::regex_constants::__polynomial;
    // Compiled alone first, so that an unbalanced pattern such as "a)(b"
    // cannot turn into a valid one inside the wrapper.
    std::regex alone(body.begin(), body.end(), flags);
    (void)alone;
    std::string wrapped = "[\\s\\S]*(?:";
    wrapped += body;
    wrapped += ")[\\s\\S]*";
    compiled->re = std::regex(wrapped, flags);
    compiled->whole_match = true;
#else
    compiled->re = std::regex(body.begin(), body.end(), flags);
    compiled->whole_match = false;
#endif
  } catch (const std::regex_error&) {
    return BadArg("$regex", arg);
  }
  return std::shared_ptr<const Regex>(std::move(compiled));
}

bool RegexMatches(const Regex& regex, const std::string& s) {
  try {
    return regex.whole_match ? std::regex_match(s, regex.re) : std::regex_search(s, regex.re);
  } catch (const std::regex_error&) {
    return false;  // as CouchDB: a failing match is no match
  }
}

// ---- Parsing --------------------------------------------------------------

Node FieldNode(std::vector<std::string> path, Op op, Json arg) {
  Node n;
  n.kind = Node::Kind::kField;
  n.path = std::move(path);
  n.op = op;
  n.arg = std::move(arg);
  return n;
}

// The negation of a normalised node (mango_selector:negate): De Morgan for
// $and / $or, the inverse operator where there is one, a kept $not otherwise.
Node Negate(Node n) {
  switch (n.kind) {
    case Node::Kind::kAnd:
    case Node::Kind::kOr:
      n.kind = n.kind == Node::Kind::kAnd ? Node::Kind::kOr : Node::Kind::kAnd;
      for (Node& c : n.children) c = Negate(std::move(c));
      return n;
    case Node::Kind::kField: break;
  }
  if (n.negated) {
    n.negated = false;
    return n;
  }
  switch (n.op) {
    case Op::kLt: n.op = Op::kGte; break;
    case Op::kLte: n.op = Op::kGt; break;
    case Op::kGt: n.op = Op::kLte; break;
    case Op::kGte: n.op = Op::kLt; break;
    case Op::kEq: n.op = Op::kNe; break;
    case Op::kNe: n.op = Op::kEq; break;
    case Op::kIn: n.op = Op::kNin; break;
    case Op::kNin: n.op = Op::kIn; break;
    case Op::kExists: n.arg = !n.arg.get<bool>(); break;
    default: n.negated = true; break;
  }
  return n;
}

bool IsInteger(const Json& v) { return v.is_number_integer(); }  // int64 or uint64, never a float

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

Result<Node> Build(const Json& v, const std::vector<std::string>& path);

// One {key: value} pair of a selector or condition object, at `path`
// (mango_selector's norm_ops and norm_fields in one pass, negations applied
// bottom-up, which gives the same tree as its separate norm_negations pass).
Result<Node> BuildPair(const std::string& key, const Json& a, const std::vector<std::string>& path) {
  if (!key.starts_with('$')) {
    WISP_ASSIGN_OR_RETURN(std::vector<std::string> segments, ParseFieldPath(key));
    std::vector<std::string> sub = path;
    sub.insert(sub.end(), segments.begin(), segments.end());
    return Build(a, sub);
  }
  if (key == "$and" || key == "$or" || key == "$nor") {
    if (!a.is_array()) return BadArg(key, a);
    Node n;
    n.kind = key == "$or" ? Node::Kind::kOr : Node::Kind::kAnd;
    for (const Json& e : a) {
      WISP_ASSIGN_OR_RETURN(Node child, Build(e, path));
      n.children.push_back(key == "$nor" ? Negate(std::move(child)) : std::move(child));
    }
    return n;
  }
  if (key == "$not") {
    if (!a.is_object()) return BadArg(key, a);
    WISP_ASSIGN_OR_RETURN(Node inner, Build(a, path));
    return Negate(std::move(inner));
  }
  for (std::string_view unsupported : kUnsupported) {
    if (key == unsupported) return Invalid(kUnsupportedOperator, key);
  }
  const auto known =
      std::find_if(std::begin(kOpNames), std::end(kOpNames), [&](const OpName& o) { return o.name == key; });
  if (known == std::end(kOpNames)) return Invalid(kInvalidOperator, key);
  const Op op = known->op;
  switch (op) {
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kLte:
    case Op::kGt:
    case Op::kGte: break;  // any JSON value
    case Op::kIn:
    case Op::kNin:
    case Op::kAll:
      if (!a.is_array()) return BadArg(key, a);
      break;
    case Op::kExists:
      if (!a.is_boolean()) return BadArg(key, a);
      break;
    case Op::kType:
      if (!a.is_string()) return BadArg(key, a);
      break;
    case Op::kSize:
      if (!IsInteger(a) || (a.is_number_integer() && !a.is_number_unsigned() && a.get<int64_t>() < 0)) {
        return BadArg(key, a);
      }
      break;
    case Op::kMod:
      if (!a.is_array() || a.size() != 2 || !IsInteger(a[0]) || !IsInteger(a[1]) || a[0] == 0) {
        return BadArg(key, a);
      }
      break;
    case Op::kRegex:
      // CouchDB has no clause for a non-string $regex or $beginsWith and
      // falls through to "Invalid operator".
      if (!a.is_string()) return Invalid(kInvalidOperator, key);
      break;
    case Op::kBeginsWith:
      if (!a.is_string()) return Invalid(kInvalidOperator, key);
      if (!IsValidUtf8(a.get_ref<const std::string&>())) return BadArg(key, a);
      break;
    case Op::kElemMatch:
    case Op::kAllMatch:
    case Op::kKeyMapMatch: {
      if (!a.is_object()) return BadArg(key, a);
      WISP_ASSIGN_OR_RETURN(Node sub, Build(a, {}));
      Node n = FieldNode(path, op, Json());
      n.sub = std::make_shared<const Node>(std::move(sub));
      return n;
    }
  }
  Node n = FieldNode(path, op, a);
  if (op == Op::kRegex) {
    WISP_ASSIGN_OR_RETURN(n.regex, CompileRegex(a));
  }
  return n;
}

// A selector or condition value at `path`. An object with several keys is an
// implicit $and of its pairs; anything but a one-key object (including {}) is
// an implicit $eq.
Result<Node> Build(const Json& v, const std::vector<std::string>& path) {
  if (!v.is_object() || v.empty()) return FieldNode(path, Op::kEq, v);
  if (v.size() == 1) return BuildPair(v.begin().key(), v.begin().value(), path);
  Node n;
  n.kind = Node::Kind::kAnd;
  for (auto it = v.begin(); it != v.end(); ++it) {
    WISP_ASSIGN_OR_RETURN(Node child, BuildPair(it.key(), it.value(), path));
    n.children.push_back(std::move(child));
  }
  return n;
}

// ---- Matching -------------------------------------------------------------

bool MatchNode(const Node& n, const Json& value);

std::string_view TypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "number";
    case Json::value_t::string: return "string";
    case Json::value_t::array: return "array";
    case Json::value_t::object: return "object";
    default: return "";
  }
}

__int128 AsInt128(const Json& v) {
  return v.is_number_unsigned() ? static_cast<__int128>(v.get<uint64_t>()) : static_cast<__int128>(v.get<int64_t>());
}

bool InMatches(const Json& args, const Json& v) {
  for (const Json& a : args) {
    if (v.is_array()) {
      for (const Json& e : v) {
        if (CollateJson(e, a) == 0) return true;
      }
    } else if (CollateJson(v, a) == 0) {
      return true;
    }
  }
  return false;
}

// One operator on a value that exists.
bool MatchOp(const Node& n, const Json& v) {
  const Json& a = n.arg;
  switch (n.op) {
    case Op::kEq: return CollateJson(v, a) == 0;
    case Op::kNe: return CollateJson(v, a) != 0;
    case Op::kLt: return CollateJson(v, a) < 0;
    case Op::kLte: return CollateJson(v, a) <= 0;
    case Op::kGt: return CollateJson(v, a) > 0;
    case Op::kGte: return CollateJson(v, a) >= 0;
    case Op::kIn: return InMatches(a, v);
    case Op::kNin:
      if (v.is_array()) return a.empty() || !InMatches(a, v);
      return std::none_of(a.begin(), a.end(), [&](const Json& x) { return CollateJson(v, x) == 0; });
    case Op::kExists: return a.get<bool>();
    case Op::kType: return TypeName(v) == a.get_ref<const std::string&>();
    case Op::kMod: {
      if (!IsInteger(v)) return false;
      // 128 bits: no overflow for any int64 / uint64 pair, INT64_MIN % -1 included.
      return AsInt128(v) % AsInt128(a[0]) == AsInt128(a[1]);
    }
    case Op::kRegex: return v.is_string() && RegexMatches(*n.regex, v.get_ref<const std::string&>());
    case Op::kBeginsWith:
      return v.is_string() && v.get_ref<const std::string&>().starts_with(a.get_ref<const std::string&>());
    case Op::kSize: return v.is_array() && CollateJson(Json(v.size()), a) == 0;
    case Op::kAll: {
      if (a.empty() || !v.is_array()) return false;
      const bool has_all = std::all_of(a.begin(), a.end(), [&](const Json& x) {
        return std::any_of(v.begin(), v.end(), [&](const Json& e) { return TermEqual(e, x, /*exact=*/true); });
      });
      return has_all || (a.size() == 1 && a[0].is_array() && TermEqual(a[0], v, /*exact=*/false));
    }
    case Op::kElemMatch:
      return v.is_array() && std::any_of(v.begin(), v.end(), [&](const Json& e) { return MatchNode(*n.sub, e); });
    case Op::kAllMatch:
      return v.is_array() && !v.empty() &&
             std::all_of(v.begin(), v.end(), [&](const Json& e) { return MatchNode(*n.sub, e); });
    case Op::kKeyMapMatch:
      if (!v.is_object()) return false;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (MatchNode(*n.sub, Json(it.key()))) return true;
      }
      return false;
  }
  return false;
}

bool MatchNode(const Node& n, const Json& value) {
  switch (n.kind) {
    case Node::Kind::kAnd:
      return std::all_of(n.children.begin(), n.children.end(), [&](const Node& c) { return MatchNode(c, value); });
    case Node::Kind::kOr:
      return n.children.empty() ||
             std::any_of(n.children.begin(), n.children.end(), [&](const Node& c) { return MatchNode(c, value); });
    case Node::Kind::kField: break;
  }
  const Json* v = nullptr;
  switch (GetField(value, n.path, &v)) {
    case Lookup::kNotFound: return n.op == Op::kExists && !n.negated && !n.arg.get<bool>();
    case Lookup::kBadPath: return false;
    case Lookup::kFound: break;
  }
  return MatchOp(n, *v) != n.negated;
}

Json NodeToJson(const Node& n) {
  if (n.kind != Node::Kind::kField) {
    Json children = Json::array();
    for (const Node& c : n.children) children.push_back(NodeToJson(c));
    return Json{{n.kind == Node::Kind::kAnd ? "$and" : "$or", std::move(children)}};
  }
  Json arg = n.sub ? NodeToJson(*n.sub) : n.arg;
  Json cond = Json{{std::string(NameOf(n.op)), std::move(arg)}};
  if (n.negated) cond = Json{{"$not", std::move(cond)}};
  return Json{{JoinPlain(n.path), std::move(cond)}};
}

void CollectIndexable(const Node& n, std::vector<IndexableCondition>& out) {
  if (n.kind == Node::Kind::kAnd) {
    for (const Node& c : n.children) CollectIndexable(c, out);
    return;
  }
  if (n.kind != Node::Kind::kField || n.negated || n.path.empty()) return;
  RangeOp op;
  switch (n.op) {
    case Op::kEq: op = RangeOp::kEq; break;
    case Op::kGt: op = RangeOp::kGt; break;
    case Op::kGte: op = RangeOp::kGte; break;
    case Op::kLt: op = RangeOp::kLt; break;
    case Op::kLte: op = RangeOp::kLte; break;
    default: return;
  }
  out.push_back(IndexableCondition{n.path, JoinEscaped(n.path), op, n.arg});
}

using FieldPaths = std::vector<std::vector<std::string>>;

void CollectRequired(const Node& n, FieldPaths& out) {
  switch (n.kind) {
    case Node::Kind::kAnd:
      for (const Node& c : n.children) CollectRequired(c, out);
      return;
    case Node::Kind::kOr: {
      if (n.children.empty()) return;
      // A field is required when every branch requires it.
      FieldPaths common;
      CollectRequired(n.children.front(), common);
      for (size_t i = 1; i < n.children.size(); ++i) {
        FieldPaths branch;
        CollectRequired(n.children[i], branch);
        std::erase_if(common,
                      [&](const auto& p) { return std::find(branch.begin(), branch.end(), p) == branch.end(); });
      }
      out.insert(out.end(), common.begin(), common.end());
      return;
    }
    case Node::Kind::kField: break;
  }
  if (n.path.empty()) return;
  if (n.op == Op::kExists && n.arg.is_boolean() && n.arg.get<bool>() == n.negated) return;  // $exists: false
  out.push_back(n.path);
}

}  // namespace

// ---------------------------------------------------------------------------
// Selector.

struct SelectorAccess {
  static const Node& Root(const Selector& s) { return *s.root_; }
};

Selector::Selector() : root_(std::make_shared<const Node>()) {}

Selector::Selector(std::shared_ptr<const Node> root) : root_(std::move(root)) {}

Result<Selector> Selector::Parse(const Json& selector) {
  if (!selector.is_object()) return Invalid(kSelectorNotObject, json::Dump(selector));
  if (JsonDepth(selector, kMaxSelectorDepth) > kMaxSelectorDepth) {
    return Invalid(kSelectorTooDeep, " (more than " + std::to_string(kMaxSelectorDepth) + " levels)");
  }
  if (selector.empty()) return Selector();
  WISP_ASSIGN_OR_RETURN(Node root, Build(selector, {}));
  // A bare condition at the top ({"$gt": 1}) names no field.
  if (root.kind == Node::Kind::kField && root.path.empty()) return Invalid(kMissingFieldName);
  return Selector(std::make_shared<const Node>(std::move(root)));
}

bool Selector::Matches(const Json& doc) const { return MatchNode(*root_, doc); }

bool Selector::MatchesEverything() const { return root_->kind == Node::Kind::kAnd && root_->children.empty(); }

Json Selector::ToJson() const {
  if (MatchesEverything()) return Json::object();
  return NodeToJson(*root_);
}

std::string_view RangeOpName(RangeOp op) {
  switch (op) {
    case RangeOp::kEq: return "$eq";
    case RangeOp::kGt: return "$gt";
    case RangeOp::kGte: return "$gte";
    case RangeOp::kLt: return "$lt";
    case RangeOp::kLte: return "$lte";
  }
  return "$eq";
}

std::vector<IndexableCondition> IndexableConditions(const Selector& selector) {
  std::vector<IndexableCondition> out;
  CollectIndexable(SelectorAccess::Root(selector), out);
  return out;
}

const Json* FieldValue(const Json& doc, const std::vector<std::string>& path) {
  const Json* value = nullptr;
  return GetField(doc, path, &value) == Lookup::kFound ? value : nullptr;
}

std::vector<std::vector<std::string>> RequiredFields(const Selector& selector) {
  FieldPaths out;
  CollectRequired(SelectorAccess::Root(selector), out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// ---------------------------------------------------------------------------
// Sort and fields.

Result<std::vector<SortField>> ParseSort(const Json& sort) {
  if (!sort.is_array()) return Invalid(kSortNotArray, json::Dump(sort));
  std::vector<SortField> fields;
  for (const Json& spec : sort) {
    SortField f;
    if (spec.is_string()) {
      f.field = spec.get<std::string>();
    } else if (spec.is_object() && spec.size() == 1 && spec.begin().value().is_string() &&
               (spec.begin().value() == "asc" || spec.begin().value() == "desc")) {
      f.field = spec.begin().key();
      f.descending = spec.begin().value() == "desc";
    } else {
      // CouchDB reports a bad direction ({"a": "up"}) this way too.
      return Invalid(kInvalidSortField, json::Dump(spec));
    }
    if (f.field.empty()) return Invalid(kInvalidSortField, json::Dump(spec));
    WISP_ASSIGN_OR_RETURN(f.path, ParseFieldPath(f.field));
    fields.push_back(std::move(f));
  }
  for (const SortField& f : fields) {
    if (f.descending != fields.front().descending) return Invalid(kMixedSort);
  }
  return fields;
}

int CompareForSort(const Json& a, const Json& b, const std::vector<SortField>& sort) {
  for (const SortField& f : sort) {
    const Json* va = nullptr;
    const Json* vb = nullptr;
    const bool has_a = GetField(a, f.path, &va) == Lookup::kFound;
    const bool has_b = GetField(b, f.path, &vb) == Lookup::kFound;
    int r = 0;
    if (has_a && has_b) {
      r = CollateJson(*va, *vb);
    } else if (has_a != has_b) {
      r = has_a ? 1 : -1;
    }
    if (r != 0) return f.descending ? -r : r;
  }
  return 0;
}

Result<std::vector<std::string>> ParseFields(const Json& fields) {
  if (!fields.is_array()) return Invalid(kFieldsNotArray, json::Dump(fields));
  std::vector<std::string> out;
  for (const Json& f : fields) {
    if (!f.is_string()) return Invalid(kInvalidFieldSpec, json::Dump(f));
    WISP_RETURN_IF_ERROR(ParseFieldPath(f.get_ref<const std::string&>()).status());
    out.push_back(f.get<std::string>());
  }
  return out;
}

Json ProjectFields(const Json& doc, const std::vector<std::string>& fields) {
  if (fields.empty()) return doc;
  Json out = Json::object();
  for (const std::string& field : fields) {
    auto path = ParseFieldPath(field);
    if (!path.ok()) continue;
    const Json* value = nullptr;
    if (GetField(doc, *path, &value) != Lookup::kFound) continue;
    SetField(out, *path, 0, *value);
  }
  return out;
}

}  // namespace wisp::store
