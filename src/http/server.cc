#include "http/server.h"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "util/ids.h"
#include "util/log.h"
#include "util/thread_pool.h"

namespace wisp::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

// Every connection lives on one io_context's thread, so its sockets, timers
// and coroutines name that context's executor type rather than the
// type-erased any_io_executor, whose copies and calls took a tenth of the
// CPU of a small request.
using Executor = net::io_context::executor_type;
template <typename T>
using awaitable = net::awaitable<T, Executor>;
constexpr net::use_awaitable_t<Executor> use_awaitable;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;
using TcpStream = beast::basic_stream<tcp, Executor>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock, net::wait_traits<std::chrono::steady_clock>, Executor>;

namespace {

constexpr char kRequestIdHeader[] = "X-Request-ID";
constexpr size_t kMaxRequestIdLength = 128;

// A client-supplied request id is echoed only when it is short and printable.
bool SaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Request counters for one route, one slot per status code so the hot path
// takes no lock once a status has been seen.
struct RouteMetrics {
  static constexpr int kMinStatus = 100;
  static constexpr int kMaxStatus = 599;
  Family<Counter>* requests = nullptr;
  std::vector<std::string> labels;  // listener, method, route; status appended
  Histogram* duration = nullptr;
  std::array<std::atomic<Counter*>, kMaxStatus - kMinStatus + 1> by_status{};

  void Record(int status, double seconds) {
    if (!requests) return;
    if (status < kMinStatus || status > kMaxStatus) status = 500;
    auto& slot = by_status[status - kMinStatus];
    Counter* c = slot.load(std::memory_order_acquire);
    if (!c) {
      auto values = labels;
      values.push_back(std::to_string(status));
      c = &requests->WithLabels(values);
      slot.store(c, std::memory_order_release);
    }
    c->Inc();
    duration->Observe(seconds);
  }
};

// What Stop() needs to reach a live connection. Touched only on the
// connection's IO thread, except `phase`.
struct SessionControl {
  enum Phase { kIdle, kBusy, kStreaming };
  std::atomic<int> phase{kIdle};
  bool alive = true;
  bool cancelled = false;              // Stop() cancelled this session
  std::function<void()> cancel_io;     // cancels the socket's pending operations
  Timer* wake = nullptr;               // the stream-wait or deferred-wait timer, while waiting
};


// The request line and header fields of a parsed header, copied into `request`.
template <typename Header>
void FillFromHeader(const Header& header, Request& request) {
  request.http_version = header.version() == 10 ? 10 : 11;
  request.method_name = std::string(View(header.method_string()));
  request.method = ParseMethod(request.method_name);
  request.target = std::string(View(header.target()));
  for (const auto& field : header) request.headers.Add(View(field.name_string()), View(field.value()));
  const std::string_view incoming_id = View(header[kRequestIdHeader]);
  request.request_id = SaneRequestId(incoming_id) ? std::string(incoming_id) : NewId();
}

// Whether a handler's header is one the server writes itself.
bool IsFramingHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Connection") ||
         EqualsIgnoreCase(name, "Transfer-Encoding");
}

// Appends `text` with CR, LF and NUL replaced by spaces: a header value from
// a handler (a web action's, say) can never start another field or response.
void AppendFieldText(std::string& out, std::string_view text) {
  const size_t start = out.size();
  out += text;
  if (text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos) return;
  for (size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0') out[i] = ' ';
  }
}

