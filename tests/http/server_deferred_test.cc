// Deferred responses (http/message.h DeferredResponse): a handler that
// answers later, from another thread, without holding its worker.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "http/client.h"
#include "http/server.h"
#include "testing/http_test_server.h"
#include "testing/raw_socket.h"

namespace wisp::http {
namespace {

using namespace std::chrono_literals;
using testing::RawConnection;
using testing::TestServer;

// A route `/later` whose handler returns a deferred response and parks its
// completer here, for the test to complete (or drop) from its own thread.
class Parked {
 public:
  void Put(std::shared_ptr<DeferredResponse> deferred) {
    std::lock_guard lock(mu_);
    parked_.push_back(std::move(deferred));
    arrived_.notify_all();
  }
  // The `n`th parked response (from 0), once its handler has run; null after `deadline`.
  std::shared_ptr<DeferredResponse> Get(size_t n, std::chrono::milliseconds deadline = 10s) {
    std::unique_lock lock(mu_);
    if (!arrived_.wait_for(lock, deadline, [&] { return parked_.size() > n; })) return nullptr;
    return parked_[n];
  }
  void Clear() {
    std::lock_guard lock(mu_);
    parked_.clear();
  }

 private:
  std::mutex mu_;
  std::condition_variable arrived_;
  std::vector<std::shared_ptr<DeferredResponse>> parked_;
};

ListenerOptions Listener(Parked& parked) {
  auto router = std::make_shared<Router>();
  router->Get("/later", [&parked](Request&) {
    auto [response, deferred] = Response::Deferred();
    parked.Put(deferred);
    return response;
  });
  router->Get("/now/{n}", [](Request& r) { return Response::Text(200, "now " + r.Param("n")); });
  ListenerOptions o;
  o.name = "test";
  o.router = router;
  o.render_error = [](int status, std::string_view message, const Request&) {
    return Response::Json(status, "{\"error\":\"custom\",\"reason\":\"" + std::string(message) + "\"}");
  };
  return o;
}

// One worker: a waiting response that held it would stall every other request.
ServerOptions OneWorker() {
  ServerOptions o = TestServer::DefaultServerOptions();
  o.worker_threads = 1;
  return o;
}

// Polls `condition` until it holds or 10 s pass.
bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);  // a poll interval, not a wait for an event
  }
  return true;
}

TEST(DeferredResponse, CompletedFromAnotherThreadArrivesWithTheServersHeaders) {
  Parked parked;
  ListenerOptions o = Listener(parked);
  o.cors.enabled = true;
  TestServer server(std::move(o), OneWorker());

  auto waiting = std::async(std::launch::async, [&] {
    ClientRequest request;
    request.url = server.base_url() + "/later";
    request.headers.Set("X-Request-ID", "deferred-1");
    request.headers.Set("Origin", "http://app.test");
    return Client().Send(request);
  });
  std::shared_ptr<DeferredResponse> deferred = parked.Get(0);
  ASSERT_NE(deferred, nullptr);

  // The only worker is free while the response waits.
  auto now = Client().Get(server.base_url() + "/now/1");
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_EQ(now->body, "now 1");
  EXPECT_EQ(waiting.wait_for(0s), std::future_status::timeout) << "answered before it was completed";

  std::thread completer([deferred] {
    Response r = Response::Json(201, R"({"done":true})");
    r.headers.Set("x-answer", "yes");
    EXPECT_TRUE(deferred->Complete(std::move(r)));
  });
  completer.join();
  auto got = waiting.get();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 201);
  EXPECT_EQ(got->body, R"({"done":true})");
  EXPECT_EQ(got->headers.GetOr("x-answer"), "yes");
  EXPECT_EQ(got->headers.GetOr("X-Request-ID"), "deferred-1");
  EXPECT_EQ(got->headers.GetOr("Access-Control-Allow-Origin"), "*");
  EXPECT_FALSE(deferred->Complete(Response::Text(200, "again"))) << "only the first completion counts";

  const std::string page = server.metrics().Render();
  EXPECT_NE(page.find(R"(wisp_http_requests_total{listener="test",method="GET",route="/later",status="201"} 1)"),
            std::string::npos)
      << page;
}

TEST(DeferredResponse, ACompletionBeforeTheHandlerReturnsIsSentAtOnce) {
  auto router = std::make_shared<Router>();
  router->Get("/done", [](Request&) {
    auto [response, deferred] = Response::Deferred();
    deferred->Complete(Response::Text(200, "already"));
    return std::move(response);
  });
  ListenerOptions o;
  o.router = router;
  TestServer server(std::move(o));
  auto got = Client().Get(server.base_url() + "/done");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "already");
}

