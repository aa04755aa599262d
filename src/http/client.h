// Client: outbound HTTP(S) over libcurl.
//
// A failed transport (refused, reset, timed out, bad TLS) is an error Status;
// any reply from the peer, 4xx and 5xx included, is a ClientResponse, and the
// caller decides what it means.
//
//   Client client;
//   Result<ClientResponse> r = client.Send({.method = "GET", .url = url});
//   if (!r.ok()) return r.status();       // the network failed
//   if (r->status == 429) ...             // the peer said no
//
// Connections are kept alive and reused between requests; gzip and deflate
// bodies are decoded transparently.
//
// Thread-safety: Send() may be called from any thread; concurrent calls use
// separate connections.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "util/result.h"

namespace wisp::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{30'000};          // the whole exchange
  std::chrono::milliseconds connect_timeout{10'000};
  // When set, body bytes are handed here as they arrive instead of being
  // collected; returning false aborts the transfer (with a Cancelled error).
  std::function<bool(std::string_view)> on_data;
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

struct ClientOptions {
  std::string user_agent = "wisp";
  std::string ca_file;        // extra trust anchor (PEM), e.g. a test CA
  bool verify_peer = true;
  size_t max_idle_handles = 8;  // connections kept open for reuse
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Performs one exchange. Fails with Unavailable (connection), DeadlineExceeded
  // (timeout), Cancelled (on_data said stop) or InvalidArgument (bad URL).
  Result<ClientResponse> Send(const ClientRequest& request);

  Result<ClientResponse> Get(std::string url);
  Result<ClientResponse> Post(std::string url, std::string body, std::string_view content_type = "application/json");

 private:
  void* TakeHandle();
  void ReturnHandle(void* handle);

  ClientOptions options_;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL*, GUARDED_BY(mu_)
};

}  // namespace wisp::http
