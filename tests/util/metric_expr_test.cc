#include "util/metric_expr.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wisp {
namespace {

using ::testing::HasSubstr;

MetricSample S(std::string name, std::map<std::string, std::string> labels, double value) {
  return MetricSample{std::move(name), std::move(labels), value};
}

MetricExpr Parsed(const std::string& text) {
  Result<MetricExpr> e = MetricExpr::Parse(text);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return std::move(*e);
}

TEST(MetricExprTest, SelectorSumsTheMatchingSeries) {
  const std::vector<MetricSample> samples = {S("jobs_total", {{"status", "ok"}}, 3),
                                             S("jobs_total", {{"status", "failed"}}, 2),
                                             S("other", {}, 100)};
  EXPECT_EQ(Parsed("jobs_total").Evaluate(samples, 0), 5);
  EXPECT_EQ(Parsed("jobs_total{status=\"ok\"}").Evaluate(samples, 0), 3);
  EXPECT_EQ(Parsed("jobs_total{status!=\"ok\"}").Evaluate(samples, 0), 2);
  EXPECT_EQ(Parsed("sum(jobs_total{status=\"none\"})").Evaluate(samples, 0), 0);
  EXPECT_EQ(Parsed("min(jobs_total)").Evaluate(samples, 0), 2);
  EXPECT_EQ(Parsed("max(jobs_total)").Evaluate(samples, 0), 3);
  EXPECT_FALSE(Parsed("min(missing)").Evaluate(samples, 0).has_value()) << "no series: no value";
}

TEST(MetricExprTest, ArithmeticWithPrecedenceTimeAndDivisionByZero) {
  const std::vector<MetricSample> samples = {S("last_seen", {}, 1000), S("zero", {}, 0)};
  EXPECT_EQ(Parsed("time() - last_seen").Evaluate(samples, 1600), 600);
  EXPECT_EQ(Parsed("1 + 2 * 3").Evaluate(samples, 0), 7);
  EXPECT_EQ(Parsed("(1 + 2) * 3").Evaluate(samples, 0), 9);
  EXPECT_FALSE(Parsed("last_seen / zero").Evaluate(samples, 0).has_value());
}

TEST(MetricExprTest, RateAndIncreaseUseTheHistoryOfEvaluations) {
  MetricExpr rate = Parsed("rate(requests_total[1m])");
  MetricExpr increase = Parsed("increase(requests_total[1m])");
  auto at = [](double v) { return std::vector<MetricSample>{S("requests_total", {{"code", "200"}}, v)}; };
  EXPECT_FALSE(rate.Evaluate(at(10), 0).has_value()) << "one point has no rate";
  EXPECT_EQ(increase.Evaluate(at(10), 0), 0);
  EXPECT_EQ(rate.Evaluate(at(40), 30), 1.0);
  EXPECT_EQ(increase.Evaluate(at(40), 30), 30);
  EXPECT_EQ(rate.Evaluate(at(70), 60), 1.0);
  // The window slides: the point at 0 is older than 1m before 90.
  EXPECT_EQ(rate.Evaluate(at(70), 90), 0.5);
  EXPECT_EQ(increase.Evaluate(at(70), 90), 30);
  EXPECT_EQ(increase.Evaluate(at(70), 200), 0);
}

TEST(MetricExprTest, AnErrorRatioOfTwoRates) {
  MetricExpr ratio = Parsed("rate(a_total{s!=\"ok\"}[5m]) / rate(a_total[5m])");
  EXPECT_FALSE(ratio.Evaluate({}, 0).has_value());
  EXPECT_FALSE(ratio.Evaluate({}, 60).has_value()) << "0/0 has no value";
  const std::vector<MetricSample> later = {S("a_total", {{"s", "ok"}}, 90), S("a_total", {{"s", "bad"}}, 10)};
  EXPECT_DOUBLE_EQ(*ratio.Evaluate(later, 120), 0.1);
}

TEST(MetricExprTest, ParseErrorsSayWhatWasExpectedWhere) {
  for (const char* bad : {"", "rate(x)", "rate(x[5q])", "foo(x)", "x{a=b}", "x{a=\"b\"", "1 +", "(1", "x y"}) {
    Result<MetricExpr> e = MetricExpr::Parse(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_TRUE(e.status().IsInvalidArgument()) << bad;
    EXPECT_THAT(e.status().message(), HasSubstr("expected")) << bad;
  }
}

TEST(MetricExprTest, ComparisonsAndDurations) {
  EXPECT_TRUE(Compare(2, ">", 1));
  EXPECT_FALSE(Compare(1, ">", 1));
  EXPECT_TRUE(Compare(1, ">=", 1));
  EXPECT_TRUE(Compare(0.05, "<", 0.1));
  EXPECT_FALSE(ParseComparison("=>").ok());
  EXPECT_EQ(*ParseDurationSeconds("30s"), 30);
  EXPECT_EQ(*ParseDurationSeconds("5m"), 300);
  EXPECT_EQ(*ParseDurationSeconds("2h"), 7200);
  EXPECT_EQ(*ParseDurationSeconds("0"), 0);
  EXPECT_FALSE(ParseDurationSeconds("5").ok());
  EXPECT_FALSE(ParseDurationSeconds("m").ok());
  EXPECT_FALSE(ParseDurationSeconds("-5m").ok());
}

}  // namespace
}  // namespace wisp
