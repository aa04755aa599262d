#include "store/replication_endpoint.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <utility>

#include "http/client.h"
#include "http/status_mapping.h"
#include "http/url.h"
#include "store/couch_error.h"
#include "store/database.h"
#include "store/mango.h"
#include "store/store.h"
#include "util/base64.h"

namespace wisp::store {
namespace {

using Ms = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kLocalPrefix = "_local/";
constexpr std::string_view kDesignPrefix = "_design/";
// How often a local wait for changes looks at the stop flag, and how often a
// remote longpoll asks for a heartbeat (each one lets the job notice a stop).
constexpr Ms kStopCheckInterval{250};
constexpr Ms kRemoteHeartbeat{1000};
// How long after its `timeout` the client gives up on a longpoll.
constexpr Ms kLongpollGrace{5000};

// A sequence as an integer: wisp's own, or the integer prefix of CouchDB's
// "N-..." strings.
int64_t SeqAsInt(const Json& seq) {
  if (seq.is_number_integer()) return seq.get<int64_t>();
  if (seq.is_number()) return static_cast<int64_t>(seq.get<double>());
  if (seq.is_string()) return std::strtoll(seq.get<std::string>().c_str(), nullptr, 10);
  return 0;
}

std::string WriteErrorName(const WriteResult& w) {
  if (!w.error.empty()) return w.error;
  return std::string(CouchErrorType(http::HttpStatusOf(w.status.code())));
}

// ---------------------------------------------------------------------------
// A database of this server, through the Database API.

class LocalEndpoint final : public Endpoint {
 public:
  LocalEndpoint(Store& store, std::string name) : store_(store), name_(std::move(name)) {}

  std::string Describe() const override { return name_; }

  Status Open(bool create) override {
    Result<std::shared_ptr<Database>> db = store_.GetDatabase(name_);
    if (!db.ok() && db.status().IsNotFound() && create) {
      Status created = store_.CreateDatabase(name_);
      if (!created.ok() && created.code() != StatusCode::kPreconditionFailed) return created;
      db = store_.GetDatabase(name_);
    }
    if (!db.ok()) {
      if (db.status().IsNotFound()) return Status::NotFound("could not open " + name_);
      return db.status();
    }
    db_ = std::move(*db);
    return Status::Ok();
  }

  Result<Json> Info() override { return db_->Info(); }

  Result<ChangesBatch> Changes(const ChangesRequest& request, const StopFlag& stopped) override {
    ChangesOptions options;
    options.since = SeqAsInt(request.since);
    options.limit = std::max<size_t>(request.limit, 1);
    options.all_docs_style = true;
    options.doc_ids = request.doc_ids;
    if (request.selector) {
      Result<Selector> selector = Selector::Parse(*request.selector);
      if (!selector.ok()) return selector.status();
      options.filter = [s = std::move(*selector)](const Json& doc) { return s.Matches(doc); };
    }
    ChangesPage page = db_->Changes(options);
    if (page.results.empty() && request.wait) {
      const auto deadline = SteadyClock::now() + *request.wait;
      int64_t since = std::max(options.since, page.last_seq);
      while (true) {
        if (stopped()) return Status::Cancelled("replication stopped");
        const auto now = SteadyClock::now();
        if (now >= deadline) break;
        if (db_->WaitForChange(since, std::min(deadline, now + kStopCheckInterval))) {
          options.since = since;
          page = db_->Changes(options);
          if (!page.results.empty() || !page.status.ok()) break;
          since = std::max(since, page.last_seq);
        }
      }
    }
    // A read that failed before it returned anything is retried by the
    // replicator; a partial page goes on from its last change.
    if (!page.status.ok() && page.results.empty()) return page.status;
    ChangesBatch batch;
    batch.results = std::move(page.results);
    batch.last_seq = std::max(page.last_seq, options.since);
    batch.pending = page.pending;
    return batch;
  }

  Result<Json> RevsDiff(const Json& request) override { return db_->RevsDiff(request); }

  Result<std::vector<Json>> FetchRevisions(
      const std::vector<std::pair<std::string, std::vector<std::string>>>& wanted) override {
    GetOptions options;
    options.revs = true;
    options.latest = true;
    options.attachments = true;
    std::vector<Json> docs;
    for (const auto& [id, revs] : wanted) {
      Result<Json> found = db_->OpenRevs(id, revs, options);
      if (!found.ok()) {
        if (found.status().IsNotFound()) continue;
        return found.status();
      }
      for (Json& item : *found) {
        if (item.contains("ok")) docs.push_back(std::move(item["ok"]));
      }
    }
    return docs;
  }

