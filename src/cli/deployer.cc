#include "cli/deployer.h"

#include <cinttypes>
#include <map>
#include <set>

namespace wisp::cli {

namespace {

// The trigger annotation that remembers which inputs its feed was created
// with, as a digest: the feed keeps them, not the trigger, so without it a
// second deploy could not tell whether the feed must be re-created.
constexpr char kFeedDigestAnnotation[] = "deploy-feed-digest";

constexpr int kNetworkExit = 3;

// FNV-1a (64 bit) of the canonical JSON: a change detector, not a secret.
std::string Digest(const Json& value) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : json::Dump(value)) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, hash);
  return hex;
}

// [{key, value}] as an object, without the keys in `ignore`.
Json AsObject(const Json& key_values, const std::set<std::string>& ignore = {}) {
  Json out = Json::object();
  if (!key_values.is_array()) return out;
  for (const Json& kv : key_values) {
    if (!kv.is_object()) continue;
    const std::string key = json::GetString(kv, "key");
    if (!ignore.count(key)) out[key] = kv.value("value", Json());
  }
  return out;
}

// Every desired annotation is on the entity with the same value. Servers add
// their own (exec, binding, provide-api-key), so extra ones do not count.
bool HasAnnotations(const Json& existing, const Json& desired) {
  const Json have = AsObject(existing.value("annotations", Json::array()));
  const Json want = AsObject(desired);  // named: items() would dangle on a temporary
  for (const auto& [key, value] : want.items()) {
    if (!have.contains(key) || have[key] != value) return false;
  }
  return true;
}

std::string EntityRef(const Json& path_and_name) {
  return "/" + json::GetString(path_and_name, "path") + "/" + json::GetString(path_and_name, "name");
}

}  // namespace

Deployer::Deployer(WskClient& client, FILE* out, FILE* err) : client_(client), out_(out), err_(err) {}

void Deployer::Report(const char* verb, const std::string& type, const std::string& name) {
  std::fprintf(out_, "%s %s %s\n", verb, type.c_str(), name.c_str());
  std::fflush(out_);
}

void Deployer::Fail(const std::string& what, const Result<WskReply>& r) {
  if (!r.ok()) {
    std::fprintf(err_, "error: Unable to %s: %s\n", what.c_str(), r.status().message().c_str());
    exit_code_ = r.status().IsInvalidArgument() ? 1 : kNetworkExit;
    return;
  }
  WskError e = ErrorFromReply(*r);
  std::fprintf(err_, "error: Unable to %s: %s\n", what.c_str(), e.message.c_str());
  exit_code_ = e.exit_code;
}

std::optional<WskReply> Deployer::Call(const std::string& what, std::string_view method, const std::string& path,
                                       const Json* body) {
  Result<WskReply> r = client_.Send(method, path, body);
  if (r.ok() && r->status >= 200 && r->status < 300) return std::move(*r);
  Fail(what, r);
  return std::nullopt;
}

std::optional<Json> Deployer::Get(const std::string& collection, const std::string& name, const std::string& query) {
  const QualifiedName q = ParseQualifiedName(name, client_.config().namespace_);
  Result<WskReply> r = client_.Send("GET", q.Path(collection) + query);
  if (r.ok() && r->status == 404) return Json();
  if (r.ok() && r->status == 200 && r->json.is_object()) return std::move(r->json);
  const std::string what = "get " + name;
  if (r.ok() && r->status == 200) {
    std::fprintf(err_, "error: Unable to %s: the API host answered with something that is not an entity\n",
                 what.c_str());
    exit_code_ = 1;
    return std::nullopt;
  }
  Fail(what, r);
  return std::nullopt;
}

bool Deployer::ResolveNamespace() {
  if (client_.config().namespace_ != "_") {
    namespace_ = client_.config().namespace_;
    return true;
  }
  std::optional<WskReply> r = Call("obtain the list of available namespaces", "GET", "namespaces");
  if (!r) return false;
  if (!r->json.is_array() || r->json.empty() || !r->json[0].is_string()) {
    std::fprintf(err_, "error: the API host lists no namespace for this key\n");
    exit_code_ = 1;
    return false;
  }
  namespace_ = r->json[0].get<std::string>();
  return true;
}

