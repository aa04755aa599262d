// Mango: CouchDB's declarative queries (POST /{db}/_find, _changes with
// filter=_selector, replication selectors), as pure functions over JSON.
//
//   WISP_ASSIGN_OR_RETURN(Selector selector, Selector::Parse(body["selector"]));
//   WISP_ASSIGN_OR_RETURN(std::vector<SortField> sort, ParseSort(body.value("sort", Json::array())));
//   WISP_ASSIGN_OR_RETURN(std::vector<std::string> fields, ParseFields(body.value("fields", Json::array())));
//   for (const Json& doc : docs)
//     if (selector.Matches(doc)) hits.push_back(&doc);
//   std::sort(..., [&](auto* a, auto* b) { return CompareForSort(*a, *b, sort) < 0; });
//   out.push_back(ProjectFields(*hit, fields));
//
// The behaviour follows CouchDB 3.x's mango_selector.erl, mango_doc.erl,
// mango_sort.erl and mango_fields.erl; docs/api/database/find.rst and
// ddocs/mango.rst describe it for users. What a selector means:
//
// - Normalisation (Selector::Parse). Several keys in one object are an
//   implicit $and; a bare value is an implicit $eq; {"a": {"b": 1}} and
//   "a.b" both name the sub-field b of a; a dot escaped as "a\\.b" is part of
//   the name, and every backslash is dropped from a name ("\\$x" names the
//   field "$x"). A path segment that is an integer indexes into an array
//   ("tags.0"). $not and $nor are pushed down to the conditions with De
//   Morgan's laws, so {"$not": {"a": {"$gt": 5}}} means {"a": {"$lte": 5}}:
//   like every condition it then needs the field to exist, and a document
//   without `a` does not match. Conditions that cannot be inverted
//   ($regex, $type, $size, $mod, $all, $elemMatch, ...) keep a $not.
// - A condition on a field never matches when the field is missing, except
//   {"$exists": false}. When the path runs into a scalar, an array with a
//   non-integer segment, or an index out of range, nothing matches, not even
//   {"$exists": false} (as in CouchDB).
// - Comparisons ($eq $ne $gt $gte $lt $lte $in $nin) use CollateJson over all
//   types, exactly as CouchDB's matcher does: {"$gt": 5} also matches strings,
//   arrays and objects, and {"$lt": 1} matches null and booleans, because they
//   collate above or below every number. CouchDB's own test suite relies on it
//   ("lt includes null but not missing", 17-multi-type-value-test.py). Add
//   {"$type": "number"} to restrict a range to one type. ("Strict type
//   matching" in mango.rst is not what the code does.)
// - $in on an array field matches when any element equals any argument; $nin
//   on an array field is its negation. An empty $in matches nothing, an empty
//   $nin everything. $all matches an array holding every argument (by strict
//   JSON equality: 1 and 1.0 differ), or equal to the single array argument;
//   an empty $all matches nothing. $elemMatch needs one element to match and
//   $allMatch needs a non-empty array whose elements all match. $keyMapMatch
//   matches an object with a key that matches. $size: array length. $mod
//   [D, R]: an integer field (not 4.0) with field % D == R, the sign following
//   the field as Erlang's rem. $type: "null", "boolean", "number", "string",
//   "array" or "object". $beginsWith: a string field with that byte prefix.
//   An empty $and or $or matches everything.
// - $regex: an unanchored search of a string field (PCRE in CouchDB). wisp
//   uses std::regex's ECMAScript grammar, plus a leading "(?i)" (PCRE's
//   caseless flag) or "(?m)". Not supported, and rejected as bad arguments:
//   back-references, look-behind, named groups, other inline flags, patterns
//   longer than kMaxRegexBytes and patterns whose repetition counts expand past
//   kMaxRegexStates. Matching runs in time linear in the string (a Thompson
//   NFA, never backtracking), so no document can stall or overflow the stack.
//   It works on bytes: "." matches one byte of a UTF-8 sequence.
//
// Errors are InvalidArgument with CouchDB's reason text; MangoErrorType()
// gives the `error` name CouchDB sends beside it (all of them are 400s):
//   "Invalid operator: $foo"                          invalid_operator
//   "Unsupported operator: $where"                    not_supported
//   "Bad argument for operator $in: 5"                bad_arg
//   "One or more conditions is missing a field name." invalid_selector
//   "Invalid field name: a..b"                        invalid_field_name
//   "Sorts currently only support a single direction for all fields."
//                                                     unsupported_mixed_sort
// CouchDB prints bad arguments as Erlang terms; wisp prints them as JSON.
//
// Known differences from CouchDB, all deliberate:
// - $text (search indexes) is "Unsupported operator: $text".
// - {"$mod": [0, R]} is a bad argument (CouchDB fails at match time with a 500).
// - A selector nested deeper than kMaxSelectorDepth is rejected.
// - Duplicate keys in one JSON object: the last one wins (CouchDB keeps all
//   and ANDs them), because wisp's JSON parser keeps one.
// - CouchDB's replicator compares `_id` by raw byte order; _find, and wisp
//   everywhere, compare it with CollateJson like any other field.
//
// Thread-safety: a Selector is immutable once parsed; Matches() may run on
// many threads at once. The free functions are pure.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "json/json.h"
#include "util/result.h"
#include "util/status.h"

