// The HTTP request and response as handlers see them.
//
// These are wisp's own types, so that no Beast or Asio type leaks out of the
// http module. A handler receives a Request with its path parameters already
// percent-decoded, and returns a Response: a whole body; a BodyStream that
// it (or anything it hands the stream to) fills over time; or a
// DeferredResponse that something else completes later, so that a handler
// which waits (a blocking invoke) does not hold a worker thread meanwhile.
//
// Thread-safety: Request and Response are values. BodyStream and
// DeferredResponse are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/url.h"

namespace wisp::http {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kOptions, kPatch, kCopy, kOther };

std::string_view MethodName(Method m);
Method ParseMethod(std::string_view name);

// Case-insensitive header names; order and duplicates are kept as sent.
class Headers {
 public:
  // The first value of `name`, or nullopt.
  std::optional<std::string> Get(std::string_view name) const;
  // The first value of `name`, or "".
  std::string GetOr(std::string_view name, std::string_view fallback = "") const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  // Replaces every value of `name` with `value`.
  void Set(std::string_view name, std::string_view value);
  // Adds a value, keeping the others (Set-Cookie, Vary).
  void Add(std::string_view name, std::string_view value);
  void Remove(std::string_view name);

  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct Request {
  Method method = Method::kGet;
  std::string method_name;           // as sent, e.g. "COPY"
  std::string target;                // raw request target: path and query
  std::string path;                  // raw path, not decoded
  std::vector<std::string> segments; // the path split on '/', each percent-decoded
  QueryParams query;
  Headers headers;
  std::string body;
  int http_version = 11;             // 10 or 11

  // Filled by the router: "{name}" parameters, and "{rest...}" joined by '/'.
  std::map<std::string, std::string, std::less<>> params;
  // The pattern of the route that matched, e.g. "/api/v1/namespaces/{ns}".
  std::string route;

  std::string request_id;            // X-Request-ID, taken or generated
  std::string remote_address;
  uint64_t connection_id = 0;        // the same for every request on one connection
  bool tls = false;

  // The path parameter `name`, or "" when the route has none.
  const std::string& Param(std::string_view name) const;
};

// A response body written over time: chunked on HTTP/1.1.
//
// The producer calls Write() any number of times and then Close(). Write()
// returns false once the client has gone or the server is stopping, which
// tells the producer to stop.
class BodyStream {
 public:
  bool Write(std::string_view chunk);
  void Close();
  bool client_gone() const;
  size_t buffered_bytes() const;
  // Blocks the producer while more than `max_buffered` bytes wait to be
  // taken, so a client that reads slowly holds at most that much of the
  // producer's output in memory. True once there is room; false when the
  // client has gone or `deadline` passed first.
  bool WaitForRoom(size_t max_buffered, std::chrono::steady_clock::time_point deadline);

  // --- for the server ---
  enum class Take { kData, kEmpty, kClosed };
  // Moves all buffered data into `out`. kClosed once closed and drained.
  Take TakeData(std::string& out);
  // `wake` is called (from the producer's thread) after each Write or Close.
  void SetWaker(std::function<void()> wake);
  // The connection is over: drop the waker, fail later writes.
  void Detach();

 private:
  mutable std::mutex mu_;
  std::string buffer_;               // GUARDED_BY(mu_)
  bool closed_ = false;              // GUARDED_BY(mu_)
  bool gone_ = false;                // GUARDED_BY(mu_)
  std::function<void()> wake_;       // GUARDED_BY(mu_)
  std::condition_variable room_;     // signalled when data is taken or the client goes
};

struct Response;

// A response that is answered later, from any thread, without holding the
// worker thread that ran the handler. A blocking invoke waits up to a minute
// for its activation; were it to wait on its worker, a few such requests
// would take every worker and the server would stall.
//
// The handler returns the Response made by Response::Deferred() and hands the
// DeferredResponse to whatever finishes the work, which calls Complete()
// once, from any thread. The server then sends that response, on the
// connection's IO thread, as if the handler had returned it: with
// X-Request-ID and CORS headers, counted in the request metrics (its latency
// includes the wait), and before any request pipelined behind it.
//
// Endings other than Complete():
//  - the client closes the connection while waiting: the connection ends at
//    once; client_gone() turns true and Complete() does nothing;
//  - the server stops: a response still pending after Stop()'s grace period
//    is answered 503 by the listener's error renderer;
//  - every copy of the handler's shared_ptr goes without Complete() having
//    been called: the listener's 500 (a bug, but never a hung client).
//
// Thread-safety: thread-safe.
class DeferredResponse {
 public:
  DeferredResponse();
  ~DeferredResponse();
  DeferredResponse(const DeferredResponse&) = delete;
  DeferredResponse& operator=(const DeferredResponse&) = delete;

  // Answers the request with `response` (whole or streamed, not itself
  // deferred). Only the first call counts. Returns false when the response
  // will not be sent: an earlier call completed it, or the connection is over.
  bool Complete(Response response);
  // True once the connection it answers is over (the client went, or the
  // server stopped): the work behind it may stop early.
  bool client_gone() const;

  // --- for the server ---
  enum class State { kPending, kCompleted, kAbandoned };
  // kCompleted moves the response into `out`, once; kAbandoned when the
  // handler's end went away without completing.
  State Take(Response& out);
  // `wake` is called (from the completing thread, under this object's lock,
  // so it must only post) when the response is completed or abandoned.
  void SetWaker(std::function<void()> wake);
  // The connection is over: drop the waker, ignore later completions.
  void Detach();

 private:
  friend struct Response;
  // The last copy of the handler's end went (Response::Deferred()).
  void Abandon();

  mutable std::mutex mu_;
  std::unique_ptr<Response> response_;  // GUARDED_BY(mu_): completed, not yet taken
  bool completed_ = false;              // GUARDED_BY(mu_)
  bool abandoned_ = false;              // GUARDED_BY(mu_)
  bool gone_ = false;                   // GUARDED_BY(mu_)
  std::function<void()> wake_;          // GUARDED_BY(mu_)
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, `body` is ignored and the stream's data is sent as it comes.
  std::shared_ptr<BodyStream> stream;
  // When set, the server waits (holding no thread) for this to be completed
  // and sends what it is completed with; the rest of this Response is ignored.
  std::shared_ptr<DeferredResponse> deferred;
  // Close the connection after this response.
  bool close = false;

  static Response Json(int status, std::string json_text);
  static Response Text(int status, std::string text, std::string_view content_type = "text/plain; charset=utf-8");
  // Starts a streamed response; the returned pair is the response to return
  // and the stream to fill.
  static std::pair<Response, std::shared_ptr<BodyStream>> Streaming(int status, std::string_view content_type);
  // Starts a deferred response; the returned pair is the response to return
  // and the handler's end, to complete later. When the last copy of that end
  // goes without DeferredResponse::Complete() having been called, the
  // request is answered 500.
  static std::pair<Response, std::shared_ptr<DeferredResponse>> Deferred();
};

// The standard reason phrase: 404 -> "Not Found".
std::string_view ReasonPhrase(int status);

}  // namespace wisp::http
