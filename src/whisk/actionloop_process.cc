#include "whisk/actionloop_process.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>

namespace wisp::whisk {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

// Milliseconds for poll() until `deadline`, rounded up so that a deadline
// that has not quite passed is not reported as passed.
int PollTimeoutMs(ActionloopProcess::Deadline deadline) {
  auto left = deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

}  // namespace

std::string FormatLogLine(Clock::WallTime at, std::string_view stream, std::string_view text) {
  using namespace std::chrono;
  const auto since_epoch = floor<nanoseconds>(at.time_since_epoch());
  const auto secs = floor<seconds>(since_epoch);
  const time_t t = static_cast<time_t>(secs.count());
  const long nanos = static_cast<long>((since_epoch - secs).count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[48];
  std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
  std::string line = stamp;
  if (line.size() < 30) line.append(30 - line.size(), ' ');
  line += ' ';
  line += stream;
  line += ": ";
  line += text;
  return line;
}

void ActivationLog::Add(std::string_view stream, std::string_view text) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  const size_t size = text.size() + 1;
  if (truncated_ || size > limit_ - std::min(used_, limit_)) {
    truncated_ = true;
    return;
  }
  used_ += size;
  lines_.push_back(FormatLogLine(clock_.Now(), stream, text));
}

void ActivationLog::AddNotice(std::string_view text) {
  notices_.push_back(FormatLogLine(clock_.Now(), "stderr", text));
}

std::vector<std::string> ActivationLog::Finish() {
  std::vector<std::string> out = std::move(lines_);
  if (truncated_) {
    out.push_back(FormatLogLine(
        clock_.Now(), "stderr",
        "Logs were truncated because the total bytes size exceeds the limit of " + std::to_string(limit_) + " bytes."));
  }
  for (std::string& notice : notices_) out.push_back(std::move(notice));
  lines_.clear();
  notices_.clear();
  return out;
}

Result<std::unique_ptr<ActionloopProcess>> ActionloopProcess::Start(const SpawnOptions& options,
                                                                    size_t max_line_bytes) {
  WISP_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> child, ChildProcess::Spawn(options));
  return std::unique_ptr<ActionloopProcess>(new ActionloopProcess(std::move(child), max_line_bytes));
}

ActionloopProcess::ActionloopProcess(std::unique_ptr<ChildProcess> child, size_t max_line_bytes)
    : child_(std::move(child)),
      stdout_{"stdout", child_->stdout_fd(), "", false, false},
      stderr_{"stderr", child_->stderr_fd(), "", false, false},
      result_lines_(max_line_bytes) {}

ActionloopProcess::Read ActionloopProcess::Exchange(std::string_view request, Deadline deadline, ActivationLog& log) {
  stdout_.sentinel_seen = false;
  stderr_.sentinel_seen = false;
  std::string pending;
  if (!request.empty()) {
    pending.reserve(request.size() + 1);
    pending.append(request);
    pending.push_back('\n');
  }
  size_t written = 0;

  Read read;
  while (true) {
    if (result_lines_.Take(&read)) return read;
    if (result_eof_) return Read{ReadStatus::kExited, "", 0};
    const int timeout_ms = PollTimeoutMs(deadline);
    if (timeout_ms == 0) return Read{ReadStatus::kTimedOut, "", 0};

    pollfd fds[4];
    int n = 0;
    const int stdin_slot = written < pending.size() ? n : -1;
    if (stdin_slot >= 0) fds[n++] = {child_->stdin_fd(), POLLOUT, 0};
    const int result_slot = n;
    fds[n++] = {child_->result_fd(), POLLIN, 0};
    const int stdout_slot = stdout_.eof ? -1 : n;
    if (stdout_slot >= 0) fds[n++] = {stdout_.fd, POLLIN, 0};
    const int stderr_slot = stderr_.eof ? -1 : n;
    if (stderr_slot >= 0) fds[n++] = {stderr_.fd, POLLIN, 0};

    if (poll(fds, n, timeout_ms) < 0) {
      if (errno == EINTR) continue;
      return Read{ReadStatus::kExited, "", 0};
    }
    if (stdin_slot >= 0 && fds[stdin_slot].revents != 0) {
      ssize_t w = write(child_->stdin_fd(), pending.data() + written, pending.size() - written);
      if (w > 0) {
        written += static_cast<size_t>(w);
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        // The child closed its stdin (or died): it can never read this request.
        return Read{ReadStatus::kExited, "", 0};
      }
    }
    if (stdout_slot >= 0 && fds[stdout_slot].revents != 0) ReadLog(stdout_, log);
    if (stderr_slot >= 0 && fds[stderr_slot].revents != 0) ReadLog(stderr_, log);
    if (fds[result_slot].revents != 0) ReadResult();
  }
}

