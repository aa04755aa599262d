#include "store/mango_index.h"

#include <openssl/evp.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "store/collation.h"
#include "util/text.h"

namespace wisp::store {
namespace {

namespace reason = mango_reason;

constexpr std::string_view kDesignPrefix = "_design/";
constexpr std::string_view kNoIndexWarning = "No matching index found, create an index to optimize query time.";

Status Invalid(std::string_view prefix, std::string_view detail = {}) {
  std::string msg(prefix);
  msg += detail;
  return Status::InvalidArgument(std::move(msg));
}

Status InvalidKey(const std::string& key) { return Invalid(reason::kInvalidKey, key + " for this request."); }

std::string WithDesignPrefix(std::string_view ddoc) {
  if (ddoc.starts_with(kDesignPrefix)) return std::string(ddoc);
  return std::string(kDesignPrefix) + std::string(ddoc);
}

std::string Sha1Hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha1(), nullptr);
  return HexLower(std::string_view(reinterpret_cast<const char*>(md), len));
}

Json FieldsJson(const std::vector<SortField>& fields) {
  Json out = Json::array();
  for (const SortField& f : fields) out.push_back({{f.field, f.descending ? "desc" : "asc"}});
  return out;
}

// The view that holds `index` in its design document.
Json ViewOf(const IndexDef& index) {
  Json map_fields = Json::object();
  for (const SortField& f : index.fields) map_fields[f.field] = f.descending ? "desc" : "asc";
  return {{"map", {{"fields", map_fields}, {"partial_filter_selector", index.partial_filter_selector}}},
          {"reduce", "_count"},
          {"options", {{"def", index.Def()}}}};
}

bool SamePath(const std::vector<std::string>& a, const std::vector<std::string>& b) { return a == b; }

// can_use_sort in CouchDB: the sort fields are a prefix of the columns once
// leading columns fixed by an $eq are dropped.
bool CanUseSort(const IndexDef& index, const std::vector<SortField>& sort,
                const std::vector<IndexableCondition>& conditions) {
  if (sort.empty()) return true;
  for (size_t c = 0; c < index.fields.size(); ++c) {
    if (SamePath(index.fields[c].path, sort.front().path)) {
      if (index.fields.size() - c < sort.size()) return false;
      for (size_t s = 0; s < sort.size(); ++s) {
        if (!SamePath(index.fields[c + s].path, sort[s].path)) return false;
      }
      return true;
    }
    const bool constant = std::any_of(conditions.begin(), conditions.end(), [&](const IndexableCondition& cond) {
      return cond.op == RangeOp::kEq && SamePath(cond.path, index.fields[c].path);
    });
    if (!constant) return false;
  }
  return false;
}

bool IsUsable(const IndexDef& index, const std::vector<std::vector<std::string>>& required,
              const std::vector<SortField>& sort, const std::vector<IndexableCondition>& conditions) {
  for (const SortField& column : index.fields) {
    const auto& path = column.path;
    if (path == std::vector<std::string>{"_id"} || path == std::vector<std::string>{"_rev"}) continue;
    const bool sorted = std::any_of(sort.begin(), sort.end(), [&](const SortField& s) { return s.path == path; });
    if (sorted) continue;
    if (std::find(required.begin(), required.end(), path) == required.end()) return false;
  }
  return CanUseSort(index, sort, conditions);
}

// Narrows [low, high] by one condition, as mango_idx_view:range does.
void Narrow(const IndexableCondition& cond, std::optional<RangeBound>& low, std::optional<RangeBound>& high) {
  auto raise = [&](RangeOp op, const Json& v) {
    if (!low) {
      low = RangeBound{op, v};
      return;
    }
    const int c = CollateJson(v, low->value);
    if (c > 0 || (c == 0 && op == RangeOp::kGt)) low = RangeBound{op, v};
  };
  auto lower = [&](RangeOp op, const Json& v) {
    if (!high) {
      high = RangeBound{op, v};
      return;
    }
    const int c = CollateJson(v, high->value);
    if (c < 0 || (c == 0 && op == RangeOp::kLt)) high = RangeBound{op, v};
  };
  switch (cond.op) {
    case RangeOp::kEq:
      raise(RangeOp::kGte, cond.operand);
      lower(RangeOp::kLte, cond.operand);
      break;
    case RangeOp::kGt:
    case RangeOp::kGte: raise(cond.op, cond.operand); break;
    case RangeOp::kLt:
    case RangeOp::kLte: lower(cond.op, cond.operand); break;
  }
}

