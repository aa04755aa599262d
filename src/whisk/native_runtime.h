// NativeRuntime: runs native actions (actionloop executables) in warm
// process pools. The protocol and the pool policy are in docs/actionloop.md.
// The interpreted kinds of Options::languages (language_runtime.h,
// docs/runtimes.md) run in the same pools, loaded by an init line.
//
// One pool per action (ActionCode::pool_key) and invoking namespace, as
// OpenWhisk keeps containers per namespace: a process that served one
// namespace never serves another, so the identity in its environment
// (`__OW_NAMESPACE`, `__OW_API_KEY`) is always the caller's.
//
//   - warm: an idle process of the pool runs the activation (the most
//     recently used first, so the rest age out);
//   - cold: no process is idle and the pool is under its cap: a new process
//     starts (`init_time` is set and `start` is the init start). The code is
//     installed (written, or unpacked) once per content digest
//     (ActionCode::digest) into a read-only directory under
//     Options::scratch_dir, which every process of that code, in any pool,
//     runs from: a cold start after the first writes nothing;
//   - queued: the pool is at its cap (RunRequest::max_instances, else
//     Options::default_max_instances) or every process of the runtime is in
//     use (Options::max_processes): the activation waits for a process and
//     reports how long in `wait_time`. At the global cap an idle process of
//     another pool is stopped to make room;
//   - scale to zero: a process idle for Options::idle_timeout is stopped, and
//     a pool without processes is forgotten;
//   - retired: when an action is updated or deleted (Retire()), its idle
//     processes stop, and its installed code goes once no action uses that
//     digest and no process runs from it.
//
// How an activation ends (the texts are OpenWhisk's, spec 3.5):
//   - a JSON object without `error`, or an array: success;
//   - an object with `error`: application error, result {"error": <that>};
//   - a line longer than Options::max_result_bytes: application error "The
//     action produced a response that exceeded the allowed length: ...";
//   - a line that is not JSON, or a scalar: developer error "The action did
//     not produce a valid JSON or JSON Array response: <line>";
//   - no line within the time limit: developer error "The action exceeded its
//     time limits of N milliseconds." with `timeout`; the process is killed;
//   - the process ends (or closes fd 3) first: developer error "The action did
//     not produce a valid response and exited unexpectedly."; when it asked
//     for acknowledgement (ActionCode::wait_for_ack) and ended before giving
//     it: "The action did not initialize and exited unexpectedly.";
//   - the payload cannot be installed or executed: developer error "The action
//     failed during initialization: <why>".
// A killed or broken process is never reused; every child is reaped.
//
// Time: activation time limits are real time (they bound real processes);
// the idle reclaim follows Options::clock, so tests move it with a FakeClock.
//
// Thread-safety: Run() may be called from any number of threads at once.
// Shutdown() (and the destructor) kill every process, make waiting and later
// Run() calls answer a whisk internal error, and return once no Run() is
// using a process any more.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "util/clock.h"
#include "util/result.h"
#include "whisk/action_runtime.h"

namespace wisp::whisk {

class ActionloopProcess;
class ActivationLog;
class Language;
class Sandbox;

// The ack a child writes on fd 3 after its init ({"ok":true}, spec 4.3).
bool IsActionloopAck(std::string_view line);

// Fills `out` from the result line a child wrote on fd 3: a JSON object or
// array is the result ({"error": ...} makes it an application error);
// anything else is a developer error that quotes the line. Pure (fuzzed by
// fuzz/actionloop_fuzzer.cc).
void ClassifyActionloopResult(RunOutcome& out, std::string_view line);

class NativeRuntime final : public ActionRuntime {
 public:
  struct Options {
    // Where code is installed: one directory per content digest, private to
    // wisp (0700) and read-only once written. Created if missing; leftovers
    // of an earlier run are removed. Required.
    std::string scratch_dir;
    // Processes per pool when RunRequest::max_instances is 0.
    int default_max_instances = 16;
    // Processes of all pools together.
    int max_processes = 64;
    // An idle process is stopped after this long (OpenWhisk's default for
    // idle containers is ten minutes).
    std::chrono::milliseconds idle_timeout{10 * 60 * 1000};
    // A queued activation gives up after this long with the whisk internal
    // error "Failed to provision resources to run the action."
    std::chrono::milliseconds max_queue_wait{5 * 60 * 1000};
    // OpenWhisk's result size limit.
    size_t max_result_bytes = 1024 * 1024;
    // What a zip payload may unpack to.
    size_t max_unpacked_bytes = 256 * 1024 * 1024;
    // `__OW_API_HOST` when a request carries none.
    std::string api_host;
    // Interpreted kinds run in the same pools (language_runtime.h), by kind
    // ("nodejs:20"): their payload is source code loaded by the kind's
    // launcher through an init line, instead of an executable.
    std::map<std::string, std::shared_ptr<Language>> languages;
    // Wall time for records and log lines; steady time for the idle reclaim.
    // A FakeClock is followed: the reclaim re-checks whenever it moves.
    Clock* clock = &Clock::System();
    // Confines every process (sandbox.h): bwrap when active, and the memory
    // limit of RunRequest::memory_bytes. Null: plain processes, no limit.
    std::shared_ptr<const Sandbox> sandbox;
  };

  // What a runtime holds at one moment; for /metrics and tests.
  struct Stats {
    int processes = 0;  // alive, idle or busy
    int idle = 0;
    int waiting = 0;  // activations queued for a process
    int pools = 0;
    uint64_t cold_starts = 0;  // processes started since creation
    uint64_t reclaimed = 0;    // idle processes stopped by the idle timeout, for room, or by Retire()
    uint64_t installs = 0;     // times code was written to disk since creation
    int installed = 0;         // content digests kept installed now
  };

