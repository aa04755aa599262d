#include "cli/alerts.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "util/log.h"
#include "whisk/error_response.h"

namespace wisp::cli {
namespace {

const std::set<std::string> kRuleKeys = {"name", "expr", "op", "threshold", "for", "severity", "summary"};

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

Json NumberOrNull(const std::optional<double>& v) { return v ? Json(*v) : Json(); }

}  // namespace

Result<std::vector<AlertRule>> ParseAlertRules(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("alert rules: not YAML: ") + e.what());
  }
  const YAML::Node rules = root.IsMap() ? root["rules"] : YAML::Node();
  if (!rules || !rules.IsSequence()) return Status::InvalidArgument("alert rules: needs `rules:`, a list");
  std::vector<AlertRule> out;
  std::set<std::string> names;
  for (const YAML::Node& node : rules) {
    const std::string where = "alert rule " + std::to_string(out.size() + 1);
    if (!node.IsMap()) return Status::InvalidArgument(where + ": not a mapping");
    for (const auto& it : node) {
      const std::string key = it.first.as<std::string>("");
      if (!kRuleKeys.count(key)) {
        return Status::InvalidArgument(where + ": unknown field `" + key +
                                       "` (known: name, expr, op, threshold, for, severity, summary)");
      }
      if (!it.second.IsScalar()) return Status::InvalidArgument(where + ": `" + key + "` must be a scalar");
    }
    AlertRule rule;
    rule.name = node["name"] ? node["name"].Scalar() : "";
    if (rule.name.empty()) return Status::InvalidArgument(where + ": needs a `name`");
    const std::string named = "alert rule " + rule.name;
    if (!names.insert(rule.name).second) return Status::InvalidArgument(named + ": the name is used twice");
    rule.expr = node["expr"] ? node["expr"].Scalar() : "";
    if (rule.expr.empty()) return Status::InvalidArgument(named + ": needs an `expr`");
    if (Result<MetricExpr> parsed = MetricExpr::Parse(rule.expr); !parsed.ok()) {
      return Status::InvalidArgument(named + ": " + parsed.status().message());
    }
    if (node["op"]) {
      Result<std::string> op = ParseComparison(node["op"].Scalar());
      if (!op.ok()) return Status::InvalidArgument(named + ": " + op.status().message());
      rule.op = *op;
    }
    if (!node["threshold"]) return Status::InvalidArgument(named + ": needs a `threshold`");
    try {
      rule.threshold = node["threshold"].as<double>();
    } catch (const YAML::Exception&) {
      return Status::InvalidArgument(named + ": `threshold` must be a number");
    }
    if (node["for"]) {
      Result<double> seconds = ParseDurationSeconds(node["for"].Scalar());
      if (!seconds.ok()) return Status::InvalidArgument(named + ": `for`: " + seconds.status().message());
      rule.for_duration = std::chrono::seconds(static_cast<int64_t>(*seconds));
    }
    if (node["severity"]) rule.severity = node["severity"].Scalar();
    if (node["summary"]) rule.summary = node["summary"].Scalar();
    out.push_back(std::move(rule));
  }
  return out;
}

Result<std::vector<AlertRule>> LoadAlertRules(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IoError("cannot read the alert rules " + path);
  std::stringstream text;
  text << in.rdbuf();
  Result<std::vector<AlertRule>> rules = ParseAlertRules(text.str());
  if (!rules.ok()) return Status::InvalidArgument(path + ": " + rules.status().message());
  return rules;
}

AlertManager::AlertManager(AlertTargets targets, MetricsRegistry& registry, Clock& clock, http::Client& http)
    : targets_(std::move(targets)), registry_(registry), clock_(clock), http_(http) {}

Result<std::unique_ptr<AlertManager>> AlertManager::Create(std::vector<AlertRule> rules, AlertTargets targets,
                                                           MetricsRegistry& registry, Clock& clock,
                                                           http::Client& http) {
  std::unique_ptr<AlertManager> manager(new AlertManager(std::move(targets), registry, clock, http));
  auto& active = registry.AddGauge("wisp_alert_active", "1 while the alert fires, 0 otherwise.", {"alert", "severity"});
  for (AlertRule& rule : rules) {
    Result<MetricExpr> expr = MetricExpr::Parse(rule.expr);
    if (!expr.ok()) return Status::InvalidArgument("alert rule " + rule.name + ": " + expr.status().message());
    Gauge* gauge = &active.WithLabels({rule.name, rule.severity});
    gauge->Set(0);
    manager->rules_.push_back(Rule{.rule = std::move(rule),
                                   .expr = std::move(*expr),
                                   .active = gauge,
                                   .firing = false,
                                   .true_since = std::nullopt,
                                   .since = clock.Now(),
                                   .value = std::nullopt});
  }
  return manager;
}

AlertManager::~AlertManager() { Stop(); }

