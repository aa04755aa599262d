// Server: HTTP/1.1 over Boost.Beast, with several listeners on one set of
// IO threads and one pool of worker threads.
//
// Each listener has its own port, router, CORS policy, limits, TLS setting
// and error renderer, so the OpenWhisk face (port 3233) and the CouchDB face
// (port 5984) can each answer in their own ecosystem's shape. Handlers never
// see Beast or Asio: they take a Request and return a Response (http/message.h).
//
// What the server does for every listener:
//  - keep-alive and pipelining; chunked streaming for Response::stream;
//  - deferred responses (Response::deferred, http/message.h): the handler
//    returns at once and its worker is free; the connection waits on its IO
//    thread for the completion, watching for the client to close, and then
//    answers as if the handler had returned it (headers, CORS, metrics,
//    pipelined requests after it in order);
//    HEAD for every GET, with the GET's headers and no body;
//  - limits: a header that is too large gets 431 (414 when its request line
//    alone is over the limit: a URL too long), a body over the limit 413
//    (before it is read, when Content-Length says so), a client that is too
//    slow to send its header or body is disconnected, an idle keep-alive
//    connection is closed, and connections over the cap get 503;
//  - X-Request-ID: taken from the request when sane, else generated, and
//    echoed on the response;
//  - a malformed request gets 400 and the connection is closed; a handler
//    that throws gets 500, logged once here;
//  - per-route request counters and a latency histogram in the registry.
//
// Thread-safety: configure, Start() and Stop() from one thread. Handlers run
// concurrently on worker threads (or on IO threads for Dispatch::kInline).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/cors.h"
#include "http/message.h"
#include "http/router.h"
#include "util/metrics.h"
#include "util/status.h"

namespace wisp::http {

struct Limits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 64 * 1024 * 1024;
  // Once a request's first byte arrives, its whole header must arrive within this.
  std::chrono::milliseconds header_timeout{10'000};
  // The body must arrive within this once the header is read.
  std::chrono::milliseconds body_timeout{60'000};
  // A keep-alive connection with no request in flight is closed after this.
  std::chrono::milliseconds idle_timeout{60'000};
  // Each write to the client must finish within this.
  std::chrono::milliseconds write_timeout{60'000};
  // Connections over this (per listener) get 503 and are closed.
  size_t max_connections = 10'000;
};

// Renders an error the server raises itself (404, 405, 413, 414, 431, 400, 500,
// 503) in the listener's ecosystem's shape. `request` may be partly filled
// (no body, no params) when the request was rejected early.
using ErrorRenderer = std::function<Response(int status, std::string_view message, const Request& request)>;

// {"error": "<message>"}: used when a listener names no renderer.
Response DefaultErrorResponse(int status, std::string_view message, const Request& request);

struct ListenerOptions {
  std::string name = "http";         // the `listener` label in metrics and logs
  std::string bind = "127.0.0.1";
  uint16_t port = 0;                 // 0 picks a free port; see Server::port()
  std::string tls_cert_file;         // PEM chain; with tls_key_file, serves HTTPS
  std::string tls_key_file;
  // With TLS, a client that speaks plain HTTP to this port gets a redirect to
  // the same URL over https (301 for GET and HEAD, 308 for the rest, so
  // methods and bodies survive). Without it such a client gets a 400 that
  // names the https URL. Either way nothing is served in the clear.
  bool https_redirect = false;
  CorsPolicy cors;
  Limits limits;
  std::shared_ptr<const Router> router;
  ErrorRenderer render_error;        // empty: DefaultErrorResponse
};

struct ServerOptions {
  size_t io_threads = 0;             // 0: one per core
  size_t worker_threads = 16;        // for Dispatch::kWorker handlers
  MetricsRegistry* metrics = nullptr;  // optional; must outlive the server
};

// Answers one raw HTTP/1.1 request (`bytes`: the request line, the header
// and the body) as a connection of `listener` would, but on the calling
// thread and without a socket: the same parser and limits, routing, handler
// and error rendering. Bytes that end before the request does are treated as
// a client that closed (a 400). The handler runs here even when its route
// says Dispatch::kWorker; a streamed response comes back with its stream
// detached, so its producer sees the client gone. For fuzzing and tests.
Response AnswerRawRequest(const ListenerOptions& listener, std::string_view bytes);

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // Stop()s if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Adds a listener; returns its index. Call before Start().
  size_t AddListener(ListenerOptions options);

  // Binds every listener and starts the threads. Fails with IoError when an
  // address cannot be bound or a TLS file cannot be loaded; then nothing runs.
  Status Start();

  // The port listener `index` is bound to (useful with port 0).
  uint16_t port(size_t index) const;

  // Stops accepting, closes idle connections, lets requests in flight finish
  // for up to `grace`, then closes the rest and joins every thread. A
  // deferred response still pending after `grace` is answered 503 (so
  // complete or end them first, as `wisp serve` does with the controller's
  // blocking invokes). Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  // Connections open right now, across listeners.
  size_t open_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wisp::http
