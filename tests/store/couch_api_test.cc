// The CouchDB HTTP API over a real Store in a temporary directory, driven
// over loopback with the real libcurl client.
#include "store/couch_api.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "http/client.h"
#include "json/json.h"
#include "store/couch_auth.h"
#include "store/couch_error.h"
#include "store/store.h"
#include "testing/http_test_server.h"
#include "testing/jwt.h"
#include "testing/notification.h"
#include "util/base64.h"
#include "util/clock.h"

namespace wisp::store {
namespace {

using namespace std::chrono_literals;
using http::ClientRequest;
using http::ClientResponse;

constexpr char kAdmin[] = "admin";
constexpr char kPassword[] = "s3cret";
const std::string kJwtSecret = "the identity provider's secret";

std::string Md5Digest(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_md5(), nullptr);
  return "md5-" + Base64Encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

class CouchApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wisp-couch-api-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto store = Store::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto router = std::make_shared<http::Router>();
    CouchApiOptions options;
    options.admin_name = kAdmin;
    options.admin_password = kPassword;
    options.feed_threads = 4;
    options.feed_check_interval = 50ms;
    options.jwt.hmac_keys["_default"] = kJwtSecret;
    AddCouchRoutes(*router, *store_, options);
    http::ListenerOptions listener;
    listener.name = "couch";
    listener.router = router;
    listener.render_error = RenderCouchError;
    server_ = std::make_unique<testing::TestServer>(std::move(listener));
  }

  void TearDown() override {
    server_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  ClientRequest Request(std::string method, const std::string& path, std::string body = "") {
    ClientRequest r;
    r.method = std::move(method);
    r.url = server_->base_url() + path;
    r.body = std::move(body);
    r.headers.Set("Authorization", "Basic " + Base64Encode(std::string(kAdmin) + ":" + kPassword));
    if (!r.body.empty()) r.headers.Set("Content-Type", "application/json");
    return r;
  }

  ClientResponse Send(const ClientRequest& request) {
    auto r = client_.Send(request);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ClientResponse{};
  }

  ClientResponse Call(std::string method, const std::string& path, std::string body = "") {
    return Send(Request(std::move(method), path, std::move(body)));
  }

  static Json Body(const ClientResponse& r) {
    auto j = json::Parse(r.body);
    EXPECT_TRUE(j.ok()) << r.body;
    return j.ok() ? *j : Json();
  }

  // Creates `db` and returns the rev of a new doc `id` with `body`.
  std::string PutDoc(const std::string& db, const std::string& id, const Json& body) {
    ClientResponse r = Call("PUT", "/" + db + "/" + id, json::Dump(body));
    EXPECT_EQ(r.status, 201) << r.body;
    return json::GetString(Body(r), "rev");
  }

  void CreateDb(const std::string& db) {
    ClientResponse r = Call("PUT", "/" + db);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<testing::TestServer> server_;
  http::Client client_;
};

// --- server and auth --------------------------------------------------------

TEST_F(CouchApiTest, WelcomeIsOpenToAnonymousCallersAndCarriesTheStoreUuid) {
  ClientRequest req;
  req.url = server_->base_url() + "/";
  req.headers.Set("Authorization", "Basic: bm90IGJhc2ljCg==");  // PouchDB's test harness sends this
  ClientResponse r = Send(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "application/json");
  Json body = Body(r);
  EXPECT_EQ(body["couchdb"], "Welcome");
  EXPECT_EQ(body["version"], "3.3.3");
  EXPECT_EQ(body["uuid"], store_->uuid());
  EXPECT_EQ(body["vendor"]["name"], "wisp");
  EXPECT_TRUE(body["features"].is_array());
}

TEST_F(CouchApiTest, MissingCredentialsGet401NotAuthorizedWithoutWwwAuthenticate) {
  ClientRequest req;
  req.url = server_->base_url() + "/_all_dbs";
  ClientResponse r = Send(req);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"error":"unauthorized","reason":"You are not authorized to access this db."})");
  EXPECT_FALSE(r.headers.Has("WWW-Authenticate"));
}

TEST_F(CouchApiTest, WrongCredentialsGet401NameOrPasswordIncorrect) {
  ClientRequest req = Request("GET", "/_all_dbs");
  req.headers.Set("Authorization", "Basic " + Base64Encode("admin:wrong"));
  ClientResponse r = Send(req);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"error":"unauthorized","reason":"Name or password is incorrect."})");
  EXPECT_FALSE(r.headers.Has("WWW-Authenticate"));

  req.headers.Set("Authorization", "Basic " + Base64Encode("someone:s3cret"));
  EXPECT_EQ(Send(req).status, 401);
  req.headers.Set("Authorization", "Basic " + Base64Encode(std::string(kAdmin) + ":" + kPassword));
  EXPECT_EQ(Send(req).status, 200);
}

TEST_F(CouchApiTest, SessionCookieStandsInForBasicCredentials) {
  ClientRequest anonymous;
  anonymous.url = server_->base_url() + "/_session";
  Json nobody = Body(Send(anonymous));
  EXPECT_TRUE(nobody["userCtx"]["name"].is_null());

  ClientRequest login;
  login.method = "POST";
  login.url = server_->base_url() + "/_session";
  login.body = "name=admin&password=wrong";
  login.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  ClientResponse refused = Send(login);
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.body, R"({"error":"unauthorized","reason":"Name or password is incorrect."})");

  login.body = R"({"name":"admin","password":"s3cret"})";
  login.headers.Set("Content-Type", "application/json");
  ClientResponse ok = Send(login);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["roles"], Json::array({"_admin"}));
  const std::string set_cookie = ok.headers.GetOr("Set-Cookie");
  ASSERT_EQ(set_cookie.rfind("AuthSession=", 0), 0u) << set_cookie;
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));

  ClientRequest with_cookie;
  with_cookie.url = server_->base_url() + "/_all_dbs";
  with_cookie.headers.Set("Cookie", cookie);
  EXPECT_EQ(Send(with_cookie).status, 200);
  with_cookie.url = server_->base_url() + "/_session";
  EXPECT_EQ(Body(Send(with_cookie))["userCtx"]["name"], "admin");
  with_cookie.url = server_->base_url() + "/_all_dbs";
  with_cookie.headers.Set("Cookie", "AuthSession=forged");
  EXPECT_EQ(Send(with_cookie).status, 401);
}

// CouchDB refreshes a session cookie in use (couch_httpd_auth's
// cookie_auth_header), so a client that keeps talking, such as a dashboard
// syncing all day, never hits the 10 minute expiry.
TEST(CouchSessionRefreshTest, AnAgeingCookieInUseGetsAFreshOneAndAnUnusedOneExpires) {
  char tmpl[] = "/tmp/wisp-couch-session-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok());
  FakeClock clock(Clock::WallTime(std::chrono::seconds(std::time(nullptr))));
  auto router = std::make_shared<http::Router>();
  CouchApiOptions options;
  options.admin_name = kAdmin;
  options.admin_password = kPassword;
  options.clock = &clock;
  AddCouchRoutes(*router, **store, options);
  http::ListenerOptions listener;
  listener.router = router;
  listener.render_error = RenderCouchError;
  {
    testing::TestServer server(std::move(listener));
    http::Client client;
    ClientRequest login;
    login.method = "POST";
    login.url = server.base_url() + "/_session";
    login.body = R"({"name":"admin","password":"s3cret"})";
    login.headers.Set("Content-Type", "application/json");
    Result<ClientResponse> logged_in = client.Send(login);
    ASSERT_TRUE(logged_in.ok());
    const auto cookie_of = [](const ClientResponse& r) {
      const std::string set = r.headers.GetOr("Set-Cookie");
      return set.substr(0, set.find(';'));
    };
    const std::string first = cookie_of(*logged_in);
    const auto get = [&](const std::string& cookie) {
      ClientRequest r;
      r.url = server.base_url() + "/_all_dbs";
      r.headers.Set("Cookie", cookie);
      Result<ClientResponse> response = client.Send(r);
      EXPECT_TRUE(response.ok());
      return *response;
    };
    EXPECT_FALSE(get(first).headers.Has("Set-Cookie"));  // young: no refresh

    clock.Advance(std::chrono::seconds(kSessionSeconds / 10 + 1));
    ClientResponse ageing = get(first);
    EXPECT_EQ(ageing.status, 200);
    const std::string second = cookie_of(ageing);
    ASSERT_EQ(second.rfind("AuthSession=", 0), 0u) << ageing.headers.GetOr("Set-Cookie");
    EXPECT_NE(second, first);
    EXPECT_NE(ageing.headers.GetOr("Set-Cookie").find("Max-Age=600"), std::string::npos);

    clock.Advance(std::chrono::seconds(kSessionSeconds - kSessionSeconds / 10));  // the first has expired
    EXPECT_EQ(get(first).status, 401);
    ClientResponse later = get(second);
    EXPECT_EQ(later.status, 200);
    EXPECT_FALSE(later.headers.GetOr("Set-Cookie").empty());  // and it is refreshed again
  }
  store->reset();
  std::filesystem::remove_all(dir);
}