TEST(DeferredResponse, PipelinedRequestsBehindItWaitTheirTurn) {
  Parked parked;
  TestServer server(Listener(parked), OneWorker());
  RawConnection conn(server.port());
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /now/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::shared_ptr<DeferredResponse> deferred = parked.Get(0);
  ASSERT_NE(deferred, nullptr);
  ASSERT_TRUE(deferred->Complete(Response::Text(200, "later")));
  const std::string out = conn.ReadUntilClosed(5s);
  const size_t later = out.find("\r\n\r\nlater");
  const size_t now = out.find("now 2");
  ASSERT_NE(later, std::string::npos) << out;
  ASSERT_NE(now, std::string::npos) << out;
  EXPECT_LT(later, now);
}

TEST(DeferredResponse, AClientThatLeavesWhileItWaitsEndsTheConnectionAndLateCompletionIsHarmless) {
  Parked parked;
  TestServer server(Listener(parked), OneWorker());
  {
    RawConnection conn(server.port());
    ASSERT_TRUE(conn.Send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_NE(parked.Get(0), nullptr);
  }  // closes the connection
  std::shared_ptr<DeferredResponse> deferred = parked.Get(0);
  EXPECT_TRUE(Eventually([&] { return deferred->client_gone(); })) << "the server noticed the client leave";
  EXPECT_TRUE(Eventually([&] { return server.server().open_connections() == 0; }));
  EXPECT_FALSE(deferred->Complete(Response::Text(200, "too late")));

  auto after = Client().Get(server.base_url() + "/now/3");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->body, "now 3");
}

TEST(DeferredResponse, AHandlerThatDropsItWithoutCompletingGetsTheListeners500) {
  Parked parked;
  TestServer server(Listener(parked), OneWorker());
  auto waiting = std::async(std::launch::async, [&] { return Client().Get(server.base_url() + "/later"); });
  ASSERT_NE(parked.Get(0), nullptr);
  parked.Clear();  // the last copy of the completer goes
  auto got = waiting.get();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 500);
  EXPECT_EQ(got->body, R"({"error":"custom","reason":"internal server error"})");
}

TEST(DeferredResponse, StopEndsAResponseStillPendingWith503) {
  Parked parked;
  auto server = std::make_unique<Server>(OneWorker());
  server->AddListener(Listener(parked));
  ASSERT_TRUE(server->Start().ok());
  RawConnection conn(server->port(0));
  ASSERT_TRUE(conn.Send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::shared_ptr<DeferredResponse> deferred = parked.Get(0);
  ASSERT_NE(deferred, nullptr);

  const auto before = std::chrono::steady_clock::now();
  server->Stop(100ms);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  bool closed = false;
  const std::string out = conn.ReadUntilClosed(5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(out.find("HTTP/1.1 503 "), std::string::npos) << out;
  EXPECT_NE(out.find(R"("reason":"server is shutting down")"), std::string::npos) << out;
  EXPECT_TRUE(deferred->client_gone());
  EXPECT_FALSE(deferred->Complete(Response::Text(200, "too late")));
  server.reset();
  EXPECT_FALSE(deferred->Complete(Response::Text(200, "after the server")));
}

TEST(DeferredResponse, StopWaitsForACompletionWithinTheGrace) {
  Parked parked;
  auto server = std::make_unique<Server>(OneWorker());
  server->AddListener(Listener(parked));
  ASSERT_TRUE(server->Start().ok());
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port(0));
  auto waiting = std::async(std::launch::async, [&] { return Client().Get(url + "/later"); });
  std::shared_ptr<DeferredResponse> deferred = parked.Get(0);
  ASSERT_NE(deferred, nullptr);
  auto stopping = std::async(std::launch::async, [&] { server->Stop(10s); });
  EXPECT_EQ(stopping.wait_for(50ms), std::future_status::timeout) << "Stop() waits for the pending response";
  EXPECT_TRUE(deferred->Complete(Response::Text(202, "accepted")));  // as the controller's StopWaiting() does
  stopping.get();
  auto got = waiting.get();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 202);
  EXPECT_EQ(got->body, "accepted");
}

TEST(DeferredResponse, AnswerRawRequestWaitsForTheCompletion) {
  std::thread completer;
  auto router = std::make_shared<Router>();
  router->Get("/later", [&completer](Request&) {
    auto [response, deferred] = Response::Deferred();
    completer = std::thread([deferred = deferred] { deferred->Complete(Response::Text(200, "from a thread")); });
    return std::move(response);
  });
  ListenerOptions o;
  o.router = router;
  Response r = AnswerRawRequest(o, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  completer.join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "from a thread");
  EXPECT_EQ(r.deferred, nullptr);
}

}  // namespace
}  // namespace wisp::http
