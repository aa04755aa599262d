#include "util/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace wisp {
namespace {

using ::testing::HasSubstr;

// --- Counter, Gauge, Histogram ---

TEST(CounterTest, StartsAtZeroAndIncrements) {
  Counter c;
  EXPECT_EQ(c.Value(), 0.0);
  c.Inc();
  c.Inc();
  c.Inc(2.5);
  EXPECT_EQ(c.Value(), 4.5);
}

TEST(CounterTest, IgnoresNegativeZeroAndNanIncrements) {
  Counter c;
  c.Inc(3);
  c.Inc(-1);
  c.Inc(0);
  c.Inc(std::nan(""));
  EXPECT_EQ(c.Value(), 3.0);
}

TEST(CounterTest, ConcurrentIncrementsSumExactly) {
  Counter c;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) c.Inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value(), static_cast<double>(kThreads * kPerThread));
}

TEST(GaugeTest, SetAndAddMoveBothWays) {
  Gauge g;
  EXPECT_EQ(g.Value(), 0.0);
  g.Set(10);
  g.Add(-3);
  g.Add(0.5);
  EXPECT_EQ(g.Value(), 7.5);
  g.Set(-2);
  EXPECT_EQ(g.Value(), -2.0);
}

TEST(GaugeTest, ConcurrentAddsBalanceOut) {
  Gauge g;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) {
        g.Add(1);
        g.Add(-1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(g.Value(), 0.0);
}

TEST(HistogramTest, CountsAreCumulativeAndBoundsAreInclusive) {
  Histogram h({0.1, 0.5, 1});
  h.Observe(0.05);
  h.Observe(0.1);  // on a bound: counts in that bucket (le means <=)
  h.Observe(0.3);
  h.Observe(1);
  h.Observe(7);
  EXPECT_EQ(h.CumulativeCount(0), 2u);
  EXPECT_EQ(h.CumulativeCount(1), 3u);
  EXPECT_EQ(h.CumulativeCount(2), 4u);
  EXPECT_EQ(h.CumulativeCount(3), 5u);  // +Inf
  EXPECT_EQ(h.Count(), 5u);
  EXPECT_DOUBLE_EQ(h.Sum(), 8.45);
}

TEST(HistogramTest, IndexPastInfReturnsTotal) {
  Histogram h({1});
  h.Observe(5);
  EXPECT_EQ(h.CumulativeCount(99), 1u);
}

TEST(HistogramTest, WithNoBoundsHasOnlyInf) {
  Histogram h({});
  h.Observe(-3);
  h.Observe(3);
  EXPECT_EQ(h.CumulativeCount(0), 2u);
  EXPECT_EQ(h.Count(), 2u);
  EXPECT_EQ(h.Sum(), 0.0);
}

TEST(HistogramTest, ConcurrentObservationsAreAllCounted) {
  Histogram h({1, 2});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) h.Observe(i % 3);  // 0, 1, 2
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.Count(), 40'000u);
  EXPECT_EQ(h.CumulativeCount(2), 40'000u);
  // 0..9999 holds 3334 zeros, 3333 ones and 3333 twos.
  EXPECT_EQ(h.CumulativeCount(0), 4u * (3334 + 3333));
  EXPECT_EQ(h.Sum(), 4.0 * (3333 * 1 + 3333 * 2));
}

TEST(DefaultLatencyBucketsTest, AscendFrom100MicrosecondsTo10Seconds) {
  const std::vector<double> b = DefaultLatencyBuckets();
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(b.front(), 0.0001);
  EXPECT_EQ(b.back(), 10.0);
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
}

// --- Family ---

TEST(FamilyTest, SameLabelValuesReturnTheSameChild) {
  MetricsRegistry registry;
  auto& family = registry.AddCounter("requests_total", "Requests.", {"route"});
  Counter& a = family.WithLabels({"/a"});
  Counter& b = family.WithLabels({"/b"});
  EXPECT_NE(&a, &b);
  EXPECT_EQ(&a, &family.WithLabels({"/a"}));
  a.Inc();
  EXPECT_EQ(family.WithLabels({"/a"}).Value(), 1.0);
  EXPECT_EQ(b.Value(), 0.0);
}

TEST(FamilyTest, ExposesNameHelpAndLabelNames) {
  MetricsRegistry registry;
  auto& family = registry.AddGauge("queue_depth", "Queued tasks.", {"pool"});
  EXPECT_EQ(family.name(), "queue_depth");
  EXPECT_EQ(family.help(), "Queued tasks.");
  EXPECT_EQ(family.label_names(), std::vector<std::string>{"pool"});
}

TEST(FamilyTest, ConcurrentIncOnSharedAndDistinctChildrenSumsCorrectly) {
  MetricsRegistry registry;
  auto& family = registry.AddCounter("hits_total", "Hits.", {"thread"});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        family.WithLabels({"shared"}).Inc();
        family.WithLabels({std::to_string(t)}).Inc();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family.WithLabels({"shared"}).Value(), static_cast<double>(kThreads * kPerThread));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(family.WithLabels({std::to_string(t)}).Value(), static_cast<double>(kPerThread));
  }
}

