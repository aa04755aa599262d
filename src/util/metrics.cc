#include "util/metrics.h"

#include <cmath>
#include <cstdio>

namespace wisp {
namespace {

void AtomicAdd(std::atomic<double>& target, double v) {
  double old = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.15g", v);
  }
  return buf;
}

// Label values escape backslash, double quote and line feed.
void AppendLabelValue(std::string& out, const std::string& v) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
}

// `{a="x",b="y"}`, or nothing without labels.
std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  if (names.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i];
    out += "=\"";
    AppendLabelValue(out, i < values.size() ? values[i] : std::string());
    out += '"';
  }
  out += '}';
  return out;
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " ";
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  out += "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

void Counter::Inc(double v) {
  if (v > 0) AtomicAdd(value_, v);  // counters only go up
}

void Gauge::Add(double v) { AtomicAdd(value_, v); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
}

uint64_t Histogram::CumulativeCount(size_t i) const {
  uint64_t total = 0;
  for (size_t b = 0; b <= i && b <= bounds_.size(); ++b) total += buckets_[b].load(std::memory_order_relaxed);
  return total;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

MetricsRegistry::Entry* MetricsRegistry::Find(const std::string& name) {
  for (auto& e : entries_) {
    if (e->name == name) return e.get();
  }
  return nullptr;
}

Family<Counter>& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                             std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  if (Entry* e = Find(name); e && e->counter) return *e->counter;
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->counter = std::make_unique<Family<Counter>>(name, help, std::move(label_names),
                                                 [] { return std::make_unique<Counter>(); });
  entries_.push_back(std::move(e));
  return *entries_.back()->counter;
}

Family<Gauge>& MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                         std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  if (Entry* e = Find(name); e && e->gauge) return *e->gauge;
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->gauge = std::make_unique<Family<Gauge>>(name, help, std::move(label_names),
                                             [] { return std::make_unique<Gauge>(); });
  entries_.push_back(std::move(e));
  return *entries_.back()->gauge;
}

Family<Histogram>& MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                                 std::vector<std::string> label_names,
                                                 std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  if (Entry* e = Find(name); e && e->histogram) return *e->histogram;
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->histogram = std::make_unique<Family<Histogram>>(
      name, help, std::move(label_names), [bounds] { return std::make_unique<Histogram>(bounds); });
  entries_.push_back(std::move(e));
  return *entries_.back()->histogram;
}

void MetricsRegistry::AddCallbackGauge(const std::string& name, const std::string& help,
                                       std::function<double()> read) {
  AddCallbackGaugeFamily(name, help, {}, [read = std::move(read)] { return LabelledValues{{{}, read()}}; });
}

void MetricsRegistry::AddCallbackGaugeFamily(const std::string& name, const std::string& help,
                                             std::vector<std::string> label_names,
                                             std::function<LabelledValues()> read) {
  std::lock_guard lock(mu_);
  if (Find(name)) return;
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->callback_help = help;
  e->callback_labels = std::move(label_names);
  e->callback_family = std::move(read);
  entries_.push_back(std::move(e));
}

void MetricsRegistry::ForEachSample(const Entry& e, const SampleFn& fn) {
  if (e.counter) {
    const auto& f = *e.counter;
    f.ForEach([&](const std::vector<std::string>& values, const Counter& c) {
      fn(f.name(), f.label_names(), values, c.Value());
    });
  } else if (e.gauge) {
    const auto& f = *e.gauge;
    f.ForEach([&](const std::vector<std::string>& values, const Gauge& g) {
      fn(f.name(), f.label_names(), values, g.Value());
    });
  } else if (e.histogram) {
    const auto& f = *e.histogram;
    std::vector<std::string> names = f.label_names();
    names.push_back("le");
    f.ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
      const auto& bounds = h.bounds();
      std::vector<std::string> with_le = values;
      with_le.resize(f.label_names().size());
      with_le.emplace_back();
      for (size_t i = 0; i <= bounds.size(); ++i) {
        with_le.back() = i < bounds.size() ? FormatValue(bounds[i]) : std::string("+Inf");
        fn(f.name() + "_bucket", names, with_le, static_cast<double>(h.CumulativeCount(i)));
      }
      fn(f.name() + "_sum", f.label_names(), values, h.Sum());
      fn(f.name() + "_count", f.label_names(), values, static_cast<double>(h.Count()));
    });
  } else if (e.callback_family) {
    for (const auto& [values, value] : e.callback_family()) fn(e.name, e.callback_labels, values, value);
  }
}

std::string MetricsRegistry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& e : entries_) {
    const char* type = e->counter ? "counter" : e->histogram ? "histogram" : "gauge";
    const std::string& help = e->counter     ? e->counter->help()
                              : e->gauge     ? e->gauge->help()
                              : e->histogram ? e->histogram->help()
                                             : e->callback_help;
    AppendHeader(out, e->name, help, type);
    ForEachSample(*e, [&](const std::string& sample_name, const std::vector<std::string>& names,
                          const std::vector<std::string>& values, double value) {
      out += sample_name + Labels(names, values) + " " + FormatValue(value) + "\n";
    });
  }
  return out;
}

std::vector<MetricSample> MetricsRegistry::Samples() const {
  std::lock_guard lock(mu_);
  std::vector<MetricSample> out;
  for (const auto& e : entries_) {
    ForEachSample(*e, [&](const std::string& sample_name, const std::vector<std::string>& names,
                          const std::vector<std::string>& values, double value) {
      MetricSample sample;
      sample.name = sample_name;
      for (size_t i = 0; i < names.size(); ++i) sample.labels[names[i]] = i < values.size() ? values[i] : "";
      sample.value = value;
      out.push_back(std::move(sample));
    });
  }
  return out;
}

}  // namespace wisp