TEST_F(CouchApiTest, UuidsGivesCountIdsAndRefusesMoreThanAThousand) {
  Json one = Body(Call("GET", "/_uuids"));
  ASSERT_EQ(one["uuids"].size(), 1u);
  EXPECT_EQ(one["uuids"][0].get<std::string>().size(), 32u);
  EXPECT_EQ(Body(Call("GET", "/_uuids?count=5"))["uuids"].size(), 5u);
  EXPECT_EQ(Call("GET", "/_uuids?count=1001").status, 400);
  ClientResponse bad = Call("GET", "/_uuids?count=abc");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["error"], "query_parse_error");
}

// --- databases --------------------------------------------------------------

// Found by fuzzing (fuzz/corpus/http_api/long-db-name-file-too-long): a
// legal name whose escaped file name is over 255 bytes got 500.
TEST_F(CouchApiTest, LongestLegalDatabaseNameIsCreatedListedAndDeleted) {
  const std::string name = "a" + std::string(237, '(');
  ClientResponse created = Call("PUT", "/" + name);
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(PutDoc(name, "doc", {{"n", 1}}).substr(0, 2), "1-");
  EXPECT_EQ(Body(Call("GET", "/" + name + "/doc"))["n"], 1);
  EXPECT_EQ(Body(Call("GET", "/" + name))["db_name"], name);
  EXPECT_EQ(Body(Call("GET", "/_all_dbs")), Json::array({"_users", name}));
  EXPECT_EQ(Call("PUT", "/" + name).status, 412);

  ClientResponse too_long = Call("PUT", "/" + name + "(");
  EXPECT_EQ(too_long.status, 400) << too_long.body;
  EXPECT_EQ(Body(too_long)["error"], "illegal_database_name");

  EXPECT_EQ(Call("DELETE", "/" + name).status, 200);
  EXPECT_EQ(Call("GET", "/" + name).status, 404);
  EXPECT_EQ(Body(Call("GET", "/_all_dbs")), Json::array({"_users"}));
}

TEST_F(CouchApiTest, DatabaseLifecycleAndErrors) {
  ClientResponse created = Call("PUT", "/db1");
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.body, R"({"ok":true})");
  EXPECT_NE(created.headers.GetOr("Location").find("/db1"), std::string::npos);

  ClientResponse again = Call("PUT", "/db1");
  EXPECT_EQ(again.status, 412);
  EXPECT_EQ(again.body,
            R"({"error":"file_exists","reason":"The database could not be created, the file already exists."})");

  ClientResponse bad = Call("PUT", "/Bad");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["error"], "illegal_database_name");
  EXPECT_EQ(Body(bad)["reason"],
            "Name: 'Bad'. Only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, "
            "and / are allowed. Must begin with a letter.");

  EXPECT_EQ(Call("PUT", "/a%2Fb").status, 201);  // an encoded slash is part of the name
  Json dbs = Body(Call("GET", "/_all_dbs"));
  EXPECT_EQ(dbs, Json::array({"_users", "a/b", "db1"})) << "_users exists from the start, as in CouchDB";
  EXPECT_EQ(Body(Call("GET", "/_all_dbs?descending=true&limit=1")), Json::array({"db1"}));

  Json info = Body(Call("GET", "/db1"));
  EXPECT_EQ(info["db_name"], "db1");
  EXPECT_EQ(info["instance_start_time"], "0");
  EXPECT_TRUE(info.contains("update_seq"));
  EXPECT_EQ(Call("HEAD", "/db1").status, 200);

  EXPECT_EQ(Call("DELETE", "/db1?rev=1-abc").status, 400);
  EXPECT_EQ(Call("DELETE", "/db1").body, R"({"ok":true})");
  ClientResponse gone = Call("GET", "/db1");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.body, R"({"error":"not_found","reason":"Database does not exist."})");
  EXPECT_EQ(Call("HEAD", "/db1").status, 404);
  EXPECT_EQ(Call("DELETE", "/db1").status, 404);
  EXPECT_EQ(Call("GET", "/db1/doc").status, 404);
}

TEST_F(CouchApiTest, BadBodiesAndQueryValuesGet400) {
  CreateDb("db");
  ClientResponse bad_json = Call("PUT", "/db/doc", "{not json");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.body, R"({"error":"bad_request","reason":"invalid UTF-8 JSON"})");
  ClientResponse array = Call("PUT", "/db/doc", "[1,2]");
  EXPECT_EQ(array.status, 400);
  EXPECT_EQ(array.body, R"({"error":"bad_request","reason":"Request body must be a JSON object"})");
  ClientResponse bad_bool = Call("GET", "/db/_all_docs?descending=yes");
  EXPECT_EQ(bad_bool.status, 400);
  EXPECT_EQ(Body(bad_bool)["error"], "query_parse_error");
  EXPECT_EQ(Call("GET", "/db/_all_docs?_nonce=123&whatever=x").status, 200);  // unknown params are ignored
  ClientResponse bad_id = Call("PUT", "/db/_bogus", "{}");
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_EQ(Body(bad_id)["error"], "illegal_docid");
}

// --- documents --------------------------------------------------------------

// The Cloudant SDK (under couchbackup) compresses every request body, as
// CouchDB accepts; before wisp decoded them, its _bulk_get got 400.
TEST_F(CouchApiTest, CompressedJsonBodiesAreDecodedAndUnknownCodingsGet415) {
  CreateDb("packed");
  const std::string json = R"({"docs":[{"_id":"a","n":1}]})";
  std::string packed(compressBound(json.size()), '\0');
  uLongf packed_size = packed.size();
  ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                      reinterpret_cast<const Bytef*>(json.data()), json.size(), Z_DEFAULT_COMPRESSION),
            Z_OK);
  packed.resize(packed_size);
  ClientRequest request = Request("POST", "/packed/_bulk_docs", packed);
  request.headers.Set("Content-Encoding", "deflate");
  ClientResponse written = Send(request);
  EXPECT_EQ(written.status, 201) << written.body;
  EXPECT_EQ(Body(Call("GET", "/packed/a"))["n"], 1);

  ClientRequest unknown = Request("POST", "/packed/_bulk_docs", json);
  unknown.headers.Set("Content-Encoding", "br");
  ClientResponse refused = Send(unknown);
  EXPECT_EQ(refused.status, 415);
  EXPECT_EQ(Body(refused)["error"], "bad_content_type");
}

