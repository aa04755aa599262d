// Mango JSON indexes: one behaviour suite, run against the engine through
// its C++ API and again through the CouchDB HTTP API, so both faces keep the
// same promises. The user-visible proof that a query used an index is its
// execution_stats: an indexed query examines only the keys of its range.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "http/client.h"
#include "json/json.h"
#include "store/couch_api.h"
#include "store/couch_error.h"
#include "store/database.h"
#include "store/mango_index.h"
#include "store/sqlite.h"
#include "store/store.h"
#include "testing/http_test_server.h"
#include "util/base64.h"

namespace wisp::store {
namespace {

constexpr char kDb[] = "idx";
constexpr char kNoIndexWarning[] = "No matching index found, create an index to optimize query time.";

// What a client sees of a call: the status, and the error or the body.
struct Reply {
  int status = 0;
  Json body;
  std::string error() const { return json::GetString(body, "error"); }
};

// The two faces of the store, behind the calls the suite needs.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Reply CreateIndex(const Json& request) = 0;
  virtual Reply DeleteIndex(const std::string& ddoc, const std::string& name) = 0;
  virtual Reply ListIndexes() = 0;
  // A _find body -> {"docs", "warning"?, "execution_stats"} (stats always asked).
  virtual Reply Find(Json query) = 0;
  virtual Reply Explain(const Json& query) = 0;
  virtual Reply BulkDocs(const Json& docs, bool new_edits) = 0;
  virtual Reply Compact() = 0;
};

class EngineBackend : public Backend {
 public:
  explicit EngineBackend(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  static Reply Error(const Status& s) {
    const int status = s.IsInvalidArgument() ? 400 : s.IsNotFound() ? 404 : 500;
    return {status,
            {{"error", std::string(s.IsNotFound() ? "not_found" : MangoErrorType(s))}, {"reason", s.message()}}};
  }

  Reply CreateIndex(const Json& request) override {
    auto index = ParseIndexRequest(request);
    if (!index.ok()) return Error(index.status());
    auto created = db_->CreateIndex(*index);
    if (!created.ok()) return Error(created.status());
    return {200, {{"result", created->created ? "created" : "exists"}, {"id", created->id}, {"name", created->name}}};
  }
  Reply DeleteIndex(const std::string& ddoc, const std::string& name) override {
    Status s = db_->DeleteIndex("_design/" + ddoc, name);
    if (!s.ok()) return Error(s);
    return {200, {{"ok", true}}};
  }
  Reply ListIndexes() override {
    Json indexes = Json::array({AllDocsIndexJson()});
    for (const IndexDef& index : db_->ListIndexes()) indexes.push_back(index.ToJson());
    return {200, {{"total_rows", indexes.size()}, {"indexes", indexes}}};
  }
  Result<FindOptions> Options(const Json& query) {
    FindOptions o;
    WISP_ASSIGN_OR_RETURN(o.selector, Selector::Parse(query.value("selector", Json())));
    WISP_ASSIGN_OR_RETURN(o.sort, ParseSort(query.value("sort", Json::array())));
    WISP_ASSIGN_OR_RETURN(o.use_index, ParseUseIndex(query.value("use_index", Json())));
    o.limit = query.value("limit", 25);
    o.skip = query.value("skip", 0);
    return o;
  }
  Reply Find(Json query) override {
    auto options = Options(query);
    if (!options.ok()) return Error(options.status());
    auto found = db_->Find(*options);
    if (!found.ok()) return Error(found.status());
    Json body = {{"docs", found->docs},
                 {"execution_stats",
                  {{"total_keys_examined", found->stats.total_keys_examined},
                   {"total_docs_examined", found->stats.total_docs_examined},
                   {"results_returned", found->stats.results_returned}}}};
    std::string warning;
    for (const std::string& w : found->plan.warnings) warning += (warning.empty() ? "" : "\n") + w;
    if (!warning.empty()) body["warning"] = warning;
    return {200, body};
  }
  Reply Explain(const Json& query) override {
    auto options = Options(query);
    if (!options.ok()) return Error(options.status());
    auto plan = db_->Explain(*options);
    if (!plan.ok()) return Error(plan.status());
    return {200, {{"index", plan->index}}};
  }
  Reply BulkDocs(const Json& docs, bool new_edits) override {
    std::vector<Json> list(docs.begin(), docs.end());
    Json out = Json::array();
    for (const WriteResult& w : db_->BulkDocs(std::move(list), new_edits)) {
      out.push_back(w.status.ok() ? Json{{"ok", true}, {"id", w.id}, {"rev", w.rev}}
                                  : Json{{"id", w.id}, {"error", w.status.message()}});
    }
    return {201, out};
  }
  Reply Compact() override {
    Status s = db_->Compact();
    return {s.ok() ? 202 : 500, Json::object()};
  }

 private:
  std::shared_ptr<Database> db_;
};

class HttpBackend : public Backend {
 public:
  explicit HttpBackend(std::string base) : base_(std::move(base)) {}