namespace wisp::store {

// Selectors nested deeper than this (objects and arrays, counting the
// arguments of operators) are rejected.
inline constexpr int kMaxSelectorDepth = 100;
// The longest $regex pattern accepted, in bytes.
inline constexpr size_t kMaxRegexBytes = 1024;
// A bound on the automaton a $regex may compile to, as estimated from its
// repetition counts: "a{1,100}" costs about 100, "(a{100}){100}" 10,000.
inline constexpr size_t kMaxRegexStates = 10000;

namespace mango_internal {
struct Node;
}  // namespace mango_internal

// The segments of a field name: "a.b" is {"a", "b"}, "a\\.b" is {"a.b"}, and
// every backslash is dropped. Fails with InvalidArgument "Invalid field name:
// <field>" when a segment is empty ("", "a..b", ".a", "a.").
Result<std::vector<std::string>> ParseFieldPath(std::string_view field);

// The value at `path` in `doc` (segments as ParseFieldPath gives them; an
// integer segment indexes an array), or nullptr when there is none.
const Json* FieldValue(const Json& doc, const std::vector<std::string>& path);

// A parsed, validated and normalised selector.
class Selector {
 public:
  // The empty selector {}, which matches every document.
  Selector();

  // Validates and normalises `selector`, which must be a JSON object. Fails
  // with InvalidArgument (reasons above) when it is not an object, names an
  // unknown or unsupported operator, gives an operator a bad argument, has an
  // empty field name, or is nested deeper than kMaxSelectorDepth.
  static Result<Selector> Parse(const Json& selector);

  // Whether `doc` (normally a document body with _id and _rev) matches.
  bool Matches(const Json& doc) const;

  // True for {} (and anything that normalises to an empty $and).
  bool MatchesEverything() const;

  // The normalised selector as CouchDB's _explain shows it: every condition
  // explicit, {"a.b": {"$eq": 1}}, with field paths joined by dots.
  Json ToJson() const;

 private:
  explicit Selector(std::shared_ptr<const mango_internal::Node> root);
  friend struct SelectorAccess;