TEST_F(CouchApiTest, DocumentCrudWithRevisionsAndConflicts) {
  CreateDb("db");
  ClientResponse created = Call("PUT", "/db/doc", R"({"v":1})");
  ASSERT_EQ(created.status, 201);
  const std::string rev1 = json::GetString(Body(created), "rev");
  EXPECT_EQ(rev1.substr(0, 2), "1-");
  EXPECT_EQ(created.headers.GetOr("ETag"), "\"" + rev1 + "\"");
  EXPECT_NE(created.headers.GetOr("Location").find("/db/doc"), std::string::npos);

  ClientResponse stale = Call("PUT", "/db/doc", R"({"v":2})");
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.body, R"({"error":"conflict","reason":"Document update conflict."})");

  ClientResponse updated = Call("PUT", "/db/doc?rev=" + rev1, R"({"v":2})");
  ASSERT_EQ(updated.status, 201) << updated.body;
  const std::string rev2 = json::GetString(Body(updated), "rev");
  EXPECT_EQ(rev2.substr(0, 2), "2-");

  ClientRequest with_if_match = Request("PUT", "/db/doc", R"({"v":3})");
  with_if_match.headers.Set("If-Match", "\"" + rev1 + "\"");
  EXPECT_EQ(Send(with_if_match).status, 409);

  Json doc = Body(Call("GET", "/db/doc"));
  EXPECT_EQ(doc["_id"], "doc");
  EXPECT_EQ(doc["_rev"], rev2);
  EXPECT_EQ(doc["v"], 2);
  EXPECT_EQ(Body(Call("GET", "/db/doc?rev=" + rev1))["v"], 1);

  Json with_revs = Body(Call("GET", "/db/doc?revs=true&revs_info=true"));
  EXPECT_EQ(with_revs["_revisions"]["start"], 2);
  EXPECT_EQ(with_revs["_revisions"]["ids"].size(), 2u);
  EXPECT_EQ(with_revs["_revs_info"].size(), 2u);

  EXPECT_EQ(Call("DELETE", "/db/doc").status, 409);
  ClientResponse deleted = Call("DELETE", "/db/doc?rev=" + rev2);
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(json::GetString(Body(deleted), "rev").substr(0, 2), "3-");

  ClientResponse after = Call("GET", "/db/doc");
  EXPECT_EQ(after.status, 404);
  EXPECT_EQ(after.body, R"({"error":"not_found","reason":"deleted"})");
  ClientResponse missing = Call("GET", "/db/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"error":"not_found","reason":"missing"})");
  EXPECT_EQ(Call("DELETE", "/db/nothing").status, 404);
  EXPECT_EQ(Call("HEAD", "/db/nothing").status, 404);

  // Writing over a deleted winner without a rev extends its branch.
  ClientResponse revived = Call("PUT", "/db/doc", R"({"v":4})");
  ASSERT_EQ(revived.status, 201) << revived.body;
  EXPECT_EQ(json::GetString(Body(revived), "rev").substr(0, 2), "4-");
}

TEST_F(CouchApiTest, PostCreatesADocumentWithAGeneratedId) {
  CreateDb("db");
  ClientResponse r = Call("POST", "/db", R"({"a":1})");
  ASSERT_EQ(r.status, 201) << r.body;
  Json body = Body(r);
  EXPECT_EQ(body["ok"], true);
  EXPECT_EQ(body["id"].get<std::string>().size(), 32u);
  EXPECT_EQ(Call("GET", "/db/" + body["id"].get<std::string>()).status, 200);
  Json named = Body(Call("POST", "/db", R"({"_id":"given"})"));
  EXPECT_EQ(named["id"], "given");
}

TEST_F(CouchApiTest, EtagAndIfNoneMatchGive304) {
  CreateDb("db");
  const std::string rev = PutDoc("db", "doc", {{"x", 1}});
  ClientResponse r = Call("GET", "/db/doc");
  EXPECT_EQ(r.headers.GetOr("ETag"), "\"" + rev + "\"");
  ClientRequest cached = Request("GET", "/db/doc");
  cached.headers.Set("If-None-Match", "\"" + rev + "\"");
  ClientResponse not_modified = Send(cached);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  cached.headers.Set("If-None-Match", "\"1-other\"");
  EXPECT_EQ(Send(cached).status, 200);
  ClientResponse head = Call("HEAD", "/db/doc");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers.GetOr("ETag"), "\"" + rev + "\"");
}

TEST_F(CouchApiTest, DesignDocumentsAnswerWithOrWithoutAnEncodedSlash) {
  CreateDb("db");
  ClientResponse put = Call("PUT", "/db/_design/app", R"({"views":{}})");
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(Body(put)["id"], "_design/app");
  EXPECT_NE(put.headers.GetOr("Location").find("/db/_design/app"), std::string::npos);
  Json doc = Body(Call("GET", "/db/_design%2Fapp"));
  EXPECT_EQ(doc["_id"], "_design/app");
  ClientResponse del = Call("DELETE", "/db/_design%2Fapp?rev=" + doc["_rev"].get<std::string>());
  EXPECT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(Call("GET", "/db/_design/app").status, 404);
}

TEST_F(CouchApiTest, OpenRevsAndConflictsAfterReplicatedBranches) {
  CreateDb("db");
  Json docs = {{"new_edits", false},
               {"docs",
                {{{"_id", "d"}, {"_rev", "2-b"}, {"v", "b"}, {"_revisions", {{"start", 2}, {"ids", {"b", "a"}}}}},
                 {{"_id", "d"}, {"_rev", "2-c"}, {"v", "c"}, {"_revisions", {{"start", 2}, {"ids", {"c", "a"}}}}}}}};
  ClientResponse r = Call("POST", "/db/_bulk_docs", json::Dump(docs));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "[]");

  Json doc = Body(Call("GET", "/db/d?conflicts=true"));
  EXPECT_EQ(doc["_rev"], "2-c");
  EXPECT_EQ(doc["_conflicts"], Json::array({"2-b"}));

  Json all = Body(Call("GET", "/db/d?open_revs=all"));
  ASSERT_TRUE(all.is_array());
  EXPECT_EQ(all.size(), 2u);
  Json some = Body(Call("GET", "/db/d?open_revs=%5B%222-b%22,%229-z%22%5D&revs=true"));
  ASSERT_EQ(some.size(), 2u) << some;
  EXPECT_EQ(some[0]["ok"]["_rev"], "2-b");
  EXPECT_EQ(some[0]["ok"]["_revisions"]["ids"], Json::array({"b", "a"}));
  EXPECT_EQ(some[1]["missing"], "9-z");
  EXPECT_EQ(Call("GET", "/db/d?open_revs=nonsense").status, 400);

  ClientRequest multipart = Request("GET", "/db/d?open_revs=%5B%222-b%22,%229-z%22%5D");
  multipart.headers.Set("Accept", "multipart/mixed");
  ClientResponse parts = Send(multipart);
  ASSERT_EQ(parts.status, 200);
  const std::string type = parts.headers.GetOr("Content-Type");
  ASSERT_EQ(type.rfind("multipart/mixed; boundary=\"", 0), 0u) << type;
  const std::string boundary = type.substr(type.find('"') + 1, type.rfind('"') - type.find('"') - 1);
  EXPECT_EQ(parts.body.rfind("--" + boundary + "\r\nContent-Type: application/json\r\n\r\n{", 0), 0u) << parts.body;
  EXPECT_NE(parts.body.find(R"({"missing":"9-z"})"), std::string::npos);
  EXPECT_NE(parts.body.find("--" + boundary + "--"), std::string::npos);
  EXPECT_EQ(Call("GET", "/db/unknown?open_revs=all").status, 404);
}

// --- bulk operations --------------------------------------------------------

TEST_F(CouchApiTest, BulkDocsReportsEachDocInOrder) {
  CreateDb("db");
  const std::string rev = PutDoc("db", "exists", {{"x", 1}});
  Json body = {{"docs", {{{"_id", "a"}, {"n", 1}}, {{"_id", "exists"}, {"n", 2}}, {{"n", 3}}}}};
  ClientResponse r = Call("POST", "/db/_bulk_docs", json::Dump(body));
  EXPECT_EQ(r.status, 201);
  Json out = Body(r);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["ok"], true);
  EXPECT_EQ(out[0]["id"], "a");
  EXPECT_EQ(out[1]["id"], "exists");
  EXPECT_EQ(out[1]["error"], "conflict");
  EXPECT_EQ(out[1]["reason"], "Document update conflict.");
  EXPECT_EQ(out[2]["ok"], true);
  EXPECT_EQ(out[2]["id"].get<std::string>().size(), 32u);

  ClientResponse missing = Call("POST", "/db/_bulk_docs", R"({"doc":[]})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body, R"({"error":"bad_request","reason":"Missing JSON list of 'docs'"})");
  EXPECT_EQ(Call("POST", "/db/_bulk_docs", R"({"docs":[{"_id":"x"}],"new_edits":false})").status, 400);

  // _local docs in a batch stay local: not in _all_docs or _changes.
  Json mixed = Body(Call("POST", "/db/_bulk_docs", R"({"docs":[{"_id":"_local/cp","v":1},{"_id":"z"}]})"));
  ASSERT_EQ(mixed.size(), 2u);
  EXPECT_EQ(mixed[0]["rev"], "0-1");
  EXPECT_EQ(mixed[1]["id"], "z");
  EXPECT_EQ(Body(Call("GET", "/db/_local/cp"))["v"], 1);
  const Json rows = Body(Call("GET", "/db/_all_docs"))["rows"];
  for (const Json& row : rows) EXPECT_NE(row["id"], "_local/cp");
}

