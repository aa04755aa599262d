#include "http/health_routes.h"

namespace wisp::http {

void AddPingRoute(Router& router) {
  router.Get("/ping", [](Request&) { return Response::Text(200, "pong"); }, Dispatch::kInline);
}

void AddMetricsRoute(Router& router, const MetricsRegistry& metrics, AccessCheck check) {
  const Dispatch dispatch = check ? Dispatch::kWorker : Dispatch::kInline;
  router.Get(
      "/metrics",
      [&metrics, check = std::move(check)](Request& request) {
        if (check) {
          if (std::optional<Response> denied = check(request)) return std::move(*denied);
        }
        return Response::Text(200, metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
      },
      dispatch);
}

}  // namespace wisp::http
