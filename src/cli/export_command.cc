#include "cli/export_command.h"

#include <link.h>
#include <spawn.h>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "apps/stackoverflow/actions.h"
#include "apps/stackoverflow/exported_action.h"
#include "cli/demo_command.h"
#include "util/result.h"
#include "whisk/action_payload.h"

#ifndef WISP_VERSION
#define WISP_VERSION "dev"
#endif

extern char** environ;

namespace wisp::cli {
namespace {

namespace fs = std::filesystem;

// What this process runs from: its executable and the shared objects mapped
// into it. A bundle that carries all of them (the loader too) runs on any
// Linux of the same architecture, whatever C library the image has.
struct RuntimeFiles {
  std::string executable;
  std::string loader;  // empty when the executable is static
  std::vector<std::string> libraries;
};

// Each loaded object under the name the loader looked for (its soname, as
// in "/lib/x86_64-linux-gnu/libcurl.so.4"), which is the name it must have
// in the bundle's lib/ for the bundled loader to find it there.
int CollectLoadedObject(struct dl_phdr_info* info, size_t, void* data) {
  auto* files = static_cast<RuntimeFiles*>(data);
  const std::string path = info->dlpi_name ? info->dlpi_name : "";
  if (path.empty() || path.front() != '/') return 0;  // the executable itself, the vDSO
  if (fs::path(path).filename().string().starts_with("ld-")) {
    files->loader = path;
  } else {
    files->libraries.push_back(path);
  }
  return 0;
}

Result<RuntimeFiles> FindRuntimeFiles() {
  RuntimeFiles files;
  std::error_code ec;
  files.executable = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) return Status::IoError("cannot find this executable (/proc/self/exe): " + ec.message());
  dl_iterate_phdr(CollectLoadedObject, &files);
  return files;
}

// Copies the executable without its debug sections (a RelWithDebInfo build
// carries about 250 MB of them, five times OpenWhisk's 48 MB code limit),
// with binutils' strip when it is on the PATH; otherwise as it is.
bool CopyStripped(const std::string& from, const std::string& to) {
  std::vector<std::string> args = {"strip", "--strip-debug", "-o", to, from};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, "strip", nullptr, nullptr, argv.data(), environ) != 0) return false;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The `exec` of one action: runs `wisp actionloop NAME` through the bundled
// loader and libraries. Only shell built-ins: the image may have no PATH.
std::string ExecScript(const std::string& action, const RuntimeFiles& files) {
  std::string script = "#!/bin/sh\n# stackoverflow/" + action + ", exported by wisp " + WISP_VERSION +
                       " (docs/export.md): wisp and the libraries it was built with travel in this zip.\n"
                       "case \"$0\" in */*) here=\"${0%/*}\" ;; *) here=. ;; esac\n";
  if (files.loader.empty()) return script + "exec \"$here/bin/wisp\" actionloop " + action + "\n";
  return script + "exec \"$here/lib/" + fs::path(files.loader).filename().string() +
         "\" --library-path \"$here/lib\" \"$here/bin/wisp\" actionloop " + action + "\n";
}

// "${SO_API_URL:-https://...}" -> "${SO_API_URL}": wskdeploy knows no
// defaults; an empty parameter falls back to the action's own default.
std::string WithoutDefault(const std::string& value) {
  static const std::regex kDefaulted(R"(\$\{([A-Za-z_][A-Za-z0-9_]*):-[^}]*\})");
  return std::regex_replace(value, kDefaulted, "$${$1}");
}

std::string Trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// The sequences' components without the shipped manifest's binding prefix:
// "so/collector, so/invoker" -> "collector, invoker".
std::vector<std::string> SequenceComponents(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    item = Trim(item);
    if (const size_t slash = item.rfind('/'); slash != std::string::npos) item = item.substr(slash + 1);
    out.push_back(item);
  }
  return out;
}

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

