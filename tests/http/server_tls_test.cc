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
    ListenerOptions o;
    o.router = router;
    o.tls_cert_file = certs_.server_cert_file;
    o.tls_key_file = certs_.server_key_file;
    server_ = std::make_unique<TestServer>(o);
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

TEST_F(ServerTls, ClientNotTrustingTheCaFailsVerification) {
  auto r = Client().Get("https://localhost:" + std::to_string(server_->port()) + "/ping");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
}

TEST_F(ServerTls, PlainHttpToTheTlsPortGetsNoPage) {
  auto r = Client().Get("http://127.0.0.1:" + std::to_string(server_->port()) + "/ping");
  EXPECT_FALSE(r.ok() && r->status == 200) << "plain HTTP must not be served on a TLS port";
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
