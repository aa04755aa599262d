// ActivationMetrics: the controller's Prometheus families, fed from the
// activation records themselves, so that `/metrics` and the records always
// agree (docs/observability.md lists the names and labels).
//
//   wisp_activations_total{action,kind,status}
//   wisp_activation_duration_seconds{action}, wisp_activation_wait_seconds{action}
//   wisp_activation_cold_starts_total{action}, wisp_activation_init_seconds{action}
//   wisp_action_gigabyte_seconds_total{action}
//   wisp_activations_in_flight{namespace}, wisp_throttled_total{namespace,reason}
//
// The children of one action are looked up once and kept, so counting an
// activation costs one map lookup under a short lock.
//
// Thread-safety: every method may be called from any thread. The registry
// must outlive this object.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "json/json.h"
#include "util/metrics.h"

namespace wisp::whisk {

class ActivationMetrics {
 public:
  explicit ActivationMetrics(MetricsRegistry& registry);

  // Counts one finished activation from its record: an action's (path and
  // kind annotations) or a trigger's (kind `trigger`, no duration).
  void Finished(const Json& record);

  // The children of one namespace, for the controller's throttle state.
  Gauge& InFlight(const std::string& ns) { return in_flight_.WithLabels({ns}); }
  Counter& ThrottledByRate(const std::string& ns) { return throttled_.WithLabels({ns, "rate"}); }
  Counter& ThrottledByConcurrency(const std::string& ns) { return throttled_.WithLabels({ns, "concurrency"}); }

  // OpenWhisk's status names as labels: success, application_error,
  // developer_error, whisk_error (statusCode 0..3; anything else is whisk_error).
  static const char* StatusLabel(int status_code);

 private:
  struct ActionChildren {
    Counter* by_status[4];
    Histogram* duration;
    Histogram* wait;
    Counter* cold_starts;
    Histogram* init;
    Counter* gb_seconds;
  };
  ActionChildren& For(const std::string& action, const std::string& kind);

  Family<Counter>& activations_;
  Family<Histogram>& duration_;
  Family<Histogram>& wait_;
  Family<Counter>& cold_starts_;
  Family<Histogram>& init_;
  Family<Counter>& gb_seconds_;
  Family<Gauge>& in_flight_;
  Family<Counter>& throttled_;

  std::mutex mu_;
  std::map<std::string, ActionChildren> children_;  // GUARDED_BY(mu_): "action\nkind" -> children
};

}  // namespace wisp::whisk