// A YAML value as JSON, for the README's wsk commands: maps, sequences, and
// scalars as strings (the trigger payloads hold only strings).
Json YamlToJson(const YAML::Node& node) {
  if (node.IsMap()) {
    Json out = Json::object();
    for (const auto& item : node) out[item.first.as<std::string>()] = YamlToJson(item.second);
    return out;
  }
  if (node.IsSequence()) {
    Json out = Json::array();
    for (const auto& item : node) out.push_back(YamlToJson(item));
    return out;
  }
  return node.IsScalar() ? Json(node.as<std::string>()) : Json();
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct ExportedPipeline {
  YAML::Node package;  // packages.stackoverflow of the exported manifest
  std::string manifest;
};

// The exported manifest, from the shipped one: the binding's inputs become
// the package's, the actions come from the zips, the sequences name them in
// the package, and every trigger gets `cron`.
Result<ExportedPipeline> ExportManifest(const std::string& cron) {
  YAML::Node shipped;
  try {
    shipped = YAML::Load(kStackoverflowManifest);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("the shipped manifest does not parse: ") + e.what());
  }
  const YAML::Node source = shipped["packages"]["stackoverflow"];
  const YAML::Node binding_inputs = source["dependencies"]["so"]["inputs"];
  if (!source || !binding_inputs) return Status::Internal("the shipped manifest has no binding `so` to export");

  ExportedPipeline out;
  YAML::Node& package = out.package;
  for (const auto& input : binding_inputs) {
    package["inputs"][input.first.as<std::string>()] = WithoutDefault(input.second.as<std::string>());
  }
  for (const std::string& name : stackoverflow::ActionNames()) {
    YAML::Node action;
    action["function"] = "actions/" + name + ".zip";
    action["native"] = true;
    // The invoker starts a qhandler activation per question through the
    // REST API, with the key OpenWhisk gives only to actions that ask.
    if (name == "invoker") action["annotations"]["provide-api-key"] = true;
    // The collector reads up to three pages, the invoker waits for every
    // handler: both get OpenWhisk's longest default limit.
    action["limits"]["timeout"] = name == "collector" || name == "invoker" ? 300000 : 60000;
    action["limits"]["memorySize"] = 256;
    package["actions"][name] = action;
  }
  for (const auto& sequence : source["sequences"]) {
    package["sequences"][sequence.first.as<std::string>()]["actions"] =
        Join(SequenceComponents(sequence.second["actions"].as<std::string>()), ", ");
  }
  for (const auto& trigger : source["triggers"]) {
    YAML::Node copy = YAML::Clone(trigger.second);
    copy["inputs"]["cron"] = cron;
    package["triggers"][trigger.first.as<std::string>()] = copy;
  }
  package["rules"] = YAML::Clone(source["rules"]);

  YAML::Node root;
  root["project"]["name"] = shipped["project"]["name"].as<std::string>("stackoverflow-triage");
  root["packages"]["stackoverflow"] = package;
  YAML::Emitter yaml;
  yaml << root;
  out.manifest = std::string("# The Stack Overflow triage pipeline for Apache OpenWhisk, exported by wisp ") + WISP_VERSION +
                 " (`wisp export openwhisk`).\n"
                 "# Deploy with `wskdeploy -m manifest.yaml` (README.md). wskdeploy fills ${NAME} from the\n"
                 "# environment; an unset or empty parameter takes the action's default (docs/pipeline.md),\n"
                 "# except SO_STORE_URL: OpenWhisk has no store of its own, so it must name the CouchDB.\n" +
                 yaml.c_str() + "\n";
  return out;
}