  Reply Call(const std::string& method, const std::string& path, const Json* body = nullptr) {
    http::ClientRequest r;
    r.method = method;
    r.url = base_ + "/" + kDb + path;
    if (body) {
      r.body = json::Dump(*body);
      r.headers.Set("Content-Type", "application/json");
    }
    r.headers.Set("Authorization", "Basic " + Base64Encode("admin:pw"));
    auto response = client_.Send(r);
    if (!response.ok()) return {0, Json()};
    auto parsed = json::Parse(response->body);
    return {response->status, parsed.ok() ? *parsed : Json()};
  }

  Reply CreateIndex(const Json& request) override { return Call("POST", "/_index", &request); }
  Reply DeleteIndex(const std::string& ddoc, const std::string& name) override {
    return Call("DELETE", "/_index/" + ddoc + "/json/" + name);
  }
  Reply ListIndexes() override { return Call("GET", "/_index"); }
  Reply Find(Json query) override {
    query["execution_stats"] = true;
    return Call("POST", "/_find", &query);
  }
  Reply Explain(const Json& query) override { return Call("POST", "/_explain", &query); }
  Reply BulkDocs(const Json& docs, bool new_edits) override {
    Json body = {{"docs", docs}, {"new_edits", new_edits}};
    return Call("POST", "/_bulk_docs", &body);
  }
  Reply Compact() override { return Call("POST", "/_compact"); }  // runs in the background

 private:
  std::string base_;
  http::Client client_;
};

enum class Face { kEngine, kHttp };

class MangoIndexBehavior : public ::testing::TestWithParam<Face> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wisp-mango-index-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto store = Store::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->CreateDatabase(kDb).ok());
    auto db = store_->GetDatabase(kDb);
    ASSERT_TRUE(db.ok());
    db_ = *db;
    if (GetParam() == Face::kEngine) {
      backend_ = std::make_unique<EngineBackend>(db_);
      return;
    }
    auto router = std::make_shared<http::Router>();
    CouchApiOptions options;
    options.admin_name = "admin";
    options.admin_password = "pw";
    options.feed_threads = 2;
    AddCouchRoutes(*router, *store_, options);
    http::ListenerOptions listener;
    listener.name = "couch";
    listener.router = router;
    listener.render_error = RenderCouchError;
    server_ = std::make_unique<testing::TestServer>(std::move(listener));
    backend_ = std::make_unique<HttpBackend>(server_->base_url());
  }

  void TearDown() override {
    backend_.reset();
    server_.reset();
    db_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Writes docs n0..n{count-1} with n = i and a `kind` of "even" or "odd".
  void WriteNumbered(int count) {
    Json docs = Json::array();
    for (int i = 0; i < count; ++i) {
      docs.push_back({{"_id", "n" + std::to_string(1000 + i)}, {"n", i}, {"kind", i % 2 ? "odd" : "even"}});
    }
    Reply r = backend_->BulkDocs(docs, true);
    ASSERT_EQ(r.status, 201);
  }

  std::string Rev(const std::string& id) {
    auto doc = db_->Get(id, {});
    return doc.ok() ? json::GetString(*doc, "_rev") : "";
  }

  void Create(const Json& request) {
    Reply r = backend_->CreateIndex(request);
    ASSERT_EQ(r.status, 200) << json::Dump(r.body);
  }

  static std::vector<int64_t> Numbers(const Reply& r) {
    std::vector<int64_t> out;
    for (const Json& d : r.body.value("docs", Json::array())) out.push_back(d.value("n", int64_t{-1}));
    return out;
  }
  static int64_t Stat(const Reply& r, const char* name) { return r.body["execution_stats"].value(name, int64_t{-1}); }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<Database> db_;
  std::unique_ptr<testing::TestServer> server_;
  std::unique_ptr<Backend> backend_;
};

