#include "whisk/controller.h"

#include <algorithm>
#include <condition_variable>

#include "util/log.h"
#include "whisk/error_response.h"
#include "whisk/secrets.h"

namespace wisp::whisk {
namespace {

constexpr char kAction[] = "action";
constexpr char kPackage[] = "package";
constexpr char kTrigger[] = "trigger";
constexpr char kRule[] = "rule";

constexpr std::string_view kFinalText = "Request defines parameters that are not allowed (e.g., reserved properties).";
constexpr std::string_view kBindingOpText = "Operation not permitted on package binding.";
constexpr std::string_view kNoComponentText = "Sequence component does not exist.";
constexpr std::string_view kTooManyText = "Too many actions in the sequence.";
constexpr int kMaxSequenceDepth = 32;
constexpr size_t kMaxCachedDocs = 4096;

// `doc[key]` without copying, or an empty object when absent.
const Json& FieldOf(const Json& doc, const char* key) {
  static const Json kEmpty = Json::object();
  if (!doc.is_object()) return kEmpty;
  const auto it = doc.find(key);
  return it == doc.end() ? kEmpty : *it;
}

// The kinds this platform runs, and what `family:default` resolves to.
const std::map<std::string, std::string>& KindAliases() {
  static const std::map<std::string, std::string> aliases = {
      {"builtin", "builtin"}, {"builtin:default", "builtin"}, {"native", "native"}, {"native:default", "native"},
      // Interpreted and compiled kinds (language_runtime.h, docs/runtimes.md).
      {"nodejs:20", "nodejs:20"}, {"nodejs:default", "nodejs:20"}, {"python:3", "python:3"},
      {"python:default", "python:3"}, {"cpp", "cpp"}, {"cpp:default", "cpp"}};
  return aliases;
}

std::string Trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// The entity as the API shows it: without the store's bookkeeping, and with
// its secret parameters masked (secrets.h).
Json Wire(Json doc) {
  for (const char* internal : {"_id", "_rev", "entityType"}) doc.erase(internal);
  return MaskEntity(std::move(doc));
}

Status NotFound() { return Status::NotFound(std::string(kNotFoundText)); }
Status NotEntitled() { return Status::PermissionDenied(std::string(kNotEntitledText)); }

bool IsBinding(const Json& package) {
  const Json b = package.value("binding", Json::object());
  return b.is_object() && b.contains("name");
}

// Sorts newest first and applies skip/limit, or counts.
Json Page(std::vector<Json> items, const ListOptions& list, const std::string& collection) {
  if (list.count) return Json{{collection, items.size()}};
  std::stable_sort(items.begin(), items.end(), [](const Json& a, const Json& b) {
    return json::GetInt(a, "updated") > json::GetInt(b, "updated");
  });
  Json out = Json::array();
  for (size_t i = list.skip; i < items.size() && out.size() < list.limit; ++i) out.push_back(std::move(items[i]));
  return out;
}

int64_t ResultBytes(const Json& result) { return static_cast<int64_t>(json::Dump(result).size()); }

}  // namespace

Controller::Controller(store::Store& store, ControllerOptions options, Clock& clock)
    : store_(store), options_(std::move(options)), clock_(clock), api_host_(options_.api_host) {
  if (options_.metrics != nullptr) metrics_ = std::make_unique<ActivationMetrics>(*options_.metrics);
}

void Controller::SetApiHost(std::string api_host) {
  std::lock_guard<std::mutex> lock(api_host_mu_);
  api_host_ = std::move(api_host);
}

Controller::~Controller() {
  if (sweeper_) sweeper_->Stop();
  if (pool_) pool_->Shutdown();
}

void Controller::SetRuntime(const std::string& kind, ActionRuntime* runtime) { runtimes_[kind] = runtime; }

void Controller::SetCodeCheck(const std::string& kind,
                              std::function<Status(const std::string& code, bool binary)> check) {
  code_checks_[kind] = std::move(check);
}

void Controller::SetBuiltinNames(std::vector<std::string> names) { builtin_names_ = std::move(names); }

void Controller::AddFeedPackage(std::string package, std::string description, std::vector<std::string> feeds) {
  for (const std::string& feed : feeds) builtin_names_.push_back(package + "/" + feed);
  catalog_packages_.push_back({std::move(package), std::move(description), std::move(feeds)});
}

void Controller::AddCatalogPackage(std::string package, std::string description, Json parameters,
                                   std::vector<std::string> actions) {
  for (const std::string& action : actions) builtin_names_.push_back(package + "/" + action);
  catalog_packages_.push_back(
      {std::move(package), std::move(description), std::move(actions), false, std::move(parameters)});
}

Status Controller::Start() {
  for (const char* name : {kEntitiesDb, kActivationsDb}) {
    Status created = store_.CreateDatabase(name);
    if (!created.ok() && created.code() != StatusCode::kPreconditionFailed) return created;
  }
  WISP_ASSIGN_OR_RETURN(entities_, store_.GetDatabase(kEntitiesDb));
  // An action document holds its code (up to max_code_bytes, OpenWhisk's 48
  // MB) and its parameters; the store's CouchDB limit (8 MB) is for users'
  // documents. The margin covers annotations, limits and the envelope.
  entities_->SetMaxDocumentBytes(options_.max_code_bytes + options_.max_parameter_bytes + (1 << 20));
  WISP_ASSIGN_OR_RETURN(std::shared_ptr<store::Database> activations, store_.GetDatabase(kActivationsDb));
  activations_ = std::make_unique<ActivationStore>(activations);
  pool_ = std::make_unique<ThreadPool>(std::max<size_t>(1, options_.invoker_threads), "wisp-invoke");
  if (options_.activation_retention.count() > 0) {
    sweeper_ = std::make_unique<ActivationSweeper>(
        clock_, ActivationSweeper::IntervalFor(options_.activation_retention), [this] { ExpireActivations(); });
    sweeper_->Start();
  }

  // The shared catalog: /whisk.system/utils, published, with built-in actions.
  Identity system{std::string(kSystemNamespace), std::string(kSystemNamespace), "", ""};
  Json package = {
      {"publish", true},
      {"annotations",
       Json::array({{{"key", "description"}, {"value", "Building blocks that format and assemble data"}}})}};
  Result<Json> existing_pkg = LoadDoc(std::string(kSystemNamespace) + "/utils");
  if (!existing_pkg.ok()) {
    WISP_RETURN_IF_ERROR(PutPackage(system, system.namespace_name, "utils", package, false).status());
  }
  for (const CatalogPackage& feeds : catalog_packages_) {
    const Json body = {{"publish", true},
                       {"parameters", feeds.parameters},
                       {"annotations", Json::array({{{"key", "description"}, {"value", feeds.description}}})}};
    Result<Json> existing_package = LoadDoc(std::string(kSystemNamespace) + "/" + feeds.package);
    if (!existing_package.ok()) {
      WISP_RETURN_IF_ERROR(PutPackage(system, system.namespace_name, feeds.package, body, false).status());
    } else if (existing_package->value("parameters", Json::array()) != feeds.parameters) {
      WISP_RETURN_IF_ERROR(PutPackage(system, system.namespace_name, feeds.package, body, true).status());
    }
    for (const std::string& feed : feeds.feeds) {
      EntityName name{std::string(kSystemNamespace), feeds.package, feed};
      const Json exec = {{"kind", "builtin"}, {"code", feeds.package + "/" + feed}};
      Result<Json> existing = LoadDoc(name.DocId());
      if (existing.ok() && existing->value("exec", Json::object()).value("code", "") == exec["code"]) continue;
      const Json action = {
          {"exec", exec},
          {"annotations", feeds.is_feed ? Json::array({{{"key", "feed"}, {"value", true}}}) : Json::array()}};
      WISP_RETURN_IF_ERROR(PutAction(system, name, action, true).status());
    }
  }
  for (const std::string& builtin : builtin_names_) {
    if (builtin.find('/') != std::string::npos) continue;  // a feed, installed above
    EntityName name{std::string(kSystemNamespace), "utils", builtin};
    const Json exec = {{"kind", "builtin"}, {"code", builtin}};
    Result<Json> existing = LoadDoc(name.DocId());
    if (existing.ok() &&
        existing->value("exec", Json::object()) == Json({{"kind", "builtin"}, {"code", builtin}, {"binary", false}})) {
      continue;
    }
    WISP_RETURN_IF_ERROR(PutAction(system, name, Json{{"exec", exec}}, true).status());
  }
  return Status::Ok();
}

Json Controller::Limits() const {
  const LimitBounds& b = options_.bounds;
  return Json{{"invocationsPerMinute", options_.invocations_per_minute},
              {"concurrentInvocations", options_.concurrent_invocations},
              {"firesPerMinute", options_.fires_per_minute},
              {"minActionMemory", b.min_memory_mb},
              {"maxActionMemory", b.max_memory_mb},
              {"minActionLogs", b.min_logs_mb},
              {"maxActionLogs", b.max_logs_mb},
              {"minActionTimeout", b.min_timeout_ms},
              {"maxActionTimeout", b.max_timeout_ms},
              {"minActionConcurrency", b.min_concurrency},
              {"maxActionConcurrency", b.max_concurrency},
              {"maxParameterSize", std::to_string(options_.max_parameter_bytes) + " B"},
              {"maxActionInstances", b.max_instances}};
}

// --- documents --------------------------------------------------------------

Status Controller::RequireOwn(const Identity& caller, const std::string& ns) const {
  return ns == caller.namespace_name ? Status::Ok() : NotEntitled();
}

Result<std::shared_ptr<const Json>> Controller::LoadShared(const std::string& id) {
  // The seq is read before the document, so a cached entry is never older
  // than the seq it is filed under.
  const int64_t seq = entities_->update_seq();
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_seq_ != seq) {
      cache_.clear();
      cache_seq_ = seq;
    }
    if (const auto it = cache_.find(id); it != cache_.end()) return it->second;
  }
  Result<Json> doc = entities_->Get(id, {});
  if (!doc.ok()) return doc.status().IsNotFound() ? NotFound() : doc.status();
  auto shared = std::make_shared<const Json>(std::move(*doc));
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_seq_ == seq && cache_.size() < kMaxCachedDocs) cache_[id] = shared;
  return shared;
}

