#include "whisk/activation_metrics.h"

#include "whisk/entity.h"

namespace wisp::whisk {
namespace {

// Activations run from milliseconds to the five-minute time limit.
std::vector<double> ActivationBuckets() {
  return {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
}

const Json& Field(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

double Seconds(const Json& millis) { return millis.is_number() ? millis.get<double>() / 1000.0 : 0.0; }

}  // namespace

ActivationMetrics::ActivationMetrics(MetricsRegistry& registry)
    : activations_(registry.AddCounter("wisp_activations_total", "Finished activations by action, kind and status.",
                                       {"action", "kind", "status"})),
      duration_(registry.AddHistogram("wisp_activation_duration_seconds",
                                      "Run time of activations (the record's duration).", {"action"},
                                      ActivationBuckets())),
      wait_(registry.AddHistogram("wisp_activation_wait_seconds",
                                  "Time from accepting an activation to starting it (the record's waitTime).",
                                  {"action"}, ActivationBuckets())),
      cold_starts_(registry.AddCounter("wisp_activation_cold_starts_total", "Activations that needed an init.",
                                       {"action"})),
      init_(registry.AddHistogram("wisp_activation_init_seconds", "Init time of cold starts (the record's initTime).",
                                  {"action"}, ActivationBuckets())),
      gb_seconds_(registry.AddCounter("wisp_action_gigabyte_seconds_total",
                                      "Memory limit in GB times run time in seconds, summed per action.", {"action"})),
      in_flight_(registry.AddGauge("wisp_activations_in_flight", "Activations admitted and not finished, per namespace.",
                                   {"namespace"})),
      throttled_(registry.AddCounter("wisp_throttled_total", "Invocations and fires refused with 429, by limit.",
                                     {"namespace", "reason"})) {}

const char* ActivationMetrics::StatusLabel(int status_code) {
  switch (status_code) {
    case 0: return "success";
    case 1: return "application_error";
    case 2: return "developer_error";
    default: return "whisk_error";
  }
}

ActivationMetrics::ActionChildren& ActivationMetrics::For(const std::string& action, const std::string& kind) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = children_.try_emplace(action + "\n" + kind);
  if (inserted) {
    ActionChildren& c = it->second;
    for (int status = 0; status < 4; ++status) {
      c.by_status[status] = &activations_.WithLabels({action, kind, StatusLabel(status)});
    }
    c.duration = &duration_.WithLabels({action});
    c.wait = &wait_.WithLabels({action});
    c.cold_starts = &cold_starts_.WithLabels({action});
    c.init = &init_.WithLabels({action});
    c.gb_seconds = &gb_seconds_.WithLabels({action});
  }
  return it->second;
}

void ActivationMetrics::Finished(const Json& record) {
  const Json& annotations = Field(record, "annotations");
  const Json path = KeyValue(annotations, "path");
  const Json kind = KeyValue(annotations, "kind");
  const bool trigger = !path.is_string();  // trigger records carry neither
  const std::string action =
      trigger ? json::GetString(record, "namespace") + "/" + json::GetString(record, "name") : path.get<std::string>();
  ActionChildren& c = For(action, trigger ? "trigger" : kind.is_string() ? kind.get<std::string>() : "");
  const Json& code = Field(Field(record, "response"), "statusCode");
  const int status = code.is_number_integer() ? code.get<int>() : 3;
  c.by_status[status >= 0 && status < 4 ? status : 3]->Inc();
  if (trigger) return;

  const double duration = Seconds(Field(record, "duration"));
  c.duration->Observe(duration);
  c.wait->Observe(Seconds(KeyValue(annotations, "waitTime")));
  if (const Json init = KeyValue(annotations, "initTime"); init.is_number()) {
    c.cold_starts->Inc();
    c.init->Observe(Seconds(init));
  }
  // A sequence's duration is the sum of its components', which are billed
  // on their own.
  if (kind != "sequence") {
    const Json memory = Field(KeyValue(annotations, "limits"), "memory");
    if (memory.is_number()) c.gb_seconds->Inc(memory.get<double>() / 1024.0 * duration);
  }
}

}  // namespace wisp::whisk