  // Fails when the scratch directory cannot be made.
  static Result<std::unique_ptr<NativeRuntime>> Create(Options options);

  // Where the code of every action is installed, one directory per content
  // digest with an unguessable name: `<scratch_dir>/code`. Under an active
  // sandbox it is mode 0311, so a process shown the whole root (a launcher,
  // started before its action is known) can enter its own action's
  // directory but cannot list the others.
  static std::string CodeRoot(const std::string& scratch_dir);

  NativeRuntime(const NativeRuntime&) = delete;
  NativeRuntime& operator=(const NativeRuntime&) = delete;
  ~NativeRuntime() override;  // Shutdown()

  // Runs one activation of a native action, or of an interpreted kind of
  // Options::languages; see the file comment for the outcomes. Another kind
  // is a whisk internal error.
  RunOutcome Run(const ActionCode& code, const RunRequest& request) override;

  // Stops the idle processes of every version of `action`, and forgets the
  // installed code of its versions other than `current_digest` (removed from
  // disk once no other action uses it and no process runs from it).
  void Retire(const std::string& action, const std::string& current_digest) override;

  // Kills every process and refuses further work; idempotent.
  void Shutdown();

  Stats GetStats() const;
  // Waits until at most `count` processes are alive, or `timeout` passes;
  // true when reached. For tests, and for draining before a restart.
  bool WaitForProcessesAtMost(int count, std::chrono::milliseconds timeout) const;
  // Alive processes of one pool (all namespaces); for tests.
  int ProcessCount(const std::string& pool_key) const;

 private:
  struct Process;
  struct Pool;
  struct Lease;
  struct Installed;
  class Reclaimer;
  using StoppedProcesses = std::vector<std::pair<std::shared_ptr<Pool>, std::unique_ptr<Process>>>;

  explicit NativeRuntime(Options options);

  // The pool of this action and caller, counted as in use until LeavePool();
  // null once shutting down.
  std::shared_ptr<Pool> EnterPool(const ActionCode& code, const RunRequest& request);
  // Stops using the pool; a pool with no process and no user is forgotten.
  void LeavePool(const std::shared_ptr<Pool>& pool);
  // Takes an idle process of the pool, or a slot to start one; waits while
  // neither is possible. Processes evicted to make room land in `graveyard`.
  Result<Lease> Acquire(const std::shared_ptr<Pool>& pool, int cap, std::vector<std::unique_ptr<Process>>& graveyard);
  // The cold part of a run: installs the payload, starts a process and awaits
  // its ack. On failure, `out` holds the developer error, the slot is given
  // back, and the result is null.
  std::unique_ptr<Process> StartCold(const std::shared_ptr<Pool>& pool, const ActionCode& code,
                                     const RunRequest& request, ActivationLog& log, RunOutcome& out);
  // Kills a process that cannot be reused, keeps what is left of its logs,
  // and frees its slot.
  void Discard(const std::shared_ptr<Pool>& pool, std::unique_ptr<Process> process, ActivationLog& log);
  // Returns a healthy process to its pool, or stops a broken one and frees its slot.
  void Release(const std::shared_ptr<Pool>& pool, std::unique_ptr<Process> process, bool reuse);
  // Gives back a slot whose process never started.
  void ReleaseSlot(const std::shared_ptr<Pool>& pool);
  // The installed code of `code`'s digest, written on first use.
  Result<std::shared_ptr<Installed>> Install(const ActionCode& code);
  Result<std::unique_ptr<Process>> StartProcess(std::shared_ptr<Installed> installed, const ActionCode& code,
                                                const RunRequest& request);
  // Kills idle processes taken out of their pools, then frees their slots
  // (counted as reclaimed) and forgets pools left empty.
  void Stop(StoppedProcesses stopped);
  // The language of an interpreted kind; null for "native".
  Language* LanguageOf(const ActionCode& code) const;
  // The reclaim thread: stops processes idle for longer than idle_timeout
  // (and idle ones that died), forgets empty pools, then sleeps until the
  // next one is due, or until a process goes idle when none was.
  void ReclaimLoop();

  Options options_;
  Clock& clock_;

  mutable std::mutex mu_;
  mutable std::condition_variable slot_freed_;          // a process went idle, or a slot came free
  std::condition_variable runs_done_;                   // active_runs_ reached zero (for Shutdown)
  std::map<std::string, std::shared_ptr<Pool>> pools_;  // GUARDED_BY(mu_)
  std::set<Process*> busy_;                             // GUARDED_BY(mu_): in use by a Run
  int processes_ = 0;                                   // GUARDED_BY(mu_): starting, alive or being stopped, all pools
  int waiting_ = 0;                                     // GUARDED_BY(mu_)
  int active_runs_ = 0;                                 // GUARDED_BY(mu_)
  uint64_t cold_starts_ = 0;                            // GUARDED_BY(mu_)
  uint64_t reclaimed_ = 0;                              // GUARDED_BY(mu_)
  uint64_t installs_ = 0;                               // GUARDED_BY(mu_)
  uint64_t next_install_dir_ = 0;                       // GUARDED_BY(mu_)
  // Installed code by content digest; processes hold theirs too, so an entry
  // dropped here keeps its directory while one of them runs.
  std::map<std::string, std::shared_ptr<Installed>> installed_;  // GUARDED_BY(mu_)
  bool shutting_down_ = false;                                   // GUARDED_BY(mu_)

  std::shared_ptr<Reclaimer> reclaimer_;
  std::thread reclaim_thread_;
};

}  // namespace wisp::whisk