// --- MetricsRegistry ---

TEST(MetricsRegistryTest, SameNameReturnsTheSameFamily) {
  MetricsRegistry registry;
  auto& c1 = registry.AddCounter("c_total", "First help.", {"x"});
  auto& c2 = registry.AddCounter("c_total", "Second help.", {"y"});
  EXPECT_EQ(&c1, &c2);
  EXPECT_EQ(c2.help(), "First help.");

  auto& g1 = registry.AddGauge("g", "G.");
  auto& g2 = registry.AddGauge("g", "G again.");
  EXPECT_EQ(&g1, &g2);
  auto& h1 = registry.AddHistogram("h", "H.", {}, {1});
  auto& h2 = registry.AddHistogram("h", "H.", {}, {2, 3});
  EXPECT_EQ(&h1, &h2);
  EXPECT_EQ(registry.AddHistogram("h", "H.", {}).WithLabels({}).bounds(), std::vector<double>{1});

  const std::string page = registry.Render();
  EXPECT_EQ(page.find("# HELP c_total"), page.rfind("# HELP c_total"));  // listed once
  EXPECT_THAT(page, ::testing::Not(HasSubstr("Second help.")));
}

TEST(MetricsRegistryTest, EmptyRegistryRendersNothing) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.Render(), "");
}

TEST(MetricsRegistryTest, FamilyWithoutChildrenRendersOnlyItsHeader) {
  MetricsRegistry registry;
  registry.AddCounter("idle_total", "Never touched.", {"route"});
  EXPECT_EQ(registry.Render(),
            "# HELP idle_total Never touched.\n"
            "# TYPE idle_total counter\n");
}

TEST(MetricsRegistryTest, RendersSmallRegistryExactly) {
  MetricsRegistry registry;
  auto& requests = registry.AddCounter("wisp_http_requests_total", "HTTP requests served.", {"route", "status"});
  requests.WithLabels({"/ping", "200"}).Inc();
  requests.WithLabels({"/ping", "200"}).Inc(2);
  requests.WithLabels({"/api", "500"}).Inc();

  registry.AddGauge("wisp_up", "Whether the server is up.").WithLabels({}).Set(1);

  auto& latency = registry.AddHistogram("wisp_latency_seconds", "Request latency.", {"route"}, {0.1, 0.5, 1});
  Histogram& ping = latency.WithLabels({"/ping"});
  ping.Observe(0.05);
  ping.Observe(0.5);
  ping.Observe(3);

  registry.AddCallbackGauge("wisp_uptime_seconds", "Seconds since start.", [] { return 12.5; });

  EXPECT_EQ(registry.Render(),
            "# HELP wisp_http_requests_total HTTP requests served.\n"
            "# TYPE wisp_http_requests_total counter\n"
            "wisp_http_requests_total{route=\"/api\",status=\"500\"} 1\n"
            "wisp_http_requests_total{route=\"/ping\",status=\"200\"} 3\n"
            "# HELP wisp_up Whether the server is up.\n"
            "# TYPE wisp_up gauge\n"
            "wisp_up 1\n"
            "# HELP wisp_latency_seconds Request latency.\n"
            "# TYPE wisp_latency_seconds histogram\n"
            "wisp_latency_seconds_bucket{route=\"/ping\",le=\"0.1\"} 1\n"
            "wisp_latency_seconds_bucket{route=\"/ping\",le=\"0.5\"} 2\n"
            "wisp_latency_seconds_bucket{route=\"/ping\",le=\"1\"} 2\n"
            "wisp_latency_seconds_bucket{route=\"/ping\",le=\"+Inf\"} 3\n"
            "wisp_latency_seconds_sum{route=\"/ping\"} 3.55\n"
            "wisp_latency_seconds_count{route=\"/ping\"} 3\n"
            "# HELP wisp_uptime_seconds Seconds since start.\n"
            "# TYPE wisp_uptime_seconds gauge\n"
            "wisp_uptime_seconds 12.5\n");
}