// The number of leading columns the selector gives a range for (the
// "prefix" by which CouchDB ranks indexes).
size_t RangePrefix(const IndexDef& index, const std::vector<IndexableCondition>& conditions) {
  size_t n = 0;
  for (const SortField& column : index.fields) {
    const bool has = std::any_of(conditions.begin(), conditions.end(),
                                 [&](const IndexableCondition& c) { return SamePath(c.path, column.path); });
    if (!has) break;
    ++n;
  }
  return n;
}

void FillRange(const IndexDef& index, const std::vector<IndexableCondition>& conditions, QueryPlan& plan) {
  for (const SortField& column : index.fields) {
    std::optional<RangeBound> low;
    std::optional<RangeBound> high;
    for (const IndexableCondition& c : conditions) {
      if (SamePath(c.path, column.path)) Narrow(c, low, high);
    }
    if (!low && !high) return;
    if (low && high) {
      const int c = CollateJson(low->value, high->value);
      if (c > 0 || (c == 0 && (low->op == RangeOp::kGt || high->op == RangeOp::kLt))) {
        plan.empty = true;
        return;
      }
      if (c == 0) {  // both inclusive: this column is fixed
        plan.equal.push_back(low->value);
        continue;
      }
    }
    plan.low = std::move(low);
    plan.high = std::move(high);
    return;
  }
}

bool MatchesUseIndex(const IndexDef& index, const std::vector<std::string>& use_index) {
  if (use_index.empty() || index.ddoc != use_index[0]) return false;
  return use_index.size() < 2 || index.name == use_index[1];
}

std::string UseIndexWarning(const std::vector<std::string>& use_index) {
  const std::string ddoc = use_index[0].substr(kDesignPrefix.size());
  if (use_index.size() == 1) {
    return "_design/" + ddoc + " was not used because it does not contain a valid index for this query.";
  }
  return "_design/" + ddoc + ", " + use_index[1] + " was not used because it is not a valid index for this query.";
}

}  // namespace

Json IndexDef::Def() const {
  Json def = {{"fields", FieldsJson(fields)}};
  if (has_partial_filter()) def["partial_filter_selector"] = partial_filter_selector;
  return def;
}

Json IndexDef::ToJson() const {
  return {{"ddoc", ddoc}, {"name", name}, {"type", "json"}, {"partitioned", false}, {"def", Def()}};
}

Json AllDocsIndexJson() {
  return {{"ddoc", nullptr},
          {"name", "_all_docs"},
          {"type", "special"},
          {"def", {{"fields", Json::array({{{"_id", "asc"}}})}}}};
}

Result<IndexDef> ParseIndexDef(const Json& def) {
  if (!def.is_object()) return Invalid(reason::kIndexNotObject, json::Dump(def));
  for (auto it = def.begin(); it != def.end(); ++it) {
    if (it.key() != "fields" && it.key() != "partial_filter_selector") return InvalidKey(it.key());
  }
  if (!def.contains("fields")) return Invalid(reason::kMissingKey, "fields");
  IndexDef index;
  WISP_ASSIGN_OR_RETURN(index.fields, ParseSort(def["fields"]));
  if (index.fields.empty()) return Invalid(reason::kNoIndexDefinition);
  if (def.contains("partial_filter_selector")) {
    WISP_ASSIGN_OR_RETURN(index.partial, Selector::Parse(def["partial_filter_selector"]));
    index.partial_filter_selector = def["partial_filter_selector"];
  }
  return index;
}