TEST_P(MangoIndexBehavior, IndexedRangeQueryExaminesOnlyTheMatchingKeys) {
  WriteNumbered(100);
  Create({{"index", {{"fields", {"n"}}}}, {"name", "by-n"}, {"ddoc", "numbers"}});
  Reply r = backend_->Find({{"selector", {{"n", {{"$gte", 10}, {"$lt", 20}}}}}});
  ASSERT_EQ(r.status, 200) << json::Dump(r.body);
  EXPECT_EQ(Numbers(r), (std::vector<int64_t>{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}));
  EXPECT_EQ(Stat(r, "total_keys_examined"), 10);
  EXPECT_EQ(Stat(r, "total_docs_examined"), 10);
  EXPECT_EQ(Stat(r, "results_returned"), 10);
  EXPECT_FALSE(r.body.contains("warning"));

  // An exclusive bound leaves the equal keys unread.
  Reply gt = backend_->Find({{"selector", {{"n", {{"$gt", 97}}}}}});
  EXPECT_EQ(Numbers(gt), (std::vector<int64_t>{98, 99}));
  EXPECT_EQ(Stat(gt, "total_keys_examined"), 2);

  Reply explained = backend_->Explain({{"selector", {{"n", {{"$gt", 97}}}}}});
  ASSERT_EQ(explained.status, 200);
  EXPECT_EQ(explained.body["index"]["ddoc"], "_design/numbers");
  EXPECT_EQ(explained.body["index"]["name"], "by-n");
}

