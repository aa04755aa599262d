// Mango JSON indexes ("type": "json"), as pure logic: what an index is, how
// it lives in a design document, which key a document gets in it, and which
// index a query uses. The storage of the keys is the Database's
// (docs/store_format.md, "Mango indexes").
//
// As in CouchDB, an index is a view of a design document whose language is
// "query":
//
//   {"_id": "_design/by-owner", "language": "query",
//    "views": {"owner-status": {
//      "map": {"fields": {"owner": "asc", "status": "asc"},
//              "partial_filter_selector": {...}},
//      "reduce": "_count",
//      "options": {"def": {"fields": ["owner", "status"]}}}}}
//
// so indexes replicate with the documents, and a design document written by
// hand or by a replicator defines indexes too. `options.def` is what
// POST /{db}/_index was given and what GET /{db}/_index shows.
//
// Which documents an index holds: the winning revision of every live
// document that is not a design document, has every field of the index, and
// matches the partial_filter_selector. Its key is the list of those fields'
// values, compared with CollateJson.
//
// How _find picks an index (CouchDB's mango_cursor and mango_idx_view):
// - An index is usable when the selector requires every one of its fields
//   (RequiredFields() in mango.h), leaving out fields of the sort and _id and
//   _rev, and when it can produce the sort: the sort fields are a prefix of
//   its fields, once leading fields that the selector fixes with $eq are
//   skipped.
// - An index with a partial_filter_selector is used only when `use_index`
//   names it.
// - `use_index` ("ddoc", "ddoc/name", ["ddoc", "name"]) picks among the usable
//   indexes; when it names none of them the choice falls back to the others,
//   with a warning.
// - Otherwise the usable index with the longest prefix of fields that have
//   conditions it can serve ($eq, $gt, $gte, $lt, $lte) wins; then the one
//   with fewer fields; then the first by name.
// - With no usable index, the query scans _all_docs (design documents
//   left out, as CouchDB leaves them out) and says so in a warning. A sort then fails with 400 no_usable_index, unless
//   it is on _id.
//
// Thread-safety: values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "json/json.h"
#include "store/mango.h"
#include "util/result.h"

namespace wisp::store {

// The language of a design document that holds Mango indexes.
inline constexpr std::string_view kQueryLanguage = "query";

// One Mango JSON index.
struct IndexDef {
  std::string ddoc;                               // "_design/..."
  std::string name;                               // the view's name in the design document
  std::vector<SortField> fields;                  // the columns, in order
  Json partial_filter_selector = Json::object();  // as given; {} for none
  Selector partial;                               // the same, parsed

  bool has_partial_filter() const { return !partial_filter_selector.empty(); }
  // {"fields": [{"a": "asc"}, ...], "partial_filter_selector"?: {...}}
  Json Def() const;
  // An entry of GET /{db}/_index: {ddoc, name, type: "json", partitioned, def}.
  Json ToJson() const;
};

// The entry of GET /{db}/_index for the special _all_docs index.
Json AllDocsIndexJson();

// Parses an index definition {"fields": [...], "partial_filter_selector"?}.
// `fields` takes the shapes of a _find sort ("a", {"a": "desc"}). Fails with
// InvalidArgument and CouchDB's reason (MangoErrorType() names it) when the
// definition is not an object, lacks `fields`, has an unknown key, a bad
// field or direction, or a bad selector.
Result<IndexDef> ParseIndexDef(const Json& def);

// Parses the body of POST /{db}/_index: {"index": {...}, "type"?: "json",
// "name"?, "ddoc"?, "w"?, "partitioned"?}. A missing ddoc or name gets a name
// made from the definition's SHA-1, as CouchDB makes one; a ddoc without the
// "_design/" prefix gets it. Fails with InvalidArgument (CouchDB's reasons),
// or Unavailable("text") for text and nouveau indexes, which wisp does not
// have (CouchDB without those services answers the same, 503).
Result<IndexDef> ParseIndexRequest(const Json& body);

// The indexes that the design document `ddoc_id` with body `ddoc` defines.
// Empty unless its language is "query"; views that are not valid index
// definitions are skipped, as CouchDB skips them.
std::vector<IndexDef> IndexesOfDesignDoc(const std::string& ddoc_id, const Json& ddoc);

// Adds `index` to the design document body `ddoc` (replacing a view of the
// same name). Returns false when `ddoc` already holds exactly that view.
bool AddIndexToDesignDoc(Json& ddoc, const IndexDef& index);

// Removes the view `name`; false when there is none. When no view remains,
// `views` goes too.
bool RemoveIndexFromDesignDoc(Json& ddoc, const std::string& name);

// The key of `doc` (with _id and _rev) in `index`: one value per field, or
// nullopt when the index does not hold the document.
std::optional<std::vector<Json>> IndexKey(const IndexDef& index, const Json& doc);

// Parses _find's `use_index`: "ddoc", "_design/ddoc", "ddoc/name",
// "_design/ddoc/name", [ddoc] or [ddoc, name]; null or [] for none. The ddoc
// comes back with its "_design/" prefix. InvalidArgument "Invalid index
// name: ..." otherwise.
Result<std::vector<std::string>> ParseUseIndex(const Json& use_index);

// One end of the key range a query reads from an index column.
struct RangeBound {
  RangeOp op;  // kGt or kGte for the low end, kLt or kLte for the high end
  Json value;
};

// Which index a query uses, and which part of it.
struct QueryPlan {
  int index = -1;                  // a position in the list given to PlanQuery; -1 for _all_docs
  std::vector<Json> equal;         // the values of the first equal.size() columns
  std::optional<RangeBound> low;   // on column equal.size()
  std::optional<RangeBound> high;  // on column equal.size()
  bool empty = false;              // the conditions exclude every key
  bool descending = false;         // read the index backwards (a descending sort)
  std::vector<std::string> warnings;

  // The range as CouchDB's _explain shows it in `mrargs`.
  Json StartKey() const;
  Json EndKey() const;
};

// Chooses the index for a query (rules above). Fails with InvalidArgument
// "No index exists for this sort, try indexing by the sort fields." when
// the sort needs an index that does not exist.
Result<QueryPlan> PlanQuery(const std::vector<IndexDef>& indexes, const Selector& selector,
                            const std::vector<SortField>& sort, const std::vector<std::string>& use_index);

}  // namespace wisp::store
