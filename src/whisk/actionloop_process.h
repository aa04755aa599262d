// ActionloopProcess: one running actionloop executable, and the exchange of
// one line with it while its logs are captured.
//
// The protocol (docs/actionloop.md): wisp writes one JSON line to the
// child's stdin and reads exactly one line back from the child's fd 3. What
// the child writes to stdout and stderr meanwhile is the activation's log.
// An action may end each activation's logs with the sentinel line
// `XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX` on both streams, written before its
// result line (the C++ SDK does): wisp then knows it has every log line of
// that activation the moment the result arrives. Without sentinels, the logs
// are whatever the child wrote before the result plus what is already in the
// pipes when the result is read. Sentinel lines never reach the logs.
//
// ActivationLog applies the log limit and formats lines as OpenWhisk does:
// "2026-11-28T01:02:03.456789123Z stdout: text".
//
// Thread-safety: an ActionloopProcess is used by one thread at a time (the
// pool hands it to one activation); child().Kill() is the exception and may
// come from any thread. ActivationLog is not synchronised.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.h"
#include "util/result.h"
#include "whisk/child_process.h"

namespace wisp::whisk {

// The line that ends one activation's output on stdout and on stderr.
inline constexpr std::string_view kActivationSentinel = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";

// Longer log lines are split into pieces of this size, as Docker's json-file
// log driver splits them under OpenWhisk, so one line without a newline cannot
// make wisp buffer without bound.
inline constexpr size_t kMaxLogLineBytes = 16 * 1024;

// OpenWhisk's log line: the RFC 3339 time with nanoseconds, padded to 30
// characters, the stream name and the text.
std::string FormatLogLine(Clock::WallTime at, std::string_view stream, std::string_view text);

// The log of one activation, with OpenWhisk's log limit: lines are kept while
// their bytes (text plus newline) fit in the limit; from the first line that
// does not, every line is dropped and the notice "Logs were truncated because
// the total bytes size exceeds the limit of N bytes." ends the log.
class ActivationLog {
 public:
  ActivationLog(size_t limit_bytes, const Clock& clock) : limit_(limit_bytes), clock_(clock) {}

  void Add(std::string_view stream, std::string_view text);
  // A line from wisp itself (on stderr), outside the limit, after the action's lines.
  void AddNotice(std::string_view text);
  bool truncated() const { return truncated_; }
  // The lines, the truncation notice if any, then the notices.
  std::vector<std::string> Finish();

 private:
  size_t limit_;
  const Clock& clock_;
  size_t used_ = 0;
  bool truncated_ = false;
  std::vector<std::string> lines_;
  std::vector<std::string> notices_;
};

enum class ResultReadStatus {
  kLine,      // `line` holds one line from fd 3, without its newline
  kTooLarge,  // the line was longer than max_line_bytes: `line` holds its head, `size` its length
  kExited,    // fd 3 reached its end (or stdin broke) before a line came
  kTimedOut,  // the deadline passed first
};
struct ResultRead {
  ResultReadStatus status = ResultReadStatus::kExited;
  std::string line;
  size_t size = 0;
};

// Splits the bytes a child writes on fd 3 into result lines. A line longer
// than `max_line_bytes` comes out once, as kTooLarge with its head and its
// length, and the rest of it is skipped as it arrives, so the exchange stays
// in step. Pure (fuzzed by fuzz/actionloop_fuzzer.cc); not synchronised.
class ResultLineReader {
 public:
  explicit ResultLineReader(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}
  void Append(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete (or completely skipped oversized) line, if there is one.
  bool Take(ResultRead* out);
  // Bytes held for a line that has not ended (the head only, while skipping).
  size_t buffered_bytes() const { return buffer_.size() + oversized_head_.size(); }

 private:
  size_t max_line_bytes_;
  std::string buffer_;
  bool oversized_ = false;  // skipping the rest of a line that was too long
  std::string oversized_head_;
  size_t oversized_size_ = 0;
};

// Moves the complete lines of `partial` (what one log stream wrote since the
// last call) into `log` as lines of `stream`, splitting lines longer than
// kMaxLogLineBytes and holding no more than that of an unfinished line.
// Returns true when one of the lines was the sentinel, which is not logged.
bool EmitLogLines(std::string& partial, std::string_view stream, ActivationLog& log);

class ActionloopProcess {
 public:
  using ReadStatus = ResultReadStatus;
  using Read = ResultRead;
  using Deadline = std::chrono::steady_clock::time_point;

  // Starts the executable. Lines on fd 3 longer than `max_line_bytes` are
  // reported as kTooLarge (and skipped, so the exchange stays in step).
  static Result<std::unique_ptr<ActionloopProcess>> Start(const SpawnOptions& options, size_t max_line_bytes);

  // Writes `request` and a newline to stdin (nothing when `request` is empty:
  // that reads the ack), then waits for one line on fd 3 until `deadline`,
  // capturing stdout and stderr into `log` meanwhile.
  Read Exchange(std::string_view request, Deadline deadline, ActivationLog& log);
  // After a line arrived: adds the log bytes already in the pipes, up to each
  // stream's sentinel, and any unterminated last line.
  void FinishLogs(ActivationLog& log);
  // After the child was killed: reads both log streams to their end, or
  // until `deadline` (a grandchild that left the group may hold them open).
  void DrainToEnd(ActivationLog& log, Deadline deadline);

  // True when the child has exited (it is then reaped).
  bool HasExited() { return child_->TryReap(); }
  ChildProcess& child() { return *child_; }

 private:
  struct LogStream {
    const char* name;
    int fd;
    std::string partial;  // bytes after the last newline
    bool eof = false;
    bool sentinel_seen = false;
  };

  explicit ActionloopProcess(std::unique_ptr<ChildProcess> child, size_t max_line_bytes);
  // One non-blocking read of a log stream into `log`; the bytes read (0 when
  // nothing was there, or at the end).
  size_t ReadLog(LogStream& stream, ActivationLog& log);
  // One non-blocking read of fd 3.
  void ReadResult();

  std::unique_ptr<ChildProcess> child_;
  LogStream stdout_;
  LogStream stderr_;
  ResultLineReader result_lines_;
  bool result_eof_ = false;
};

}  // namespace wisp::whisk
