#include "apps/stackoverflow/question_store.h"

#include "http/url.h"

namespace wisp::stackoverflow {
namespace {

constexpr std::string_view kLocalPrefix = "_local/";

// The embedded store, straight to store::Database: no HTTP, no re-encoding.
class EmbeddedStore final : public QuestionStore {
 public:
  EmbeddedStore(store::Store& store, std::string dbname) : store_(store), dbname_(std::move(dbname)) {}

  Result<std::optional<Json>> Get(const std::string& id) override {
    WISP_ASSIGN_OR_RETURN(std::shared_ptr<store::Database> db, Open());
    Result<Json> doc = db->Get(id, {});
    if (doc.status().code() == StatusCode::kNotFound) return std::optional<Json>();
    if (!doc.ok()) return doc.status();
    return std::optional<Json>(std::move(*doc));
  }

  Result<std::string> Put(Json doc, store::Durability durability) override {
    WISP_ASSIGN_OR_RETURN(std::shared_ptr<store::Database> db, Open());
    store::WriteResult written = db->Put(std::move(doc), /*new_edits=*/true, durability);
    if (!written.status.ok()) return written.status;
    return written.rev;
  }

  Result<std::optional<Json>> GetLocal(const std::string& name) override {
    WISP_ASSIGN_OR_RETURN(std::shared_ptr<store::Database> db, Open());
    Result<Json> doc = db->GetLocal(std::string(kLocalPrefix) + name);
    if (doc.status().code() == StatusCode::kNotFound) return std::optional<Json>();
    if (!doc.ok()) return doc.status();
    return std::optional<Json>(std::move(*doc));
  }

  Status PutLocal(const std::string& name, const Json& doc) override {
    WISP_ASSIGN_OR_RETURN(std::shared_ptr<store::Database> db, Open());
    Json body = doc;
    body["_id"] = std::string(kLocalPrefix) + name;
    return db->PutLocal(std::string(kLocalPrefix) + name, std::move(body)).status;
  }

 private:
  // The database, created on first use.
  Result<std::shared_ptr<store::Database>> Open() {
    Result<std::shared_ptr<store::Database>> db = store_.GetDatabase(dbname_);
    if (db.ok() || db.status().code() != StatusCode::kNotFound) return db;
    Status created = store_.CreateDatabase(dbname_);
    if (!created.ok() && created.code() != StatusCode::kPreconditionFailed) return created;
    return store_.GetDatabase(dbname_);
  }

  store::Store& store_;
  const std::string dbname_;
};

// A CouchDB over HTTP: GET and PUT of single documents, with the
// credentials RemoteCouch adds (basic, cookie or JWT).
class RemoteStore final : public QuestionStore {
 public:
  RemoteStore(std::shared_ptr<store::RemoteCouch> couch, const std::string& dbname)
      : couch_(std::move(couch)), db_path_("/" + http::PercentEncode(dbname)) {}

  Result<std::optional<Json>> Get(const std::string& id) override { return Read(DocPath(id)); }

  Result<std::string> Put(Json doc, store::Durability) override {
    WISP_ASSIGN_OR_RETURN(Json answer, Write(DocPath(json::GetString(doc, "_id")), doc));
    return json::GetString(answer, "rev");
  }

  Result<std::optional<Json>> GetLocal(const std::string& name) override {
    return Read(db_path_ + "/_local/" + http::PercentEncode(name));
  }

  Status PutLocal(const std::string& name, const Json& doc) override {
    // CouchDB wants the current _rev of a local document too.
    const std::string path = db_path_ + "/_local/" + http::PercentEncode(name);
    for (int attempt = 0; attempt < 5; ++attempt) {
      WISP_ASSIGN_OR_RETURN(std::optional<Json> current, Read(path));
      Json body = doc;
      if (current && current->contains("_rev")) body["_rev"] = (*current)["_rev"];
      Result<Json> written = Write(path, body);
      if (written.ok() || !written.status().IsConflict()) return written.status();
    }
    return Status::Conflict("the watermark document kept changing");
  }

 private:
  std::string DocPath(const std::string& id) const { return db_path_ + "/" + http::PercentEncode(id); }

