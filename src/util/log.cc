#include "util/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
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
  std::atomic<Format> format{Format::kJson};
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

// A value in the text format: bare when it reads unambiguously, else a JSON string.
void AppendTextValue(std::string& out, const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    const bool bare = !s->empty() && s->find_first_of(" =\"\\") == std::string::npos &&
                      std::none_of(s->begin(), s->end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    if (bare) {
      AppendJsonEscaped(out, *s);  // still replaces bytes that are not UTF-8
      return;
    }
  }
  AppendValue(out, v);
}

// Calls `visit` with each field a line carries: this thread's context fields
// (outer first, each key once, from its innermost context) unless the line
// sets the key itself, then the line's own fields.
template <typename Visit>
void ForEachField(Fields fields, Visit visit) {
  for (size_t i = 0; i < tls_context.size(); ++i) {
    const std::string& key = tls_context[i].key;
    bool shadowed = false;
    for (size_t j = i + 1; j < tls_context.size() && !shadowed; ++j) shadowed = tls_context[j].key == key;
    for (const Field& f : fields) shadowed = shadowed || f.key == key;
    if (!shadowed) visit(tls_context[i]);
  }
  for (const Field& f : fields) visit(f);
}

Level LevelFor(const Options& options, std::string_view module) {
  for (const auto& [name, level] : options.module_levels) {
    if (name == module) return level;
  }
  return options.level;
}

}  // namespace

bool ParseFormat(std::string_view name, Format* out) {
  if (name == "json") {
    *out = Format::kJson;
  } else if (name == "text") {
    *out = Format::kText;
  } else {
    return false;
  }
  return true;
}

Status ParseLevelSpec(std::string_view spec, Options* options) {
  Level level = options->level;
  std::vector<std::pair<std::string, Level>> modules;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string_view::npos) comma = spec.size();
    const std::string_view item = spec.substr(pos, comma - pos);
    pos = comma + 1;
    const size_t eq = item.find('=');
    const std::string_view module = eq == std::string_view::npos ? std::string_view() : item.substr(0, eq);
    const std::string_view name = eq == std::string_view::npos ? item : item.substr(eq + 1);
    Level parsed = Level::kInfo;
    if (!ParseLevel(name, &parsed) || (eq != std::string_view::npos && module.empty())) {
      return Status::InvalidArgument("bad log level '" + std::string(item) +
                                     "': expected LEVEL or MODULE=LEVEL, LEVEL one of trace, debug, info, warn, "
                                     "error, off");
    }
    if (eq == std::string_view::npos) {
      level = parsed;
    } else {
      modules.emplace_back(std::string(module), parsed);
    }
  }
  options->level = level;
  options->module_levels = std::move(modules);
  return Status::Ok();
}

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
  } else if (options.file == "-") {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
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
  state.format.store(options.format);
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
  State& state = GetState();
  const std::string ts = FormatIso8601(Clock::System().Now());
  const std::string line = state.format.load(std::memory_order_relaxed) == Format::kText
                               ? FormatTextLine(ts, level, module, msg, fields)
                               : FormatLine(ts, level, module, msg, fields);
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
  ForEachField(fields, [&](const Field& f) { AppendField(out, f); });
  out += '}';
  return out;
}

std::string FormatTextLine(std::string_view ts, Level level, std::string_view module, std::string_view msg,
                           Fields fields) {
  std::string out;
  out.reserve(128 + msg.size());
  out += ts;
  out += ' ';
  std::string name(LevelName(level));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  name.resize(5, ' ');
  out += name;
  out += ' ';
  AppendJsonEscaped(out, module);
  out += ' ';
  AppendJsonEscaped(out, msg);  // escapes newlines, so a line stays one line
  ForEachField(fields, [&](const Field& f) {
    out += ' ';
    AppendJsonEscaped(out, f.key);
    out += '=';
    AppendTextValue(out, f.value);
  });
  return out;
}

CapturedContext CapturedContext::Current() {
  CapturedContext captured;
  captured.fields_ = tls_context;
  return captured;
}

LogContext::LogContext(Fields fields) : pushed_(fields.size()) {
  for (const Field& f : fields) tls_context.push_back(f);
}

LogContext::LogContext(const CapturedContext& captured) : pushed_(captured.fields_.size()) {
  tls_context.insert(tls_context.end(), captured.fields_.begin(), captured.fields_.end());
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
