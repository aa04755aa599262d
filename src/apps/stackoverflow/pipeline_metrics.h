// PipelineMetrics: what the Stack Overflow pipeline's actions count
// (docs/observability.md).
//
//   wisp_so_questions_fetched_total{trigger}      items the collector returned
//   wisp_so_questions_stored_total{result}        storer outcomes: new, updated, skipped
//   wisp_slack_notifications_total{result}        notifier outcomes: sent, failed
//   wisp_stackexchange_quota_remaining{site}, wisp_stackexchange_quota_max{site},
//   wisp_stackexchange_backoff_seconds{site}      from the last successful search
//   wisp_so_last_successful_poll_timestamp_seconds{trigger}
//
// `trigger` is the poll's tag set, sorted and joined by "," (the collector
// is not told which trigger fired it; the tags name the poll).
//
// Thread-safety: every method may be called from any thread. The registry
// must outlive this object.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/metrics.h"

namespace wisp::stackoverflow {

class PipelineMetrics {
 public:
  explicit PipelineMetrics(MetricsRegistry& registry);

  // A successful poll of `trigger` at `unix_seconds` that returned `items`.
  void Polled(const std::string& trigger, size_t items, double unix_seconds);
  // What the Stack Exchange API said about `site` in the last search.
  void Quota(const std::string& site, int64_t remaining, int64_t max, int64_t backoff_seconds);
  // The storer's outcome: "new", "updated" or "skipped".
  void Stored(const std::string& result);
  void Notified(bool sent) { (sent ? notifications_sent_ : notifications_failed_).Inc(); }

  // The `trigger` label of a poll of `tags`.
  static std::string TriggerLabel(std::vector<std::string> tags);

 private:
  Family<Counter>& fetched_;
  Family<Gauge>& last_poll_;
  Family<Gauge>& quota_remaining_;
  Family<Gauge>& quota_max_;
  Family<Gauge>& backoff_;
  Counter& stored_new_;
  Counter& stored_updated_;
  Counter& stored_skipped_;
  Counter& notifications_sent_;
  Counter& notifications_failed_;
};

}  // namespace wisp::stackoverflow
