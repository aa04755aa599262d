// Fuzzes route matching with paths built from the input against a router
// shaped like the CouchDB and OpenWhisk APIs (literals, parameters, rest).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/router.h"
#include "http/url.h"

namespace {

const wisp::http::Router& TheRouter() {
  using namespace wisp::http;
  static Router* router = [] {
    auto* r = new Router;
    auto ok = [](Request&) { return Response::Text(200, "ok"); };
    r->Get("/", ok);
    r->Get("/_all_dbs", ok);
    r->Put("/{db}", ok);
    r->Get("/{db}", ok);
    r->Get("/{db}/_changes", ok);
    r->Get("/{db}/_design/{ddoc}", ok);
    r->Get("/{db}/{docid}", ok);
    r->Get("/{db}/{docid}/{attachment...}", ok);
    r->Get("/api/v1/namespaces/{ns}/actions/{name...}", ok);
    r->Post("/api/v1/namespaces/{ns}/actions/{name...}", ok);
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wisp::http;
  if (size == 0) return 0;
  const Method method = static_cast<Method>(data[0] % 9);
  std::string path = "/";
  path.append(reinterpret_cast<const char*>(data + 1), size - 1);
  auto segments = SplitPath(path);
  if (!segments.ok()) return 0;
  RouteMatch match = TheRouter().Match(method, *segments);
  // A match and a list of allowed methods exclude each other.
  if (match.route && !match.allowed.empty()) std::abort();
  return 0;
}
