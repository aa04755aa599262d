#include "whisk/language_runtime.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "json/json.h"
#include "util/log.h"
#include "whisk/action_payload.h"
#include "whisk/sandbox.h"

namespace wisp::whisk {

// The launchers' text, generated from src/whisk/launchers/ at build time
// (src/whisk/CMakeLists.txt).
extern const char kNodeLauncherSource[];
extern const char kPythonLauncherSource[];

namespace {

// An executable named `name`: the distribution's own first (a version manager's
// shim needs an environment the launcher does not have), then wisp's PATH.
std::optional<std::string> FindProgram(const std::string& name) {
  std::vector<std::string> dirs = {"/usr/bin", "/usr/local/bin"};
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      dirs.emplace_back(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  }
  for (const std::string& dir : dirs) {
    if (dir.empty() || dir[0] != '/') continue;
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

}  // namespace

std::vector<Language::Spec> DefaultLanguageSpecs(const std::map<std::string, int>& stem_cells,
                                                 const std::vector<std::string>& interpreter_env) {
  struct Known {
    const char* kind;
    const char* program;
    const char* launcher_name;
    const char* launcher_source;
    const char* source_name;
    Language::MemoryControl memory_control;
  };
  static const Known kKnown[] = {
      {"nodejs:20", "node", "node_launcher.js", kNodeLauncherSource, "main.js", Language::MemoryControl::kHeapFlag},
      {"python:3", "python3", "python_launcher.py", kPythonLauncherSource, "__main__.py",
       Language::MemoryControl::kLauncher},
  };
  std::vector<Language::Spec> specs;
  for (const Known& known : kKnown) {
    std::optional<std::string> interpreter = FindProgram(known.program);
    if (!interpreter) {
      log::Warn("whisk", "interpreter not found; its kind is not available",
                {{"kind", known.kind}, {"program", known.program}});
      continue;
    }
    Language::Spec spec;
    spec.kind = known.kind;
    spec.interpreter = *interpreter;
    spec.launcher_name = known.launcher_name;
    spec.launcher_source = known.launcher_source;
    spec.source_name = known.source_name;
    spec.env = interpreter_env;
    spec.memory_control = known.memory_control;
    const auto cells = stem_cells.find(known.kind);
    if (cells != stem_cells.end()) spec.stem_cells = cells->second;
    specs.push_back(std::move(spec));
  }
  return specs;
}

Result<std::map<std::string, int>> ParseStemCells(std::string_view text) {
  static const std::map<std::string, std::string, std::less<>> kKinds = {{"nodejs:20", "nodejs:20"},
                                                                         {"nodejs:default", "nodejs:20"},
                                                                         {"python:3", "python:3"},
                                                                         {"python:default", "python:3"}};
  std::map<std::string, int> counts;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    const size_t equals = item.rfind('=');
    const auto kind = kKinds.find(item.substr(0, equals));
    if (equals == std::string_view::npos || kind == kKinds.end()) {
      return Status::InvalidArgument("stem cells are KIND=COUNT for nodejs:20 or python:3, not '" + std::string(item) +
                                     "'");
    }
    const std::string number(item.substr(equals + 1));
    char* end = nullptr;
    const long count = std::strtol(number.c_str(), &end, 10);
    if (number.empty() || *end != '\0' || count < 0 || count > 64) {
      return Status::InvalidArgument("stem cell count must be 0 to 64, not '" + number + "'");
    }
    counts[kind->second] = static_cast<int>(count);
  }
  return counts;
}

Result<std::map<std::string, std::shared_ptr<Language>>> CreateLanguages(const std::string& stem_cells,
                                                                         const std::string& launcher_dir,
                                                                         std::shared_ptr<const Sandbox> sandbox,
                                                                         const std::string& code_root, bool network, size_t max_result_bytes) {
  WISP_ASSIGN_OR_RETURN(auto counts, ParseStemCells(stem_cells));
  std::vector<std::string> interpreter_env;
  std::vector<std::string> read_only;
  if (!code_root.empty()) {
    // It must exist before the first stem cell's sandbox binds it; the
    // runtime later empties it but never removes it (NativeRuntime::Create).
    std::error_code ec;
    std::filesystem::create_directories(code_root, ec);
    if (ec) return Status::IoError("cannot create " + code_root + ": " + ec.message());
    read_only.push_back(code_root);
  }
  for (const char* name : {"NODE_PATH", "PYTHONPATH"}) {
    const char* value = std::getenv(name);
    if (value == nullptr) continue;
    interpreter_env.push_back(std::string(name) + "=" + value);
    // Each absolute, existing directory of the list stays visible in the sandbox.
    std::string_view rest = value;
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      const std::string dir(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
      std::error_code ec;
      if (!dir.empty() && dir[0] == '/' && std::filesystem::is_directory(dir, ec)) read_only.push_back(dir);
    }
  }
  std::map<std::string, std::shared_ptr<Language>> languages;
  for (Language::Spec& spec : DefaultLanguageSpecs(counts, interpreter_env)) {
    spec.sandbox = sandbox;
    spec.read_only = read_only;
    spec.stem_network = network;
    spec.max_result_bytes = max_result_bytes;
    const std::string kind = spec.kind;
    WISP_ASSIGN_OR_RETURN(languages[kind], Language::Create(std::move(spec), launcher_dir));
  }
  return languages;
}

Result<std::shared_ptr<Language>> Language::Create(Spec spec, const std::string& launcher_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(launcher_dir, ec);
  if (ec) return Status::IoError("cannot create " + launcher_dir + ": " + ec.message());
  const std::string path = fs::absolute(launcher_dir, ec).string() + "/" + spec.launcher_name;
  // Written whole under a temporary name, so a running launcher is never
  // replaced half-written.
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << "#!" << spec.interpreter << "\n" << spec.launcher_source;
    if (!out) return Status::IoError("cannot write " + temporary);
  }
  if (chmod(temporary.c_str(), 0700) != 0 || rename(temporary.c_str(), path.c_str()) != 0) {
    return Status::IoError("cannot install the launcher " + path);
  }
  spec.read_only.push_back(fs::path(path).parent_path().string());
  return std::shared_ptr<Language>(new Language(std::move(spec), path));
}

Language::Language(Spec spec, std::string launcher_path)
    : spec_(std::move(spec)), launcher_path_(std::move(launcher_path)) {
  if (spec_.stem_cells > 0) refill_thread_ = std::thread([this] { RefillLoop(); });
}

Language::~Language() { Shutdown(); }

void Language::Shutdown() {
  std::vector<std::unique_ptr<ActionloopProcess>> cells;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cells.swap(stem_cells_);
    changed_.notify_all();
  }
  if (refill_thread_.joinable()) refill_thread_.join();
  cells.clear();  // kills and reaps
  std::lock_guard lock(mu_);
  stem_cells_.clear();  // any the refill thread added before it saw stopping_
}

