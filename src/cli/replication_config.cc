#include "cli/replication_config.h"

#include <map>
#include <set>

#include "store/database.h"
#include "store/replication_manager.h"
#include "util/log.h"

namespace wisp::cli {
namespace {

Status Bad(size_t index, const std::string& name, const std::string& what) {
  return Status::InvalidArgument("replication " + (name.empty() ? "#" + std::to_string(index + 1) : "'" + name + "'") +
                                 ": " + what);
}

// The remote endpoint of an entry, with the store's credentials when asked.
Result<Json> RemoteEndpoint(const Json& entry, const store::RemoteCouchOptions* credentials, size_t index,
                            const std::string& name) {
  Json remote = entry.value("remote", Json());
  if (remote.is_string()) remote = Json{{"url", remote}};
  if (!remote.is_object() || !remote.contains("url") || !remote["url"].is_string()) {
    return Bad(index, name, "\"remote\" must be a URL or an object with \"url\"");
  }
  const std::string url = remote["url"].get<std::string>();
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return Bad(index, name, "\"remote\" must be an http:// or https:// URL");
  }
  const std::string wanted = json::GetString(entry, "credentials");
  if (wanted.empty()) return remote;
  if (wanted != "store") return Bad(index, name, "\"credentials\" can only be \"store\"");
  if (!credentials || credentials->auth == store::RemoteAuth::kNone) {
    return Bad(index, name, "\"credentials\": \"store\" needs --store-url with --store-auth");
  }
  if (credentials->auth == store::RemoteAuth::kJwt) {
    remote["headers"]["Authorization"] = "Bearer " + credentials->secret;
  } else {
    remote["auth"] = Json{{"basic", {{"username", credentials->username}, {"password", credentials->secret}}}};
  }
  return remote;
}

// The fields a job is made of: what Apply() compares.
Json JobFields(const Json& doc) {
  Json out = Json::object();
  for (const auto& [key, value] : doc.items()) {
    if (!key.starts_with("_")) out[key] = value;
  }
  return out;
}

}  // namespace

Result<std::vector<std::pair<std::string, Json>>> ParseReplicationConfig(
    const std::string& text, const store::RemoteCouchOptions* store_credentials) {
  WISP_ASSIGN_OR_RETURN(Json config, json::ParseObject(text));
  const Json list = config.value("replications", Json());
  if (!list.is_array()) return Status::InvalidArgument("the file needs \"replications\": [...]");
  std::vector<std::pair<std::string, Json>> out;
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& entry = list[i];
    if (!entry.is_object()) return Bad(i, "", "must be an object");
    const std::string name = json::GetString(entry, "name");
    if (name.empty() || name.find(':') != std::string::npos) {
      return Bad(i, name, "needs a \"name\" without ':'");
    }
    if (!names.insert(name).second) return Bad(i, name, "the name is used twice");
    const std::string local = json::GetString(entry, "local");
    if (local.empty() || local.find("://") != std::string::npos) {
      return Bad(i, name, "\"local\" must name a database of this server");
    }
    WISP_ASSIGN_OR_RETURN(Json remote, RemoteEndpoint(entry, store_credentials, i, name));
    const std::string direction = json::GetString(entry, "direction", "both");
    if (direction != "push" && direction != "pull" && direction != "both") {
      return Bad(i, name, "\"direction\" is push, pull or both");
    }
    Json job = {{"continuous", true}, {"wisp_config", name}};
    if (entry.contains("selector")) {
      if (!entry["selector"].is_object()) return Bad(i, name, "\"selector\" must be a Mango selector object");
      job["selector"] = entry["selector"];
    }
    if (entry.contains("doc_ids")) {
      const Json& ids = entry["doc_ids"];
      bool strings = ids.is_array();
      for (const Json& id : strings ? ids : Json::array()) strings = strings && id.is_string();
      if (!strings) return Bad(i, name, "\"doc_ids\" must be a list of strings");
      job["doc_ids"] = ids;
    }
    if (entry.contains("create_target")) {
      if (!entry["create_target"].is_boolean()) return Bad(i, name, "\"create_target\" must be true or false");
      job["create_target"] = entry["create_target"];
    }
    if (direction != "pull") {
      Json push = job;
      push["source"] = local;
      push["target"] = remote;
      out.emplace_back(std::string(kConfigReplicationPrefix) + name + ":push", std::move(push));
    }
    if (direction != "push") {
      Json pull = job;
      pull["source"] = remote;
      pull["target"] = local;
      out.emplace_back(std::string(kConfigReplicationPrefix) + name + ":pull", std::move(pull));
    }
  }
  return out;
}

Status ApplyReplicationConfig(store::Store& store, const std::vector<std::pair<std::string, Json>>& wanted) {
  const std::string replicator(store::kReplicatorDb);
  if (Status s = store.CreateDatabase(replicator); !s.ok() && s.code() != StatusCode::kPreconditionFailed) return s;
  WISP_ASSIGN_OR_RETURN(std::shared_ptr<store::Database> db, store.GetDatabase(replicator));

  // What the file's earlier versions left: every wisp-config: document.
  store::AllDocsOptions existing_query;
  existing_query.startkey = kConfigReplicationPrefix;
  existing_query.endkey = std::string(kConfigReplicationPrefix) + "\xef\xbf\xbf";
  existing_query.include_docs = true;
  std::map<std::string, Json> existing;
  for (const Json& row : db->AllDocs(existing_query).value("rows", Json::array())) {
    if (row.contains("doc") && row["doc"].is_object()) existing[json::GetString(row, "id")] = row["doc"];
  }

  std::set<std::string> kept;
  for (const auto& [id, fields] : wanted) {
    kept.insert(id);
    // The local side is created when missing: a push needs its source, and
    // the jobs start before anyone could create it.
    for (const char* side : {"source", "target"}) {
      if (!fields[side].is_string()) continue;
      Status created = store.CreateDatabase(fields[side].get<std::string>());
      if (!created.ok() && created.code() != StatusCode::kPreconditionFailed) return created;
    }
    Json doc = fields;
    doc["_id"] = id;
    if (auto it = existing.find(id); it != existing.end()) {
      Json current = JobFields(it->second);
      // The manager's own _replication_* fields start with '_' and are not
      // compared; but a job that failed (a 401 from the remote, say) is
      // written again, so that a restart tries it again.
      const bool failed = json::GetString(it->second, "_replication_state") == "failed";
      if (current == JobFields(doc) && !failed) continue;
      doc["_rev"] = it->second["_rev"];
    }
    store::WriteResult written = db->Put(std::move(doc));
    if (!written.status.ok()) return Status(written.status.code(), "cannot write " + id + ": " + written.status.message());
    log::Info("cli", "replication from the configuration written", {{"doc_id", id}});
  }
  for (const auto& [id, doc] : existing) {
    if (kept.contains(id)) continue;
    Json deleted = {{"_id", id}, {"_rev", doc["_rev"]}, {"_deleted", true}};
    store::WriteResult written = db->Put(std::move(deleted));
    if (!written.status.ok()) return Status(written.status.code(), "cannot delete " + id + ": " + written.status.message());
    log::Info("cli", "replication no longer in the configuration removed", {{"doc_id", id}});
  }
  return Status::Ok();
}

}  // namespace wisp::cli
