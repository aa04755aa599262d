// Every limit of `wisp serve` as a caller meets it: the server started as
// `wisp serve` builds it, with small limits set through ServeOptions (the
// fields behind the flags), called over real HTTP on both ports. Each test
// asserts the status and body a user of OpenWhisk or CouchDB would see.
// The table of limits is docs/security.md, section "Limits".
#include <gtest/gtest.h>

#include <functional>
#include <regex>
#include <string>

#include "cli/serve_command.h"
#include "http/client.h"
#include "json/json.h"
#include "testing/raw_socket.h"
#include "testing/serve_options.h"
#include "testing/temp_dir.h"
#include "testing/tls_cert.h"
#include "util/base64.h"
#include "util/log.h"
#include "whisk/identity.h"

namespace wisp::cli {
namespace {

using namespace std::chrono_literals;

constexpr char kAdmin[] = "admin:limits-admin";
constexpr char kGuestBase[] = "/api/v1/namespaces/guest";

uint16_t PortOf(const std::string& url) { return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1))); }

class LimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(testing::SilenceLogs().ok());
  }

  // Starts the server with the defaults of `wisp serve`, changed by `configure`.
  void Start(const std::function<void(ServeOptions&)>& configure = {}) {
    ServeOptions o = testing::LoopbackServeOptions(dir_.path() + "/data", kAdmin);
    o.dev = true;  // the well-known guest key
    if (configure) configure(o);
    Result<std::unique_ptr<WispServer>> server = WispServer::Start(o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  // A call as the guest (`whisk` true, on the OpenWhisk port) or as the
  // CouchDB admin (on the CouchDB port).
  http::ClientResponse Call(bool whisk, const std::string& method, const std::string& path,
                            const std::string& body = "", const std::string& content_type = "application/json") {
    http::ClientRequest request;
    request.method = method;
    request.url = (whisk ? server_->api_url() : server_->couch_url()) + path;
    request.headers.Set("Authorization",
                        "Basic " + Base64Encode(whisk ? std::string(whisk::kDevGuestCredential) : std::string(kAdmin)));
    if (!body.empty()) {
      request.headers.Set("Content-Type", content_type);
      request.body = body;
    }
    Result<http::ClientResponse> response = client_.Send(request);
    EXPECT_TRUE(response.ok()) << method << " " << path << ": " << response.status().ToString();
    return response.ok() ? *response : http::ClientResponse{};
  }
  http::ClientResponse Whisk(const std::string& method, const std::string& path, const std::string& body = "") {
    return Call(true, method, std::string(kGuestBase) + path, body);
  }
  http::ClientResponse Couch(const std::string& method, const std::string& path, const std::string& body = "",
                             const std::string& content_type = "application/json") {
    return Call(false, method, path, body, content_type);
  }

  // What a raw connection read until the server closed it, as a response
  // (status and body; the server's own errors carry Content-Length).
  static http::ClientResponse RawResponse(const std::string& out) {
    http::ClientResponse r;
    std::smatch m;
    if (std::regex_search(out, m, std::regex("^HTTP/1\\.1 (\\d{3}) "))) r.status = std::stoi(m[1]);
    if (const size_t end = out.find("\r\n\r\n"); end != std::string::npos) r.body = out.substr(end + 4);
    return r;
  }

  static Json BodyOf(const http::ClientResponse& r) {
    Result<Json> body = json::Parse(r.body);
    return body.ok() ? *body : Json();
  }

  // OpenWhisk's error shape: {"error": `message`, "code": <the request id>}.
  static void ExpectWhiskError(const http::ClientResponse& r, int status, const std::string& message_pattern) {
    EXPECT_EQ(r.status, status) << r.body;
    const Json body = BodyOf(r);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_TRUE(std::regex_match(json::GetString(body, "error"), std::regex(message_pattern))) << r.body;
    EXPECT_FALSE(json::GetString(body, "code").empty()) << r.body;
  }

  // CouchDB's error shape: {"error": `error`, "reason": ...}.
  static void ExpectCouchError(const http::ClientResponse& r, int status, const std::string& error,
                               const std::string& reason_pattern = ".*") {
    EXPECT_EQ(r.status, status) << r.body;
    const Json body = BodyOf(r);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_EQ(json::GetString(body, "error"), error) << r.body;
    EXPECT_TRUE(std::regex_match(json::GetString(body, "reason"), std::regex(reason_pattern))) << r.body;
  }

  // The open _changes feeds of the database `db`, from /metrics; -1 when unknown.
  int OpenFeeds() {
    http::ClientRequest metrics;
    metrics.url = server_->api_url() + "/metrics";
    metrics.headers.Set("Authorization", "Basic " + Base64Encode(kAdmin));
    Result<http::ClientResponse> r = client_.Send(metrics);
    if (!r.ok()) return -1;
    std::smatch m;
    return std::regex_search(r->body, m, std::regex("wisp_store_changes_listeners\\{db=\"db\"\\} (\\d+)"))
               ? std::stoi(m[1])
               : -1;
  }
  // Polls OpenFeeds() until it is `want`, for up to 10 s.
  bool WaitForFeeds(int want) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (OpenFeeds() != want && std::chrono::steady_clock::now() < deadline) {
    }
    return OpenFeeds() == want;
  }

  void PutEcho(const std::string& name) {
    ASSERT_EQ(
        Whisk("PUT", "/actions/" + name + "?overwrite=true", R"({"exec":{"kind":"builtin","code":"echo"}})").status,
        200);
  }

  testing::TempDir dir_;
  std::unique_ptr<WispServer> server_;
  http::Client client_;
};