TEST_F(CouchApiTest, BulkGetAnswersOneResultPerRequestEntry) {
  CreateDb("db");
  const std::string rev = PutDoc("db", "a", {{"v", 1}});
  Json req = {{"docs", {{{"id", "a"}, {"rev", rev}}, {{"id", "a"}, {"rev", "9-nope"}}, {{"id", "zzz"}}, {{"id", "a"}}}}};
  ClientResponse r = Call("POST", "/db/_bulk_get?revs=true&latest=true", json::Dump(req));
  ASSERT_EQ(r.status, 200) << r.body;
  Json results = Body(r)["results"];
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0]["id"], "a");
  EXPECT_EQ(results[0]["docs"][0]["ok"]["_rev"], rev);
  EXPECT_TRUE(results[0]["docs"][0]["ok"].contains("_revisions"));
  EXPECT_EQ(results[1]["docs"][0]["error"]["error"], "not_found");
  EXPECT_EQ(results[1]["docs"][0]["error"]["rev"], "9-nope");
  EXPECT_EQ(results[2]["id"], "zzz");
  EXPECT_EQ(results[2]["docs"][0]["error"]["error"], "not_found");
  EXPECT_EQ(results[3]["docs"][0]["ok"]["_id"], "a");
}

TEST_F(CouchApiTest, RevsDiffListsMissingRevisions) {
  CreateDb("db");
  const std::string rev = PutDoc("db", "a", {{"v", 1}});
  Json req = {{"a", {rev, "2-zzz"}}, {"b", {"1-x"}}};
  Json out = Body(Call("POST", "/db/_revs_diff", json::Dump(req)));
  EXPECT_EQ(out["a"]["missing"], Json::array({"2-zzz"}));
  EXPECT_EQ(out["b"]["missing"], Json::array({"1-x"}));
  Json none = Body(Call("POST", "/db/_revs_diff", json::Dump(Json{{"a", {rev}}})));
  EXPECT_EQ(none, Json::object());
}

TEST_F(CouchApiTest, AllDocsRangesKeysAndDeletedDocs) {
  CreateDb("db");
  for (const char* id : {"a", "b", "c", "d"}) PutDoc("db", id, {{"id", id}});
  const std::string rev_d = json::GetString(Body(Call("GET", "/db/d")), "_rev");
  ASSERT_EQ(Call("DELETE", "/db/d?rev=" + rev_d).status, 200);
  PutDoc("db", "_local/hidden", {{"x", 1}});

  Json all = Body(Call("GET", "/db/_all_docs"));
  EXPECT_EQ(all["total_rows"], 3);
  ASSERT_EQ(all["rows"].size(), 3u);
  EXPECT_EQ(all["rows"][0]["id"], "a");
  EXPECT_TRUE(all["rows"][0]["value"].contains("rev"));

  Json range = Body(Call("GET", "/db/_all_docs?startkey=%22b%22&end_key=%22c%22&include_docs=true"));
  ASSERT_EQ(range["rows"].size(), 2u);
  EXPECT_EQ(range["rows"][0]["doc"]["id"], "b");
  Json exclusive = Body(Call("GET", "/db/_all_docs?startkey=%22b%22&endkey=%22c%22&inclusive_end=false"));
  EXPECT_EQ(exclusive["rows"].size(), 1u);
  Json desc = Body(Call("GET", "/db/_all_docs?descending=true&limit=2&skip=1"));
  ASSERT_EQ(desc["rows"].size(), 2u);
  EXPECT_EQ(desc["rows"][0]["id"], "b");
  Json one = Body(Call("GET", "/db/_all_docs?key=%22c%22"));
  ASSERT_EQ(one["rows"].size(), 1u);
  EXPECT_EQ(one["rows"][0]["id"], "c");

  Json keyed = Body(Call("POST", "/db/_all_docs", R"({"keys":["c","nope","d","a"]})"));
  ASSERT_EQ(keyed["rows"].size(), 4u) << keyed;
  EXPECT_EQ(keyed["rows"][0]["id"], "c");
  EXPECT_EQ(keyed["rows"][1]["key"], "nope");
  EXPECT_EQ(keyed["rows"][1]["error"], "not_found");
  EXPECT_EQ(keyed["rows"][2]["value"]["deleted"], true);
  EXPECT_EQ(keyed["rows"][3]["id"], "a");
  Json get_keys = Body(Call("GET", "/db/_all_docs?keys=%5B%22b%22%5D"));
  ASSERT_EQ(get_keys["rows"].size(), 1u);
  EXPECT_EQ(get_keys["rows"][0]["id"], "b");
}

// --- changes ----------------------------------------------------------------

TEST_F(CouchApiTest, ChangesNormalFeedListsEachDocOnceInSeqOrder) {
  CreateDb("db");
  const std::string rev_a = PutDoc("db", "a", {{"v", 1}});
  PutDoc("db", "b", {{"v", 1}});
  ASSERT_EQ(Call("PUT", "/db/a?rev=" + rev_a, R"({"v":2})").status, 201);

  ClientResponse r = Call("GET", "/db/_changes");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.rfind("{\"results\":", 0), 0u) << "results come first: " << r.body;
  Json body = Body(r);
  ASSERT_EQ(body["results"].size(), 2u);
  EXPECT_EQ(body["results"][0]["id"], "b");
  EXPECT_EQ(body["results"][1]["id"], "a");
  EXPECT_EQ(body["last_seq"], body["results"][1]["seq"]);
  EXPECT_EQ(body["pending"], 0);

  Json limited = Body(Call("GET", "/db/_changes?limit=1&include_docs=true&style=all_docs"));
  ASSERT_EQ(limited["results"].size(), 1u);
  EXPECT_EQ(limited["results"][0]["doc"]["_id"], "b");
  EXPECT_EQ(limited["pending"], 1);

  const int64_t first = body["results"][0]["seq"].get<int64_t>();
  Json since = Body(Call("GET", "/db/_changes?since=" + std::to_string(first) + "-g1AAAA"));
  ASSERT_EQ(since["results"].size(), 1u);
  EXPECT_EQ(since["results"][0]["id"], "a");
  Json now = Body(Call("GET", "/db/_changes?since=now"));
  EXPECT_EQ(now["results"].size(), 0u);
  EXPECT_EQ(now["last_seq"], body["last_seq"]);

  Json filtered = Body(Call("POST", "/db/_changes?filter=_doc_ids", R"({"doc_ids":["a"]})"));
  ASSERT_EQ(filtered["results"].size(), 1u);
  EXPECT_EQ(filtered["results"][0]["id"], "a");
  Json get_filtered = Body(Call("GET", "/db/_changes?filter=_doc_ids&doc_ids=%5B%22b%22%5D"));
  ASSERT_EQ(get_filtered["results"].size(), 1u);
  EXPECT_EQ(get_filtered["results"][0]["id"], "b");
  EXPECT_EQ(Call("POST", "/db/_changes", "").status, 200);  // nano always POSTs
  EXPECT_EQ(Call("GET", "/db/_changes?since=garbage").status, 400);
}

TEST_F(CouchApiTest, LongpollAnswersAtOnceWhenChangesExist) {
  CreateDb("db");
  PutDoc("db", "a", {{"v", 1}});
  Json body = Body(Call("GET", "/db/_changes?feed=longpoll&since=0"));
  ASSERT_EQ(body["results"].size(), 1u);
}

TEST_F(CouchApiTest, LongpollWaitsUntilAWriteFromAnotherThreadWakesIt) {
  CreateDb("db");
  PutDoc("db", "before", {{"v", 1}});
  const int64_t seq = Body(Call("GET", "/db"))["update_seq"].get<int64_t>();

  // The heartbeat tells the test that the feed is waiting; then a write wakes it.
  testing::Notification waiting;
  std::mutex mu;
  std::string received;
  ClientRequest req = Request("GET", "/db/_changes?feed=longpoll&heartbeat=20&since=" + std::to_string(seq));
  req.on_data = [&](std::string_view chunk) {
    std::lock_guard lock(mu);
    received += chunk;
    if (received.find('\n') != std::string::npos) waiting.Notify();
    return true;
  };
  auto poll = std::async(std::launch::async, [&] { return http::Client().Send(req); });
  ASSERT_TRUE(waiting.WaitFor(10s)) << "no heartbeat from the waiting longpoll";

  std::thread writer([&] { PutDoc("db", "after", {{"v", 2}}); });
  ASSERT_EQ(poll.wait_for(10s), std::future_status::ready);
  writer.join();
  auto r = poll.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  std::lock_guard lock(mu);
  Json body = *json::Parse(received);
  ASSERT_EQ(body["results"].size(), 1u) << received;
  EXPECT_EQ(body["results"][0]["id"], "after");
  EXPECT_GT(body["last_seq"].get<int64_t>(), seq);
}

