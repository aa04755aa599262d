#include "util/metric_expr.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>

namespace wisp {

struct MetricExpr::Node {
  enum class Kind { kNumber, kTime, kSum, kMin, kMax, kRate, kIncrease, kBinary };
  struct Matcher {
    std::string label;
    bool equal = true;
    std::string value;
  };

  Kind kind = Kind::kNumber;
  double number = 0;
  // Selectors.
  std::string metric;
  std::vector<Matcher> matchers;
  double window = 0;                           // rate/increase, seconds
  std::deque<std::pair<double, double>> history;  // rate/increase: (time, sum)
  // kBinary.
  char op = 0;
  std::unique_ptr<Node> left, right;

  bool Matches(const MetricSample& s) const {
    if (s.name != metric) return false;
    for (const Matcher& m : matchers) {
      const auto it = s.labels.find(m.label);
      const std::string& v = it == s.labels.end() ? std::string() : it->second;
      if ((v == m.value) != m.equal) return false;
    }
    return true;
  }

  std::optional<double> Evaluate(const std::vector<MetricSample>& samples, double now) {
    switch (kind) {
      case Kind::kNumber: return number;
      case Kind::kTime: return now;
      case Kind::kSum:
      case Kind::kMin:
      case Kind::kMax:
      case Kind::kRate:
      case Kind::kIncrease: {
        double sum = 0;
        std::optional<double> min, max;
        for (const MetricSample& s : samples) {
          if (!Matches(s)) continue;
          sum += s.value;
          min = min ? std::min(*min, s.value) : s.value;
          max = max ? std::max(*max, s.value) : s.value;
        }
        if (kind == Kind::kSum) return sum;
        if (kind == Kind::kMin) return min;
        if (kind == Kind::kMax) return max;
        history.emplace_back(now, sum);
        // Keep the newest point at or before the window's start, and all after.
        while (history.size() >= 2 && history[1].first <= now - window) history.pop_front();
        const double increase = sum - history.front().second;
        if (kind == Kind::kIncrease) return increase;
        const double span = now - history.front().first;
        if (span <= 0) return std::nullopt;
        return increase / span;
      }
      case Kind::kBinary: {
        const std::optional<double> a = left->Evaluate(samples, now);
        const std::optional<double> b = right->Evaluate(samples, now);  // always, for its history
        if (!a || !b) return std::nullopt;
        switch (op) {
          case '+': return *a + *b;
          case '-': return *a - *b;
          case '*': return *a * *b;
          default:
            if (*b == 0) return std::nullopt;
            return *a / *b;
        }
      }
    }
    return std::nullopt;
  }
};

namespace {

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  Result<std::unique_ptr<MetricExpr::Node>> ParseAll() {
    auto root = Expr();
    if (!root.ok()) return root;
    Skip();
    if (pos_ != text_.size()) return Error("an operator or the end");
    return root;
  }

 private:
  using Node = MetricExpr::Node;
  using NodeResult = Result<std::unique_ptr<Node>>;