// --- OpenWhisk ------------------------------------------------------------

TEST_F(LimitsTest, InvokePayloadOverTheLimitGets413WithOpenWhisksMessage) {
  Start([](ServeOptions& o) { o.max_payload_bytes = 4096; });
  PutEcho("echo");
  const std::string payload = json::Dump(Json{{"text", std::string(5000, 'x')}});
  ExpectWhiskError(Whisk("POST", "/actions/echo?blocking=true", payload), 413,
                   "Request larger than allowed: " + std::to_string(payload.size()) + " > 4096 bytes\\.");
  // Trigger fires have the same limit.
  ASSERT_EQ(Whisk("PUT", "/triggers/tick", "{}").status, 200);
  ExpectWhiskError(Whisk("POST", "/triggers/tick", payload), 413, "Request larger than allowed: \\d+ > 4096 bytes\\.");
  // At the limit it runs.
  EXPECT_EQ(Whisk("POST", "/actions/echo?blocking=true", json::Dump(Json{{"text", "small"}})).status, 200);
}

TEST_F(LimitsTest, ParametersOverTheLimitGet413) {
  Start([](ServeOptions& o) { o.max_parameter_bytes = 1024; });
  const Json parameters = Json::array({{{"key", "big"}, {"value", std::string(2000, 'p')}}});
  ExpectWhiskError(
      Whisk("PUT", "/actions/echo",
            json::Dump(Json{{"exec", {{"kind", "builtin"}, {"code", "echo"}}}, {"parameters", parameters}})),
      413, "Request larger than allowed: \\d+ > 1024 bytes\\.");
  ExpectWhiskError(Whisk("PUT", "/packages/pkg", json::Dump(Json{{"parameters", parameters}})), 413,
                   "Request larger than allowed: \\d+ > 1024 bytes\\.");
  ExpectWhiskError(Whisk("PUT", "/triggers/tick", json::Dump(Json{{"parameters", parameters}})), 413,
                   "Request larger than allowed: \\d+ > 1024 bytes\\.");
}

TEST_F(LimitsTest, CodeOverTheLimitGets413) {
  Start([](ServeOptions& o) { o.max_code_bytes = 1000; });
  const std::string code = "function main(args) { return {s: '" + std::string(1200, 'c') + "'}; }";
  ExpectWhiskError(Whisk("PUT", "/actions/big", json::Dump(Json{{"exec", {{"kind", "nodejs:20"}, {"code", code}}}})),
                   413, "Request larger than allowed: " + std::to_string(code.size()) + " > 1000 bytes\\.");
}

