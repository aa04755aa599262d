// `wisp serve` and the binary's flags, run as a user runs them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <regex>

#include "http/client.h"
#include "json/json.h"
#include "testing/jwt.h"
#include "testing/subprocess.h"
#include "util/base64.h"
#include "util/clock.h"

namespace wisp {
namespace {

using namespace std::chrono_literals;
using testing::Subprocess;

std::string TempDir() {
  char tmpl[] = "/tmp/wisp-cli-XXXXXX";
  return mkdtemp(tmpl);
}

// Reads "  OpenWhisk API  http://127.0.0.1:PORT/..." lines from the banner.
int PortFrom(const std::string& line) {
  std::smatch m;
  if (std::regex_search(line, m, std::regex(R"(://127\.0\.0\.1:(\d+))"))) return std::stoi(m[1]);
  return -1;
}

class ServeTest : public ::testing::Test {
 protected:
  static constexpr char kAdmin[] = "admin:serve-secret";

  void SetUp() override {
    data_dir_ = TempDir();
    proc_ = std::make_unique<Subprocess>(
        std::vector<std::string>{WISP_BINARY, "serve", "--data-dir", data_dir_ + "/data", "--api-port", "0",
                                 "--couch-port", "0", "--log-file", data_dir_ + "/wisp.log", "--admin",
                                 std::string(kAdmin)},
        data_dir_ + "/stderr.txt");
    ASSERT_TRUE(proc_->started());
    api_port_ = PortFrom(proc_->ReadLineContaining("OpenWhisk API", 20s));
    couch_port_ = PortFrom(proc_->ReadLineContaining("CouchDB API", 5s));
    ASSERT_GT(api_port_, 0) << proc_->output();
    ASSERT_GT(couch_port_, 0) << proc_->output();
  }

  std::string Api(const std::string& path) { return "http://127.0.0.1:" + std::to_string(api_port_) + path; }
  std::string Couch(const std::string& path) { return "http://127.0.0.1:" + std::to_string(couch_port_) + path; }