void ActionloopProcess::ReadResult() {
  char buffer[kReadChunk];
  ssize_t r = read(child_->result_fd(), buffer, sizeof(buffer));
  if (r > 0) {
    result_lines_.Append(std::string_view(buffer, static_cast<size_t>(r)));
  } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
    result_eof_ = true;
  }
}

bool ResultLineReader::Take(ResultRead* out) {
  const size_t newline = buffer_.find('\n');
  if (oversized_) {
    if (newline == std::string::npos) {
      oversized_size_ += buffer_.size();
      buffer_.clear();
      return false;
    }
    oversized_size_ += newline;
    buffer_.erase(0, newline + 1);
    oversized_ = false;
    *out = ResultRead{ResultReadStatus::kTooLarge, std::move(oversized_head_), oversized_size_};
    oversized_head_.clear();
    return true;
  }
  if (newline != std::string::npos && newline <= max_line_bytes_) {
    *out = ResultRead{ResultReadStatus::kLine, buffer_.substr(0, newline), newline};
    buffer_.erase(0, newline + 1);
    return true;
  }
  if (buffer_.size() > max_line_bytes_) {
    // Keep the head for the error message and skip the rest as it arrives.
    oversized_ = true;
    oversized_head_ = buffer_.substr(0, max_line_bytes_);
    oversized_size_ = 0;
    return Take(out);
  }
  return false;
}

size_t ActionloopProcess::ReadLog(LogStream& stream, ActivationLog& log) {
  char buffer[kReadChunk];
  ssize_t r = read(stream.fd, buffer, sizeof(buffer));
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (r <= 0) {
    stream.eof = true;
    return 0;
  }
  stream.partial.append(buffer, static_cast<size_t>(r));
  if (EmitLogLines(stream.partial, stream.name, log)) stream.sentinel_seen = true;
  return static_cast<size_t>(r);
}

bool EmitLogLines(std::string& partial, std::string_view stream, ActivationLog& log) {
  bool sentinel = false;
  size_t begin = 0;
  while (true) {
    size_t newline = partial.find('\n', begin);
    if (newline == std::string::npos) break;
    std::string_view text(partial.data() + begin, newline - begin);
    if (text == kActivationSentinel) {
      sentinel = true;
    } else {
      while (text.size() > kMaxLogLineBytes) {
        log.Add(stream, text.substr(0, kMaxLogLineBytes));
        text.remove_prefix(kMaxLogLineBytes);
      }
      log.Add(stream, text);
    }
    begin = newline + 1;
  }
  partial.erase(0, begin);
  while (partial.size() > kMaxLogLineBytes) {
    log.Add(stream, std::string_view(partial).substr(0, kMaxLogLineBytes));
    partial.erase(0, kMaxLogLineBytes);
  }
  return sentinel;
}

void ActionloopProcess::FinishLogs(ActivationLog& log) {
  for (LogStream* stream : {&stdout_, &stderr_}) {
    // What was in the pipe when the result came is at most a pipe's capacity
    // (1 MiB even if the child enlarged it); the budget keeps a child that
    // floods its output after its result from holding this thread forever.
    size_t budget = 1024 * 1024;
    while (!stream->eof && !stream->sentinel_seen && budget > 0) {
      const size_t read = ReadLog(*stream, log);
      if (read == 0) break;
      budget -= std::min(budget, read);
    }
    if (!stream->partial.empty()) {
      log.Add(stream->name, stream->partial);
      stream->partial.clear();
    }
  }
}

void ActionloopProcess::DrainToEnd(ActivationLog& log, Deadline deadline) {
  while (!stdout_.eof || !stderr_.eof) {
    const int timeout_ms = PollTimeoutMs(deadline);
    if (timeout_ms == 0) break;
    pollfd fds[2];
    LogStream* streams[2];
    int n = 0;
    for (LogStream* stream : {&stdout_, &stderr_}) {
      if (stream->eof) continue;
      streams[n] = stream;
      fds[n++] = {stream->fd, POLLIN, 0};
    }
    if (poll(fds, n, timeout_ms) < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents != 0) ReadLog(*streams[i], log);
    }
  }
  for (LogStream* stream : {&stdout_, &stderr_}) {
    if (!stream->partial.empty()) log.Add(stream->name, stream->partial);
    stream->partial.clear();
  }
}

}  // namespace wisp::whisk
