#include "cli/deploy_commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/deployer.h"
#include "cli/manifest.h"

namespace wisp::cli {

namespace {

constexpr int kUsageExit = 2;

// wskdeploy's default: manifest.yaml, else manifest.yml, in the current directory.
std::string DefaultManifest() {
  return std::filesystem::exists("manifest.yaml") || !std::filesystem::exists("manifest.yml") ? "manifest.yaml"
                                                                                              : "manifest.yml";
}

// The manifest, or nullopt after printing why not (exit code 2).
std::optional<Manifest> Load(const std::string& path, const EnvLookup& env) {
  Result<Manifest> manifest = LoadManifest(path, env);
  if (!manifest.ok()) {
    std::fprintf(stderr, "error: %s\n", manifest.status().message().c_str());
    return std::nullopt;
  }
  return std::move(*manifest);
}

}  // namespace

int DeployManifest(WskClient& client, const std::string& path, const EnvLookup& env) {
  std::optional<Manifest> manifest = Load(path, env);
  if (!manifest) return kUsageExit;
  Deployer deployer(client, stdout, stderr);
  const int code = deployer.Deploy(*manifest);
  const DeployCounts& n = deployer.counts();
  if (code != 0) {
    std::fprintf(stderr, "error: deploying %s stopped (%d created, %d updated before the error)\n", path.c_str(),
                 n.created, n.updated);
    return code;
  }
  std::printf("ok: deployed %s: %d created, %d updated, %d unchanged\n", path.c_str(), n.created, n.updated,
              n.unchanged);
  return 0;
}

void AddDeployCommands(CLI::App& app, WskCommands& c) {
  for (bool deploy : {true, false}) {
    auto path = std::make_shared<std::string>();
    c.keep_alive.push_back(path);
    CLI::App* cmd = app.add_subcommand(deploy ? "deploy" : "undeploy",
                                       deploy ? "create or update what a wskdeploy manifest declares (idempotent)"
                                              : "delete what a wskdeploy manifest declares");
    cmd->add_option("-m,--manifest", *path, "the manifest file (default: manifest.yaml)");
    cmd->callback([&c, path, deploy] {
      c.run = [&c, path, deploy] {
        const std::string file = path->empty() ? DefaultManifest() : *path;
        WskClient client(WskConfig::Resolve(c.globals));
        if (deploy) return DeployManifest(client, file, ProcessEnvironment());
        std::optional<Manifest> manifest = Load(file, ProcessEnvironment());
        if (!manifest) return kUsageExit;
        Deployer deployer(client, stdout, stderr);
        const int code = deployer.Undeploy(*manifest);
        const DeployCounts& n = deployer.counts();
        if (code != 0) return code;
        std::printf("ok: undeployed %s: %d deleted, %d already gone\n", file.c_str(), n.deleted, n.missing);
        return 0;
      };
    });
  }
}

}  // namespace wisp::cli
