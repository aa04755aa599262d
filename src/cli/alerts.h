// Alerts: rules over the server's own metrics, evaluated in process, that
// tell a Slack webhook and/or a generic webhook when they fire and once when
// they resolve (docs/observability.md, "Alerts").
//
// A rules file (YAML) holds `rules:`, each with `name`, `expr` (the language
// of util/metric_expr.h), `op` (default ">"), `threshold`, `for` (how long
// the comparison must hold before the alert fires; "0" fires at once),
// `severity` and `summary`. The shipped defaults are
// src/apps/stackoverflow/alerts.yaml, built into the binary.
//
// Evaluate() reads the registry's samples, moves each rule through ok ->
// pending -> firing -> ok, and queues one notification per target for each
// firing and each resolution. Delivery is attempted in the same call; a
// notification that failed stays queued, in order, and is tried again at the
// next Evaluate(), so a message is never sent twice once a target took it
// (a 2xx) and never repeated while the state is unchanged.
//
// State: the gauge wisp_alert_active{alert,severity} (1 firing, 0 not) and
// State(), the JSON of GET /api/v1/alerts.
//
// Thread-safety: Evaluate(), State() and Start()/Stop() may be called from
// any thread; evaluations are serialised.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/client.h"
#include "http/router.h"
#include "json/json.h"
#include "util/clock.h"
#include "util/metric_expr.h"
#include "util/metrics.h"
#include "util/result.h"
#include "whisk/identity.h"

namespace wisp::cli {

struct AlertRule {
  std::string name;
  std::string expr;
  std::string op = ">";
  double threshold = 0;
  std::chrono::seconds for_duration{0};
  std::string severity = "warning";
  std::string summary;
};

// The rules of a YAML document; InvalidArgument naming the rule and field
// that is wrong (an unknown field, a bad expression, a duplicate name).
Result<std::vector<AlertRule>> ParseAlertRules(const std::string& yaml_text);
// ParseAlertRules() of a file; IoError when it cannot be read.
Result<std::vector<AlertRule>> LoadAlertRules(const std::string& path);
// The shipped defaults (src/apps/stackoverflow/alerts.yaml).
extern const char kDefaultAlertRules[];

struct AlertTargets {
  std::string slack_url;    // a Slack incoming webhook: {"text": ...}
  std::string webhook_url;  // any URL: the JSON of one alert (docs/observability.md)
};

class AlertManager {
 public:
  // InvalidArgument when an expression does not parse. `registry`, `clock`
  // and `http` must outlive the manager.
  static Result<std::unique_ptr<AlertManager>> Create(std::vector<AlertRule> rules, AlertTargets targets,
                                                      MetricsRegistry& registry, Clock& clock, http::Client& http);
  ~AlertManager();  // Stop()

  // One round: evaluates every rule at clock.Now(), then delivers what is queued.
  void Evaluate();
  // Evaluates every `interval` of real time on a thread of its own, until Stop().
  void Start(std::chrono::milliseconds interval);
  void Stop();

  // {"alerts": [{"name", "state": "firing"|"ok", "since", "value", "threshold",
  //  "summary", "severity", "op", "expr"}]}; `since` is ISO 8601 (when the
  // state last changed), `value` the last value or null.
  Json State() const;
  // Notifications not yet taken by their target (tests, logs).
  size_t pending_notifications() const;

 private:
  struct Rule {
    AlertRule rule;
    MetricExpr expr;
    Gauge* active = nullptr;
    bool firing = false;
    std::optional<Clock::WallTime> true_since;  // the comparison has held since
    Clock::WallTime since;                       // the state last changed
    std::optional<double> value;
  };
  struct Notification {
    std::string url;
    std::string body;
    std::string what;  // "HighErrorRate firing", for logs
  };
  AlertManager(AlertTargets targets, MetricsRegistry& registry, Clock& clock, http::Client& http);
  void Notify(const Rule& rule);  // REQUIRES(mu_)
  void Deliver();                 // REQUIRES(mu_)

  const AlertTargets targets_;
  MetricsRegistry& registry_;
  Clock& clock_;
  http::Client& http_;

  mutable std::mutex mu_;
  std::vector<Rule> rules_;             // GUARDED_BY(mu_)
  std::deque<Notification> outbox_;     // GUARDED_BY(mu_)

  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(thread_mu_)
  std::thread thread_;
};

// GET /api/v1/alerts: 200 AlertManager::State(); 401 without a valid key
// (any namespace's key, or whisk.system's).
void AddAlertRoutes(http::Router& router, const AlertManager& alerts, const whisk::Identities& identities);

}  // namespace wisp::cli