  static http::ClientRequest Request(std::string method, std::string path) {
    http::ClientRequest request;
    request.method = std::move(method);
    request.url = std::move(path);
    request.headers.Set("Accept", "application/json");
    return request;
  }

  // CouchDB's `{error, reason}` as a Status with the matching code.
  static Status CouchFailure(const http::ClientResponse& response) {
    Result<Json> body = json::ParseObject(response.body);
    const std::string reason = body.ok() ? json::GetString(*body, "error") + ": " + json::GetString(*body, "reason")
                                         : "HTTP " + std::to_string(response.status);
    switch (response.status) {
      case 409: return Status::Conflict(reason);
      case 401: return Status::Unauthenticated(reason);
      case 403: return Status::PermissionDenied(reason);
      case 404: return Status::NotFound(reason);
      case 400: return Status::InvalidArgument(reason);
      default: return Status::Unavailable("CouchDB answered " + std::to_string(response.status) + ": " + reason);
    }
  }

  Result<std::optional<Json>> Read(const std::string& path) {
    WISP_ASSIGN_OR_RETURN(http::ClientResponse response, couch_->Send(Request("GET", path)));
    if (response.status == 404) return std::optional<Json>();
    if (response.status != 200) return CouchFailure(response);
    WISP_ASSIGN_OR_RETURN(Json doc, json::ParseObject(response.body));
    return std::optional<Json>(std::move(doc));
  }

  // PUT `body` to `path`; a missing database is created, then the PUT repeated.
  Result<Json> Write(const std::string& path, const Json& body) {
    http::ClientRequest request = Request("PUT", path);
    request.headers.Set("Content-Type", "application/json");
    request.body = json::Dump(body);
    for (int attempt = 0; attempt < 2; ++attempt) {
      WISP_ASSIGN_OR_RETURN(http::ClientResponse response, couch_->Send(request));
      if (response.status == 201 || response.status == 202) return json::ParseObject(response.body);
      if (response.status != 404 || attempt > 0) return CouchFailure(response);
      WISP_ASSIGN_OR_RETURN(http::ClientResponse created, couch_->Send(Request("PUT", db_path_)));
      if (created.status != 201 && created.status != 202 && created.status != 412) return CouchFailure(created);
    }
    return Status::Internal("unreachable");
  }

  const std::shared_ptr<store::RemoteCouch> couch_;
  const std::string db_path_;
};

// A store that cannot be reached as configured: every call says why.
class MisconfiguredStore final : public QuestionStore {
 public:
  explicit MisconfiguredStore(Status why) : why_(std::move(why)) {}
  Result<std::optional<Json>> Get(const std::string&) override { return why_; }
  Result<std::string> Put(Json, store::Durability) override { return why_; }
  Result<std::optional<Json>> GetLocal(const std::string&) override { return why_; }
  Status PutLocal(const std::string&, const Json&) override { return why_; }

 private:
  const Status why_;
};

}  // namespace

std::unique_ptr<QuestionStore> EmbeddedQuestionStore(store::Store& store, std::string dbname) {
  return std::make_unique<EmbeddedStore>(store, std::move(dbname));
}

std::unique_ptr<QuestionStore> RemoteQuestionStore(http::Client& http, const QuestionStoreConfig& config) {
  store::RemoteCouchOptions options;
  options.url = config.url;
  options.auth = config.username.empty() ? store::RemoteAuth::kNone : store::RemoteAuth::kBasic;
  options.username = config.username;
  options.secret = config.password;
  Result<std::shared_ptr<store::RemoteCouch>> couch = store::RemoteCouch::Create(http, std::move(options));
  if (!couch.ok()) return std::make_unique<MisconfiguredStore>(Status::InvalidArgument("store_url: " + couch.status().message()));
  return RemoteQuestionStore(std::move(*couch), config.dbname);
}

std::unique_ptr<QuestionStore> RemoteQuestionStore(std::shared_ptr<store::RemoteCouch> couch,
                                                   const std::string& dbname) {
  return std::make_unique<RemoteStore>(std::move(couch), dbname);
}

}  // namespace wisp::stackoverflow
