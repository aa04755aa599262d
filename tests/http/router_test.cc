#include "http/router.h"

#include <gtest/gtest.h>

namespace wisp::http {
namespace {

Handler Named(std::string name) {
  return [name](Request&) { return Response::Text(200, name); };
}

std::string Served(const RouteMatch& m) {
  if (!m.route) return "<none>";
  Request r;
  return m.route->handler(r).body;
}

std::vector<std::string> Segs(std::initializer_list<const char*> s) { return {s.begin(), s.end()}; }

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Get("/", Named("welcome"));
    router_.Get("/_all_dbs", Named("all_dbs"));
    router_.Get("/{db}", Named("db_info"));
    router_.Put("/{db}", Named("db_create"));
    router_.Get("/{db}/_design/{ddoc}", Named("ddoc"));
    router_.Get("/{db}/{docid}", Named("doc"));
    router_.Get("/{db}/{docid}/{attachment...}", Named("attachment"));
  }
  Router router_;
};

TEST_F(RouterTest, LiteralSegmentWinsOverParameter) {
  EXPECT_EQ(Served(router_.Match(Method::kGet, Segs({"_all_dbs"}))), "all_dbs");
  EXPECT_EQ(Served(router_.Match(Method::kGet, Segs({"mydb"}))), "db_info");
}

TEST_F(RouterTest, RootMatchesEmptySegmentList) {
  EXPECT_EQ(Served(router_.Match(Method::kGet, {})), "welcome");
}

TEST_F(RouterTest, CapturesParametersByName) {
  RouteMatch m = router_.Match(Method::kGet, Segs({"mydb", "doc1"}));
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("db"), "mydb");
  EXPECT_EQ(m.params.at("docid"), "doc1");
  EXPECT_EQ(m.route->pattern, "/{db}/{docid}");
}

TEST_F(RouterTest, DecodedSlashStaysInsideItsParameter) {
  // "/a%2Fb/doc" arrives as segments {"a/b", "doc"}.
  RouteMatch m = router_.Match(Method::kGet, Segs({"a/b", "doc"}));
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("db"), "a/b");
}

TEST_F(RouterTest, BacktracksFromLiteralBranchThatDoesNotMatch) {
  // "_design" is a literal child of /{db}, but "/db/_design" alone has no
  // route there; it must fall back to /{db}/{docid}.
  RouteMatch m = router_.Match(Method::kGet, Segs({"db", "_design"}));
  EXPECT_EQ(Served(m), "doc");
  EXPECT_EQ(Served(router_.Match(Method::kGet, Segs({"db", "_design", "d"}))), "ddoc");
}

TEST_F(RouterTest, RestParameterJoinsRemainingSegments) {
  RouteMatch m = router_.Match(Method::kGet, Segs({"db", "doc", "dir", "file.txt"}));
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("attachment"), "dir/file.txt");
  // Deeper design paths fall through to the attachment route.
  EXPECT_EQ(Served(router_.Match(Method::kGet, Segs({"db", "_design", "d", "x"}))), "attachment");
}

TEST_F(RouterTest, EmptySegmentDoesNotBindAParameter) {
  EXPECT_EQ(router_.Match(Method::kGet, Segs({"db", "", "doc"})).route, nullptr);
}

TEST_F(RouterTest, HeadFallsBackToGet) {
  EXPECT_EQ(Served(router_.Match(Method::kHead, Segs({"db", "doc"}))), "doc");
}

TEST_F(RouterTest, WrongMethodReportsAllowedMethods) {
  RouteMatch m = router_.Match(Method::kDelete, Segs({"db"}));
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allowed, (std::vector<Method>{Method::kGet, Method::kHead, Method::kPut}));
}

TEST_F(RouterTest, UnknownPathMatchesNothingAndAllowsNothing) {
  RouteMatch m = router_.Match(Method::kGet, Segs({"db", "doc", "", "x"}));
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.allowed.empty());
}

TEST_F(RouterTest, TrailingSlashFallsBackToThePathWithout) {
  // PouchDB 9 asks for "/db/" when it means the database.
  EXPECT_EQ(Served(router_.Match(Method::kGet, Segs({"db", ""}))), "db_info");
  EXPECT_EQ(Served(router_.Match(Method::kPut, Segs({"db", ""}))), "db_create");
  EXPECT_EQ(Served(router_.Match(Method::kGet, Segs({"db", "doc", ""}))), "doc");
}

TEST(Router, ExplicitHeadRouteWinsOverGet) {
  Router r;
  r.Get("/x", Named("get"));
  r.Head("/x", Named("head"));
  EXPECT_EQ(Served(r.Match(Method::kHead, Segs({"x"}))), "head");
}

TEST(Router, RejectsDuplicateAndMalformedPatterns) {
  Router r;
  EXPECT_TRUE(r.Add(Method::kGet, "/a/{b}", Named("1")).ok());
  EXPECT_TRUE(r.Add(Method::kGet, "/a/{b}", Named("2")).IsInvalidArgument());
  EXPECT_TRUE(r.Add(Method::kGet, "/a/{c}/d", Named("3")).IsInvalidArgument()) << "conflicting names";
  EXPECT_TRUE(r.Add(Method::kGet, "no-slash", Named("4")).IsInvalidArgument());
  EXPECT_TRUE(r.Add(Method::kGet, "/x/{rest...}/y", Named("5")).IsInvalidArgument());
}

TEST(Router, ListsRoutesWithDenseIds) {
  Router r;
  r.Get("/a", Named("a"));
  r.Post("/b", Named("b"));
  auto routes = r.routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0]->id, 0u);
  EXPECT_EQ(routes[1]->id, 1u);
  EXPECT_EQ(routes[1]->method, Method::kPost);
}

}  // namespace
}  // namespace wisp::http
