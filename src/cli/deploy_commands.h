// `wisp deploy -m manifest.yaml` and `wisp undeploy -m manifest.yaml`: the
// wskdeploy commands, against the API host and key of the client commands
// (~/.wskprops, WSK_CONFIG_FILE, --apihost, --auth). See cli/deployer.h and
// docs/cli.md.
//
// Thread-safety: single-threaded, as a command line is.
#pragma once

#include "cli/manifest.h"
#include "cli/wsk_commands.h"

namespace wisp::cli {

// Registers `deploy` and `undeploy` on `app`; parsing one arms `commands.run`.
void AddDeployCommands(CLI::App& app, WskCommands& commands);

// Loads the manifest at `path` (variables from `env`) and deploys it with
// `client`, printing progress on stdout and errors on stderr. Returns the
// exit code.
int DeployManifest(WskClient& client, const std::string& path, const EnvLookup& env);

}  // namespace wisp::cli