// Appends the status line and header fields of `response` to `out`, as the
// wire carries them: the handler's fields in order, then Content-Length
// (when `content_length` is set) and the Connection field that `keep_alive`
// needs on this HTTP version. The handler's own framing fields are dropped.
void AppendResponseHead(std::string& out, int http_version, const Response& response,
                        std::optional<size_t> content_length, bool keep_alive) {
  out += http_version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += View(bhttp::obsolete_reason(static_cast<bhttp::status>(response.status)));
  out += "\r\n";
  for (const auto& [name, value] : response.headers.entries()) {
    if (IsFramingHeader(name)) continue;
    AppendFieldText(out, name);
    out += ": ";
    AppendFieldText(out, value);
    out += "\r\n";
  }
  if (content_length) {
    out += "Content-Length: ";
    out += std::to_string(*content_length);
    out += "\r\n";
  }
  if (http_version == 10 && keep_alive) out += "Connection: keep-alive\r\n";
  if (http_version != 10 && !keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
}

// The status and message for a request Beast could not parse.
// `request_line_read` says whether the parser got past the request line.
std::pair<int, std::string> ParseFailure(const beast::error_code& ec, const Limits& limits, bool request_line_read) {
  if (ec == bhttp::error::body_limit) {
    // Content-Length alone was over the limit; the body was never read.
    return {413, "request body is over the limit of " + std::to_string(limits.max_body_bytes) + " bytes"};
  }
  if (ec == bhttp::error::header_limit && !request_line_read) {
    // The URL is too long (414, as CouchDB answers), not the fields (431).
    return {414, "request line is over the header limit of " + std::to_string(limits.max_header_bytes) + " bytes"};
  }
  if (ec == bhttp::error::header_limit) {
    return {431, "request header is over the limit of " + std::to_string(limits.max_header_bytes) + " bytes"};
  }
  return {400, "malformed request: " + ec.message()};
}

// Splits the target and routes the request. Returns the route to run, with
// the request's path, segments, query and params filled; or null with
// `answer` set when the listener answers by itself (bad target, no route,
// wrong method, a CORS preflight).
const Route* RouteRequest(const ListenerOptions& options, Request& request, Response& answer) {
  auto target = SplitTarget(request.target);
  if (!target.ok()) {
    answer = options.render_error(400, target.status().message(), request);
    return nullptr;
  }
  request.path = std::move(target->path);
  auto segments = SplitPath(request.path);
  if (!segments.ok()) {
    answer = options.render_error(400, "bad path: " + segments.status().message(), request);
    return nullptr;
  }
  request.segments = std::move(*segments);
  auto query = ParseQuery(target->query);
  if (!query.ok()) {
    answer = options.render_error(400, "bad query string: " + query.status().message(), request);
    return nullptr;
  }
  request.query = std::move(*query);

  RouteMatch match = options.router->Match(request.method, request.segments);
  if (!match.route) {
    if (options.cors.IsPreflight(request)) {
      answer = options.cors.Preflight(request);
    } else if (!match.allowed.empty()) {
      answer = options.render_error(405, "method not allowed", request);
      std::string allow;
      for (Method m : match.allowed) {
        if (!allow.empty()) allow += ", ";
        allow += MethodName(m);
      }
      answer.headers.Set("Allow", allow);
    } else {
      answer = options.render_error(404, "not found", request);
    }
    return nullptr;
  }
  request.params = std::move(match.params);
  request.route = match.route->pattern;
  return match.route;
}

// The one catch-all: a handler that throws is a bug, logged here and answered 500.
Response InvokeHandler(const ListenerOptions& options, const Route& route, Request& request) {
  // The request id is the trace id of everything this request causes.
  log::LogContext context({{"trace_id", request.request_id}});
  try {
    return route.handler(request);
  } catch (const std::exception& e) {
    log::Error("http", "handler threw", {{"route", route.pattern}, {"error", e.what()}});
  } catch (...) {
    log::Error("http", "handler threw a non-exception", {{"route", route.pattern}});
  }
  return options.render_error(500, "internal server error", request);
}

// AnswerRawRequest()'s wait for a deferred response: on the calling thread,
// since there is no connection to wait on.
Response AwaitDeferredHere(const ListenerOptions& options, const Request& request, DeferredResponse& deferred) {
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;  // GUARDED_BY(mu)
  deferred.SetWaker([&] {
    std::lock_guard lock(mu);
    woken = true;
    cv.notify_all();
  });
  Response out;
  DeferredResponse::State state;
  for (;;) {
    state = deferred.Take(out);
    if (state != DeferredResponse::State::kPending) break;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return woken; });
    woken = false;
  }
  deferred.Detach();
  if (state == DeferredResponse::State::kCompleted && !out.deferred) return out;
  log::Error("http", "handler did not complete its deferred response", {{"route", request.route}});
  return options.render_error(500, "internal server error", request);
}

}  // namespace

Response DefaultErrorResponse(int status, std::string_view message, const Request& request) {
  std::string body = "{\"error\":\"";
  log::AppendJsonEscaped(body, message);
  body += "\"}";
  return Response::Json(status, std::move(body));
}

class Server::Impl {
 public:
  explicit Impl(ServerOptions options)
      : options_(std::move(options)),
        pool_(options_.worker_threads, "wisp-worker") {
    if (options_.io_threads == 0) options_.io_threads = std::max(1u, std::thread::hardware_concurrency());
    for (size_t i = 0; i < options_.io_threads; ++i) contexts_.push_back(std::make_unique<net::io_context>(1));
  }

  ~Impl() {
    Stop(std::chrono::milliseconds(0));
    // Acceptors go before their context; then the contexts destroy any
    // coroutine frames still queued, while listeners and sessions_ exist.
    for (auto& l : listeners_) l->acceptor.reset();
    contexts_.clear();
  }

  size_t AddListener(ListenerOptions options) {
    auto l = std::make_unique<Listener>();
    l->options = std::move(options);
    if (!l->options.router) l->options.router = std::make_shared<Router>();
    if (!l->options.render_error) l->options.render_error = DefaultErrorResponse;
    listeners_.push_back(std::move(l));
    return listeners_.size() - 1;
  }

  Status Start() {
    for (auto& l : listeners_) {
      WISP_RETURN_IF_ERROR(Bind(*l));
      SetUpMetrics(*l);
    }
    for (auto& l : listeners_) {
      net::co_spawn(l->acceptor->get_executor(), AcceptLoop(*l), net::detached);
      log::Info("http", "listening",
                {{"listener", l->options.name}, {"address", l->options.bind}, {"port", l->port},
                 {"tls", l->ssl != nullptr}});
    }
    for (auto& context : contexts_) {
      work_guards_.push_back(net::make_work_guard(*context));
      io_threads_.emplace_back([c = context.get()] { c->run(); });
    }
    running_ = true;
    return Status::Ok();
  }

