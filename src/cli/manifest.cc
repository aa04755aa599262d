#include "cli/manifest.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/wsk_commands.h"

namespace wisp::cli {

namespace {

// Keys each section accepts. wskdeploy's descriptive keys (version, license,
// description, outputs) are accepted and have no effect.
const std::set<std::string> kTopKeys = {"project", "packages", "package"};
const std::set<std::string> kProjectKeys = {"name", "version", "license", "description", "packages"};
const std::set<std::string> kPackageKeys = {"name",      "version",  "license",     "description",
                                            "public",    "inputs",   "annotations", "actions",
                                            "sequences", "triggers", "rules",       "dependencies"};
const std::set<std::string> kActionKeys = {"function",   "code",    "runtime",     "kind",    "main",
                                           "inputs",     "outputs", "annotations", "limits",  "web",
                                           "web-export", "native",  "version",     "license", "description"};
const std::set<std::string> kLimitKeys = {"timeout", "memorySize", "logSize"};
const std::set<std::string> kSequenceKeys = {"actions", "inputs", "annotations", "web", "web-export", "description"};
const std::set<std::string> kTriggerKeys = {"feed",    "source",  "inputs",     "annotations",
                                            "version", "license", "description"};
const std::set<std::string> kRuleKeys = {"trigger", "action", "version", "license", "description"};
const std::set<std::string> kDependencyKeys = {"location", "inputs", "annotations", "version"};
// A mapping input with only these keys is wskdeploy's typed parameter.
const std::set<std::string> kTypedInputKeys = {"type", "description", "default", "value", "required"};

// Keys of wskdeploy that wisp refuses by name, so the error says why.
const std::set<std::string> kUnsupported = {"apis", "api", "docker", "credential", "apiHost", "namespace"};

bool IsNameChar(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// Builds the entities while walking the YAML tree; the first error wins.
class Parser {
 public:
  Parser(std::string base_dir, std::string origin, const EnvLookup& env)
      : base_dir_(std::move(base_dir)), origin_(std::move(origin)), env_(env) {}

  Status Parse(const YAML::Node& root, Manifest& out) {
    if (root.IsNull()) return Status::InvalidArgument(origin_ + ": the manifest is empty");
    if (!root.IsMap()) return Error(root, "the manifest must be a mapping with `packages` or `project`");
    WISP_RETURN_IF_ERROR(CheckKeys(root, kTopKeys, "the manifest"));
    if (const YAML::Node project = root["project"]) {
      if (!project.IsMap()) return Error(project, "`project` must be a mapping");
      WISP_RETURN_IF_ERROR(CheckKeys(project, kProjectKeys, "project"));
      if (project["name"]) out.project = Scalar(project["name"]);
      if (project["packages"]) WISP_RETURN_IF_ERROR(Packages(project["packages"], out));
    }
    if (root["packages"]) WISP_RETURN_IF_ERROR(Packages(root["packages"], out));
    if (const YAML::Node legacy = root["package"]) {
      if (!legacy.IsMap() || !legacy["name"]) return Error(legacy, "`package` must be a mapping with a `name`");
      WISP_RETURN_IF_ERROR(Package(Scalar(legacy["name"]), legacy, out));
    }
    return Status::Ok();
  }

 private:
  Status Error(const YAML::Node& at, const std::string& message) const {
    return Status::InvalidArgument(origin_ + ":" + std::to_string(at.Mark().line + 1) + ": " + message);
  }

  Status CheckKeys(const YAML::Node& map, const std::set<std::string>& known, const std::string& where) const {
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (known.count(key)) continue;
      if (kUnsupported.count(key)) {
        return Error(it->first, "`" + key + "` in " + where + " is not supported by wisp deploy (docs/cli.md)");
      }
      return Error(it->first, "unknown key `" + key + "` in " + where);
    }
    return Status::Ok();
  }

  // Keys whose value must be one value (a name, a path, a flag), not a list or mapping.
  Status CheckScalars(const YAML::Node& map, std::initializer_list<const char*> keys, const std::string& where) const {
    for (const char* key : keys) {
      const YAML::Node value = map[key];
      if (value && !value.IsScalar())
        return Error(value, "`" + std::string(key) + "` in " + where + " must be one value");
    }
    return Status::Ok();
  }

  std::string Scalar(const YAML::Node& node) const { return SubstituteEnvironment(node.Scalar(), env_); }

  // A YAML value as JSON, with the YAML 1.2 core schema: quoted scalars and
  // values holding a variable are strings; plain ones may be null, booleans
  // or numbers.
  Json Value(const YAML::Node& node) const {
    if (node.IsNull()) return nullptr;
    if (node.IsSequence()) {
      Json out = Json::array();
      for (const YAML::Node& item : node) out.push_back(Value(item));
      return out;
    }
    if (node.IsMap()) {
      Json out = Json::object();
      for (auto it = node.begin(); it != node.end(); ++it) out[it->first.Scalar()] = Value(it->second);
      return out;
    }
    const std::string raw = node.Scalar();
    const std::string text = SubstituteEnvironment(raw, env_);
    if (node.Tag() == "!" || text != raw) return text;
    if (text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    if (!text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-' || text[0] == '+')) {
      char* end = nullptr;
      const long long integer = std::strtoll(text.c_str(), &end, 10);
      if (*end == '\0') return static_cast<int64_t>(integer);
      const double real = std::strtod(text.c_str(), &end);
      if (*end == '\0') return real;
    }
    return text;
  }

  // `inputs` as [{key, value}]: a literal, or {type, default, value}.
  Result<Json> KeyValues(const YAML::Node& node, const std::string& where) const {
    Json out = Json::array();
    if (!node) return out;
    if (!node.IsMap()) return Error(node, where + " must be a mapping");
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node v = it->second;  // a copy: `it->` yields a temporary, so no reference
      Json value;
      bool typed = v.IsMap() && v.size() > 0;
      if (typed) {
        for (auto kv = v.begin(); kv != v.end(); ++kv) typed = typed && kTypedInputKeys.count(kv->first.Scalar());
        typed = typed && (v["type"] || v["default"] || v["value"]);
      }
      if (typed) {
        value = v["value"] ? Value(v["value"]) : Json();
        if ((value.is_null() || value == "") && v["default"]) value = Value(v["default"]);
        if (value.is_null()) value = ZeroOf(v["type"] ? v["type"].Scalar() : "string");
      } else {
        value = Value(v);
      }
      out.push_back({{"key", it->first.Scalar()}, {"value", value}});
    }
    return out;
  }

  // wskdeploy's value of a typed input that has neither value nor default.
  static Json ZeroOf(const std::string& type) {
    if (type == "integer") return 0;
    if (type == "float") return 0.0;
    if (type == "boolean") return false;
    if (type == "json") return Json::object();
    return "";
  }

  // A reference to an action from inside package `pkg`: "/ns/p/a" as is,
  // "p/a" in the caller's namespace, "a" in `pkg` itself.
  static std::string ActionRef(const std::string& ref, const std::string& pkg) {
    if (!ref.empty() && ref[0] == '/') return ref;
    if (ref.find('/') != std::string::npos || pkg.empty()) return "/_/" + ref;
    return "/_/" + pkg + "/" + ref;
  }

  static std::string Qualified(const std::string& ref) { return !ref.empty() && ref[0] == '/' ? ref : "/_/" + ref; }

  Status Packages(const YAML::Node& packages, Manifest& out) {
    if (!packages.IsMap()) return Error(packages, "`packages` must be a mapping of package names");
    for (auto it = packages.begin(); it != packages.end(); ++it) {
      WISP_RETURN_IF_ERROR(Package(it->first.Scalar(), it->second, out));
    }
    return Status::Ok();
  }

  // Web flags as wsk's --web sets them.
  Status WebAnnotations(const YAML::Node& node, const std::string& where, Json& annotations) const {
    const YAML::Node web = node["web"] ? node["web"] : node["web-export"];
    if (!web) return Status::Ok();
    const std::string flag = Scalar(web);
    const bool on = flag == "true" || flag == "yes" || flag == "raw";
    if (!on && flag != "false" && flag != "no") {
      return Error(web, "`web` in " + where + " must be true, false, yes, no or raw");
    }
    annotations.push_back({{"key", "web-export"}, {"value", on}});
    annotations.push_back({{"key", "raw-http"}, {"value", flag == "raw"}});
    annotations.push_back({{"key", "final"}, {"value", on}});
    return Status::Ok();
  }

  Status Package(const std::string& name, const YAML::Node& node, Manifest& out) {
    const std::string where = "package `" + name + "`";
    if (node.IsNull()) return Status::Ok();
    if (!node.IsMap()) return Error(node, where + " must be a mapping");
    WISP_RETURN_IF_ERROR(CheckKeys(node, kPackageKeys, where));
    WISP_RETURN_IF_ERROR(CheckScalars(node, {"public"}, where));
    // wskdeploy's package `default` holds entities outside any package.
    const std::string pkg = name == "default" ? "" : name;
    if (!pkg.empty()) {
      ManifestEntity package{pkg, Json::object(), "", Json(), node.Mark().line + 1};
      WISP_ASSIGN_OR_RETURN(package.body["parameters"], KeyValues(node["inputs"], "inputs of " + where));
      WISP_ASSIGN_OR_RETURN(package.body["annotations"], KeyValues(node["annotations"], "annotations of " + where));
      if (node["public"]) package.body["publish"] = Scalar(node["public"]) == "true";
      out.packages.push_back(std::move(package));
    }
    if (const YAML::Node deps = node["dependencies"]) {
      if (!deps.IsMap()) return Error(deps, "`dependencies` of " + where + " must be a mapping");
      for (auto it = deps.begin(); it != deps.end(); ++it) WISP_RETURN_IF_ERROR(Dependency(it, out));
    }
    if (const YAML::Node actions = node["actions"]) {
      if (!actions.IsMap()) return Error(actions, "`actions` of " + where + " must be a mapping");
      for (auto it = actions.begin(); it != actions.end(); ++it) WISP_RETURN_IF_ERROR(Action(pkg, it, out));
    }
    if (const YAML::Node sequences = node["sequences"]) {
      if (!sequences.IsMap()) return Error(sequences, "`sequences` of " + where + " must be a mapping");
      for (auto it = sequences.begin(); it != sequences.end(); ++it) WISP_RETURN_IF_ERROR(Sequence(pkg, it, out));
    }
    if (const YAML::Node triggers = node["triggers"]) {
      if (!triggers.IsMap()) return Error(triggers, "`triggers` of " + where + " must be a mapping");
      for (auto it = triggers.begin(); it != triggers.end(); ++it) WISP_RETURN_IF_ERROR(Trigger(it, out));
    }
    if (const YAML::Node rules = node["rules"]) {
      if (!rules.IsMap()) return Error(rules, "`rules` of " + where + " must be a mapping");
      for (auto it = rules.begin(); it != rules.end(); ++it) WISP_RETURN_IF_ERROR(Rule(pkg, it, out));
    }
    return Status::Ok();
  }

  Status Dependency(const YAML::const_iterator& it, Manifest& out) {
    const std::string name = it->first.Scalar();
    const YAML::Node node = it->second;
    const std::string where = "dependency `" + name + "`";
    if (!node.IsMap()) return Error(node, where + " must be a mapping with a `location`");
    WISP_RETURN_IF_ERROR(CheckKeys(node, kDependencyKeys, where));
    WISP_RETURN_IF_ERROR(CheckScalars(node, {"location"}, where));
    const std::string location = node["location"] ? Scalar(node["location"]) : "";
    // Only bindings: wisp does not fetch packages from git repositories.
    const size_t slash = location.find('/', 1);
    if (location.size() < 4 || location[0] != '/' || slash == std::string::npos ||
        location.find('/', slash + 1) != std::string::npos) {
      return Error(node["location"] ? node["location"] : node,
                   where + ": `location` must name a package as /NAMESPACE/PACKAGE (wisp deploys bindings only)");
    }
    ManifestEntity binding{name, Json::object(), "", Json(), node.Mark().line + 1};
    binding.body["binding"] = {{"namespace", location.substr(1, slash - 1)}, {"name", location.substr(slash + 1)}};
    WISP_ASSIGN_OR_RETURN(binding.body["parameters"], KeyValues(node["inputs"], "inputs of " + where));
    WISP_ASSIGN_OR_RETURN(binding.body["annotations"], KeyValues(node["annotations"], "annotations of " + where));
    out.bindings.push_back(std::move(binding));
    return Status::Ok();
  }

  Status Action(const std::string& pkg, const YAML::const_iterator& it, Manifest& out) {
    const std::string name = it->first.Scalar();
    const YAML::Node node = it->second;
    const std::string where = "action `" + name + "`";
    if (!node.IsMap()) return Error(node, where + " must be a mapping");
    WISP_RETURN_IF_ERROR(CheckKeys(node, kActionKeys, where));
    WISP_RETURN_IF_ERROR(
        CheckScalars(node, {"function", "code", "runtime", "kind", "main", "native", "web", "web-export"}, where));
    ManifestEntity action{pkg.empty() ? name : pkg + "/" + name, Json::object(), "", Json(), node.Mark().line + 1};
    std::string kind = node["runtime"] ? Scalar(node["runtime"]) : node["kind"] ? Scalar(node["kind"]) : "";
    if (node["native"] && Scalar(node["native"]) == "true") kind = "native";
    const std::string main = node["main"] ? Scalar(node["main"]) : "";
    if (node["code"]) {
      if (kind.empty()) return Error(node, where + ": inline `code` needs a `runtime`");
      action.body["exec"] = {{"kind", kind}, {"code", Scalar(node["code"])}};
      if (!main.empty()) action.body["exec"]["main"] = main;
    } else if (node["function"]) {
      std::filesystem::path file = Scalar(node["function"]);
      if (file.is_relative()) file = std::filesystem::path(base_dir_) / file;
      const bool builtin = kind == "builtin" || kind == "builtin:default";
      if (!builtin && !std::filesystem::is_regular_file(file)) {
        return Error(node["function"], where + ": file '" + file.string() + "' does not exist or is not a file");
      }
      Result<Json> exec = ExecFromArtifact(
          builtin && !std::filesystem::exists(file) ? Scalar(node["function"]) : file.string(), kind, main);
      if (!exec.ok()) return Error(node["function"], where + ": " + exec.status().message());
      action.body["exec"] = *exec;
    } else {
      return Error(node, where + " needs a `function` (a file) or inline `code`");
    }
    WISP_ASSIGN_OR_RETURN(action.body["parameters"], KeyValues(node["inputs"], "inputs of " + where));
    WISP_ASSIGN_OR_RETURN(Json annotations, KeyValues(node["annotations"], "annotations of " + where));
    WISP_RETURN_IF_ERROR(WebAnnotations(node, where, annotations));
    action.body["annotations"] = annotations;
    if (const YAML::Node limits = node["limits"]) {
      if (!limits.IsMap()) return Error(limits, "`limits` of " + where + " must be a mapping");
      WISP_RETURN_IF_ERROR(CheckKeys(limits, kLimitKeys, "limits of " + where));
      Json l = Json::object();
      static const std::pair<const char*, const char*> kWire[] = {
          {"timeout", "timeout"}, {"memorySize", "memory"}, {"logSize", "logs"}};
      for (const auto& [yaml_key, wire_key] : kWire) {
        if (!limits[yaml_key]) continue;
        Json v = Value(limits[yaml_key]);
        if (v.is_string()) {
          Result<Json> number = json::Parse(v.get<std::string>());
          if (number.ok()) v = *number;
        }
        if (!v.is_number_integer())
          return Error(limits[yaml_key], "`" + std::string(yaml_key) + "` must be an integer");
        l[wire_key] = v;
      }
      action.body["limits"] = l;
    }
    out.actions.push_back(std::move(action));
    return Status::Ok();
  }

  Status Sequence(const std::string& pkg, const YAML::const_iterator& it, Manifest& out) {
    const std::string name = it->first.Scalar();
    const YAML::Node node = it->second;
    const std::string where = "sequence `" + name + "`";
    if (!node.IsMap() || !node["actions"]) return Error(node, where + " needs `actions: a, b, ...`");
    WISP_RETURN_IF_ERROR(CheckKeys(node, kSequenceKeys, where));
    Json components = Json::array();
    auto add = [&](std::string part) {
      while (!part.empty() && std::isspace(static_cast<unsigned char>(part.front()))) part.erase(part.begin());
      while (!part.empty() && std::isspace(static_cast<unsigned char>(part.back()))) part.pop_back();
      if (!part.empty()) components.push_back(ActionRef(part, pkg));
    };
    const YAML::Node actions = node["actions"];
    if (actions.IsSequence()) {
      for (const YAML::Node& a : actions) add(Scalar(a));
    } else {
      std::stringstream list(Scalar(actions));
      for (std::string part; std::getline(list, part, ',');) add(part);
    }
    if (components.empty()) return Error(actions, where + ": `actions` names no action");
    ManifestEntity sequence{pkg.empty() ? name : pkg + "/" + name, Json::object(), "", Json(), node.Mark().line + 1};
    sequence.body["exec"] = {{"kind", "sequence"}, {"components", components}};
    WISP_ASSIGN_OR_RETURN(sequence.body["parameters"], KeyValues(node["inputs"], "inputs of " + where));
    WISP_ASSIGN_OR_RETURN(Json annotations, KeyValues(node["annotations"], "annotations of " + where));
    WISP_RETURN_IF_ERROR(WebAnnotations(node, where, annotations));
    sequence.body["annotations"] = annotations;
    out.sequences.push_back(std::move(sequence));
    return Status::Ok();
  }

  // Triggers and rules belong to the namespace, whichever package lists them.
  Status Trigger(const YAML::const_iterator& it, Manifest& out) {
    const std::string name = it->first.Scalar();
    const YAML::Node node = it->second;
    const std::string where = "trigger `" + name + "`";
    ManifestEntity trigger{name, Json::object(), "", Json(), node.Mark().line + 1};
    if (!node.IsNull()) {
      if (!node.IsMap()) return Error(node, where + " must be a mapping");
      WISP_RETURN_IF_ERROR(CheckKeys(node, kTriggerKeys, where));
      WISP_RETURN_IF_ERROR(CheckScalars(node, {"feed", "source"}, where));
    }
    const YAML::Node feed = node.IsMap() ? (node["feed"] ? node["feed"] : node["source"]) : YAML::Node();
    WISP_ASSIGN_OR_RETURN(Json inputs, KeyValues(node.IsMap() ? node["inputs"] : YAML::Node(), "inputs of " + where));
    WISP_ASSIGN_OR_RETURN(Json annotations,
                          KeyValues(node.IsMap() ? node["annotations"] : YAML::Node(), "annotations of " + where));
    if (feed) {
      // As `wsk trigger create --feed`: the inputs go to the feed action.
      trigger.feed = Qualified(Scalar(feed));
      trigger.feed_inputs = Json::object();
      for (const Json& kv : inputs) trigger.feed_inputs[kv["key"].get<std::string>()] = kv["value"];
      annotations.push_back({{"key", "feed"}, {"value", trigger.feed}});
      trigger.body["parameters"] = Json::array();
    } else {
      trigger.body["parameters"] = inputs;
    }
    trigger.body["annotations"] = annotations;
    for (const ManifestEntity& other : out.triggers) {
      if (other.name == name) return Error(it->first, where + " is declared twice");
    }
    out.triggers.push_back(std::move(trigger));
    return Status::Ok();
  }

  Status Rule(const std::string& pkg, const YAML::const_iterator& it, Manifest& out) {
    const std::string name = it->first.Scalar();
    const YAML::Node node = it->second;
    const std::string where = "rule `" + name + "`";
    if (!node.IsMap() || !node["trigger"] || !node["action"]) {
      return Error(node, where + " needs a `trigger` and an `action`");
    }
    WISP_RETURN_IF_ERROR(CheckKeys(node, kRuleKeys, where));
    WISP_RETURN_IF_ERROR(CheckScalars(node, {"trigger", "action"}, where));
    ManifestEntity rule{name, Json::object(), "", Json(), node.Mark().line + 1};
    rule.body = {{"trigger", Qualified(Scalar(node["trigger"]))}, {"action", ActionRef(Scalar(node["action"]), pkg)}};
    for (const ManifestEntity& other : out.rules) {
      if (other.name == name) return Error(it->first, where + " is declared twice");
    }
    out.rules.push_back(std::move(rule));
    return Status::Ok();
  }

  std::string base_dir_;
  std::string origin_;
  const EnvLookup& env_;
};

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::string SubstituteEnvironment(const std::string& text, const EnvLookup& env) {
  if (text.find('$') == std::string::npos) return text;
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] == '{') {
      const size_t close = text.find('}', i + 2);
      if (close == std::string::npos) {
        out += text[i];
        continue;
      }
      const std::string inner = text.substr(i + 2, close - i - 2);
      const size_t fallback = inner.find(":-");
      const std::string name = inner.substr(0, fallback);
      std::optional<std::string> value = env(name);
      if ((!value || value->empty()) && fallback != std::string::npos) value = inner.substr(fallback + 2);
      out += value.value_or("");
      i = close;
      continue;
    }
    if (!IsNameChar(text[i + 1], true)) {
      out += text[i];
      continue;
    }
    size_t end = i + 1;
    while (end < text.size() && IsNameChar(text[end], false)) ++end;
    out += env(text.substr(i + 1, end - i - 1)).value_or("");
    i = end - 1;
  }
  return out;
}

Result<Manifest> ParseManifest(const std::string& text, const std::string& base_dir, const std::string& origin,
                               const EnvLookup& env) {
  // yaml-cpp reports errors by exception; none leaves this function.
  try {
    const YAML::Node root = YAML::Load(text);
    Manifest manifest;
    Parser parser(base_dir, origin, env);
    WISP_RETURN_IF_ERROR(parser.Parse(root, manifest));
    return manifest;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(origin + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  } catch (const std::exception& e) {  // e.g. a file system error on a `function` path
    return Status::InvalidArgument(origin + ": " + e.what());
  }
}

Result<Manifest> LoadManifest(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path)) {
    return Status::NotFound("manifest '" + path + "' is not a valid file or it does not exist");
  }
  std::stringstream text;
  text << in.rdbuf();
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return ParseManifest(text.str(), dir.empty() ? "." : dir, path, env);
}

}  // namespace wisp::cli
