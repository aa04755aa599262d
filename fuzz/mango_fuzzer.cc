// Fuzzes the Mango selector parser and matcher with JSON built from the input:
// Selector::Parse must never crash, and a selector that parses must evaluate
// against a handful of fixed documents without crashing. The input also runs
// through the sort and fields parsers, the index request parser and the
// query planner, and through CollateJson, whose order must stay
// antisymmetric.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "json/json.h"
#include "store/collation.h"
#include "store/mango.h"
#include "store/mango_index.h"

namespace {

const std::vector<wisp::Json>& Docs() {
  static const auto* docs = new std::vector<wisp::Json>{
      wisp::Json::object(),
      wisp::Json::parse(R"({"_id":"a","_rev":"1-x","n":5,"s":"New York","b":true,"z":null})"),
      wisp::Json::parse(R"({"_id":"b","tags":["x","y",1,2.5],"nested":{"a":{"b":[{"c":1},{"c":"d"}]}},"a.b":3})"),
      wisp::Json::parse(R"({"_id":"c","n":-9223372036854775808,"u":18446744073709551615,"f":1e300,"e":[],"o":{},
                            "s":"\u00e9\u0000\ud83d\ude00","m":{"aa":1,"bb":[[[]]]}})"),
  };
  return *docs;
}

int Sign(int v) { return (v > 0) - (v < 0); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wisp;
  using namespace wisp::store;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = json::Parse(input);
  if (!parsed.ok()) return 0;
  const Json& value = *parsed;

  if (value.is_object()) {
    auto selector = Selector::Parse(value);
    if (selector.ok()) {
      for (const Json& doc : Docs()) (void)selector->Matches(doc);
      (void)selector->ToJson();
      (void)IndexableConditions(*selector);
      (void)RequiredFields(*selector);
      // Plan the selector against indexes on the fields the documents have.
      static const auto* indexes = new std::vector<IndexDef>{
          *ParseIndexDef(Json::parse(R"({"fields":["n"]})")),
          *ParseIndexDef(Json::parse(R"({"fields":["s",{"n":"asc"}]})")),
          *ParseIndexDef(Json::parse(R"({"fields":["n"],"partial_filter_selector":{"b":true}})")),
      };
      auto plan = PlanQuery(*indexes, *selector, {}, {});
      if (plan.ok()) {
        (void)plan->StartKey();
        (void)plan->EndKey();
      }
    } else {
      (void)MangoErrorType(selector.status());
    }
  }

  // The body of POST /{db}/_index, and the design document it would make.
  if (value.is_object()) {
    auto index = ParseIndexRequest(value);
    if (index.ok()) {
      Json ddoc = Json::object();
      (void)AddIndexToDesignDoc(ddoc, *index);
      ddoc["language"] = "query";
      if (IndexesOfDesignDoc(index->ddoc, ddoc).size() != 1) std::abort();
      for (const Json& doc : Docs()) (void)IndexKey(*index, doc);
    } else {
      (void)MangoErrorType(index.status());
    }
    (void)IndexesOfDesignDoc("_design/x", value);
  }

  auto sort = ParseSort(value);
  if (sort.ok()) {
    for (const Json& a : Docs()) {
      for (const Json& b : Docs()) {
        if (Sign(CompareForSort(a, b, *sort)) != -Sign(CompareForSort(b, a, *sort))) std::abort();
      }
    }
  }
  auto fields = ParseFields(value);
  if (fields.ok()) {
    for (const Json& doc : Docs()) (void)ProjectFields(doc, *fields);
  }

  for (const Json& doc : Docs()) {
    if (Sign(CollateJson(value, doc)) != -Sign(CollateJson(doc, value))) std::abort();
  }
  if (CollateJson(value, value) != 0) std::abort();
  return 0;
}