  uint16_t port(size_t index) const { return index < listeners_.size() ? listeners_[index]->port : 0; }

  size_t open_connections() const { return total_connections_.load(); }

  void Stop(std::chrono::milliseconds grace) {
    if (!running_.exchange(false)) return;
    stopping_.store(true);
    for (auto& l : listeners_) {
      net::post(l->acceptor->get_executor(), [acceptor = l->acceptor.get()] {
        beast::error_code ec;
        acceptor->close(ec);
      });
    }
    CancelSessions(/*busy_too=*/false);
    {
      std::unique_lock lock(sessions_mu_);
      sessions_cv_.wait_for(lock, grace, [this] { return sessions_.empty(); });
    }
    CancelSessions(/*busy_too=*/true);
    {
      // Cancelled sessions unwind within a few IO-loop turns.
      std::unique_lock lock(sessions_mu_);
      sessions_cv_.wait_for(lock, std::chrono::seconds(2), [this] { return sessions_.empty(); });
    }
    work_guards_.clear();
    for (auto& context : contexts_) context->stop();
    for (auto& t : io_threads_) t.join();
    io_threads_.clear();
    pool_.Shutdown();
    log::Info("http", "stopped");
  }

 private:
  struct Listener {
    ListenerOptions options;
    std::unique_ptr<Acceptor> acceptor;
    std::unique_ptr<ssl::context> ssl;
    uint16_t port = 0;
    std::atomic<size_t> connections{0};
    std::vector<std::unique_ptr<RouteMetrics>> route_metrics;  // by Route::id
    std::mutex unmatched_mu;
    std::map<std::string, std::unique_ptr<RouteMetrics>> unmatched;  // by method
  };

  Status Bind(Listener& l) {
    beast::error_code ec;
    const auto address = net::ip::make_address(l.options.bind, ec);
    if (ec) return Status::InvalidArgument("bad bind address '" + l.options.bind + "': " + ec.message());
    const tcp::endpoint endpoint(address, l.options.port);
    auto acceptor = std::make_unique<Acceptor>(contexts_[0]->get_executor());
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IoError("cannot listen on " + l.options.bind + ":" + std::to_string(l.options.port) +
                             ": " + ec.message());
    }
    l.port = acceptor->local_endpoint().port();
    l.acceptor = std::move(acceptor);

