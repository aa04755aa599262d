#include "apps/stackoverflow/question_store.h"

#include "http/url.h"
#include "util/base64.h"

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

// A CouchDB over HTTP: GET and PUT of single documents.
class RemoteStore final : public QuestionStore {
 public:
  RemoteStore(http::Client& http, QuestionStoreConfig config) : http_(http), config_(std::move(config)) {
    while (!config_.url.empty() && config_.url.back() == '/') config_.url.pop_back();
    db_url_ = config_.url + "/" + http::PercentEncode(config_.dbname);
  }

  Result<std::optional<Json>> Get(const std::string& id) override { return Read(DocUrl(id)); }

  Result<std::string> Put(Json doc, store::Durability) override {
    WISP_ASSIGN_OR_RETURN(Json answer, Write(DocUrl(json::GetString(doc, "_id")), doc));
    return json::GetString(answer, "rev");
  }

  Result<std::optional<Json>> GetLocal(const std::string& name) override {
    return Read(db_url_ + "/_local/" + http::PercentEncode(name));
  }

  Status PutLocal(const std::string& name, const Json& doc) override {
    // CouchDB wants the current _rev of a local document too.
    const std::string url = db_url_ + "/_local/" + http::PercentEncode(name);
    for (int attempt = 0; attempt < 5; ++attempt) {
      WISP_ASSIGN_OR_RETURN(std::optional<Json> current, Read(url));
      Json body = doc;
      if (current && current->contains("_rev")) body["_rev"] = (*current)["_rev"];
      Result<Json> written = Write(url, body);
      if (written.ok() || !written.status().IsConflict()) return written.status();
    }
    return Status::Conflict("the watermark document kept changing");
  }

 private:
  std::string DocUrl(const std::string& id) const { return db_url_ + "/" + http::PercentEncode(id); }

  http::ClientRequest Request(std::string method, std::string url) const {
    http::ClientRequest request;
    request.method = std::move(method);
    request.url = std::move(url);
    request.headers.Set("Accept", "application/json");
    if (!config_.username.empty()) {
      request.headers.Set("Authorization", "Basic " + Base64Encode(config_.username + ":" + config_.password));
    }
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

  Result<std::optional<Json>> Read(const std::string& url) {
    WISP_ASSIGN_OR_RETURN(http::ClientResponse response, http_.Send(Request("GET", url)));
    if (response.status == 404) return std::optional<Json>();
    if (response.status != 200) return CouchFailure(response);
    WISP_ASSIGN_OR_RETURN(Json doc, json::ParseObject(response.body));
    return std::optional<Json>(std::move(doc));
  }

  // PUT `body` to `url`; a missing database is created, then the PUT repeated.
  Result<Json> Write(const std::string& url, const Json& body) {
    http::ClientRequest request = Request("PUT", url);
    request.headers.Set("Content-Type", "application/json");
    request.body = json::Dump(body);
    for (int attempt = 0; attempt < 2; ++attempt) {
      WISP_ASSIGN_OR_RETURN(http::ClientResponse response, http_.Send(request));
      if (response.status == 201 || response.status == 202) return json::ParseObject(response.body);
      if (response.status != 404 || attempt > 0) return CouchFailure(response);
      WISP_ASSIGN_OR_RETURN(http::ClientResponse created, http_.Send(Request("PUT", db_url_)));
      if (created.status != 201 && created.status != 202 && created.status != 412) return CouchFailure(created);
    }
    return Status::Internal("unreachable");
  }

  http::Client& http_;
  QuestionStoreConfig config_;
  std::string db_url_;
};

}  // namespace

std::unique_ptr<QuestionStore> EmbeddedQuestionStore(store::Store& store, std::string dbname) {
  return std::make_unique<EmbeddedStore>(store, std::move(dbname));
}

std::unique_ptr<QuestionStore> RemoteQuestionStore(http::Client& http, QuestionStoreConfig config) {
  return std::make_unique<RemoteStore>(http, std::move(config));
}

}  // namespace wisp::stackoverflow
