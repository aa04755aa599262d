#include "util/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <shared_mutex>

#include "util/clock.h"
#include "util/text.h"

namespace wisp::log {
namespace {

struct State {
  std::shared_mutex mu;
  std::shared_ptr<spdlog::logger> logger;  // GUARDED_BY(mu)
  Options options;                         // GUARDED_BY(mu)
  std::atomic<Level> min_level{Level::kInfo};  // the lowest level any module logs at
};

State& GetState() {
  static State* state = [] {
    auto* s = new State;  // never destroyed: threads may log during static destruction
    s->logger = std::make_shared<spdlog::logger>("wisp", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    s->logger->set_pattern("%v");
    s->logger->set_level(spdlog::level::trace);
    return s;
  }();
  return *state;
}

thread_local std::vector<Field> tls_context;

void AppendValue(std::string& out, const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) {
    out.push_back('"');
    AppendJsonEscaped(out, *s);
    out.push_back('"');
  } else if (auto* i = std::get_if<int64_t>(&v)) {
    out += std::to_string(*i);
  } else if (auto* d = std::get_if<double>(&v)) {
    if (std::isfinite(*d)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", *d);
      out += buf;
    } else {
      out += "null";  // JSON has no NaN or infinity
    }
  } else {
    out += std::get<bool>(v) ? "true" : "false";
  }
}

void AppendField(std::string& out, const Field& f) {
  out += ",\"";
  AppendJsonEscaped(out, f.key);
  out += "\":";
  AppendValue(out, f.value);
}

Level LevelFor(const Options& options, std::string_view module) {
  for (const auto& [name, level] : options.module_levels) {
    if (name == module) return level;
  }
  return options.level;
}

}  // namespace

bool ParseLevel(std::string_view name, Level* out) {
  static constexpr std::pair<std::string_view, Level> kNames[] = {
      {"trace", Level::kTrace}, {"debug", Level::kDebug}, {"info", Level::kInfo},
      {"warn", Level::kWarn},   {"error", Level::kError}, {"off", Level::kOff}};
  for (const auto& [n, l] : kNames) {
    if (n == name) {
      *out = l;
      return true;
    }
  }
  return false;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    case Level::kOff: return "off";
  }
  return "info";
}

Status Configure(const Options& options) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (options.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file, /*truncate=*/false);
    } catch (const spdlog::spdlog_ex& e) {
      return Status::IoError("cannot open log file " + options.file + ": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("wisp", sink);
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);

  Level min_level = options.level;
  for (const auto& [name, level] : options.module_levels) min_level = std::min(min_level, level);

  State& state = GetState();
  std::unique_lock lock(state.mu);
  state.logger = std::move(logger);
  state.options = options;
  state.min_level.store(min_level);
  return Status::Ok();
}

bool Enabled(Level level, std::string_view module) {
  State& state = GetState();
  if (level == Level::kOff || level < state.min_level.load(std::memory_order_relaxed)) return false;
  std::shared_lock lock(state.mu);
  return level >= LevelFor(state.options, module);
}

void Write(Level level, std::string_view module, std::string_view msg, Fields fields) {
  if (!Enabled(level, module)) return;
  std::string line = FormatLine(FormatIso8601(Clock::System().Now()), level, module, msg, fields);
  State& state = GetState();
  std::shared_lock lock(state.mu);
  state.logger->log(spdlog::level::info, spdlog::string_view_t(line));  // not a format string
}

std::string FormatLine(std::string_view ts, Level level, std::string_view module,
                       std::string_view msg, Fields fields) {
  std::string out;
  out.reserve(128 + msg.size());
  out += "{\"ts\":\"";
  out += ts;
  out += "\",\"level\":\"";
  out += LevelName(level);
  out += "\",\"module\":\"";
  AppendJsonEscaped(out, module);
  out += "\",\"msg\":\"";
  AppendJsonEscaped(out, msg);
  out += '"';
  for (const Field& f : tls_context) AppendField(out, f);
  for (const Field& f : fields) AppendField(out, f);
  out += '}';
  return out;
}

LogContext::LogContext(Fields fields) : pushed_(fields.size()) {
  for (const Field& f : fields) tls_context.push_back(f);
}

LogContext::~LogContext() { tls_context.erase(tls_context.end() - static_cast<std::ptrdiff_t>(pushed_), tls_context.end()); }

std::string LogContext::Get(std::string_view key) {
  for (auto it = tls_context.rbegin(); it != tls_context.rend(); ++it) {
    if (it->key == key) {
      if (auto* s = std::get_if<std::string>(&it->value)) return *s;
    }
  }
  return "";
}

void AppendJsonEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // JSON text must be UTF-8: copy a well-formed sequence, replace a bad byte
      // with U+FFFD (as json::Dump does) so the line still parses.
      const size_t len = Utf8SequenceLength(s.substr(i));
      if (len == 0) {
        out += "\xEF\xBF\xBD";
      } else {
        out.append(s.substr(i, len));
        i += len - 1;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
}

}  // namespace wisp::log