std::string Readme(const ExportedPipeline& pipeline, const std::string& cron) {
  const YAML::Node& package = pipeline.package;
  std::string parameters;
  for (const auto& input : package["inputs"]) {
    std::string value = input.second.as<std::string>();
    if (value.starts_with("${") && value.ends_with("}")) value = "\"$" + value.substr(2, value.size() - 3) + "\"";
    else value = ShellQuote(value);
    parameters += " \\\n    -p " + input.first.as<std::string>() + " " + value;
  }
  std::string commands = "wsk package update stackoverflow" + parameters + "\n";
  for (const auto& action : package["actions"]) {
    const std::string name = action.first.as<std::string>();
    commands += "wsk action update stackoverflow/" + name + " actions/" + name + ".zip --native -t " +
                action.second["limits"]["timeout"].as<std::string>() + " -m " +
                action.second["limits"]["memorySize"].as<std::string>() +
                (action.second["annotations"] ? " -a provide-api-key true" : "") + "\n";
  }
  for (const auto& sequence : package["sequences"]) {
    std::vector<std::string> components = SequenceComponents(sequence.second["actions"].as<std::string>());
    for (std::string& component : components) component = "stackoverflow/" + component;
    commands += "wsk action update stackoverflow/" + sequence.first.as<std::string>() + " --sequence " +
                Join(components, ",") + "\n";
  }
  for (const auto& trigger : package["triggers"]) {
    commands += "wsk trigger create " + trigger.first.as<std::string>() + " --feed " +
                trigger.second["feed"].as<std::string>() + " -p cron " + ShellQuote(cron) + " -p trigger_payload " +
                ShellQuote(json::Dump(YamlToJson(trigger.second["inputs"]["trigger_payload"]))) + "\n";
  }
  for (const auto& rule : package["rules"]) {
    commands += "wsk rule create " + rule.first.as<std::string>() + " " + rule.second["trigger"].as<std::string>() +
                " stackoverflow/" + rule.second["action"].as<std::string>() + "\n";
  }
  return std::string("# The Stack Overflow triage pipeline, exported for Apache OpenWhisk\n\n") +
         "Written by `wisp export openwhisk` (wisp " + WISP_VERSION +
         "). wisp's docs/export.md and docs/scaling.md say more.\n\n"
         "| file | what |\n| --- | --- |\n"
         "| `manifest.yaml` | the package `stackoverflow` (its parameters, four native actions, the sequences "
         "`socron` and `qhandler`), the alarm triggers and their rules, in wskdeploy's format |\n"
         "| `actions/NAME.zip` | one action each: `exec` runs `bin/wisp actionloop NAME` through the bundled "
         "loader and libraries (`lib/`), so it needs nothing from the image; OpenWhisk runs it on "
         "`openwhisk/dockerskeleton` (`--native`) |\n\n"
         "## Before you deploy\n\n"
         "- A CouchDB (3.x, Cloudant, or a wisp) that OpenWhisk's actions can reach, with the `questions` "
         "database (the storer creates it when its user may). OpenWhisk has no store of its own.\n"
         "- The alarms package (`/whisk.system/alarms`), installed with OpenWhisk's catalog.\n"
         "- The parameters, in the environment:\n\n"
         "| variable | parameter | empty means |\n| --- | --- | --- |\n"
         "| `SO_STORE_URL` | `store_url` | **required**: the CouchDB's URL |\n"
         "| `SO_STORE_USERNAME`, `SO_STORE_PASSWORD` | `store_username`, `store_password` | no credentials |\n"
         "| `SO_API_URL` | `api_url` | https://api.stackexchange.com/2.3 |\n"
         "| `SO_API_KEY` | `apikey` | no key (a smaller daily quota) |\n"
         "| `SO_SITE` | `site` | stackoverflow |\n"
         "| `SLACK_URL` | `slackURL` | new questions are stored, not posted |\n"
         "| `SLACK_BOT_URL` | `botURL` | no bot message |\n\n"
         "The triggers fire on `" + cron + "` (`wisp export openwhisk --cron` changes it).\n\n"
         "## Deploy with wskdeploy\n\n```sh\nexport SO_STORE_URL=https://couch.example:6984 "
         "SO_STORE_USERNAME=pipeline SO_STORE_PASSWORD=...\nexport SLACK_URL=https://hooks.slack.com/services/...\n"
         "wskdeploy -m manifest.yaml            # wskdeploy undeploy -m manifest.yaml removes it\n```\n\n"
         "## Or with wsk\n\n```sh\n" + commands + "```\n\n"
         "## Check it\n\n```sh\nwsk action invoke stackoverflow/socron -p tags '[\"openwhisk\"]' -p search_type or "
         "--blocking\nwsk activation list\n```\n\n"
         "The dashboard stays on a wisp: `wisp serve --store-url \"$SO_STORE_URL\" ...` serves it against the same "
         "CouchDB (docs/scaling.md).\n";
}

Status WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IoError("cannot write " + path.string());
  return Status::Ok();
}