TEST_F(CouchApiTest, LongpollEndsAtItsTimeoutWithNoResults) {
  CreateDb("db");
  PutDoc("db", "a", {{"v", 1}});
  ClientResponse r = Call("GET", "/db/_changes?feed=longpoll&since=now&timeout=50");
  ASSERT_EQ(r.status, 200);
  Json body = Body(r);
  EXPECT_EQ(body["results"], Json::array());
  EXPECT_EQ(body["last_seq"], 1);
}

TEST_F(CouchApiTest, ContinuousFeedWritesOneLinePerChangeAndEndsWithLastSeq) {
  CreateDb("db");
  PutDoc("db", "a", {{"v", 1}});
  PutDoc("db", "b", {{"v", 1}});
  ClientResponse r = Call("GET", "/db/_changes?feed=continuous&timeout=50");
  ASSERT_EQ(r.status, 200);
  std::vector<Json> lines;
  size_t start = 0;
  while (start < r.body.size()) {
    size_t end = r.body.find('\n', start);
    std::string line = r.body.substr(start, end - start);
    if (!line.empty()) lines.push_back(*json::Parse(line));
    start = end == std::string::npos ? r.body.size() : end + 1;
  }
  ASSERT_EQ(lines.size(), 3u) << r.body;
  EXPECT_EQ(lines[0]["id"], "a");
  EXPECT_EQ(lines[1]["id"], "b");
  EXPECT_EQ(lines[2]["last_seq"], 2);
  EXPECT_EQ(lines[2]["pending"], 0);

  ClientResponse limited = Call("GET", "/db/_changes?feed=continuous&limit=1&heartbeat=1000");
  EXPECT_EQ(std::count(limited.body.begin(), limited.body.end(), '\n'), 2) << limited.body;
}

TEST_F(CouchApiTest, ContinuousFeedDeliversAWriteMadeWhileItWaits) {
  CreateDb("db");
  testing::Notification waiting, delivered;
  std::mutex mu;
  std::string received;
  ClientRequest req = Request("GET", "/db/_changes?feed=continuous&heartbeat=20&since=now");
  req.on_data = [&](std::string_view chunk) {
    std::lock_guard lock(mu);
    received += chunk;
    if (received.find('\n') != std::string::npos) waiting.Notify();
    if (received.find("\"late\"") != std::string::npos) {
      delivered.Notify();
      return false;  // enough: hang up
    }
    return true;
  };
  auto feed = std::async(std::launch::async, [&] { return http::Client().Send(req); });
  ASSERT_TRUE(waiting.WaitFor(10s));
  PutDoc("db", "late", {{"v", 1}});
  EXPECT_TRUE(delivered.WaitFor(10s)) << received;
  ASSERT_EQ(feed.wait_for(10s), std::future_status::ready);
}

TEST_F(CouchApiTest, FeedsBeyondThePoolGet503UntilOneEnds) {
  CreateDb("db");
  // The fixture allows 4 waiting feeds; hold them all open.
  struct Feed {
    testing::Notification started;
    std::atomic<bool> hang_up{false};
    std::future<Result<ClientResponse>> done;
  };
  std::vector<std::unique_ptr<Feed>> feeds;
  for (int i = 0; i < 4; ++i) {
    auto f = std::make_unique<Feed>();
    ClientRequest req = Request("GET", "/db/_changes?feed=continuous&heartbeat=20");
    Feed* raw = f.get();
    req.on_data = [raw](std::string_view) {
      raw->started.Notify();
      return !raw->hang_up.load();
    };
    f->done = std::async(std::launch::async, [req] { return http::Client().Send(req); });
    ASSERT_TRUE(f->started.WaitFor(10s));
    feeds.push_back(std::move(f));
  }
  ClientResponse refused = Call("GET", "/db/_changes?feed=longpoll&since=now");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(Body(refused)["error"], "service_unavailable");
  EXPECT_EQ(Call("GET", "/db/_changes").status, 200);  // normal feeds need no feed thread

  for (auto& f : feeds) f->hang_up = true;
  for (auto& f : feeds) ASSERT_EQ(f->done.wait_for(10s), std::future_status::ready);
  // The feed threads notice the hang-ups at their next heartbeat.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    status = Call("GET", "/db/_changes?feed=longpoll&since=now&timeout=1").status;
    if (status == 200) break;
  }
  EXPECT_EQ(status, 200);
}

// --- local docs, attachments, misc -------------------------------------------

TEST_F(CouchApiTest, LocalDocumentsAreLastWriteWinsAndHidden) {
  CreateDb("db");
  ClientResponse put = Call("PUT", "/db/_local/check%3D%3D", R"({"last_seq":5})");
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(Body(put)["id"], "_local/check==");
  EXPECT_EQ(Body(put)["rev"], "0-1");
  Json doc = Body(Call("GET", "/db/_local/check%3D%3D"));
  EXPECT_EQ(doc["_id"], "_local/check==");
  EXPECT_EQ(doc["last_seq"], 5);
  ClientResponse again = Call("PUT", "/db/_local%2Fcheck%3D%3D", R"({"_rev":"0-1","last_seq":6})");
  EXPECT_EQ(Body(again)["rev"], "0-2");
  ClientResponse atts = Call("PUT", "/db/_local/x", R"({"_attachments":{}})");
  EXPECT_EQ(atts.status, 400);
  EXPECT_EQ(atts.body, R"({"error":"bad_request","reason":"_local documents do not accept attachments."})");
  EXPECT_EQ(Body(Call("GET", "/db/_changes"))["results"].size(), 0u);
  EXPECT_EQ(Body(Call("GET", "/db/_all_docs"))["rows"].size(), 0u);
  EXPECT_EQ(Call("DELETE", "/db/_local/check%3D%3D").status, 200);
  EXPECT_EQ(Call("GET", "/db/_local/check%3D%3D").status, 404);
}

TEST_F(CouchApiTest, AttachmentsRoundTripWithDigest) {
  CreateDb("db");
  const std::string data = std::string("hello\0world", 11);
  ClientRequest put = Request("PUT", "/db/doc/dir/file%20one.txt", data);
  put.headers.Set("Content-Type", "text/plain");
  ClientResponse created = Send(put);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string rev1 = json::GetString(Body(created), "rev");

  ClientResponse got = Call("GET", "/db/doc/dir/file%20one.txt");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, data);
  EXPECT_EQ(got.headers.GetOr("Content-Type"), "text/plain");
  const std::string digest = Md5Digest(data);
  EXPECT_EQ(got.headers.GetOr("ETag"), "\"" + digest.substr(4) + "\"");

  Json doc = Body(Call("GET", "/db/doc"));
  Json stub = doc["_attachments"]["dir/file one.txt"];
  EXPECT_EQ(stub["digest"], digest);
  EXPECT_EQ(stub["stub"], true);
  EXPECT_EQ(stub["length"], 11);
  Json inline_doc = Body(Call("GET", "/db/doc?attachments=true"));
  EXPECT_EQ(inline_doc["_attachments"]["dir/file one.txt"]["data"], Base64Encode(data));

  EXPECT_EQ(Call("DELETE", "/db/doc/dir/file%20one.txt?rev=1-stale").status, 409);
  ClientResponse removed = Call("DELETE", "/db/doc/dir/file%20one.txt?rev=" + rev1);
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(Call("GET", "/db/doc/dir/file%20one.txt").status, 404);
  EXPECT_EQ(Call("GET", "/db/doc/dir/file%20one.txt?rev=" + rev1).body, data);
  EXPECT_EQ(Call("PUT", "/db/_local/x/att", "x").status, 400);
}

