// Metrics in the Prometheus text exposition format (version 0.0.4).
//
//   auto& requests = registry.AddCounter("wisp_http_requests_total",
//                                        "HTTP requests served.", {"route", "status"});
//   requests.WithLabels({"/ping", "200"}).Inc();
//   std::string page = registry.Render();   // what GET /metrics serves
//
// A metric returned by WithLabels() lives as long as its registry, so hot
// paths look it up once and keep the reference.
//
// Thread-safety: all methods may be called from any thread. Updates to a
// metric are lock-free; WithLabels() and Render() take the family's lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace wisp {

class Counter {
 public:
  void Inc(double v = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds` are the upper bounds of the buckets, ascending; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative count of observations <= bounds()[i]; i == bounds().size() is +Inf.
  uint64_t CumulativeCount(size_t i) const;
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // one per bound, plus +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Default latency buckets, in seconds: 100 µs to 10 s.
std::vector<double> DefaultLatencyBuckets();

// A named metric with a fixed list of label names; one child per label-value tuple.
template <typename M>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<M>()> make)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // The child for `values` (one per label name), created on first use.
  M& WithLabels(const std::vector<std::string>& values) {
    std::lock_guard lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = make_();
    return *slot;
  }

  template <typename Fn>  // Fn(const std::vector<std::string>& values, const M&)
  void ForEach(Fn fn) const {
    std::lock_guard lock(mu_);
    for (const auto& [values, child] : children_) fn(values, *child);
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<M>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;  // GUARDED_BY(mu_)
};

// One line of the exposition: a sample's name, its labels and its value.
struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

class MetricsRegistry {
 public:
  // Each Add* returns the family registered under `name`. Names must be
  // unique across kinds; adding the same name twice returns the first.
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds = DefaultLatencyBuckets());
  // A gauge whose value is read when the page is rendered (uptime, sizes).
  void AddCallbackGauge(const std::string& name, const std::string& help, std::function<double()> read);
  // A labelled gauge family read when the page is rendered: `read` returns
  // one (label values, value) pair per child, e.g. one per database.
  using LabelledValues = std::vector<std::pair<std::vector<std::string>, double>>;
  void AddCallbackGaugeFamily(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                              std::function<LabelledValues()> read);

  // The whole exposition, families in registration order.
  std::string Render() const;

  // Every sample the exposition would show, as values rather than text: the
  // alert evaluator reads these. Histograms give `_bucket` (with `le`),
  // `_sum` and `_count` samples, as on the page.
  std::vector<MetricSample> Samples() const;

 private:
  struct Entry {
    std::string name;
    std::unique_ptr<Family<Counter>> counter;
    std::unique_ptr<Family<Gauge>> gauge;
    std::unique_ptr<Family<Histogram>> histogram;
    std::string callback_help;
    std::vector<std::string> callback_labels;
    std::function<LabelledValues()> callback_family;
  };
  using SampleFn = std::function<void(const std::string& sample_name, const std::vector<std::string>& names,
                                      const std::vector<std::string>& values, double value)>;
  // Calls `fn` for every sample of `e`, in the page's order; behind both
  // Render() and Samples().
  static void ForEachSample(const Entry& e, const SampleFn& fn);
  Entry* Find(const std::string& name);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;  // GUARDED_BY(mu_)
};

}  // namespace wisp
