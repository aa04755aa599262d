#include "testing/http_test_server.h"

#include <gtest/gtest.h>

namespace wisp::testing {

http::ServerOptions TestServer::DefaultServerOptions() {
  http::ServerOptions o;
  o.io_threads = 2;
  o.worker_threads = 4;
  return o;
}

TestServer::TestServer(http::ListenerOptions listener, http::ServerOptions server) {
  listener.port = 0;
  listener.bind = "127.0.0.1";
  const bool tls = !listener.tls_cert_file.empty();
  if (!server.metrics) server.metrics = &metrics_;
  server_ = std::make_unique<http::Server>(server);
  server_->AddListener(std::move(listener));
  Status s = server_->Start();
  EXPECT_TRUE(s.ok()) << s.ToString();
  base_url_ = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(server_->port(0));
}

TestServer::~TestServer() { server_->Stop(std::chrono::milliseconds(1000)); }

}  // namespace wisp::testing