  Result<std::vector<DocWriteError>> WriteRevisions(std::vector<Json> docs) override {
    std::vector<DocWriteError> errors;
    for (const WriteResult& w : db_->BulkDocs(std::move(docs), /*new_edits=*/false)) {
      if (!w.status.ok()) errors.push_back({w.id, WriteErrorName(w), w.status.message()});
    }
    return errors;
  }

  Result<std::optional<Json>> GetCheckpoint(const std::string& id) override {
    Result<Json> doc = db_->GetLocal(std::string(kLocalPrefix) + id);
    if (doc.ok()) return std::optional<Json>(std::move(*doc));
    if (doc.status().IsNotFound()) return std::optional<Json>();
    return doc.status();
  }

  Status PutCheckpoint(const std::string& id, Json doc) override {
    const std::string full = std::string(kLocalPrefix) + id;
    doc["_id"] = full;
    WriteResult w = db_->PutLocal(full, std::move(doc));
    return w.status;
  }

 private:
  Store& store_;
  const std::string name_;
  std::shared_ptr<Database> db_;
};

// ---------------------------------------------------------------------------
// A remote CouchDB-compatible database, over HTTP.

// `scheme://[user[:password]@]host[:port]/path`, split into the URL without
// credentials (and without a trailing slash) and the credentials.
struct ParsedUrl {
  std::string url;
  std::optional<std::pair<std::string, std::string>> credentials;
};

Result<ParsedUrl> ParseRemoteUrl(const std::string& text) {
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string::npos) return Status::InvalidArgument("not a URL: " + text);
  const std::string scheme = text.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return Status::InvalidArgument("Unsupported scheme: " + scheme);
  const size_t authority_start = scheme_end + 3;
  size_t authority_end = text.find('/', authority_start);
  if (authority_end == std::string::npos) authority_end = text.size();
  std::string authority = text.substr(authority_start, authority_end - authority_start);
  ParsedUrl parsed;
  if (const size_t at = authority.rfind('@'); at != std::string::npos) {
    const std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    Result<std::string> user = http::PercentDecode(userinfo.substr(0, colon));
    Result<std::string> password = http::PercentDecode(colon == std::string::npos ? "" : userinfo.substr(colon + 1));
    if (!user.ok() || !password.ok()) return Status::InvalidArgument("bad credentials in URL");
    parsed.credentials = std::make_pair(std::move(*user), std::move(*password));
  }
  if (authority.empty()) return Status::InvalidArgument("no host in URL: " + scheme + "://");
  std::string path = text.substr(authority_end);
  while (!path.empty() && path.back() == '/') path.pop_back();
  parsed.url = scheme + "://" + authority + path;
  return parsed;
}

// The reason of a CouchDB error body, or the body itself.
std::string ReasonOf(const http::ClientResponse& response) {
  Result<Json> body = json::Parse(response.body);
  if (body.ok() && body->is_object()) {
    const std::string error = json::GetString(*body, "error");
    const std::string reason = json::GetString(*body, "reason");
    if (!error.empty() || !reason.empty()) return error + (reason.empty() ? "" : ": " + reason);
  }
  return "HTTP " + std::to_string(response.status);
}

// The Status a reply stands for: OK for 2xx, else the code the replicator
// acts on (see the header).
Status StatusOfReply(const http::ClientResponse& response, const std::string& what) {
  const int s = response.status;
  if (s >= 200 && s < 300) return Status::Ok();
  const std::string message = what + ": " + ReasonOf(response);
  if (s == 401) return Status::Unauthenticated(message);
  if (s == 403) return Status::PermissionDenied(message);
  if (s == 404) return Status::NotFound(message);
  if (s == 409) return Status::Conflict(message);
  if (s == 412) return Status::PreconditionFailed(message);
  if (s == 408 || s == 429 || s >= 500) return Status::Unavailable(message);
  return Status::InvalidArgument(message);
}

std::string EncodeDocId(const std::string& id) {
  for (std::string_view prefix : {kDesignPrefix, kLocalPrefix}) {
    if (id.compare(0, prefix.size(), prefix) == 0) {
      return std::string(prefix) + http::PercentEncode(std::string_view(id).substr(prefix.size()));
    }
  }
  return http::PercentEncode(id);
}

std::string SeqParam(const Json& seq) { return seq.is_string() ? seq.get<std::string>() : json::Dump(seq); }

class RemoteEndpoint final : public Endpoint {
 public:
  RemoteEndpoint(http::Client& client, std::string url, http::Headers headers, Ms timeout)
      : client_(client), url_(std::move(url)), headers_(std::move(headers)), timeout_(timeout) {}

