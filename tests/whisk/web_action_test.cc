// Web actions over HTTP: a real server on a loopback port with the whisk
// routes, a real store in a temporary directory, and a runtime for kind
// `native` whose action code says what to return. Every request goes
// through the libcurl client, as a browser's fetch would.
#include "whisk/web_action.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "http/client.h"
#include "testing/http_test_server.h"
#include "testing/jwt.h"
#include "util/base64.h"
#include "whisk/error_response.h"
#include "whisk/whisk_api.h"

namespace wisp::whisk {
namespace {

using namespace std::chrono_literals;

constexpr char kGuestUuid[] = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502";

// The action's code is JSON: {"result": R} returns R, {"error": E} fails
// with an application error {"error": E}, {"developer": true} is a
// developer error, {"gate": true} waits for the test, anything else echoes
// the arguments.
class CodedRuntime final : public ActionRuntime {
 public:
  RunOutcome Run(const ActionCode& code, const RunRequest& request) override {
    RunOutcome outcome;
    Result<Json> script = json::Parse(code.code);
    const Json spec = script.ok() && script->is_object() ? *script : Json::object();
    if (spec.contains("gate")) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return open_; });
    }
    if (spec.contains("result")) {
      outcome.result = spec["result"];
    } else if (spec.contains("error")) {
      outcome.status = ActivationStatus::kApplicationError;
      outcome.result = {{"error", spec["error"]}};
    } else if (spec.contains("developer")) {
      outcome.status = ActivationStatus::kDeveloperError;
      outcome.result = {{"error", "The action did not return a dictionary."}};
    } else {
      outcome.result = request.value;
    }
    return outcome;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

class WebActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wisp-web-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto store = store::Store::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ControllerOptions options;
    options.max_blocking_wait = 300ms;
    options.max_payload_bytes = 64 * 1024;
    controller_ = std::make_unique<Controller>(*store_, options);
    controller_->SetRuntime("native", &runtime_);
    ASSERT_TRUE(controller_->Start().ok());
    ASSERT_TRUE(identities_.Add("guest", "guest", guest_credential_).ok());
    auto router = std::make_shared<http::Router>();
    AddWhiskRoutes(*router, *controller_, identities_);
    http::ListenerOptions listener;
    listener.name = "api";
    listener.router = router;
    listener.render_error = RenderWhiskError;
    server_ = std::make_unique<testing::TestServer>(std::move(listener));
  }
  void TearDown() override {
    runtime_.Open();
    server_.reset();
    controller_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Creates /guest/[pkg/]name with `code` (see CodedRuntime) and annotations.
  void PutAction(const std::string& name, const Json& code, Json annotations, Json parameters = Json::array()) {
    Json body = {{"exec", {{"kind", "native"}, {"code", json::Dump(code)}}},
                 {"annotations", std::move(annotations)},
                 {"parameters", std::move(parameters)}};
    Result<EntityName> n = ParseFullyQualifiedName("/guest/" + name, "guest");
    ASSERT_TRUE(n.ok());
    Result<Json> put = controller_->PutAction(guest_, *n, body, true);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }
  static Json Exported(Json more = Json::array()) {
    more.push_back({{"key", "web-export"}, {"value", true}});
    return more;
  }

  http::ClientResponse Send(const std::string& method, const std::string& path, std::string body = "",
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::ClientRequest request;
    request.method = method;
    request.url = server_->base_url() + path;
    request.body = std::move(body);
    for (const auto& [k, v] : headers) request.headers.Set(k, v);
    Result<http::ClientResponse> response = client_.Send(request);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? *response : http::ClientResponse{};
  }
  static Json BodyJson(const http::ClientResponse& r) {
    Result<Json> parsed = json::Parse(r.body);
    EXPECT_TRUE(parsed.ok()) << r.body;
    return parsed.ok() ? *parsed : Json();
  }
  // The stored activation the answer names: every web request makes one.
  void ExpectActivation(const http::ClientResponse& r) {
    const std::string id = r.headers.GetOr("x-openwhisk-activation-id");
    ASSERT_EQ(id.size(), 32u) << r.body;
    controller_->Drain();
    EXPECT_TRUE(controller_->GetActivation(guest_, "guest", id).ok());
  }

  std::string dir_;
  std::string guest_credential_ = std::string(kGuestUuid) + ":" + std::string(64, 'k');
  std::unique_ptr<store::Store> store_;
  CodedRuntime runtime_;
  std::unique_ptr<Controller> controller_;
  Identities identities_;
  Identity guest_{"guest", "guest", kGuestUuid, std::string(64, 'k')};
  std::unique_ptr<testing::TestServer> server_;
  http::Client client_;
};