Result<std::string> Language::Install(const ActionCode& code, const std::string& dir, size_t max_unpacked_bytes) const {
  WISP_ASSIGN_OR_RETURN(PayloadShape shape,
                        InstallPayloadFiles(code, dir, spec_.source_name, 0600, max_unpacked_bytes));
  return shape == PayloadShape::kZip ? dir : dir + "/" + spec_.source_name;
}

Result<std::unique_ptr<ActionloopProcess>> Language::StartLauncher(uint64_t memory_bytes, bool network) const {
  SpawnOptions spawn;
  // The interpreter is named here rather than by the launcher's #! line, so
  // that it can take flags.
  spawn.program = spec_.interpreter;
  if (spec_.memory_control == MemoryControl::kHeapFlag && memory_bytes > 0) {
    spawn.args.push_back("--max-old-space-size=" + std::to_string(std::max<uint64_t>(memory_bytes >> 20, 1)));
  }
  spawn.args.push_back(launcher_path_);
  spawn.env = spec_.env;
  spawn.env.push_back("__OW_PROXY_VERSION=wisp/1");
  spawn.working_dir = std::filesystem::path(launcher_path_).parent_path().string();
  if (spec_.sandbox) {
    Confinement confinement;
    confinement.read_only = spec_.read_only;
    confinement.network = network;
    spawn = spec_.sandbox->Wrap(spawn, confinement);
  }
  Result<std::unique_ptr<ActionloopProcess>> process = ActionloopProcess::Start(spawn, spec_.max_result_bytes);
  if (!process.ok()) {
    return Status(process.status().code(), "cannot start the " + spec_.kind + " launcher (" + spec_.interpreter +
                                               "): " + process.status().message());
  }
  return process;
}