Result<IndexDef> ParseIndexRequest(const Json& body) {
  static const std::set<std::string> kKeys = {"index", "type", "name", "ddoc", "w", "partitioned"};
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (!kKeys.count(it.key())) return InvalidKey(it.key());
  }
  if (!body.contains("index")) return Invalid(reason::kMissingKey, "index");
  for (const char* key : {"type", "name", "ddoc"}) {
    if (body.contains(key) && !body[key].is_string()) return Invalid(reason::kInvalidString, json::Dump(body[key]));
  }
  const std::string type = json::GetString(body, "type", "json");
  if (type == "text" || type == "nouveau") return Status::Unavailable(type);
  if (type != "json") return Invalid(reason::kInvalidIndexType, type);
  WISP_ASSIGN_OR_RETURN(IndexDef index, ParseIndexDef(body["index"]));
  const std::string generated = Sha1Hex(json::Dump(Json{{"def", index.Def()}, {"type", type}}));
  index.name = body.contains("name") ? body["name"].get<std::string>() : generated;
  index.ddoc = WithDesignPrefix(body.contains("ddoc") ? body["ddoc"].get<std::string>() : generated);
  return index;
}

std::vector<IndexDef> IndexesOfDesignDoc(const std::string& ddoc_id, const Json& ddoc) {
  std::vector<IndexDef> out;
  if (!ddoc.is_object() || json::GetString(ddoc, "language") != kQueryLanguage) return out;
  auto views = ddoc.find("views");
  if (views == ddoc.end() || !views->is_object()) return out;
  for (auto& [name, view] : views->items()) {
    if (!view.is_object()) continue;
    // options.def keeps the fields in order; map.fields is an object, whose
    // order a hand-written design document may be the only one to give.
    Json def;
    if (view.contains("options") && view["options"].is_object() && view["options"].contains("def")) {
      def = view["options"]["def"];
    } else if (view.contains("map") && view["map"].is_object() && view["map"].contains("fields")) {
      const Json& map = view["map"];
      def = Json::object();
      def["fields"] = map["fields"].is_object() ? Json::array() : map["fields"];
      if (map["fields"].is_object()) {
        for (auto& [field, dir] : map["fields"].items()) def["fields"].push_back({{field, dir}});
      }
      if (map.contains("partial_filter_selector") && map["partial_filter_selector"].is_object() &&
          !map["partial_filter_selector"].empty()) {
        def["partial_filter_selector"] = map["partial_filter_selector"];
      }
    } else {
      continue;
    }
    Result<IndexDef> index = ParseIndexDef(def);
    if (!index.ok()) continue;
    index->ddoc = ddoc_id;
    index->name = name;
    out.push_back(std::move(*index));
  }
  return out;
}

bool AddIndexToDesignDoc(Json& ddoc, const IndexDef& index) {
  Json view = ViewOf(index);
  if (!ddoc.contains("views") || !ddoc["views"].is_object()) ddoc["views"] = Json::object();
  Json& slot = ddoc["views"][index.name];
  if (slot == view && json::GetString(ddoc, "language") == kQueryLanguage) return false;
  slot = std::move(view);
  ddoc["language"] = kQueryLanguage;
  return true;
}

bool RemoveIndexFromDesignDoc(Json& ddoc, const std::string& name) {
  if (!ddoc.contains("views") || !ddoc["views"].is_object() || !ddoc["views"].contains(name)) return false;
  ddoc["views"].erase(name);
  if (ddoc["views"].empty()) ddoc.erase("views");
  return true;
}

std::optional<std::vector<Json>> IndexKey(const IndexDef& index, const Json& doc) {
  if (index.has_partial_filter() && !index.partial.Matches(doc)) return std::nullopt;
  std::vector<Json> key;
  key.reserve(index.fields.size());
  for (const SortField& f : index.fields) {
    const Json* value = FieldValue(doc, f.path);
    if (!value) return std::nullopt;
    key.push_back(*value);
  }
  return key;
}

