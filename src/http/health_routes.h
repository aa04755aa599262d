// The routes every wisp listener can offer for operations: a liveness probe
// and the Prometheus page.
//
// Thread-safety: the handlers are safe from any thread; `metrics` must
// outlive the router.
#pragma once

#include "http/router.h"
#include "util/metrics.h"

namespace wisp::http {

// GET /ping -> 200 "pong" (OpenWhisk's liveness probe, text/plain).
void AddPingRoute(Router& router);

// GET /metrics -> 200, the registry in the Prometheus text format 0.0.4.
void AddMetricsRoute(Router& router, const MetricsRegistry& metrics);

}  // namespace wisp::http
