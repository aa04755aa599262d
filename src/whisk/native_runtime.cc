#include "whisk/native_runtime.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <optional>
#include <system_error>

#include "util/ids.h"
#include "util/log.h"
#include "whisk/action_payload.h"
#include "whisk/actionloop_process.h"
#include "whisk/language_runtime.h"
#include "whisk/sandbox.h"

namespace wisp::whisk {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// wisp names itself to the action; the C++ SDK prints the sentinel lines only
// under wisp (docs/actionloop.md says why).
constexpr char kProxyVersion[] = "wisp/1";
// Where earlier versions of wisp installed code: one copy per pool, then one
// directory per digest directly in the scratch directory.
constexpr char kOldInstallDirPrefix[] = "code-";
constexpr char kOldPoolDirPrefix[] = "pool-";
// How long wisp reads a killed process's log pipes before it gives up on them.
constexpr milliseconds kDrainAfterKill{500};

constexpr char kExitedDuringRun[] = "The action did not produce a valid response and exited unexpectedly.";
constexpr char kExitedDuringInit[] = "The action did not initialize and exited unexpectedly.";
constexpr char kInitFailedPrefix[] = "The action failed during initialization: ";
constexpr char kInvalidResponsePrefix[] = "The action did not produce a valid JSON or JSON Array response";
constexpr char kLogsMissing[] = "The action did not initialize or run as expected. Log data might be missing.";
constexpr char kNoResources[] = "Failed to provision resources to run the action.";
// OpenWhisk's text when a container hits its memory limit.
constexpr char kOutOfMemory[] = "The action exhausted its memory and was aborted.";
// How long wisp waits for a process that closed its result pipe to exit, to
// learn how it ended.
constexpr milliseconds kWaitForExit{250};
// The exit status a shell (and bwrap) reports for a process killed by
// SIGKILL, which is what the kernel's OOM killer sends; wisp's launchers and
// the C++ SDK exit with it when an allocation fails.
constexpr int kKilledExitCode = 128 + SIGKILL;

std::string TimedOut(milliseconds limit, bool init) {
  return "The action exceeded its time limits of " + std::to_string(limit.count()) + " milliseconds" +
         (init ? " during initialization." : ".");
}

void SetError(RunOutcome& out, ActivationStatus status, const std::string& message) {
  out.status = status;
  out.result = Json::object({{"error", message}});
}

milliseconds MillisSince(steady_clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - since);
}

// An environment variable name a shell accepts; anything else from init
// parameters is left out rather than handed to execve half-broken.
bool IsEnvName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::string EnvValue(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return json::Dump(value);
}

// The request line of one activation (spec 4.2): `value` plus the metadata
// the action exports as `__OW_<KEY>`.
std::string RequestLine(const RunRequest& request, const std::string& api_host, int64_t deadline_ms) {
  Json line = {
      {"value", request.value},
      {"namespace", request.namespace_name},
      {"action_name", request.action_name},
      {"action_version", request.action_version},
      {"activation_id", request.activation_id},
      {"transaction_id", request.transaction_id},
      {"deadline", std::to_string(deadline_ms)},
      {"api_host", api_host},
  };
  if (request.api_key) line["api_key"] = *request.api_key;
  std::string text = json::Dump(line);
  // Dump escapes newlines inside strings; the protocol forbids raw ones anyway.
  std::erase(text, '\n');
  return text;
}

// The installed tree is read-only (files lose their write bits, directories
// become 0500), so a process cannot change the code that later processes of
// other pools start from.
void MakeReadOnly(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const fs::file_status status = it->symlink_status(ec);
    if (fs::is_directory(status)) {
      fs::permissions(it->path(), fs::perms::owner_read | fs::perms::owner_exec, ec);
    } else if (fs::is_regular_file(status)) {
      fs::permissions(it->path(), fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                      fs::perm_options::remove, ec);
    }
  }
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec, ec);
}

// Removes a tree MakeReadOnly() made (or a half-written one).
void RemoveTree(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return;
  fs::permissions(dir, fs::perms::owner_all, ec);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (fs::is_directory(it->symlink_status(ec))) fs::permissions(it->path(), fs::perms::owner_all, ec);
  }
  fs::remove_all(dir, ec);
}