Result<Json> Controller::LoadDoc(const std::string& id) {
  WISP_ASSIGN_OR_RETURN(std::shared_ptr<const Json> doc, LoadShared(id));
  return *doc;
}

Result<Json> Controller::LoadEntity(const std::string& id, std::string_view type) {
  WISP_ASSIGN_OR_RETURN(Json doc, LoadDoc(id));
  if (doc.value("entityType", "") != type) return Status::Conflict(std::string(kWrongCollectionText));
  return doc;
}

Result<Json> Controller::Save(Json doc) {
  const int64_t before = entities_->update_seq();
  store::WriteResult written = entities_->Put(doc);
  if (!written.status.ok()) {
    if (written.status.IsConflict()) return Status::Conflict(std::string(kConcurrentText));
    return written.status;
  }
  doc["_rev"] = written.rev;
  // Written through to the cache when this was the only write since
  // `before`: the next invoke of a just-updated action then does not read
  // (and parse) its megabytes of code back from SQLite.
  const int64_t after = entities_->update_seq();
  if (after == before + 1) {
    auto shared = std::make_shared<const Json>(doc);
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_seq_ < after) {
      cache_.clear();
      cache_seq_ = after;
    }
    if (cache_seq_ == after && cache_.size() < kMaxCachedDocs) cache_[json::GetString(doc, "_id")] = std::move(shared);
  }
  return doc;
}

Status Controller::Remove(const Json& doc) {
  Json tombstone = {{"_id", doc["_id"]}, {"_rev", doc["_rev"]}, {"_deleted", true}};
  store::WriteResult written = entities_->Put(std::move(tombstone));
  if (written.status.IsConflict()) return Status::Conflict(std::string(kConcurrentText));
  return written.status;
}

std::vector<Json> Controller::Scan(const std::string& prefix) {
  store::AllDocsOptions options;
  options.startkey = prefix;
  options.endkey = prefix + "\xef\xbf\xbf";
  options.include_docs = true;
  const Json page = entities_->AllDocs(options);
  std::vector<Json> out;
  for (const Json& row : page.value("rows", Json::array())) {
    if (row.contains("doc") && row["doc"].is_object()) out.push_back(row["doc"]);
  }
  return out;
}

Result<std::optional<Json>> Controller::ExistingForPut(const std::string& id, std::string_view type, bool overwrite) {
  Result<Json> existing = LoadDoc(id);
  if (!existing.ok()) {
    if (existing.status().IsNotFound()) return std::optional<Json>();
    return existing.status();
  }
  if (existing->value("entityType", "") != type) return Status::Conflict(std::string(kWrongCollectionText));
  if (!overwrite) return Status::Conflict(std::string(kExistsText));
  return std::optional<Json>(std::move(*existing));
}

Status Controller::CheckSize(const Json& value, size_t limit) const {
  const size_t size = json::Dump(value).size();
  if (size > limit) {
    return Status::PayloadTooLarge("Request larger than allowed: " + std::to_string(size) + " > " +
                                   std::to_string(limit) + " bytes.");
  }
  return Status::Ok();
}

// Fields common to every PUT: version, publish, annotations (after
// delAnnotations), parameters. `base` is the stored entity on update.
static Status ApplyCommonFields(Json& doc, const Json& body, const std::optional<Json>& old, bool replace_annotations) {
  if (body.contains("version") && !body["version"].is_null()) {
    if (!body["version"].is_string() || !IsValidVersion(body["version"].get<std::string>())) {
      return Malformed("version must be a semantic version such as 0.0.1");
    }
    doc["version"] = body["version"];
  } else {
    doc["version"] = old ? NextVersion(json::GetString(*old, "version")) : std::string(kFirstVersion);
  }
  if (body.contains("publish") && !body["publish"].is_null()) {
    if (!body["publish"].is_boolean()) return Malformed("publish must be a boolean");
    doc["publish"] = body["publish"];
  } else {
    doc["publish"] = old ? old->value("publish", false) : false;
  }
  Json annotations = old ? old->value("annotations", Json::array()) : Json::array();
  if (body.contains("delAnnotations")) {
    if (!body["delAnnotations"].is_array()) return Malformed("delAnnotations must be an array of keys");
    Json kept = Json::array();
    for (const Json& a : annotations) {
      const bool drop = std::find(body["delAnnotations"].begin(), body["delAnnotations"].end(),
                                  a.value("key", Json())) != body["delAnnotations"].end();
      if (!drop) kept.push_back(a);
    }
    annotations = kept;
  }
  if (body.contains("annotations") && !body["annotations"].is_null()) {
    WISP_RETURN_IF_ERROR(ValidateKeyValues(body["annotations"], "annotations"));
    annotations = replace_annotations ? body["annotations"] : MergeKeyValues(annotations, body["annotations"]);
  }
  doc["annotations"] = annotations;
  if (body.contains("parameters") && !body["parameters"].is_null()) {
    WISP_RETURN_IF_ERROR(ValidateKeyValues(body["parameters"], "parameters"));
    // A secret sent back as it was shown ("********") keeps its value.
    doc["parameters"] = RestoreMaskedParameters(body["parameters"],
                                                old ? old->value("parameters", Json::array()) : Json::array(),
                                                SecretNames({&doc["annotations"]}));
  } else {
    doc["parameters"] = old ? old->value("parameters", Json::array()) : Json::array();
  }
  return Status::Ok();
}

// --- actions ----------------------------------------------------------------