  std::string data_dir_;
  std::unique_ptr<Subprocess> proc_;
  int api_port_ = -1;
  int couch_port_ = -1;
};

TEST_F(ServeTest, PingAnswersPong) {
  auto r = http::Client().Get(Api("/ping"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "pong");
}

TEST_F(ServeTest, MetricsShowUptimeAndCountedRequests) {
  http::Client client;
  ASSERT_TRUE(client.Get(Api("/ping")).ok());
  ASSERT_TRUE(client.Get(Api("/ping")).ok());
  http::ClientRequest scrape;
  scrape.url = Api("/metrics");
  scrape.headers.Set("Authorization", "Basic " + Base64Encode(kAdmin));
  auto r = client.Send(scrape);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->headers.GetOr("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("# TYPE wisp_uptime_seconds gauge"), std::string::npos);
  EXPECT_NE(r->body.find(R"(wisp_http_requests_total{listener="api",method="GET",route="/ping",status="200"} 2)"),
            std::string::npos) << r->body;
  EXPECT_NE(r->body.find(R"(wisp_http_request_duration_seconds_bucket{listener="api",route="/ping",le="+Inf"} 2)"),
            std::string::npos) << r->body;
}

TEST_F(ServeTest, MetricsAreForTheServerAdminOnly) {
  auto anonymous = http::Client().Get(Api("/metrics"));
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 401);
  Result<Json> body = json::Parse(anonymous->body);
  ASSERT_TRUE(body.ok()) << anonymous->body;
  EXPECT_TRUE(body->contains("error") && body->contains("code")) << "OpenWhisk's error shape: " << anonymous->body;
  EXPECT_EQ(anonymous->body.find("wisp_uptime_seconds"), std::string::npos);
}

TEST_F(ServeTest, EachPortAnswersErrorsInItsEcosystemsShape) {
  http::Client client;
  http::ClientRequest req;
  req.url = Api("/api/v1/nothing");
  req.headers.Set("X-Request-ID", "cli-test-1");
  auto ow = client.Send(req);
  ASSERT_TRUE(ow.ok());
  EXPECT_EQ(ow->status, 404);
  EXPECT_EQ(ow->body, R"({"error":"The requested resource does not exist.","code":"cli-test-1"})");

  auto couch = client.Get(Couch("/_all_dbs"));  // needs the admin's credentials
  ASSERT_TRUE(couch.ok());
  EXPECT_EQ(couch->status, 401);
  EXPECT_EQ(couch->body.rfind(R"({"error":"unauthorized",)", 0), 0u) << couch->body;
  EXPECT_FALSE(couch->headers.Has("WWW-Authenticate")) << "no browser login dialog";
  auto welcome = client.Get(Couch("/"));
  ASSERT_TRUE(welcome.ok());
  EXPECT_EQ(welcome->status, 200);
  EXPECT_NE(welcome->body.find(R"("couchdb":"Welcome")"), std::string::npos);
  auto up = client.Get(Couch("/_up"));
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->status, 200);
}

TEST_F(ServeTest, ApiPortAnswersCorsLikeOpenWhisk) {
  http::ClientRequest req;
  req.method = "OPTIONS";
  req.url = Api("/ping");
  req.headers.Set("Origin", "http://somewhere.test");
  req.headers.Set("Access-Control-Request-Method", "GET");
  auto r = http::Client().Send(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->headers.GetOr("Access-Control-Allow-Origin"), "*");
}

TEST_F(ServeTest, SigtermShutsDownCleanlyAndLogsAsJson) {
  EXPECT_EQ(proc_->Signal(SIGTERM, 10s), 0);
  std::FILE* f = std::fopen((data_dir_ + "/wisp.log").c_str(), "r");
  ASSERT_NE(f, nullptr);
  char line[1024];
  int lines = 0;
  bool saw_stop = false;
  while (std::fgets(line, sizeof line, f)) {
    ++lines;
    EXPECT_EQ(line[0], '{') << line;
    if (std::string(line).find(R"("msg":"shutting down")") != std::string::npos) saw_stop = true;
  }
  std::fclose(f);
  EXPECT_GE(lines, 3);
  EXPECT_TRUE(saw_stop);
}

TEST_F(ServeTest, SigintShutsDownCleanly) { EXPECT_EQ(proc_->Signal(SIGINT, 10s), 0); }

TEST(WispBinary, VersionAndHelpWork) {
  Subprocess version({WISP_BINARY, "--version"});
  EXPECT_NE(version.ReadLineContaining("wisp ", 10s).find("wisp 0."), std::string::npos);
  EXPECT_EQ(version.Wait(10s), 0);

  Subprocess help({WISP_BINARY, "--help"});
  EXPECT_NE(help.ReadLineContaining("serve", 10s), "");
  EXPECT_EQ(help.Wait(10s), 0);
}

TEST(WispBinary, BadArgumentsExitNonZero) {
  Subprocess unknown({WISP_BINARY, "serve", "--no-such-flag"});
  EXPECT_NE(unknown.Wait(10s), 0);
  Subprocess bad_level({WISP_BINARY, "serve", "--log-level", "loud", "--api-port", "0", "--couch-port", "0"});
  EXPECT_EQ(bad_level.Wait(10s), 2);
  Subprocess half_tls({WISP_BINARY, "serve", "--tls-cert", "x.pem", "--api-port", "0", "--couch-port", "0"});
  EXPECT_EQ(half_tls.Wait(10s), 2);
  Subprocess bad_jwt_key({WISP_BINARY, "serve", "--jwt-key", "not base64!", "--api-port", "0", "--couch-port", "0"});
  EXPECT_EQ(bad_jwt_key.Wait(10s), 2);
}

TEST(WispServe, JwtKeyFlagLetsBearerTokensIn) {
  const std::string dir = TempDir();
  const std::string secret = "shared with the identity provider";
  Subprocess p({WISP_BINARY, "serve", "--data-dir", dir, "--api-port", "0", "--couch-port", "0", "--admin", "a:b",
                "--jwt-key", "idp:" + Base64Encode(secret), "--jwt-roles-claim-path", "realm.roles"});
  const int port = PortFrom(p.ReadLineContaining("CouchDB API", 20s));
  ASSERT_GT(port, 0) << p.output();
  const Json claims = {{"sub", "dee"}, {"exp", Clock::System().NowMillis() / 1000 + 60}, {"realm", {{"roles", {"r1"}}}}};
  http::ClientRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/_session";
  request.headers.Set("Authorization", "Bearer " + testing::SignJwt(claims, secret, "HS256", {{"kid", "idp"}}));
  auto session = http::Client().Send(request);
  ASSERT_TRUE(session.ok());
  ASSERT_EQ(session->status, 200) << session->body;
  Result<Json> body = json::Parse(session->body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["userCtx"]["name"], "dee");
  EXPECT_EQ((*body)["userCtx"]["roles"], Json::array({"r1"}));
  EXPECT_EQ(p.Signal(SIGTERM, 10s), 0);
}

TEST(WispBinary, PortInUseExitsWithAClearError) {
  const std::string dir = TempDir();
  Subprocess first({WISP_BINARY, "serve", "--data-dir", dir + "/a", "--api-port", "0", "--couch-port", "0"});
  const int port = PortFrom(first.ReadLineContaining("OpenWhisk API", 20s));
  ASSERT_GT(port, 0);
  Subprocess second({WISP_BINARY, "serve", "--data-dir", dir + "/b", "--api-port", std::to_string(port),
                     "--couch-port", "0"},
                    dir + "/second.err");
  EXPECT_EQ(second.Wait(10s), 1);
}

}  // namespace
}  // namespace wisp