TEST(MetricsRegistryTest, HistogramWithoutLabelsRendersOnlyLe) {
  MetricsRegistry registry;
  registry.AddHistogram("h_seconds", "H.", {}, {0.25}).WithLabels({}).Observe(0.2);
  EXPECT_EQ(registry.Render(),
            "# HELP h_seconds H.\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"0.25\"} 1\n"
            "h_seconds_bucket{le=\"+Inf\"} 1\n"
            "h_seconds_sum 0.2\n"
            "h_seconds_count 1\n");
}

TEST(MetricsRegistryTest, DefaultBucketsRenderInPlainDecimal) {
  MetricsRegistry registry;
  registry.AddHistogram("d_seconds", "D.", {}).WithLabels({});
  const std::string page = registry.Render();
  EXPECT_THAT(page, HasSubstr("d_seconds_bucket{le=\"0.0001\"} 0\n"));
  EXPECT_THAT(page, HasSubstr("d_seconds_bucket{le=\"0.00025\"} 0\n"));
  EXPECT_THAT(page, HasSubstr("d_seconds_bucket{le=\"2.5\"} 0\n"));
  EXPECT_THAT(page, HasSubstr("d_seconds_bucket{le=\"10\"} 0\n"));
  EXPECT_THAT(page, HasSubstr("d_seconds_bucket{le=\"+Inf\"} 0\n"));
}

TEST(MetricsRegistryTest, EscapesBackslashQuoteAndNewlineInLabelValues) {
  MetricsRegistry registry;
  registry.AddCounter("e_total", "E.", {"path"}).WithLabels({"a\\b\"c\nd"}).Inc();
  EXPECT_THAT(registry.Render(), HasSubstr("e_total{path=\"a\\\\b\\\"c\\nd\"} 1\n"));
}

TEST(MetricsRegistryTest, EscapesBackslashAndNewlineInHelp) {
  MetricsRegistry registry;
  registry.AddGauge("g", "line one\nsays \"C:\\\"");
  // HELP escapes backslash and line feed only; quotes stay as they are.
  EXPECT_EQ(registry.Render(),
            "# HELP g line one\\nsays \"C:\\\\\"\n"
            "# TYPE g gauge\n");
}

TEST(MetricsRegistryTest, RendersSpecialValues) {
  MetricsRegistry registry;
  auto& g = registry.AddGauge("v", "V.", {"k"});
  g.WithLabels({"a"}).Set(std::nan(""));
  g.WithLabels({"b"}).Set(std::numeric_limits<double>::infinity());
  g.WithLabels({"c"}).Set(-std::numeric_limits<double>::infinity());
  g.WithLabels({"d"}).Set(-42);
  g.WithLabels({"e"}).Set(0.125);
  g.WithLabels({"f"}).Set(1e20);
  const std::string page = registry.Render();
  EXPECT_THAT(page, HasSubstr("v{k=\"a\"} NaN\n"));
  EXPECT_THAT(page, HasSubstr("v{k=\"b\"} +Inf\n"));
  EXPECT_THAT(page, HasSubstr("v{k=\"c\"} -Inf\n"));
  EXPECT_THAT(page, HasSubstr("v{k=\"d\"} -42\n"));
  EXPECT_THAT(page, HasSubstr("v{k=\"e\"} 0.125\n"));
  EXPECT_THAT(page, HasSubstr("v{k=\"f\"} 1e+20\n"));
}

TEST(MetricsRegistryTest, CallbackGaugeIsReadAtEachRender) {
  MetricsRegistry registry;
  std::atomic<int> reads{0};
  registry.AddCallbackGauge("cb", "Callback.", [&] { return static_cast<double>(++reads); });
  EXPECT_EQ(reads.load(), 0);  // not read until rendered
  EXPECT_THAT(registry.Render(), HasSubstr("\ncb 1\n"));
  EXPECT_THAT(registry.Render(), HasSubstr("\ncb 2\n"));
}

TEST(MetricsRegistryTest, CallbackGaugeWithTakenNameKeepsTheFirst) {
  MetricsRegistry registry;
  registry.AddCallbackGauge("cb", "First.", [] { return 1.0; });
  registry.AddCallbackGauge("cb", "Second.", [] { return 2.0; });
  EXPECT_EQ(registry.Render(),
            "# HELP cb First.\n"
            "# TYPE cb gauge\n"
            "cb 1\n");
}

