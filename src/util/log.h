// Structured logging: one JSON object per line.
//
//   log::Info("http", "listening", {{"port", 3233}, {"tls", false}});
//   => {"ts":"2026-11-27T22:30:00.123Z","level":"info","module":"http","msg":"listening","port":3233,"tls":false}
//
// A LogContext adds fields (trace_id, activation_id, action path) to every
// line its thread writes while it is alive, so code deep in a call need not
// know which trace it serves.
//
// Thread-safety: every function may be called from any thread. Configure()
// is meant for start-up, before other threads log.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/status.h"

namespace wisp::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// "info" -> kInfo. Returns false, leaving *out alone, for an unknown name.
bool ParseLevel(std::string_view name, Level* out);
std::string_view LevelName(Level level);

// A field's value. Strings are copied, so temporaries are safe to pass.
using Value = std::variant<std::string, int64_t, double, bool>;

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <typename Int, typename = std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>>>
  Field(std::string_view k, Int v) : key(k), value(static_cast<int64_t>(v)) {}

  std::string key;
  Value value;
};
using Fields = std::initializer_list<Field>;

struct Options {
  Level level = Level::kInfo;
  // Per-module overrides, e.g. {"http", kDebug}.
  std::vector<std::pair<std::string, Level>> module_levels;
  // Empty: standard error. Otherwise a file, appended to.
  std::string file;
};

// Replaces the sinks and levels. Fails when the file cannot be opened.
Status Configure(const Options& options);

// True when a line at `level` from `module` would be written; lets callers
// skip building expensive fields.
bool Enabled(Level level, std::string_view module);

void Write(Level level, std::string_view module, std::string_view msg, Fields fields = {});

inline void Trace(std::string_view m, std::string_view msg, Fields f = {}) { Write(Level::kTrace, m, msg, f); }
inline void Debug(std::string_view m, std::string_view msg, Fields f = {}) { Write(Level::kDebug, m, msg, f); }
inline void Info(std::string_view m, std::string_view msg, Fields f = {}) { Write(Level::kInfo, m, msg, f); }
inline void Warn(std::string_view m, std::string_view msg, Fields f = {}) { Write(Level::kWarn, m, msg, f); }
inline void Error(std::string_view m, std::string_view msg, Fields f = {}) { Write(Level::kError, m, msg, f); }

// Adds fields to every line this thread writes until destroyed. Contexts nest;
// inner fields come after outer ones.
class LogContext {
 public:
  explicit LogContext(Fields fields);
  ~LogContext();
  LogContext(const LogContext&) = delete;
  LogContext& operator=(const LogContext&) = delete;

  // The value of `key` in the innermost context of this thread, or "".
  static std::string Get(std::string_view key);

 private:
  size_t pushed_;
};

// Appends `s` to `out` as the inside of a JSON string (quotes not included).
// Bytes that are not well-formed UTF-8 become U+FFFD, so the result is valid JSON.
void AppendJsonEscaped(std::string& out, std::string_view s);

// Formats one line without writing it; exposed for tests.
std::string FormatLine(std::string_view ts, Level level, std::string_view module,
                       std::string_view msg, Fields fields);

}  // namespace wisp::log
