// A wskdeploy manifest (manifest.yaml) read into the entities it declares,
// each as the REST body `wisp deploy` would PUT for it.
//
// The supported subset of the wskdeploy format is in docs/cli.md ("Deploying
// from a manifest"): `project`, `packages` (or the legacy `package`) with
// `inputs`, `annotations`, `public`, `actions`, `sequences`, `triggers`,
// `rules` and `dependencies` (bindings of `/namespace/package`). `${VAR}`,
// `${VAR:-default}` and `$VAR` in values are replaced from the environment.
// Keys wisp does not know are errors, not silently ignored.
//
// Names in the bodies are relative to the caller's namespace: `/_/pkg/a`.
//
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "json/json.h"
#include "util/result.h"

namespace wisp::cli {

// One entity of the manifest.
struct ManifestEntity {
  std::string name;  // relative to the namespace: "pkg", "pkg/action", "trigger"
  Json body;         // the PUT body: parameters, annotations, exec, limits, binding, trigger/action
  std::string feed;  // triggers: the feed action, fully qualified ("/whisk.system/alarms/alarm"); "" none
  Json feed_inputs;  // triggers with a feed: what the feed action receives on CREATE
  int line = 0;      // where the manifest declares it (1-based)
};

struct Manifest {
  std::string project;                   // project name, "" when none
  std::vector<ManifestEntity> packages;  // plain packages
  std::vector<ManifestEntity> bindings;  // packages with a `binding`
  std::vector<ManifestEntity> actions;   // code actions
  std::vector<ManifestEntity> sequences;
  std::vector<ManifestEntity> triggers;
  std::vector<ManifestEntity> rules;
};

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
// The process environment.
EnvLookup ProcessEnvironment();

// Reads and parses the manifest at `path`; files an action names are read
// relative to its directory. NotFound: no such file. InvalidArgument: YAML
// syntax, an unknown key, a missing or mistyped field; the message starts
// with "PATH:LINE:".
Result<Manifest> LoadManifest(const std::string& path, const EnvLookup& env);

// Parses manifest text; `base_dir` resolves relative `function` paths and
// `origin` names the text in error messages.
Result<Manifest> ParseManifest(const std::string& text, const std::string& base_dir, const std::string& origin,
                               const EnvLookup& env);

// Replaces `${VAR}`, `${VAR:-default}` and `$VAR` in `text`; an unset
// variable without a default becomes "", as wskdeploy does. `$$` is a `$`.
std::string SubstituteEnvironment(const std::string& text, const EnvLookup& env);

}  // namespace wisp::cli