// Empties `dir` but keeps the directory itself: a stem cell's sandbox may
// already bind it (CreateLanguages() makes it first), and a bind mount of a
// removed directory would show the launcher an empty, dead tree.
void RemoveContents(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::permissions(dir, fs::perms::owner_all, ec);
  std::vector<std::string> entries;
  for (const auto& entry : fs::directory_iterator(dir, ec)) entries.push_back(entry.path().string());
  for (const std::string& entry : entries) RemoveTree(entry);
}

// Whether a process that ended during an activation ran out of memory: it
// was killed by SIGKILL that wisp did not send (the OOM killer), or exited
// with 137 (what bwrap reports for that, and what wisp's launchers and the
// C++ SDK exit with when an allocation fails), or, for Node.js, aborted (V8
// aborts when the heap limit is reached). Waits briefly for the exit.
bool ExhaustedMemory(ActionloopProcess& process, const Language* language) {
  ChildProcess& child = process.child();
  if (!child.WaitForExit(kWaitForExit)) return false;
  if (child.TermSignal() == SIGKILL || child.ExitCode() == kKilledExitCode) return true;
  return language != nullptr && language->aborts_when_out_of_memory() &&
         (child.TermSignal() == SIGABRT || child.ExitCode() == 128 + SIGABRT);
}

// The process environment of an action (spec 4.2): init parameters, then
// wisp's own `__OW_*` variables, which an init parameter cannot override.
std::map<std::string, std::string> ActionEnvironment(const ActionCode& code, const RunRequest& request,
                                                     const std::string& default_api_host) {
  std::map<std::string, std::string> env;
  if (code.init_env.is_object()) {
    for (const auto& [name, value] : code.init_env.items()) {
      if (IsEnvName(name)) env[name] = EnvValue(value);
    }
  }
  env["__OW_API_HOST"] = request.api_host.empty() ? default_api_host : request.api_host;
  env["__OW_NAMESPACE"] = request.namespace_name;
  env["__OW_ACTION_NAME"] = request.action_name;
  env["__OW_ACTION_VERSION"] = request.action_version;
  env["__OW_PROXY_VERSION"] = kProxyVersion;
  if (request.api_key) {
    env["__OW_API_KEY"] = *request.api_key;
  } else {
    env.erase("__OW_API_KEY");
  }
  if (code.wait_for_ack) {
    env["__OW_WAIT_FOR_ACK"] = "1";
  } else {
    env.erase("__OW_WAIT_FOR_ACK");
  }
  return env;
}

}  // namespace

bool IsActionloopAck(std::string_view line) {
  Result<Json> ack = json::Parse(line);
  return ack.ok() && ack->is_object() && ack->contains("ok") && (*ack)["ok"] == true;
}

void ClassifyActionloopResult(RunOutcome& out, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  Result<Json> parsed = json::Parse(line);
  if (!parsed.ok() || !(parsed->is_object() || parsed->is_array())) {
    SetError(out, ActivationStatus::kDeveloperError,
             std::string(kInvalidResponsePrefix) + (line.empty() ? "." : ": " + std::string(line)));
    return;
  }
  if (parsed->is_object() && parsed->contains("error")) {
    out.status = ActivationStatus::kApplicationError;
    out.result = Json::object({{"error", (*parsed)["error"]}});
    return;
  }
  out.status = ActivationStatus::kSuccess;
  out.result = std::move(*parsed);
}

// Wakes the reclaim thread: when a process goes idle while it sleeps with
// nothing to wait for, when a FakeClock moves, and at shutdown. Shared with
// the clock's observer, which may outlive the runtime.
class NativeRuntime::Reclaimer {
 public:
  struct Snapshot {
    uint64_t idle_gen;
    uint64_t clock_gen;
  };