// An action's code is bounded by --max-code-bytes (OpenWhisk's 48 MB), not
// by the store's CouchDB document limit: a 13 MB zip from `wisp export
// openwhisk` got 413 "guest/big" from the store before.
TEST_F(LimitsTest, CodeUnderTheLimitIsStoredWhateverTheDocumentLimit) {
  Start([](ServeOptions& o) {
    o.max_document_bytes = 100'000;
    o.max_code_bytes = 1'000'000;
  });
  const std::string code = "function main(args) { return {s: '" + std::string(300'000, 'c') + "'}; }";
  const http::ClientResponse put =
      Whisk("PUT", "/actions/big", json::Dump(Json{{"exec", {{"kind", "nodejs:20"}, {"code", code}}}}));
  ASSERT_EQ(put.status, 200) << put.body.substr(0, 300);
  const Json action = BodyOf(Whisk("GET", "/actions/big"));
  EXPECT_EQ(json::GetString(action["exec"], "code"), code);
  // The CouchDB API keeps its own limit for users' documents.
  const http::ClientResponse doc = Couch("PUT", "/users-db", "");
  ASSERT_EQ(doc.status, 201) << doc.body;
  const http::ClientResponse large =
      Couch("PUT", "/users-db/large", json::Dump(Json{{"text", std::string(200'000, 'x')}}));
  EXPECT_EQ(large.status, 413) << large.body;
}

TEST_F(LimitsTest, ResultOverTheLimitMakesTheActivationAnApplicationError) {
  Start([](ServeOptions& o) { o.max_result_bytes = 1000; });
  PutEcho("echo");
  const http::ClientResponse r =
      Whisk("POST", "/actions/echo?blocking=true", json::Dump(Json{{"text", std::string(3000, 'r')}}));
  EXPECT_EQ(r.status, 502) << r.body;
  const Json record = BodyOf(r);
  EXPECT_EQ(record["response"]["status"], "application error") << r.body;
  EXPECT_TRUE(std::regex_match(
      json::GetString(record["response"]["result"], "error"),
      std::regex("The action produced a response that exceeded the allowed length: \\d+ > 1000 bytes\\. "
                 "The truncated response was: .*")))
      << r.body;
}

TEST_F(LimitsTest, SequenceLongerThanTheLimitGets400) {
  Start([](ServeOptions& o) { o.sequence_max_length = 3; });
  PutEcho("echo");
  const auto sequence = [](int n) {
    Json components = Json::array();
    for (int i = 0; i < n; ++i) components.push_back("/guest/echo");
    return json::Dump(Json{{"exec", {{"kind", "sequence"}, {"components", components}}}});
  };
  EXPECT_EQ(Whisk("PUT", "/actions/three", sequence(3)).status, 200);
  ExpectWhiskError(Whisk("PUT", "/actions/four", sequence(4)), 400, "Too many actions in the sequence\\.");
}

TEST_F(LimitsTest, ActionLimitsOutOfRangeGet400) {
  Start();
  for (const char* limits : {R"({"timeout":300001})", R"({"memory":513})", R"({"logs":11})", R"({"timeout":99})"}) {
    ExpectWhiskError(Whisk("PUT", "/actions/echo",
                           R"({"exec":{"kind":"builtin","code":"echo"},"limits":)" + std::string(limits) + "}"),
                     400,
                     "The request content was malformed:\\nrequirement failed: .*(exceeds|below) allowed "
                     "threshold of \\d+ .*");
  }
}

TEST_F(LimitsTest, BlockingWaitOutOfRangeGets400) {
  Start();
  PutEcho("echo");
  for (const char* timeout : {"0", "60001", "soon"}) {
    ExpectWhiskError(Whisk("POST", std::string("/actions/echo?blocking=true&timeout=") + timeout, "{}"), 400,
                     "Timeout must be number of milliseconds up to 60000\\.");
  }
  EXPECT_EQ(Whisk("POST", "/actions/echo?blocking=true&timeout=60000", "{}").status, 200);
}

// The per-minute throttles count per clock minute, so the loop allows one
// roll-over; the count in the message is the caller's, one past the limit.
TEST_F(LimitsTest, InvocationsPerMinuteOverTheLimitGet429) {
  Start([](ServeOptions& o) { o.invocations_per_minute = 3; });
  PutEcho("echo");
  http::ClientResponse r;
  for (int i = 0; i < 8 && r.status != 429; ++i) r = Whisk("POST", "/actions/echo?blocking=true", "{}");
  ExpectWhiskError(r, 429, "Too many requests in the last minute \\(count: 4, allowed: 3\\)\\.");
}

TEST_F(LimitsTest, FiresPerMinuteOverTheLimitGet429) {
  Start([](ServeOptions& o) { o.fires_per_minute = 2; });
  PutEcho("echo");
  ASSERT_EQ(Whisk("PUT", "/triggers/tick", "{}").status, 200);
  // Only a fire that has an active rule to run counts, as in OpenWhisk.
  ASSERT_EQ(Whisk("PUT", "/rules/tock", R"({"trigger":"/guest/tick","action":"/guest/echo"})").status, 200);
  http::ClientResponse r;
  for (int i = 0; i < 6 && r.status != 429; ++i) r = Whisk("POST", "/triggers/tick", "{}");
  ExpectWhiskError(r, 429, "Too many requests in the last minute \\(count: 3, allowed: 2\\)\\.");
}

// --- CouchDB --------------------------------------------------------------

TEST_F(LimitsTest, DocumentOverTheLimitGets413DocumentTooLarge) {
  Start([](ServeOptions& o) { o.max_document_bytes = 1000; });
  ASSERT_EQ(Couch("PUT", "/db").status, 201);
  const std::string big = json::Dump(Json{{"text", std::string(2000, 'd')}});
  ExpectCouchError(Couch("PUT", "/db/big", big), 413, "document_too_large", "big");
  // In _bulk_docs the refusal is per document, and the others are written.
  const http::ClientResponse bulk = Couch(
      "POST", "/db/_bulk_docs", R"({"docs":[{"_id":"small"},)" + big.substr(0, big.size() - 1) + R"(,"_id":"big"}]})");
  EXPECT_EQ(bulk.status, 201) << bulk.body;
  const Json results = BodyOf(bulk);
  ASSERT_EQ(results.size(), 2u) << bulk.body;
  EXPECT_EQ(results[0].value("ok", false), true) << bulk.body;
  EXPECT_EQ(results[1], Json({{"id", "big"}, {"error", "document_too_large"}, {"reason", "big"}})) << bulk.body;
}

TEST_F(LimitsTest, AttachmentOverTheLimitGets413AttachmentTooLarge) {
  Start([](ServeOptions& o) { o.max_attachment_bytes = 1000; });
  ASSERT_EQ(Couch("PUT", "/db").status, 201);
  ExpectCouchError(Couch("PUT", "/db/doc/big.bin", std::string(1500, 'a'), "application/octet-stream"), 413,
                   "attachment_too_large", "big\\.bin");
  const Json inline_doc = {
      {"_attachments",
       {{"big.txt", {{"content_type", "text/plain"}, {"data", Base64Encode(std::string(1500, 'b'))}}}}}};
  ExpectCouchError(Couch("PUT", "/db/inline", json::Dump(inline_doc)), 413, "attachment_too_large", "big\\.txt");
  EXPECT_EQ(Couch("PUT", "/db/doc/small.bin", std::string(1000, 'a'), "application/octet-stream").status, 201);
}

TEST_F(LimitsTest, BulkRequestsOverTheCountGet413) {
  Start([](ServeOptions& o) {
    o.max_bulk_docs_count = 3;
    o.max_bulk_get_count = 2;
  });
  ASSERT_EQ(Couch("PUT", "/db").status, 201);
  ExpectCouchError(Couch("POST", "/db/_bulk_docs", R"({"docs":[{},{},{},{}]})"), 413, "max_bulk_docs_count_exceeded",
                   "3");
  EXPECT_EQ(Couch("POST", "/db/_bulk_docs", R"({"docs":[{},{},{}]})").status, 201);
  ExpectCouchError(Couch("POST", "/db/_bulk_get", R"({"docs":[{"id":"a"},{"id":"b"},{"id":"c"}]})"), 413,
                   "max_bulk_get_count_exceeded", "2");
}

TEST_F(LimitsTest, FeedsOverTheLimitGet503) {
  Start([](ServeOptions& o) { o.max_feeds = 1; });
  ASSERT_EQ(Couch("PUT", "/db").status, 201);
  testing::RawConnection waiting(PortOf(server_->couch_url()));
  ASSERT_TRUE(waiting.Send("GET /db/_changes?feed=longpoll&timeout=30000 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " +
                           Base64Encode(kAdmin) + "\r\n\r\n"));
  ASSERT_TRUE(WaitForFeeds(1));
  ExpectCouchError(Couch("GET", "/db/_changes?feed=longpoll&timeout=30000"), 503, "service_unavailable",
                   "Too many open change feeds; try again later\\.");
  EXPECT_EQ(Couch("GET", "/db/_changes").status, 200) << "a normal feed does not wait, so it takes no feed slot";
}

// --- HTTP, on both ports, each in its ecosystem's shape ---------------------

TEST_F(LimitsTest, BodyOverTheLimitGets413InEachPortsShape) {
  Start([](ServeOptions& o) { o.limits.max_body_bytes = 10'000; });
  for (bool whisk : {true, false}) {
    testing::RawConnection conn(PortOf(whisk ? server_->api_url() : server_->couch_url()));
    // Only the header is sent: Content-Length alone gets the answer.
    ASSERT_TRUE(conn.Send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n"));
    const http::ClientResponse r = RawResponse(conn.ReadUntilClosed(5s));
    const std::string message = "request body is over the limit of 10000 bytes";
    if (whisk) {
      ExpectWhiskError(r, 413, message);
    } else {
      ExpectCouchError(r, 413, "too_large", message);
    }
  }
}

TEST_F(LimitsTest, LongUrlGets414AndLargeHeaderGets431InEachPortsShape) {
  Start([](ServeOptions& o) { o.limits.max_header_bytes = 2048; });
  const std::string long_path = "/" + std::string(3000, 'u');
  ExpectWhiskError(Call(true, "GET", long_path), 414, "request line is over the header limit of 2048 bytes");
  ExpectCouchError(Call(false, "GET", long_path), 414, "too_long",
                   "request line is over the header limit of 2048 bytes");

  http::ClientRequest big_header;
  big_header.headers.Set("X-Big", std::string(3000, 'h'));
  for (bool whisk : {true, false}) {
    big_header.url = (whisk ? server_->api_url() : server_->couch_url()) + "/";
    Result<http::ClientResponse> r = client_.Send(big_header);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (whisk) {
      ExpectWhiskError(*r, 431, "request header is over the limit of 2048 bytes");
    } else {
      ExpectCouchError(*r, 431, "header_too_large", "request header is over the limit of 2048 bytes");
    }
  }
}

// 100,000 nested arrays: refused with a 400 before anything recurses, on
// both ports, and the server answers the next request.
TEST_F(LimitsTest, DeeplyNestedJsonGets400OnBothPortsAndTheServerLives) {
  Start();
  PutEcho("echo");
  const std::string nested = "{\"a\":" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  ExpectWhiskError(Whisk("POST", "/actions/echo?blocking=true", nested), 400,
                   "The request content was malformed:\\nJSON nests deeper than 512 levels");
  ExpectWhiskError(Whisk("PUT", "/actions/deep", nested), 400,
                   "The request content was malformed:\\nJSON nests deeper than 512 levels");
  ASSERT_EQ(Couch("PUT", "/db").status, 201);
  ExpectCouchError(Couch("PUT", "/db/deep", nested), 400, "bad_request", "JSON nests deeper than 512 levels");
  ExpectCouchError(Couch("POST", "/db/_bulk_docs", "{\"docs\":[" + nested + "]}"), 400, "bad_request",
                   "JSON nests deeper than 512 levels");
  EXPECT_EQ(Whisk("POST", "/actions/echo?blocking=true", "{}").status, 200);
  EXPECT_EQ(Couch("GET", "/db").status, 200);
}

TEST_F(LimitsTest, ConnectionsOverTheCapGet503InEachPortsShape) {
  Start([](ServeOptions& o) { o.limits.max_connections = 2; });
  for (bool whisk : {true, false}) {
    const uint16_t port = PortOf(whisk ? server_->api_url() : server_->couch_url());
    const std::string request = std::string("GET ") + (whisk ? "/ping" : "/_up") + " HTTP/1.1\r\nHost: x\r\n\r\n";
    testing::RawConnection a(port);
    testing::RawConnection b(port);
    // Both are accepted and counted (they have answered) before the third arrives.
    ASSERT_TRUE(a.Send(request));
    ASSERT_TRUE(b.Send(request));
    ASSERT_NE(a.ReadUntil("\r\n\r\n", 5s).find(" 200 "), std::string::npos);
    ASSERT_NE(b.ReadUntil("\r\n\r\n", 5s).find(" 200 "), std::string::npos);
    testing::RawConnection c(port);
    ASSERT_TRUE(c.connected());
    const std::string out = c.ReadUntilClosed(5s);
    EXPECT_NE(out.find("Retry-After: 1"), std::string::npos) << out;
    if (whisk) {
      ExpectWhiskError(RawResponse(out), 503, "too many open connections");
    } else {
      ExpectCouchError(RawResponse(out), 503, "service_unavailable", "too many open connections");
    }
  }
}

// A continuous _changes reader that stops reading: the feed stops producing
// once it is 1 MiB ahead of the socket, and the server drops the connection
// after --write-timeout-ms, which ends the feed (and frees its thread).
TEST_F(LimitsTest, ChangesReaderThatStopsReadingIsDroppedAfterTheWriteTimeout) {
  Start([](ServeOptions& o) { o.limits.write_timeout = 300ms; });
  ASSERT_EQ(Couch("PUT", "/db").status, 201);
  testing::RawConnection reader(PortOf(server_->couch_url()), /*receive_buffer_bytes=*/4096);
  ASSERT_TRUE(
      reader.Send("GET /db/_changes?feed=continuous&include_docs=true&heartbeat=30000 HTTP/1.1\r\n"
                  "Host: x\r\nAuthorization: Basic " +
                  Base64Encode(kAdmin) + "\r\n\r\n"));
  ASSERT_TRUE(WaitForFeeds(1));
  // 12 MB of changes: more than the socket buffers and the feed's backlog hold.
  Json docs = Json::array();
  for (int i = 0; i < 10; ++i) docs.push_back({{"text", std::string(200'000, static_cast<char>('a' + i))}});
  for (int batch = 0; batch < 6; ++batch) {
    ASSERT_EQ(Couch("POST", "/db/_bulk_docs", json::Dump(Json{{"docs", docs}})).status, 201);
  }
  EXPECT_TRUE(WaitForFeeds(0)) << "the feed of a reader that stopped reading must end";
  bool closed = false;
  const std::string out = reader.ReadUntilClosed(10s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(out.find("last_seq"), std::string::npos) << "the feed was cut, not finished";
  EXPECT_EQ(Couch("GET", "/db").status, 200);
}

// Slowloris: a client that opens a connection and sends its header slowly
// (or, on a TLS port, never finishes its handshake) is cut off after
// --header-timeout-ms, without an answer, on both ports.
TEST_F(LimitsTest, SlowClientsAreCutOffOnBothPortsWithAndWithoutTls) {
  const testing::TestCertificates certs = testing::MakeTestCertificates();
  for (bool tls : {false, true}) {
    SCOPED_TRACE(tls ? "TLS" : "plain");
    server_.reset();
    Start([&](ServeOptions& o) {
      o.limits.header_timeout = 300ms;
      if (tls) {
        o.tls_cert = certs.server_cert_file;
        o.tls_key = certs.server_key_file;
      }
    });
    for (const std::string& url : {server_->api_url(), server_->couch_url()}) {
      testing::RawConnection slow(PortOf(url));
      // Plain: half a header. TLS: the first bytes of a ClientHello record.
      ASSERT_TRUE(slow.Send(tls ? std::string("\x16\x03\x01", 3) : std::string("GET / HTTP/1.1\r\nHost: x\r\n")));
      const auto start = std::chrono::steady_clock::now();
      bool closed = false;
      const std::string out = slow.ReadUntilClosed(10s, &closed);
      EXPECT_TRUE(closed) << url;
      EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << url;
      EXPECT_EQ(out, "") << url;
    }
  }
}

}  // namespace
}  // namespace wisp::cli
