// `wisp sim stackexchange` and `wisp sim slack`: the simulators of the
// services the Stack Overflow pipeline talks to, standalone on a port.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace wisp::cli {

struct SimOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 0;  // 0: a free port, printed at start
  uint64_t seed = 1;
  int questions = 300;
  int64_t event_interval_s = 30;
  std::string fault_script;
};

// Adds `sim` with its two subcommands; after parsing, RunSimIfParsed()
// returns the exit code (or -1 when `sim` was not on the command line).
void AddSimCommand(CLI::App& app, SimOptions& options);
int RunSimIfParsed(CLI::App& app, const SimOptions& options);

}  // namespace wisp::cli
