#include "whisk/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace wisp::whisk {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// The child's end of a pipe is moved above the four fds it will be dup2'ed
// onto, so that no dup2 in the spawn can overwrite another pipe's source.
constexpr int kFirstHighFd = 10;

struct PipePair {
  UniqueFd read;
  UniqueFd write;
};

Result<PipePair> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::Internal("pipe2: " + ErrnoText(errno));
  PipePair pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
  for (UniqueFd* end : {&pair.read, &pair.write}) {
    int high = fcntl(end->get(), F_DUPFD_CLOEXEC, kFirstHighFd);
    if (high < 0) return Status::Internal("fcntl: " + ErrnoText(errno));
    end->Reset(high);
  }
  return pair;
}

Status SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return Status::Internal("fcntl O_NONBLOCK: " + ErrnoText(errno));
  }
  return Status::Ok();
}

// errnos from exec that say the program cannot run, rather than that the
// machine is short of something.
bool IsExecRefusal(int err) {
  return err == ENOEXEC || err == ENOENT || err == EACCES || err == ENOTDIR || err == ELOOP || err == ENAMETOOLONG ||
         err == EISDIR || err == ETXTBSY || err == EPERM;
}

// posix_spawn's attributes and file actions, destroyed on every path out.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnSetup() {
    posix_spawnattr_destroy(&attr_);
    posix_spawn_file_actions_destroy(&actions_);
  }
  posix_spawnattr_t* attr() { return &attr_; }
  posix_spawn_file_actions_t* actions() { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) Reset(other.Release());
  return *this;
}

int UniqueFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const SpawnOptions& options) {
  WISP_ASSIGN_OR_RETURN(PipePair in, MakePipe());
  WISP_ASSIGN_OR_RETURN(PipePair out, MakePipe());
  WISP_ASSIGN_OR_RETURN(PipePair err, MakePipe());
  WISP_ASSIGN_OR_RETURN(PipePair result, MakePipe());

  SpawnSetup setup;
  posix_spawn_file_actions_t* actions = setup.actions();
  posix_spawn_file_actions_adddup2(actions, in.read.get(), 0);
  posix_spawn_file_actions_adddup2(actions, out.write.get(), 1);
  posix_spawn_file_actions_adddup2(actions, err.write.get(), 2);
  posix_spawn_file_actions_adddup2(actions, result.write.get(), 3);
  // Descriptors that some library opened without O_CLOEXEC stay out too.
  posix_spawn_file_actions_addclosefrom_np(actions, 4);
  if (!options.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(actions, options.working_dir.c_str());
  }

  // A new process group (to kill the child's descendants with it), every
  // signal at its default (wisp ignores SIGPIPE; the child must not inherit
  // that) and nothing blocked.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(setup.attr(), &all);
  posix_spawnattr_setsigmask(setup.attr(), &none);
  posix_spawnattr_setpgroup(setup.attr(), 0);
  posix_spawnattr_setflags(setup.attr(), POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv = {const_cast<char*>(options.program.c_str())};
  for (const std::string& arg : options.args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(options.env.size() + 1);
  for (const std::string& entry : options.env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  // ETXTBSY: another thread's spawn may briefly hold a copy of the descriptor
  // that wrote this executable (until its own exec closes it). It passes.
  pid_t pid = -1;
  int rc = 0;
  for (int attempt = 0; attempt < 200; ++attempt) {
    rc = posix_spawn(&pid, options.program.c_str(), actions, setup.attr(), argv.data(), envp.data());
    if (rc != ETXTBSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (rc != 0) {
    std::string why = "cannot execute " + options.program + ": " + ErrnoText(rc);
    return IsExecRefusal(rc) ? Status::InvalidArgument(why) : Status::Internal(why);
  }

  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->pid_ = pid;
  child->stdin_ = std::move(in.write);
  child->stdout_ = std::move(out.read);
  child->stderr_ = std::move(err.read);
  child->result_ = std::move(result.read);
  for (int fd : {child->stdin_fd(), child->stdout_fd(), child->stderr_fd(), child->result_fd()}) {
    WISP_RETURN_IF_ERROR(SetNonBlocking(fd));  // the destructor kills and reaps
  }
  return child;
}

ChildProcess::~ChildProcess() { KillAndReap(); }

void ChildProcess::Kill() {
  std::lock_guard lock(mu_);
  if (!reaped_ && pid_ > 0) kill(-pid_, SIGKILL);
}

void ChildProcess::KillAndReap() {
  {
    std::lock_guard lock(mu_);
    if (reaped_ || pid_ <= 0) return;
    kill(-pid_, SIGKILL);
  }
  // Wait without reaping, so that the pid (and the group id) cannot be
  // reused while Kill() may still look at it; then reap under the lock.
  siginfo_t info;
  while (waitid(P_PID, pid_, &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
  std::lock_guard lock(mu_);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  MarkReaped(status);
}

bool ChildProcess::TryReap() {
  std::lock_guard lock(mu_);
  if (reaped_ || pid_ <= 0) return true;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return false;
  MarkReaped(status);
  return true;
}

void ChildProcess::MarkReaped(int wait_status) {
  reaped_ = true;
  wait_status_ = wait_status;
}

bool ChildProcess::WaitForExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  while (!TryReap()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10'000));
  }
  return true;
}

int ChildProcess::ExitCode() const {
  std::lock_guard lock(mu_);
  return reaped_ && WIFEXITED(wait_status_) ? WEXITSTATUS(wait_status_) : -1;
}

int ChildProcess::TermSignal() const {
  std::lock_guard lock(mu_);
  return reaped_ && WIFSIGNALED(wait_status_) ? WTERMSIG(wait_status_) : 0;
}

std::string ChildProcess::Describe() const {
  std::lock_guard lock(mu_);
  if (!reaped_) return "running";
  if (WIFEXITED(wait_status_)) return "exit status " + std::to_string(WEXITSTATUS(wait_status_));
  if (WIFSIGNALED(wait_status_)) return "killed by signal " + std::to_string(WTERMSIG(wait_status_));
  return "ended";
}

}  // namespace wisp::whisk
