// probe: a native action for the runtime's tests, built on the C++ SDK. Its
// arguments say what to do; its result reports what it saw.
//
//   {}                       -> {"pid": <its pid>}
//   {"env": true}            -> also "env": its whole environment
//   {"log": N}               -> prints "log line i" on stdout, i = 0..N-1
//   {"stderr": "text"}       -> prints text on stderr
//   {"busy_ms": N}           -> works N ms, reports "begin_ns"/"end_ns" (CLOCK_MONOTONIC)
//   {"error": "why"}         -> an error result (an application error)
//   {"crash": true}          -> aborts mid-activation
//   {"hang": true}           -> never answers
//   {"big": N}               -> "big": a string of N bytes
//   {"alloc_mb": N}          -> allocates and touches N MiB, reports "allocated_mb"
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "whisk/sdk/action.h"

extern char** environ;

namespace {

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

wisp::Result<wisp::Json> Probe(const wisp::Json& args) {
  wisp::Json out = {{"pid", static_cast<int64_t>(getpid())}};
  if (args.value("env", false)) {
    wisp::Json env = wisp::Json::object();
    for (char** entry = environ; *entry != nullptr; ++entry) {
      std::string text = *entry;
      size_t eq = text.find('=');
      if (eq != std::string::npos) env[text.substr(0, eq)] = text.substr(eq + 1);
    }
    out["env"] = env;
  }
  for (int64_t i = 0; i < args.value("log", int64_t{0}); ++i) std::cout << "log line " << i << "\n";
  if (args.contains("stderr")) std::cerr << args["stderr"].get<std::string>() << "\n";
  if (args.contains("busy_ms")) {
    out["begin_ns"] = MonotonicNanos();
    std::this_thread::sleep_for(std::chrono::milliseconds(args["busy_ms"].get<int64_t>()));
    out["end_ns"] = MonotonicNanos();
  }
  if (args.contains("error")) return wisp::Status::InvalidArgument(args["error"].get<std::string>());
  if (args.value("crash", false)) {
    std::cout << "about to crash" << std::endl;
    std::abort();
  }
  if (args.value("hang", false)) {
    while (true) pause();
  }
  if (args.contains("big")) out["big"] = std::string(args["big"].get<size_t>(), 'x');
  if (args.contains("alloc_mb")) {
    std::vector<std::unique_ptr<char[]>> blocks;
    for (int64_t i = 0; i < args["alloc_mb"].get<int64_t>(); ++i) {
      blocks.emplace_back(new char[1 << 20]);
      std::memset(blocks.back().get(), 1, 1 << 20);
    }
    out["allocated_mb"] = static_cast<int64_t>(blocks.size());
  }
  return out;
}

}  // namespace

int main() { return wisp::whisk::sdk::Serve(Probe); }