Result<std::unique_ptr<ActionloopProcess>> Language::Spawn(uint64_t memory_bytes, bool network) {
  // 0 asks for no particular limit; the stem cells' will do.
  const bool fits_stem_cell =
      network == spec_.stem_network && (spec_.memory_control == MemoryControl::kLauncher || memory_bytes == 0 ||
                                        memory_bytes == spec_.stem_memory_bytes);
  if (fits_stem_cell) {
    std::lock_guard lock(mu_);
    while (!stem_cells_.empty()) {
      std::unique_ptr<ActionloopProcess> cell = std::move(stem_cells_.back());
      stem_cells_.pop_back();
      changed_.notify_all();  // the refill thread starts another
      if (!cell->HasExited()) return cell;
    }
  }
  return StartLauncher(memory_bytes, network);
}

std::optional<std::string> Language::Init(ActionloopProcess& process, const std::string& dir, const std::string& entry,
                                          const std::string& main, const std::map<std::string, std::string>& env,
                                          uint64_t memory_bytes, ActionloopProcess::Deadline deadline,
                                          ActivationLog& log, bool* timed_out) {
  Json env_json = Json::object();
  for (const auto& [name, value] : env) env_json[name] = value;
  Json init = {{"dir", dir}, {"entry", entry}, {"main", main}, {"env", env_json}};
  if (spec_.memory_control == MemoryControl::kLauncher && memory_bytes > 0) init["memory"] = memory_bytes;
  const Json line = {{"init", std::move(init)}};
  ActionloopProcess::Read read = process.Exchange(json::Dump(line), deadline, log);
  *timed_out = read.status == ActionloopProcess::ReadStatus::kTimedOut;
  switch (read.status) {
    case ActionloopProcess::ReadStatus::kTimedOut: return std::string("the action did not load in time");
    case ActionloopProcess::ReadStatus::kExited:
      return std::string("the " + spec_.kind + " launcher exited before it loaded the action");
    case ActionloopProcess::ReadStatus::kTooLarge: return std::string("the launcher's answer was too long");
    case ActionloopProcess::ReadStatus::kLine: break;
  }
  process.FinishLogs(log);
  Result<Json> answer = json::Parse(read.line);
  if (answer.ok() && answer->is_object() && answer->value("ok", false) == true) return std::nullopt;
  if (answer.ok() && answer->is_object() && answer->contains("error")) {
    const Json& error = (*answer)["error"];
    return error.is_string() ? error.get<std::string>() : json::Dump(error);
  }
  return "the launcher answered its init with: " + read.line;
}

int Language::ReadyStemCells() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(stem_cells_.size());
}

std::vector<int> Language::StemCellPids() const {
  std::lock_guard lock(mu_);
  std::vector<int> pids;
  for (const auto& cell : stem_cells_) pids.push_back(static_cast<int>(cell->child().pid()));
  return pids;
}

bool Language::WaitForStemCells(int count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return static_cast<int>(stem_cells_.size()) >= count; });
}

void Language::RefillLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (static_cast<int>(stem_cells_.size()) >= spec_.stem_cells) {
      changed_.wait(lock);
      continue;
    }
    lock.unlock();
    Result<std::unique_ptr<ActionloopProcess>> cell = StartLauncher(spec_.stem_memory_bytes, spec_.stem_network);
    lock.lock();
    if (!cell.ok()) {
      // Nothing to wait on but time: a broken interpreter is not retried in a loop.
      log::Error("whisk", "cannot start a stem cell", {{"kind", spec_.kind}, {"error", cell.status().ToString()}});
      changed_.wait_for(lock, std::chrono::seconds(10), [&] { return stopping_; });
      continue;
    }
    stem_cells_.push_back(std::move(*cell));
    changed_.notify_all();
  }
}

}  // namespace wisp::whisk
