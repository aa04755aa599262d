// Structured logging: one JSON object per line (or, for a terminal, a text
// line with the same fields). docs/observability.md describes the format.
//
//   log::Info("http", "listening", {{"port", 3233}, {"tls", false}});
//   => {"ts":"2026-11-27T22:30:00.123Z","level":"info","module":"http","msg":"listening","port":3233,"tls":false}
//
// A LogContext adds fields (trace_id, activation_id, action path) to every
// line its thread writes while it is alive, so code deep in a call need not
// know which trace it serves. A context crosses to another thread only when
// it is carried: ThreadPool::Submit() carries the submitter's, and code that
// starts its own threads passes a CapturedContext.
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

enum class Format { kJson, kText };

// "json" -> kJson, "text" -> kText. Returns false, leaving *out alone, otherwise.
bool ParseFormat(std::string_view name, Format* out);

struct Options {
  Level level = Level::kInfo;
  // Per-module overrides, e.g. {"http", kDebug}.
  std::vector<std::pair<std::string, Level>> module_levels;
  // Empty: standard error. "-": standard output. Otherwise a file, appended to.
  std::string file;
  Format format = Format::kJson;
};

// Reads a level specification into options->level and
// options->module_levels: comma-separated items, each either a level (the
// default for every module) or MODULE=LEVEL, e.g. "info,store=debug,http=warn".
// InvalidArgument, naming the bad item, for an unknown level or an empty
// module name; *options is then unchanged.
Status ParseLevelSpec(std::string_view spec, Options* options);

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

// The context fields of one thread at one moment, to carry them to another.
class CapturedContext {
 public:
  // This thread's context fields now.
  static CapturedContext Current();
  bool empty() const { return fields_.empty(); }

 private:
  friend class LogContext;
  std::vector<Field> fields_;
};

// Adds fields to every line this thread writes until destroyed. Contexts nest;
// inner fields come after outer ones, and an inner field replaces an outer
// one of the same key (a line has each key once; the line's own fields win
// over every context).
class LogContext {
 public:
  explicit LogContext(Fields fields);
  // Re-creates a context captured on another thread.
  explicit LogContext(const CapturedContext& captured);
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

// Formats one JSON line without writing it; exposed for tests.
std::string FormatLine(std::string_view ts, Level level, std::string_view module,
                       std::string_view msg, Fields fields);
// The same line in the text format:
//   2026-11-27T22:30:00.123Z INFO  http listening port=3233 tls=false
// String values that hold a space, '=' or '"' (or are empty) are quoted as JSON strings.
std::string FormatTextLine(std::string_view ts, Level level, std::string_view module,
                           std::string_view msg, Fields fields);

}  // namespace wisp::log
