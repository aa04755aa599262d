// Language: how NativeRuntime's warm pools run the actions of one interpreted
// kind (`nodejs:20`, `python:3`). docs/runtimes.md describes the kinds, the
// launchers and the stem cells.
//
// A process of a language runs wisp's own launcher (src/whisk/launchers/,
// embedded in the binary and written under the runtime's scratch directory
// with a `#!` line naming the interpreter). The launcher speaks the actionloop
// protocol of docs/actionloop.md, preceded by one init exchange: wisp writes
//   {"init":{"dir":..., "entry":..., "main":..., "env":{...}}}
// and the launcher loads the code and answers {"ok":true}, or {"error": why}.
// Because the code and the action's environment arrive in that line, a
// process can be started before its action is known: a "stem cell". A
// Language keeps Spec::stem_cells of them ready, refilled on a thread of its
// own, so a cold start of a new action skips the interpreter's start.
//
// Stem cells are not counted in NativeRuntime's process caps; a stem cell
// taken by a pool is.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/result.h"
#include "whisk/action_runtime.h"
#include "whisk/actionloop_process.h"

namespace wisp::whisk {

class Sandbox;

class Language {
 public:
  // How the kind enforces an action's memory limit (docs/security.md).
  enum class MemoryControl {
    kHeapFlag,  // Node.js: --max-old-space-size at start (V8 aborts past it)
    kLauncher,  // Python: the launcher sets RLIMIT_DATA at init, before loading the code
  };

  struct Spec {
    std::string kind;             // "nodejs:20"
    std::string interpreter;      // absolute path: "/usr/bin/node"
    std::string launcher_name;    // file name of the launcher: "node_launcher.js"
    std::string launcher_source;  // its text, without a #! line
    std::string source_name;      // a single-file action is saved as this: "main.js"
    // Environment of the interpreter itself ("NODE_PATH=..."), set when it
    // starts; the action's own environment comes with the init line.
    std::vector<std::string> env;
    int stem_cells = 0;  // processes kept started and waiting for an action
    // Longer result lines are refused (NativeRuntime::Options::max_result_bytes).
    size_t max_result_bytes = 1024 * 1024;
    MemoryControl memory_control = MemoryControl::kLauncher;
    // Confines every launcher; null: plain processes.
    std::shared_ptr<const Sandbox> sandbox;
    // What a sandboxed launcher sees besides the system: its own directory
    // is added; the code root (NativeRuntime::CodeRoot()) and library paths
    // are the caller's to add.
    std::vector<std::string> read_only;
    // Stem cells are started for actions with this memory limit and network
    // (OpenWhisk's default memory, and the server's network default); an
    // action with other settings starts a launcher of its own.
    uint64_t stem_memory_bytes = 256ull * 1024 * 1024;
    bool stem_network = true;
  };

  // Writes the launcher into `launcher_dir` (created if missing) and starts
  // the stem cells.
  static Result<std::shared_ptr<Language>> Create(Spec spec, const std::string& launcher_dir);

  Language(const Language&) = delete;
  Language& operator=(const Language&) = delete;
  ~Language();  // Shutdown()

  const std::string& kind() const { return spec_.kind; }
  // True when an abort (SIGABRT) means the process ran out of memory.
  bool aborts_when_out_of_memory() const { return spec_.memory_control == MemoryControl::kHeapFlag; }

  // Writes the action's code into `dir` (existing, empty): text code as
  // Spec::source_name, base64 as the file it decodes to or, for a zip, its
  // files (with the zip safety of action_payload.h). Returns the entry the
  // launcher loads: the file, or `dir` itself for a zip.
  Result<std::string> Install(const ActionCode& code, const std::string& dir, size_t max_unpacked_bytes) const;

  // A launcher process that waits for its init line, for an action with
  // this memory limit (0: none) and network: a stem cell when one is ready
  // and fits (and a new one is started in its place), else a new process.
  Result<std::unique_ptr<ActionloopProcess>> Spawn(uint64_t memory_bytes, bool network);

  // The init exchange. Returns the developer's reason when the launcher
  // cannot load the code (`*timed_out` set when the deadline passed); the
  // launcher's stderr meanwhile goes to `log`.
  // `memory_bytes` is the action's memory limit, for the launchers that set
  // it themselves (MemoryControl::kLauncher).
  std::optional<std::string> Init(ActionloopProcess& process, const std::string& dir, const std::string& entry,
                                  const std::string& main, const std::map<std::string, std::string>& env,
                                  uint64_t memory_bytes, ActionloopProcess::Deadline deadline, ActivationLog& log,
                                  bool* timed_out);

  // Stem cells ready now; for tests and /metrics.
  int ReadyStemCells() const;
  // Their process ids; for tests.
  std::vector<int> StemCellPids() const;
  // Waits until `count` stem cells are ready, or `timeout` passes.
  bool WaitForStemCells(int count, std::chrono::milliseconds timeout) const;

  // Kills the stem cells and stops refilling; idempotent.
  void Shutdown();

 private:
  Language(Spec spec, std::string launcher_path);
  Result<std::unique_ptr<ActionloopProcess>> StartLauncher(uint64_t memory_bytes, bool network) const;
  void RefillLoop();

  const Spec spec_;
  const std::string launcher_path_;

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<std::unique_ptr<ActionloopProcess>> stem_cells_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                                       // GUARDED_BY(mu_)
  std::thread refill_thread_;
};

// The interpreted kinds wisp knows: nodejs:20 (on `node`) and python:3 (on
// `python3`), with their embedded launchers. `stem_cells` maps a kind to how
// many prewarmed processes it keeps. A kind whose interpreter is not
// installed is left out (and logged).
std::vector<Language::Spec> DefaultLanguageSpecs(const std::map<std::string, int>& stem_cells,
                                                 const std::vector<std::string>& interpreter_env);

// `wisp serve --stem-cells`: "nodejs:20=2,python:3=1" (a `family:default`
// kind is accepted for its concrete one). InvalidArgument names what is wrong.
Result<std::map<std::string, int>> ParseStemCells(std::string_view text);

// The languages of DefaultLanguageSpecs(), their launchers written into
// `launcher_dir`, keyed by kind (NativeRuntime::Options::languages). The
// interpreters inherit wisp's NODE_PATH and PYTHONPATH, which is how an
// operator gives every action a library (docs/runtimes.md); a sandbox shows
// those paths read-only. With a `sandbox`, launchers run in it and see
// `code_root` (NativeRuntime::CodeRoot()), which is created here, before
// any stem cell starts; stem cells get `network`. A result line longer than `max_result_bytes` is refused (Spec::max_result_bytes).
Result<std::map<std::string, std::shared_ptr<Language>>> CreateLanguages(
    const std::string& stem_cells, const std::string& launcher_dir, std::shared_ptr<const Sandbox> sandbox = nullptr,
    const std::string& code_root = "", bool network = true, size_t max_result_bytes = 1024 * 1024);

}  // namespace wisp::whisk
