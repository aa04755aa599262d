// The wsk-compatible client commands of `wisp`: property, action, activation,
// package, trigger, rule, namespace and list.
//
// They are registered on the root CLI::App; parsing one fills its options
// and arms `WskCommands::run`, which main() then calls for the exit code.
// Output lines, tables and exit codes follow wsk (docs/cli.md lists the
// differences).
//
// Thread-safety: single-threaded, as a command line is.
#pragma once

#include <functional>
#include <memory>

#include "cli/wsk_client.h"

namespace CLI {
class App;
}

namespace wisp::cli {

struct WskCommands {
  WskGlobals globals;
  std::function<int()> run;                       // set by the parsed command
  std::vector<std::shared_ptr<void>> keep_alive;  // the options the commands bind to
};

// Registers every client command and the global flags on `app`.
void AddWskCommands(CLI::App& app, WskCommands& commands);

}  // namespace wisp::cli