TEST_F(CouchApiTest, SecurityRevsLimitCompactAndFullCommit) {
  CreateDb("db");
  Json security = Body(Call("GET", "/db/_security"));
  EXPECT_TRUE(security.is_object());
  Json mine = {{"admins", {{"names", {"bob"}}, {"roles", Json::array()}}},
               {"members", {{"names", Json::array()}, {"roles", Json::array()}}}};
  EXPECT_EQ(Call("PUT", "/db/_security", json::Dump(mine)).body, R"({"ok":true})");
  EXPECT_EQ(Body(Call("GET", "/db/_security")), mine);

  EXPECT_EQ(Call("GET", "/db/_revs_limit").body, "1000");
  EXPECT_EQ(Call("PUT", "/db/_revs_limit", "7").body, R"({"ok":true})");
  EXPECT_EQ(Call("GET", "/db/_revs_limit").body, "7");
  EXPECT_EQ(Call("PUT", "/db/_revs_limit", R"("x")").status, 400);

  ClientResponse compact = Call("POST", "/db/_compact", "{}");
  EXPECT_EQ(compact.status, 202);
  EXPECT_EQ(compact.body, R"({"ok":true})");
  ClientResponse commit = Call("POST", "/db/_ensure_full_commit", "{}");
  EXPECT_EQ(commit.status, 201);
  EXPECT_EQ(commit.body, R"({"instance_start_time":"0","ok":true})");
}

TEST_F(CouchApiTest, MultipartRelatedPutStoresAttachmentsThatFollow) {
  CreateDb("db");
  const std::string doc =
      R"({"_id":"m","_rev":"1-abc","_revisions":{"start":1,"ids":["abc"]},"_attachments":{)"
      R"("z.txt":{"content_type":"text/plain","revpos":1,"follows":true,"length":3},)"
      R"("a.bin":{"content_type":"application/octet-stream","revpos":1,"follows":true,"length":2}}})";
  const std::string body = "--XyZ\r\nContent-Type: application/json\r\n\r\n" + doc +
                           "\r\n--XyZ\r\nContent-Disposition: attachment; filename=\"z.txt\"\r\n\r\nzzz"
                           "\r\n--XyZ\r\n\r\nab\r\n--XyZ--";
  ClientRequest req = Request("PUT", "/db/m?new_edits=false", body);
  req.headers.Set("Content-Type", "multipart/related; boundary=\"XyZ\"");
  ClientResponse r = Send(req);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Call("GET", "/db/m/z.txt").body, "zzz");
  EXPECT_EQ(Call("GET", "/db/m/a.bin").body, "ab");
  EXPECT_EQ(Body(Call("GET", "/db/m"))["_rev"], "1-abc");
}

// Found while fuzzing multipart bodies (docs/security.md, "Fuzzing"): the
// document part was parsed without the nesting limit of every other body and
// then printed recursively, so a deep enough document overflowed the stack.
TEST_F(CouchApiTest, MultipartDocumentNestedTooDeepIsA400) {
  CreateDb("db");
  const size_t depth = 200'000;
  const std::string doc = R"({"_id":"deep","a":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
  const std::string body = "--XyZ\r\nContent-Type: application/json\r\n\r\n" + doc + "\r\n--XyZ--";
  ClientRequest req = Request("PUT", "/db/deep", body);
  req.headers.Set("Content-Type", "multipart/related; boundary=\"XyZ\"");
  ClientResponse r = Send(req);
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
  EXPECT_EQ(Body(r)["error"], "bad_request");
  EXPECT_EQ(Call("GET", "/db/deep").status, 404);
}

TEST_F(CouchApiTest, FindSelectsSortsProjectsAndPages) {
  CreateDb("db");
  for (int i = 0; i < 5; ++i) PutDoc("db", "d" + std::to_string(i), {{"n", i}, {"even", i % 2 == 0}});
  Json query = {{"selector", {{"n", {{"$gte", 1}}}}},
                {"sort", {{{"n", "desc"}}}},
                {"fields", {"_id", "n"}},
                {"limit", 2}};
  // A sort needs an index, as in CouchDB.
  ClientResponse unindexed = Call("POST", "/db/_find", json::Dump(query));
  EXPECT_EQ(unindexed.status, 400);
  EXPECT_EQ(Body(unindexed)["error"], "no_usable_index");
  ASSERT_EQ(Call("POST", "/db/_index", R"({"index":{"fields":["n"]}})").status, 200);
  ClientResponse r = Call("POST", "/db/_find", json::Dump(query));
  ASSERT_EQ(r.status, 200) << r.body;
  Json page = Body(r);
  ASSERT_EQ(page["docs"].size(), 2u);
  EXPECT_EQ(page["docs"][0], (Json{{"_id", "d4"}, {"n", 4}}));
  EXPECT_EQ(page["docs"][1]["n"], 3);
  EXPECT_FALSE(page.contains("warning"));
  EXPECT_TRUE(Body(Call("POST", "/db/_find", R"({"selector":{"even":true}})")).contains("warning"));
  query["bookmark"] = page["bookmark"];
  Json next = Body(Call("POST", "/db/_find", json::Dump(query)));
  ASSERT_EQ(next["docs"].size(), 2u);
  EXPECT_EQ(next["docs"][0]["n"], 2);

  ClientResponse bad = Call("POST", "/db/_find", R"({"selector":{"n":{"$nope":1}}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["error"], "invalid_operator");
  EXPECT_EQ(Body(Call("POST", "/db/_find", "{}"))["error"], "missing_required_key");
  ClientResponse unknown = Call("POST", "/db/_find", R"({"selector":{},"colour":1})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body, R"({"error":"invalid_key","reason":"Invalid key colour for this request."})");
  ClientResponse negative = Call("POST", "/db/_find", R"({"selector":{},"limit":-1})");
  EXPECT_EQ(Body(negative)["error"], "invalid_non_neg_integer");
}

TEST_F(CouchApiTest, IndexRoutesAnswerAsCouchDbDoes) {
  CreateDb("db");
  PutDoc("db", "a", {{"n", 1}});
  ClientResponse created = Call("POST", "/db/_index", R"({"index":{"fields":["n"]},"ddoc":"q","name":"by-n"})");
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.body, R"({"id":"_design/q","name":"by-n","result":"created"})");
  ClientResponse explained = Call("POST", "/db/_explain", R"({"selector":{"n":{"$gt":0}}})");
  ASSERT_EQ(explained.status, 200);
  Json plan = Body(explained);
  EXPECT_EQ(plan["dbname"], "db");
  EXPECT_EQ(plan["index"]["name"], "by-n");
  EXPECT_EQ(plan["selector"], (Json{{"n", {{"$gt", 0}}}}));
  EXPECT_EQ(plan["mrargs"]["start_key"], Json::array({0}));
  ClientResponse text = Call("POST", "/db/_index", R"({"index":{"fields":["n"]},"type":"text"})");
  EXPECT_EQ(text.status, 503);
  EXPECT_EQ(Call("DELETE", "/db/_index/_design/q/json/by-n").status, 200);
  ClientResponse gone = Call("DELETE", "/db/_index/q/json/by-n");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.body, R"({"error":"not_found","reason":"missing"})");
  EXPECT_EQ(Call("POST", "/nodb/_index", R"({"index":{"fields":["n"]}})").status, 404);
}

TEST_F(CouchApiTest, CopyDuplicatesADocumentWithItsAttachments) {
  CreateDb("db");
  ClientRequest att = Request("PUT", "/db/src/note.txt", "hello");
  att.headers.Set("Content-Type", "text/plain");
  const std::string src_rev = json::GetString(Body(Send(att)), "rev");
  ASSERT_EQ(Call("PUT", "/db/src?rev=" + src_rev, R"({"title":"t","_attachments":{"note.txt":{"stub":true}}})").status,
            201);

  ClientRequest copy = Request("COPY", "/db/src");
  copy.headers.Set("Destination", "dst%2Fone");
  ClientResponse copied = Send(copy);
  ASSERT_EQ(copied.status, 201) << copied.body;
  Json result = Body(copied);
  EXPECT_EQ(result["id"], "dst/one");
  EXPECT_EQ(copied.headers.GetOr("ETag"), "\"" + json::GetString(result, "rev") + "\"");
  Json doc = Body(Call("GET", "/db/dst%2Fone"));
  EXPECT_EQ(doc["title"], "t");
  EXPECT_EQ(Call("GET", "/db/dst%2Fone/note.txt").body, "hello");

  // An existing destination needs its current rev.
  EXPECT_EQ(Send(copy).status, 409);
  copy.headers.Set("Destination", "dst%2Fone?rev=" + json::GetString(result, "rev"));
  ClientResponse overwritten = Send(copy);
  ASSERT_EQ(overwritten.status, 201) << overwritten.body;
  EXPECT_EQ(json::GetString(Body(overwritten), "rev").substr(0, 2), "2-");

  ClientRequest no_destination = Request("COPY", "/db/src");
  ClientResponse refused = Send(no_destination);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body, R"({"error":"bad_request","reason":"Destination header is mandatory for COPY."})");
  ClientRequest missing = Request("COPY", "/db/nothing");
  missing.headers.Set("Destination", "x");
  EXPECT_EQ(Send(missing).status, 404);
}

