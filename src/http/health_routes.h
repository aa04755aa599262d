// The routes every wisp listener can offer for operations: a liveness probe
// and the Prometheus page.
//
// Thread-safety: the handlers are safe from any thread; `metrics` must
// outlive the router.
#pragma once

#include <functional>
#include <optional>

#include "http/router.h"
#include "util/metrics.h"

namespace wisp::http {

// GET /ping -> 200 "pong" (OpenWhisk's liveness probe, text/plain).
void AddPingRoute(Router& router);

// Decides whether a request may reach a route: nullopt lets it through,
// otherwise the answer to send instead (a 401 in the listener's shape).
using AccessCheck = std::function<std::optional<Response>(const Request&)>;

// GET /metrics -> 200, the registry in the Prometheus text format 0.0.4.
// With `check`, a request it refuses gets the check's answer instead; the
// route then runs on a worker, since a check may verify a password.
void AddMetricsRoute(Router& router, const MetricsRegistry& metrics, AccessCheck check = {});

}  // namespace wisp::http
