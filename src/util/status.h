// Status: the outcome of an operation that returns no value.
//
// A Status is either OK or carries one code from a closed set plus a message
// for people. Each code has exactly one HTTP meaning, assigned in one place
// (http/status_mapping.h), so a module reports *what* went wrong and each API
// decides only how to render it.
//
//   Status s = store.Put(doc);
//   if (s.IsConflict()) return RetryLater();
//   if (!s.ok()) return s;
//
// Thread-safety: a Status is a value; distinct objects may be used from
// distinct threads without synchronisation.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace wisp {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,       // malformed or out-of-range input
  kUnauthenticated,       // no credentials, or wrong ones
  kPermissionDenied,      // valid credentials, not entitled
  kNotFound,
  kConflict,              // a concurrent or duplicate write
  kPreconditionFailed,    // a stated precondition (e.g. a db exists) fails
  kPayloadTooLarge,
  kUnsupportedMediaType,
  kResourceExhausted,     // a rate or concurrency limit
  kDeadlineExceeded,
  kUnavailable,           // transient: try again later
  kCancelled,
  kIoError,               // the disk or the network failed
  kInternal,              // a bug or a broken invariant
};

// The name of a code, as written in logs ("NotFound").
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // OK.
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status Unauthenticated(std::string msg) { return {StatusCode::kUnauthenticated, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status Conflict(std::string msg) { return {StatusCode::kConflict, std::move(msg)}; }
  static Status PreconditionFailed(std::string msg) { return {StatusCode::kPreconditionFailed, std::move(msg)}; }
  static Status PayloadTooLarge(std::string msg) { return {StatusCode::kPayloadTooLarge, std::move(msg)}; }
  static Status UnsupportedMediaType(std::string msg) { return {StatusCode::kUnsupportedMediaType, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }
  static Status DeadlineExceeded(std::string msg) { return {StatusCode::kDeadlineExceeded, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status IoError(std::string msg) { return {StatusCode::kIoError, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsInvalidArgument() const { return code_ == StatusCode::kInvalidArgument; }
  bool IsUnauthenticated() const { return code_ == StatusCode::kUnauthenticated; }
  bool IsPermissionDenied() const { return code_ == StatusCode::kPermissionDenied; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsConflict() const { return code_ == StatusCode::kConflict; }
  bool IsPayloadTooLarge() const { return code_ == StatusCode::kPayloadTooLarge; }
  bool IsResourceExhausted() const { return code_ == StatusCode::kResourceExhausted; }
  bool IsDeadlineExceeded() const { return code_ == StatusCode::kDeadlineExceeded; }
  bool IsUnavailable() const { return code_ == StatusCode::kUnavailable; }
  bool IsIoError() const { return code_ == StatusCode::kIoError; }
  bool IsInternal() const { return code_ == StatusCode::kInternal; }

  // "NotFound: no such database", or "OK".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace wisp
