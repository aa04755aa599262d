// MetricExpr: the small expression language of alert rules, evaluated
// against the samples of a MetricsRegistry (docs/observability.md, "Alert
// expressions").
//
//   expr     := product (("+" | "-") product)*
//   product  := term (("*" | "/") term)*
//   term     := NUMBER | "time()" | "(" expr ")"
//             | selector                       sum of the matching samples (0 when none)
//             | ("sum"|"min"|"max") "(" selector ")"    min/max: no value when none match
//             | ("rate"|"increase") "(" selector "[" DURATION "]" ")"
//   selector := NAME [ "{" LABEL ("="|"!=") "\"VALUE\"" ("," ...)* "}" ]
//   DURATION := INTEGER ("s"|"m"|"h")
//
//   rate(wisp_activations_total{status!="success"}[5m]) / rate(wisp_activations_total[5m])
//   time() - min(wisp_so_last_successful_poll_timestamp_seconds)
//
// rate() and increase() look at the sum of the matching series over the
// window, from the history this object keeps of its own evaluations: each
// Evaluate() adds a point, and points older than the window go (but one).
// increase = now's sum - the window's first; rate = increase / the seconds
// between them (no value until two evaluations are apart). A division by 0
// has no value; so does any term without one.
//
// Thread-safety: not thread-safe; one evaluator owns it.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/metrics.h"
#include "util/result.h"

namespace wisp {

class MetricExpr {
 public:
  // InvalidArgument with the position and what was expected.
  static Result<MetricExpr> Parse(const std::string& text);

  MetricExpr(MetricExpr&&) noexcept;
  MetricExpr& operator=(MetricExpr&&) noexcept;
  ~MetricExpr();

  // The value at `now_seconds` (Unix time, also what time() gives) over
  // `samples`, or nullopt when it has none. Records history for rate().
  std::optional<double> Evaluate(const std::vector<MetricSample>& samples, double now_seconds);

  const std::string& text() const { return text_; }

  struct Node;

 private:
  MetricExpr(std::string text, std::unique_ptr<Node> root);
  std::string text_;
  std::unique_ptr<Node> root_;
};

// A comparison of an alert rule: ">", ">=", "<", "<=", "==", "!=".
// InvalidArgument for anything else.
Result<std::string> ParseComparison(const std::string& op);
bool Compare(double value, const std::string& op, double threshold);

// "30s", "5m", "2h", or "0" -> seconds; InvalidArgument otherwise.
Result<double> ParseDurationSeconds(const std::string& text);

}  // namespace wisp