TEST_F(WebActionTest, JsonMergesQueryUnderBodyAndPassesRequestFacts) {
  PutAction("echo", Json::object(), Exported(), Json::array({{{"key", "who"}, {"value", "action"}}}));
  http::ClientResponse r = Send("POST", "/api/v1/web/guest/default/echo.json?who=query&q=1", R"({"who":"body","n":2})",
                                {{"Content-Type", "application/json"}, {"X-Test", "yes"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json args = BodyJson(r);
  EXPECT_EQ(args["who"], "body");
  EXPECT_EQ(args["q"], "1");
  EXPECT_EQ(args["n"], 2);
  EXPECT_EQ(args["__ow_method"], "post");
  EXPECT_EQ(args["__ow_path"], "");
  EXPECT_EQ(args["__ow_headers"]["x-test"], "yes");
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "application/json");
  EXPECT_FALSE(args.contains("__ow_user"));
  ExpectActivation(r);
}

TEST_F(WebActionTest, JsonProjectsThePathAfterTheExtension) {
  PutAction("deep", {{"result", {{"a", {{"b", {{"c", 1}}}}}, {"s", "x"}}}}, Exported());
  http::ClientResponse r = Send("GET", "/api/v1/web/guest/default/deep.json/a/b");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyJson(r), Json({{"c", 1}}));
  r = Send("GET", "/api/v1/web/guest/default/deep.json/a/missing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(BodyJson(r)["error"], kWebMissingPropertyText);
  r = Send("GET", "/api/v1/web/guest/default/deep.json/s");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(BodyJson(r)["error"], "Response is not valid 'application/json'.");
}

TEST_F(WebActionTest, HtmlTakesBodyOrHtml) {
  PutAction("page", {{"result", {{"html", "<p>hi</p>"}}}}, Exported());
  PutAction("bad", {{"result", {{"html", 3}}}}, Exported());
  http::ClientResponse r = Send("GET", "/api/v1/web/guest/default/page.html");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "<p>hi</p>");
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "text/html; charset=UTF-8");
  r = Send("GET", "/api/v1/web/guest/default/bad.html");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(BodyJson(r)["error"], "Response is not valid 'text/html'.");
}

TEST_F(WebActionTest, SvgTakesBodyOrSvg) {
  PutAction("pic", {{"result", {{"svg", "<svg/>"}}}}, Exported());
  http::ClientResponse r = Send("GET", "/api/v1/web/guest/default/pic.svg");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "<svg/>");
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "image/svg+xml");
}

TEST_F(WebActionTest, TextStringifiesAndMissingIs404) {
  PutAction("t", {{"result", {{"text", {{"k", 1}}}}}}, Exported());
  PutAction("none", {{"result", {{"other", 1}}}}, Exported());
  http::ClientResponse r = Send("GET", "/api/v1/web/guest/default/t.text");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyJson(r), Json({{"k", 1}}));
  EXPECT_NE(r.body.find('\n'), std::string::npos);  // pretty-printed
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "text/plain; charset=UTF-8");
  r = Send("GET", "/api/v1/web/guest/default/none.text");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(BodyJson(r)["error"], kWebMissingPropertyText);
}

TEST_F(WebActionTest, HttpResultSetsStatusHeadersAndBody) {
  PutAction("h",
            {{"result",
              {{"statusCode", "201"},
               {"headers", {{"Set-Cookie", {"a=1", "b=2"}}, {"X-N", 5}, {"Content-Type", "text/plain"}}},
               {"body", "made"}}}},
            Exported());
  // No extension means .http.
  for (const std::string path : {"/api/v1/web/guest/default/h.http", "/api/v1/web/guest/default/h"}) {
    http::ClientResponse r = Send("GET", path);
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.body, "made");
    EXPECT_EQ(r.headers.GetOr("Content-Type"), "text/plain");
    EXPECT_EQ(r.headers.GetOr("X-N"), "5");
    int cookies = 0;
    for (const auto& [k, v] : r.headers.entries()) cookies += http::EqualsIgnoreCase(k, "Set-Cookie");
    EXPECT_EQ(cookies, 2);
    ExpectActivation(r);
  }
}

