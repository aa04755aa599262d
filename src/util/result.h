// Result<T>: a value of type T, or the Status that explains why there is none.
//
//   Result<Config> config = LoadConfig(path);
//   if (!config.ok()) return config.status();
//   Use(*config);
//
//   WISP_ASSIGN_OR_RETURN(Config c, LoadConfig(path));
//
// Reading the value of a failed Result is a programming error and aborts.
// Thread-safety: as for T.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "util/status.h"

namespace wisp {

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit on purpose, so that `return value;` and `return status;` both read naturally.
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Status::Internal("Result built from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { CheckOk(); return *value_; }
  const T& value() const& { CheckOk(); return *value_; }
  T&& value() && { CheckOk(); return std::move(*value_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The value, or `fallback` when this holds an error.
  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  void CheckOk() const {
    if (!value_) {
      std::fprintf(stderr, "wisp: value of a failed Result read: %s\n", status_.ToString().c_str());
      std::abort();
    }
  }

  std::optional<T> value_;
  Status status_;  // OK exactly when value_ is set
};

#define WISP_CONCAT_INNER(a, b) a##b
#define WISP_CONCAT(a, b) WISP_CONCAT_INNER(a, b)

// Returns the status of `expr` from the current function when it failed.
#define WISP_RETURN_IF_ERROR(expr)            \
  do {                                        \
    ::wisp::Status wisp_status_ = (expr);     \
    if (!wisp_status_.ok()) return wisp_status_; \
  } while (0)

// Declares `lhs` from the value of the Result `rexpr`, or returns its status.
#define WISP_ASSIGN_OR_RETURN(lhs, rexpr) \
  WISP_ASSIGN_OR_RETURN_IMPL(WISP_CONCAT(wisp_result_, __LINE__), lhs, rexpr)
#define WISP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                               \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

}  // namespace wisp