TEST_F(CouchApiTest, AttachmentRangesAndConditionalGets) {
  CreateDb("db");
  ClientRequest put = Request("PUT", "/db/doc/a.txt", "0123456789");
  put.headers.Set("Content-Type", "text/plain");
  ASSERT_EQ(Send(put).status, 201);

  ClientResponse whole = Call("GET", "/db/doc/a.txt");
  EXPECT_EQ(whole.headers.GetOr("Accept-Ranges"), "bytes");
  auto ranged = [&](const std::string& range) {
    ClientRequest r = Request("GET", "/db/doc/a.txt");
    r.headers.Set("Range", range);
    return Send(r);
  };
  ClientResponse part = ranged("bytes=2-4");
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "234");
  EXPECT_EQ(part.headers.GetOr("Content-Range"), "bytes 2-4/10");
  EXPECT_EQ(part.headers.GetOr("Content-Type"), "text/plain");
  EXPECT_EQ(ranged("bytes=7-").body, "789");
  EXPECT_EQ(ranged("bytes=-3").body, "789");
  EXPECT_EQ(ranged("bytes=8-100").headers.GetOr("Content-Range"), "bytes 8-9/10");
  ClientResponse past = ranged("bytes=10-");
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.headers.GetOr("Content-Range"), "bytes */10");
  EXPECT_EQ(Body(past)["error"], "requested_range_not_satisfiable");
  EXPECT_EQ(ranged("bytes=0-1,4-5").status, 200) << "several ranges: the whole body";

  ClientRequest cached = Request("GET", "/db/doc/a.txt");
  cached.headers.Set("If-None-Match", whole.headers.GetOr("ETag"));
  ClientResponse not_modified = Send(cached);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
}

TEST_F(CouchApiTest, AttsSinceInlinesOnlyNewerAttachments) {
  CreateDb("db");
  ClientRequest first = Request("PUT", "/db/doc/old.txt", "old");
  first.headers.Set("Content-Type", "text/plain");
  const std::string rev1 = json::GetString(Body(Send(first)), "rev");
  ClientRequest second = Request("PUT", "/db/doc/new.txt?rev=" + rev1, "new");
  second.headers.Set("Content-Type", "text/plain");
  const std::string rev2 = json::GetString(Body(Send(second)), "rev");

  Json doc = Body(Call("GET", "/db/doc?atts_since=%5B%22" + rev1 + "%22%5D"));
  EXPECT_EQ(doc["_attachments"]["old.txt"]["stub"], true);
  EXPECT_EQ(doc["_attachments"]["new.txt"]["data"], Base64Encode("new"));
  Json revs = Body(Call(
      "GET", "/db/doc?open_revs=%5B%22" + rev2 + "%22%5D&atts_since=%5B%22" + rev1 + "%22%5D&att_encoding_info=true"));
  ASSERT_EQ(revs.size(), 1u);
  EXPECT_EQ(revs[0]["ok"]["_attachments"]["old.txt"]["stub"], true);
  EXPECT_EQ(revs[0]["ok"]["_attachments"]["new.txt"]["data"], Base64Encode("new"));
  EXPECT_EQ(Call("GET", "/db/doc?atts_since=nope").status, 400);
}

TEST_F(CouchApiTest, ChangesSelectorFilterKeepsMatchingDocs) {
  CreateDb("db");
  PutDoc("db", "a", {{"type", "x"}});
  PutDoc("db", "b", {{"type", "y"}});
  Json out = Body(Call("POST", "/db/_changes?filter=_selector", R"({"selector":{"type":"y"}})"));
  ASSERT_EQ(out["results"].size(), 1u) << out;
  EXPECT_EQ(out["results"][0]["id"], "b");
  EXPECT_EQ(Call("POST", "/db/_changes?filter=_selector", "{}").status, 400);
}

}  // namespace
}  // namespace wisp::store

namespace wisp::store {
namespace {

TEST_F(CouchApiTest, DeeplyNestedDocumentIsRefusedAndTheServerLives) {
  // Before the depth limit, storing this crashed the process: printing the
  // parsed value recursed once per level and exhausted the stack.
  ASSERT_EQ(Call("PUT", "/deep").status, 201);
  const std::string body = "{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  ClientResponse r = Call("PUT", "/deep/d", body);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("bad_request"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/deep").status, 200) << "still serving";
}

}  // namespace
}  // namespace wisp::store

namespace wisp::store {
namespace {

class CouchUsersTest : public CouchApiTest {
 protected:
  void SetUp() override {
    CouchApiTest::SetUp();
    ClientResponse r = Call("PUT", "/_users/org.couchdb.user:ana",
                            R"({"name":"ana","type":"user","roles":["advocate"],"password":"pa55word"})");
    ASSERT_EQ(r.status, 201) << r.body;
    CreateDb("questions");
  }

