// Router: maps a method and a path to a handler, with path parameters.
//
// Patterns are literal segments, "{name}" (exactly one segment) and a final
// "{name...}" (one or more segments, joined back with '/'):
//
//   router.Get("/ping", Ping, Dispatch::kInline);
//   router.Put("/{db}/{docid}", PutDoc);
//   router.Get("/{db}/{docid}/{attachment...}", GetAttachment);
//
// Matching prefers a literal segment over "{name}" over "{name...}", and
// backtracks when the preferred branch has no route, so "/_all_dbs" and
// "/{db}" can coexist. Segments are compared after percent-decoding. A GET
// route also answers HEAD unless a HEAD route is given. A path with a
// trailing slash that matches nothing is matched again without it.
//
// Thread-safety: add every route before the server starts; Match() is then
// safe from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "util/status.h"

namespace wisp::http {

using Handler = std::function<Response(Request&)>;

// Where a handler runs. kWorker (the default) is for anything that may block:
// disk, locks, other services. kInline runs on the IO thread and is only for
// handlers that finish in microseconds without blocking (/ping, /metrics).
enum class Dispatch { kWorker, kInline };

struct Route {
  Method method = Method::kGet;
  std::string pattern;
  Handler handler;
  Dispatch dispatch = Dispatch::kWorker;
  size_t id = 0;  // dense index, for per-route bookkeeping such as metrics
};

struct RouteMatch {
  const Route* route = nullptr;                       // null when nothing matched
  std::map<std::string, std::string, std::less<>> params;
  // When the path matched but the method did not: the methods that would have.
  std::vector<Method> allowed;
};

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Adds a route. Fails with InvalidArgument for a malformed pattern, or one
  // that repeats an existing method and pattern.
  Status Add(Method method, std::string_view pattern, Handler handler, Dispatch dispatch = Dispatch::kWorker);

  // Shorthands that abort on a malformed pattern: routes are fixed at build time.
  void Get(std::string_view p, Handler h, Dispatch d = Dispatch::kWorker) { MustAdd(Method::kGet, p, std::move(h), d); }
  void Head(std::string_view p, Handler h, Dispatch d = Dispatch::kWorker) { MustAdd(Method::kHead, p, std::move(h), d); }
  void Post(std::string_view p, Handler h, Dispatch d = Dispatch::kWorker) { MustAdd(Method::kPost, p, std::move(h), d); }
  void Put(std::string_view p, Handler h, Dispatch d = Dispatch::kWorker) { MustAdd(Method::kPut, p, std::move(h), d); }
  void Delete(std::string_view p, Handler h, Dispatch d = Dispatch::kWorker) { MustAdd(Method::kDelete, p, std::move(h), d); }
  void Options(std::string_view p, Handler h, Dispatch d = Dispatch::kWorker) { MustAdd(Method::kOptions, p, std::move(h), d); }

  // Finds the route for `method` and the decoded `segments` of a path.
  RouteMatch Match(Method method, const std::vector<std::string>& segments) const;

  // Every route, in the order added (for docs and the authorization matrix).
  std::vector<const Route*> routes() const;

 private:
  struct Node;
  void MustAdd(Method method, std::string_view pattern, Handler handler, Dispatch dispatch);

  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace wisp::http
