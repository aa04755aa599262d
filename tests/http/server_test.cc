// The server, exercised over loopback with the real libcurl client.
#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "http/client.h"
#include "testing/http_test_server.h"
#include "testing/notification.h"
#include "testing/raw_socket.h"

namespace wisp::http {
namespace {

using namespace std::chrono_literals;
using testing::RawConnection;
using testing::TestServer;

using Signal = testing::Notification;

ListenerOptions WithRouter(std::shared_ptr<Router> router) {
  ListenerOptions o;
  o.name = "test";
  o.router = std::move(router);
  return o;
}

TEST(Server, RoutesWithDecodedPathParametersAndQuery) {
  auto router = std::make_shared<Router>();
  router->Get("/{db}/{docid}", [](Request& r) {
    return Response::Text(200, r.Param("db") + "|" + r.Param("docid") + "|" + r.query.GetOr("rev", "-"));
  });
  TestServer server(WithRouter(router));
  Client client;
  auto r = client.Get(server.base_url() + "/my%2Fdb/doc%20one?rev=1-abc&x=a+b");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "my/db|doc one|1-abc");
}

TEST(Server, UnknownRouteGets404InTheListenersShape) {
  auto router = std::make_shared<Router>();
  ListenerOptions o = WithRouter(router);
  o.render_error = [](int status, std::string_view message, const Request& req) {
    return Response::Json(status, "{\"error\":\"custom\",\"reason\":\"" + std::string(message) + "\"}");
  };
  TestServer server(std::move(o));
  auto r = Client().Get(server.base_url() + "/nothing/here");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->headers.GetOr("Content-Type"), "application/json");
  EXPECT_EQ(r->body, R"({"error":"custom","reason":"not found"})");
}

TEST(Server, WrongMethodGets405WithAllowHeader) {
  auto router = std::make_shared<Router>();
  router->Get("/thing", [](Request&) { return Response::Text(200, "x"); });
  TestServer server(WithRouter(router));
  ClientRequest req;
  req.method = "DELETE";
  req.url = server.base_url() + "/thing";
  auto r = Client().Send(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->headers.GetOr("Allow"), "GET, HEAD");
  EXPECT_EQ(r->body, R"({"error":"method not allowed"})");
}