  // A request as `name`:`password` instead of the admin.
  ClientResponse As(const std::string& name, const std::string& password, std::string method, const std::string& path,
                    std::string body = "") {
    ClientRequest r = Request(std::move(method), path, std::move(body));
    r.headers.Set("Authorization", "Basic " + Base64Encode(name + ":" + password));
    return Send(r);
  }
};

TEST_F(CouchUsersTest, PasswordIsStoredOnlyAsAPbkdf2Hash) {
  Json user = Body(Call("GET", "/_users/org.couchdb.user:ana"));
  EXPECT_FALSE(user.contains("password"));
  EXPECT_EQ(user["password_scheme"], "pbkdf2");
  EXPECT_EQ(user["pbkdf2_prf"], "sha256");
  EXPECT_EQ(user["salt"].get<std::string>().size(), 32u);
  EXPECT_EQ(user["derived_key"].get<std::string>().size(), 64u);
  EXPECT_GE(user["iterations"].get<int64_t>(), 1);
}

TEST_F(CouchUsersTest, UserOutsideTheDatabasesMembersIsForbidden) {
  ClientResponse r = As("ana", "pa55word", "GET", "/questions");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Body(r)["error"], "forbidden");
  EXPECT_EQ(As("ana", "wrong", "GET", "/questions").status, 401) << "a wrong password is 401, not 403";
}

TEST_F(CouchUsersTest, MemberByRoleOrNameMayReadAndWrite) {
  ASSERT_EQ(Call("PUT", "/questions/_security", R"({"members":{"roles":["advocate"]}})").status, 200);
  EXPECT_EQ(As("ana", "pa55word", "GET", "/questions").status, 200);
  EXPECT_EQ(As("ana", "pa55word", "PUT", "/questions/q1", R"({"title":"t"})").status, 201);
  ASSERT_EQ(Call("PUT", "/_users/org.couchdb.user:bo",
                 R"({"name":"bo","type":"user","roles":[],"password":"x"})").status, 201);
  EXPECT_EQ(As("bo", "x", "GET", "/questions/q1").status, 403);
  ASSERT_EQ(Call("PUT", "/questions/_security", R"({"members":{"names":["bo"]}})").status, 200);
  EXPECT_EQ(As("bo", "x", "GET", "/questions/q1").status, 200);
  EXPECT_EQ(As("ana", "pa55word", "GET", "/questions/q1").status, 403) << "no longer a member";
}

TEST_F(CouchUsersTest, UsersAreNotServerAdmins) {
  // CouchDB answers server-admin routes with 401 "You are not a server admin."
  // even for a known user (spec couchdb.md §5); database-admin routes with 403.
  ClientResponse create = As("ana", "pa55word", "PUT", "/newdb");
  EXPECT_EQ(create.status, 401);
  EXPECT_EQ(Body(create)["reason"], "You are not a server admin.");
  EXPECT_EQ(As("ana", "pa55word", "GET", "/_all_dbs").status, 401);
  EXPECT_EQ(As("ana", "pa55word", "PUT", "/questions/_security", R"({"members":{"names":["ana"]}})").status, 403);
}

TEST_F(CouchUsersTest, SessionCookieLogsAUserIn) {
  ASSERT_EQ(Call("PUT", "/questions/_security", R"({"members":{"names":["ana"]}})").status, 200);
  ClientRequest login;
  login.method = "POST";
  login.url = server_->base_url() + "/_session";
  login.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  login.body = "name=ana&password=pa55word";
  ClientResponse r = Send(login);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["roles"], Json::array({"advocate"}));
  const std::string set_cookie = r.headers.GetOr("Set-Cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  ASSERT_EQ(cookie.rfind("AuthSession=", 0), 0u) << set_cookie;

  ClientRequest with_cookie;
  with_cookie.url = server_->base_url() + "/questions";
  with_cookie.headers.Set("Cookie", cookie);
  EXPECT_EQ(Send(with_cookie).status, 200);
  with_cookie.url = server_->base_url() + "/_session";
  Json session = Body(Send(with_cookie));
  EXPECT_EQ(session["userCtx"]["name"], "ana");
  EXPECT_EQ(session["userCtx"]["roles"], Json::array({"advocate"}));

  login.body = "name=ana&password=nope";
  EXPECT_EQ(Send(login).status, 401);
}

TEST_F(CouchUsersTest, UserReadsAndChangesTheirOwnPassword) {
  ClientResponse own = As("ana", "pa55word", "GET", "/_users/org.couchdb.user:ana");
  ASSERT_EQ(own.status, 200) << own.body;
  Json doc = Body(own);
  EXPECT_EQ(doc["name"], "ana");
  doc["password"] = "n3w-secret";
  ClientResponse changed = As("ana", "pa55word", "PUT", "/_users/org.couchdb.user:ana", json::Dump(doc));
  ASSERT_EQ(changed.status, 201) << changed.body;
  EXPECT_EQ(As("ana", "pa55word", "GET", "/_users/org.couchdb.user:ana").status, 401)
      << "the old password, although verified before, no longer works";
  EXPECT_EQ(As("ana", "n3w-secret", "GET", "/_users/org.couchdb.user:ana").status, 200);
}

TEST_F(CouchUsersTest, UserCannotReadOthersOrGrantThemselvesRoles) {
  ASSERT_EQ(Call("PUT", "/_users/org.couchdb.user:bo", R"({"name":"bo","type":"user","roles":[],"password":"x"})")
                .status,
            201);
  ClientResponse other = As("ana", "pa55word", "GET", "/_users/org.couchdb.user:bo");
  EXPECT_EQ(other.status, 404) << other.body;
  EXPECT_EQ(As("ana", "pa55word", "GET", "/_users/_all_docs").status, 403);

  Json doc = Body(As("ana", "pa55word", "GET", "/_users/org.couchdb.user:ana"));
  doc["roles"] = {"advocate", "lead"};
  ClientResponse promoted = As("ana", "pa55word", "PUT", "/_users/org.couchdb.user:ana", json::Dump(doc));
  EXPECT_EQ(promoted.status, 403);
  EXPECT_EQ(Body(promoted)["error"], "forbidden");
  EXPECT_EQ(Body(promoted)["reason"], "Only _admin may edit roles");
  EXPECT_EQ(Body(Call("GET", "/_users/org.couchdb.user:ana"))["roles"], Json::array({"advocate"}));
}

TEST_F(CouchUsersTest, UsersDocumentsMustBeWellFormed) {
  ClientResponse r = Call("PUT", "/_users/org.couchdb.user:cy", R"({"name":"someone","type":"user","roles":[]})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Body(r)["reason"], "Doc ID must be of the form org.couchdb.user:name");
  r = Call("POST", "/_users/_bulk_docs", R"({"docs":[{"_id":"org.couchdb.user:cy","name":"cy","roles":[]}]})");
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(Body(r)[0]["error"], "forbidden");
  EXPECT_EQ(Body(r)[0]["reason"], "doc.type must be user");
  EXPECT_EQ(Call("GET", "/_users/org.couchdb.user:cy").status, 404) << "nothing was written";
}

TEST_F(CouchUsersTest, OnlyDatabaseAdminsWriteDesignDocumentsAndIndexes) {
  ASSERT_EQ(Call("PUT", "/questions/_security", R"({"members":{"names":["ana"]},"admins":{"names":["bo"]}})").status,
            200);
  ASSERT_EQ(Call("PUT", "/_users/org.couchdb.user:bo", R"({"name":"bo","type":"user","roles":[],"password":"x"})")
                .status,
            201);
  const std::string ddoc = R"({"language":"query","views":{}})";
  ClientResponse r = As("ana", "pa55word", "PUT", "/questions/_design/mine", ddoc);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Body(r)["reason"], "You are not a db or server admin.");
  EXPECT_EQ(As("ana", "pa55word", "POST", "/questions", R"({"_id":"_design/other"})").status, 403);
  EXPECT_EQ(As("ana", "pa55word", "POST", "/questions/_index", R"({"index":{"fields":["title"]}})").status, 403);
  EXPECT_EQ(As("ana", "pa55word", "PUT", "/questions/_security", R"({})").status, 403);
  r = As("ana", "pa55word", "POST", "/questions/_bulk_docs", R"({"docs":[{"_id":"_design/x"},{"_id":"plain"}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Body(r)[0]["error"], "unauthorized");
  EXPECT_EQ(Body(r)[1]["ok"], true) << "the member's ordinary document is written";
  EXPECT_EQ(Call("GET", "/questions/_design/x").status, 404);

  EXPECT_EQ(As("bo", "x", "PUT", "/questions/_design/mine", ddoc).status, 201) << "a database admin may";
  EXPECT_EQ(As("bo", "x", "POST", "/questions/_index", R"({"index":{"fields":["title"]}})").status, 200);
  EXPECT_EQ(As("ana", "pa55word", "GET", "/questions/_design/mine").status, 200) << "members read design documents";
}

class CouchJwtTest : public CouchUsersTest {
 protected:
  ClientResponse Bearer(const std::string& token, std::string method, const std::string& path) {
    ClientRequest r = Request(std::move(method), path);
    r.headers.Set("Authorization", "Bearer " + token);
    return Send(r);
  }
  static Json Claims(const std::string& sub, Json roles) {
    return {{"sub", sub}, {"exp", Clock::System().NowMillis() / 1000 + 300}, {"_couchdb.roles", roles}};
  }
};

TEST_F(CouchJwtTest, BearerTokenActsAsItsSubjectWithItsRoles) {
  ASSERT_EQ(Call("PUT", "/questions/_security", R"({"members":{"roles":["triage"]}})").status, 200);
  const std::string token = testing::SignJwt(Claims("carol", {"triage"}), kJwtSecret);
  EXPECT_EQ(Bearer(token, "GET", "/questions").status, 200) << "no _users document is needed";
  Json session = Body(Bearer(token, "GET", "/_session"));
  EXPECT_EQ(session["userCtx"]["name"], "carol");
  EXPECT_EQ(session["info"]["authenticated"], "jwt");
  EXPECT_EQ(Bearer(token, "PUT", "/newdb").status, 401) << "not a server admin";
  EXPECT_EQ(Bearer(testing::SignJwt(Claims("carol", {"other"}), kJwtSecret), "GET", "/questions").status, 403);
}

TEST_F(CouchJwtTest, AdminRoleInTheTokenMakesAServerAdmin) {
  const std::string token = testing::SignJwt(Claims("ops", {"_admin"}), kJwtSecret);
  EXPECT_EQ(Bearer(token, "PUT", "/created_by_jwt").status, 201);
}

TEST_F(CouchJwtTest, BadTokensGetCouchDbsErrors) {
  ClientResponse forged = Bearer(testing::SignJwt(Claims("ops", {"_admin"}), "guessed secret"), "PUT", "/x");
  EXPECT_EQ(forged.status, 400);
  EXPECT_EQ(Body(forged)["reason"], "Bad signature in authentication token");
  Json expired = Claims("carol", Json::array());
  expired["exp"] = Clock::System().NowMillis() / 1000 - 1;
  ClientResponse late = Bearer(testing::SignJwt(expired, kJwtSecret), "GET", "/questions");
  EXPECT_EQ(late.status, 401);
  EXPECT_EQ(Body(late)["error"], "unauthorized");
  EXPECT_EQ(Body(late)["reason"], "exp not in future");
  EXPECT_EQ(Bearer("not-a-token", "GET", "/questions").status, 400);
  EXPECT_EQ(Call("PUT", "/x").status, 201) << "Basic still works next to JWT";
}

}  // namespace
}  // namespace wisp::store
