#include "http/cors.h"

#include <gtest/gtest.h>

namespace wisp::http {
namespace {

Request Preflight(const std::string& origin, const std::string& headers = "") {
  Request r;
  r.method = Method::kOptions;
  r.headers.Set("Origin", origin);
  r.headers.Set("Access-Control-Request-Method", "PUT");
  if (!headers.empty()) r.headers.Set("Access-Control-Request-Headers", headers);
  return r;
}

CorsPolicy CouchStyle() {
  CorsPolicy p;
  p.enabled = true;
  p.origins = {"http://app.example:8080"};
  p.credentials = true;
  return p;
}

TEST(Cors, PreflightWithCredentialsEchoesTheExactOrigin) {
  Response r = CouchStyle().Preflight(Preflight("http://app.example:8080", "Content-Type, Authorization"));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.headers.GetOr("Access-Control-Allow-Origin"), "http://app.example:8080");
  EXPECT_EQ(r.headers.GetOr("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(r.headers.GetOr("Access-Control-Allow-Headers"), "Content-Type, Authorization");
  EXPECT_EQ(r.headers.GetOr("Vary"), "Origin");
  EXPECT_FALSE(r.headers.GetOr("Access-Control-Allow-Methods").empty());
}

TEST(Cors, WildcardWithCredentialsStillEchoesOrigin) {
  CorsPolicy p = CouchStyle();
  p.origins = {"*"};
  Response r = p.Preflight(Preflight("http://anywhere.test"));
  EXPECT_EQ(r.headers.GetOr("Access-Control-Allow-Origin"), "http://anywhere.test");
}

TEST(Cors, WildcardWithoutCredentialsAnswersStar) {
  CorsPolicy p;
  p.enabled = true;
  Response r = p.Preflight(Preflight("http://anywhere.test"));
  EXPECT_EQ(r.headers.GetOr("Access-Control-Allow-Origin"), "*");
  EXPECT_FALSE(r.headers.Has("Access-Control-Allow-Credentials"));
}

TEST(Cors, UnknownOriginGetsNoGrant) {
  Response r = CouchStyle().Preflight(Preflight("http://evil.test"));
  EXPECT_EQ(r.status, 204);
  EXPECT_FALSE(r.headers.Has("Access-Control-Allow-Origin"));
}

TEST(Cors, UnlistedRequestHeaderGetsNoGrant) {
  Response r = CouchStyle().Preflight(Preflight("http://app.example:8080", "content-type, x-secret"));
  EXPECT_FALSE(r.headers.Has("Access-Control-Allow-Origin"));
}

TEST(Cors, DisabledPolicyRecognisesNoPreflight) {
  CorsPolicy p;
  EXPECT_FALSE(p.IsPreflight(Preflight("http://a.test")));
  EXPECT_TRUE(CouchStyle().IsPreflight(Preflight("http://a.test")));
}

TEST(Cors, DecorateAddsOriginCredentialsAndExposedHeaders) {
  Request req;
  req.headers.Set("Origin", "http://app.example:8080");
  Response res = Response::Json(200, "{}");
  CouchStyle().Decorate(req, res);
  EXPECT_EQ(res.headers.GetOr("Access-Control-Allow-Origin"), "http://app.example:8080");
  EXPECT_EQ(res.headers.GetOr("Access-Control-Allow-Credentials"), "true");
  EXPECT_TRUE(res.headers.Has("Access-Control-Expose-Headers"));
}

TEST(Cors, DecorateLeavesRequestsWithoutOriginAlone) {
  Request req;
  Response res = Response::Json(200, "{}");
  CouchStyle().Decorate(req, res);
  EXPECT_FALSE(res.headers.Has("Access-Control-Allow-Origin"));
}

}  // namespace
}  // namespace wisp::http
