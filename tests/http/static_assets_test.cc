#include "http/static_assets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "http/mount.h"
#include "testing/temp_dir.h"

namespace wisp::http {
namespace {

const EmbeddedAsset kApp[] = {
    {"index.html", "<!doctype html><title>app</title>"},
    {"app/main.js", "console.log('hi')"},
    {"app/style.css", "body{}"},
};

// Routes a GET through `router` as the server would, after splitting the path.
Response Get(const Router& router, std::vector<std::string> segments, std::string accept = "*/*",
             std::string if_none_match = "") {
  Request request;
  request.method = Method::kGet;
  request.segments = std::move(segments);
  request.headers.Set("Accept", accept);
  if (!if_none_match.empty()) request.headers.Set("If-None-Match", if_none_match);
  RouteMatch match = router.Match(Method::kGet, request.segments);
  if (!match.route) return Response::Text(599, "no route");
  request.params = match.params;
  return match.route->handler(request);
}

class StaticAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StaticRouteOptions options;
    options.reserved_prefixes = {"api"};
    options.not_found = [](Request&) { return Response::Json(404, R"({"error":"api 404"})"); };
    AddStaticRoutes(router_, StaticAssets::Embedded(kApp), options);
  }
  Router router_;
};

TEST_F(StaticAssetsTest, ServesAFileWithItsTypeValidatorAndCachePolicy) {
  Response r = Get(router_, {"app", "main.js"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "console.log('hi')");
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(r.headers.GetOr("Cache-Control"), "no-cache");
  EXPECT_EQ(r.headers.GetOr("X-Content-Type-Options"), "nosniff");
  EXPECT_FALSE(r.headers.GetOr("ETag").empty());
  EXPECT_EQ(Get(router_, {"app", "style.css"}).headers.GetOr("Content-Type"), "text/css; charset=utf-8");
}

TEST_F(StaticAssetsTest, RootIsIndexHtml) {
  Response r = Get(router_, {});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<!doctype html><title>app</title>");
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "text/html; charset=utf-8");
}

TEST_F(StaticAssetsTest, MatchingIfNoneMatchGets304WithoutBody) {
  const std::string etag = Get(router_, {"app", "main.js"}).headers.GetOr("ETag");
  Response r = Get(router_, {"app", "main.js"}, "*/*", etag);
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.headers.GetOr("ETag"), etag);
  EXPECT_EQ(Get(router_, {"app", "main.js"}, "*/*", "\"other\", W/" + etag).status, 304);
  EXPECT_EQ(Get(router_, {"app", "main.js"}, "*/*", "\"other\"").status, 200);
}

TEST_F(StaticAssetsTest, DifferentContentGetsADifferentEtag) {
  EXPECT_NE(Get(router_, {"app", "main.js"}).headers.GetOr("ETag"),
            Get(router_, {"app", "style.css"}).headers.GetOr("ETag"));
}

TEST_F(StaticAssetsTest, NavigationToAClientRouteGetsIndexHtml) {
  Response r = Get(router_, {"question", "42"}, "text/html,application/xhtml+xml");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<!doctype html><title>app</title>");
}

TEST_F(StaticAssetsTest, MissingFilesAndNonNavigationsAre404) {
  EXPECT_EQ(Get(router_, {"app", "missing.js"}, "text/html").status, 404);  // has an extension
  EXPECT_EQ(Get(router_, {"question", "42"}, "application/json").status, 404);
}

TEST_F(StaticAssetsTest, ReservedPrefixesKeepTheirApisNotFound) {
  Response r = Get(router_, {"api", "v2", "nothing"}, "text/html");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"api 404"})");
}

