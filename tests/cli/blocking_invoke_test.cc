// Blocking invokes as `wisp serve` answers them: waiting invokes hold no
// HTTP worker thread, so a server with fewer workers than waiting invokes
// still answers everything else at once (an action that invokes actions
// through the REST API relies on this), and every waiting invoke gets its
// activation's result once it ends.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "cli/serve_command.h"
#include "http/client.h"
#include "json/json.h"
#include "testing/serve_options.h"
#include "testing/temp_dir.h"
#include "util/base64.h"
#include "util/log.h"
#include "whisk/identity.h"

namespace wisp::cli {
namespace {

using namespace std::chrono_literals;

constexpr char kAdmin[] = "admin:blocking-admin";
constexpr char kGuestBase[] = "/api/v1/namespaces/guest";
constexpr int kWorkers = 2;
constexpr int kWaitingInvokes = 8;

class BlockingInvokeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(testing::SilenceLogs().ok());
  }

  void TearDown() override {
    Release();  // whatever failed, the actions end, their callers return, and the server can stop
    for (auto& caller : callers_) {
      if (caller.joinable()) caller.join();
    }
    if (server_) server_->Stop();
  }

  void Start(const std::function<void(ServeOptions&)>& configure = {}) {
    ServeOptions o = testing::LoopbackServeOptions(dir_.path() + "/data", kAdmin);
    o.dev = true;  // the well-known guest key
    // The gate files live in this test's directory, which a sandboxed action
    // cannot see.
    o.sandbox = "off";
    if (configure) configure(o);
    Result<std::unique_ptr<WispServer>> server = WispServer::Start(o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  // A call as the guest on the OpenWhisk port, giving up after `timeout`.
  // `path` is under the guest's namespace unless it starts with /api.
  Result<http::ClientResponse> Whisk(const std::string& method, const std::string& path, const std::string& body = "",
                                     std::chrono::milliseconds timeout = 30s) {
    http::ClientRequest request;
    request.method = method;
    request.url = server_->api_url() + (path.starts_with("/api/") ? "" : kGuestBase) + path;
    request.headers.Set("Authorization", "Basic " + Base64Encode(std::string(whisk::kDevGuestCredential)));
    if (!body.empty()) {
      request.headers.Set("Content-Type", "application/json");
      request.body = body;
    }
    request.timeout = timeout;
    return http::Client().Send(request);
  }

  // A native action that marks that it started (`started.N` for its
  // parameter n), waits until the test creates `release`, then answers {"n": N}.
  void PutGatedAction(const std::string& name, const Json& annotations = Json::array()) {
    const std::string gate = dir_.path();
    const std::string script =
        "#!/bin/sh\nwhile read -r line; do\n"
        "  n=$(echo \"$line\" | sed -n 's/.*\"n\":\\([0-9]*\\).*/\\1/p')\n"
        "  : > " + gate + "/started.$n\n"
        "  while [ ! -e " + gate + "/release ]; do sleep 0.01; done\n"
        "  echo \"{\\\"n\\\":$n}\" >&3\n"
        "done\n";
    Result<http::ClientResponse> put =
        Whisk("PUT", "/actions/" + name,
              json::Dump(Json{{"exec", {{"kind", "native"}, {"code", script}}}, {"annotations", annotations}}));
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    ASSERT_EQ(put->status, 200) << put->body;
  }

  int Started() const {
    int count = 0;
    for (int n = 0; n < kWaitingInvokes; ++n) count += std::filesystem::exists(StartedFile(n)) ? 1 : 0;
    return count;
  }
  std::string StartedFile(int n) const { return dir_.path() + "/started." + std::to_string(n); }

  // Polls Started() until every gated activation runs, for up to `deadline`.
  bool WaitForAllStarted(std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (Started() < kWaitingInvokes) {
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(10ms);  // a poll interval, not a wait for an event
    }
    return true;
  }

  void Release() { std::ofstream(dir_.path() + "/release") << "go\n"; }

  testing::TempDir dir_;
  std::unique_ptr<WispServer> server_;
  // The callers of the waiting invokes and their replies, joined in TearDown()
  // whatever the test did.
  std::vector<std::thread> callers_;
  std::vector<Result<http::ClientResponse>> replies_ =
      std::vector<Result<http::ClientResponse>>(kWaitingInvokes, Status::Unavailable("not answered"));
};

TEST_F(BlockingInvokeTest, WaitingInvokesHoldNoWorkerThread) {
  Start([](ServeOptions& o) { o.worker_threads = kWorkers; });
  PutGatedAction("gated");

  for (int n = 0; n < kWaitingInvokes; ++n) {
    callers_.emplace_back([this, n] {
      replies_[n] = Whisk("POST", "/actions/gated?blocking=true&result=true", json::Dump(Json{{"n", n}}));
    });
  }

  // More invokes wait than the server has workers, and every one of them
  // has reached its action: none is queued behind another's wait.
  EXPECT_TRUE(WaitForAllStarted(10s)) << Started() << " of " << kWaitingInvokes << " activations started";
  // Meanwhile the server answers other requests at once.
  const auto asked = std::chrono::steady_clock::now();
  Result<http::ClientResponse> list = Whisk("GET", "/actions", "", 5s);
  ASSERT_TRUE(list.ok()) << "GET /actions while " << kWaitingInvokes
                         << " blocking invokes wait: " << list.status().ToString();
  EXPECT_EQ(list->status, 200) << list->body;
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 2s);

  Release();
  for (auto& caller : callers_) caller.join();
  for (int n = 0; n < kWaitingInvokes; ++n) {
    ASSERT_TRUE(replies_[n].ok()) << "invoke " << n << ": " << replies_[n].status().ToString();
    EXPECT_EQ(replies_[n]->status, 200) << replies_[n]->body;
    EXPECT_EQ(json::Parse(replies_[n]->body).value_or(Json()), Json({{"n", n}})) << replies_[n]->body;
    EXPECT_FALSE(replies_[n]->headers.GetOr("x-openwhisk-activation-id").empty());
  }
}

TEST_F(BlockingInvokeTest, WaitingWebActionsHoldNoWorkerThread) {
  Start([](ServeOptions& o) { o.worker_threads = kWorkers; });
  PutGatedAction("gatedweb", Json::array({{{"key", "web-export"}, {"value", true}}}));

  for (int n = 0; n < kWaitingInvokes; ++n) {
    callers_.emplace_back([this, n] {
      replies_[n] = Whisk("POST", "/api/v1/web/guest/default/gatedweb.json", json::Dump(Json{{"n", n}}));
    });
  }
  EXPECT_TRUE(WaitForAllStarted(10s)) << Started() << " of " << kWaitingInvokes << " activations started";
  const auto asked = std::chrono::steady_clock::now();
  Result<http::ClientResponse> list = Whisk("GET", "/actions", "", 5s);
  ASSERT_TRUE(list.ok()) << "GET /actions while " << kWaitingInvokes
                         << " web actions wait: " << list.status().ToString();
  EXPECT_EQ(list->status, 200) << list->body;
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 2s);

  Release();
  for (auto& caller : callers_) caller.join();
  for (int n = 0; n < kWaitingInvokes; ++n) {
    ASSERT_TRUE(replies_[n].ok()) << "web action " << n << ": " << replies_[n].status().ToString();
    EXPECT_EQ(replies_[n]->status, 200) << replies_[n]->body;
    EXPECT_EQ(json::Parse(replies_[n]->body).value_or(Json()), Json({{"n", n}})) << replies_[n]->body;
    EXPECT_EQ(replies_[n]->headers.GetOr("Access-Control-Allow-Origin"), "*");
    EXPECT_FALSE(replies_[n]->headers.GetOr("x-openwhisk-activation-id").empty());
  }
}

}  // namespace
}  // namespace wisp::cli