    if (!l.options.tls_cert_file.empty() || !l.options.tls_key_file.empty()) {
      auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
      ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      ctx->use_certificate_chain_file(l.options.tls_cert_file, ec);
      if (ec) return Status::IoError("cannot load TLS certificate " + l.options.tls_cert_file + ": " + ec.message());
      ctx->use_private_key_file(l.options.tls_key_file, ssl::context::pem, ec);
      if (ec) return Status::IoError("cannot load TLS key " + l.options.tls_key_file + ": " + ec.message());
      l.ssl = std::move(ctx);
    }
    return Status::Ok();
  }

  void SetUpMetrics(Listener& l) {
    if (!options_.metrics) return;
    auto& requests = options_.metrics->AddCounter("wisp_http_requests_total",
                                                  "HTTP requests answered, by listener, method, route and status.",
                                                  {"listener", "method", "route", "status"});
    auto& durations = options_.metrics->AddHistogram(
        "wisp_http_request_duration_seconds",
        "Time from the first byte of a request to its response being ready to write, by listener and route.",
        {"listener", "route"});
    for (const Route* route : l.options.router->routes()) {
      auto m = std::make_unique<RouteMetrics>();
      m->requests = &requests;
      m->labels = {l.options.name, std::string(MethodName(route->method)), route->pattern};
      m->duration = &durations.WithLabels({l.options.name, route->pattern});
      if (l.route_metrics.size() <= route->id) l.route_metrics.resize(route->id + 1);
      l.route_metrics[route->id] = std::move(m);
    }
  }

  RouteMetrics* MetricsFor(Listener& l, const Route* route, Method method, const std::string& method_name) {
    if (!options_.metrics) return nullptr;
    if (route && route->id < l.route_metrics.size()) {
      // HEAD served by a GET route is counted under HEAD with the same pattern.
      if (route->method == method) return l.route_metrics[route->id].get();
    }
    const std::string pattern = route ? route->pattern : "unmatched";
    const std::string key = method_name + " " + pattern;
    std::lock_guard lock(l.unmatched_mu);
    auto& m = l.unmatched[key];
    if (!m) {
      m = std::make_unique<RouteMetrics>();
      m->requests = &options_.metrics->AddCounter("wisp_http_requests_total", "", {});
      m->labels = {l.options.name, method_name, pattern};
      m->duration = &options_.metrics->AddHistogram("wisp_http_request_duration_seconds", "", {})
                         .WithLabels({l.options.name, pattern});
    }
    return m.get();
  }

  awaitable<void> AcceptLoop(Listener& l) {
    for (;;) {
      beast::error_code ec;
      // Connections are spread over the IO contexts; each runs on one thread,
      // so everything a connection does is serialised without a strand.
      net::io_context& context = *contexts_[next_context_++ % contexts_.size()];
      Socket socket = co_await l.acceptor->async_accept(context, net::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == net::error::operation_aborted || !l.acceptor->is_open() || stopping_) co_return;
        log::Warn("http", "accept failed", {{"listener", l.options.name}, {"error", ec.message()}});
        continue;
      }
      if (stopping_) co_return;
      auto executor = socket.get_executor();
      net::co_spawn(executor, Connection(l, std::move(socket)), net::detached);
    }
  }

  // Owns one accepted socket: TLS handshake if needed, then the request loop.
  awaitable<void> Connection(Listener& l, Socket socket) {
    ConnectionCount count(*this, l);
    TcpStream tcp_stream(std::move(socket));
    if (l.connections.load() > l.options.limits.max_connections) {
      co_await RejectOverCapacity(l, tcp_stream);
      co_return;
    }
    std::string remote;
    {
      beast::error_code ec;
      auto ep = tcp_stream.socket().remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string();
    }
    if (!l.ssl) {
      co_await Session(l, tcp_stream, remote, /*tls=*/false);
      co_return;
    }
    // A TLS ClientHello starts with a handshake record; anything else is a
    // client speaking plain HTTP to the HTTPS port.
    tcp_stream.expires_after(l.options.limits.header_timeout);
    beast::flat_buffer hello;
    beast::error_code ec;
    const bool speaks_tls = co_await beast::async_detect_ssl(tcp_stream, hello, net::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    if (!speaks_tls) {
      co_await AnswerPlainHttp(l, tcp_stream, hello);
      co_return;
    }
    beast::ssl_stream<TcpStream> tls_stream(std::move(tcp_stream), *l.ssl);
    beast::get_lowest_layer(tls_stream).expires_after(l.options.limits.header_timeout);
    const size_t used = co_await tls_stream.async_handshake(ssl::stream_base::server, hello.data(),
                                                            net::redirect_error(use_awaitable, ec));
    hello.consume(used);
    if (ec) {
      log::Debug("http", "TLS handshake failed", {{"listener", l.options.name}, {"error", ec.message()}});
      co_return;
    }
    co_await Session(l, tls_stream, remote, /*tls=*/true);
  }

  // One plain HTTP request on a TLS port: a redirect to https when the
  // listener asks for it, else a 400 that says where to go. The connection
  // then closes; no handler runs.
  awaitable<void> AnswerPlainHttp(Listener& l, TcpStream& stream, beast::flat_buffer& buffer) {
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(std::min<size_t>(l.options.limits.max_header_bytes, UINT32_MAX)));
    beast::error_code ec;
    co_await bhttp::async_read_header(stream, buffer, parser, net::redirect_error(use_awaitable, ec));
    if (ec) co_return;  // not HTTP either, or too slow: just close
    const auto& header = parser.get();
    Request request;
    request.http_version = header.version() == 10 ? 10 : 11;
    request.method_name = std::string(View(header.method_string()));
    request.method = ParseMethod(request.method_name);
    request.target = std::string(View(header.target()));
    for (const auto& field : header) request.headers.Add(View(field.name_string()), View(field.value()));
    request.request_id = NewId();
    const std::string location = "https://" + HostForRedirect(l, request.headers.GetOr("Host")) +
                                 (request.target.starts_with('/') ? request.target : "/");
    if (!l.options.https_redirect) {
      co_await WriteError(l, stream, request, 400, "This port speaks HTTPS: use " + location);
      co_await DrainBeforeClose(l, stream, buffer);
      co_return;
    }
    Response response;
    const bool safe = request.method == Method::kGet || request.method == Method::kHead;
    response.status = safe ? 301 : 308;
    response.headers.Set("Location", location);
    response.headers.Set("Content-Type", "text/plain; charset=utf-8");
    response.headers.Set(kRequestIdHeader, request.request_id);
    response.body = "Moved to " + location + "\n";
    if (RouteMetrics* m = MetricsFor(l, nullptr, request.method, request.method_name)) m->Record(response.status, 0.0);
    co_await WriteWhole(l, stream, request, response, /*keep_alive=*/false);
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    co_await DrainBeforeClose(l, stream, buffer);
  }

  // Reads what the client still sends (a request body nobody will use) until
  // it closes, so that closing does not reset the connection before the
  // client has read our answer. Bounded by the body limit and timeout.
  awaitable<void> DrainBeforeClose(Listener& l, TcpStream& stream, beast::flat_buffer& buffer) {
    size_t drained = 0;
    beast::error_code ec;
    while (drained <= l.options.limits.max_body_bytes) {
      buffer.clear();
      stream.expires_after(l.options.limits.body_timeout);
      drained += co_await stream.async_read_some(buffer.prepare(16 * 1024), net::redirect_error(use_awaitable, ec));
      if (ec) co_return;
    }
  }

  // The Host header when it is a plain host[:port] (so it cannot turn the
  // Location into another URL), else this listener's own address.
  static std::string HostForRedirect(const Listener& l, std::string_view host) {
    const bool plain = !host.empty() && host.size() <= 255 && std::all_of(host.begin(), host.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    });
    if (plain) return std::string(host);
    return l.options.bind + ":" + std::to_string(l.port);
  }

  // Keeps the per-listener and total connection counts, and wakes Stop().
  struct ConnectionCount {
    ConnectionCount(Impl& impl, Listener& l) : impl(impl), l(l) {
      l.connections.fetch_add(1);
      impl.total_connections_.fetch_add(1);
    }
    ~ConnectionCount() {
      l.connections.fetch_sub(1);
      impl.total_connections_.fetch_sub(1);
    }
    Impl& impl;
    Listener& l;
  };

  awaitable<void> RejectOverCapacity(Listener& l, TcpStream& stream) {
    Request empty;
    empty.request_id = NewId();  // OpenWhisk's `code`, and the X-Request-ID to quote
    Response r = l.options.render_error(503, "too many open connections", empty);
    r.headers.Set(kRequestIdHeader, empty.request_id);
    bhttp::response<bhttp::string_body> res{bhttp::status::service_unavailable, 11};
    for (const auto& [k, v] : r.headers.entries()) res.set(k, v);
    res.set(bhttp::field::connection, "close");
    res.set("Retry-After", "1");
    res.body() = std::move(r.body);
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(2));
    beast::error_code ec;
    co_await bhttp::async_write(stream, res, net::redirect_error(use_awaitable, ec));
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    log::Warn("http", "connection refused: over the cap",
              {{"listener", l.options.name}, {"max_connections", l.options.limits.max_connections}});
  }

  // Registers the session so Stop() can reach it; unregisters on scope exit.
  struct SessionRegistration {
    SessionRegistration(Impl& impl, std::shared_ptr<SessionControl> control, net::any_io_executor executor)
        : impl(impl), control(control) {
      std::lock_guard lock(impl.sessions_mu_);
      id = impl.next_session_id_++;
      impl.sessions_[id] = {std::move(control), std::move(executor)};
    }
    ~SessionRegistration() {
      control->alive = false;
      std::lock_guard lock(impl.sessions_mu_);
      impl.sessions_.erase(id);
      impl.sessions_cv_.notify_all();
    }
    Impl& impl;
    std::shared_ptr<SessionControl> control;
    uint64_t id = 0;
  };

  void CancelSessions(bool busy_too) {
    std::lock_guard lock(sessions_mu_);
    for (auto& [id, entry] : sessions_) {
      const int phase = entry.control->phase.load();
      if (!busy_too && phase == SessionControl::kBusy) continue;  // it closes after its response
      net::post(entry.executor, [control = entry.control] {
        if (!control->alive) return;
        control->cancelled = true;
        if (control->wake) control->wake->cancel();
        if (control->cancel_io) control->cancel_io();
      });
    }
  }

  template <typename Stream>
  awaitable<void> Session(Listener& l, Stream& stream, const std::string& remote, bool tls) {
    const Limits& limits = l.options.limits;
    auto executor = co_await net::this_coro::executor;
    auto control = std::make_shared<SessionControl>();
    control->cancel_io = [&stream] {
      beast::error_code ec;
      beast::get_lowest_layer(stream).socket().cancel(ec);
    };
    SessionRegistration registration(*this, control, executor);
    beast::flat_buffer buffer;
    std::string head;  // each response's head, written here so its capacity is reused

    for (;;) {
      control->phase = SessionControl::kIdle;
      if (stopping_) co_return;
      beast::error_code ec;

      // Wait for the first byte of the next request under the idle timeout;
      // the header then has header_timeout to arrive in full.
      if (buffer.size() == 0) {
        beast::get_lowest_layer(stream).expires_after(limits.idle_timeout);
        const size_t n = co_await stream.async_read_some(buffer.prepare(4096), net::redirect_error(use_awaitable, ec));
        if (ec) co_return;  // closed, idle too long, or cancelled by Stop()
        buffer.commit(n);
      }
      control->phase = SessionControl::kBusy;
      const auto started = std::chrono::steady_clock::now();

      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(std::min<size_t>(limits.max_header_bytes, UINT32_MAX)));
      parser.body_limit(limits.max_body_bytes);
      beast::get_lowest_layer(stream).expires_after(limits.header_timeout);
      co_await bhttp::async_read_header(stream, buffer, parser, net::redirect_error(use_awaitable, ec));

      Request request;
      request.remote_address = remote;
      request.connection_id = registration.id;
      request.tls = tls;
      if (ec) {
        if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted) co_return;
        // On a timeout Beast has already closed the socket: nothing can be
        // sent, and a client too slow to send its header gets no answer.
        if (ec == beast::error::timeout) co_return;
        const std::pair<int, std::string> failure = ParseFailure(ec, limits, !parser.get().target().empty());
        co_await WriteError(l, stream, request, failure.first, failure.second);
        co_return;
      }

      auto& header = parser.get();
      FillFromHeader(header, request);

      if (const auto length = parser.content_length(); length && *length > limits.max_body_bytes) {
        co_await WriteError(l, stream, request, 413,
                            "request body of " + std::to_string(*length) + " bytes is over the limit of " +
                                std::to_string(limits.max_body_bytes) + " bytes");
        co_return;
      }
      if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, header.version()};
        beast::get_lowest_layer(stream).expires_after(limits.write_timeout);
        co_await bhttp::async_write(stream, cont, net::redirect_error(use_awaitable, ec));
        if (ec) co_return;
      }
      if (!parser.is_done()) {
        beast::get_lowest_layer(stream).expires_after(limits.body_timeout);
        co_await bhttp::async_read(stream, buffer, parser, net::redirect_error(use_awaitable, ec));
        if (ec == bhttp::error::body_limit) {
          co_await WriteError(l, stream, request, 413,
                              "request body is over the limit of " + std::to_string(limits.max_body_bytes) + " bytes");
          co_return;
        }
        if (ec) co_return;  // includes a body too slow to arrive: the socket is closed
      }
      const bool client_keep_alive = parser.get().keep_alive();
      request.body = std::move(parser.get().body());

      // Errors the server itself finds (bad path, no route, wrong method)
      // are rendered by the listener; an inline route runs right here.
      Response response;
      const Route* route = RouteRequest(l.options, request, response);
      if (route && route->dispatch == Dispatch::kInline) {
        response = InvokeHandler(l.options, *route, request);
      } else if (route) {
        response = co_await RunOnWorker(l, *route, request);
      }
      if (response.deferred) {
        std::optional<Response> completed =
            co_await AwaitDeferred(l, stream, request, std::move(response.deferred), *control);
        if (!completed) break;  // the client closed the connection while it waited
        response = std::move(*completed);
      }
      response.headers.Set(kRequestIdHeader, request.request_id);
      if (l.options.cors.enabled) l.options.cors.Decorate(request, response);
      const bool keep_alive = client_keep_alive && !response.close && !stopping_;

      // Counted before the write, so a client that has its answer also sees
      // it in /metrics; the duration is the time to produce the response.
      if (RouteMetrics* m = MetricsFor(l, route, request.method, request.method_name)) {
        m->Record(response.status, SecondsSince(started));
      }
      bool ok;
      if (response.stream && request.method != Method::kHead) {
        control->phase = SessionControl::kStreaming;
        ok = co_await WriteStream(l, stream, request, response, keep_alive, *control);
      } else {
        ok = co_await WriteWhole(l, stream, request, response, keep_alive, &head);
      }
      if (log::Enabled(log::Level::kDebug, "http")) {
        log::Debug("http", "request",
                   {{"listener", l.options.name}, {"method", request.method_name}, {"path", request.path},
                    {"status", response.status}, {"duration_ms", SecondsSince(started) * 1000.0},
                    {"request_id", request.request_id}});
      }
      if (!ok || !keep_alive) break;
    }
    beast::error_code ec;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // Runs the handler of `route` on a worker thread, and resumes on this
  // connection's IO thread with its response.
  awaitable<Response> RunOnWorker(Listener& l, const Route& route, Request& request) {
    auto executor = co_await net::this_coro::executor;
    co_return co_await net::async_initiate<decltype(use_awaitable), void(Response)>(
        [this, &l, &route, &request, executor](auto handler) {
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          const bool queued = pool_.Submit([&l, &route, &request, executor, shared] {
            Response r = InvokeHandler(l.options, route, request);
            net::post(executor, [shared, r = std::move(r)]() mutable { (*shared)(std::move(r)); });
          });
          if (!queued) {
            Response r = l.options.render_error(503, "server is shutting down", request);
            net::post(executor, [shared, r = std::move(r)]() mutable { (*shared)(std::move(r)); });
          }
        },
        use_awaitable);
  }

  // Waits, on this connection's IO thread and holding no worker, until the
  // handler's deferred response is completed, and returns it. Meanwhile it
  // watches the socket: a client that closes gets nullopt (the connection
  // ends, and a later completion does nothing). Bytes a client pipelines
  // behind the request end the watch; they wait in the socket for their
  // turn. A response abandoned by its handler is the listener's 500; one
  // still pending when Stop() cancels the session is a 503.
  template <typename Stream>
  awaitable<std::optional<Response>> AwaitDeferred(Listener& l, Stream& stream, const Request& request,
                                                   std::shared_ptr<DeferredResponse> deferred,
                                                   SessionControl& control) {
    // What the response settled as, or nullopt while it is pending.
    auto settled = [&](DeferredResponse::State state, Response& completed) -> std::optional<Response> {
      if (state == DeferredResponse::State::kPending) return std::nullopt;
      if (state == DeferredResponse::State::kCompleted && !completed.deferred) return std::move(completed);
      log::Error("http", "handler dropped its deferred response or completed it with another",
                 {{"route", request.route}});
      return l.options.render_error(500, "internal server error", request);
    };
    // Completed before the handler returned (a non-blocking invoke): no
    // socket watch and no timer, so the common case costs nothing more.
    {
      Response completed;
      std::optional<Response> ready = settled(deferred->Take(completed), completed);
      if (ready) {
        deferred->Detach();
        co_return ready;
      }
    }
    auto executor = co_await net::this_coro::executor;
    auto& socket = beast::get_lowest_layer(stream).socket();
    Timer wake(executor);  // declared first: destroyed after the cleanup below
    // What the socket watch reaches; `wake` is null once the wait is over.
    struct Watch {
      Timer* wake = nullptr;
      bool client_closed = false;
    };
    auto watch = std::make_shared<Watch>();
    struct Cleanup {
      std::shared_ptr<DeferredResponse> d;
      std::shared_ptr<Watch> w;
      SessionControl& c;
      ~Cleanup() {
        d->Detach();
        w->wake = nullptr;
        c.wake = nullptr;
      }
    } cleanup{deferred, watch, control};
    watch->wake = &wake;
    control.wake = &wake;
    deferred->SetWaker([executor, &wake, alive = std::weak_ptr<DeferredResponse>(deferred)] {
      net::post(executor, [&wake, alive] {
        // Detach() runs on this thread before `wake` goes away, so a posted
        // call that finds the response still attached may touch the timer.
        if (auto d = alive.lock(); d && !d->client_gone()) wake.cancel();
      });
    });
    socket.async_wait(tcp::socket::wait_read, [watch, &socket](const beast::error_code& ec) {
      if (ec || watch->wake == nullptr) return;  // cancelled, or the wait is over (the socket may be gone)
      // Readable with nothing to read: the client closed (or reset) it.
      beast::error_code available_ec;
      if (socket.available(available_ec) > 0) return;
      watch->client_closed = true;
      watch->wake->cancel();
    });

    std::optional<Response> answer;
    for (;;) {
      Response completed;
      answer = settled(deferred->Take(completed), completed);
      if (answer) break;
      if (watch->client_closed) break;
      if (control.cancelled) {
        answer = l.options.render_error(503, "server is shutting down", request);
        answer->close = true;
        break;
      }
      beast::error_code ec;
      wake.expires_at(Timer::time_point::max());
      co_await wake.async_wait(net::redirect_error(use_awaitable, ec));
    }
    beast::error_code ec;
    socket.cancel(ec);  // ends the watch: the socket's only pending operation
    co_return answer;
  }

  template <typename Stream>
  awaitable<void> WriteError(Listener& l, Stream& stream, Request& request, int status, const std::string& message) {
    if (request.request_id.empty()) request.request_id = NewId();
    Response r = l.options.render_error(status, message, request);
    r.headers.Set(kRequestIdHeader, request.request_id);
    if (l.options.cors.enabled) l.options.cors.Decorate(request, r);
    const std::string method = request.method_name.empty() ? "UNKNOWN" : request.method_name;
    if (RouteMetrics* m = MetricsFor(l, nullptr, request.method, method)) m->Record(status, 0.0);
    co_await WriteWhole(l, stream, request, r, /*keep_alive=*/false);
    beast::error_code ec;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  template <typename Header>
  static void CopyHeaders(const Response& from, Header& to) {
    for (const auto& [k, v] : from.headers.entries()) to.insert(k, v);
  }

  // Writes a whole response: its head (AppendResponseHead) and body in one
  // write. A HEAD request gets the head alone, with the length of the body a
  // GET would get.
  template <typename Stream>
  awaitable<bool> WriteWhole(Listener& l, Stream& stream, const Request& request, Response& response, bool keep_alive,
                             std::string* head_buffer = nullptr) {
    // A small body is copied behind the head: one buffer, one TLS record.
    constexpr size_t kCopiedBodyBytes = 16 * 1024;
    std::string local;
    std::string& head = head_buffer ? *head_buffer : local;
    head.clear();
    const bool no_body = response.status == 204 || response.status == 304 || (response.status >= 100 && response.status < 200);
    std::optional<size_t> length;
    if (!no_body && !(request.method == Method::kHead && response.stream)) length = response.body.size();
    AppendResponseHead(head, request.http_version, response, length, keep_alive);
    const bool send_body = request.method != Method::kHead && !no_body && !response.body.empty();
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(l.options.limits.write_timeout);
    if (!send_body || response.body.size() <= kCopiedBodyBytes) {
      if (send_body) head += response.body;
      co_await net::async_write(stream, net::buffer(head), net::redirect_error(use_awaitable, ec));
    } else {
      // Not a std::array: asio writes a two-buffer array by passing the
      // written head on as an empty first buffer, which Beast's TLS stream
      // takes for the whole write, and the body is never sent.
      const std::vector<net::const_buffer> buffers{net::buffer(head), net::buffer(response.body)};
      co_await net::async_write(stream, buffers, net::redirect_error(use_awaitable, ec));
    }
    if (response.stream) response.stream->Detach();
    co_return !ec;
  }

  // Sends the stream's data as it arrives, then the last chunk. Waits on a
  // timer that the stream's waker cancels; the waker posts to this
  // connection's single-threaded context, so a write between our check and
  // our wait cannot be lost.
  template <typename Stream>
  awaitable<bool> WriteStream(Listener& l, Stream& stream, const Request& request, Response& response,
                              bool keep_alive, SessionControl& control) {
    auto executor = co_await net::this_coro::executor;
    auto body = response.stream;
    Timer wake(executor);  // declared first: destroyed after the stream is detached
    struct Detacher {
      std::shared_ptr<BodyStream> s;
      SessionControl& c;
      ~Detacher() {
        s->Detach();
        c.wake = nullptr;
      }
    } detacher{body, control};
    control.wake = &wake;
    body->SetWaker([executor, &wake, alive = std::weak_ptr<BodyStream>(body)] {
      net::post(executor, [&wake, alive] {
        // Detach() runs on this thread before `wake` goes away, so a posted
        // call that finds the stream still attached may touch the timer.
        if (auto s = alive.lock(); s && !s->client_gone()) wake.cancel();
      });
    });

    const bool chunked = request.http_version == 11;
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(response.status),
                                           static_cast<unsigned>(request.http_version)};
    CopyHeaders(response, res);
    res.keep_alive(chunked && keep_alive);
    if (chunked) res.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> serializer{res};
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(l.options.limits.write_timeout);
    co_await bhttp::async_write_header(stream, serializer, net::redirect_error(use_awaitable, ec));
    if (ec) co_return false;

    std::string data;
    for (;;) {
      data.clear();
      const BodyStream::Take take = body->TakeData(data);
      if (take == BodyStream::Take::kData) {
        beast::get_lowest_layer(stream).expires_after(l.options.limits.write_timeout);
        if (chunked) {
          co_await net::async_write(stream, bhttp::make_chunk(net::buffer(data)), net::redirect_error(use_awaitable, ec));
        } else {
          co_await net::async_write(stream, net::buffer(data), net::redirect_error(use_awaitable, ec));
        }
        if (ec) co_return false;
        continue;
      }
      if (take == BodyStream::Take::kClosed) break;
      if (stopping_) break;  // end the stream cleanly so the client sees a complete response
      wake.expires_at(Timer::time_point::max());
      co_await wake.async_wait(net::redirect_error(use_awaitable, ec));
    }
    if (!chunked) co_return false;  // HTTP/1.0: the end of the body is the end of the connection
    beast::get_lowest_layer(stream).expires_after(l.options.limits.write_timeout);
    co_await net::async_write(stream, bhttp::make_chunk_last(), net::redirect_error(use_awaitable, ec));
    co_return !ec && !stopping_;
  }

  struct SessionEntry {
    std::shared_ptr<SessionControl> control;
    net::any_io_executor executor;
  };

  ServerOptions options_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work_guards_;
  std::vector<std::thread> io_threads_;
  ThreadPool pool_;
  size_t next_context_ = 0;  // touched only by accept loops, which all run on contexts_[0]
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> total_connections_{0};

  std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  std::map<uint64_t, SessionEntry> sessions_;  // GUARDED_BY(sessions_mu_)
  uint64_t next_session_id_ = 0;               // GUARDED_BY(sessions_mu_)

  // Declared last so it is destroyed first: coroutine frames still queued in
  // a context unwind while the listeners and the session table they touch exist.
  std::vector<std::unique_ptr<net::io_context>> contexts_;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Server::~Server() = default;
