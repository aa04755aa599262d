#include "testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace wisp::testing {

Subprocess::Subprocess(std::vector<std::string> argv, std::string stderr_file) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(fds[1], STDOUT_FILENO);
    const int err = open(stderr_file.empty() ? "/dev/null" : stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  stdout_fd_ = fds[0];
}

Subprocess::Subprocess(std::vector<std::string> argv, OnTerminal) {
  int terminal = -1;
  int side = -1;
  if (openpty(&terminal, &side, nullptr, nullptr, nullptr) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    setsid();
    ioctl(side, TIOCSCTTY, 0);
    dup2(side, STDOUT_FILENO);
    dup2(side, STDERR_FILENO);
    close(terminal);
    close(side);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(side);
  fcntl(terminal, F_SETFD, FD_CLOEXEC);
  stdout_fd_ = terminal;
}

Subprocess::~Subprocess() {
  if (exit_code_ == -2 && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

std::string Subprocess::ReadLineContaining(const std::string& needle, std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    // Look through complete lines not yet consumed.
    size_t nl;
    while ((nl = out_.find('\n', consumed_)) != std::string::npos) {
      std::string line = out_.substr(consumed_, nl - consumed_);
      consumed_ = nl + 1;
      if (line.find(needle) != std::string::npos) return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0 || stdout_fd_ < 0) return "";
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
    char buf[4096];
    const ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) return "";
    out_.append(buf, static_cast<size_t>(n));
  }
}

int Subprocess::Wait(std::chrono::milliseconds deadline) {
  if (exit_code_ != -2) return exit_code_;
  // waitpid has no timeout; a helper thread turns the deadline into SIGKILL.
  const auto until = std::chrono::steady_clock::now() + deadline;
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() >= until) return -1;
    // Block on the child's stdout closing, which happens when it exits.
    pollfd p{stdout_fd_, POLLIN, 0};
    char buf[4096];
    if (poll(&p, 1, 50) > 0) {
      const ssize_t n = read(stdout_fd_, buf, sizeof buf);
      if (n > 0) out_.append(buf, static_cast<size_t>(n));
    }
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

int Subprocess::Signal(int signal, std::chrono::milliseconds deadline) {
  if (exit_code_ == -2) kill(pid_, signal);
  return Wait(deadline);
}

}  // namespace wisp::testing
