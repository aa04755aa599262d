#include "http/router.h"

#include <cstdio>
#include <cstdlib>

namespace wisp::http {

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;      // "{name}"
  std::string param_name;
  std::unique_ptr<Node> rest;       // "{name...}", always a leaf
  std::string rest_name;
  std::map<Method, const Route*> routes;
};

namespace {

// "{name}" -> name; "{name...}" -> name with *is_rest; anything else -> "".
std::string ParamName(std::string_view segment, bool* is_rest) {
  *is_rest = false;
  if (segment.size() < 3 || segment.front() != '{' || segment.back() != '}') return "";
  std::string_view inner = segment.substr(1, segment.size() - 2);
  if (inner.size() > 3 && inner.substr(inner.size() - 3) == "...") {
    *is_rest = true;
    inner.remove_suffix(3);
  }
  return std::string(inner);
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

Status Router::Add(Method method, std::string_view pattern, Handler handler, Dispatch dispatch) {
  if (pattern.empty() || pattern.front() != '/') {
    return Status::InvalidArgument("route pattern must start with '/': " + std::string(pattern));
  }
  Node* node = root_.get();
  size_t start = 1;
  while (start < pattern.size() + 1 && pattern.size() > 1) {
    size_t slash = pattern.find('/', start);
    if (slash == std::string_view::npos) slash = pattern.size();
    const std::string_view segment = pattern.substr(start, slash - start);
    bool is_rest = false;
    const std::string name = ParamName(segment, &is_rest);
    if (is_rest) {
      if (slash != pattern.size()) {
        return Status::InvalidArgument("{name...} must be the last segment: " + std::string(pattern));
      }
      if (!node->rest) node->rest = std::make_unique<Node>();
      else if (node->rest_name != name) return Status::InvalidArgument("conflicting parameter names in " + std::string(pattern));
      node->rest_name = name;
      node = node->rest.get();
    } else if (!name.empty()) {
      if (!node->param) node->param = std::make_unique<Node>();
      else if (node->param_name != name) return Status::InvalidArgument("conflicting parameter names in " + std::string(pattern));
      node->param_name = name;
      node = node->param.get();
    } else {
      auto& child = node->literals[std::string(segment)];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
    start = slash + 1;
  }
  if (node->routes.count(method)) {
    return Status::InvalidArgument("duplicate route " + std::string(MethodName(method)) + " " + std::string(pattern));
  }
  auto route = std::make_unique<Route>();
  route->method = method;
  route->pattern = std::string(pattern);
  route->handler = std::move(handler);
  route->dispatch = dispatch;
  route->id = routes_.size();
  node->routes[method] = route.get();
  routes_.push_back(std::move(route));
  return Status::Ok();
}

void Router::MustAdd(Method method, std::string_view pattern, Handler handler, Dispatch dispatch) {
  Status s = Add(method, pattern, std::move(handler), dispatch);
  if (!s.ok()) {
    std::fprintf(stderr, "wisp: bad route: %s\n", s.ToString().c_str());
    std::abort();
  }
}

namespace {

using Params = std::map<std::string, std::string, std::less<>>;

const Route* RouteFor(const std::map<Method, const Route*>& routes, Method method) {
  if (auto it = routes.find(method); it != routes.end()) return it->second;
  if (method == Method::kHead) {
    if (auto it = routes.find(Method::kGet); it != routes.end()) return it->second;
  }
  return nullptr;
}

// Depth-first search in preference order. Returns true on a full match;
// otherwise records in `allowed` the methods of the first path-only match.
template <typename NodeT>
bool MatchFrom(const NodeT* node, const std::vector<std::string>& segs, size_t i, Method method,
               RouteMatch& out, Params& params, bool& path_seen) {
  if (i == segs.size()) {
    if (node->routes.empty()) return false;
    if (const Route* r = RouteFor(node->routes, method)) {
      out.route = r;
      out.params = params;
      return true;
    }
    if (!path_seen) {
      path_seen = true;
      for (const auto& [m, r] : node->routes) {
        out.allowed.push_back(m);
        if (m == Method::kGet && !node->routes.count(Method::kHead)) out.allowed.push_back(Method::kHead);
      }
    }
    return false;
  }
  if (auto it = node->literals.find(segs[i]); it != node->literals.end()) {
    if (MatchFrom(it->second.get(), segs, i + 1, method, out, params, path_seen)) return true;
  }
  if (node->param && !segs[i].empty()) {
    params[node->param_name] = segs[i];
    if (MatchFrom(node->param.get(), segs, i + 1, method, out, params, path_seen)) return true;
    params.erase(node->param_name);
  }
  if (node->rest && !segs[i].empty()) {
    std::string joined = segs[i];
    for (size_t j = i + 1; j < segs.size(); ++j) joined += "/" + segs[j];
    params[node->rest_name] = std::move(joined);
    if (MatchFrom(node->rest.get(), segs, segs.size(), method, out, params, path_seen)) return true;
    params.erase(node->rest_name);
  }
  return false;
}

}  // namespace

RouteMatch Router::Match(Method method, const std::vector<std::string>& segments) const {
  RouteMatch out;
  Params params;
  bool path_seen = false;
  if (!MatchFrom(root_.get(), segments, 0, method, out, params, path_seen)) out.route = nullptr;
  if (!out.route && !path_seen && !segments.empty() && segments.back().empty()) {
    // "/db/" means "/db", as CouchDB has it; PouchDB 9 asks for databases that way.
    std::vector<std::string> trimmed(segments.begin(), segments.end() - 1);
    return Match(method, trimmed);
  }
  if (out.route) out.allowed.clear();
  return out;
}

std::vector<const Route*> Router::routes() const {
  std::vector<const Route*> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back(r.get());
  return out;
}

}  // namespace wisp::http
