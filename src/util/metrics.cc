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

// `{a="x",b="y"}`, with `extra` (already formatted, e.g. le="0.1") appended.
std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   const std::string& extra = "") {
  if (names.empty() && extra.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i];
    out += "=\"";
    AppendLabelValue(out, i < values.size() ? values[i] : std::string());
    out += '"';
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ',';
    out += extra;
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
  std::lock_guard lock(mu_);
  if (Find(name)) return;
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->callback_help = help;
  e->callback = std::move(read);
  entries_.push_back(std::move(e));
}

std::string MetricsRegistry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& e : entries_) {
    if (e->counter) {
      const auto& f = *e->counter;
      AppendHeader(out, f.name(), f.help(), "counter");
      f.ForEach([&](const std::vector<std::string>& values, const Counter& c) {
        out += f.name() + Labels(f.label_names(), values) + " " + FormatValue(c.Value()) + "\n";
      });
    } else if (e->gauge) {
      const auto& f = *e->gauge;
      AppendHeader(out, f.name(), f.help(), "gauge");
      f.ForEach([&](const std::vector<std::string>& values, const Gauge& g) {
        out += f.name() + Labels(f.label_names(), values) + " " + FormatValue(g.Value()) + "\n";
      });
    } else if (e->histogram) {
      const auto& f = *e->histogram;
      AppendHeader(out, f.name(), f.help(), "histogram");
      f.ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
        const auto& bounds = h.bounds();
        for (size_t i = 0; i <= bounds.size(); ++i) {
          std::string le = "le=\"" + (i < bounds.size() ? FormatValue(bounds[i]) : std::string("+Inf")) + "\"";
          out += f.name() + "_bucket" + Labels(f.label_names(), values, le) + " " +
                 FormatValue(static_cast<double>(h.CumulativeCount(i))) + "\n";
        }
        out += f.name() + "_sum" + Labels(f.label_names(), values) + " " + FormatValue(h.Sum()) + "\n";
        out += f.name() + "_count" + Labels(f.label_names(), values) + " " +
               FormatValue(static_cast<double>(h.Count())) + "\n";
      });
    } else if (e->callback) {
      AppendHeader(out, e->name, e->callback_help, "gauge");
      out += e->name + " " + FormatValue(e->callback()) + "\n";
    }
  }
  return out;
}

}  // namespace wisp
