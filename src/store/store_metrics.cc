#include "store/store_metrics.h"

#include "store/store.h"

namespace wisp::store {
namespace {

const char* OpLabel(StoreOp op) {
  switch (op) {
    case StoreOp::kRead: return "read";
    case StoreOp::kWrite: return "write";
    case StoreOp::kBulk: return "bulk";
    case StoreOp::kQuery: return "query";
    case StoreOp::kChanges: return "changes";
    case StoreOp::kLocal: return "local";
    case StoreOp::kAttachment: return "attachment";
  }
  return "other";
}

}  // namespace

StoreMetrics::StoreMetrics(MetricsRegistry& registry, Clock& clock)
    : registry_(registry),
      clock_(clock),
      listeners_(registry.AddGauge("wisp_store_changes_listeners",
                                   "Open _changes feeds (continuous, longpoll, eventsource) per database.", {"db"})) {
  auto& operations = registry.AddCounter("wisp_store_operations_total", "Calls into the document store, by kind.",
                                         {"op"});
  auto& durations = registry.AddHistogram("wisp_store_operation_duration_seconds",
                                          "Latency of calls into the document store, by kind.", {"op"});
  for (size_t i = 0; i < kStoreOpCount; ++i) {
    const char* label = OpLabel(static_cast<StoreOp>(i));
    operations_[i] = &operations.WithLabels({label});
    durations_[i] = &durations.WithLabels({label});
  }
}

StoreMetrics::Timer::~Timer() {
  if (metrics_ == nullptr) return;
  const auto i = static_cast<size_t>(op_);
  metrics_->operations_[i]->Inc();
  metrics_->durations_[i]->Observe(std::chrono::duration<double>(metrics_->clock_.SteadyNow() - start_).count());
}

void StoreMetrics::WatchDatabases(Store& store) {
  // One pass over the databases per family and render; Info() reads
  // counters kept in memory and the file's size, not SQLite.
  auto read = [&store](const char* field, const char* sub) {
    return [&store, field, sub] {
      MetricsRegistry::LabelledValues values;
      for (const std::string& name : store.ListDatabases()) {
        Result<std::shared_ptr<Database>> db = store.GetDatabase(name);
        if (!db.ok()) continue;  // deleted meanwhile
        const Json info = (*db)->Info();
        const Json& outer = info.contains(field) ? info.at(field) : Json();
        const Json& value = sub == nullptr ? outer : outer.is_object() && outer.contains(sub) ? outer.at(sub) : Json();
        values.push_back({{name}, value.is_number() ? value.get<double>() : 0.0});
      }
      return values;
    };
  };
  registry_.AddCallbackGaugeFamily("wisp_store_database_size_bytes", "File size of each database.", {"db"},
                                   read("sizes", "file"));
  registry_.AddCallbackGaugeFamily("wisp_store_documents", "Documents (not deleted) in each database.", {"db"},
                                   read("doc_count", nullptr));
}

}  // namespace wisp::store
