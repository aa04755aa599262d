#include "http/health_routes.h"

namespace wisp::http {

void AddPingRoute(Router& router) {
  router.Get("/ping", [](Request&) { return Response::Text(200, "pong"); }, Dispatch::kInline);
}

void AddMetricsRoute(Router& router, const MetricsRegistry& metrics) {
  router.Get(
      "/metrics",
      [&metrics](Request&) {
        return Response::Text(200, metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
      },
      Dispatch::kInline);
}

}  // namespace wisp::http