Result<Json> Controller::ValidateExec(const Identity& caller, const EntityName& self, const Json& exec) {
  if (!exec.is_object()) return Malformed("exec must be an object");
  if (!exec.contains("kind") || !exec["kind"].is_string()) return Malformed("kind undefined");
  std::string kind = Trim(exec["kind"].get<std::string>());
  std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
  if (kind == "sequence") {
    const Json components = exec.value("components", Json());
    if (!components.is_array() || components.empty()) {
      return Status::InvalidArgument("No component specified for the sequence.");
    }
    Json resolved = Json::array();
    size_t atomic = 0;
    for (const Json& c : components) {
      if (!c.is_string()) return Malformed("sequence components must be strings");
      WISP_ASSIGN_OR_RETURN(EntityName component, ParseFullyQualifiedName(c.get<std::string>(), caller.namespace_name));
      if (component.DocId() == self.DocId()) return Status::InvalidArgument("Sequence may not refer to itself.");
      Result<ResolvedAction> action = ResolveAction(caller, component);
      if (!action.ok()) return Status::InvalidArgument(std::string(kNoComponentText));
      Result<size_t> n = CountAtomicActions(caller, *action, 1);
      if (!n.ok()) return n.status();
      atomic += *n;
      if (atomic > options_.sequence_max_length) return Status::InvalidArgument(std::string(kTooManyText));
      resolved.push_back(component.FullName());
    }
    return Json{{"kind", "sequence"}, {"components", resolved}};
  }
  const auto alias = KindAliases().find(kind);
  if (alias == KindAliases().end()) {
    std::string valid;
    for (const auto& [name, _] : KindAliases()) valid += (valid.empty() ? "" : ", ") + name;
    return Status::InvalidArgument("The specified runtime '" + kind +
                                   "' is not supported by this platform. Valid values are: '" + valid + ", sequence'.");
  }
  kind = alias->second;
  if (!exec.contains("code") || !exec["code"].is_string()) return Malformed("code undefined");
  const std::string code = exec["code"].get<std::string>();
  if (code.size() > options_.max_code_bytes) {
    return Status::PayloadTooLarge("Request larger than allowed: " + std::to_string(code.size()) + " > " +
                                   std::to_string(options_.max_code_bytes) + " bytes.");
  }
  Json out = {{"kind", kind}, {"code", code}, {"binary", false}};
  if (kind == "builtin") {
    if (std::find(builtin_names_.begin(), builtin_names_.end(), code) == builtin_names_.end()) {
      return Status::InvalidArgument("There is no built-in action named '" + code + "'.");
    }
  } else {
    out["binary"] = LooksLikeBase64(code);
  }
  if (const auto check = code_checks_.find(kind); check != code_checks_.end()) {
    WISP_RETURN_IF_ERROR(check->second(code, out["binary"].get<bool>()));
  }
  if (exec.contains("main") && !exec["main"].is_null()) {
    if (!exec["main"].is_string()) return Malformed("main must be a string");
    out["main"] = exec["main"];
  }
  return out;
}

Result<size_t> Controller::CountAtomicActions(const Identity& caller, const ResolvedAction& action, int depth) {
  const Json& exec = FieldOf(*action.doc, "exec");
  if (exec.value("kind", "") != "sequence") return size_t{1};
  if (depth > kMaxSequenceDepth) return Status::InvalidArgument(std::string(kTooManyText));
  size_t total = 0;
  for (const Json& c : exec.value("components", Json::array())) {
    Result<EntityName> name = ParseFullyQualifiedName(c.get<std::string>(), caller.namespace_name);
    if (!name.ok()) return Status::InvalidArgument(std::string(kNoComponentText));
    Result<ResolvedAction> component = ResolveAction(caller, *name);
    if (!component.ok()) return Status::InvalidArgument(std::string(kNoComponentText));
    WISP_ASSIGN_OR_RETURN(size_t n, CountAtomicActions(caller, *component, depth + 1));
    total += n;
    if (total > options_.sequence_max_length) return Status::InvalidArgument(std::string(kTooManyText));
  }
  return total;
}

Result<Json> Controller::PutAction(const Identity& caller, const EntityName& name, const Json& body, bool overwrite) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, name.ns));
  if (!body.is_object()) return Malformed("the body must be a JSON object");
  if (!name.package.empty()) {
    WISP_ASSIGN_OR_RETURN(Json package, LoadEntity(EntityName{name.ns, "", name.package}.DocId(), kPackage));
    if (IsBinding(package)) return Status::InvalidArgument(std::string(kBindingOpText));
  }
  WISP_ASSIGN_OR_RETURN(std::optional<Json> old, ExistingForPut(name.DocId(), kAction, overwrite));
  if (!old && (!body.contains("exec") || body["exec"].is_null())) return Status::InvalidArgument("exec undefined");
  if (body.contains("parameters")) WISP_RETURN_IF_ERROR(CheckSize(body["parameters"], options_.max_parameter_bytes));

  Json doc = old ? *old : Json::object();
  doc["_id"] = name.DocId();
  doc["entityType"] = kAction;
  doc["namespace"] = name.Path();
  doc["name"] = name.name;
  if (body.contains("exec") && !body["exec"].is_null()) {
    WISP_ASSIGN_OR_RETURN(doc["exec"], ValidateExec(caller, name, body["exec"]));
  }
  const Json old_limits = old ? old->value("limits", Json::object()) : Json::object();
  WISP_ASSIGN_OR_RETURN(doc["limits"], MergeLimits(old_limits, body.value("limits", Json()), options_.bounds));
  WISP_RETURN_IF_ERROR(ApplyCommonFields(doc, body, old, /*replace_annotations=*/false));
  const std::string kind = doc["exec"].value("kind", "");
  if (kind == "sequence") SetKeyValue(doc["parameters"], "_actions", doc["exec"]["components"]);
  SetKeyValue(doc["annotations"], "exec", kind);
  if (!old && KeyValue(body.value("annotations", Json::array()), "provide-api-key").is_null()) {
    SetKeyValue(doc["annotations"], "provide-api-key", false);
  }
  doc["updated"] = clock_.NowMillis();
  WISP_ASSIGN_OR_RETURN(Json saved, Save(std::move(doc)));
  RetireEarlierVersions(name.DocId(), &saved);
  return Wire(std::move(saved));
}

std::string Controller::CodeDigest(const std::string& id, const Json& doc) {
  const Json& exec = FieldOf(doc, "exec");
  const auto code = exec.find("code");
  if (code == exec.end() || !code->is_string()) return "";
  const std::string rev = json::GetString(doc, "_rev");
  {
    std::lock_guard<std::mutex> lock(digests_mu_);
    if (const auto it = digests_.find(id); it != digests_.end() && it->second.first == rev) return it->second.second;
  }
  std::string digest = ContentDigest(exec.value("binary", false), code->get_ref<const std::string&>());
  std::lock_guard<std::mutex> lock(digests_mu_);
  digests_[id] = {rev, digest};
  return digest;
}

void Controller::RetireEarlierVersions(const std::string& id, const Json* current) {
  std::string digest;
  if (current != nullptr) {
    digest = CodeDigest(id, *current);
  } else {
    std::lock_guard<std::mutex> lock(digests_mu_);
    digests_.erase(id);
  }
  for (const auto& [kind, runtime] : runtimes_) {
    if (runtime != nullptr) runtime->Retire(id, digest);
  }
}

Result<ResolvedAction> Controller::ResolveAction(const Identity& caller, const EntityName& requested) {
  ResolvedAction out;
  out.name = requested;
  out.name_key = requested.Relative();
  Json parameters = Json::array();
  if (requested.package.empty()) {
    if (requested.ns != caller.namespace_name) return NotEntitled();
  } else {
    Result<Json> package = LoadEntity(EntityName{requested.ns, "", requested.package}.DocId(), kPackage);
    const bool own = requested.ns == caller.namespace_name;
    if (!package.ok()) return own ? package.status() : NotEntitled();
    if (!own && (!package->value("publish", false) || IsBinding(*package))) return NotEntitled();
    if (IsBinding(*package)) {
      const Json b = (*package)["binding"];
      EntityName target{json::GetString(b, "namespace"), "", json::GetString(b, "name")};
      Result<Json> bound = LoadEntity(target.DocId(), kPackage);
      if (!bound.ok()) return NotFound();
      if (target.ns != caller.namespace_name && !bound->value("publish", false)) return NotEntitled();
      parameters =
          MergeKeyValues(bound->value("parameters", Json::array()), package->value("parameters", Json::array()));
      out.package_annotations =
          MergeKeyValues(bound->value("annotations", Json::array()), package->value("annotations", Json::array()));
      out.binding = requested.Path();
      out.name = EntityName{target.ns, target.name, requested.name};
    } else {
      parameters = package->value("parameters", Json::array());
      out.package_annotations = package->value("annotations", Json::array());
    }
  }
  WISP_ASSIGN_OR_RETURN(out.doc, LoadShared(out.name.DocId()));
  if (out.doc->value("entityType", "") != kAction) return Status::Conflict(std::string(kWrongCollectionText));
  out.parameters = MergeKeyValues(parameters, FieldOf(*out.doc, "parameters"));
  return out;
}