TEST(Server, HeadAnswersEveryGetWithSameHeadersAndNoBody) {
  auto router = std::make_shared<Router>();
  router->Get("/doc", [](Request&) {
    Response r = Response::Json(200, R"({"_id":"doc","_rev":"1-a"})");
    r.headers.Set("ETag", "\"1-a\"");
    return r;
  });
  TestServer server(WithRouter(router));
  ClientRequest req;
  req.method = "HEAD";
  req.url = server.base_url() + "/doc";
  auto r = Client().Send(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
  EXPECT_EQ(r->headers.GetOr("Content-Length"), "26");
  EXPECT_EQ(r->headers.GetOr("ETag"), "\"1-a\"");
}

// The server writes each response's head itself: the status line with its
// reason, the handler's fields in order, and its own framing fields.
TEST(Server, ResponseHeadCarriesStatusFieldsAndFraming) {
  auto router = std::make_shared<Router>();
  router->Get("/made", [](Request&) {
    Response r = Response::Text(201, "made");
    r.headers.Set("ETag", "\"1-a\"");
    r.headers.Set("Content-Length", "999");  // the server frames the body, not the handler
    return r;
  });
  router->Get("/none", [](Request&) { return Response::Text(204, ""); });
  TestServer server(WithRouter(router));
  RawConnection conn(server.port());
  ASSERT_TRUE(conn.Send("GET /made HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string out = conn.ReadUntilClosed(5s);
  EXPECT_EQ(out.rfind("HTTP/1.1 201 Created\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("\r\nETag: \"1-a\"\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\nContent-Length: 4\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("999"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n\r\nmadeHTTP/1.1 204 No Content\r\n"), std::string::npos) << out;
  const std::string second = out.substr(out.find("HTTP/1.1 204"));
  EXPECT_EQ(second.find("Content-Length"), std::string::npos) << second;
  EXPECT_NE(second.find("\r\nConnection: close\r\n"), std::string::npos) << second;
}

TEST(Server, Http10ClientsGetKeepAliveOnlyWhenTheyAskForIt) {
  auto router = std::make_shared<Router>();
  router->Get("/x", [](Request&) { return Response::Text(200, "x"); });
  TestServer server(WithRouter(router));
  RawConnection conn(server.port());
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const std::string kept = conn.ReadUntil("\r\n\r\nx", 5s);
  EXPECT_EQ(kept.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << kept;
  EXPECT_NE(kept.find("\r\nConnection: keep-alive\r\n"), std::string::npos) << kept;
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.0\r\n\r\n"));
  bool closed = false;
  const std::string last = conn.ReadUntilClosed(5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(last.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << last;
  EXPECT_EQ(last.find("Connection"), std::string::npos) << last;
}

// A header value a handler passes on (a web action's, say) cannot start a
// field or a response of its own.
TEST(Server, LineBreaksInHeaderValuesCannotSplitTheResponse) {
  auto router = std::make_shared<Router>();
  router->Get("/x", [](Request&) {
    Response r = Response::Text(200, "x");
    r.headers.Set("X-Note", "a\r\nSet-Cookie: session=stolen\r\n\r\nHTTP/1.1 200 OK");
    return r;
  });
  TestServer server(WithRouter(router));
  RawConnection conn(server.port());
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string out = conn.ReadUntilClosed(5s);
  EXPECT_NE(out.find("\r\nX-Note: a  Set-Cookie: session=stolen    HTTP/1.1 200 OK\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("\r\nSet-Cookie"), std::string::npos) << out;
}

TEST(Server, KeepAliveReusesOneConnection) {
  auto router = std::make_shared<Router>();
  router->Get("/conn", [](Request& r) { return Response::Text(200, std::to_string(r.connection_id)); });
  TestServer server(WithRouter(router));
  Client client;
  auto first = client.Get(server.base_url() + "/conn");
  auto second = client.Get(server.base_url() + "/conn");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->body, second->body);
  EXPECT_EQ(server.server().open_connections(), 1u);
}

TEST(Server, PipelinedRequestsAreAnsweredInOrder) {
  auto router = std::make_shared<Router>();
  router->Get("/n/{n}", [](Request& r) { return Response::Text(200, "n=" + r.Param("n")); });
  TestServer server(WithRouter(router));
  RawConnection conn(server.port());
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("GET /n/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /n/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string out = conn.ReadUntilClosed(5s);
  const size_t one = out.find("n=1");
  const size_t two = out.find("n=2");
  ASSERT_NE(one, std::string::npos) << out;
  ASSERT_NE(two, std::string::npos) << out;
  EXPECT_LT(one, two);
}

TEST(Server, StreamsChunksAsTheyAreWritten) {
  // The producer writes its second chunk only after the client has seen the
  // first: a server that buffered the whole body would deadlock here.
  Signal client_saw_first;
  std::thread producer;
  auto router = std::make_shared<Router>();
  router->Get("/feed", [&](Request&) {
    auto [response, stream] = Response::Streaming(200, "application/json");
    producer = std::thread([stream = stream, &client_saw_first] {
      stream->Write("{\"seq\":1}\n");
      if (client_saw_first.WaitFor(10s)) stream->Write("{\"seq\":2}\n");
      stream->Close();
    });
    return response;
  });
  TestServer server(WithRouter(router));

  std::string received;
  ClientRequest req;
  req.url = server.base_url() + "/feed";
  req.on_data = [&](std::string_view data) {
    received.append(data);
    if (received.find("{\"seq\":1}") != std::string::npos) client_saw_first.Notify();
    return true;
  };
  auto r = Client().Send(req);
  producer.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->headers.GetOr("Transfer-Encoding"), "chunked");
  EXPECT_EQ(received, "{\"seq\":1}\n{\"seq\":2}\n");
}

TEST(Server, StreamWriteFailsOnceTheClientIsGone) {
  Signal client_left;
  std::promise<bool> write_after_leave;
  std::thread producer;
  auto router = std::make_shared<Router>();
  router->Get("/feed", [&](Request&) {
    auto [response, stream] = Response::Streaming(200, "text/plain");
    producer = std::thread([stream = stream, &client_left, &write_after_leave] {
      stream->Write("hello\n");
      client_left.WaitFor(10s);
      // The server notices the closed socket on its next write.
      // Keeps writing until refused, bounded by a deadline.
      bool ok = true;
      const auto deadline = std::chrono::steady_clock::now() + 15s;
      while (ok && std::chrono::steady_clock::now() < deadline) {
        ok = stream->Write(std::string(1024, 'x'));
        if (ok && stream->buffered_bytes() > (64 << 10)) std::this_thread::yield();
      }
      write_after_leave.set_value(ok);
      stream->Close();
    });
    return response;
  });
  TestServer server(WithRouter(router));
  {
    RawConnection conn(server.port());
    ASSERT_TRUE(conn.Send("GET /feed HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_NE(conn.ReadUntil("hello", 5s).find("hello"), std::string::npos);
  }  // closes the connection
  client_left.Notify();
  auto result = write_after_leave.get_future();
  ASSERT_EQ(result.wait_for(20s), std::future_status::ready);
  EXPECT_FALSE(result.get());
  producer.join();
}

TEST(Server, EchoesClientRequestIdOrGeneratesOne) {
  auto router = std::make_shared<Router>();
  router->Get("/id", [](Request& r) { return Response::Text(200, r.request_id); });
  TestServer server(WithRouter(router));
  Client client;

  ClientRequest with_id;
  with_id.url = server.base_url() + "/id";
  with_id.headers.Set("X-Request-ID", "trace-123");
  auto r = client.Send(with_id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->headers.GetOr("X-Request-ID"), "trace-123");
  EXPECT_EQ(r->body, "trace-123");

  auto generated = client.Get(server.base_url() + "/id");
  ASSERT_TRUE(generated.ok());
  const std::string id = generated->headers.GetOr("X-Request-ID");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(generated->body, id);

  ClientRequest too_long = with_id;
  too_long.headers.Set("X-Request-ID", std::string(500, 'a'));
  auto replaced = client.Send(too_long);
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->headers.GetOr("X-Request-ID").size(), 32u);
}

TEST(Server, RequestIdIsEchoedOnErrorsToo) {
  TestServer server(WithRouter(std::make_shared<Router>()));
  ClientRequest req;
  req.url = server.base_url() + "/missing";
  req.headers.Set("X-Request-ID", "err-1");
  auto r = Client().Send(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->headers.GetOr("X-Request-ID"), "err-1");
}

TEST(Server, HandlerThatThrowsGets500AndServerKeepsServing) {
  auto router = std::make_shared<Router>();
  router->Get("/boom", [](Request&) -> Response { throw std::runtime_error("kaput"); });
  router->Get("/ok", [](Request&) { return Response::Text(200, "fine"); });
  TestServer server(WithRouter(router));
  Client client;
  auto boom = client.Get(server.base_url() + "/boom");
  ASSERT_TRUE(boom.ok());
  EXPECT_EQ(boom->status, 500);
  EXPECT_EQ(boom->body, R"({"error":"internal server error"})");
  auto ok = client.Get(server.base_url() + "/ok");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->body, "fine");
}

TEST(Server, BlockingHandlerDoesNotStallOtherRequests) {
  Signal release;
  Signal entered;
  auto router = std::make_shared<Router>();
  router->Get("/slow", [&](Request&) {
    entered.Notify();
    release.WaitFor(10s);
    return Response::Text(200, "slow");
  });
  router->Get("/fast", [](Request&) { return Response::Text(200, "fast"); }, Dispatch::kInline);
  router->Get("/fast-worker", [](Request&) { return Response::Text(200, "fast-worker"); });
  ServerOptions options = TestServer::DefaultServerOptions();
  options.io_threads = 1;  // even a single IO thread stays free
  TestServer server(WithRouter(router), options);

  auto slow = std::async(std::launch::async, [&] { return Client().Get(server.base_url() + "/slow"); });
  ASSERT_TRUE(entered.WaitFor(10s));
  Client client;
  auto fast = client.Get(server.base_url() + "/fast");
  auto fast_worker = client.Get(server.base_url() + "/fast-worker");
  ASSERT_TRUE(fast.ok() && fast_worker.ok());
  EXPECT_EQ(fast->body, "fast");
  EXPECT_EQ(fast_worker->body, "fast-worker");
  EXPECT_EQ(slow.wait_for(0s), std::future_status::timeout) << "the slow request was still held";
  release.Notify();
  auto slow_result = slow.get();
  ASSERT_TRUE(slow_result.ok());
  EXPECT_EQ(slow_result->body, "slow");
}

TEST(Server, PostBodyReachesHandler) {
  auto router = std::make_shared<Router>();
  router->Post("/echo", [](Request& r) { return Response::Text(201, r.headers.GetOr("Content-Type") + ":" + r.body); });
  TestServer server(WithRouter(router));
  auto r = Client().Post(server.base_url() + "/echo", R"({"a":1})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, R"(application/json:{"a":1})");
}

TEST(Server, MalformedRequestGets400AndConnectionCloses) {
  TestServer server(WithRouter(std::make_shared<Router>()));
  RawConnection conn(server.port());
  ASSERT_TRUE(conn.Send("THIS IS NOT HTTP\r\n\r\n"));
  bool closed = false;
  const std::string out = conn.ReadUntilClosed(5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_NE(out.find("malformed request"), std::string::npos) << out;
}

TEST(Server, BadPercentEscapeInPathGets400) {
  auto router = std::make_shared<Router>();
  router->Get("/{db}", [](Request&) { return Response::Text(200, "x"); });
  TestServer server(WithRouter(router));
  auto r = Client().Get(server.base_url() + "/bad%zzname");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("bad path"), std::string::npos);
}

TEST(Server, CorsPreflightIsAnsweredWithoutARoute) {
  auto router = std::make_shared<Router>();
  router->Put("/db/doc", [](Request&) { return Response::Json(201, "{}"); });
  ListenerOptions o = WithRouter(router);
  o.cors.enabled = true;
  o.cors.origins = {"http://app.test"};
  o.cors.credentials = true;
  TestServer server(std::move(o));
  Client client;

  ClientRequest preflight;
  preflight.method = "OPTIONS";
  preflight.url = server.base_url() + "/db/doc";
  preflight.headers.Set("Origin", "http://app.test");
  preflight.headers.Set("Access-Control-Request-Method", "PUT");
  preflight.headers.Set("Access-Control-Request-Headers", "content-type");
  auto pre = client.Send(preflight);
  ASSERT_TRUE(pre.ok());
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->headers.GetOr("Access-Control-Allow-Origin"), "http://app.test");
  EXPECT_EQ(pre->headers.GetOr("Access-Control-Allow-Credentials"), "true");

  ClientRequest put;
  put.method = "PUT";
  put.url = server.base_url() + "/db/doc";
  put.headers.Set("Origin", "http://app.test");
  put.body = "{}";
  auto actual = client.Send(put);
  ASSERT_TRUE(actual.ok());
  EXPECT_EQ(actual->status, 201);
  EXPECT_EQ(actual->headers.GetOr("Access-Control-Allow-Origin"), "http://app.test");
}

TEST(Server, RecordsRequestMetricsByRouteAndStatus) {
  auto router = std::make_shared<Router>();
  router->Get("/items/{id}", [](Request& r) { return Response::Text(r.Param("id") == "0" ? 404 : 200, ""); });
  TestServer server(WithRouter(router));
  Client client;
  ASSERT_TRUE(client.Get(server.base_url() + "/items/1").ok());
  ASSERT_TRUE(client.Get(server.base_url() + "/items/2").ok());
  ASSERT_TRUE(client.Get(server.base_url() + "/items/0").ok());
  ASSERT_TRUE(client.Get(server.base_url() + "/nope").ok());
  const std::string page = server.metrics().Render();
  EXPECT_NE(page.find(R"(wisp_http_requests_total{listener="test",method="GET",route="/items/{id}",status="200"} 2)"),
            std::string::npos) << page;
  EXPECT_NE(page.find(R"(wisp_http_requests_total{listener="test",method="GET",route="/items/{id}",status="404"} 1)"),
            std::string::npos) << page;
  EXPECT_NE(page.find(R"(wisp_http_requests_total{listener="test",method="GET",route="unmatched",status="404"} 1)"),
            std::string::npos) << page;
  EXPECT_NE(page.find(R"(wisp_http_request_duration_seconds_count{listener="test",route="/items/{id}"} 3)"),
            std::string::npos) << page;
}

TEST(Server, TwoListenersKeepTheirOwnRoutersAndErrorShapes) {
  auto a = std::make_shared<Router>();
  a->Get("/which", [](Request&) { return Response::Text(200, "a"); });
  auto b = std::make_shared<Router>();
  b->Get("/which", [](Request&) { return Response::Text(200, "b"); });
  MetricsRegistry metrics;
  ServerOptions so = TestServer::DefaultServerOptions();
  so.metrics = &metrics;
  Server server(so);
  ListenerOptions la = WithRouter(a);
  ListenerOptions lb = WithRouter(b);
  lb.render_error = [](int status, std::string_view, const Request&) { return Response::Json(status, R"({"b":true})"); };
  const size_t ia = server.AddListener(la);
  const size_t ib = server.AddListener(lb);
  ASSERT_TRUE(server.Start().ok());
  Client client;
  const std::string url_a = "http://127.0.0.1:" + std::to_string(server.port(ia));
  const std::string url_b = "http://127.0.0.1:" + std::to_string(server.port(ib));
  EXPECT_EQ(client.Get(url_a + "/which")->body, "a");
  EXPECT_EQ(client.Get(url_b + "/which")->body, "b");
  EXPECT_EQ(client.Get(url_a + "/x")->body, R"({"error":"not found"})");
  EXPECT_EQ(client.Get(url_b + "/x")->body, R"({"b":true})");
  server.Stop();
}

TEST(Server, StartFailsClearlyWhenThePortIsTaken) {
  TestServer first(WithRouter(std::make_shared<Router>()));
  Server second(TestServer::DefaultServerOptions());
  ListenerOptions o;
  o.port = first.port();
  second.AddListener(o);
  Status s = second.Start();
  EXPECT_TRUE(s.IsIoError()) << s.ToString();
  EXPECT_NE(s.message().find(std::to_string(first.port())), std::string::npos);
}

TEST(Server, StopLetsARequestInFlightFinish) {
  Signal entered;
  Signal release;
  auto router = std::make_shared<Router>();
  router->Get("/slow", [&](Request&) {
    entered.Notify();
    release.WaitFor(10s);
    return Response::Text(200, "finished");
  });
  auto server = std::make_unique<Server>(TestServer::DefaultServerOptions());
  server->AddListener(WithRouter(router));
  ASSERT_TRUE(server->Start().ok());
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port(0));

  auto in_flight = std::async(std::launch::async, [&] { return Client().Get(url + "/slow"); });
  ASSERT_TRUE(entered.WaitFor(10s));
  std::atomic<bool> stop_returned{false};
  auto stopping = std::async(std::launch::async, [&] {
    server->Stop(10s);
    stop_returned = true;
  });
  // Stop() waits for the request in flight, however long the grace allows.
  EXPECT_EQ(stopping.wait_for(100ms), std::future_status::timeout);
  EXPECT_FALSE(stop_returned);
  release.Notify();
  stopping.get();
  auto r = in_flight.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "finished");

  auto after = Client().Get(url + "/slow");
  EXPECT_TRUE(after.status().IsUnavailable()) << "no longer accepting";
}

TEST(Server, StopClosesIdleKeepAliveConnectionsPromptly) {
  auto router = std::make_shared<Router>();
  router->Get("/x", [](Request&) { return Response::Text(200, "x"); });
  ListenerOptions o = WithRouter(router);
  o.limits.idle_timeout = std::chrono::minutes(10);
  auto server = std::make_unique<Server>(TestServer::DefaultServerOptions());
  server->AddListener(o);
  ASSERT_TRUE(server->Start().ok());
  RawConnection conn(server->port(0));
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_NE(conn.ReadUntil("\r\n\r\nx", 5s).find("200 OK"), std::string::npos);

  const auto before = std::chrono::steady_clock::now();
  server->Stop(30s);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s) << "an idle connection must not hold up shutdown";
  bool closed = false;
  conn.ReadUntilClosed(5s, &closed);
  EXPECT_TRUE(closed);
}

TEST(Server, StopEndsOpenStreamsCleanly) {
  std::shared_ptr<BodyStream> held;
  Signal started;
  auto router = std::make_shared<Router>();
  router->Get("/feed", [&](Request&) {
    auto [response, stream] = Response::Streaming(200, "text/plain");
    stream->Write("open\n");
    held = stream;
    started.Notify();
    return response;
  });
  auto server = std::make_unique<Server>(TestServer::DefaultServerOptions());
  server->AddListener(WithRouter(router));
  ASSERT_TRUE(server->Start().ok());
  RawConnection conn(server->port(0));
  ASSERT_TRUE(conn.Send("GET /feed HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(started.WaitFor(5s));
  conn.ReadUntil("open", 5s);
  server->Stop(10s);
  bool closed = false;
  const std::string rest = conn.ReadUntilClosed(5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(rest.find("0\r\n\r\n"), std::string::npos) << "the last chunk ends the body: " << rest;
  EXPECT_FALSE(held->Write("late")) << "writes after shutdown are refused";
}

}  // namespace
}  // namespace wisp::http