std::string Deployer::Resolved(const std::string& qualified) const {
  if (qualified.rfind("/_/", 0) == 0) return "/" + namespace_ + qualified.substr(2);
  return qualified;
}

bool Deployer::PutIfChanged(const std::string& type, const std::string& collection, const ManifestEntity& entity,
                            const Json& existing, bool unchanged) {
  if (!existing.is_null() && unchanged) {
    ++counts_.unchanged;
    Report("unchanged", type, entity.name);
    return true;
  }
  const bool create = existing.is_null();
  const QualifiedName q = ParseQualifiedName(entity.name, client_.config().namespace_);
  if (!Call(std::string(create ? "create " : "update ") + type + " '" + entity.name + "'", "PUT",
            q.Path(collection) + (create ? "?overwrite=false" : "?overwrite=true"), &entity.body)) {
    return false;
  }
  ++(create ? counts_.created : counts_.updated);
  Report(create ? "created" : "updated", type, entity.name);
  return true;
}

bool Deployer::InvokeFeed(const std::string& feed, const std::string& event, const std::string& trigger, Json params) {
  params["lifecycleEvent"] = event;
  params["triggerName"] = "/" + client_.config().namespace_ + "/" + trigger;
  params["authKey"] = client_.config().auth;
  const QualifiedName f = ParseQualifiedName(feed, client_.config().namespace_);
  std::optional<WskReply> r =
      Call("invoke the feed action '" + feed + "' with " + event + " for trigger '" + trigger + "'", "POST",
           f.Path("actions") + "?blocking=true&result=false", &params);
  if (!r) return false;
  Json response = r->json.is_object() ? r->json.value("response", Json::object()) : Json::object();
  if (!response.is_object()) response = Json::object();
  if (r->status == 202 || response.value("success", Json(true)) == false) {
    std::fprintf(err_, "error: The feed action '%s' failed on %s for trigger '%s': %s\n", feed.c_str(), event.c_str(),
                 trigger.c_str(),
                 r->status == 202 ? "it did not finish in time" : json::Dump(response.value("result", Json())).c_str());
    exit_code_ = 1;
    return false;
  }
  return true;
}

bool Deployer::DeployTrigger(const ManifestEntity& trigger) {
  ManifestEntity desired = trigger;
  if (!trigger.feed.empty()) {
    desired.body["annotations"].push_back({{"key", kFeedDigestAnnotation}, {"value", Digest(trigger.feed_inputs)}});
  }
  std::optional<Json> existing = Get("triggers", trigger.name);
  if (!existing) return false;
  const bool unchanged = !existing->is_null() && HasAnnotations(*existing, desired.body["annotations"]) &&
                         AsObject(existing->value("parameters", Json::array())) == AsObject(desired.body["parameters"]);
  if (!existing->is_null() && !unchanged) {
    // The old feed goes first: its inputs or the feed itself changed.
    const std::string old_feed = json::GetString(AsObject(existing->value("annotations", Json::array())), "feed");
    if (!old_feed.empty() && !InvokeFeed(old_feed, "DELETE", trigger.name, Json::object())) {
      std::fprintf(err_, "warning: went on without deleting the old feed of trigger '%s'\n", trigger.name.c_str());
      exit_code_ = 0;
    }
  }
  if (!PutIfChanged("trigger", "triggers", desired, *existing, unchanged)) return false;
  if (unchanged || trigger.feed.empty()) return true;
  if (!InvokeFeed(trigger.feed, "CREATE", trigger.name, trigger.feed_inputs)) {
    // As wsk: a trigger whose feed failed is removed, so the next deploy
    // creates both again instead of finding the trigger "unchanged".
    const int code = exit_code_;
    (void)client_.Send("DELETE", ParseQualifiedName(trigger.name, client_.config().namespace_).Path("triggers"));
    exit_code_ = code;
    return false;
  }
  return true;
}

