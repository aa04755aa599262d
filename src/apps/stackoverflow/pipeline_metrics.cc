#include "apps/stackoverflow/pipeline_metrics.h"

#include <algorithm>

namespace wisp::stackoverflow {

PipelineMetrics::PipelineMetrics(MetricsRegistry& registry)
    : fetched_(registry.AddCounter("wisp_so_questions_fetched_total", "Questions the collector returned, per poll.",
                                   {"trigger"})),
      last_poll_(registry.AddGauge("wisp_so_last_successful_poll_timestamp_seconds",
                                   "Unix time of the last successful Stack Exchange poll, per poll.", {"trigger"})),
      quota_remaining_(registry.AddGauge("wisp_stackexchange_quota_remaining",
                                         "quota_remaining in the last Stack Exchange answer.", {"site"})),
      quota_max_(registry.AddGauge("wisp_stackexchange_quota_max", "quota_max in the last Stack Exchange answer.",
                                   {"site"})),
      backoff_(registry.AddGauge("wisp_stackexchange_backoff_seconds",
                                 "backoff in the last Stack Exchange search (0 when none).", {"site"})),
      stored_new_(registry.AddCounter("wisp_so_questions_stored_total", "Storer outcomes.", {"result"})
                      .WithLabels({"new"})),
      stored_updated_(registry.AddCounter("wisp_so_questions_stored_total", "", {"result"}).WithLabels({"updated"})),
      stored_skipped_(registry.AddCounter("wisp_so_questions_stored_total", "", {"result"}).WithLabels({"skipped"})),
      notifications_sent_(registry.AddCounter("wisp_slack_notifications_total", "Notifier outcomes.", {"result"})
                              .WithLabels({"sent"})),
      notifications_failed_(
          registry.AddCounter("wisp_slack_notifications_total", "", {"result"}).WithLabels({"failed"})) {}

void PipelineMetrics::Polled(const std::string& trigger, size_t items, double unix_seconds) {
  fetched_.WithLabels({trigger}).Inc(static_cast<double>(items));
  last_poll_.WithLabels({trigger}).Set(unix_seconds);
}

void PipelineMetrics::Quota(const std::string& site, int64_t remaining, int64_t max, int64_t backoff_seconds) {
  quota_remaining_.WithLabels({site}).Set(static_cast<double>(remaining));
  quota_max_.WithLabels({site}).Set(static_cast<double>(max));
  backoff_.WithLabels({site}).Set(static_cast<double>(backoff_seconds));
}

void PipelineMetrics::Stored(const std::string& result) {
  if (result == "new") stored_new_.Inc();
  else if (result == "updated") stored_updated_.Inc();
  else if (result == "skipped") stored_skipped_.Inc();
}

std::string PipelineMetrics::TriggerLabel(std::vector<std::string> tags) {
  std::sort(tags.begin(), tags.end());
  std::string label;
  for (const std::string& tag : tags) label += (label.empty() ? "" : ",") + tag;
  return label;
}

}  // namespace wisp::stackoverflow
