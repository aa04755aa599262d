// RemoteCouch against wisp's own CouchDB API on a loopback port (basic,
// cookie, JWT, a refused password), and against a small server whose
// sessions expire on demand (the cookie is renewed after a 401).
#include "store/remote_couch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "http/router.h"
#include "json/json.h"
#include "store/couch_api.h"
#include "store/couch_error.h"
#include "store/store.h"
#include "testing/http_test_server.h"
#include "testing/jwt.h"
#include "testing/temp_dir.h"
#include "util/clock.h"

namespace wisp::store {
namespace {

const std::string kJwtSecret = "the identity provider's secret";

class RemoteCouchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::Open(dir_.path());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    auto router = std::make_shared<http::Router>();
    CouchApiOptions options;
    options.admin_name = "admin";
    options.admin_password = "s3cret";
    options.jwt.hmac_keys["_default"] = kJwtSecret;
    AddCouchRoutes(*router, *store_, options);
    http::ListenerOptions listener;
    listener.name = "couch";
    listener.router = router;
    listener.render_error = RenderCouchError;
    server_ = std::make_unique<testing::TestServer>(std::move(listener));
  }

  std::shared_ptr<RemoteCouch> Connect(RemoteAuth auth, std::string user, std::string secret) {
    auto couch = RemoteCouch::Create(client_, {.url = server_->base_url() + "/", .auth = auth,
                                               .username = std::move(user), .secret = std::move(secret)});
    EXPECT_TRUE(couch.ok()) << couch.status().ToString();
    return couch.ok() ? *couch : nullptr;
  }

  static int StatusOf(RemoteCouch& couch, const std::string& method, const std::string& path) {
    http::ClientRequest request;
    request.method = method;
    request.url = path;
    Result<http::ClientResponse> r = couch.Send(std::move(request));
    return r.ok() ? r->status : -1;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<testing::TestServer> server_;
  http::Client client_;
};

TEST_F(RemoteCouchTest, BasicAuthActsAsTheAdmin) {
  auto couch = Connect(RemoteAuth::kBasic, "admin", "s3cret");
  EXPECT_EQ(StatusOf(*couch, "PUT", "/questions"), 201);
  EXPECT_EQ(StatusOf(*couch, "GET", "/_all_dbs"), 200);
}

TEST_F(RemoteCouchTest, CookieAuthSignsInOnceAndActsAsTheUser) {
  auto couch = Connect(RemoteAuth::kCookie, "admin", "s3cret");
  EXPECT_EQ(StatusOf(*couch, "PUT", "/questions"), 201);
  EXPECT_EQ(StatusOf(*couch, "GET", "/_all_dbs"), 200);
}

TEST_F(RemoteCouchTest, CookieAuthWithAWrongPasswordAnswersTheServersRefusal) {
  auto couch = Connect(RemoteAuth::kCookie, "admin", "wrong");
  EXPECT_EQ(StatusOf(*couch, "GET", "/_all_dbs"), 401);
}

TEST_F(RemoteCouchTest, JwtAuthSendsTheTokenAsBearer) {
  const Json claims = {{"sub", "ops"}, {"exp", Clock::System().NowMillis() / 1000 + 300}, {"_couchdb.roles", {"_admin"}}};
  auto couch = Connect(RemoteAuth::kJwt, "", testing::SignJwt(claims, kJwtSecret));
  EXPECT_EQ(StatusOf(*couch, "PUT", "/events"), 201);
  auto forged = Connect(RemoteAuth::kJwt, "", testing::SignJwt(claims, "guessed"));
  EXPECT_EQ(StatusOf(*forged, "PUT", "/other"), 400) << "CouchDB answers a bad signature 400";
}

TEST_F(RemoteCouchTest, NoAuthIsAnonymous) {
  auto couch = Connect(RemoteAuth::kNone, "", "");
  EXPECT_EQ(StatusOf(*couch, "PUT", "/questions"), 401);
}

// Options with every field named, so that each case says only what differs.
RemoteCouchOptions Options(std::string url, RemoteAuth auth = RemoteAuth::kNone, std::string user = "",
                           std::string secret = "") {
  RemoteCouchOptions options;
  options.url = std::move(url);
  options.auth = auth;
  options.username = std::move(user);
  options.secret = std::move(secret);
  return options;
}

TEST(RemoteCouchOptionsTest, RefusesCredentialsInTheUrlAndIncompleteAuth) {
  http::Client client;
  auto with_userinfo = RemoteCouch::Create(client, Options("http://u:p@127.0.0.1:5984"));
  EXPECT_TRUE(with_userinfo.status().IsInvalidArgument());
  EXPECT_EQ(with_userinfo.status().message().find("p@"), std::string::npos) << "the password is not repeated";
  EXPECT_TRUE(RemoteCouch::Create(client, Options("ftp://host/")).status().IsInvalidArgument());
  EXPECT_TRUE(RemoteCouch::Create(client, Options("http://h", RemoteAuth::kBasic, "u"))
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(RemoteCouch::Create(client, Options("http://h", RemoteAuth::kJwt)).status().IsInvalidArgument());
  auto fine = RemoteCouch::Create(client, {.url = "http://h:1/", .auth = RemoteAuth::kCookie, .username = "u",
                                           .secret = "pw"});
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ((*fine)->Describe(), "http://h:1 (auth cookie)");
  EXPECT_FALSE(ParseRemoteAuth("digest").ok());
}

// A server whose session ends when the test says: the client must sign in
// again after the 401 and repeat the request, without the caller noticing.
TEST(RemoteCouchSessionTest, ExpiredCookieIsRenewedAndTheRequestRepeated) {
  auto valid = std::make_shared<std::atomic<int>>(1);
  auto sign_ins = std::make_shared<std::atomic<int>>(0);
  auto router = std::make_shared<http::Router>();
  router->Post("/_session", [valid, sign_ins](http::Request& request) {
    Result<Json> body = json::ParseObject(request.body);
    if (!body.ok() || json::GetString(*body, "password") != "pw") return CouchError(401, "unauthorized", "no");
    sign_ins->fetch_add(1);
    http::Response r = http::Response::Json(200, R"({"ok":true})");
    r.headers.Add("Set-Cookie", "AuthSession=v" + std::to_string(valid->load()) + "; Path=/; HttpOnly");
    return r;
  });
  router->Get("/db", [valid](http::Request& request) {
    if (request.headers.GetOr("Cookie") != "AuthSession=v" + std::to_string(valid->load())) {
      return CouchError(401, "unauthorized", "session expired");
    }
    return http::Response::Json(200, R"({"db_name":"db"})");
  });
  http::ListenerOptions listener;
  listener.name = "fake";
  listener.router = router;
  listener.render_error = RenderCouchError;
  testing::TestServer server(std::move(listener));
  http::Client client;
  auto couch = RemoteCouch::Create(client, {.url = server.base_url(), .auth = RemoteAuth::kCookie, .username = "u",
                                            .secret = "pw"});
  ASSERT_TRUE(couch.ok());
  http::ClientRequest get;
  get.url = "/db";
  auto first = (*couch)->Send(get);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 200);
  auto second = (*couch)->Send(get);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(sign_ins->load(), 1) << "the cookie is kept between requests";

  valid->store(2);  // the server forgot the session
  auto renewed = (*couch)->Send(get);
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(renewed->status, 200);
  EXPECT_EQ(sign_ins->load(), 2);
}

}  // namespace
}  // namespace wisp::store