bool Deployer::DeployRule(const ManifestEntity& rule) {
  std::optional<Json> existing = Get("rules", rule.name);
  if (!existing) return false;
  const bool same_link =
      !existing->is_null() &&
      EntityRef(existing->value("trigger", Json::object())) == Resolved(rule.body["trigger"].get<std::string>()) &&
      EntityRef(existing->value("action", Json::object())) == Resolved(rule.body["action"].get<std::string>());
  if (same_link && json::GetString(*existing, "status") == "inactive") {
    // A manifest's rules are active; enabling is the only change needed.
    const Json body = {{"status", "active"}, {"trigger", nullptr}, {"action", nullptr}};
    const QualifiedName q = ParseQualifiedName(rule.name, client_.config().namespace_);
    if (!Call("enable rule '" + rule.name + "'", "POST", q.Path("rules"), &body)) return false;
    ++counts_.updated;
    Report("enabled", "rule", rule.name);
    return true;
  }
  return PutIfChanged("rule", "rules", rule, *existing, same_link);
}

int Deployer::Deploy(const Manifest& m) {
  exit_code_ = 0;
  if (!ResolveNamespace()) return exit_code_;
  for (const ManifestEntity& package : m.packages) {
    std::optional<Json> existing = Get("packages", package.name);
    if (!existing) return exit_code_;
    const bool unchanged =
        !existing->is_null() &&
        AsObject(existing->value("parameters", Json::array())) == AsObject(package.body["parameters"]) &&
        HasAnnotations(*existing, package.body["annotations"]) &&
        (!package.body.contains("publish") || existing->value("publish", false) == package.body["publish"]);
    if (!PutIfChanged("package", "packages", package, *existing, unchanged)) return exit_code_;
  }
  for (const ManifestEntity& binding : m.bindings) {
    std::optional<Json> existing = Get("packages", binding.name);
    if (!existing) return exit_code_;
    bool unchanged = false;
    const Json& target = binding.body["binding"];
    std::string target_ns = json::GetString(target, "namespace");
    if (target_ns == "_") target_ns = namespace_;
    const Json have = existing->is_null() ? Json() : existing->value("binding", Json());
    if (have.is_object() && json::GetString(have, "namespace") == target_ns &&
        json::GetString(have, "name") == json::GetString(target, "name") &&
        HasAnnotations(*existing, binding.body["annotations"])) {
      // A binding reads back with the bound package's parameters merged in,
      // so compare with what the merge of the desired ones would give.
      std::optional<Json> bound = Get("packages", "/" + target_ns + "/" + json::GetString(target, "name"));
      if (!bound) return exit_code_;
      Json expected = bound->is_null() ? Json::object() : AsObject(bound->value("parameters", Json::array()));
      const Json desired = AsObject(binding.body["parameters"]);
      for (const auto& [key, value] : desired.items()) expected[key] = value;
      unchanged = AsObject(existing->value("parameters", Json::array())) == expected;
    }
    if (!PutIfChanged("binding", "packages", binding, *existing, unchanged)) return exit_code_;
  }
  std::map<std::string, Json> package_parameters;  // read once per package
  for (const auto* group : {&m.actions, &m.sequences}) {
    const bool sequences = group == &m.sequences;
    for (const ManifestEntity& action : *group) {
      std::optional<Json> existing = Get("actions", action.name, "?code=true");
      if (!existing) return exit_code_;
      bool unchanged = false;
      if (!existing->is_null()) {
        // An action reads back with its package's parameters merged in.
        Json expected_parameters = Json::object();
        if (const size_t slash = action.name.find('/'); slash != std::string::npos) {
          const std::string package_name = action.name.substr(0, slash);
          auto cached = package_parameters.find(package_name);
          if (cached == package_parameters.end()) {
            std::optional<Json> package = Get("packages", package_name);
            if (!package) return exit_code_;
            Json parameters =
                package->is_null() ? Json::object() : AsObject(package->value("parameters", Json::array()));
            cached = package_parameters.emplace(package_name, std::move(parameters)).first;
          }
          expected_parameters = cached->second;
        }
        const Json own = AsObject(action.body["parameters"]);
        for (const auto& [key, value] : own.items()) expected_parameters[key] = value;
        const Json& want = action.body["exec"];
        Json have = existing->value("exec", Json::object());
        if (!have.is_object()) have = Json::object();
        unchanged = json::GetString(have, "kind") == json::GetString(want, "kind") &&
                    HasAnnotations(*existing, action.body["annotations"]) &&
                    AsObject(existing->value("parameters", Json::array()), {"_actions"}) == expected_parameters;
        if (sequences) {
          Json components = Json::array();
          for (const Json& c : want["components"]) components.push_back(Resolved(c.get<std::string>()));
          Json existing_components = Json::array();
          for (const Json& c : have.value("components", Json::array())) {
            existing_components.push_back(Resolved(c.is_string() ? c.get<std::string>() : ""));
          }
          unchanged = unchanged && components == existing_components;
        } else {
          unchanged = unchanged && have.value("code", Json()) == want["code"] &&
                      (!want.contains("main") || have.value("main", Json()) == want["main"]);
        }
        Json limits = existing->value("limits", Json::object());
        if (!limits.is_object()) limits = Json::object();
        const Json want_limits = action.body.value("limits", Json::object());
        for (const auto& [key, value] : want_limits.items()) {
          unchanged = unchanged && limits.value(key, Json()) == value;
        }
      }
      if (!PutIfChanged(sequences ? "sequence" : "action", "actions", action, *existing, unchanged)) return exit_code_;
    }
  }
  for (const ManifestEntity& trigger : m.triggers) {
    if (!DeployTrigger(trigger)) return exit_code_;
  }
  for (const ManifestEntity& rule : m.rules) {
    if (!DeployRule(rule)) return exit_code_;
  }
  return 0;
}