  Snapshot Take() {
    std::lock_guard lock(mu_);
    return {idle_gen_, clock_gen_};
  }
  void IdleAdded() {
    std::lock_guard lock(mu_);
    ++idle_gen_;
    if (waiting_forever_) cv_.notify_all();
  }
  void ClockMoved() {
    std::lock_guard lock(mu_);
    ++clock_gen_;
    cv_.notify_all();
  }
  void Stop() {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  // Waits for `timeout` (forever when absent: then a new idle process also
  // wakes it), a clock move or Stop(). False once stopped.
  bool Wait(Snapshot seen, std::optional<steady_clock::duration> timeout) {
    std::unique_lock lock(mu_);
    auto woken = [&] { return stop_ || clock_gen_ != seen.clock_gen || (!timeout && idle_gen_ != seen.idle_gen); };
    if (timeout) {
      cv_.wait_for(lock, *timeout, woken);
    } else {
      waiting_forever_ = true;
      cv_.wait(lock, woken);
      waiting_forever_ = false;
    }
    return !stop_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t idle_gen_ = 0;
  uint64_t clock_gen_ = 0;
  bool waiting_forever_ = false;
  bool stop_ = false;
};

// The code of one content digest on disk. Its directory is removed when the
// last reference goes: the runtime's map (until Retire() or Shutdown()) and
// every process started from it.
struct NativeRuntime::Installed {
  std::string digest;
  std::string dir;                // unique per entry, so a dropped entry never removes a newer one's files
  std::set<std::string> actions;  // GUARDED_BY(NativeRuntime::mu_): ActionCode::action of its users
  std::mutex install_mu;          // one writer; the others wait for its files
  std::string exec_path;          // GUARDED_BY(install_mu): empty until written

  ~Installed() { RemoveTree(dir); }
};

struct NativeRuntime::Process {
  std::shared_ptr<Installed> code;  // its directory: the process's program and working directory
  // Declared after `code`, so the process is killed and reaped before the
  // directory can go.
  std::unique_ptr<ActionloopProcess> loop;
  Clock::SteadyTime idle_since;
};

struct NativeRuntime::Pool {
  std::string key;       // pool_key, namespace and key: see EnterPool()
  std::string pool_key;  // ActionCode::pool_key
  std::string action;    // ActionCode::action, or the pool_key: what Retire() names
  // The rest is GUARDED_BY(NativeRuntime::mu_).
  int live = 0;                                // processes alive or starting
  int users = 0;                               // Run() calls holding the pool
  std::vector<std::unique_ptr<Process>> idle;  // front: idle the longest
};

struct NativeRuntime::Lease {
  std::unique_ptr<Process> process;  // null: start one (cold)
  milliseconds waited{0};
};

Result<std::unique_ptr<NativeRuntime>> NativeRuntime::Create(Options options) {
  namespace fs = std::filesystem;
  if (options.scratch_dir.empty()) return Status::InvalidArgument("NativeRuntime needs a scratch directory");
  if (options.clock == nullptr) options.clock = &Clock::System();
  std::error_code ec;
  fs::create_directories(options.scratch_dir, ec);
  if (ec) return Status::IoError("cannot create " + options.scratch_dir + ": " + ec.message());
  // Children change into their pool's directory before they run the program,
  // so every path handed to them must be absolute.
  options.scratch_dir = fs::absolute(options.scratch_dir, ec).string();
  if (ec) return Status::IoError("cannot resolve " + options.scratch_dir + ": " + ec.message());
  fs::permissions(options.scratch_dir, fs::perms::owner_all, ec);
  // Code installed by an earlier run of wisp (a crash leaves it) is not used
  // again. The root itself stays: stem cells may already have bound it.
  RemoveContents(CodeRoot(options.scratch_dir));
  std::vector<std::string> leftovers;
  for (const auto& entry : fs::directory_iterator(options.scratch_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(kOldInstallDirPrefix) || name.starts_with(kOldPoolDirPrefix)) {
      leftovers.push_back(entry.path().string());
    }
  }
  for (const std::string& dir : leftovers) RemoveTree(dir);
  // Write and search for wisp, search only for the rest; no listing for a
  // sandboxed launcher, which sees the whole root (CodeRoot()).
  const bool hide_listing = options.sandbox != nullptr && options.sandbox->active();
  if ((mkdir(CodeRoot(options.scratch_dir).c_str(), 0700) != 0 && errno != EEXIST) ||
      chmod(CodeRoot(options.scratch_dir).c_str(), hide_listing ? 0311 : 0700) != 0) {
    return Status::IoError("cannot create " + CodeRoot(options.scratch_dir));
  }
  // A child that dies while wisp writes its request must not kill wisp: the
  // write fails with EPIPE instead. Children get SIGPIPE back (ChildProcess).
  signal(SIGPIPE, SIG_IGN);
  return std::unique_ptr<NativeRuntime>(new NativeRuntime(std::move(options)));
}

std::string NativeRuntime::CodeRoot(const std::string& scratch_dir) { return scratch_dir + "/code"; }

NativeRuntime::NativeRuntime(Options options)
    : options_(std::move(options)), clock_(*options_.clock), reclaimer_(std::make_shared<Reclaimer>()) {
  // A FakeClock moves in steps; the reclaimer re-checks after each.
  if (auto* fake = dynamic_cast<FakeClock*>(&clock_)) {
    fake->OnChange([reclaimer = reclaimer_] { reclaimer->ClockMoved(); });
  }
  reclaim_thread_ = std::thread([this] { ReclaimLoop(); });
}

NativeRuntime::~NativeRuntime() { Shutdown(); }

void NativeRuntime::Shutdown() {
  std::vector<std::unique_ptr<Process>> graveyard;
  std::map<std::string, std::shared_ptr<Pool>> pools;
  std::map<std::string, std::shared_ptr<Installed>> installed;
  {
    std::unique_lock lock(mu_);
    shutting_down_ = true;
    for (auto& [key, pool] : pools_) {
      for (auto& process : pool->idle) graveyard.push_back(std::move(process));
      pool->live -= static_cast<int>(pool->idle.size());
      processes_ -= static_cast<int>(pool->idle.size());
      pool->idle.clear();
    }
    // Busy processes die now; their Run() calls see the end and report it.
    for (Process* process : busy_) process->loop->child().Kill();
    slot_freed_.notify_all();
  }
  reclaimer_->Stop();
  if (reclaim_thread_.joinable()) reclaim_thread_.join();
  for (auto& [kind, language] : options_.languages) language->Shutdown();
  graveyard.clear();  // kills and reaps
  std::unique_lock lock(mu_);
  runs_done_.wait(lock, [this] { return active_runs_ == 0; });
  pools.swap(pools_);
  installed.swap(installed_);
  lock.unlock();
  // Destroyed here, outside the lock: the installed code leaves the disk.
}

NativeRuntime::Stats NativeRuntime::GetStats() const {
  std::lock_guard lock(mu_);
  Stats stats;
  stats.processes = processes_;
  stats.waiting = waiting_;
  stats.pools = static_cast<int>(pools_.size());
  stats.cold_starts = cold_starts_;
  stats.reclaimed = reclaimed_;
  stats.installs = installs_;
  stats.installed = static_cast<int>(installed_.size());
  for (const auto& [key, pool] : pools_) stats.idle += static_cast<int>(pool->idle.size());
  return stats;
}

bool NativeRuntime::WaitForProcessesAtMost(int count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return slot_freed_.wait_for(lock, timeout, [&] { return processes_ <= count; });
}

int NativeRuntime::ProcessCount(const std::string& pool_key) const {
  std::lock_guard lock(mu_);
  int count = 0;
  for (const auto& [key, pool] : pools_) {
    if (pool->pool_key == pool_key) count += pool->live;
  }
  return count;
}

RunOutcome NativeRuntime::Run(const ActionCode& code, const RunRequest& request) {
  RunOutcome out;
  out.start = clock_.Now();
  if (code.kind != "native" && LanguageOf(code) == nullptr) {
    SetError(out, ActivationStatus::kWhiskError, "The native runtime cannot run actions of kind '" + code.kind + "'.");
    out.end = clock_.Now();
    return out;
  }

  std::shared_ptr<Pool> pool = EnterPool(code, request);
  if (!pool) {
    SetError(out, ActivationStatus::kWhiskError, kNoResources);
    out.end = clock_.Now();
    return out;
  }
  struct Leave {
    NativeRuntime* runtime;
    std::shared_ptr<Pool> pool;
    ~Leave() { runtime->LeavePool(pool); }
  } leave{this, pool};

  const int cap = request.max_instances > 0 ? request.max_instances : options_.default_max_instances;
  Result<Lease> lease = [&] {
    std::vector<std::unique_ptr<Process>> evicted;  // stopped after the lock is let go
    return Acquire(pool, cap, evicted);
  }();
  if (!lease.ok()) {
    SetError(out, ActivationStatus::kWhiskError, kNoResources);
    out.end = clock_.Now();
    return out;
  }
  out.wait_time = lease->waited;
  ActivationLog log(request.log_limit_bytes, clock_);
  std::unique_ptr<Process> process = std::move(lease->process);
  const std::string api_host = request.api_host.empty() ? options_.api_host : request.api_host;

  if (!process) {
    process = StartCold(pool, code, request, log, out);
    if (!process) {
      out.end = clock_.Now();
      out.logs = log.Finish();
      return out;
    }
  } else {
    out.start = clock_.Now();
  }

  // Run: one request line in, one result line out.
  const auto run_begin = steady_clock::now();
  const int64_t deadline_ms = clock_.NowMillis() + request.timeout.count();
  ActionloopProcess::Read read =
      process->loop->Exchange(RequestLine(request, api_host, deadline_ms), run_begin + request.timeout, log);
  bool reuse = false;
  switch (read.status) {
    case ActionloopProcess::ReadStatus::kLine:
      ClassifyActionloopResult(out, read.line);
      reuse = true;
      break;
    case ActionloopProcess::ReadStatus::kTooLarge:
      SetError(out, ActivationStatus::kApplicationError,
               "The action produced a response that exceeded the allowed length: " + std::to_string(read.size) + " > " +
                   std::to_string(options_.max_result_bytes) + " bytes. The truncated response was: " + read.line);
      reuse = true;
      break;
    case ActionloopProcess::ReadStatus::kTimedOut:
      out.timeout = true;
      SetError(out, ActivationStatus::kDeveloperError, TimedOut(request.timeout, /*init=*/false));
      break;
    case ActionloopProcess::ReadStatus::kExited:
      SetError(out, ActivationStatus::kDeveloperError,
               ExhaustedMemory(*process->loop, LanguageOf(code)) ? kOutOfMemory : kExitedDuringRun);
      break;
  }
  if (reuse) {
    process->loop->FinishLogs(log);
    // An action that ends after each activation cannot be reused.
    const bool alive = !process->loop->HasExited();
    Release(pool, std::move(process), alive);
  } else {
    // The activation's log context names the action and the activation.
    log::Info("whisk", "native action process discarded", {{"timeout", out.timeout}});
    Discard(pool, std::move(process), log);
  }
  out.end = clock_.Now();
  out.logs = log.Finish();
  return out;
}

std::shared_ptr<NativeRuntime::Pool> NativeRuntime::EnterPool(const ActionCode& code, const RunRequest& request) {
  // One pool per action and caller: never shared across namespaces or keys.
  const std::string key = code.pool_key + '\n' + request.namespace_name + '\n' + request.api_key.value_or("");
  std::lock_guard lock(mu_);
  if (shutting_down_) return nullptr;
  std::shared_ptr<Pool>& pool = pools_[key];
  if (!pool) {
    pool = std::make_shared<Pool>();
    pool->key = key;
    pool->pool_key = code.pool_key;
    pool->action = code.action.empty() ? code.pool_key : code.action;
  }
  ++pool->users;
  ++active_runs_;
  return pool;
}

void NativeRuntime::LeavePool(const std::shared_ptr<Pool>& pool) {
  std::lock_guard lock(mu_);
  --pool->users;
  auto it = pools_.find(pool->key);
  if (pool->live == 0 && pool->users == 0 && it != pools_.end() && it->second == pool) pools_.erase(it);
  if (--active_runs_ == 0) runs_done_.notify_all();
}

std::unique_ptr<NativeRuntime::Process> NativeRuntime::StartCold(const std::shared_ptr<Pool>& pool,
                                                                 const ActionCode& code, const RunRequest& request,
                                                                 ActivationLog& log, RunOutcome& out) {
  out.cold = true;
  out.start = clock_.Now();
  const auto init_begin = steady_clock::now();
  auto fail = [&](const std::string& message) -> std::unique_ptr<Process> {
    SetError(out, ActivationStatus::kDeveloperError, message);
    out.init_time = MillisSince(init_begin);
    return nullptr;
  };
  Result<std::shared_ptr<Installed>> installed = Install(code);
  if (!installed.ok()) {
    ReleaseSlot(pool);
    return fail(installed.status().message());
  }
  Result<std::unique_ptr<Process>> started = StartProcess(std::move(*installed), code, request);
  if (!started.ok()) {
    ReleaseSlot(pool);
    return fail(kInitFailedPrefix + started.status().message());
  }
  std::unique_ptr<Process> process = std::move(*started);
  if (Language* language = LanguageOf(code)) {
    bool timed_out = false;
    std::optional<std::string> why = language->Init(*process->loop, process->code->dir, process->code->exec_path, code.main,
                                                    ActionEnvironment(code, request, options_.api_host),
                                                    request.memory_bytes, init_begin + request.timeout, log, &timed_out);
    if (why) {
      out.timeout = timed_out;
      Discard(pool, std::move(process), log);
      return fail(timed_out ? TimedOut(request.timeout, /*init=*/true) : kInitFailedPrefix + *why);
    }
  } else if (code.wait_for_ack) {
    ActionloopProcess::Read ack = process->loop->Exchange("", init_begin + request.timeout, log);
    std::optional<std::string> failure;
    if (ack.status == ActionloopProcess::ReadStatus::kTimedOut) {
      out.timeout = true;
      failure = TimedOut(request.timeout, /*init=*/true);
    } else if (ack.status == ActionloopProcess::ReadStatus::kExited) {
      failure = kExitedDuringInit;
    } else if (ack.status == ActionloopProcess::ReadStatus::kTooLarge || !IsActionloopAck(ack.line)) {
      failure = std::string(kInitFailedPrefix) + "the action was asked to acknowledge its start with " +
                "{\"ok\":true} on fd 3 but wrote: " + ack.line;
    }
    if (failure) {
      Discard(pool, std::move(process), log);
      return fail(*failure);
    }
  }
  out.init_time = MillisSince(init_begin);
  return process;
}

void NativeRuntime::Discard(const std::shared_ptr<Pool>& pool, std::unique_ptr<Process> process, ActivationLog& log) {
  process->loop->child().Kill();
  process->loop->DrainToEnd(log, steady_clock::now() + kDrainAfterKill);
  log.AddNotice(kLogsMissing);
  Release(pool, std::move(process), /*reuse=*/false);
}

Result<NativeRuntime::Lease> NativeRuntime::Acquire(const std::shared_ptr<Pool>& pool, int cap,
                                                    std::vector<std::unique_ptr<Process>>& graveyard) {
  const auto begin = steady_clock::now();
  const auto give_up = begin + options_.max_queue_wait;
  std::unique_lock lock(mu_);
  bool queued = false;
  auto done = [&](Lease lease) -> Result<Lease> {
    if (queued) --waiting_;
    lease.waited = MillisSince(begin);
    return lease;
  };
  while (true) {
    if (shutting_down_) {
      if (queued) --waiting_;
      return Status::Unavailable("the native runtime is shutting down");
    }
    // Warm: the most recently used idle process that is still alive.
    while (!pool->idle.empty()) {
      std::unique_ptr<Process> process = std::move(pool->idle.back());
      pool->idle.pop_back();
      if (process->loop->HasExited()) {
        --pool->live;
        --processes_;
        graveyard.push_back(std::move(process));
        continue;
      }
      busy_.insert(process.get());
      return done(Lease{std::move(process)});
    }
    // Cold: a slot under both caps, making room at the global one by
    // stopping the process that has been idle the longest elsewhere.
    if (pool->live < cap) {
      if (processes_ >= options_.max_processes) {
        Pool* oldest = nullptr;
        for (auto& [key, other] : pools_) {
          if (other->idle.empty()) continue;
          if (!oldest || other->idle.front()->idle_since < oldest->idle.front()->idle_since) {
            oldest = other.get();
          }
        }
        if (oldest) {
          graveyard.push_back(std::move(oldest->idle.front()));
          oldest->idle.erase(oldest->idle.begin());
          --oldest->live;
          --processes_;
          ++reclaimed_;
        }
      }
      if (processes_ < options_.max_processes) {
        ++pool->live;
        ++processes_;
        ++cold_starts_;
        return done(Lease{});
      }
    }
    if (!queued) {
      queued = true;
      ++waiting_;
    }
    if (slot_freed_.wait_until(lock, give_up) == std::cv_status::timeout && steady_clock::now() >= give_up) {
      --waiting_;
      return Status::Unavailable("no process came free in time");
    }
  }
}

void NativeRuntime::Release(const std::shared_ptr<Pool>& pool, std::unique_ptr<Process> process, bool reuse) {
  {
    std::lock_guard lock(mu_);
    busy_.erase(process.get());
    if (reuse && !shutting_down_) {
      process->idle_since = clock_.SteadyNow();
      pool->idle.push_back(std::move(process));
      slot_freed_.notify_all();
    }
  }
  if (!process) {
    reclaimer_->IdleAdded();
    return;
  }
  // Killed and reaped outside the lock; the slot counts until then, so the
  // caps bound real processes.
  process.reset();
  ReleaseSlot(pool);
}

void NativeRuntime::ReleaseSlot(const std::shared_ptr<Pool>& pool) {
  std::lock_guard lock(mu_);
  --pool->live;
  --processes_;
  slot_freed_.notify_all();
}

Result<std::shared_ptr<NativeRuntime::Installed>> NativeRuntime::Install(const ActionCode& code) {
  // Hashing megabytes is for callers that did not do it once for all runs.
  const std::string digest = code.digest.empty() ? ContentDigest(code.binary, code.code) : code.digest;
  // The same text installs differently per language (a launcher's files), so
  // the kind is part of the key; native code is the payload itself.
  Language* language = LanguageOf(code);
  const std::string key = language ? code.kind + ":" + digest : digest;
  std::shared_ptr<Installed> installed;
  {
    std::lock_guard lock(mu_);
    std::shared_ptr<Installed>& slot = installed_[key];
    if (!slot) {
      slot = std::make_shared<Installed>();
      slot->digest = digest;
      // Unguessable: a sandboxed launcher may enter any directory of the
      // root whose name it knows (CodeRoot()).
      slot->dir = CodeRoot(options_.scratch_dir) + "/" + std::to_string(next_install_dir_++) + "-" + NewId();
    }
    slot->actions.insert(code.action.empty() ? code.pool_key : code.action);
    installed = slot;
  }
  std::lock_guard install(installed->install_mu);
  if (!installed->exec_path.empty()) return installed;
  RemoveTree(installed->dir);  // what a failed attempt left
  Result<std::string> exec_path =
      Status::IoError(std::string(kInitFailedPrefix) + "cannot create the action's directory");
  if (mkdir(installed->dir.c_str(), 0700) == 0) {
    exec_path = language ? language->Install(code, installed->dir, options_.max_unpacked_bytes)
                         : InstallActionPayload(code, installed->dir, options_.max_unpacked_bytes);
  }
  if (!exec_path.ok()) {
    RemoveTree(installed->dir);
    // Not kept: the next cold start tries again.
    std::lock_guard lock(mu_);
    if (auto it = installed_.find(key); it != installed_.end() && it->second == installed) installed_.erase(it);
    return exec_path.status();
  }
  MakeReadOnly(installed->dir);
  installed->exec_path = *exec_path;
  std::lock_guard lock(mu_);
  ++installs_;
  return installed;
}

void NativeRuntime::Retire(const std::string& action, const std::string& current_digest) {
  std::vector<std::shared_ptr<Installed>> dropped;  // released after the lock
  StoppedProcesses stopped;
  {
    std::lock_guard lock(mu_);
    for (auto it = installed_.begin(); it != installed_.end();) {
      Installed& entry = *it->second;
      if (entry.digest != current_digest && entry.actions.erase(action) > 0 && entry.actions.empty()) {
        dropped.push_back(std::move(it->second));
        it = installed_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [key, pool] : pools_) {
      if (pool->action != action) continue;
      for (auto& process : pool->idle) stopped.emplace_back(pool, std::move(process));
      pool->idle.clear();
    }
  }
  Stop(std::move(stopped));
}

void NativeRuntime::Stop(StoppedProcesses stopped) {
  if (stopped.empty()) return;
  for (auto& [pool, process] : stopped) process.reset();  // kill and reap
  std::lock_guard lock(mu_);
  for (auto& [pool, process] : stopped) {
    --pool->live;
    --processes_;
    ++reclaimed_;
    auto it = pools_.find(pool->key);
    if (pool->live == 0 && pool->users == 0 && it != pools_.end() && it->second == pool) pools_.erase(it);
  }
  slot_freed_.notify_all();
}

Result<std::unique_ptr<NativeRuntime::Process>> NativeRuntime::StartProcess(std::shared_ptr<Installed> installed,
                                                                            const ActionCode& code,
                                                                            const RunRequest& request) {
  const std::map<std::string, std::string> env = ActionEnvironment(code, request, options_.api_host);
  if (Language* language = LanguageOf(code)) {
    // A launcher (maybe a stem cell, started before this action was known):
    // the environment and the code come with its init line (StartCold).
    Result<std::unique_ptr<ActionloopProcess>> loop = language->Spawn(request.memory_bytes, request.network);
    if (!loop.ok()) return loop.status();
    auto process = std::make_unique<Process>();
    process->code = std::move(installed);
    process->loop = std::move(*loop);
    std::lock_guard lock(mu_);
    if (shutting_down_) process->loop->child().Kill();
    busy_.insert(process.get());
    return process;
  }
  SpawnOptions spawn;
  spawn.program = installed->exec_path;
  spawn.working_dir = installed->dir;
  for (const auto& [name, value] : env) spawn.env.push_back(name + "=" + value);
  if (options_.sandbox) {
    Confinement confinement;
    confinement.read_only = {installed->dir};
    confinement.read_only.insert(confinement.read_only.end(), code.read_only_paths.begin(),
                                 code.read_only_paths.end());
    confinement.network = request.network;
    confinement.memory_bytes = request.memory_bytes;
    spawn = options_.sandbox->Wrap(spawn, confinement);
  }
  Result<std::unique_ptr<ActionloopProcess>> loop = ActionloopProcess::Start(spawn, options_.max_result_bytes);
  if (!loop.ok()) {
    std::string why = loop.status().message();
    // The path is wisp's business; the reason is the developer's.
    const size_t colon = why.rfind(": ");
    why = "cannot execute the action: " + (colon == std::string::npos ? why : why.substr(colon + 2));
    if (why.ends_with("Exec format error")) why += " (a script needs a #! line)";
    return Status(loop.status().code(), why);
  }
  auto process = std::make_unique<Process>();
  process->code = std::move(installed);
  process->loop = std::move(*loop);
  log::Debug("whisk", "native action process started", {{"pid", static_cast<int64_t>(process->loop->child().pid())}});
  std::lock_guard lock(mu_);
  if (shutting_down_) process->loop->child().Kill();
  busy_.insert(process.get());
  return process;
}

Language* NativeRuntime::LanguageOf(const ActionCode& code) const {
  const auto it = options_.languages.find(code.kind);
  return it == options_.languages.end() ? nullptr : it->second.get();
}

void NativeRuntime::ReclaimLoop() {
  while (true) {
    StoppedProcesses expired;
    std::optional<steady_clock::duration> next;
    Reclaimer::Snapshot seen;
    {
      std::lock_guard lock(mu_);
      if (shutting_down_) return;
      const Clock::SteadyTime now = clock_.SteadyNow();
      for (auto it = pools_.begin(); it != pools_.end();) {
        const std::shared_ptr<Pool>& pool = it->second;
        // A pool emptied by an eviction for room (Acquire) has nobody left to forget it.
        if (pool->live == 0 && pool->users == 0) {
          it = pools_.erase(it);
          continue;
        }
        // idle is ordered by idle_since, so the expired ones lead; a process
        // that died while idle goes too.
        auto stays = std::stable_partition(pool->idle.begin(), pool->idle.end(), [&](const auto& process) {
          return process->idle_since + options_.idle_timeout <= now || process->loop->HasExited();
        });
        for (auto p = pool->idle.begin(); p != stays; ++p) expired.emplace_back(pool, std::move(*p));
        pool->idle.erase(pool->idle.begin(), stays);
        if (!pool->idle.empty()) {
          auto due = pool->idle.front()->idle_since + options_.idle_timeout - now;
          if (!next || due < *next) next = due;
        }
        ++it;
      }
      seen = reclaimer_->Take();
    }
    Stop(std::move(expired));
    if (!reclaimer_->Wait(seen, next)) return;
  }
}

}  // namespace wisp::whisk
