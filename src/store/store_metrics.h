// StoreMetrics: the store's Prometheus families (docs/observability.md).
//
//   wisp_store_operations_total{op}, wisp_store_operation_duration_seconds{op}
//     op: read, write, bulk, query, changes, local, attachment
//   wisp_store_database_size_bytes{db}, wisp_store_documents{db}
//     read from each database's info when /metrics is rendered
//   wisp_store_changes_listeners{db}
//     continuous, longpoll and eventsource feeds open now
//
// Each op's children are bound when this object is built, so timing a call
// costs two clock reads and three atomic adds.
//
// Thread-safety: every method may be called from any thread. The registry
// must outlive this object, and this object every Database given it.
#pragma once

#include <array>
#include <string>

#include "util/clock.h"
#include "util/metrics.h"

namespace wisp::store {

class Store;

enum class StoreOp { kRead, kWrite, kBulk, kQuery, kChanges, kLocal, kAttachment };
inline constexpr size_t kStoreOpCount = 7;

class StoreMetrics {
 public:
  explicit StoreMetrics(MetricsRegistry& registry, Clock& clock = Clock::System());

  // Times one store call from construction to destruction. `metrics` may be
  // null (nothing is recorded).
  class Timer {
   public:
    Timer(StoreMetrics* metrics, StoreOp op)
        : metrics_(metrics), op_(op), start_(metrics ? metrics->clock_.SteadyNow() : Clock::SteadyTime()) {}
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

   private:
    StoreMetrics* metrics_;
    StoreOp op_;
    Clock::SteadyTime start_;
  };

  // The gauge of open `_changes` feeds of `db`.
  Gauge& ChangesListeners(const std::string& db) { return listeners_.WithLabels({db}); }

  // Registers the size and document-count gauges of every database of
  // `store`, read at each render. `store` must outlive the registry's renders.
  void WatchDatabases(Store& store);

 private:
  MetricsRegistry& registry_;
  Clock& clock_;
  std::array<Counter*, kStoreOpCount> operations_{};
  std::array<Histogram*, kStoreOpCount> durations_{};
  Family<Gauge>& listeners_;
};

}  // namespace wisp::store