void AlertManager::Evaluate() {
  const std::vector<MetricSample> samples = registry_.Samples();
  const Clock::WallTime now = clock_.Now();
  const double now_seconds = std::chrono::duration<double>(now.time_since_epoch()).count();
  std::lock_guard lock(mu_);
  for (Rule& r : rules_) {
    r.value = r.expr.Evaluate(samples, now_seconds);
    // An expression without a value (no data yet, 0/0) does not hold.
    const bool holds = r.value && Compare(*r.value, r.rule.op, r.rule.threshold);
    if (!holds) {
      r.true_since.reset();
      if (r.firing) {
        r.firing = false;
        r.since = now;
        r.active->Set(0);
        Notify(r);
      }
      continue;
    }
    if (!r.true_since) r.true_since = now;
    if (!r.firing && now - *r.true_since >= r.rule.for_duration) {
      r.firing = true;
      r.since = now;
      r.active->Set(1);
      Notify(r);
    }
  }
  Deliver();
}

void AlertManager::Notify(const Rule& r) {
  const std::string state = r.firing ? "firing" : "resolved";
  log::Warn("alerts", "alert " + state,
            {{"alert", r.rule.name}, {"severity", r.rule.severity}, {"value", r.value ? FormatNumber(*r.value) : "none"}});
  if (!targets_.slack_url.empty()) {
    std::string text = r.firing ? ":rotating_light: [" + r.rule.severity + "] " + r.rule.name + " is firing: "
                                : ":white_check_mark: " + r.rule.name + " resolved: ";
    text += r.rule.summary + " (value " + (r.value ? FormatNumber(*r.value) : "none") + ", " + r.rule.op + " " +
            FormatNumber(r.rule.threshold) + ")";
    outbox_.push_back({targets_.slack_url, json::Dump(Json{{"text", text}}), r.rule.name + " " + state});
  }
  if (!targets_.webhook_url.empty()) {
    const Json body = {{"alert", r.rule.name},       {"state", state},
                       {"severity", r.rule.severity}, {"summary", r.rule.summary},
                       {"value", NumberOrNull(r.value)}, {"op", r.rule.op},
                       {"threshold", r.rule.threshold}, {"expr", r.rule.expr},
                       {"since", FormatIso8601(r.since)}};
    outbox_.push_back({targets_.webhook_url, json::Dump(body), r.rule.name + " " + state});
  }
}

void AlertManager::Deliver() {
  // Per target, in order: after a failure, later messages to that target
  // wait, so that a resolution never arrives before its firing.
  std::set<std::string> failed;
  for (auto it = outbox_.begin(); it != outbox_.end();) {
    if (failed.count(it->url)) {
      ++it;
      continue;
    }
    http::ClientRequest request;
    request.method = "POST";
    request.url = it->url;
    request.timeout = std::chrono::seconds(10);
    request.headers.Set("Content-Type", "application/json; charset=utf-8");
    request.body = it->body;
    Result<http::ClientResponse> reply = http_.Send(request);
    if (reply.ok() && reply->status >= 200 && reply->status < 300) {
      it = outbox_.erase(it);
      continue;
    }
    log::Warn("alerts", "notification not delivered; will retry",
              {{"notification", it->what},
               {"error", reply.ok() ? "HTTP " + std::to_string(reply->status) : reply.status().message()}});
    failed.insert(it->url);
    ++it;
  }
}

void AlertManager::Start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(thread_mu_);
    while (!stopping_) {
      lock.unlock();
      Evaluate();
      lock.lock();
      wake_.wait_for(lock, interval, [this] { return stopping_; });
    }
  });
}

void AlertManager::Stop() {
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Json AlertManager::State() const {
  std::lock_guard lock(mu_);
  Json alerts = Json::array();
  for (const Rule& r : rules_) {
    alerts.push_back({{"name", r.rule.name},
                      {"state", r.firing ? "firing" : "ok"},
                      {"since", FormatIso8601(r.since)},
                      {"value", NumberOrNull(r.value)},
                      {"threshold", r.rule.threshold},
                      {"op", r.rule.op},
                      {"severity", r.rule.severity},
                      {"summary", r.rule.summary},
                      {"expr", r.rule.expr}});
  }
  return Json{{"alerts", alerts}};
}

size_t AlertManager::pending_notifications() const {
  std::lock_guard lock(mu_);
  return outbox_.size();
}

void AddAlertRoutes(http::Router& router, const AlertManager& alerts, const whisk::Identities& identities) {
  router.Get("/api/v1/alerts", [&alerts, &identities](http::Request& request) {
    Result<whisk::Identity> caller = identities.Authenticate(request.headers.GetOr("Authorization"));
    if (!caller.ok()) return whisk::ErrorResponse(caller.status(), request);
    return http::Response::Json(200, json::Dump(alerts.State()));
  });
}

}  // namespace wisp::cli
