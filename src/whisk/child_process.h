// ChildProcess: one program started by wisp, wired to pipes on fds 0 to 3.
//
// The child runs in its own process group, so that killing it also kills
// what it started (a shell script's `sleep`, say): a timed-out action must
// not leave grandchildren holding its log pipes open. It gets a clean slate:
// exactly the environment given, default signal dispositions, an empty
// signal mask, and no descriptor of wisp's other than its four pipes.
//
//   fd 0  reads what wisp writes to stdin_fd()
//   fd 1  writes what wisp reads from stdout_fd()
//   fd 2  writes what wisp reads from stderr_fd()
//   fd 3  writes what wisp reads from result_fd()
//
// wisp's ends of the pipes are non-blocking and close-on-exec. Every child
// is reaped: by KillAndReap(), by TryReap() once it has exited, or by the
// destructor, which kills and reaps.
//
// Thread-safety: Kill() may be called from any thread at any time, also while
// another thread runs KillAndReap(); it never signals a process group that
// has already been reaped (whose id could have been reused). Everything else
// is for the one thread that owns the object.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "util/result.h"

namespace wisp::whisk {

// A file descriptor that closes itself.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct SpawnOptions {
  std::string program;             // absolute path of the executable: argv[0]
  std::vector<std::string> args;   // argv[1...]; usually none
  std::vector<std::string> env;  // "KEY=value": the child's whole environment
  std::string working_dir;       // empty: wisp's own
};

class ChildProcess {
 public:
  // Starts `options.program`. Fails with InvalidArgument when the kernel refuses
  // to execute it (no `#!` line, missing interpreter, not executable: the
  // message names the errno), and with Internal when pipes or the spawn fail.
  static Result<std::unique_ptr<ChildProcess>> Spawn(const SpawnOptions& options);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // KillAndReap()

  pid_t pid() const { return pid_; }
  int stdin_fd() const { return stdin_.get(); }
  int stdout_fd() const { return stdout_.get(); }
  int stderr_fd() const { return stderr_.get(); }
  int result_fd() const { return result_.get(); }

  // Sends SIGKILL to the child's process group, unless it was reaped already.
  void Kill();
  // Kills the group, waits for the child to exit, and reaps it. Idempotent.
  void KillAndReap();
  // Reaps the child when it has exited (without waiting); true when it has.
  bool TryReap();
  // Waits up to `timeout` for the child to exit, and reaps it; true when it
  // has exited. For a child that is expected to end (it closed its pipes).
  bool WaitForExit(std::chrono::milliseconds timeout);
  // Once reaped: the exit status, or -1 when it was killed by a signal (or
  // has not been reaped).
  int ExitCode() const;
  // Once reaped: the signal that killed it, or 0.
  int TermSignal() const;
  // "exit status 3", "killed by signal 9", or "running": for wisp's own logs.
  std::string Describe() const;

 private:
  ChildProcess() = default;
  void MarkReaped(int wait_status);  // with mu_ held

  pid_t pid_ = -1;
  UniqueFd stdin_, stdout_, stderr_, result_;
  mutable std::mutex mu_;
  bool reaped_ = false;  // GUARDED_BY(mu_)
  int wait_status_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace wisp::whisk