  std::string Describe() const override { return url_ + "/"; }

  Status Open(bool create) override {
    Result<http::ClientResponse> r = Call("GET", "", "");
    if (!r.ok()) return r.status();
    Status s = StatusOfReply(*r, "GET " + Describe());
    if (s.IsNotFound() && create) {
      r = Call("PUT", "", "");
      if (!r.ok()) return r.status();
      s = StatusOfReply(*r, "PUT " + Describe());
      if (s.code() == StatusCode::kPreconditionFailed) s = Status::Ok();  // created meanwhile
    }
    if (s.IsNotFound()) return Status::NotFound("could not open " + Describe());
    return s;
  }

  Result<Json> Info() override {
    Result<http::ClientResponse> r = Call("GET", "", "");
    if (!r.ok()) return r.status();
    WISP_RETURN_IF_ERROR(StatusOfReply(*r, "GET " + Describe()));
    Result<Json> info = json::ParseObject(r->body);
    if (!info.ok()) return Status::Unavailable("bad answer to GET " + Describe());
    return std::move(*info);
  }

  Result<ChangesBatch> Changes(const ChangesRequest& request, const StopFlag& stopped) override {
    std::string query = "/_changes?style=all_docs&since=" + http::PercentEncode(SeqParam(request.since)) +
                        "&limit=" + std::to_string(std::max<size_t>(request.limit, 1));
    Json body;
    if (request.doc_ids) {
      query += "&filter=_doc_ids";
      body = {{"doc_ids", Json(*request.doc_ids)}};
    } else if (request.selector) {
      query += "&filter=_selector";
      body = {{"selector", *request.selector}};
    }
    Ms timeout = timeout_;
    std::string collected;
    std::function<bool(std::string_view)> on_data;
    if (request.wait) {
      query += "&feed=longpoll&timeout=" + std::to_string(request.wait->count()) +
               "&heartbeat=" + std::to_string(kRemoteHeartbeat.count());
      // Servers that ignore `timeout` while heartbeats flow (pouchdb-server
      // does) are cut off by the client a little after it.
      timeout = *request.wait + kLongpollGrace;
      on_data = [&collected, &stopped](std::string_view bytes) {
        collected.append(bytes);
        return !stopped();
      };
    }
    // Heartbeats must arrive as they are sent, so that a stop is noticed
    // within one: a compressed answer would be buffered by the peer.
    http::Headers extra;
    if (request.wait) extra.Set("Accept-Encoding", "identity");
    Result<http::ClientResponse> r = body.is_null() ? Call("GET", query, "", timeout, on_data, extra)
                                                    : Call("POST", query, json::Dump(body), timeout, on_data, extra);
    if (!r.ok()) {
      if (stopped()) return Status::Cancelled("replication stopped");
      if (request.wait && r.status().IsDeadlineExceeded()) {
        ChangesBatch nothing;  // the longpoll ran out: no change in that time
        nothing.last_seq = request.since;
        return nothing;
      }
      return r.status();
    }
    if (on_data) r->body = std::move(collected);
    WISP_RETURN_IF_ERROR(StatusOfReply(*r, "GET " + Describe() + "_changes"));
    Result<Json> parsed = json::Parse(r->body);
    if (!parsed.ok() || !parsed->is_object() || !(*parsed)["results"].is_array()) {
      return Status::Unavailable("bad _changes answer from " + Describe());
    }
    ChangesBatch batch;
    batch.results = std::move((*parsed)["results"]);
    batch.last_seq = parsed->value("last_seq", request.since);
    if (parsed->contains("pending") && (*parsed)["pending"].is_number_integer()) {
      batch.pending = (*parsed)["pending"].get<int64_t>();
    }
    return batch;
  }

  Result<Json> RevsDiff(const Json& request) override { return PostJson("/_revs_diff", request); }