TEST_F(WebActionTest, HttpDecodesBinaryBodiesAndSerializesJson) {
  const std::string png("\x89PNG\r\n\x1a\n\0\xff", 10);
  PutAction("img", {{"result", {{"headers", {{"content-type", "image/png"}}}, {"body", Base64Encode(png)}}}},
            Exported());
  PutAction("obj", {{"result", {{"body", {{"x", 1}}}}}}, Exported());
  PutAction("empty", {{"result", Json::object()}}, Exported());
  http::ClientResponse r = Send("GET", "/api/v1/web/guest/default/img.http");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, png);
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "image/png");
  r = Send("GET", "/api/v1/web/guest/default/obj.http");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(BodyJson(r), Json({{"x", 1}}));
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "application/json");
  r = Send("GET", "/api/v1/web/guest/default/empty.http");
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
}

TEST_F(WebActionTest, InvalidHttpResultsAnswerTheSpecTexts) {
  PutAction("notobj", {{"result", {{"statusCode", Json::array()}}}}, Exported());
  PutAction("badhdr", {{"result", {{"headers", {{"X", {{"nested", 1}}}}}}}}, Exported());
  PutAction("badtype", {{"result", {{"headers", {{"Content-Type", "nonsense"}}}, {"body", "x"}}}}, Exported());
  for (const std::string name : {"notobj", "badhdr"}) {
    http::ClientResponse r = Send("GET", "/api/v1/web/guest/default/" + name + ".http");
    EXPECT_EQ(r.status, 400) << name;
    EXPECT_EQ(BodyJson(r)["error"], kWebInvalidHttpText) << name;
  }
  http::ClientResponse r = Send("GET", "/api/v1/web/guest/default/badtype.http");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(BodyJson(r)["error"], kWebUnknownContentTypeText);
}

