// The libcurl client against a real wisp server on loopback.
#include "http/client.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <condition_variable>
#include <mutex>

#include "testing/http_test_server.h"
#include "testing/raw_socket.h"

namespace wisp::http {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;

// Compresses with zlib: gzip framing when `gzip`, else zlib (HTTP "deflate").
std::string Compress(const std::string& data, bool gzip) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, gzip ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto router = std::make_shared<Router>();
    router->Get("/status/{code}", [](Request& r) {
      return Response::Json(std::stoi(r.Param("code")), R"({"error":"as asked"})");
    });
    router->Put("/echo", [](Request& r) {
      Response res = Response::Text(200, r.method_name + " " + r.headers.GetOr("X-Custom") + " " + r.body);
      res.headers.Add("Set-Cookie", "a=1");
      res.headers.Add("Set-Cookie", "b=2");
      return res;
    });
    router->Get("/gzip", [](Request& r) {
      Response res = Response::Text(200, Compress(kText, true));
      res.headers.Set("Content-Encoding", "gzip");
      return res;
    });
    router->Get("/deflate", [](Request& r) {
      Response res = Response::Text(200, Compress(kText, false));
      res.headers.Set("Content-Encoding", "deflate");
      return res;
    });
    router->Get("/hang", [this](Request&) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, 10s, [this] { return released_; });
      return Response::Text(200, "late");
    });
    ListenerOptions o;
    o.router = router;
    server_ = std::make_unique<TestServer>(o);
  }

  void TearDown() override {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
    server_.reset();
  }

  static constexpr const char* kText = "a question body, a question body, a question body, compressed";
  std::unique_ptr<TestServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

TEST_F(ClientTest, ErrorStatusFromThePeerIsAResponseNotAnError) {
  Client client;
  for (int code : {404, 409, 429, 500, 503}) {
    auto r = client.Get(server_->base_url() + "/status/" + std::to_string(code));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, code);
    EXPECT_EQ(r->body, R"({"error":"as asked"})");
  }
}

TEST_F(ClientTest, SendsMethodHeadersAndBodyAndReadsRepeatedHeaders) {
  ClientRequest req;
  req.method = "PUT";
  req.url = server_->base_url() + "/echo";
  req.headers.Set("X-Custom", "yes");
  req.body = "payload";
  auto r = Client().Send(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "PUT yes payload");
  int cookies = 0;
  for (const auto& [k, v] : r->headers.entries()) cookies += EqualsIgnoreCase(k, "set-cookie");
  EXPECT_EQ(cookies, 2);
}

TEST_F(ClientTest, DecodesGzipAndDeflateBodies) {
  Client client;
  auto g = client.Get(server_->base_url() + "/gzip");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->body, kText);
  auto d = client.Get(server_->base_url() + "/deflate");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->body, kText);
}

TEST_F(ClientTest, TimeoutIsDeadlineExceeded) {
  ClientRequest req;
  req.url = server_->base_url() + "/hang";
  req.timeout = 200ms;
  auto r = Client().Send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsDeadlineExceeded()) << r.status().ToString();
}

TEST_F(ClientTest, RefusedConnectionIsUnavailable) {
  const uint16_t port = server_->port();
  server_.reset();  // nothing listens there any more
  auto r = Client().Get("http://127.0.0.1:" + std::to_string(port) + "/status/200");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
}

TEST_F(ClientTest, MalformedUrlIsInvalidArgument) {
  auto r = Client().Get("notascheme://x");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
}

TEST_F(ClientTest, OnDataReturningFalseCancelsTheTransfer) {
  ClientRequest req;
  req.url = server_->base_url() + "/gzip";
  req.on_data = [](std::string_view) { return false; };
  auto r = Client().Send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
}

TEST_F(ClientTest, ConcurrentCallsFromManyThreadsAllSucceed) {
  Client client;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto r = client.Get(server_->base_url() + "/status/200");
        if (r.ok() && r->status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
}

}  // namespace
}  // namespace wisp::http