size_t Server::AddListener(ListenerOptions options) { return impl_->AddListener(std::move(options)); }
Status Server::Start() { return impl_->Start(); }
uint16_t Server::port(size_t index) const { return impl_->port(index); }
void Server::Stop(std::chrono::milliseconds grace) { impl_->Stop(grace); }
size_t Server::open_connections() const { return impl_->open_connections(); }

Response AnswerRawRequest(const ListenerOptions& listener, std::string_view bytes) {
  ListenerOptions options = listener;
  if (!options.router) options.router = std::make_shared<Router>();
  if (!options.render_error) options.render_error = DefaultErrorResponse;
  const Limits& limits = options.limits;
  Request request;
  request.remote_address = "127.0.0.1";
  auto finish = [&](Response response) {
    if (request.request_id.empty()) request.request_id = NewId();
    response.headers.Set(kRequestIdHeader, request.request_id);
    if (options.cors.enabled) options.cors.Decorate(request, response);
    if (response.stream) response.stream->Detach();  // nobody reads it: its producer stops
    return response;
  };

  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.header_limit(static_cast<std::uint32_t>(std::min<size_t>(limits.max_header_bytes, UINT32_MAX)));
  parser.body_limit(limits.max_body_bytes);
  beast::error_code ec;
  while (!parser.is_done()) {
    const size_t used = parser.put(net::buffer(bytes.data(), bytes.size()), ec);
    bytes.remove_prefix(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      if (used > 0) continue;
      parser.put_eof(ec);  // no more bytes come: as if the client closed
      if (!ec && !parser.is_done()) ec = bhttp::error::partial_message;
    }
    if (ec || used == 0) break;
  }
  if (!ec && !parser.is_done()) ec = bhttp::error::partial_message;
  if (parser.is_header_done()) FillFromHeader(parser.get().base(), request);
  if (ec) {
    const std::pair<int, std::string> failure = ParseFailure(ec, limits, !parser.get().target().empty());
    return finish(options.render_error(failure.first, failure.second, request));
  }
  if (const auto length = parser.content_length(); length && *length > limits.max_body_bytes) {
    return finish(options.render_error(413, "request body is over the limit", request));
  }
  request.body = std::move(parser.get().body());
  Response answer;
  const Route* route = RouteRequest(options, request, answer);
  if (!route) return finish(std::move(answer));
  Response response = InvokeHandler(options, *route, request);
  if (response.deferred) response = AwaitDeferredHere(options, request, *response.deferred);
  return finish(std::move(response));
}

}  // namespace wisp::http
