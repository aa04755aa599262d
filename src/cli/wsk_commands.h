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

// The `exec` of an action whose code is the file `artifact`, as `action
// create NAME FILE [--kind KIND] [--main MAIN]` sends it: for kind builtin
// the function name (the file's text, or `artifact` itself when no such
// file); otherwise the file's text, base64 when binary, with the kind
// inferred from the file when `kind` is empty. NotFound: no such file;
// InvalidArgument: the kind cannot be inferred.
Result<Json> ExecFromArtifact(const std::string& artifact, const std::string& kind, const std::string& main);

}  // namespace wisp::cli
