#include "http/mount.h"

#include <cstdlib>
#include <string>
#include <utility>

namespace wisp::http {
namespace {

// `path` without its first `prefix_length` characters, and "/" for nothing.
std::string StripPrefix(const std::string& path, size_t prefix_length) {
  std::string rest = path.size() > prefix_length ? path.substr(prefix_length) : "";
  if (rest.empty() || rest.front() != '/') rest.insert(rest.begin(), '/');
  return rest;
}

}  // namespace

void MountRouter(Router& outer, std::string_view prefix, std::shared_ptr<const Router> inner,
                 ErrorRenderer render_error) {
  const size_t prefix_length = prefix.size();
  auto handler = [inner, render_error, prefix_length](Request& request) -> Response {
    Request mounted = request;
    mounted.path = StripPrefix(request.path, prefix_length);
    mounted.target = StripPrefix(request.target, prefix_length);
    mounted.segments.erase(mounted.segments.begin());
    mounted.params.clear();
    RouteMatch match = inner->Match(mounted.method, mounted.segments);
    if (!match.route) {
      if (match.allowed.empty()) return render_error(404, "not found", mounted);
      Response r = render_error(405, "method not allowed", mounted);
      std::string allow;
      for (Method m : match.allowed) allow += (allow.empty() ? "" : ", ") + std::string(MethodName(m));
      r.headers.Set("Allow", allow);
      return r;
    }
    mounted.params = std::move(match.params);
    mounted.route = match.route->pattern;
    return match.route->handler(mounted);
  };
  // OPTIONS is left out on purpose: the outer listener's CORS policy answers
  // preflights for paths that no route takes.
  for (Method m : {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kDelete, Method::kCopy}) {
    for (const std::string& pattern : {std::string(prefix), std::string(prefix) + "/{rest...}"}) {
      if (Status s = outer.Add(m, pattern, handler); !s.ok()) std::abort();  // routes are fixed at build time
    }
  }
}

}  // namespace wisp::http