Result<Json> Controller::GetAction(const Identity& caller, const EntityName& name, bool with_code) {
  WISP_ASSIGN_OR_RETURN(ResolvedAction action, ResolveAction(caller, name));
  Json out = Wire(*action.doc);
  out["parameters"] = MaskParameters(action.parameters, SecretNames({&out["annotations"], &action.package_annotations}));
  if (!with_code && out.contains("exec")) out["exec"].erase("code");
  return out;
}

Result<Json> Controller::DeleteAction(const Identity& caller, const EntityName& name) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, name.ns));
  WISP_ASSIGN_OR_RETURN(Json doc, LoadEntity(name.DocId(), kAction));
  WISP_RETURN_IF_ERROR(Remove(doc));
  RetireEarlierVersions(name.DocId(), nullptr);
  return Wire(std::move(doc));
}

Result<Json> Controller::ListActions(const Identity& caller, const std::string& ns, const std::string& package,
                                     const ListOptions& list) {
  std::string prefix = ns + "/";
  if (!package.empty()) {
    Result<Json> pkg = LoadEntity(ns + "/" + package, kPackage);
    const bool own = ns == caller.namespace_name;
    if (!pkg.ok()) return own ? pkg.status() : NotEntitled();
    if (!own && (!pkg->value("publish", false) || IsBinding(*pkg))) return NotEntitled();
    prefix = ns + "/" + package + "/";
    if (IsBinding(*pkg)) {
      prefix = json::GetString((*pkg)["binding"], "namespace") + "/" + json::GetString((*pkg)["binding"], "name") + "/";
    }
  } else {
    WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  }
  std::vector<Json> items;
  for (Json& doc : Scan(prefix)) {
    if (doc.value("entityType", "") != kAction) continue;
    Json item = {{"namespace", doc["namespace"]},
                 {"name", doc["name"]},
                 {"version", doc["version"]},
                 {"publish", doc["publish"]},
                 {"annotations", doc["annotations"]},
                 {"limits", doc["limits"]},
                 {"exec", {{"binary", doc["exec"].value("binary", false)}}},
                 {"updated", doc["updated"]}};
    items.push_back(std::move(item));
  }
  return Page(std::move(items), list, "actions");
}

// --- invocation -------------------------------------------------------------

// The spec's 429 text for a per-minute limit.
static Status TooManyPerMinute(int64_t count, int64_t allowed) {
  return Status::ResourceExhausted("Too many requests in the last minute (count: " + std::to_string(count) +
                                   ", allowed: " + std::to_string(allowed) + ").");
}

Controller::Throttle& Controller::ThrottleOf(const std::string& ns) {
  auto [it, inserted] = throttles_.try_emplace(ns);
  if (inserted && metrics_) {
    it->second.in_flight_gauge = &metrics_->InFlight(ns);
    it->second.throttled_by_rate = &metrics_->ThrottledByRate(ns);
    it->second.throttled_by_concurrency = &metrics_->ThrottledByConcurrency(ns);
  }
  return it->second;
}

Status Controller::Admit(const std::string& ns) {
  std::lock_guard<std::mutex> lock(throttle_mu_);
  Throttle& t = ThrottleOf(ns);
  const int64_t count = t.invocations.Next(clock_.NowMillis() / 60'000);
  if (count > options_.invocations_per_minute) {
    if (t.throttled_by_rate) t.throttled_by_rate->Inc();
    return TooManyPerMinute(count, options_.invocations_per_minute);
  }
  if (t.in_flight + 1 > options_.concurrent_invocations) {
    if (t.throttled_by_concurrency) t.throttled_by_concurrency->Inc();
    return Status::ResourceExhausted(
        "Too many concurrent requests in flight (count: " + std::to_string(t.in_flight + 1) +
        ", allowed: " + std::to_string(options_.concurrent_invocations) + ").");
  }
  t.invocations.count = count;
  ++t.in_flight;
  if (t.in_flight_gauge) t.in_flight_gauge->Set(static_cast<double>(t.in_flight));
  return Status::Ok();
}

void Controller::Release(const std::string& ns) {
  std::lock_guard<std::mutex> lock(throttle_mu_);
  Throttle& t = ThrottleOf(ns);
  --t.in_flight;
  if (t.in_flight_gauge) t.in_flight_gauge->Set(static_cast<double>(t.in_flight));
}

Result<InvokeReply> Controller::Invoke(const Identity& caller, const EntityName& name, Json payload,
                                       const InvokeOptions& invoke) {
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<InvokeReply> reply;  // GUARDED_BY(mu)
  };
  auto slot = std::make_shared<Slot>();
  WISP_RETURN_IF_ERROR(InvokeAsync(caller, name, std::move(payload), invoke, [slot](InvokeReply reply) {
    std::lock_guard<std::mutex> lock(slot->mu);
    slot->reply = std::move(reply);
    slot->cv.notify_all();
  }));
  // InvokeAsync() answers every invoke it started: by the wait's deadline at the latest.
  std::unique_lock<std::mutex> lock(slot->mu);
  slot->cv.wait(lock, [&] { return slot->reply.has_value(); });
  return std::move(*slot->reply);
}

Status Controller::InvokeAsync(const Identity& caller, const EntityName& name, Json payload,
                               const InvokeOptions& invoke, InvokeDone done) {
  WISP_ASSIGN_OR_RETURN(ResolvedAction action, ResolveAction(caller, name));
  if (!payload.is_object() && !payload.is_array()) return Malformed("the body must be a JSON object");
  if (KeyValueIsTrue(FieldOf(*action.doc, "annotations"), "final") && payload.is_object()) {
    const Json defined = KeyValuesToObject(action.parameters);
    for (const auto& [key, _] : payload.items()) {
      if (defined.contains(key) && !defined[key].is_null()) return Status::InvalidArgument(std::string(kFinalText));
    }
  }
  WISP_RETURN_IF_ERROR(Admit(caller.namespace_name));

  const Clock::SteadyTime received = clock_.SteadyNow();
  InvokeReply reply;
  reply.activation_id = NewActivationId(clock_.Now());
  Lineage lineage{invoke.trace_id, "", invoke.parent_id};
  if (lineage.parent_id.empty()) lineage.parent_id = log::LogContext::Get("activation_id");
  if (invoke.blocking && FieldOf(FieldOf(*action.doc, "exec"), "kind") == "builtin") {
    // A built-in function returns at once: it runs here, on the caller's
    // thread, without two hand-offs to the invoker pool and back.
    Json record;
    {
      Outstanding::Guard running = outstanding_.Enter();
      size_t budget = options_.sequence_max_length;
      record = Execute(caller, action, payload, reply.activation_id, lineage, received, budget, 0);
      Release(caller.namespace_name);
    }
    Answer(RedactorFor(action, payload).RedactRecord(record), invoke.result_only, reply);
    done(std::move(reply));
    return Status::Ok();
  }
  reply.body = {{"activationId", reply.activation_id}};
  // A blocking invoke's answer: from the record when it comes in time, else
  // the 202 above.
  std::shared_ptr<BlockingWaits::Wait> wait;
  if (invoke.blocking) {
    wait = waits_.Create([reply, done, result_only = invoke.result_only,
                          redactor = RedactorFor(action, payload)](const Json* record) mutable {
      if (record != nullptr) Answer(redactor.RedactRecord(*record), result_only, reply);
      done(std::move(reply));
    });
  }
  auto task = [this, caller, action = std::move(action), payload = std::move(payload), id = reply.activation_id,
               lineage, received, wait, queued = outstanding_.Enter()] {
    size_t budget = options_.sequence_max_length;
    Json record = Execute(caller, action, payload, id, lineage, received, budget, 0);
    Release(caller.namespace_name);
    if (wait) waits_.Finish(wait, record);
  };
  if (!pool_->Submit(std::move(task))) {
    if (wait) waits_.Discard(wait);
    Release(caller.namespace_name);
    return Status::Unavailable("The server is shutting down.");
  }
  if (wait) {
    waits_.Arm(wait, std::chrono::steady_clock::now() + invoke.wait);
  } else {
    done(std::move(reply));
  }
  return Status::Ok();
}

