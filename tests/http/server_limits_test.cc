// Limits that keep bad or slow clients from hurting the server.
#include <gtest/gtest.h>

#include <thread>

#include "http/client.h"
#include "http/server.h"
#include "testing/http_test_server.h"
#include "testing/raw_socket.h"

namespace wisp::http {
namespace {

using namespace std::chrono_literals;
using testing::RawConnection;
using testing::TestServer;

std::shared_ptr<Router> EchoRouter() {
  auto router = std::make_shared<Router>();
  router->Post("/echo", [](Request& r) { return Response::Text(200, "got " + std::to_string(r.body.size())); });
  router->Get("/x", [](Request&) { return Response::Text(200, "x"); });
  return router;
}

ListenerOptions Limited(Limits limits) {
  ListenerOptions o;
  o.name = "limits";
  o.router = EchoRouter();
  o.limits = limits;
  return o;
}

TEST(ServerLimits, BodyOverLimitGets413BeforeItIsSent) {
  Limits limits;
  limits.max_body_bytes = 1024;
  TestServer server(Limited(limits));
  RawConnection conn(server.port());
  // Only the header is sent: the answer must come from Content-Length alone.
  ASSERT_TRUE(conn.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"));
  bool closed = false;
  const std::string out = conn.ReadUntilClosed(5s, &closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  EXPECT_NE(out.find("over the limit of 1024 bytes"), std::string::npos) << out;
  EXPECT_TRUE(closed);
}

TEST(ServerLimits, ChunkedBodyOverLimitGets413) {
  Limits limits;
  limits.max_body_bytes = 1024;
  TestServer server(Limited(limits));
  ClientRequest req;
  req.method = "POST";
  req.url = server.base_url() + "/echo";
  req.headers.Set("Transfer-Encoding", "chunked");
  req.body = std::string(4096, 'a');
  auto r = Client().Send(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
}

TEST(ServerLimits, BodyAtTheLimitIsAccepted) {
  Limits limits;
  limits.max_body_bytes = 1024;
  TestServer server(Limited(limits));
  auto r = Client().Post(server.base_url() + "/echo", std::string(1024, 'a'), "text/plain");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "got 1024");
}

TEST(ServerLimits, ExpectContinueGetsContinueThenTheAnswer) {
  TestServer server(Limited(Limits{}));
  ClientRequest req;
  req.method = "POST";
  req.url = server.base_url() + "/echo";
  req.headers.Set("Expect", "100-continue");
  req.body = std::string(5000, 'b');
  auto r = Client().Send(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "got 5000");
}

TEST(ServerLimits, OversizedHeaderGets431) {
  Limits limits;
  limits.max_header_bytes = 2048;
  TestServer server(Limited(limits));
  ClientRequest req;
  req.url = server.base_url() + "/x";
  req.headers.Set("X-Big", std::string(4096, 'h'));
  auto r = Client().Send(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 431);
  // A field that never ends, after a complete request line, is the header's fault.
  RawConnection conn(server.port());
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.1\r\nX-Big: "));
  ASSERT_TRUE(conn.Send(std::string(4096, 'h')));
  EXPECT_EQ(conn.ReadUntilClosed(5s).rfind("HTTP/1.1 431", 0), 0u);
}

TEST(ServerLimits, RequestLineOverTheHeaderLimitGets414) {
  Limits limits;
  limits.max_header_bytes = 2048;
  TestServer server(Limited(limits));
  ClientRequest req;
  req.url = server.base_url() + "/" + std::string(4096, 'u');
  auto r = Client().Send(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 414);
  // A slow client whose request line never ends is told the same.
  RawConnection conn(server.port());
  ASSERT_TRUE(conn.Send("GET /" + std::string(1024, 'u')));
  ASSERT_TRUE(conn.Send(std::string(2048, 'u')));
  EXPECT_EQ(conn.ReadUntilClosed(5s).rfind("HTTP/1.1 414", 0), 0u);
}

// What bounds the memory of a slow reader: a producer ahead by more than
// the limit blocks until the server takes the data, or the client goes.
TEST(BodyStreamBackpressure, WaitForRoomBlocksUntilTheDataIsTakenOrTheClientGoes) {
  BodyStream stream;
  ASSERT_TRUE(stream.Write(std::string(2000, 'x')));
  EXPECT_TRUE(stream.WaitForRoom(2000, std::chrono::steady_clock::now()));
  EXPECT_FALSE(stream.WaitForRoom(1000, std::chrono::steady_clock::now() + 20ms)) << "still 2000 bytes behind";
  std::thread server([&] {
    std::string taken;
    EXPECT_EQ(stream.TakeData(taken), BodyStream::Take::kData);
  });
  EXPECT_TRUE(stream.WaitForRoom(1000, std::chrono::steady_clock::now() + 10s));
  server.join();
  ASSERT_TRUE(stream.Write(std::string(2000, 'y')));
  const auto start = std::chrono::steady_clock::now();
  std::thread gone([&] { stream.Detach(); });
  EXPECT_FALSE(stream.WaitForRoom(1000, start + 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "the client going wakes the producer";
  gone.join();
}

TEST(ServerLimits, SlowHeaderIsCutOffAfterHeaderTimeout) {
  Limits limits;
  limits.header_timeout = 300ms;
  TestServer server(Limited(limits));
  RawConnection conn(server.port());
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: "));  // and then nothing
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  const std::string out = conn.ReadUntilClosed(10s, &closed);
  EXPECT_TRUE(closed) << "a client that stops mid-header must not pin the connection";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(out, "") << "nothing is answered to a request that never arrived";
}

TEST(ServerLimits, SlowBodyIsCutOffAfterBodyTimeout) {
  Limits limits;
  limits.body_timeout = 300ms;
  TestServer server(Limited(limits));
  RawConnection conn(server.port());
  ASSERT_TRUE(conn.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  const std::string out = conn.ReadUntilClosed(10s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(out, "") << "the handler never ran on a partial body";
}

TEST(ServerLimits, IdleKeepAliveConnectionIsClosed) {
  Limits limits;
  limits.idle_timeout = 300ms;
  TestServer server(Limited(limits));
  RawConnection conn(server.port());
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  const std::string out = conn.ReadUntilClosed(10s, &closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_TRUE(closed) << "the keep-alive connection must close once idle";
}

TEST(ServerLimits, ConnectionsOverTheCapGet503) {
  Limits limits;
  limits.max_connections = 2;
  TestServer server(Limited(limits));
  RawConnection a(server.port());
  RawConnection b(server.port());
  // Make sure both are accepted and counted before the third arrives.
  ASSERT_TRUE(a.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(b.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_NE(a.ReadUntil("\r\n\r\nx", 5s).find("200"), std::string::npos);
  ASSERT_NE(b.ReadUntil("\r\n\r\nx", 5s).find("200"), std::string::npos);

  RawConnection c(server.port());
  ASSERT_TRUE(c.connected());
  const std::string out = c.ReadUntilClosed(5s);
  EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0u) << out;
  EXPECT_NE(out.find("too many open connections"), std::string::npos);
}

TEST(ServerLimits, ServerSurvivesAFloodOfGarbage) {
  Limits limits;  // short timeouts: some inputs leave the parser waiting for more
  limits.header_timeout = 300ms;
  limits.body_timeout = 300ms;
  TestServer server(Limited(limits));
  const char* inputs[] = {
      "\r\n\r\n",
      "GET\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n",
      "GET /\x01\x02 HTTP/1.1\r\n\r\n",
      "G\0ET / HTTP/1.1\r\n\r\n",
  };
  for (const char* input : inputs) {
    RawConnection conn(server.port());
    ASSERT_TRUE(conn.connected());
    conn.Send(input);
    const std::string out = conn.ReadUntilClosed(5s);
    EXPECT_TRUE(out.empty() || out.rfind("HTTP/1.1 4", 0) == 0) << "input: " << input << "\nout: " << out;
  }
  auto r = Client().Get(server.base_url() + "/x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "x");
}

}  // namespace
}  // namespace wisp::http
