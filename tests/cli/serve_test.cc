// `wisp serve` and the binary's flags, run as a user runs them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
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

// What `wisp serve` wrote to its log file so far.
std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The guest's OpenWhisk API call, with its Basic credentials from the data directory.
Result<http::ClientResponse> GuestCall(const std::string& data_dir, const std::string& method, const std::string& url,
                                       const Json& body = Json()) {
  Result<Json> keys = json::ParseObject(ReadWholeFile(data_dir + "/whisk_auth.json"));
  if (!keys.ok()) return keys.status();
  http::ClientRequest request;
  request.method = method;
  request.url = url;
  request.headers.Set("Authorization", "Basic " + Base64Encode(json::GetString(*keys, "guest")));
  if (!body.is_null()) {
    request.headers.Set("Content-Type", "application/json");
    request.body = body.dump();
  }
  return http::Client().Send(request);
}

TEST_F(ServeTest, ANativeActionCannotReadTheStoresFiles) {
  if (ReadWholeFile(data_dir_ + "/wisp.log").find("actions run in a bubblewrap sandbox") == std::string::npos) {
    GTEST_SKIP() << "no sandbox here: " << ReadWholeFile(data_dir_ + "/wisp.log");
  }
  const std::string data = data_dir_ + "/data";
  const std::string script =
      "#!/bin/sh\nwhile read -r line; do\n"
      "  if cat " + data + "/dbs/*.sqlite " + data + "/whisk_auth.json >/dev/null 2>&1; then r=read; else r=failed; fi\n"
      "  if ls " + data + " 2>/dev/null | grep -q -e dbs -e whisk_auth; then l=listed; else l=failed; fi\n"
      "  echo \"{\\\"read\\\":\\\"$r\\\",\\\"list\\\":\\\"$l\\\"}\" >&3\ndone\n";
  auto put = GuestCall(data, "PUT", Api("/api/v1/namespaces/_/actions/snoop"),
                       Json{{"exec", {{"kind", "native"}, {"code", script}}}});
  ASSERT_TRUE(put.ok() && put->status == 200) << (put.ok() ? put->body : put.status().ToString());
  auto run = GuestCall(data, "POST", Api("/api/v1/namespaces/_/actions/snoop?blocking=true&result=true"), Json::object());
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->status, 200) << run->body;
  EXPECT_EQ(json::Parse(run->body).value(), Json({{"read", "failed"}, {"list", "failed"}}));
}

TEST_F(ServeTest, SecretParametersStayOutOfAnswersRecordsAndTheLog) {
  const std::string data = data_dir_ + "/data";
  const std::string secret = "https://hooks.slack.com/services/T1/B2/n0t-f0r-y0ur-3y3s";
  // A shell action that prints its parameters and fails with them.
  const std::string script =
      "#!/bin/sh\nwhile read -r line; do echo \"got $line\"; echo \"{\\\"error\\\":$line}\" >&3; done\n";
  auto package = GuestCall(data, "PUT", Api("/api/v1/namespaces/_/packages/so"),
                           Json{{"parameters", Json::array({{{"key", "slackURL"}, {"value", secret}}})}});
  ASSERT_TRUE(package.ok() && package->status == 200) << (package.ok() ? package->body : package.status().ToString());
  auto put = GuestCall(data, "PUT", Api("/api/v1/namespaces/_/actions/so/echo"),
                       Json{{"exec", {{"kind", "native"}, {"code", script}}}});
  ASSERT_TRUE(put.ok() && put->status == 200) << (put.ok() ? put->body : put.status().ToString());
  auto run = GuestCall(data, "POST", Api("/api/v1/namespaces/_/actions/so/echo?blocking=true"), Json::object());
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, 502) << run->body;
  const std::string id = json::GetString(json::Parse(run->body).value(), "activationId");
  ASSERT_FALSE(id.empty()) << run->body;
  std::string seen = package->body + put->body + run->body;
  for (const std::string& path : std::vector<std::string>{"/api/v1/namespaces/_/packages/so", "/api/v1/namespaces/_/actions/so/echo",
                                 "/api/v1/namespaces/_/activations/" + id, "/api/v1/namespaces/_/activations/" + id + "/logs",
                                 "/api/v1/namespaces/_/activations?docs=true"}) {
    auto got = GuestCall(data, "GET", Api(path));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->status, 200) << path << ": " << got->body;
    seen += got->body;
  }
  EXPECT_NE(seen.find("********"), std::string::npos) << seen;
  EXPECT_EQ(seen.find(secret), std::string::npos) << seen;
  EXPECT_EQ(ReadWholeFile(data_dir_ + "/wisp.log").find(secret), std::string::npos);
}

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

// Started from a terminal, `wisp serve` logs text lines, so the banner and
// its APIHOST= and AUTH= lines stand out; to a file or a pipe it logs JSON.
TEST(WispServe, LogsTextOnATerminalAndJsonElsewhere) {
  const std::string dir = TempDir();
  Subprocess tty({WISP_BINARY, "serve", "--data-dir", dir + "/tty", "--api-port", "0", "--couch-port", "0"},
                 Subprocess::OnTerminal{});
  ASSERT_TRUE(tty.started());
  ASSERT_NE(tty.ReadLineContaining("AUTH=", 30s), "") << tty.output();
  EXPECT_EQ(tty.output().find("{\"ts\":"), std::string::npos) << tty.output();
  EXPECT_TRUE(std::regex_search(tty.output(), std::regex(R"(Z INFO +http listening )"))) << tty.output();
  EXPECT_EQ(tty.Signal(SIGINT, 10s), 0);

  Subprocess piped({WISP_BINARY, "serve", "--data-dir", dir + "/piped", "--api-port", "0", "--couch-port", "0"},
                   dir + "/stderr.txt");
  ASSERT_NE(piped.ReadLineContaining("AUTH=", 30s), "");
  EXPECT_EQ(piped.Signal(SIGINT, 10s), 0);
  const std::string log = ReadWholeFile(dir + "/stderr.txt");
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.rfind("{\"ts\":", 0), 0u) << log;
}

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

TEST(WispServe, KeyFilesArePrivate) {
  const std::string dir = TempDir();
  // An admin file copied in readable by everyone, as an older wisp or a
  // careless copy would leave it.
  {
    std::ofstream(dir + "/admin.json") << R"({"name":"admin","password":"copied-in-secret"})" << "\n";
  }
  ASSERT_EQ(chmod((dir + "/admin.json").c_str(), 0644), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  Subprocess p({WISP_BINARY, "serve", "--data-dir", dir, "--api-port", "0", "--couch-port", "0"});
  auto [admin, port] = StartWithoutAdmin(p);
  ASSERT_GT(port, 0);
  EXPECT_EQ(admin, "admin:copied-in-secret");
  for (const char* file : {"/admin.json", "/whisk_auth.json"}) {
    struct stat st {};
    ASSERT_EQ(stat((dir + file).c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file << " holds keys";
  }
  struct stat st {};
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << "the data directory is wisp's user's only";
  EXPECT_EQ(p.Signal(SIGTERM, 10s), 0);
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
