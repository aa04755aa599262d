// HTTPS with a certificate generated for the test.
#include <gtest/gtest.h>

#include "http/client.h"
#include "http/server.h"
#include "testing/http_test_server.h"
#include "testing/tls_cert.h"

namespace wisp::http {
namespace {

using testing::TestServer;

class ServerTls : public ::testing::Test {
 protected:
  void SetUp() override {
    certs_ = testing::MakeTestCertificates();
    auto router = std::make_shared<Router>();
    router->Get("/ping", [](Request& r) { return Response::Text(200, r.tls ? "pong over tls" : "pong"); });
    router->Get("/big", [](Request&) { return Response::Text(200, BigBody()); });
    ListenerOptions o;
    o.router = router;
    o.tls_cert_file = certs_.server_cert_file;
    o.tls_key_file = certs_.server_key_file;
    server_ = std::make_unique<TestServer>(o);
  }

  // Over one TLS record (16 KB), and not one byte repeated all through.
  static std::string BigBody() {
    std::string body;
    for (int i = 0; body.size() < 150'000; ++i) body += std::to_string(i) + ",";
    return body;
  }

  testing::TestCertificates certs_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(ServerTls, ClientTrustingTheCaGetsAnAnswer) {
  ClientOptions options;
  options.ca_file = certs_.ca_cert_file;
  Client client(options);
  auto r = client.Get("https://localhost:" + std::to_string(server_->port()) + "/ping");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "pong over tls");
  // And keep-alive works over TLS too.
  auto again = client.Get("https://127.0.0.1:" + std::to_string(server_->port()) + "/ping");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
}

// The dashboard's scripts are such bodies: each must arrive whole.
TEST_F(ServerTls, BodiesLargerThanOneTlsRecordArriveWhole) {
  ClientOptions options;
  options.ca_file = certs_.ca_cert_file;
  Client client(options);
  for (int i = 0; i < 2; ++i) {  // and again on the same connection
    auto r = client.Get("https://localhost:" + std::to_string(server_->port()) + "/big");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, BigBody());
  }
}

TEST_F(ServerTls, ClientNotTrustingTheCaFailsVerification) {
  auto r = Client().Get("https://localhost:" + std::to_string(server_->port()) + "/ping");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
}

TEST_F(ServerTls, PlainHttpToTheTlsPortGetsA400NamingTheHttpsUrl) {
  const std::string port = std::to_string(server_->port());
  auto r = Client().Get("http://127.0.0.1:" + port + "/ping?x=1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400) << "plain HTTP must not be served on a TLS port";
  EXPECT_NE(r->body.find("https://127.0.0.1:" + port + "/ping?x=1"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("pong"), std::string::npos);
}

class ServerHttpsRedirect : public ServerTls {
 protected:
  void SetUp() override {
    certs_ = testing::MakeTestCertificates();
    auto router = std::make_shared<Router>();
    router->Get("/ping", [](Request& r) { return Response::Text(200, r.tls ? "pong over tls" : "pong"); });
    router->Post("/echo", [](Request& r) { return Response::Text(200, r.body); });
    ListenerOptions o;
    o.router = router;
    o.tls_cert_file = certs_.server_cert_file;
    o.tls_key_file = certs_.server_key_file;
    o.https_redirect = true;
    server_ = std::make_unique<TestServer>(o);
  }
};

TEST_F(ServerHttpsRedirect, PlainGetIsMovedPermanentlyToTheSameUrlOverHttps) {
  const std::string port = std::to_string(server_->port());
  auto r = Client().Get("http://localhost:" + port + "/ping?x=%2F");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 301);
  EXPECT_EQ(r->headers.GetOr("Location"), "https://localhost:" + port + "/ping?x=%2F");
  EXPECT_EQ(r->body.find("pong"), std::string::npos);

  // Following it, with the CA trusted, reaches the page over TLS.
  ClientOptions trusting;
  trusting.ca_file = certs_.ca_cert_file;
  auto followed = Client(trusting).Get(r->headers.GetOr("Location"));
  ASSERT_TRUE(followed.ok()) << followed.status().ToString();
  EXPECT_EQ(followed->body, "pong over tls");
}

TEST_F(ServerHttpsRedirect, PlainPostGets308SoTheMethodAndBodySurvive) {
  const std::string port = std::to_string(server_->port());
  auto r = Client().Post("http://127.0.0.1:" + port + "/echo", std::string(100'000, 'x'));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 308);
  EXPECT_EQ(r->headers.GetOr("Location"), "https://127.0.0.1:" + port + "/echo");
}

TEST_F(ServerHttpsRedirect, AHostHeaderThatIsNotAHostCannotSteerTheRedirect) {
  const std::string port = std::to_string(server_->port());
  ClientRequest request;
  request.url = "http://127.0.0.1:" + port + "/ping";
  request.headers.Set("Host", "evil.example/phish?");
  auto r = Client().Send(request);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 301);
  EXPECT_EQ(r->headers.GetOr("Location"), "https://127.0.0.1:" + port + "/ping");
}

TEST_F(ServerHttpsRedirect, TlsClientsAreServedAsBefore) {
  ClientOptions options;
  options.ca_file = certs_.ca_cert_file;
  auto r = Client(options).Get("https://localhost:" + std::to_string(server_->port()) + "/ping");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "pong over tls");
}

TEST(ServerTlsConfig, StartFailsClearlyOnAMissingCertificate) {
  Server server(TestServer::DefaultServerOptions());
  ListenerOptions o;
  o.tls_cert_file = "/nonexistent/cert.pem";
  o.tls_key_file = "/nonexistent/key.pem";
  server.AddListener(o);
  Status s = server.Start();
  EXPECT_TRUE(s.IsIoError()) << s.ToString();
  EXPECT_NE(s.message().find("/nonexistent/cert.pem"), std::string::npos);
}

}  // namespace
}  // namespace wisp::http