TEST(MetricsRegistryTest, FamiliesRenderInRegistrationOrder) {
  MetricsRegistry registry;
  registry.AddGauge("zeta", "Z.");
  registry.AddCounter("alpha_total", "A.");
  registry.AddCallbackGauge("mid", "M.", [] { return 0.0; });
  const std::string page = registry.Render();
  const size_t zeta = page.find("# HELP zeta");
  const size_t alpha = page.find("# HELP alpha_total");
  const size_t mid = page.find("# HELP mid");
  ASSERT_NE(zeta, std::string::npos);
  ASSERT_NE(alpha, std::string::npos);
  ASSERT_NE(mid, std::string::npos);
  EXPECT_LT(zeta, alpha);
  EXPECT_LT(alpha, mid);
}

TEST(MetricsRegistryTest, RenderWhileUpdatingFromOtherThreadsIsSafe) {
  MetricsRegistry registry;
  auto& family = registry.AddCounter("busy_total", "Busy.", {"worker"});
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      int i = 0;
      while (!stop.load()) family.WithLabels({std::to_string(t * 1000 + (i++ % 50))}).Inc();
    });
  }
  for (int i = 0; i < 200; ++i) {
    const std::string page = registry.Render();
    ASSERT_EQ(page.rfind("# HELP busy_total Busy.\n# TYPE busy_total counter\n", 0), 0u);
  }
  stop = true;
  for (auto& t : threads) t.join();
}

// --- labelled callback gauges and Samples() ---

TEST(MetricsRegistryTest, CallbackGaugeFamilyRendersOneLinePerChildReadAtRender) {
  MetricsRegistry registry;
  double size = 10;
  registry.AddCallbackGaugeFamily("db_size_bytes", "Size.", {"db"}, [&size] {
    return MetricsRegistry::LabelledValues{{{"a"}, size}, {{"b\"q"}, 2}};
  });
  size = 42;
  const std::string page = registry.Render();
  EXPECT_THAT(page, HasSubstr("# TYPE db_size_bytes gauge\n"));
  EXPECT_THAT(page, HasSubstr("db_size_bytes{db=\"a\"} 42\n"));
  EXPECT_THAT(page, HasSubstr("db_size_bytes{db=\"b\\\"q\"} 2\n"));
}

TEST(MetricsRegistryTest, SamplesMatchWhatRenderShows) {
  MetricsRegistry registry;
  registry.AddCounter("jobs_total", "Jobs.", {"result"}).WithLabels({"ok"}).Inc(3);
  registry.AddHistogram("latency_seconds", "Latency.", {"op"}, {0.1, 1}).WithLabels({"read"}).Observe(0.5);
  registry.AddCallbackGauge("up", "Up.", [] { return 1.0; });
  const std::vector<MetricSample> samples = registry.Samples();
  auto find = [&](const std::string& name, const std::map<std::string, std::string>& labels) -> const MetricSample* {
    for (const MetricSample& s : samples) {
      if (s.name == name && s.labels == labels) return &s;
    }
    return nullptr;
  };
  ASSERT_NE(find("jobs_total", {{"result", "ok"}}), nullptr);
  EXPECT_EQ(find("jobs_total", {{"result", "ok"}})->value, 3);
  ASSERT_NE(find("latency_seconds_bucket", {{"op", "read"}, {"le", "0.1"}}), nullptr);
  EXPECT_EQ(find("latency_seconds_bucket", {{"op", "read"}, {"le", "0.1"}})->value, 0);
  EXPECT_EQ(find("latency_seconds_bucket", {{"op", "read"}, {"le", "1"}})->value, 1);
  EXPECT_EQ(find("latency_seconds_bucket", {{"op", "read"}, {"le", "+Inf"}})->value, 1);
  EXPECT_EQ(find("latency_seconds_count", {{"op", "read"}})->value, 1);
  EXPECT_EQ(find("latency_seconds_sum", {{"op", "read"}})->value, 0.5);
  ASSERT_NE(find("up", {}), nullptr);
  // One sample per line of the page that is not a comment.
  const std::string page = registry.Render();
  size_t lines = 0;
  for (size_t at = 0; (at = page.find('\n', at)) != std::string::npos; ++at) ++lines;
  size_t comments = 0;
  for (size_t at = 0; (at = page.find("# ", at)) != std::string::npos; ++at) ++comments;
  EXPECT_EQ(samples.size(), lines - comments);
}

}  // namespace
}  // namespace wisp