TEST_P(MangoIndexBehavior, QueryWithoutAUsableIndexScansAndWarns) {
  WriteNumbered(30);
  Create({{"index", {{"fields", {"n"}}}}});
  // The index cannot serve a selector that does not require its field.
  Reply r = backend_->Find({{"selector", {{"kind", "odd"}}}, {"limit", 100}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Numbers(r).size(), 15u);
  EXPECT_EQ(r.body["warning"], kNoIndexWarning);
  EXPECT_EQ(Stat(r, "total_docs_examined"), 30);
  EXPECT_EQ(backend_->Explain({{"selector", {{"kind", "odd"}}}}).body["index"]["name"], "_all_docs");
}

TEST_P(MangoIndexBehavior, EqualityPrefixThenRangeUsesACompoundIndex) {
  WriteNumbered(60);
  Create({{"index", {{"fields", {"kind", "n"}}}}});
  Reply r = backend_->Find({{"selector", {{"kind", "even"}, {"n", {{"$lte", 10}}}}}});
  EXPECT_EQ(Numbers(r), (std::vector<int64_t>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(Stat(r, "total_keys_examined"), 6);
}

TEST_P(MangoIndexBehavior, KeysOfEveryTypeSortInCouchDbsCollation) {
  // Written out of order, with values that byte order would sort differently.
  const Json values = Json::array(
      {Json::object({{"x", 1}}), "b", 10, Json::array({1}), "B", 2.5, nullptr, "a", false, true, 9, "10", -1});
  Json docs = Json::array();
  for (size_t i = 0; i < values.size(); ++i) docs.push_back({{"_id", "v" + std::to_string(i)}, {"v", values[i]}});
  ASSERT_EQ(backend_->BulkDocs(docs, true).status, 201);
  Create({{"index", {{"fields", {"v"}}}}});
  Reply r = backend_->Find({{"selector", {{"v", {{"$gte", nullptr}}}}}, {"sort", {"v"}}, {"limit", 100}});
  ASSERT_EQ(r.status, 200) << json::Dump(r.body);
  Json order = Json::array();
  for (const Json& d : r.body["docs"]) order.push_back(d["v"]);
  EXPECT_EQ(order, Json::array({nullptr, false, true, -1, 2.5, 9, 10, "10", "a", "b", "B", Json::array({1}),
                                Json::object({{"x", 1}})}));
  // Equality follows the collation too: 10.0 finds 10.
  Reply ten = backend_->Find({{"selector", {{"v", 10.0}}}});
  ASSERT_EQ(ten.body["docs"].size(), 1u);
  EXPECT_EQ(Stat(ten, "total_keys_examined"), 1);
  Reply strings = backend_->Find({{"selector", {{"v", {{"$gt", "a"}, {"$lt", Json::array()}}}}}});
  EXPECT_EQ(strings.body["docs"].size(), 2u) << "b and B";
  EXPECT_EQ(Stat(strings, "total_keys_examined"), 2);
}

TEST_P(MangoIndexBehavior, SortNeedsAnIndexAndAMatchingIndexServesItBackwards) {
  WriteNumbered(50);
  Reply refused = backend_->Find({{"selector", {{"n", {{"$gt", 5}}}}}, {"sort", {"n"}}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.error(), "no_usable_index");
  EXPECT_EQ(refused.body["reason"], "No index exists for this sort, try indexing by the sort fields.");

  Create({{"index", {{"fields", {"n"}}}}});
  Reply r = backend_->Find({{"selector", {{"n", {{"$gt", 5}}}}}, {"sort", {{{"n", "desc"}}}}, {"limit", 3}});
  ASSERT_EQ(r.status, 200) << json::Dump(r.body);
  EXPECT_EQ(Numbers(r), (std::vector<int64_t>{49, 48, 47}));
  EXPECT_EQ(Stat(r, "total_keys_examined"), 3) << "the limit stops the index scan";
}

TEST_P(MangoIndexBehavior, IndexFollowsUpdatesAndDeletes) {
  Create({{"index", {{"fields", {"n"}}}}, {"ddoc", "d"}, {"name", "n"}});
  WriteNumbered(10);
  // Move n1005 out of the range and delete n1006.
  Reply update = backend_->BulkDocs(Json::array({{{"_id", "n1005"}, {"_rev", Rev("n1005")}, {"n", 500}},
                                                 {{"_id", "n1006"}, {"_rev", Rev("n1006")}, {"_deleted", true}}}),
                                    true);
  ASSERT_EQ(update.status, 201);
  Reply r = backend_->Find({{"selector", {{"n", {{"$lt", 100}}}}}});
  EXPECT_EQ(Numbers(r), (std::vector<int64_t>{0, 1, 2, 3, 4, 7, 8, 9}));
  EXPECT_EQ(Stat(r, "total_keys_examined"), 8);
  Reply moved = backend_->Find({{"selector", {{"n", 500}}}});
  EXPECT_EQ(Numbers(moved), (std::vector<int64_t>{500}));
  EXPECT_EQ(Stat(moved, "total_keys_examined"), 1);
  // A document without the field is not in the index.
  ASSERT_EQ(backend_->BulkDocs(Json::array({{{"_id", "plain"}, {"title", "no n"}}}), true).status, 201);
  EXPECT_EQ(Stat(backend_->Find({{"selector", {{"n", {{"$gte", nullptr}}}}}, {"limit", 100}}), "total_keys_examined"),
            9);
  Status integrity = db_->CheckIntegrity();
  EXPECT_TRUE(integrity.ok()) << integrity.ToString();
}

TEST_P(MangoIndexBehavior, ReplicatedConflictThatChangesTheWinnerMovesTheKey) {
  Create({{"index", {{"fields", {"n"}}}}});
  const std::string low(32, 'a');
  const std::string high(32, 'f');
  ASSERT_EQ(backend_->BulkDocs(Json::array({{{"_id", "x"}, {"_rev", "1-" + low}, {"n", 1}}}), false).status, 201);
  EXPECT_EQ(Numbers(backend_->Find({{"selector", {{"n", 1}}}})), (std::vector<int64_t>{1}));
  // A conflicting branch with a greater rev id wins everywhere.
  ASSERT_EQ(backend_->BulkDocs(Json::array({{{"_id", "x"}, {"_rev", "1-" + high}, {"n", 2}}}), false).status, 201);
  EXPECT_TRUE(Numbers(backend_->Find({{"selector", {{"n", 1}}}})).empty());
  EXPECT_EQ(Numbers(backend_->Find({{"selector", {{"n", 2}}}})), (std::vector<int64_t>{2}));
  // Deleting the winner brings the other branch back.
  ASSERT_EQ(backend_->BulkDocs(Json::array({{{"_id", "x"}, {"_rev", "1-" + high}, {"_deleted", true}}}), true).status,
            201);
  EXPECT_EQ(Numbers(backend_->Find({{"selector", {{"n", 1}}}})), (std::vector<int64_t>{1}));
  Status integrity = db_->CheckIntegrity();
  EXPECT_TRUE(integrity.ok()) << integrity.ToString();
}

TEST_P(MangoIndexBehavior, CreateListExistsAndDelete) {
  Reply created = backend_->CreateIndex({{"index", {{"fields", {"n"}}}}, {"name", "by-n"}, {"ddoc", "_design/q"}});
  EXPECT_EQ(created.body, (Json{{"result", "created"}, {"id", "_design/q"}, {"name", "by-n"}}));
  EXPECT_EQ(backend_->CreateIndex({{"index", {{"fields", {"n"}}}}, {"name", "by-n"}, {"ddoc", "q"}}).body["result"],
            "exists");
  // Without a name, the name and the design document come from a hash of the definition.
  Reply generated = backend_->CreateIndex({{"index", {{"fields", {{{"kind", "desc"}}}}}}});
  ASSERT_EQ(generated.status, 200);
  EXPECT_EQ(json::GetString(generated.body, "name").size(), 40u);
  EXPECT_EQ(generated.body["id"], "_design/" + json::GetString(generated.body, "name"));

  Reply list = backend_->ListIndexes();
  ASSERT_EQ(list.body["total_rows"], 3);
  EXPECT_EQ(list.body["indexes"][0]["name"], "_all_docs");
  bool listed = false;
  for (const Json& i : list.body["indexes"]) {
    if (i["name"] == "by-n") {
      listed = true;
      EXPECT_EQ(i["ddoc"], "_design/q");
      EXPECT_EQ(i["type"], "json");
      EXPECT_EQ(i["def"], (Json{{"fields", Json::array({{{"n", "asc"}}})}}));
    }
  }
  EXPECT_TRUE(listed);
  // The index is a query design document, as in CouchDB.
  auto ddoc = db_->Get("_design/q", {});
  ASSERT_TRUE(ddoc.ok());
  EXPECT_EQ((*ddoc)["language"], "query");
  EXPECT_EQ((*ddoc)["views"]["by-n"]["options"]["def"]["fields"], Json::array({{{"n", "asc"}}}));

  EXPECT_EQ(backend_->DeleteIndex("q", "by-n").status, 200);
  EXPECT_EQ(backend_->ListIndexes().body["total_rows"], 2);
  EXPECT_TRUE(db_->Get("_design/q", {}).status().IsNotFound()) << "its last index gone, the design document goes";
  Reply again = backend_->DeleteIndex("q", "by-n");
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(again.error(), "not_found");
}

TEST_P(MangoIndexBehavior, DesignDocumentWrittenByAReplicatorIsAnIndexUntilItIsDeleted) {
  WriteNumbered(20);
  Json ddoc = {
      {"_id", "_design/hand"},
      {"_rev", "1-" + std::string(32, 'c')},
      {"language", "query"},
      {"views",
       {{"n-view",
         {{"map", {{"fields", {{"n", "asc"}}}}}, {"reduce", "_count"}, {"options", {{"def", {{"fields", {"n"}}}}}}}}}}};
  ASSERT_EQ(backend_->BulkDocs(Json::array({ddoc}), false).status, 201);
  Reply r = backend_->Find({{"selector", {{"n", {{"$lt", 3}}}}}});
  EXPECT_EQ(Numbers(r), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(Stat(r, "total_keys_examined"), 3);
  EXPECT_EQ(backend_->Explain({{"selector", {{"n", {{"$lt", 3}}}}}}).body["index"]["ddoc"], "_design/hand");

  ASSERT_EQ(
      backend_
          ->BulkDocs(Json::array({{{"_id", "_design/hand"}, {"_rev", Rev("_design/hand")}, {"_deleted", true}}}), true)
          .status,
      201);
  Reply scan = backend_->Find({{"selector", {{"n", {{"$lt", 3}}}}}});
  EXPECT_EQ(Numbers(scan), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(scan.body["warning"], kNoIndexWarning);
  EXPECT_EQ(backend_->ListIndexes().body["total_rows"], 1);
}

TEST_P(MangoIndexBehavior, PartialIndexIsUsedOnlyWhenNamed) {
  WriteNumbered(40);
  Create({{"index", {{"fields", {"n"}}, {"partial_filter_selector", {{"kind", "odd"}}}}},
          {"ddoc", "odd"},
          {"name", "odd-n"}});
  Reply unnamed = backend_->Find({{"selector", {{"n", {{"$lt", 6}}}}}});
  EXPECT_EQ(Numbers(unnamed), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(unnamed.body["warning"], kNoIndexWarning);
  Reply named = backend_->Find({{"selector", {{"n", {{"$lt", 6}}}}}, {"use_index", "odd"}});
  EXPECT_EQ(Numbers(named), (std::vector<int64_t>{1, 3, 5}));
  EXPECT_EQ(Stat(named, "total_keys_examined"), 3);
  EXPECT_FALSE(named.body.contains("warning"));
}

TEST_P(MangoIndexBehavior, UseIndexThatCannotServeFallsBackWithAWarning) {
  WriteNumbered(10);
  Create({{"index", {{"fields", {"kind"}}}}, {"ddoc", "k"}, {"name", "kind"}});
  Reply r = backend_->Find({{"selector", {{"n", 3}}}, {"use_index", "k/kind"}});
  EXPECT_EQ(Numbers(r), (std::vector<int64_t>{3}));
  EXPECT_EQ(r.body["warning"], "_design/k, kind was not used because it is not a valid index for this query.\n" +
                                   std::string(kNoIndexWarning));
}

TEST_P(MangoIndexBehavior, CompactionKeepsTheIndex) {
  Create({{"index", {{"fields", {"n"}}}}});
  WriteNumbered(10);
  const std::string old_rev = Rev("n1001");
  ASSERT_EQ(backend_->BulkDocs(Json::array({{{"_id", "n1001"}, {"_rev", old_rev}, {"n", 42}}}), true).status, 201);
  ASSERT_EQ(backend_->Compact().status, 202);
  // Compaction is done when the old revision's body is gone.
  GetOptions old;
  old.rev = old_rev;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (db_->Get("n1001", old).ok() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_TRUE(db_->Get("n1001", old).status().IsNotFound()) << "compaction did not finish";
  Reply r = backend_->Find({{"selector", {{"n", {{"$gt", 8}}}}}});
  EXPECT_EQ(Numbers(r), (std::vector<int64_t>{9, 42}));
  EXPECT_EQ(Stat(r, "total_keys_examined"), 2);
  EXPECT_TRUE(db_->CheckIntegrity().ok());
}

TEST_P(MangoIndexBehavior, BadIndexRequestsGetCouchDbsErrors) {
  Reply type = backend_->CreateIndex({{"index", {{"fields", {"n"}}}}, {"type", "foo"}});
  EXPECT_EQ(type.status, 400);
  EXPECT_EQ(type.error(), "invalid_index");
  EXPECT_EQ(type.body["reason"], "Invalid type for index: foo");

  Reply not_array = backend_->CreateIndex({{"index", {{"fields", "n"}}}});
  EXPECT_EQ(not_array.status, 400);
  EXPECT_EQ(not_array.error(), "invalid_sort_json");

  Reply direction = backend_->CreateIndex({{"index", {{"fields", {{{"n", "up"}}}}}}});
  EXPECT_EQ(direction.status, 400);
  EXPECT_EQ(direction.error(), "invalid_sort_field");

  Reply missing = backend_->CreateIndex({{"name", "x"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.error(), "missing_required_key");
  EXPECT_EQ(missing.body["reason"], "Missing required key: index");

  Reply not_object = backend_->CreateIndex({{"index", "n"}});
  EXPECT_EQ(not_object.error(), "invalid_index");

  Reply selector = backend_->Find({{"selector", {{"n", {{"$nope", 1}}}}}});
  EXPECT_EQ(selector.status, 400);
  EXPECT_EQ(selector.error(), "invalid_operator");
  EXPECT_EQ(backend_->ListIndexes().body["total_rows"], 1) << "nothing was created";
}

INSTANTIATE_TEST_SUITE_P(Faces, MangoIndexBehavior, ::testing::Values(Face::kEngine, Face::kHttp),
                         [](const ::testing::TestParamInfo<Face>& info) {
                           return info.param == Face::kEngine ? "Engine" : "Http";
                         });

// --- the engine only ---------------------------------------------------------

TEST(MangoIndexEngine, IndexSurvivesAReopenAndADesignDocumentWithAnotherLanguageIsRefused) {
  char tmpl[] = "/tmp/wisp-mango-reopen-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  {
    auto db = Database::Open(dir + "/d.sqlite", "d");
    ASSERT_TRUE(db.ok());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*db)->Put({{"_id", "d" + std::to_string(i)}, {"n", i}}).status.ok());
    auto index = ParseIndexRequest({{"index", {{"fields", {"n"}}}}, {"ddoc", "js"}});
    ASSERT_TRUE(index.ok());
    ASSERT_TRUE((*db)->Put({{"_id", "_design/js"}, {"language", "javascript"}}).status.ok());
    auto refused = (*db)->CreateIndex(*index);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(MangoErrorType(refused.status()), "invalid_ddoc_lang");
    index->ddoc = "_design/q";
    ASSERT_TRUE((*db)->CreateIndex(*index).ok());
  }
  auto db = Database::Open(dir + "/d.sqlite", "d");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Put({{"_id", "d9"}, {"n", 9}}).status.ok());
  FindOptions o;
  o.selector = *Selector::Parse({{"n", {{"$gte", 3}}}});
  auto found = (*db)->Find(o);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->docs.size(), 3u);
  EXPECT_EQ(found->stats.total_keys_examined, 3);
  EXPECT_TRUE((*db)->CheckIntegrity().ok());
  std::filesystem::remove_all(dir);
}

TEST(MangoIndexEngine, QueryDesignDocumentsInAFileFromBeforeIndexesBecomeIndexesOnOpen) {
  char tmpl[] = "/tmp/wisp-mango-upgrade-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string path = dir + "/d.sqlite";
  {
    auto db = Database::Open(path, "d");
    ASSERT_TRUE(db.ok());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*db)->Put({{"_id", "d" + std::to_string(i)}, {"n", i}}).status.ok());
    ASSERT_TRUE((*db)
                    ->Put({{"_id", "_design/old"},
                           {"language", "query"},
                           {"views", {{"n", {{"map", {{"fields", {{"n", "asc"}}}}}}}}}})
                    .status.ok());
  }
  // Make the file look as an older wisp left it: no index tables, no marker.
  {
    auto c = Connection::Open(path, true, std::chrono::milliseconds(10'000));
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Exec("DROP TABLE mango_indexes; DELETE FROM meta WHERE key = 'mango_indexes';").ok());
    Statement& tables = (*c)->Prepare("SELECT name FROM sqlite_master WHERE name LIKE 'mango_idx_%' AND type = 'table'");
    std::vector<std::string> names;
    while (tables.Step()) names.push_back(tables.Text(0));
    tables.Reset();
    for (const std::string& name : names) ASSERT_TRUE((*c)->Exec("DROP TABLE " + name).ok());
  }
  auto db = Database::Open(path, "d");
  ASSERT_TRUE(db.ok());
  ASSERT_EQ((*db)->ListIndexes().size(), 1u);
  FindOptions o;
  o.selector = *Selector::Parse({{"n", {{"$gt", 2}}}});
  auto found = (*db)->Find(o);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->docs.size(), 2u);
  EXPECT_EQ(found->stats.total_keys_examined, 2);
  std::filesystem::remove_all(dir);
}

TEST(MangoIndexPlanner, PicksTheIndexWithTheLongestServedPrefix) {
  auto make = [](std::string name, std::vector<std::string> fields) {
    Json list = Json::array();
    for (const auto& f : fields) list.push_back(f);
    auto index = ParseIndexDef({{"fields", list}});
    EXPECT_TRUE(index.ok());
    index->ddoc = "_design/" + name;
    index->name = name;
    return *index;
  };
  std::vector<IndexDef> indexes = {make("a", {"a"}), make("ab", {"a", "b"}), make("b", {"b"})};
  auto selector = Selector::Parse({{"a", 1}, {"b", {{"$gt", 2}}}});
  ASSERT_TRUE(selector.ok());
  auto plan = PlanQuery(indexes, *selector, {}, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->index, 1);
  EXPECT_EQ(plan->equal, std::vector<Json>{1});
  ASSERT_TRUE(plan->low.has_value());
  EXPECT_EQ(plan->low->op, RangeOp::kGt);
  // Contradictory conditions make an empty range.
  auto empty = PlanQuery(indexes, *Selector::Parse({{"b", {{"$gt", 5}, {"$lt", 3}}}}), {}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty);
}

}  // namespace
}  // namespace wisp::store
