#include "whisk/builtin_runtime.h"

#include <algorithm>
#include <exception>

#include "whisk/actionloop_process.h"

namespace wisp::whisk {
namespace {

// A text the function logged that goes to stderr rather than stdout.
constexpr std::string_view kStderrPrefix = "stderr:";

// A catalog argument read as an array of lines; anything else is none.
Json Lines(const Json& args) {
  const Json lines = args.value("lines", Json::array());
  return lines.is_array() ? lines : Json::array();
}

// JavaScript's String(x) for the values the catalog joins and sorts.
std::string AsText(const Json& v) { return v.is_string() ? v.get<std::string>() : json::Dump(v); }

}  // namespace

void BuiltinRuntime::Register(std::string name, BuiltinFunction function) {
  functions_[std::move(name)] = std::move(function);
}

RunOutcome BuiltinRuntime::Run(const ActionCode& code, const RunRequest& request) {
  RunOutcome outcome;
  outcome.start = clock_.Now();
  const auto it = functions_.find(code.builtin);
  std::vector<std::string> texts;
  if (it == functions_.end()) {
    outcome.status = ActivationStatus::kDeveloperError;
    outcome.result = {{"error", "The action did not initialize and exited unexpectedly."}};
  } else {
    try {
      BuiltinContext context{request, texts};
      Json result = it->second(request.value, context);
      if (result.is_object() && result.contains("error")) {
        outcome.status = ActivationStatus::kApplicationError;
        outcome.result = {{"error", result["error"]}};
      } else if (result.is_object() || result.is_array()) {
        outcome.result = std::move(result);
      } else {
        outcome.status = ActivationStatus::kDeveloperError;
        outcome.result = {
            {"error", "The action did not produce a valid JSON or JSON Array response: " + json::Dump(result)}};
      }
    } catch (const std::exception& e) {
      outcome.status = ActivationStatus::kDeveloperError;
      outcome.result = {{"error", "The action did not produce a valid response and exited unexpectedly."}};
      texts.push_back(std::string(kStderrPrefix) + e.what());
    }
  }
  outcome.end = clock_.Now();
  ActivationLog log(request.log_limit_bytes, clock_);
  for (const std::string& text : texts) {
    const bool err = text.rfind(kStderrPrefix, 0) == 0;
    log.Add(err ? "stderr" : "stdout", err ? std::string_view(text).substr(kStderrPrefix.size()) : text);
  }
  outcome.logs = log.Finish();
  return outcome;
}

const std::vector<std::string>& UtilsCatalogNames() {
  static const std::vector<std::string> names = {"echo", "cat", "sort", "head", "split", "date", "namespace"};
  return names;
}

void RegisterUtilsCatalog(BuiltinRuntime& runtime) {
  runtime.Register("echo", [](const Json& args, BuiltinContext&) { return args.is_object() ? args : Json(args); });
  runtime.Register("cat", [](const Json& args, BuiltinContext&) {
    const Json lines = Lines(args);
    std::string payload;
    for (size_t i = 0; i < lines.size(); ++i) payload += (i ? "\n" : "") + AsText(lines[i]);
    return Json{{"lines", lines}, {"payload", payload}};
  });
  runtime.Register("sort", [](const Json& args, BuiltinContext& context) {
    Json lines = Lines(args);
    std::vector<Json> sorted(lines.begin(), lines.end());
    std::stable_sort(sorted.begin(), sorted.end(), [](const Json& a, const Json& b) { return AsText(a) < AsText(b); });
    context.logs.push_back("sort input msg: " + json::Dump(lines));
    return Json{{"length", sorted.size()}, {"lines", sorted}};
  });
  runtime.Register("head", [](const Json& args, BuiltinContext&) {
    const Json lines = Lines(args);
    int64_t num = json::GetInt(args, "num", 1);
    if (num < 0) num = 0;
    Json head = Json::array();
    for (size_t i = 0; i < lines.size() && static_cast<int64_t>(i) < num; ++i) head.push_back(lines[i]);
    return Json{{"lines", head}};
  });
  runtime.Register("split", [](const Json& args, BuiltinContext&) {
    const std::string payload = json::GetString(args, "payload");
    const std::string separator = json::GetString(args, "separator", "\n");
    Json lines = Json::array();
    if (separator.empty()) {
      for (char c : payload) lines.push_back(std::string(1, c));
    } else {
      size_t start = 0;
      while (true) {
        const size_t at = payload.find(separator, start);
        lines.push_back(payload.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos) break;
        start = at + separator.size();
      }
    }
    return Json{{"lines", lines}, {"payload", payload}};
  });
  runtime.Register("date", [](const Json&, BuiltinContext&) {
    return Json{{"date", FormatIso8601(Clock::System().Now())}};
  });
  runtime.Register("namespace", [](const Json&, BuiltinContext& context) {
    return Json{{"namespace", context.request.namespace_name}};
  });
}

}  // namespace wisp::whisk
