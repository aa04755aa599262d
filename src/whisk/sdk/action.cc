#include "whisk/sdk/action.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <new>
#include <set>
#include <string>
#include <string_view>

namespace wisp::whisk::sdk {
namespace {

// The protocol's sentinel (docs/actionloop.md); the platform side names it
// kActivationSentinel, which this library cannot include.
constexpr std::string_view kSentinel = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n";

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t w = write(fd, bytes.data(), bytes.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

bool WriteLine(int fd, std::string line) {
  line.push_back('\n');
  return WriteAll(fd, line);
}

// Lines from a descriptor, read in chunks.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // The next line without its newline; false at the end of input (a last
  // line without a newline still counts).
  bool Next(std::string* line) {
    while (true) {
      size_t newline = buffer_.find('\n', scanned_);
      if (newline != std::string::npos) {
        line->assign(buffer_, 0, newline);
        buffer_.erase(0, newline + 1);
        scanned_ = 0;
        return true;
      }
      scanned_ = buffer_.size();
      char chunk[64 * 1024];
      ssize_t r = read(fd_, chunk, sizeof(chunk));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        if (buffer_.empty()) return false;
        line->swap(buffer_);
        buffer_.clear();
        scanned_ = 0;
        return true;
      }
      buffer_.append(chunk, static_cast<size_t>(r));
    }
  }

 private:
  int fd_;
  std::string buffer_;
  size_t scanned_ = 0;
};

Json ErrorResult(std::string message) { return Json::object({{"error", std::move(message)}}); }

// Exports the request's metadata as `__OW_<KEY>` and removes what the
// previous request had and this one lacks (an `api_key`, say).
void ExportMetadata(const Json& request, std::set<std::string>& exported) {
  std::set<std::string> now;
  for (const auto& [key, value] : request.items()) {
    if (key == "value" || !value.is_string()) continue;
    std::string name = "__OW_";
    for (char c : key) name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    setenv(name.c_str(), value.get<std::string>().c_str(), 1);
    now.insert(name);
  }
  for (const std::string& name : exported) {
    if (!now.count(name)) unsetenv(name.c_str());
  }
  exported = std::move(now);
}

void FlushLogs();

Json Handle(const std::string& line, const ActionFunction& main, std::set<std::string>& exported) {
  Result<Json> request = json::ParseObject(line);
  if (!request.ok()) return ErrorResult("the activation request is not a JSON object: " + request.status().message());
  ExportMetadata(*request, exported);
  const Json args = request->contains("value") ? (*request)["value"] : Json::object();
  try {
    Result<Json> result = main(args);
    if (!result.ok()) return ErrorResult(result.status().message());
    return std::move(result).value();
  } catch (const std::bad_alloc&) {
    // Under wisp's memory limit (RLIMIT_DATA) an allocation failed: end as the
    // OOM killer would end a container, so wisp reports "The action
    // exhausted its memory and was aborted." (137 is 128 + SIGKILL).
    static constexpr char kMessage[] = "std::bad_alloc: the action exhausted its memory\n";
    FlushLogs();
    [[maybe_unused]] ssize_t n = write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    _exit(137);
  } catch (const std::exception& e) {
    return ErrorResult(std::string("the action threw: ") + e.what());
  } catch (...) {
    return ErrorResult("the action threw an exception");
  }
}

void FlushLogs() {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(stdout);
  std::fflush(stderr);
}

}  // namespace

int ServeOn(int in_fd, int result_fd, const ActionFunction& main) {
  const char* proxy = std::getenv("__OW_PROXY_VERSION");
  const bool sentinels = result_fd != STDOUT_FILENO && proxy != nullptr && std::string_view(proxy).starts_with("wisp/");
  const char* ack = std::getenv("__OW_WAIT_FOR_ACK");
  if (ack != nullptr && *ack != '\0' && !WriteLine(result_fd, R"({"ok":true})")) return 1;

  LineReader reader(in_fd);
  std::set<std::string> exported;
  std::string line;
  while (reader.Next(&line)) {
    if (line.empty()) continue;
    Json result = Handle(line, main, exported);
    FlushLogs();
    if (sentinels) {
      WriteAll(STDOUT_FILENO, kSentinel);
      WriteAll(STDERR_FILENO, kSentinel);
    }
    if (!WriteLine(result_fd, json::Dump(result))) return 1;
  }
  return 0;
}

int Serve(const ActionFunction& main) {
  // fd 3 is the result channel; without it (run by hand) results go to stdout.
  const int result_fd = fcntl(3, F_GETFD) >= 0 ? 3 : STDOUT_FILENO;
  return ServeOn(STDIN_FILENO, result_fd, main);
}

}  // namespace wisp::whisk::sdk