Status ExportOpenWhisk(const ExportOptions& options) {
  const fs::path dir = options.out_dir;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec) && !options.force) {
    return Status::PreconditionFailed(dir.string() + " is not empty (--force writes into it)");
  }
  fs::create_directories(dir / "actions", ec);
  if (ec) return Status::IoError("cannot create " + (dir / "actions").string() + ": " + ec.message());

  WISP_ASSIGN_OR_RETURN(ExportedPipeline pipeline, ExportManifest(options.cron));
  WISP_ASSIGN_OR_RETURN(RuntimeFiles files, FindRuntimeFiles());

  const fs::path binary = dir / ".wisp-binary";
  if (!CopyStripped(files.executable, binary.string())) {
    std::fprintf(stderr, "wisp export: `strip` is not available; the executable keeps its debug sections\n");
    fs::copy_file(files.executable, binary, fs::copy_options::overwrite_existing, ec);
    if (ec) return Status::IoError("cannot copy " + files.executable + ": " + ec.message());
  }
  // The zips differ only in `exec`: the first is compressed, the others
  // are copies with their own `exec`.
  const std::vector<std::string>& actions = stackoverflow::ActionNames();
  const fs::path first = dir / "actions" / (actions.front() + ".zip");
  std::vector<whisk::ZipEntry> entries;
  const auto add = [&entries](std::string name, std::string source_path, std::string bytes, mode_t mode) {
    entries.push_back(whisk::ZipEntry{std::move(name), std::move(source_path), std::move(bytes), mode});
  };
  add("exec", "", ExecScript(actions.front(), files), 0755);
  add("bin/wisp", binary.string(), "", 0755);
  if (!files.loader.empty()) add("lib/" + fs::path(files.loader).filename().string(), files.loader, "", 0755);
  for (const std::string& library : files.libraries) {
    add("lib/" + fs::path(library).filename().string(), library, "", 0644);
  }
  WISP_RETURN_IF_ERROR(whisk::WriteActionZip(first.string(), entries));
  for (const std::string& action : actions) {
    const fs::path zip = dir / "actions" / (action + ".zip");
    if (zip != first) {
      fs::copy_file(first, zip, fs::copy_options::overwrite_existing, ec);
      if (ec) return Status::IoError("cannot write " + zip.string() + ": " + ec.message());
      WISP_RETURN_IF_ERROR(whisk::ReplaceZipEntries(zip.string(), {{"exec", "", ExecScript(action, files), 0755}}));
    }
    std::printf("%s (%.1f MB)\n", zip.string().c_str(), static_cast<double>(fs::file_size(zip, ec)) / 1e6);
  }
  fs::remove(binary, ec);
  WISP_RETURN_IF_ERROR(WriteFile(dir / "manifest.yaml", pipeline.manifest));
  WISP_RETURN_IF_ERROR(WriteFile(dir / "README.md", Readme(pipeline, options.cron)));
  std::printf("%s\n%s\n", (dir / "manifest.yaml").string().c_str(), (dir / "README.md").string().c_str());
  return Status::Ok();
}

}  // namespace

void AddExportCommands(CLI::App& app, ExportOptions& options) {
  CLI::App* exporter = app.add_subcommand("export", "Write the pipeline for another platform");
  exporter->require_subcommand(1);
  CLI::App* openwhisk = exporter->add_subcommand(
      "openwhisk", "The Stack Overflow pipeline for Apache OpenWhisk: manifest.yaml, the actions as native zips, README.md");
  openwhisk->add_option("-o,--output", options.out_dir, "The directory to write")->required();
  openwhisk->add_option("--cron", options.cron, "The alarm triggers' schedule")->capture_default_str();
  openwhisk->add_flag("--force", options.force, "Write into a directory that is not empty");

  // What an exported action's `exec` runs; not for people, so not listed.
  CLI::App* actionloop = app.add_subcommand("actionloop", "Serve a pipeline action over the actionloop protocol");
  actionloop->group("");
  actionloop->add_option("action", options.actionloop_action, "collector, invoker, storer or notifier")->required();
}

int RunExportIfParsed(const CLI::App& app, const ExportOptions& options) {
  if (app.get_subcommand("actionloop")->parsed()) return stackoverflow::ServeExportedAction(options.actionloop_action);
  if (!app.get_subcommand("export")->parsed()) return -1;
  if (Status s = ExportOpenWhisk(options); !s.ok()) {
    std::fprintf(stderr, "wisp export openwhisk: %s\n", s.message().c_str());
    return s.code() == StatusCode::kPreconditionFailed ? 2 : 1;
  }
  return 0;
}

}  // namespace wisp::cli