TEST(StaticAssetPathTest, RefusesEverySegmentThatCouldLeaveTheRoot) {
  EXPECT_TRUE(IsSafeAssetPath({"app", "main.js"}));
  EXPECT_TRUE(IsSafeAssetPath({}));
  EXPECT_FALSE(IsSafeAssetPath({".."}));
  EXPECT_FALSE(IsSafeAssetPath({"app", "..", "..", "etc", "passwd"}));
  EXPECT_FALSE(IsSafeAssetPath({"."}));
  EXPECT_FALSE(IsSafeAssetPath({"app", ""}));
  EXPECT_FALSE(IsSafeAssetPath({".git", "config"}));
  EXPECT_FALSE(IsSafeAssetPath({"a/../../b"}));  // a decoded %2F
  EXPECT_FALSE(IsSafeAssetPath({"..\\windows"}));
  EXPECT_FALSE(IsSafeAssetPath({std::string("a\0b", 3)}));
}

TEST(StaticAssetDirectoryTest, ServesFilesUnderTheRootAndNothingOutside) {
  testing::TempDir dir;
  const std::filesystem::path root = std::filesystem::path(dir.path()) / "web";
  std::filesystem::create_directories(root / "app");
  std::ofstream(root / "index.html") << "dev index";
  std::ofstream(root / "app" / "main.js") << "v1";
  std::ofstream(std::filesystem::path(dir.path()) / "secret.txt") << "do not serve";
  Router router;
  AddStaticRoutes(router, StaticAssets::Directory(root.string()));

  EXPECT_EQ(Get(router, {"app", "main.js"}).body, "v1");
  std::ofstream(root / "app" / "main.js") << "v2, edited";  // read again on each request
  EXPECT_EQ(Get(router, {"app", "main.js"}).body, "v2, edited");
  for (const auto& path : std::vector<std::vector<std::string>>{
           {"..", "secret.txt"}, {"app", "..", "..", "secret.txt"}, {"app/../../secret.txt"}, {"app"}}) {
    Response r = Get(router, path, "application/json");
    EXPECT_EQ(r.status, 404) << path.front();
    EXPECT_EQ(r.body.find("do not serve"), std::string::npos);
  }
}

TEST(ContentTypeTest, KnownExtensionsAndAFallback) {
  EXPECT_EQ(ContentTypeForPath("a/b.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeForPath("manifest.webmanifest"), "application/manifest+json");
  EXPECT_EQ(ContentTypeForPath("data.bin"), "application/octet-stream");
}

// --- MountRouter ---

class MountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto inner = std::make_shared<Router>();
    inner->Get("/", [](Request& r) { return Response::Text(200, "root " + r.path); });
    inner->Get("/{db}", [](Request& r) { return Response::Text(200, "db " + r.Param("db") + " " + r.target); });
    inner->Put("/{db}/{doc}", [](Request& r) { return Response::Text(201, r.Param("db") + "/" + r.Param("doc")); });
    MountRouter(outer_, "/db", inner, [](int status, std::string_view message, const Request&) {
      return Response::Json(status, "{\"inner\":\"" + std::string(message) + "\"}");
    });
  }

  Response Call(Method method, std::string path, std::vector<std::string> segments) {
    Request request;
    request.method = method;
    request.path = path;
    request.target = path;
    request.segments = std::move(segments);
    RouteMatch match = outer_.Match(method, request.segments);
    if (!match.route) return Response::Text(599, "no outer route");
    request.params = match.params;
    return match.route->handler(request);
  }

  Router outer_;
};

TEST_F(MountTest, RequestsUnderThePrefixReachTheInnerRouterWithoutIt) {
  EXPECT_EQ(Call(Method::kGet, "/db", {"db"}).body, "root /");
  EXPECT_EQ(Call(Method::kGet, "/db/questions?limit=1", {"db", "questions"}).body, "db questions /questions?limit=1");
  Response put = Call(Method::kPut, "/db/questions/42", {"db", "questions", "42"});
  EXPECT_EQ(put.status, 201);
  EXPECT_EQ(put.body, "questions/42");
}

TEST_F(MountTest, UnroutedPathsGetTheInnerErrorShape) {
  Response missing = Call(Method::kGet, "/db/a/b/c", {"db", "a", "b", "c"});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"inner":"not found"})");
  Response wrong = Call(Method::kDelete, "/db/questions/42", {"db", "questions", "42"});
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.headers.GetOr("Allow"), "PUT");
}

}  // namespace
}  // namespace wisp::http
