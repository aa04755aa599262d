// Runs the real wisp binary as a child process, for end-to-end tests of the
// command line.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace wisp::testing {

class Subprocess {
 public:
  // Starts `argv[0]` with `argv`; its stdout is captured, stderr goes to `stderr_file`
  // (or is discarded when empty).
  explicit Subprocess(std::vector<std::string> argv, std::string stderr_file = "");
  // Starts `argv[0]` with its stdout and stderr on a new pseudo-terminal, as
  // from a person's shell; what the terminal shows is read as stdout (its
  // lines end in CR LF).
  struct OnTerminal {};
  Subprocess(std::vector<std::string> argv, OnTerminal);
  ~Subprocess();  // kills the child if it still runs

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Reads stdout until a line containing `needle` arrives (returns that line),
  // stdout closes, or the deadline passes (returns "").
  std::string ReadLineContaining(const std::string& needle, std::chrono::milliseconds deadline);
  // Everything read from stdout so far.
  const std::string& output() const { return out_; }

  // Sends `signal`; then waits for the exit. Returns the exit code, 128+signal
  // when killed by a signal, or -1 when it did not exit within the deadline.
  int Signal(int signal, std::chrono::milliseconds deadline);
  // Waits for the exit without signalling.
  int Wait(std::chrono::milliseconds deadline);

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string out_;
  size_t consumed_ = 0;
  int exit_code_ = -2;  // -2: still running
};

}  // namespace wisp::testing