  std::shared_ptr<const mango_internal::Node> root_;
};

// A condition an index on one field can serve: a range of keys.
enum class RangeOp { kEq, kGt, kGte, kLt, kLte };

// "$eq", "$gt", "$gte", "$lt" or "$lte".
std::string_view RangeOpName(RangeOp op);

struct IndexableCondition {
  std::vector<std::string> path;  // the field, segment by segment
  std::string field;              // the same, joined with "." (dots inside a segment escaped "\\.")
  RangeOp op;
  Json operand;
};

// The conditions at the top level of `selector` (the selector itself, or the
// members of its top-level $and, flattening nested $ands) that are a plain
// $eq, $gt, $gte, $lt or $lte on a field, in the order of the normalised
// selector (the keys of one object come sorted); a query planner
// may serve any of them from an index on that field and filter the rest with
// Matches(). Conditions under $or, $not, $elemMatch ... are not listed. Note
// that comparisons span all types (see above): {"$gt": 5} selects every key
// above 5 in CollateJson order, strings included.
std::vector<IndexableCondition> IndexableConditions(const Selector& selector);

// The fields that every document matching `selector` must have: those with
// a condition at the top level (directly or under $and) other than
// {"$exists": false}, and those that every branch of a top-level $or
// requires. A Mango JSON index holds only documents that have all its fields,
// so it may serve a query only when the selector requires them all
// (mango_selector:has_required_fields in CouchDB).
std::vector<std::vector<std::string>> RequiredFields(const Selector& selector);

// One member of a _find `sort`.
struct SortField {
  std::string field;              // as written: "a.b"
  std::vector<std::string> path;  // parsed: {"a", "b"}
  bool descending = false;
};

// Parses a _find `sort`: an array whose members are field names (ascending)
// or {"field": "asc"|"desc"} objects. An empty array means no sort. Fails with
// InvalidArgument when `sort` is not an array ("Sort must be an array of sort
// specs, not: ..."), a member is neither ("Invalid sort field: ..."), a field
// name is invalid, or the directions differ ("Sorts currently only support a
// single direction for all fields.").
Result<std::vector<SortField>> ParseSort(const Json& sort);

// Orders two documents by `sort`: negative when a comes first. Values compare
// with CollateJson; a document missing a field sorts before every document
// that has it (after, when descending). Zero when every field ties: CouchDB
// then orders by document id, which is for the caller to do.
int CompareForSort(const Json& a, const Json& b, const std::vector<SortField>& sort);

// Parses a _find `fields`: an array of field names. An empty array means the
// whole document. Fails with InvalidArgument when `fields` is not an array of
// strings ("Fields must be an array of strings, not: ...") or a name is
// invalid.
Result<std::vector<std::string>> ParseFields(const Json& fields);

// The parts of `doc` named by `fields`, at the same paths ({"a": {"b": 1}}
// for "a.b"); missing fields are left out. No fields means all of `doc`.
// As in CouchDB, a path through an array index builds objects ("a.0" gives
// {"a": {"0": ...}}), and _id and _rev appear only when listed. Names that do
// not parse (see ParseFields) are skipped.
Json ProjectFields(const Json& doc, const std::vector<std::string>& fields);

// Reasons of the errors of _find options and Mango indexes
// (store/mango_index.h), as CouchDB words them; MangoErrorType() names each.
namespace mango_reason {
inline constexpr std::string_view kMissingKey = "Missing required key: ";                     // missing_required_key
inline constexpr std::string_view kInvalidKey = "Invalid key ";                               // invalid_key
inline constexpr std::string_view kInvalidString = "Invalid string: ";                        // invalid_string
inline constexpr std::string_view kInvalidBoolean = "Invalid boolean value: ";                // invalid_boolean
inline constexpr std::string_view kInvalidIndexType = "Invalid type for index: ";             // invalid_index
inline constexpr std::string_view kIndexNotObject = "JSON indexes must be an object, not: ";  // invalid_index
inline constexpr std::string_view kNoIndexDefinition = "Index is missing its definition.";    // invalid_index
inline constexpr std::string_view kInvalidIndexName = "Invalid index name: ";                 // invalid_index_name
inline constexpr std::string_view kInvalidDdocLanguage =
    "Existing design doc has an invalid language: ";  // invalid_ddoc_lang
inline constexpr std::string_view kNoUsableIndex = "No index exists for this sort, try indexing by the sort fields.";
}  // namespace mango_reason

// The `error` name CouchDB sends with the reason of a status returned by this
// file's functions ("invalid_operator", "bad_arg", ...), or "bad_request" for
// any other status.
std::string_view MangoErrorType(const Status& status);

}  // namespace wisp::store