Result<std::vector<std::string>> ParseUseIndex(const Json& use_index) {
  std::vector<std::string> parts;
  if (use_index.is_null()) return parts;
  if (use_index.is_string()) {
    std::string_view text = use_index.get_ref<const std::string&>();
    if (text.starts_with(kDesignPrefix)) text.remove_prefix(kDesignPrefix.size());
    const size_t slash = text.find('/');
    parts.push_back(std::string(text.substr(0, slash)));
    if (slash != std::string_view::npos) parts.push_back(std::string(text.substr(slash + 1)));
  } else if (use_index.is_array() && use_index.size() <= 2 &&
             std::all_of(use_index.begin(), use_index.end(), [](const Json& v) { return v.is_string(); })) {
    for (const Json& v : use_index) parts.push_back(v.get<std::string>());
  } else {
    return Invalid(reason::kInvalidIndexName, json::Dump(use_index));
  }
  if (!parts.empty()) {
    if (parts[0].empty() || (parts.size() == 2 && parts[1].empty())) {
      return Invalid(reason::kInvalidIndexName, json::Dump(use_index));
    }
    parts[0] = WithDesignPrefix(parts[0]);
  }
  return parts;
}

Json QueryPlan::StartKey() const {
  Json key = Json::array();
  for (const Json& v : equal) key.push_back(v);
  if (low) key.push_back(low->value);
  return key;
}

Json QueryPlan::EndKey() const {
  Json key = Json::array();
  for (const Json& v : equal) key.push_back(v);
  if (high) key.push_back(high->value);
  key.push_back("<MAX>");
  return key;
}

Result<QueryPlan> PlanQuery(const std::vector<IndexDef>& indexes, const Selector& selector,
                            const std::vector<SortField>& sort, const std::vector<std::string>& use_index) {
  const std::vector<std::vector<std::string>> required = RequiredFields(selector);
  const std::vector<IndexableCondition> conditions = IndexableConditions(selector);

  std::vector<int> usable;
  for (size_t i = 0; i < indexes.size(); ++i) {
    const IndexDef& index = indexes[i];
    if (index.has_partial_filter() && !MatchesUseIndex(index, use_index)) continue;
    if (IsUsable(index, required, sort, conditions)) usable.push_back(static_cast<int>(i));
  }
  std::vector<int> chosen_from;
  for (int i : usable) {
    if (MatchesUseIndex(indexes[i], use_index)) chosen_from.push_back(i);
  }
  if (chosen_from.empty()) chosen_from = usable;

  QueryPlan plan;
  plan.descending = !sort.empty() && sort.front().descending;
  if (chosen_from.empty()) {
    const bool id_sort = std::all_of(sort.begin(), sort.end(),
                                     [](const SortField& s) { return s.path == std::vector<std::string>{"_id"}; });
    if (!id_sort) return Invalid(reason::kNoUsableIndex);
  } else {
    // The longest prefix of columns with a range, then the fewest columns,
    // then the first by name.
    auto rank = [&](int i) {
      const IndexDef& index = indexes[i];
      return std::make_tuple(-static_cast<int64_t>(RangePrefix(index, conditions)), index.fields.size(), index.name,
                             index.ddoc);
    };
    plan.index =
        *std::min_element(chosen_from.begin(), chosen_from.end(), [&](int a, int b) { return rank(a) < rank(b); });
    FillRange(indexes[plan.index], conditions, plan);
  }
  if (!use_index.empty() && (plan.index < 0 || !MatchesUseIndex(indexes[plan.index], use_index))) {
    plan.warnings.push_back(UseIndexWarning(use_index));
  }
  if (plan.index < 0) plan.warnings.push_back(std::string(kNoIndexWarning));
  return plan;
}

}  // namespace wisp::store