void Controller::Answer(const Json& record, bool result_only, InvokeReply& reply) {
  const Json& response = FieldOf(record, "response");
  const int code = static_cast<int>(response.value("statusCode", 3));
  reply.status = code == 0 ? 200 : code == 3 ? 500 : 502;
  const Json& result = FieldOf(response, "result");
  if (result_only || result.is_array()) {
    reply.body = result;
  } else {
    reply.body = ExtendedActivation(record);
    // An action's logs are gathered after its result, as OpenWhisk does; a
    // sequence's "logs" are its components' activation ids, known by now
    // and answered with the rest of its record, as OpenWhisk answers them.
    if (KeyValue(FieldOf(record, "annotations"), "kind") != "sequence") reply.body["logs"] = Json::array();
  }
}

Json Controller::NewRecord(const Identity& caller, const ResolvedAction& action, const std::string& id,
                           const Lineage& lineage) const {
  Json record = {{"namespace", caller.namespace_name},
                 {"name", action.name.name},
                 {"version", action.doc->value("version", std::string(kFirstVersion))},
                 {"subject", caller.subject},
                 {"publish", false},
                 {"activationId", id},
                 {"trace_id", lineage.trace_id},
                 {"nameKey", action.name_key},
                 {"logs", Json::array()}};
  if (!lineage.cause.empty()) {
    record["cause"] = lineage.cause;
  } else if (!lineage.parent_id.empty()) {
    record["parent_id"] = lineage.parent_id;
  }
  Json annotations = Json::array();
  SetKeyValue(annotations, "path", action.name.DocId());
  if (!action.binding.empty()) SetKeyValue(annotations, "binding", action.binding);
  record["annotations"] = annotations;
  return record;
}

void Controller::StoreRecord(const Json& record) {
  activations_->Put(record);
  // Counted from the record itself, so the metrics agree with the records.
  if (metrics_) metrics_->Finished(record);
}

void Controller::LogFinished(const Json& record, bool cold) {
  if (!log::Enabled(log::Level::kDebug, "whisk")) return;
  const int code = static_cast<int>(json::GetInt(FieldOf(record, "response"), "statusCode", 3));
  log::Debug("whisk", "activation finished",
             {{"status", ActivationStatusText(static_cast<ActivationStatus>(code < 0 || code > 3 ? 3 : code))},
              {"duration_ms", json::GetInt(record, "duration")},
              {"cold", cold}});
}

SecretRedactor Controller::RedactorFor(const ResolvedAction& action, const Json& args) const {
  SecretRedactor redactor;
  const auto names = SecretNames({&FieldOf(*action.doc, "annotations"), &action.package_annotations});
  redactor.Add(names, action.parameters);
  redactor.Add(names, args);
  return redactor;
}

Json Controller::Execute(const Identity& caller, const ResolvedAction& action, const Json& args, const std::string& id,
                         const Lineage& lineage, Clock::SteadyTime received, size_t& atomic_budget, int depth) {
  // Every line logged while this activation runs, on this thread or on
  // threads its work is handed to, names it.
  log::LogContext context({{"trace_id", lineage.trace_id}, {"activation_id", id}, {"action", action.name.DocId()}});
  const Json& exec = FieldOf(*action.doc, "exec");
  const std::string kind = exec.value("kind", "");
  if (kind == "sequence") return ExecuteSequence(caller, action, args, id, lineage, received, atomic_budget, depth);

  Json record = NewRecord(caller, action, id, lineage);
  const Json& limits = FieldOf(*action.doc, "limits");
  RunOutcome outcome;
  const int64_t queued_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.SteadyNow() - received).count();
  const auto runtime = runtimes_.find(kind);
  if (atomic_budget == 0) {
    outcome.status = ActivationStatus::kApplicationError;
    outcome.result = {{"error", std::string(kTooManyText)}};
    outcome.start = outcome.end = clock_.Now();
  } else if (runtime == runtimes_.end() || runtime->second == nullptr) {
    outcome.status = ActivationStatus::kWhiskError;
    outcome.result = {{"error", "Failed to provision resources to run the action."}};
    outcome.start = outcome.end = clock_.Now();
  } else {
    --atomic_budget;
    ActionCode code;
    code.kind = kind;
    code.pool_key = action.name.FullName() + "@" + action.doc->value("version", "") + "#" +
                    std::to_string(json::GetInt(*action.doc, "updated"));
    code.action = action.name.DocId();
    if (const auto text = exec.find("code"); text != exec.end() && text->is_string()) {
      // Shared with the cached document, not copied: native code is megabytes.
      code.code = SharedText(std::shared_ptr<const std::string>(action.doc, &text->get_ref<const std::string&>()));
    }
    code.binary = exec.value("binary", false);
    code.main = exec.value("main", "main");
    if (kind == "builtin") {
      code.builtin = std::string(code.code.view());
    } else {
      code.digest = CodeDigest(code.action, *action.doc);
    }
    code.wait_for_ack = KeyValueIsTrue(FieldOf(*action.doc, "annotations"), "wait-for-ack");
    Json init_env = Json::object();
    for (const Json& p : action.parameters) {
      if (IsInitParameter(p)) {
        const Json v = p.value("value", Json());
        init_env[p.value("key", "")] = v.is_string() ? v.get<std::string>() : json::Dump(v);
      }
    }
    code.init_env = init_env;

    RunRequest request;
    if (args.is_object()) {
      request.value = KeyValuesToObject(action.parameters, /*skip_init=*/true);
      for (const auto& [k, v] : args.items()) request.value[k] = v;
    } else {
      request.value = args;
    }
    request.namespace_name = caller.namespace_name;
    request.action_name = action.name.FullName();
    request.action_version = action.doc->value("version", "");
    request.activation_id = id;
    request.transaction_id = lineage.trace_id;
    const Json& annotations = FieldOf(*action.doc, "annotations");
    if (KeyValue(annotations, "provide-api-key").is_null() || KeyValueIsTrue(annotations, "provide-api-key")) {
      request.api_key = caller.Credential();
    }
    {
      std::lock_guard<std::mutex> lock(api_host_mu_);
      request.api_host = api_host_;
    }
    request.timeout = std::chrono::milliseconds(json::GetInt(limits, "timeout", options_.bounds.default_timeout_ms));
    request.log_limit_bytes = static_cast<size_t>(json::GetInt(limits, "logs", 10)) * 1024 * 1024;
    request.max_instances = static_cast<int>(json::GetInt(limits, "instances", 0));
    request.memory_bytes =
        static_cast<uint64_t>(std::max<int64_t>(json::GetInt(limits, "memory", options_.bounds.default_memory_mb), 0))
        << 20;
    // The server's default, which an action may only narrow (docs/security.md "Sandbox").
    request.network = options_.action_network && KeyValue(annotations, kSandboxNetworkAnnotation) != Json(false);
    outcome = runtime->second->Run(code, request);
    if (outcome.start.time_since_epoch().count() == 0) outcome.start = clock_.Now();
    if (outcome.end < outcome.start) outcome.end = outcome.start;
  }

  int64_t result_bytes = ResultBytes(outcome.result);
  if (outcome.status == ActivationStatus::kSuccess && result_bytes > static_cast<int64_t>(options_.max_result_bytes)) {
    const std::string text = json::Dump(outcome.result).substr(0, 128);
    outcome.status = ActivationStatus::kApplicationError;
    outcome.result = {{"error", "The action produced a response that exceeded the allowed length: " +
                                    std::to_string(result_bytes) + " > " + std::to_string(options_.max_result_bytes) +
                                    " bytes. The truncated response was: " + text}};
    result_bytes = ResultBytes(outcome.result);
  }
  const auto to_ms = [](Clock::WallTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  record["start"] = to_ms(outcome.start);
  record["end"] = to_ms(outcome.end);
  record["duration"] = to_ms(outcome.end) - to_ms(outcome.start);
  record["response"] = {
      {"statusCode", static_cast<int>(outcome.status)}, {"result", outcome.result}, {"size", result_bytes}};
  record["logs"] = outcome.logs;
  Json& annotations = record["annotations"];
  SetKeyValue(annotations, "waitTime", queued_ms + outcome.wait_time.count());
  SetKeyValue(annotations, "kind", kind);
  SetKeyValue(annotations, "timeout", outcome.timeout);
  SetKeyValue(annotations, "limits", limits);
  if (outcome.cold) SetKeyValue(annotations, "initTime", static_cast<int64_t>(outcome.init_time.count()));
  if (!lineage.cause.empty()) SetKeyValue(annotations, "causedBy", "sequence");
  StoreRecord(RedactorFor(action, args).RedactRecord(record));
  LogFinished(record, outcome.cold);
  return record;
}