  Status Error(const std::string& expected) const {
    return Status::InvalidArgument("alert expression \"" + text_ + "\": expected " + expected + " at offset " +
                                   std::to_string(pos_));
  }
  void Skip() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Eat(char c) {
    Skip();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string Name() {
    Skip();
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' || text_[pos_] == ':')) {
      ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }

  NodeResult Binary(NodeResult (Parser::*operand)(), const char* ops) {
    NodeResult left = (this->*operand)();
    if (!left.ok()) return left;
    std::unique_ptr<Node> node = std::move(*left);
    while (true) {
      Skip();
      if (pos_ >= text_.size() || std::string(ops).find(text_[pos_]) == std::string::npos) return node;
      const char op = text_[pos_++];
      NodeResult right = (this->*operand)();
      if (!right.ok()) return right;
      auto parent = std::make_unique<Node>();
      parent->kind = Node::Kind::kBinary;
      parent->op = op;
      parent->left = std::move(node);
      parent->right = std::move(*right);
      node = std::move(parent);
    }
  }
  NodeResult Expr() { return Binary(&Parser::Product, "+-"); }
  NodeResult Product() { return Binary(&Parser::Term, "*/"); }

  NodeResult Term() {
    Skip();
    if (Eat('(')) {
      NodeResult inner = Expr();
      if (!inner.ok()) return inner;
      if (!Eat(')')) return Error("')'");
      return inner;
    }
    auto node = std::make_unique<Node>();
    if (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.')) {
      const char* begin = text_.c_str() + pos_;
      char* end = nullptr;
      node->number = std::strtod(begin, &end);
      pos_ += static_cast<size_t>(end - begin);
      return node;
    }
    const std::string name = Name();
    if (name.empty()) return Error("a number, a metric name or a function");
    Skip();
    const bool call = pos_ < text_.size() && text_[pos_] == '(';
    if (!call) {
      node->kind = Node::Kind::kSum;
      node->metric = name;
      WISP_RETURN_IF_ERROR(Matchers(*node));
      return node;
    }
    ++pos_;
    if (name == "time") {
      if (!Eat(')')) return Error("')' after time(");
      node->kind = Node::Kind::kTime;
      return node;
    }
    if (name == "sum") node->kind = Node::Kind::kSum;
    else if (name == "min") node->kind = Node::Kind::kMin;
    else if (name == "max") node->kind = Node::Kind::kMax;
    else if (name == "rate") node->kind = Node::Kind::kRate;
    else if (name == "increase") node->kind = Node::Kind::kIncrease;
    else return Error("one of time, sum, min, max, rate, increase (not \"" + name + "\")");
    node->metric = Name();
    if (node->metric.empty()) return Error("a metric name");
    WISP_RETURN_IF_ERROR(Matchers(*node));
    if (node->kind == Node::Kind::kRate || node->kind == Node::Kind::kIncrease) {
      if (!Eat('[')) return Error("'[' and a window such as [5m]");
      Skip();
      const size_t close = text_.find(']', pos_);
      if (close == std::string::npos) return Error("']'");
      Result<double> window = ParseDurationSeconds(text_.substr(pos_, close - pos_));
      if (!window.ok() || *window <= 0) return Error("a window such as 30s, 5m or 1h");
      node->window = *window;
      pos_ = close + 1;
    }
    if (!Eat(')')) return Error("')'");
    return node;
  }

  Status Matchers(Node& node) {
    if (!Eat('{')) return Status::Ok();
    if (Eat('}')) return Status::Ok();
    do {
      Node::Matcher m;
      m.label = Name();
      if (m.label.empty()) return Error("a label name");
      Skip();
      if (text_.compare(pos_, 2, "!=") == 0) {
        m.equal = false;
        pos_ += 2;
      } else if (pos_ < text_.size() && text_[pos_] == '=') {
        ++pos_;
      } else {
        return Error("'=' or '!='");
      }
      if (!Eat('"')) return Error("a quoted label value");
      const size_t close = text_.find('"', pos_);
      if (close == std::string::npos) return Error("the closing '\"'");
      m.value = text_.substr(pos_, close - pos_);
      pos_ = close + 1;
      node.matchers.push_back(std::move(m));
    } while (Eat(','));
    if (!Eat('}')) return Error("',' or '}'");
    return Status::Ok();
  }

  const std::string& text_;
  size_t pos_ = 0;
};

}  // namespace

MetricExpr::MetricExpr(std::string text, std::unique_ptr<Node> root) : text_(std::move(text)), root_(std::move(root)) {}
MetricExpr::MetricExpr(MetricExpr&&) noexcept = default;
MetricExpr& MetricExpr::operator=(MetricExpr&&) noexcept = default;
MetricExpr::~MetricExpr() = default;

Result<MetricExpr> MetricExpr::Parse(const std::string& text) {
  Parser parser(text);
  Result<std::unique_ptr<Node>> root = parser.ParseAll();
  if (!root.ok()) return root.status();
  return MetricExpr(text, std::move(*root));
}

std::optional<double> MetricExpr::Evaluate(const std::vector<MetricSample>& samples, double now_seconds) {
  return root_->Evaluate(samples, now_seconds);
}

Result<std::string> ParseComparison(const std::string& op) {
  for (const char* known : {">", ">=", "<", "<=", "==", "!="}) {
    if (op == known) return op;
  }
  return Status::InvalidArgument("unknown comparison \"" + op + "\": use >, >=, <, <=, == or !=");
}

bool Compare(double value, const std::string& op, double threshold) {
  if (op == ">") return value > threshold;
  if (op == ">=") return value >= threshold;
  if (op == "<") return value < threshold;
  if (op == "<=") return value <= threshold;
  if (op == "==") return value == threshold;
  if (op == "!=") return value != threshold;
  return false;
}

Result<double> ParseDurationSeconds(const std::string& text) {
  if (text == "0") return 0.0;
  if (text.size() < 2) return Status::InvalidArgument("bad duration \"" + text + "\": use 30s, 5m or 1h");
  const char unit = text.back();
  const std::string digits = text.substr(0, text.size() - 1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("bad duration \"" + text + "\": use 30s, 5m or 1h");
  }
  const double n = std::strtod(digits.c_str(), nullptr);
  switch (unit) {
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    default: return Status::InvalidArgument("bad duration \"" + text + "\": use 30s, 5m or 1h");
  }
}

}  // namespace wisp