bool Deployer::Delete(const std::string& type, const std::string& collection, const std::string& name) {
  const QualifiedName q = ParseQualifiedName(name, client_.config().namespace_);
  Result<WskReply> r = client_.Send("DELETE", q.Path(collection));
  if (r.ok() && r->status == 404) {
    ++counts_.missing;
    Report("already gone:", type, name);
    return true;
  }
  if (r.ok() && r->status >= 200 && r->status < 300) {
    ++counts_.deleted;
    Report("deleted", type, name);
    return true;
  }
  // Report it in wsk's words; the next entity is still worth deleting.
  const std::string what = "delete " + type + " '" + name + "'";
  Fail(what, r);
  return false;
}

int Deployer::Undeploy(const Manifest& m) {
  exit_code_ = 0;
  int first_error = 0;
  auto keep = [&](bool ok) {
    if (!ok && first_error == 0) first_error = exit_code_;
  };
  for (const ManifestEntity& rule : m.rules) keep(Delete("rule", "rules", rule.name));
  for (const ManifestEntity& trigger : m.triggers) {
    std::optional<Json> existing = Get("triggers", trigger.name);
    if (!existing) {
      keep(false);
      continue;
    }
    if (existing->is_null()) {
      ++counts_.missing;
      Report("already gone:", "trigger", trigger.name);
      continue;
    }
    const std::string feed = json::GetString(AsObject(existing->value("annotations", Json::array())), "feed");
    if (!feed.empty() && !InvokeFeed(feed, "DELETE", trigger.name, Json::object())) keep(false);
    keep(Delete("trigger", "triggers", trigger.name));
  }
  for (auto it = m.sequences.rbegin(); it != m.sequences.rend(); ++it) keep(Delete("sequence", "actions", it->name));
  for (auto it = m.actions.rbegin(); it != m.actions.rend(); ++it) keep(Delete("action", "actions", it->name));
  for (const ManifestEntity& binding : m.bindings) keep(Delete("binding", "packages", binding.name));
  for (const ManifestEntity& package : m.packages) keep(Delete("package", "packages", package.name));
  return first_error;
}

}  // namespace wisp::cli