  Result<std::vector<Json>> FetchRevisions(
      const std::vector<std::pair<std::string, std::vector<std::string>>>& wanted) override {
    if (bulk_get_) {
      Json docs = Json::array();
      for (const auto& [id, revs] : wanted) {
        for (const std::string& rev : revs) docs.push_back({{"id", id}, {"rev", rev}});
      }
      Result<http::ClientResponse> r =
          Call("POST", "/_bulk_get?revs=true&latest=true&attachments=true", json::Dump(Json{{"docs", docs}}));
      if (!r.ok()) return r.status();
      Status s = StatusOfReply(*r, "POST " + Describe() + "_bulk_get");
      if (s.ok()) {
        Result<Json> body = json::Parse(r->body);
        if (body.ok() && body->is_object() && (*body)["results"].is_array()) {
          std::vector<Json> found;
          for (Json& result : (*body)["results"]) {
            for (Json& item : result.value("docs", Json::array())) {
              if (item.contains("ok")) found.push_back(std::move(item["ok"]));
            }
          }
          return found;
        }
      } else if (s.IsUnauthenticated() || s.IsPermissionDenied() || IsTransient(s)) {
        return s;
      }
      // An old server without _bulk_get: ask for each document (spec §3.4).
      bulk_get_ = false;
    }
    std::vector<Json> found;
    for (const auto& [id, revs] : wanted) {
      const std::string query = "/" + EncodeDocId(id) + "?revs=true&latest=true&attachments=true&open_revs=" +
                                http::PercentEncode(json::Dump(Json(revs)));
      Result<http::ClientResponse> r = Call("GET", query, "");
      if (!r.ok()) return r.status();
      Status s = StatusOfReply(*r, "GET " + Describe() + id);
      if (s.IsNotFound()) continue;
      WISP_RETURN_IF_ERROR(s);
      Result<Json> body = json::Parse(r->body);
      if (!body.ok() || !body->is_array()) return Status::Unavailable("bad open_revs answer for " + id);
      for (Json& item : *body) {
        if (item.contains("ok")) found.push_back(std::move(item["ok"]));
      }
    }
    return found;
  }

  Result<std::vector<DocWriteError>> WriteRevisions(std::vector<Json> docs) override {
    Json request = {{"new_edits", false}, {"docs", Json(std::move(docs))}};
    WISP_ASSIGN_OR_RETURN(Json answer, PostJson("/_bulk_docs", request));
    std::vector<DocWriteError> errors;
    if (!answer.is_array()) return errors;
    for (const Json& item : answer) {
      if (item.is_object() && item.contains("error")) {
        errors.push_back(
            {json::GetString(item, "id"), json::GetString(item, "error"), json::GetString(item, "reason")});
      }
    }
    return errors;
  }

  Result<std::optional<Json>> GetCheckpoint(const std::string& id) override {
    Result<http::ClientResponse> r = Call("GET", "/" + EncodeDocId(std::string(kLocalPrefix) + id), "");
    if (!r.ok()) return r.status();
    Status s = StatusOfReply(*r, "GET checkpoint of " + Describe());
    if (s.IsNotFound()) return std::optional<Json>();
    WISP_RETURN_IF_ERROR(s);
    Result<Json> doc = json::ParseObject(r->body);
    if (!doc.ok()) return std::optional<Json>();
    return std::optional<Json>(std::move(*doc));
  }

  Status PutCheckpoint(const std::string& id, Json doc) override {
    const std::string full = std::string(kLocalPrefix) + id;
    doc["_id"] = full;
    Result<http::ClientResponse> r = Call("PUT", "/" + EncodeDocId(full), json::Dump(doc));
    if (!r.ok()) return r.status();
    return StatusOfReply(*r, "PUT checkpoint of " + Describe());
  }

 private:
  Result<http::ClientResponse> Call(const std::string& method, const std::string& path_and_query, std::string body,
                                    std::optional<Ms> timeout = std::nullopt,
                                    std::function<bool(std::string_view)> on_data = nullptr,
                                    const http::Headers& extra_headers = {}) {
    http::ClientRequest request;
    request.method = method;
    request.url = url_ + path_and_query;
    request.headers = headers_;
    for (const auto& [name, value] : extra_headers.entries()) request.headers.Set(name, value);
    request.headers.Set("Accept", "application/json");
    if (!body.empty()) request.headers.Set("Content-Type", "application/json");
    request.body = std::move(body);
    request.timeout = timeout.value_or(timeout_);
    request.on_data = std::move(on_data);
    return client_.Send(request);
  }