namespace wisp {
namespace {

// Starts `wisp serve` on DIR without --admin and returns the banner's admin
// line and the CouchDB port.
std::pair<std::string, int> StartWithoutAdmin(Subprocess& p) {
  const int couch = PortFrom(p.ReadLineContaining("CouchDB API", 20s));
  // "  CouchDB admin  NAME:PASSWORD (where it came from)": keep NAME:PASSWORD.
  const std::string line = p.ReadLineContaining("CouchDB admin", 5s);
  std::smatch m;
  std::string admin = std::regex_search(line, m, std::regex(R"(CouchDB admin\s+(\S+:\S+))")) ? std::string(m[1]) : line;
  return {admin, couch};
}

TEST(WispServe, GeneratesTheAdminOnceAndKeepsTheServerUuid) {
  const std::string dir = TempDir();
  std::string first_admin, first_uuid;
  {
    Subprocess p({WISP_BINARY, "serve", "--data-dir", dir, "--api-port", "0", "--couch-port", "0"});
    auto [admin, port] = StartWithoutAdmin(p);
    ASSERT_GT(port, 0);
    ASSERT_NE(admin.find("admin:"), std::string::npos) << admin;
    first_admin = admin;
    auto welcome = http::Client().Get("http://127.0.0.1:" + std::to_string(port) + "/");
    ASSERT_TRUE(welcome.ok());
    std::smatch m;
    ASSERT_TRUE(std::regex_search(welcome->body, m, std::regex(R"re("uuid":"([0-9a-f]{32})")re"))) << welcome->body;
    first_uuid = m[1];
    EXPECT_EQ(p.Signal(SIGTERM, 10s), 0);
  }
  struct stat st {};
  ASSERT_EQ(stat((dir + "/admin.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the password file is readable by its owner only";

  Subprocess again({WISP_BINARY, "serve", "--data-dir", dir, "--api-port", "0", "--couch-port", "0"});
  auto [admin, port] = StartWithoutAdmin(again);
  EXPECT_EQ(admin, first_admin) << "the same generated password after a restart";
  auto welcome = http::Client().Get("http://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_TRUE(welcome.ok());
  EXPECT_NE(welcome->body.find(first_uuid), std::string::npos) << "PouchDB's replication ids depend on the uuid";
}

}  // namespace
}  // namespace wisp