Json Controller::ExecuteSequence(const Identity& caller, const ResolvedAction& action, const Json& args,
                                 const std::string& id, const Lineage& lineage, Clock::SteadyTime received,
                                 size_t& atomic_budget, int depth) {
  Json record = NewRecord(caller, action, id, lineage);
  const Json& limits = FieldOf(*action.doc, "limits");
  Json input;
  if (args.is_object()) {
    input = KeyValuesToObject(action.parameters, /*skip_init=*/true);
    input.erase("_actions");
    for (const auto& [k, v] : args.items()) input[k] = v;
  } else {
    input = args;
  }
  Json response = {{"statusCode", 0}, {"result", Json::object()}};
  Json component_ids = Json::array();
  // The sequence's record holds its last component's result: the secrets of
  // every component are kept out of it.
  SecretRedactor redactor = RedactorFor(action, args);
  int64_t duration = 0;
  int64_t memory = 0;
  const int64_t start = clock_.NowMillis();
  const int64_t queued_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.SteadyNow() - received).count();
  for (const Json& c : FieldOf(FieldOf(*action.doc, "exec"), "components")) {
    Result<EntityName> name = ParseFullyQualifiedName(c.get<std::string>(), caller.namespace_name);
    Result<ResolvedAction> component = name.ok() ? ResolveAction(caller, *name) : Result<ResolvedAction>(name.status());
    if (!component.ok() || depth >= kMaxSequenceDepth) {
      response = {{"statusCode", 1}, {"result", {{"error", std::string(kNoComponentText)}}}};
      break;
    }
    if (atomic_budget == 0) {
      response = {{"statusCode", 1}, {"result", {{"error", std::string(kTooManyText)}}}};
      break;
    }
    memory = std::max(memory, json::GetInt(FieldOf(*component->doc, "limits"), "memory"));
    redactor.Add(SecretNames({&FieldOf(*component->doc, "annotations"), &component->package_annotations}),
                 component->parameters);
    const std::string component_id = NewActivationId(clock_.Now());
    const Json done = Execute(caller, *component, input, component_id, Lineage{lineage.trace_id, id, ""},
                              clock_.SteadyNow(), atomic_budget, depth + 1);
    component_ids.push_back(component_id);
    duration += json::GetInt(done, "duration");
    response = done["response"];
    const Json& result = response.value("result", Json::object());
    if (result.is_object() && result.contains("error")) break;
    input = result.is_object() || result.is_array() ? result : Json::object();
  }
  record["start"] = start;
  record["end"] = std::max(clock_.NowMillis(), start);
  record["duration"] = duration;
  record["response"] = response;
  record["logs"] = component_ids;
  Json& annotations = record["annotations"];
  SetKeyValue(annotations, "topmost", lineage.cause.empty());
  SetKeyValue(annotations, "kind", "sequence");
  SetKeyValue(annotations, "waitTime", queued_ms);
  Json seq_limits = {{"timeout", limits.value("timeout", options_.bounds.default_timeout_ms)},
                     {"logs", limits.value("logs", options_.bounds.default_logs_mb)},
                     {"memory", memory}};
  SetKeyValue(annotations, "limits", seq_limits);
  if (!lineage.cause.empty()) SetKeyValue(annotations, "causedBy", "sequence");
  StoreRecord(redactor.RedactRecord(record));
  LogFinished(record, false);
  return record;
}

void Controller::StopWaiting() { waits_.StopAll(); }

void Controller::Drain() {
  outstanding_.WaitForNone();
  activations_->Flush();
}

// --- packages ---------------------------------------------------------------

Result<Json> Controller::PutPackage(const Identity& caller, const std::string& ns, const std::string& name,
                                    const Json& body, bool overwrite) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  if (!body.is_object()) return Malformed("the body must be a JSON object");
  if (name == "default") return Status::InvalidArgument("Package name 'default' is reserved.");
  const std::string id = ns + "/" + name;
  WISP_ASSIGN_OR_RETURN(std::optional<Json> old, ExistingForPut(id, kPackage, overwrite));
  if (body.contains("parameters")) WISP_RETURN_IF_ERROR(CheckSize(body["parameters"], options_.max_parameter_bytes));

  Json doc = old ? *old : Json::object();
  doc["_id"] = id;
  doc["entityType"] = kPackage;
  doc["namespace"] = ns;
  doc["name"] = name;
  const Json requested = body.value("binding", Json());
  const bool wants_binding = requested.is_object() && requested.contains("name");
  if (old && wants_binding && !IsBinding(*old)) {
    return Status::Conflict("Resource is a package and cannot be converted into a binding.");
  }
  if (old && !wants_binding && requested.is_object() && IsBinding(*old) && !requested.empty()) {
    return Status::Conflict("Resource is a binding and cannot be converted into a package.");
  }
  if (wants_binding) {
    if (!requested["name"].is_string()) return Malformed("binding must be {namespace, name}");
    std::string bns = json::GetString(requested, "namespace", caller.namespace_name);
    if (bns.empty() || bns == kDefaultNamespace) bns = caller.namespace_name;
    const std::string bname = requested["name"].get<std::string>();
    if (!IsValidEntityName(bns) || !IsValidEntityName(bname)) {
      return Status::InvalidArgument(std::string(kIllegalNameText));
    }
    Result<Json> target = LoadEntity(bns + "/" + bname, kPackage);
    if (!target.ok()) return Status::InvalidArgument("Binding references a package that does not exist.");
    if (IsBinding(*target)) return Status::InvalidArgument("Cannot bind to another package binding.");
    if (bns != caller.namespace_name && !target->value("publish", false)) return NotEntitled();
    doc["binding"] = {{"namespace", bns}, {"name", bname}};
  } else if (!old) {
    doc["binding"] = Json::object();
  }
  WISP_RETURN_IF_ERROR(ApplyCommonFields(doc, body, old, /*replace_annotations=*/true));
  if (IsBinding(doc)) SetKeyValue(doc["annotations"], "binding", doc["binding"]);
  doc["updated"] = clock_.NowMillis();
  WISP_ASSIGN_OR_RETURN(Json saved, Save(std::move(doc)));
  return Wire(std::move(saved));
}

Result<Json> Controller::GetPackage(const Identity& caller, const std::string& ns, const std::string& name) {
  Result<Json> doc = LoadEntity(ns + "/" + name, kPackage);
  const bool own = ns == caller.namespace_name;
  if (!doc.ok()) return own ? doc.status() : NotEntitled();
  if (!own && (!doc->value("publish", false) || IsBinding(*doc))) return NotEntitled();
  Json out = Wire(*doc);
  std::string content = ns + "/" + name + "/";
  if (IsBinding(*doc)) {
    const Json b = (*doc)["binding"];
    Result<Json> bound = LoadEntity(json::GetString(b, "namespace") + "/" + json::GetString(b, "name"), kPackage);
    if (bound.ok()) {
      out["parameters"] =
          MaskParameters(MergeKeyValues(bound->value("parameters", Json::array()), out["parameters"]),
                         SecretNames({&out["annotations"], &FieldOf(*bound, "annotations")}));
      content = json::GetString(b, "namespace") + "/" + json::GetString(b, "name") + "/";
    }
  }
  Json actions = Json::array();
  Json feeds = Json::array();
  for (const Json& entry : Scan(content)) {
    if (entry.value("entityType", "") != kAction) continue;
    const Json item = {{"name", entry["name"]}, {"version", entry["version"]}, {"annotations", entry["annotations"]}};
    (KeyValue(entry["annotations"], "feed").is_null() ? actions : feeds).push_back(item);
  }
  out["actions"] = actions;
  out["feeds"] = feeds;
  return out;
}

Result<Json> Controller::DeletePackage(const Identity& caller, const std::string& ns, const std::string& name,
                                       bool force) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  WISP_ASSIGN_OR_RETURN(Json doc, LoadEntity(ns + "/" + name, kPackage));
  std::vector<Json> contents = Scan(ns + "/" + name + "/");
  if (!contents.empty() && !force) {
    return Status::Conflict("Package not empty (contains " + std::to_string(contents.size()) +
                            " entities). Set force param or delete package contents.");
  }
  for (const Json& entry : contents) {
    WISP_RETURN_IF_ERROR(Remove(entry));
    if (entry.value("entityType", "") == kAction) RetireEarlierVersions(json::GetString(entry, "_id"), nullptr);
  }
  WISP_RETURN_IF_ERROR(Remove(doc));
  return Wire(std::move(doc));
}