  Result<Json> PostJson(const std::string& path, const Json& body) {
    Result<http::ClientResponse> r = Call("POST", path, json::Dump(body));
    if (!r.ok()) return r.status();
    WISP_RETURN_IF_ERROR(StatusOfReply(*r, "POST " + Describe() + path.substr(1)));
    Result<Json> parsed = json::Parse(r->body);
    if (!parsed.ok()) return Status::Unavailable("bad answer to POST " + path + " from " + Describe());
    return std::move(*parsed);
  }

  http::Client& client_;
  const std::string url_;
  const http::Headers headers_;
  const Ms timeout_;
  bool bulk_get_ = true;  // until the server shows it has no _bulk_get
};

// The url and the credentials an endpoint is written with.
struct EndpointSpec {
  std::string url;  // a local name, or a remote URL without credentials
  bool remote = false;
  http::Headers headers;
};

Result<EndpointSpec> ParseEndpointSpec(const Json& spec) {
  EndpointSpec out;
  std::string url;
  std::optional<std::pair<std::string, std::string>> basic;
  if (spec.is_string()) {
    url = spec.get<std::string>();
  } else if (spec.is_object() && spec.contains("url") && spec["url"].is_string()) {
    url = spec["url"].get<std::string>();
    if (spec.contains("headers")) {
      if (!spec["headers"].is_object()) return Status::InvalidArgument("`headers` must be an object");
      for (const auto& [name, value] : spec["headers"].items()) {
        if (!value.is_string()) return Status::InvalidArgument("header values must be strings");
        out.headers.Set(name, value.get<std::string>());
      }
    }
    if (spec.contains("auth")) {
      const Json& auth = spec["auth"];
      if (!auth.is_object()) return Status::InvalidArgument("`auth` must be an object");
      if (auth.contains("basic")) {
        const Json& b = auth["basic"];
        if (!b.is_object() || !b.value("username", Json()).is_string() || !b.value("password", Json()).is_string()) {
          return Status::InvalidArgument("`auth.basic` needs `username` and `password` strings");
        }
        basic = std::make_pair(b["username"].get<std::string>(), b["password"].get<std::string>());
      }
    }
  } else {
    return Status::InvalidArgument("Replication endpoint must be a URL string or an object with a `url`");
  }
  if (url.empty()) return Status::InvalidArgument("Replication endpoint URL is empty");
  if (url.find("://") == std::string::npos) {
    out.url = url;
    return out;
  }
  WISP_ASSIGN_OR_RETURN(ParsedUrl parsed, ParseRemoteUrl(url));
  out.remote = true;
  out.url = std::move(parsed.url);
  if (!basic) basic = std::move(parsed.credentials);
  if (basic && !out.headers.Has("Authorization")) {
    out.headers.Set("Authorization", "Basic " + Base64Encode(basic->first + ":" + basic->second));
  }
  return out;
}

}  // namespace

bool IsTransient(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kIoError:
    case StatusCode::kResourceExhausted: return true;
    default: return false;
  }
}

Result<std::unique_ptr<Endpoint>> MakeEndpoint(const Json& spec, Store& store, http::Client& client,
                                               Ms request_timeout) {
  WISP_ASSIGN_OR_RETURN(EndpointSpec parsed, ParseEndpointSpec(spec));
  if (!parsed.remote) return std::unique_ptr<Endpoint>(std::make_unique<LocalEndpoint>(store, parsed.url));
  return MakeRemoteEndpoint(spec, client, request_timeout);
}

Result<std::unique_ptr<Endpoint>> MakeRemoteEndpoint(const Json& spec, http::Client& client, Ms request_timeout) {
  WISP_ASSIGN_OR_RETURN(EndpointSpec parsed, ParseEndpointSpec(spec));
  if (!parsed.remote) return Status::InvalidArgument("not a URL: " + parsed.url);
  return std::unique_ptr<Endpoint>(
      std::make_unique<RemoteEndpoint>(client, parsed.url, std::move(parsed.headers), request_timeout));
}

Result<std::string> DescribeEndpoint(const Json& spec) {
  WISP_ASSIGN_OR_RETURN(EndpointSpec parsed, ParseEndpointSpec(spec));
  return parsed.remote ? parsed.url + "/" : parsed.url;
}

}  // namespace wisp::store
