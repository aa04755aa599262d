// A real wisp HTTP server on an ephemeral loopback port, for tests that talk
// to it over the network with the real libcurl client (as cpp-httplib's
// test fixture does).
#pragma once

#include <memory>
#include <string>

#include "http/server.h"
#include "util/metrics.h"

namespace wisp::testing {

class TestServer {
 public:
  // Starts `listener` (its port is forced to 0) with a small thread setup.
  // Fails the current test when the server cannot start.
  explicit TestServer(http::ListenerOptions listener, http::ServerOptions server = DefaultServerOptions());
  ~TestServer();

  // "http://127.0.0.1:PORT" (https when the listener has TLS).
  std::string base_url() const { return base_url_; }
  uint16_t port() const { return server_->port(0); }
  http::Server& server() { return *server_; }
  MetricsRegistry& metrics() { return metrics_; }

  static http::ServerOptions DefaultServerOptions();

 private:
  MetricsRegistry metrics_;
  std::unique_ptr<http::Server> server_;
  std::string base_url_;
};

}  // namespace wisp::testing