Result<Json> Controller::ListPackages(const Identity& caller, const std::string& ns, const ListOptions& list) {
  const bool own = ns == caller.namespace_name;
  std::vector<Json> items;
  for (Json& doc : Scan(ns + "/")) {
    if (doc.value("entityType", "") != kPackage) continue;
    if (!own && (!doc.value("publish", false) || IsBinding(doc))) continue;
    Json item = {{"namespace", doc["namespace"]},
                 {"name", doc["name"]},
                 {"version", doc["version"]},
                 {"publish", doc["publish"]},
                 {"annotations", doc["annotations"]},
                 {"updated", doc["updated"]},
                 {"binding", IsBinding(doc) ? doc["binding"] : Json(false)}};
    items.push_back(std::move(item));
  }
  return Page(std::move(items), list, "packages");
}

// --- triggers and rules -----------------------------------------------------

Result<Json> Controller::PutTrigger(const Identity& caller, const std::string& ns, const std::string& name,
                                    const Json& body, bool overwrite) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  if (!body.is_object()) return Malformed("the body must be a JSON object");
  const std::string id = ns + "/" + name;
  WISP_ASSIGN_OR_RETURN(std::optional<Json> old, ExistingForPut(id, kTrigger, overwrite));
  if (body.contains("parameters")) WISP_RETURN_IF_ERROR(CheckSize(body["parameters"], options_.max_parameter_bytes));
  const Json feed = KeyValue(body.value("annotations", Json::array()), "feed");
  if (!feed.is_null() && (!feed.is_string() || !ParseFullyQualifiedName(feed.get<std::string>(), ns).ok())) {
    return Status::InvalidArgument("Feed name is not valid");
  }
  Json doc = old ? *old : Json::object();
  doc["_id"] = id;
  doc["entityType"] = kTrigger;
  doc["namespace"] = ns;
  doc["name"] = name;
  doc["limits"] = Json::object();
  WISP_RETURN_IF_ERROR(ApplyCommonFields(doc, body, old, /*replace_annotations=*/true));
  doc["updated"] = clock_.NowMillis();
  WISP_ASSIGN_OR_RETURN(Json saved, Save(std::move(doc)));
  return Wire(std::move(saved));
}

Result<Json> Controller::GetTrigger(const Identity& caller, const std::string& ns, const std::string& name) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  WISP_ASSIGN_OR_RETURN(Json doc, LoadEntity(ns + "/" + name, kTrigger));
  return Wire(std::move(doc));
}

Result<Json> Controller::DeleteTrigger(const Identity& caller, const std::string& ns, const std::string& name) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  WISP_ASSIGN_OR_RETURN(Json doc, LoadEntity(ns + "/" + name, kTrigger));
  WISP_RETURN_IF_ERROR(Remove(doc));
  return Wire(std::move(doc));
}

Result<Json> Controller::ListTriggers(const Identity& caller, const std::string& ns, const ListOptions& list) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  std::vector<Json> items;
  for (Json& doc : Scan(ns + "/")) {
    if (doc.value("entityType", "") != kTrigger) continue;
    items.push_back({{"namespace", doc["namespace"]},
                     {"name", doc["name"]},
                     {"version", doc["version"]},
                     {"publish", doc["publish"]},
                     {"annotations", doc["annotations"]},
                     {"updated", doc["updated"]}});
  }
  return Page(std::move(items), list, "triggers");
}

// A rule's `trigger`/`action` reference as stored: {path, name}.
static Json PathName(const EntityName& n) { return Json{{"path", n.Path()}, {"name", n.name}}; }

// The document id of the trigger a stored rule names.
static std::string TriggerIdOf(const Json& rule) {
  const Json ref = rule.value("trigger", Json::object());
  return json::GetString(ref, "path") + "/" + json::GetString(ref, "name");
}

Result<Json> Controller::PutRule(const Identity& caller, const std::string& ns, const std::string& name,
                                 const Json& body, bool overwrite) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  if (!body.is_object()) return Malformed("the body must be a JSON object");
  const std::string id = ns + "/" + name;
  WISP_ASSIGN_OR_RETURN(std::optional<Json> old, ExistingForPut(id, kRule, overwrite));
  const auto reference = [&](const char* field) -> Result<EntityName> {
    if (body.contains(field) && body[field].is_string()) {
      return ParseFullyQualifiedName(body[field].get<std::string>(), caller.namespace_name);
    }
    if (old) {
      const Json ref = (*old)[field];
      return ParseFullyQualifiedName(json::GetString(ref, "path") + "/" + json::GetString(ref, "name"), ns);
    }
    return Status::InvalidArgument("rule requires a valid trigger and a valid action");
  };
  WISP_ASSIGN_OR_RETURN(EntityName trigger, reference("trigger"));
  WISP_ASSIGN_OR_RETURN(EntityName action, reference("action"));
  Result<Json> trigger_doc = LoadEntity(trigger.DocId(), kTrigger);
  if (!trigger_doc.ok()) return Status::InvalidArgument("trigger " + trigger.FullName() + " does not exist");
  if (!ResolveAction(caller, action).ok())
    return Status::InvalidArgument("action " + action.FullName() + " does not exist");

  const std::string rule_key = ns + "/" + name;
  std::string status = "active";
  if (old) {
    // Keep the current status, unlinking the old trigger when it changed.
    const std::string old_trigger_id = TriggerIdOf(*old);
    Result<Json> old_trigger = LoadEntity(old_trigger_id, kTrigger);
    if (old_trigger.ok()) {
      status = (*old_trigger).value("rules", Json::object()).value(rule_key, Json::object()).value("status", status);
      if (old_trigger_id != trigger.DocId()) {
        (*old_trigger)["rules"].erase(rule_key);
        WISP_RETURN_IF_ERROR(Save(std::move(*old_trigger)).status());
        trigger_doc = LoadEntity(trigger.DocId(), kTrigger);
        if (!trigger_doc.ok()) return trigger_doc.status();
      }
    }
  }
  Json doc = old ? *old : Json::object();
  doc["_id"] = id;
  doc["entityType"] = kRule;
  doc["namespace"] = ns;
  doc["name"] = name;
  doc["trigger"] = PathName(trigger);
  doc["action"] = PathName(action);
  WISP_RETURN_IF_ERROR(ApplyCommonFields(doc, body, old, /*replace_annotations=*/true));
  doc.erase("parameters");
  doc.erase("status");
  doc["updated"] = clock_.NowMillis();
  Json t = *trigger_doc;
  if (!t.contains("rules") || !t["rules"].is_object()) t["rules"] = Json::object();
  t["rules"][rule_key] = {{"action", PathName(action)}, {"status", status}};
  WISP_RETURN_IF_ERROR(Save(std::move(t)).status());
  WISP_ASSIGN_OR_RETURN(Json saved, Save(std::move(doc)));
  Json out = Wire(std::move(saved));
  out["status"] = status;
  return out;
}

Result<Json> Controller::GetRule(const Identity& caller, const std::string& ns, const std::string& name) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  WISP_ASSIGN_OR_RETURN(Json doc, LoadEntity(ns + "/" + name, kRule));
  Result<Json> trigger = LoadEntity(TriggerIdOf(doc), kTrigger);
  Json out = Wire(std::move(doc));
  out["status"] =
      trigger.ok()
          ? trigger->value("rules", Json::object()).value(ns + "/" + name, Json::object()).value("status", "inactive")
          : "inactive";
  return out;
}

Result<Json> Controller::DeleteRule(const Identity& caller, const std::string& ns, const std::string& name) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  WISP_ASSIGN_OR_RETURN(Json doc, LoadEntity(ns + "/" + name, kRule));
  Result<Json> trigger = LoadEntity(TriggerIdOf(doc), kTrigger);
  if (trigger.ok() && trigger->value("rules", Json::object()).contains(ns + "/" + name)) {
    (*trigger)["rules"].erase(ns + "/" + name);
    WISP_RETURN_IF_ERROR(Save(std::move(*trigger)).status());
  }
  WISP_RETURN_IF_ERROR(Remove(doc));
  Json out = Wire(std::move(doc));
  out["status"] = "inactive";
  return out;
}