TEST_F(WebActionTest, RawHttpPassesQueryAndBodyUnparsed) {
  PutAction("raw", Json::object(), Exported(Json::array({{{"key", "raw-http"}, {"value", true}}})));
  http::ClientResponse r = Send("PUT", "/api/v1/web/guest/default/raw.json?a=1&b=two", R"({"k":"v"})",
                                {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json args = BodyJson(r);
  EXPECT_EQ(args["__ow_query"], "a=1&b=two");
  EXPECT_EQ(args["__ow_body"], Base64Encode(R"({"k":"v"})"));
  EXPECT_EQ(args["__ow_method"], "put");
  EXPECT_FALSE(args.contains("a"));
  EXPECT_FALSE(args.contains("k"));
  r = Send("POST", "/api/v1/web/guest/default/raw.json", "plain words", {{"Content-Type", "text/plain"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyJson(r)["__ow_body"], "plain words");
  // The path after the extension is __ow_path, and also the projection:
  // projecting an echo of the arguments onto it yields the path itself.
  r = Send("GET", "/api/v1/web/guest/default/raw.text/__ow_path");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "/__ow_path");
  // Without an extension (.http), an object with no body is an empty 204.
  r = Send("GET", "/api/v1/web/guest/default/raw/x/y");
  EXPECT_EQ(r.status, 204);
}

TEST_F(WebActionTest, NonJsonBodiesBecomeOwBody) {
  PutAction("echo", Json::object(), Exported());
  http::ClientResponse r = Send("POST", "/api/v1/web/guest/default/echo.json", "a=1&b=x+y",
                                {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyJson(r)["b"], "x y");
  r = Send("POST", "/api/v1/web/guest/default/echo.json", "hello", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(BodyJson(r)["__ow_body"], "hello");
  r = Send("POST", "/api/v1/web/guest/default/echo.json", std::string("\x00\x01", 2),
           {{"Content-Type", "application/octet-stream"}});
  EXPECT_EQ(BodyJson(r)["__ow_body"], Base64Encode(std::string("\x00\x01", 2)));
  r = Send("POST", "/api/v1/web/guest/default/echo.json", "[1,2]", {{"Content-Type", "application/json"}});
  EXPECT_EQ(BodyJson(r)["__ow_body"], Base64Encode("[1,2]"));
}

TEST_F(WebActionTest, FinalParametersAndReservedKeysAreRefused) {
  PutAction("fixed", Json::object(), Exported(Json::array({{{"key", "final"}, {"value", true}}})),
            Json::array({{{"key", "limit"}, {"value", 10}}}));
  http::ClientResponse r = Send("GET", "/api/v1/web/guest/default/fixed.json?limit=99");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(BodyJson(r)["error"], kWebNotAllowedParamsText);
  r = Send("POST", "/api/v1/web/guest/default/fixed.json", R"({"limit":1})", {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 400);
  r = Send("GET", "/api/v1/web/guest/default/fixed.json?other=1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyJson(r)["limit"], 10);
  r = Send("GET", "/api/v1/web/guest/default/fixed.json?__ow_user=admin");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(BodyJson(r)["error"], kWebNotAllowedParamsText);
  // Without `final`, a request may override a parameter.
  PutAction("open", Json::object(), Exported(), Json::array({{{"key", "limit"}, {"value", 10}}}));
  r = Send("GET", "/api/v1/web/guest/default/open.json?limit=99");
  EXPECT_EQ(BodyJson(r)["limit"], "99");
}

TEST_F(WebActionTest, RequireWhiskAuthTrueWantsTheCallersKey) {
  PutAction("secure", Json::object(), Exported(Json::array({{{"key", "require-whisk-auth"}, {"value", true}}})));
  http::ClientResponse r = Send("GET", "/api/v1/web/guest/default/secure.json");
  EXPECT_EQ(r.status, 401);
  r = Send("GET", "/api/v1/web/guest/default/secure.json", "",
           {{"Authorization", "Basic " + Base64Encode(std::string(kGuestUuid) + ":" + std::string(64, 'x'))}});
  EXPECT_EQ(r.status, 401);
  r = Send("GET", "/api/v1/web/guest/default/secure.json", "",
           {{"Authorization", "Basic " + Base64Encode(guest_credential_)}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyJson(r)["__ow_user"], "guest");
}

TEST_F(WebActionTest, RequireWhiskAuthStringWantsTheHeader) {
  PutAction("secret", Json::object(), Exported(Json::array({{{"key", "require-whisk-auth"}, {"value", "s3cr3t"}}})));
  EXPECT_EQ(Send("GET", "/api/v1/web/guest/default/secret.json").status, 401);
  EXPECT_EQ(Send("GET", "/api/v1/web/guest/default/secret.json", "", {{"X-Require-Whisk-Auth", "nope"}}).status, 401);
  http::ClientResponse r =
      Send("GET", "/api/v1/web/guest/default/secret.json", "", {{"X-Require-Whisk-Auth", "s3cr3t"}});
  EXPECT_EQ(r.status, 200) << r.body;
}

// A require-jwt web action: an identity provider's key, issuer and audience.
class WebJwtTest : public WebActionTest {
 protected:
  static constexpr char kIssuer[] = "https://idp.example";
  static constexpr char kAudience[] = "wisp-web";

  static Json Claims(Json extra = Json::object()) {
    const int64_t now = Clock::System().NowMillis() / 1000;
    Json claims = {{"sub", "ana"}, {"iss", kIssuer}, {"aud", kAudience}, {"exp", now + 300}, {"_couchdb.roles", {"advocate"}}};
    claims.update(extra);
    return claims;
  }
  void PutJwtAction(const std::string& name, const std::string& key) {
    PutAction(name, Json::object(),
              Exported(Json::array({{{"key", "require-jwt"},
                                     {"value", {{"key", key}, {"issuer", kIssuer}, {"audience", kAudience}}}}})));
  }
  http::ClientResponse Call(const std::string& name, const std::string& token) {
    return Send("GET", "/api/v1/web/guest/default/" + name + ".json", "", {{"Authorization", "Bearer " + token}});
  }
  const std::string secret_ = "the identity provider's secret";
};

TEST_F(WebJwtTest, Hs256TokenFromTheIssuerForTheAudienceRunsTheAction) {
  PutJwtAction("jwt", Base64Encode(secret_));
  http::ClientResponse r = Call("jwt", testing::SignJwt(Claims(), secret_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyJson(r)["__ow_jwt"], Json({{"sub", "ana"}, {"roles", {"advocate"}}}));
}

TEST_F(WebJwtTest, Rs256TokenVerifiesWithThePublicKey) {
  testing::RsaSigner idp;
  PutJwtAction("jwt", idp.PublicKeyPem());
  http::ClientResponse r = Call("jwt", idp.Sign(Claims()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyJson(r)["__ow_jwt"]["sub"], "ana");
  testing::RsaSigner impostor;
  EXPECT_EQ(Call("jwt", impostor.Sign(Claims())).status, 401);
  // The public key is not an HMAC secret: an HS256 token made with it is refused.
  EXPECT_EQ(Call("jwt", testing::SignJwt(Claims(), idp.PublicKeyPem())).status, 401);
}

TEST_F(WebJwtTest, BadTokensAre401AndNeverRunTheAction) {
  PutJwtAction("jwt", Base64Encode(secret_));
  const std::string unsigned_token =
      testing::Base64Url(R"({"alg":"none","typ":"JWT"})") + "." + testing::Base64Url(json::Dump(Claims())) + ".";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"alg none", unsigned_token},
      {"expired", testing::SignJwt(Claims({{"exp", Clock::System().NowMillis() / 1000 - 1}}), secret_)},
      {"wrong key", testing::SignJwt(Claims(), "another secret")},
      {"wrong audience", testing::SignJwt(Claims({{"aud", "someone-else"}}), secret_)},
      {"wrong issuer", testing::SignJwt(Claims({{"iss", "https://evil.example"}}), secret_)},
      {"garbage", "not.a.token"},
  };
  for (const auto& [what, token] : cases) {
    http::ClientResponse r = Call("jwt", token);
    EXPECT_EQ(r.status, 401) << what << ": " << r.body;
    EXPECT_TRUE(r.headers.GetOr("x-openwhisk-activation-id").empty()) << what << ": the action must not run";
  }
  EXPECT_EQ(Send("GET", "/api/v1/web/guest/default/jwt.json").status, 401) << "no token";
  EXPECT_EQ(Send("GET", "/api/v1/web/guest/default/jwt.json", "",
                 {{"Authorization", "Basic " + Base64Encode(guest_credential_)}})
                .status,
            401)
      << "a whisk key is not a JWT";
}

TEST_F(WebJwtTest, AnIncompleteAnnotationKeepsTheActionClosed) {
  PutAction("halfway", Json::object(),
            Exported(Json::array({{{"key", "require-jwt"}, {"value", {{"key", Base64Encode(secret_)}}}}})));
  http::ClientResponse r = Call("halfway", testing::SignJwt(Claims(), secret_));
  EXPECT_EQ(r.status, 401) << r.body;
}

TEST_F(WebActionTest, OptionsAnswersCorsWithoutRunningTheAction) {
  PutAction("cors", {{"result", {{"body", "ran"}}}}, Exported());
  http::ClientResponse r = Send("OPTIONS", "/api/v1/web/guest/default/cors.http", "",
                                {{"Origin", "https://other.example"},
                                 {"Access-Control-Request-Method", "POST"},
                                 {"Access-Control-Request-Headers", "X-Custom"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.headers.GetOr("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(r.headers.GetOr("Access-Control-Allow-Methods"), "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH");
  EXPECT_EQ(r.headers.GetOr("Access-Control-Allow-Headers"), "X-Custom");
  EXPECT_FALSE(r.headers.Has("x-openwhisk-activation-id"));
  r = Send("PATCH", "/api/v1/web/guest/default/cors.http");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ran");
  EXPECT_EQ(r.headers.GetOr("Access-Control-Allow-Origin"), "*");
}

TEST_F(WebActionTest, WebCustomOptionsRunsTheActionForOptions) {
  PutAction("custom", {{"result", {{"statusCode", 200}, {"headers", {{"Allow", "GET"}}}}}},
            Exported(Json::array({{{"key", "web-custom-options"}, {"value", true}}})));
  http::ClientResponse r = Send("OPTIONS", "/api/v1/web/guest/default/custom.http");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.GetOr("Allow"), "GET");
  EXPECT_FALSE(r.headers.Has("Access-Control-Allow-Methods"));
  ExpectActivation(r);
}

TEST_F(WebActionTest, OnlyExportedActionsAreServed) {
  PutAction("hidden", Json::object(), Json::array());
  PutAction("off", Json::object(), Json::array({{{"key", "web-export"}, {"value", false}}}));
  for (const std::string path : {"/api/v1/web/guest/default/hidden.json", "/api/v1/web/guest/default/off.json",
                                 "/api/v1/web/guest/default/missing.json", "/api/v1/web/nobody/default/x.json",
                                 "/api/v1/web/guest/nopkg/hidden.json"}) {
    http::ClientResponse r = Send("GET", path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(BodyJson(r)["error"], kWebNotFoundText) << path;
  }
}

TEST_F(WebActionTest, ActionsInPackagesAreReachedByPackageName) {
  ASSERT_TRUE(
      controller_
          ->PutPackage(guest_, "guest", "pkg", {{"parameters", Json::array({{{"key", "p"}, {"value", 1}}})}}, false)
          .ok());
  PutAction("pkg/inside", Json::object(), Exported());
  http::ClientResponse r = Send("GET", "/api/v1/web/guest/pkg/inside.json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyJson(r)["p"], 1);
}

TEST_F(WebActionTest, ErrorsOfTheActionAreTranscodedOrHidden) {
  PutAction("apperr", {{"error", {{"statusCode", 418}, {"body", "teapot"}}}}, Exported());
  PutAction("deverr", {{"developer", true}}, Exported());
  http::ClientResponse r = Send("GET", "/api/v1/web/guest/default/apperr.http");
  EXPECT_EQ(r.status, 418);
  EXPECT_EQ(r.body, "teapot");
  r = Send("GET", "/api/v1/web/guest/default/deverr.json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(BodyJson(r)["error"], kWebActionErrorText);
  ExpectActivation(r);
}

TEST_F(WebActionTest, BadRequestsGetClearErrorsWithoutRunningTheAction) {
  PutAction("echo", Json::object(), Exported());
  http::ClientResponse r =
      Send("POST", "/api/v1/web/guest/default/echo.json", "{not json", {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(BodyJson(r)["error"].get<std::string>().rfind(kMalformedPrefix, 0), 0u) << r.body;
  r = Send("POST", "/api/v1/web/guest/default/echo.json", std::string(65 * 1024, 'x'),
           {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 413);
  EXPECT_FALSE(r.headers.Has("x-openwhisk-activation-id"));
  for (const std::string path : {"/api/v1/web/guest/default/.json", "/api/v1/web/guest/default/bad%2Fname.json",
                                 "/api/v1/web/_/default/echo.json"}) {
    EXPECT_EQ(Send("GET", path).status, 404) << path;
  }
  controller_->Drain();
  Result<Json> records = controller_->ListActivations(guest_, "guest", ActivationQuery{}, false, false);
  ASSERT_TRUE(records.ok());
  EXPECT_TRUE(records->empty()) << records->dump();
}

TEST_F(WebActionTest, SlowActionsAnswer202WithTheActivationId) {
  PutAction("slow", {{"gate", true}, {"result", {{"done", true}}}}, Exported());
  http::ClientResponse r = Send("GET", "/api/v1/web/guest/default/slow.json");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(BodyJson(r)["error"], kWebNotReadyText);
  const std::string id = r.headers.GetOr("x-openwhisk-activation-id");
  ASSERT_EQ(id.size(), 32u);
  runtime_.Open();
  controller_->Drain();
  Result<Json> record = controller_->GetActivation(guest_, "guest", id);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ((*record)["response"]["result"], Json({{"done", true}}));
}

}  // namespace
}  // namespace wisp::whisk