Result<Json> Controller::SetRuleStatus(const Identity& caller, const std::string& ns, const std::string& name,
                                       const Json& body) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  const std::string status = json::GetString(body, "status");
  if (status != "active" && status != "inactive") {
    return Malformed("status must be 'active' or 'inactive'");
  }
  WISP_ASSIGN_OR_RETURN(Json doc, LoadEntity(ns + "/" + name, kRule));
  Result<Json> trigger = LoadEntity(TriggerIdOf(doc), kTrigger);
  if (!trigger.ok()) return Status::NotFound("Only rules with existing triggers can be activated");
  Json t = *trigger;
  if (!t.contains("rules") || !t["rules"].is_object()) t["rules"] = Json::object();
  t["rules"][ns + "/" + name] = {{"action", doc["action"]}, {"status", status}};
  WISP_RETURN_IF_ERROR(Save(std::move(t)).status());
  return Json::object();
}

Result<Json> Controller::ListRules(const Identity& caller, const std::string& ns, const ListOptions& list) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  std::vector<Json> items;
  for (Json& doc : Scan(ns + "/")) {
    if (doc.value("entityType", "") == kRule) items.push_back(Wire(std::move(doc)));
  }
  return Page(std::move(items), list, "rules");
}

// --- fires ------------------------------------------------------------------

Status Controller::AdmitFire(const std::string& ns) {
  std::lock_guard<std::mutex> lock(throttle_mu_);
  Throttle& t = ThrottleOf(ns);
  MinuteCounter& fires = t.fires;
  const int64_t count = fires.Next(clock_.NowMillis() / 60'000);
  if (count > options_.fires_per_minute) {
    if (t.throttled_by_rate) t.throttled_by_rate->Inc();
    return TooManyPerMinute(count, options_.fires_per_minute);
  }
  fires.count = count;
  return Status::Ok();
}

Json Controller::FireRule(const Identity& caller, const std::string& rule_key, const Json& link, const Json& args,
                          const std::string& trace_id, const std::string& trigger_id) {
  const Json& action_ref = FieldOf(link, "action");
  const std::string action_path = json::GetString(action_ref, "path") + "/" + json::GetString(action_ref, "name");
  Json line = {{"rule", rule_key}, {"action", action_path}};
  Result<EntityName> name = ParseFullyQualifiedName("/" + action_path, caller.namespace_name);
  InvokeOptions invoke;
  invoke.trace_id = trace_id;
  invoke.parent_id = trigger_id;
  Result<InvokeReply> reply = name.ok() ? Invoke(caller, *name, args, invoke) : Result<InvokeReply>(name.status());
  if (reply.ok()) {
    line["statusCode"] = 0;
    line["success"] = true;
    line["activationId"] = reply->activation_id;
    return line;
  }
  // 4xx answers (missing action, throttled, final parameters) are the
  // caller's; anything else is the platform's.
  const StatusCode code = reply.status().code();
  const bool client = code == StatusCode::kNotFound || code == StatusCode::kInvalidArgument ||
                      code == StatusCode::kPermissionDenied || code == StatusCode::kConflict ||
                      code == StatusCode::kResourceExhausted || code == StatusCode::kPayloadTooLarge;
  line["statusCode"] = client ? 1 : 3;
  line["success"] = false;
  line["error"] = std::string(reply.status().message());
  return line;
}

Result<std::optional<std::string>> Controller::FireTrigger(const Identity& caller, const std::string& ns,
                                                           const std::string& name, Json payload, const Json& headers,
                                                           const std::string& trace_id) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  if (payload.is_null()) payload = Json::object();
  if (!payload.is_object()) return Malformed("the body must be a JSON object");
  WISP_RETURN_IF_ERROR(CheckSize(payload, options_.max_payload_bytes));
  WISP_ASSIGN_OR_RETURN(Json trigger, LoadEntity(ns + "/" + name, kTrigger));
  std::vector<std::pair<std::string, Json>> active;
  for (const auto& [rule_key, link] : FieldOf(trigger, "rules").items()) {
    if (link.is_object() && link.value("status", "") == "active") active.emplace_back(rule_key, link);
  }
  if (active.empty()) return std::optional<std::string>();
  WISP_RETURN_IF_ERROR(AdmitFire(caller.namespace_name));

  Json args = KeyValuesToObject(trigger.value("parameters", Json::array()));
  if (!headers.is_null()) args["__ow_headers"] = headers;
  for (const auto& [k, v] : payload.items()) args[k] = v;
  const std::string id = NewActivationId(clock_.Now());
  Json record = {{"namespace", caller.namespace_name},
                 {"name", name},
                 {"version", trigger.value("version", std::string(kFirstVersion))},
                 {"subject", caller.subject},
                 {"publish", false},
                 {"activationId", id},
                 {"trace_id", trace_id},
                 {"nameKey", name},
                 {"start", clock_.NowMillis()},
                 {"end", 0},
                 {"response", {{"statusCode", 0}, {"result", payload}, {"size", ResultBytes(payload)}}},
                 {"annotations", Json::array()},
                 {"logs", Json::array()}};
  SecretRedactor redactor;
  redactor.Add(SecretNames({&FieldOf(trigger, "annotations")}), args);
  auto task = [this, caller, active = std::move(active), args = std::move(args), record = std::move(record),
               redactor = std::move(redactor), trace_id, id, path = ns + "/" + name,
               queued = outstanding_.Enter()]() mutable {
    log::LogContext context({{"trace_id", trace_id}, {"activation_id", id}, {"action", path}});
    for (const auto& [rule_key, link] : active) {
      record["logs"].push_back(json::Dump(FireRule(caller, rule_key, link, args, trace_id, id)));
    }
    log::Debug("whisk", "trigger fired", {{"rules", active.size()}});
    StoreRecord(redactor.RedactRecord(std::move(record)));
  };
  if (!pool_->Submit(std::move(task))) return Status::Unavailable("The server is shutting down.");
  return std::optional<std::string>(id);
}

// --- activations ------------------------------------------------------------

Result<Json> Controller::ListActivations(const Identity& caller, const std::string& ns, const ActivationQuery& query,
                                         bool docs, bool count) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  if (count) return Json{{"activations", activations_->Count(ns, query)}};
  Json out = Json::array();
  for (const Json& record : activations_->List(ns, query)) {
    out.push_back(docs ? ExtendedActivation(record) : SummaryActivation(record));
  }
  return out;
}

Result<Json> Controller::GetActivation(const Identity& caller, const std::string& ns, const std::string& id) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  WISP_RETURN_IF_ERROR(ValidateActivationId(id));
  return activations_->Get(ns, id);
}

Result<Json> Controller::GetTrace(const Identity& caller, const std::string& ns, const std::string& trace_id) {
  WISP_RETURN_IF_ERROR(RequireOwn(caller, ns));
  if (trace_id.empty() || trace_id.size() > 256) return Status::InvalidArgument("The trace id is not valid.");
  std::string id = trace_id;
  std::vector<Json> records = activations_->ByTrace(ns, id, kMaxTraceActivations + 1);
  if (records.empty() && ValidateActivationId(trace_id).ok()) {
    // An activation id stands for the trace that activation belongs to.
    if (Result<Json> record = activations_->Get(ns, trace_id); record.ok()) {
      id = json::GetString(*record, "trace_id");
      if (!id.empty()) records = activations_->ByTrace(ns, id, kMaxTraceActivations + 1);
    }
  }
  if (records.empty()) return Status::NotFound(std::string(kNotFoundText));
  const bool truncated = records.size() > kMaxTraceActivations;
  if (truncated) records.resize(kMaxTraceActivations);
  Json tree = BuildTraceTree(id, std::move(records));
  tree["namespace"] = ns;
  tree["truncated"] = truncated;
  return tree;
}

size_t Controller::ExpireActivations() {
  if (options_.activation_retention.count() <= 0) return 0;
  const int64_t cutoff = clock_.NowMillis() - options_.activation_retention.count();
  const size_t deleted = activations_->DeleteOlderThan(cutoff);
  if (deleted > 0) {
    log::Info("whisk", "expired activations", {{"deleted", deleted}, {"before", FormatIso8601(Clock::WallTime(std::chrono::milliseconds(cutoff)))}});
  }
  return deleted;
}

}  // namespace wisp::whisk
