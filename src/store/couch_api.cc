#include "store/couch_api.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/content_coding.h"
#include "http/multipart.h"
#include "http/status_mapping.h"
#include "http/url.h"
#include "json/json.h"
#include "store/couch_auth.h"
#include "store/couch_error.h"
#include "store/couch_params.h"
#include "store/mango.h"
#include "store/mango_index.h"
#include "store/replication_manager.h"
#include "store/store_metrics.h"
#include "store/users.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/text.h"
#include "util/thread_pool.h"

namespace wisp::store {
namespace {

using http::Request;
using http::Response;
using Ms = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// Wire names, as CouchDB spells them.
constexpr std::string_view kId = "_id";
constexpr std::string_view kRev = "_rev";
constexpr std::string_view kDeleted = "_deleted";
constexpr std::string_view kRevisions = "_revisions";
constexpr std::string_view kAttachments = "_attachments";
constexpr std::string_view kDesignPrefix = "_design/";
constexpr std::string_view kLocalPrefix = "_local/";

constexpr std::string_view kCouchVersion = "3.3.3";
constexpr std::string_view kVendorName = "wisp";
constexpr std::string_view kVendorVersion = "0.1.0";
// CouchDB's replicator compares this between GET /db and _ensure_full_commit.
constexpr std::string_view kInstanceStartTime = "0";
constexpr int64_t kMaxUuids = 1000;

constexpr std::string_view kNoDatabase = "Database does not exist.";
constexpr std::string_view kConflictReason = "Document update conflict.";
constexpr std::string_view kBadJson = "invalid UTF-8 JSON";
constexpr std::string_view kNotAnObject = "Request body must be a JSON object";
constexpr std::string_view kLocalNoAttachments = "_local documents do not accept attachments.";
constexpr std::string_view kNotAuthorized = "You are not authorized to access this db.";

// A handler's early answer. Thrown only inside this file and always caught by
// Guard(), so no exception leaves the module; it keeps each handler a straight
// line of "parse, call the engine, render".
struct Abort {
  Response response;
};

[[noreturn]] void Fail(Response response) { throw Abort{std::move(response)}; }
[[noreturn]] void Fail(int status, std::string_view type, std::string_view reason) {
  Fail(CouchError(status, type, reason));
}

// The value of a query-parameter parse, or a 400 query_parse_error.
template <typename T>
T Query(Result<T> parsed) {
  if (!parsed.ok()) Fail(400, "query_parse_error", parsed.status().message());
  return std::move(parsed).value();
}

Response Reply(int status, const Json& body) {
  Response r = Response::Json(status, json::Dump(body));
  r.headers.Set("Cache-Control", "must-revalidate");
  return r;
}

Response ReplyText(int status, std::string json_text) {
  Response r = Response::Json(status, std::move(json_text));
  r.headers.Set("Cache-Control", "must-revalidate");
  return r;
}

// 400 {"error":"bad_request"} for a body that is not JSON, with CouchDB's
// reason, or with the parser's own when the text nests deeper than
// json::kMaxDepth: CouchDB would take that body, so its caller needs to know
// which limit it met.
Json ParseJsonBody(const Request& request) {
  Result<Json> body = json::Parse(request.body);
  if (!body.ok()) {
    const std::string too_deep = "JSON nests deeper than " + std::to_string(json::kMaxDepth) + " levels";
    Fail(400, "bad_request", body.status().message() == too_deep ? std::string_view(too_deep) : kBadJson);
  }
  return std::move(*body);
}

// The body as a JSON object; an empty body counts as {} when `empty_ok`.
Json ParseObjectBody(const Request& request, bool empty_ok = false) {
  if (empty_ok && request.body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  Json body = ParseJsonBody(request);
  if (!body.is_object()) Fail(400, "bad_request", kNotAnObject);
  return body;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// "\"1-abc\"" -> "1-abc" (ETag and If-Match values), also without quotes or with W/.
std::string Unquote(std::string_view value) {
  if (StartsWith(value, "W/")) value.remove_prefix(2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  return std::string(value);
}

// "http://host:port" from the request, for Location headers.
std::string BaseUrl(const Request& request) {
  return std::string(request.tls ? "https://" : "http://") + request.headers.GetOr("Host", "localhost");
}

// A document id as a path: "_design/" and "_local/" keep their slash, as
// CouchDB and PouchDB write them.
std::string EncodeDocId(std::string_view id) {
  for (std::string_view prefix : {kDesignPrefix, kLocalPrefix}) {
    if (StartsWith(id, prefix)) return std::string(prefix) + http::PercentEncode(id.substr(prefix.size()));
  }
  return http::PercentEncode(id);
}

// Whether `_security`'s `group` ("admins" or "members") names the user or
// one of their roles.
bool Named(const Json& security, const char* group, const Identity& who) {
  const Json& members = security.contains(group) ? security[group] : Json::object();
  for (const Json& n : members.value("names", Json::array())) {
    if (n.is_string() && n.get<std::string>() == who.name) return true;
  }
  for (const Json& r : members.value("roles", Json::array())) {
    if (r.is_string() && std::find(who.roles.begin(), who.roles.end(), r.get<std::string>()) != who.roles.end()) {
      return true;
    }
  }
  return false;
}

// Who may call a route: anyone, the server admin, the database's admins
// (design documents, `_security`, `_index`, compaction), or also its members.
enum class Access { kPublic, kAdmin, kDbAdmin, kMember };

// The state every handler shares: the store, the options and the feed threads.
class Api {
 public:
  Api(Store& store, CouchApiOptions options)
      : store_(store),
        options_(std::move(options)),
        auth_(options_.auth ? options_.auth
                            : std::make_shared<CouchAuth>(store, CouchAuthOptions{options_.admin_name,
                                                                                  options_.admin_password,
                                                                                  options_.jwt, options_.clock, ""})),
        feeds_(std::max<size_t>(options_.feed_threads, 1), "wisp-feed") {}

  ~Api() {
    stopping_ = true;
    feeds_.Shutdown();
  }

  Store& store() { return store_; }
  const CouchApiOptions& options() const { return options_; }
  bool stopping() const { return stopping_; }

  CouchAuth& auth() { return *auth_; }

  // nullopt when the request may go on, else the error to answer.
  // Admin-only routes need the server admin; member routes also let in a
  // user whom the database's _security names among its members (or admins),
  // by name or role. As in CouchDB 3, a database whose _security names no
  // members is for admins only. In `_users`, a user may also reach their own
  // document (couch_users_db's rules: another user's document is 404, the
  // design documents 403). A database that does not exist is left to the
  // handler, which answers 404.
  std::optional<Response> Authorize(const Request& request, Access access) {
    if (!auth_->enabled()) return std::nullopt;
    const Identity who = auth_->Identify(request);
    switch (who.kind) {
      case Identity::Kind::kAdmin: return std::nullopt;
      case Identity::Kind::kAnonymous: return CouchError(401, "unauthorized", kNotAuthorized);
      case Identity::Kind::kRejected: return CouchError(who.rejection);
      case Identity::Kind::kUser: break;
    }
    // CouchDB answers a known user on a server-admin route with 401, not 403
    // (couch_httpd:verify_is_server_admin; spec couchdb.md §5).
    if (access == Access::kAdmin) return CouchError(401, "unauthorized", "You are not a server admin.");
    const std::string& db_name = request.Param("db");
    if (db_name == kUsersDb) {
      const std::string& docid = request.Param("docid");
      if (docid == std::string(kUserDocPrefix) + who.name) return std::nullopt;
      if (!request.Param("ddoc").empty()) {
        return CouchError(403, "forbidden", "Only administrators can view design docs in the users database.");
      }
      if (!docid.empty()) return CouchError(404, "not_found", "missing");
    }
    Result<std::shared_ptr<Database>> db = store_.GetDatabase(db_name);
    if (!db.ok()) return std::nullopt;
    const Json security = (*db)->Security();
    if (Named(security, "admins", who)) return std::nullopt;
    if (access == Access::kDbAdmin) return CouchError(403, "forbidden", "You are not a db or server admin.");
    if (Named(security, "members", who)) return std::nullopt;
    return CouchError(403, "forbidden", "You are not allowed to access this db.");
  }

  // Whether the caller may write design documents of the request's database:
  // a server admin, or one of the database's admins.
  bool IsDbAdmin(const Request& request) {
    const Identity who = auth_->Identify(request);
    if (who.admin() || !auth_->enabled()) return true;
    if (!who.known()) return false;
    Result<std::shared_ptr<Database>> db = store_.GetDatabase(request.Param("db"));
    return db.ok() && Named((*db)->Security(), "admins", who);
  }

  // The database named by the request's {db}, or a 404.
  std::shared_ptr<Database> OpenDb(const Request& request) {
    const std::string& name = request.Param("db");
    Result<std::shared_ptr<Database>> db = store_.GetDatabase(name);
    if (db.ok()) return std::move(*db);
    if (db.status().IsNotFound()) Fail(404, "not_found", kNoDatabase);
    Fail(CouchError(db.status()));
  }

  // Runs `task` on a feed thread. False, without running it, when every feed
  // thread is busy or the API is stopping.
  bool StartFeed(std::function<void()> task) {
    size_t busy = busy_.load();
    do {
      if (busy >= feeds_.size() || stopping_) return false;
    } while (!busy_.compare_exchange_weak(busy, busy + 1));
    const bool queued = feeds_.Submit([this, task = std::move(task)] {
      task();
      busy_.fetch_sub(1);
    });
    if (!queued) busy_.fetch_sub(1);
    return queued;
  }

 private:
  Store& store_;
  const CouchApiOptions options_;
  const std::shared_ptr<CouchAuth> auth_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> busy_{0};  // feed threads running or reserved
  ThreadPool feeds_;             // last: its threads stop before the rest goes
};

using ApiHandler = Response (*)(Api&, Request&);

// JSON answers become text/plain for a browser that navigates by hand, as
// CouchDB does (spec §0): its Accept asks for HTML and not JSON.
void AdaptContentType(const Request& request, Response& response) {
  if (response.stream) return;
  const std::string accept = request.headers.GetOr("Accept");
  if (accept.find("text/html") == std::string::npos || accept.find("application/json") != std::string::npos) return;
  if (response.headers.GetOr("Content-Type") == "application/json") {
    response.headers.Set("Content-Type", "text/plain; charset=utf-8");
  }
}



// Wraps a handler with authorization and turns Abort (and JSON type errors
// from malformed input) into responses. A successful answer to a request
// with an ageing session cookie carries a fresh one, as CouchDB's does.
// The largest JSON body a compressed request may expand to: the listener's
// default limit on a request body (http/server.h).
constexpr size_t kMaxDecodedJsonBody = 64 * 1024 * 1024;

// A JSON body sent with a Content-Encoding (gzip, deflate), decoded in place,
// as CouchDB accepts them: the IBM Cloudant SDK (couchbackup's) compresses
// every request. Other bodies (attachments) keep their coding. Aborts with
// 415, 413 or 400 when the body cannot be decoded.
void DecodeCompressedJsonBody(Request& request) {
  const std::optional<std::string> coding = request.headers.Get("Content-Encoding");
  if (!coding || request.body.empty()) return;
  if (!request.headers.GetOr("Content-Type").starts_with("application/json")) return;
  Result<std::string> decoded = http::DecodeContentCoding(*coding, request.body, kMaxDecodedJsonBody);
  if (!decoded.ok()) {
    const Status& s = decoded.status();
    if (s.code() == StatusCode::kUnsupportedMediaType) Fail(415, "bad_content_type", s.message());
    if (s.IsPayloadTooLarge()) Fail(413, "too_large", s.message());
    Fail(400, "bad_request", s.message());
  }
  request.body = std::move(*decoded);
  request.headers.Remove("Content-Encoding");
}

http::Handler Guard(const std::shared_ptr<Api>& api, ApiHandler handler, Access access = Access::kAdmin) {
  return [api, handler, access](Request& request) -> Response {
    Response response;
    try {
      if (access != Access::kPublic) {
        if (std::optional<Response> denied = api->Authorize(request, access)) return *denied;
      }
      DecodeCompressedJsonBody(request);
      response = handler(*api, request);
    } catch (Abort& abort) {
      response = std::move(abort.response);
    } catch (const nlohmann::json::exception& e) {
      // A field of the wrong type in a request body (e.g. "_id": 5).
      response = CouchError(400, "bad_request", e.what());
    }
    AdaptContentType(request, response);
    if (response.status < 400 && api->auth().enabled() && !response.headers.Has("Set-Cookie")) {
      if (std::optional<std::string> token = api->auth().RefreshedSession(request)) {
        response.headers.Add("Set-Cookie", SessionCookie(*token, request));
      }
    }
    return response;
  };
}

// ---------------------------------------------------------------------------
// Write results

// The `error` name of a failed write: the engine's when it gives one.
std::string ErrorName(const WriteResult& w) {
  if (!w.error.empty()) return w.error;
  return std::string(CouchErrorType(http::HttpStatusOf(w.status.code())));
}

std::string ErrorReason(const WriteResult& w) {
  if (w.status.IsConflict() && (w.status.message().empty() || w.error.empty())) return std::string(kConflictReason);
  return w.status.message();
}

// _bulk_docs entry: {"ok":true,"id","rev"} or {"id","error","reason"}.
Json WriteResultJson(const WriteResult& w) {
  if (w.status.ok()) return {{"ok", true}, {"id", w.id}, {"rev", w.rev}};
  return {{"id", w.id}, {"error", ErrorName(w)}, {"reason", ErrorReason(w)}};
}

// A single-document write: 201 (or `ok_status`) {"ok":true,"id","rev"} with
// ETag and Location, or the error in CouchDB's shape.
Response WriteResponse(const Request& request, const WriteResult& w, int ok_status = 201) {
  if (!w.status.ok()) return CouchError(http::HttpStatusOf(w.status.code()), ErrorName(w), ErrorReason(w));
  Response r = Reply(ok_status, {{"ok", true}, {"id", w.id}, {"rev", w.rev}});
  r.headers.Set("ETag", "\"" + w.rev + "\"");
  if (ok_status == 201) {
    r.headers.Set("Location",
                  BaseUrl(request) + "/" + http::PercentEncode(request.Param("db")) + "/" + EncodeDocId(w.id));
  }
  return r;
}

// ---------------------------------------------------------------------------
// Document ids and revisions from the request

bool IsLocalId(std::string_view id) { return StartsWith(id, kLocalPrefix); }

// The document id of a route: {docid}, or "_design/" + {ddoc}, or "_local/" + {local}.
std::string DocIdOf(const Request& request) {
  if (request.params.count("ddoc")) return std::string(kDesignPrefix) + request.Param("ddoc");
  if (request.params.count("local")) return std::string(kLocalPrefix) + request.Param("local");
  return request.Param("docid");
}

void ValidateId(const std::string& id) {
  Status s = ValidateDocId(id);
  if (!s.ok()) Fail(400, "illegal_docid", s.message());
}

// The rev a write is based on: the body's _rev, ?rev= or If-Match, which must agree.
std::optional<std::string> RequestRev(const Request& request, const Json* body) {
  std::optional<std::string> rev;
  if (body && body->contains(kRev) && (*body)[kRev].is_string()) rev = (*body)[kRev].get<std::string>();
  if (std::optional<std::string> q = request.query.Get("rev")) {
    if (rev && *rev != *q) {
      Fail(400, "bad_request", "Document rev from request body and query string have different values");
    }
    rev = q;
  }
  if (!rev) {
    if (std::optional<std::string> m = request.headers.Get("If-Match")) rev = Unquote(*m);
  }
  return rev;
}

// "all" -> {} (every leaf), or a JSON array of revs.
std::vector<std::string> ParseOpenRevs(const std::string& text) {
  if (text == "all") return {};
  Result<Json> parsed = json::Parse(text);
  if (!parsed.ok() || !parsed->is_array()) Fail(400, "query_parse_error", "Invalid value for `open_revs`: " + text);
  std::vector<std::string> revs;
  for (const Json& r : *parsed) {
    if (!r.is_string()) Fail(400, "query_parse_error", "Invalid value for `open_revs`: " + text);
    revs.push_back(r.get<std::string>());
  }
  if (revs.empty()) Fail(400, "query_parse_error", "`open_revs` must not be empty");
  return revs;
}

GetOptions ParseGetOptions(const Request& request) {
  const http::QueryParams& q = request.query;
  GetOptions o;
  o.rev = q.Get("rev");
  o.revs = Query(params::Bool(q, "revs", false));
  o.revs_info = Query(params::Bool(q, "revs_info", false));
  o.conflicts = Query(params::Bool(q, "conflicts", false));
  o.deleted_conflicts = Query(params::Bool(q, "deleted_conflicts", false));
  o.attachments = Query(params::Bool(q, "attachments", false));
  o.latest = Query(params::Bool(q, "latest", false));
  o.local_seq = Query(params::Bool(q, "local_seq", false));
  if (Query(params::Bool(q, "meta", false))) {
    o.conflicts = o.deleted_conflicts = o.revs_info = true;
  }
  o.att_encoding_info = Query(params::Bool(q, "att_encoding_info", false));
  if (std::optional<std::string> since = q.Get("atts_since")) {
    Result<Json> parsed = json::Parse(*since);
    const bool ok = parsed.ok() && parsed->is_array() &&
                    std::all_of(parsed->begin(), parsed->end(), [](const Json& r) { return r.is_string(); });
    if (!ok) Fail(400, "query_parse_error", "Invalid value for `atts_since`: " + *since);
    o.atts_since = parsed->get<std::vector<std::string>>();
  }
  return o;
}

// ---------------------------------------------------------------------------
// Server

// GET / -> 200 {"couchdb":"Welcome","version","uuid","vendor","features"}. Anonymous.
Response Welcome(Api& api, Request&) {
  OrderedJson body;
  body["couchdb"] = "Welcome";
  body["version"] = kCouchVersion;
  body["uuid"] = api.store().uuid();
  body["features"] = OrderedJson::array();
  body["vendor"] = {{"name", kVendorName}, {"version", kVendorVersion}};
  Response r = Response::Json(200, json::Dump(body));
  r.headers.Set("Cache-Control", "must-revalidate");
  return r;
}

// GET /_uuids?count=N -> 200 {"uuids":[...]}; 400 for count > 1000 or not a number.
Response Uuids(Api&, Request& request) {
  const int64_t count = Query(params::Count(request.query, "count")).value_or(1);
  if (count > kMaxUuids) Fail(400, "bad_request", "count parameter too large");
  Json uuids = Json::array();
  for (int64_t i = 0; i < count; ++i) uuids.push_back(NewId());
  Response r = Reply(200, {{"uuids", std::move(uuids)}});
  r.headers.Set("Cache-Control", "must-revalidate, no-cache");
  r.headers.Set("Pragma", "no-cache");
  return r;
}

// GET /_all_dbs -> 200 sorted array of names; descending, startkey/endkey
// (+ aliases), inclusive_end, limit, skip. 400 query_parse_error.
Response AllDbs(Api& api, Request& request) {
  const http::QueryParams& q = request.query;
  const bool descending = Query(params::Bool(q, "descending", false));
  const bool inclusive_end = Query(params::Bool(q, "inclusive_end", true));
  const std::optional<Json> start = Query(params::JsonValue(q, {"startkey", "start_key"}));
  const std::optional<Json> end = Query(params::JsonValue(q, {"endkey", "end_key"}));
  const int64_t limit = Query(params::Count(q, "limit")).value_or(INT64_MAX);
  const int64_t skip = Query(params::Count(q, "skip")).value_or(0);
  if ((start && !start->is_string()) || (end && !end->is_string())) {
    Fail(400, "query_parse_error", "`startkey` and `endkey` must be strings");
  }
  std::vector<std::string> names = api.store().ListDatabases();
  if (descending) std::reverse(names.begin(), names.end());
  Json out = Json::array();
  int64_t skipped = 0;
  for (const std::string& name : names) {
    if (start) {
      const std::string s = start->get<std::string>();
      if (descending ? name > s : name < s) continue;
    }
    if (end) {
      const std::string e = end->get<std::string>();
      const bool past = descending ? (inclusive_end ? name < e : name <= e) : (inclusive_end ? name > e : name >= e);
      if (past) break;
    }
    if (skipped < skip) {
      ++skipped;
      continue;
    }
    if (static_cast<int64_t>(out.size()) >= limit) break;
    out.push_back(name);
  }
  return Reply(200, out);
}

// GET /_session -> 200 {"ok":true,"userCtx":{"name","roles"},"info":{...}};
// anonymous callers get name null. 401 for wrong Basic credentials or an
// expired token, 400 for a malformed one.
Response GetSession(Api& api, Request& request) {
  const Identity who = api.auth().Identify(request);
  if (who.kind == Identity::Kind::kRejected) return CouchError(who.rejection);
  if (!who.known() && request.query.GetOr("basic", "") == "true") return CouchError(401, "unauthorized", "Please login.");
  Json handlers = {"cookie", "default"};
  if (api.auth().options().jwt.enabled()) handlers.insert(handlers.begin(), "jwt");
  Json info = {{"authentication_handlers", handlers}, {"authentication_db", "_users"}};
  if (who.known()) info["authenticated"] = who.method;
  Json roles = Json::array();
  for (const std::string& r : who.roles) roles.push_back(r);
  Json user = {{"name", who.known() ? Json(who.name.empty() ? api.options().admin_name : who.name) : Json(nullptr)},
               {"roles", roles}};
  return Reply(200, {{"ok", true}, {"userCtx", user}, {"info", info}});
}

// POST /_session (form-encoded or JSON name/password; `username` is an
// alias) -> 200 {"ok":true,"name","roles"} + Set-Cookie AuthSession, for the
// server admin or a user of _users; 401 "Name or password is incorrect."
// with a clearing cookie; 415 other types.
Response PostSession(Api& api, Request& request) {
  const std::string type = request.headers.GetOr("Content-Type");
  std::string name, password;
  if (StartsWith(type, "application/x-www-form-urlencoded")) {
    Result<http::QueryParams> form = http::ParseQuery(request.body);
    if (!form.ok()) Fail(400, "bad_request", form.status().message());
    name = form->GetOr("name", form->GetOr("username", ""));
    password = form->GetOr("password", "");
  } else if (StartsWith(type, "application/json") || type.empty()) {
    Json body = ParseObjectBody(request);
    name = json::GetString(body, "name", json::GetString(body, "username"));
    password = json::GetString(body, "password");
  } else {
    Fail(415, "bad_content_type", "Content-Type must be application/x-www-form-urlencoded or application/json");
  }
  const Identity who = api.auth().Login(name, password);
  if (!who.known()) {
    Response r = CouchError(who.rejection);
    r.headers.Add("Set-Cookie", std::string(kSessionCookie) + "=; Version=1; Path=/; HttpOnly");
    return r;
  }
  Json roles = Json::array();
  for (const std::string& r : who.roles) roles.push_back(r);
  Response r = Reply(200, {{"ok", true}, {"name", name}, {"roles", roles}});
  r.headers.Add("Set-Cookie", SessionCookie(api.auth().NewSession(name), request));
  return r;
}

// DELETE /_session -> 200 {"ok":true} + a clearing AuthSession cookie.
Response DeleteSession(Api&, Request&) {
  Response r = Reply(200, {{"ok", true}});
  r.headers.Add("Set-Cookie", std::string(kSessionCookie) + "=; Version=1; Path=/; HttpOnly; Max-Age=0");
  return r;
}

// ---------------------------------------------------------------------------
// Databases

// PUT /{db} -> 201 {"ok":true} + Location; 400 illegal_database_name;
// 412 file_exists.
Response CreateDb(Api& api, Request& request) {
  const std::string& name = request.Param("db");
  if (!IsValidDatabaseName(name)) {
    Fail(400, "illegal_database_name",
         "Name: '" + name +
             "'. Only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, and / "
             "are allowed. Must begin with a letter.");
  }
  Status s = api.store().CreateDatabase(name);
  if (s.code() == StatusCode::kPreconditionFailed) {
    Fail(412, "file_exists", "The database could not be created, the file already exists.");
  }
  if (!s.ok()) Fail(CouchError(s));
  Response r = Reply(201, {{"ok", true}});
  r.headers.Set("Location", BaseUrl(request) + "/" + http::PercentEncode(name));
  return r;
}

// GET|HEAD /{db} -> 200 info; 404 "Database does not exist.".
Response DbInfo(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  Json info = db->Info();
  // What CouchDB's replicator and PouchDB need, whatever the engine reports.
  if (!info.contains("db_name")) info["db_name"] = db->name();
  if (!info.contains("update_seq")) info["update_seq"] = db->update_seq();
  info["instance_start_time"] = kInstanceStartTime;
  if (!info.contains("compact_running")) info["compact_running"] = db->compact_running();
  return Reply(200, info);
}

// DELETE /{db} -> 200 {"ok":true}; 404; 400 when a ?rev= suggests a
// forgotten document id.
Response DeleteDb(Api& api, Request& request) {
  if (request.query.Has("rev")) {
    Fail(400, "bad_request",
         "You tried to DELETE a database with a ?rev= parameter. Did you mean to DELETE a document instead?");
  }
  Status s = api.store().DeleteDatabase(request.Param("db"));
  if (s.IsNotFound()) Fail(404, "not_found", kNoDatabase);
  if (!s.ok()) Fail(CouchError(s));
  return Reply(200, {{"ok", true}});
}

constexpr std::string_view kNotDbAdmin = "You are not a db or server admin.";

// Design documents are for the database's admins (they define indexes, and
// in CouchDB code); routes that name one say so in their Access, and this
// covers the ways a member could name one in a body or a header.
bool MayWriteDoc(Api& api, const Request& request, std::string_view id) {
  return !StartsWith(id, kDesignPrefix) || api.IsDbAdmin(request);
}

// A write to `_users`: CouchDB's rules for user documents (users.h), then
// the plaintext password replaced by its hash. OK, or why the doc is refused.
Status PrepareUserDoc(Api& api, const Request& request, Database& db, Json& doc) {
  if (!doc.is_object()) return Status::Ok();
  if (!StartsWith(json::GetString(doc, "_id"), kDesignPrefix)) {
    const Identity writer = api.auth().Identify(request);
    Result<Json> old = db.Get(json::GetString(doc, "_id"), GetOptions{});
    WISP_RETURN_IF_ERROR(ValidateUserDoc(doc, old.ok() ? &*old : nullptr, writer.admin(), writer.name));
  }
  HashUserPassword(doc);
  return Status::Ok();
}

// POST /{db} -> 201 {"ok","id","rev"} (id generated when the body has none);
// 202 with ?batch=ok; 400 bad body or id; 404 no db; 409 conflict.
Response PostDoc(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  Json doc = ParseObjectBody(request);
  if (!doc.contains(kId)) doc[kId] = NewId();
  if (!doc[kId].is_string()) Fail(400, "illegal_docid", "Document id must be a string");
  const std::string id = doc[kId].get<std::string>();
  ValidateId(id);
  if (!MayWriteDoc(api, request, id)) Fail(403, "forbidden", kNotDbAdmin);
  if (IsLocalId(id)) {
    if (doc.contains(kAttachments)) Fail(400, "bad_request", kLocalNoAttachments);
    return WriteResponse(request, db->PutLocal(id, std::move(doc)));
  }
  if (db->name() == kUsersDb) {
    if (Status refused = PrepareUserDoc(api, request, *db, doc); !refused.ok()) Fail(CouchError(refused));
  }
  WriteResult w = db->Put(std::move(doc));
  const bool batch = request.query.GetOr("batch", "") == "ok";
  if (batch && w.status.ok()) return Reply(202, {{"ok", true}, {"id", w.id}});
  return WriteResponse(request, w);
}

// POST /{db}/_ensure_full_commit -> 201 {"ok":true,"instance_start_time":"0"}.
// Every write is already durable when it returns.
Response EnsureFullCommit(Api& api, Request& request) {
  api.OpenDb(request);
  return Reply(201, {{"ok", true}, {"instance_start_time", kInstanceStartTime}});
}

// POST /{db}/_compact -> 202 {"ok":true}, compaction runs in the background
// (GET /{db} shows compact_running). 404 no db.
Response Compact(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  auto run = [db] {
    Status s = db->Compact();
    if (!s.ok()) log::Error("store", "compaction failed", {{"db", db->name()}, {"error", s.ToString()}});
  };
  if (!api.StartFeed(run)) run();  // every feed thread busy: compact before answering
  return Reply(202, {{"ok", true}});
}

// POST /{db}/_compact/{ddoc}, POST /{db}/_view_cleanup -> 202 {"ok":true}
// (there are no view indexes to compact). 404 no db.
Response CompactNothing(Api& api, Request& request) {
  api.OpenDb(request);
  return Reply(202, {{"ok", true}});
}

// GET /{db}/_security -> 200 the security object.
Response GetSecurity(Api& api, Request& request) {
  Json security = api.OpenDb(request)->Security();
  if (security.is_null() || security.empty()) {
    security = {{"admins", {{"names", Json::array()}, {"roles", Json::array()}}},
                {"members", {{"names", Json::array()}, {"roles", Json::array()}}}};
  }
  return Reply(200, security);
}

// PUT /{db}/_security -> 200 {"ok":true}; 400 not an object.
Response PutSecurity(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  Status s = db->SetSecurity(ParseObjectBody(request));
  if (!s.ok()) Fail(CouchError(s));
  return Reply(200, {{"ok", true}});
}

// GET /{db}/_revs_limit -> 200 a bare integer.
Response GetRevsLimit(Api& api, Request& request) { return Reply(200, api.OpenDb(request)->RevsLimit()); }

// PUT /{db}/_revs_limit -> 200 {"ok":true}; 400 unless the body is a positive integer.
Response PutRevsLimit(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  Json body = ParseJsonBody(request);
  if (!body.is_number_integer() || body.get<int64_t>() <= 0) {
    Fail(400, "bad_request", "`revs_limit` must be a positive integer");
  }
  Status s = db->SetRevsLimit(body.get<int64_t>());
  if (!s.ok()) Fail(CouchError(s));
  return Reply(200, {{"ok", true}});
}

// ---------------------------------------------------------------------------
// _local documents

// GET /{db}/_local/{id} -> 200 doc; 404 missing.
Response GetLocalDoc(Api& api, Request& request, const std::string& id) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  Result<Json> doc = db->GetLocal(id);
  if (!doc.ok()) Fail(CouchError(doc.status()));
  return Reply(200, *doc);
}

// PUT /{db}/_local/{id} -> 201 {"ok","id","rev":"0-N"} (last write wins);
// 400 with attachments.
Response PutLocalDoc(Api& api, Request& request, const std::string& id) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  Json doc = ParseObjectBody(request);
  if (doc.contains(kAttachments)) Fail(400, "bad_request", kLocalNoAttachments);
  if (std::optional<std::string> rev = RequestRev(request, &doc)) doc[kRev] = *rev;
  doc[kId] = id;
  return WriteResponse(request, db->PutLocal(id, std::move(doc)));
}

// DELETE /{db}/_local/{id} -> 200 {"ok","id","rev":"0-0"}; 404 missing.
Response DeleteLocalDoc(Api& api, Request& request, const std::string& id) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  return WriteResponse(request, db->DeleteLocal(id), 200);
}

// ---------------------------------------------------------------------------
// Documents

// open_revs for a client that accepts only multipart/mixed (CouchDB's
// replicator, whose parser fails on a JSON array): one application/json part
// per revision, attachments inline as the request asked (never "follows").
Response OpenRevsMultipart(const Json& docs) {
  const std::string boundary = NewId();
  std::string body;
  for (const Json& item : docs) {
    body += "--" + boundary + "\r\n";
    if (item.contains("ok")) {
      body += "Content-Type: application/json\r\n\r\n" + json::Dump(item["ok"]);
    } else {
      body += "Content-Type: application/json; error=\"true\"\r\n\r\n" + json::Dump(item);
    }
    body += "\r\n";
  }
  body += "--" + boundary + "--";
  Response r = Response::Text(200, std::move(body), "multipart/mixed; boundary=\"" + boundary + "\"");
  r.headers.Set("Cache-Control", "must-revalidate");
  return r;
}

// GET|HEAD /{db}/{docid} (also /{db}/_design/{ddoc}, /{db}/_local/{id}):
// 200 doc with ETag; 304 when If-None-Match matches; with open_revs 200
// [{"ok":doc}|{"missing":rev}] (multipart/mixed when the client accepts
// only that); 400 query_parse_error; 404 "missing",
// "deleted" or no db.
Response GetDoc(Api& api, Request& request) {
  const std::string id = DocIdOf(request);
  if (id.empty()) return DbInfo(api, request);  // GET /db/
  if (IsLocalId(id)) return GetLocalDoc(api, request, id);
  std::shared_ptr<Database> db = api.OpenDb(request);
  GetOptions options = ParseGetOptions(request);

  if (std::optional<std::string> open_revs = request.query.Get("open_revs")) {
    Result<Json> docs = db->OpenRevs(id, ParseOpenRevs(*open_revs), options);
    if (!docs.ok()) Fail(CouchError(docs.status()));
    const std::string accept = request.headers.GetOr("Accept");
    if (accept.find("multipart/mixed") != std::string::npos && accept.find("application/json") == std::string::npos) {
      return OpenRevsMultipart(*docs);
    }
    return Reply(200, *docs);
  }

  Result<Json> doc = db->Get(id, options);
  if (!doc.ok()) Fail(CouchError(doc.status()));
  const std::string etag = "\"" + json::GetString(*doc, kRev) + "\"";
  if (std::optional<std::string> inm = request.headers.Get("If-None-Match"); inm && Unquote(*inm) == Unquote(etag)) {
    Response r;
    r.status = 304;
    r.headers.Set("ETag", etag);
    return r;
  }
  Response r = Reply(200, *doc);
  r.headers.Set("ETag", etag);
  return r;
}

// The document of a multipart/related PUT (CouchDB's replicator, nano's
// multipart.insert): the first part is the JSON doc; each later part is the
// body of the next attachment marked "follows", in the order the doc lists
// them. They become inline base64 data, so the engine sees a plain doc.
Json MultipartDoc(const Request& request, const std::string& boundary) {
  Result<std::vector<http::MultipartPart>> split = http::SplitMultipart(request.body, boundary);
  if (!split.ok()) Fail(400, "bad_request", split.status().message());
  const std::vector<http::MultipartPart>& parts = *split;
  if (parts.empty()) Fail(400, "bad_request", "Multipart body without a document");
  // json::Parse first, for the nesting limit every other body has (the
  // printing below recurses once per level); then again keeping key order,
  // as the parts follow the order of _attachments.
  if (!json::Parse(parts[0].body).ok()) Fail(400, "bad_request", kBadJson);
  OrderedJson ordered = OrderedJson::parse(parts[0].body, nullptr, /*allow_exceptions=*/false);
  if (ordered.is_discarded()) Fail(400, "bad_request", kBadJson);
  if (!ordered.is_object()) Fail(400, "bad_request", kNotAnObject);
  std::vector<std::string> follows;
  if (ordered.contains(kAttachments) && ordered[kAttachments].is_object()) {
    for (auto& [name, att] : ordered[kAttachments].items()) {
      if (att.is_object() && att.value("follows", false)) follows.push_back(name);
    }
  }
  Json doc = Json::parse(json::Dump(ordered));
  if (follows.size() != parts.size() - 1) {
    Fail(400, "bad_request", "Multipart body has " + std::to_string(parts.size() - 1) + " attachment parts for " +
                                 std::to_string(follows.size()) + " attachments that follow");
  }
  for (size_t i = 0; i < follows.size(); ++i) {
    const http::MultipartPart& part = parts[i + 1];
    Json& att = doc[kAttachments][follows[i]];
    const std::string encoding = part.headers.GetOr("Content-Encoding", att.value("encoding", std::string()));
    if (!encoding.empty() && encoding != "identity") {
      Fail(415, "bad_content_type", "Attachments with Content-Encoding " + encoding + " are not supported");
    }
    att.erase("follows");
    att.erase("length");
    att.erase("encoding");
    att.erase("encoded_length");
    att["data"] = Base64Encode(part.body);
    if (!att.contains("content_type")) {
      att["content_type"] = part.headers.GetOr("Content-Type", "application/octet-stream");
    }
  }
  return doc;
}

// PUT /{db}/{docid} (JSON, or multipart/related with attachment parts):
// 201 {"ok","id","rev"} + ETag + Location; 202 with ?batch=ok;
// ?new_edits=false stores the given rev; 400 bad JSON, bad id, bad multipart
// or disagreeing revs; 404 no db; 409 conflict; 412 missing_stub; 413 too
// large; 415 compressed attachment parts.
Response PutDoc(Api& api, Request& request) {
  const std::string id = DocIdOf(request);
  ValidateId(id);
  if (IsLocalId(id)) return PutLocalDoc(api, request, id);
  std::shared_ptr<Database> db = api.OpenDb(request);
  const std::string content_type = request.headers.GetOr("Content-Type");
  const std::string boundary = StartsWith(content_type, "multipart/related") ? http::MultipartBoundary(content_type) : "";
  Json doc = boundary.empty() ? ParseObjectBody(request) : MultipartDoc(request, boundary);
  const bool new_edits = Query(params::Bool(request.query, "new_edits", true));
  if (std::optional<std::string> rev = RequestRev(request, &doc)) doc[kRev] = *rev;
  doc[kId] = id;
  if (!new_edits && !doc.contains(kRev) && !doc.contains(kRevisions)) {
    Fail(400, "bad_request", "When `new_edits: false`, the document needs `_rev` or `_revisions` specified");
  }
  if (db->name() == kUsersDb && new_edits) {
    if (Status refused = PrepareUserDoc(api, request, *db, doc); !refused.ok()) Fail(CouchError(refused));
  }
  WriteResult w = db->Put(std::move(doc), new_edits);
  if (request.query.GetOr("batch", "") == "ok" && w.status.ok()) return Reply(202, {{"ok", true}, {"id", w.id}});
  return WriteResponse(request, w);
}

// DELETE /{db}/{docid}?rev= (or If-Match) -> 200 {"ok","id","rev"} of the
// tombstone; 404 unknown doc or db; 409 no or stale rev.
Response DeleteDoc(Api& api, Request& request) {
  const std::string id = DocIdOf(request);
  ValidateId(id);
  if (IsLocalId(id)) return DeleteLocalDoc(api, request, id);
  std::shared_ptr<Database> db = api.OpenDb(request);
  std::optional<std::string> rev = RequestRev(request, nullptr);
  if (!rev) {
    // CouchDB answers 404 for a document that never existed, 409 otherwise.
    Result<Json> current = db->Get(id, {});
    if (!current.ok() && current.status().message() == "missing") Fail(CouchError(current.status()));
    Fail(409, "conflict", kConflictReason);
  }
  Json tombstone = {{kId, id}, {kRev, *rev}, {kDeleted, true}};
  return WriteResponse(request, db->Put(std::move(tombstone)), 200);
}

// The target of a COPY: the Destination header, "id" or "id?rev=R", with
// the id percent-encoded as in a path.
std::pair<std::string, std::optional<std::string>> CopyDestination(const Request& request) {
  const std::string header = request.headers.GetOr("Destination");
  if (header.empty()) Fail(400, "bad_request", "Destination header is mandatory for COPY.");
  const size_t question = header.find('?');
  Result<std::string> id = http::PercentDecode(std::string_view(header).substr(0, question));
  if (!id.ok()) Fail(400, "bad_request", "Invalid Destination header: " + header);
  std::optional<std::string> rev;
  if (question != std::string::npos) {
    Result<http::QueryParams> query = http::ParseQuery(std::string_view(header).substr(question + 1));
    if (!query.ok()) Fail(400, "bad_request", "Invalid Destination header: " + header);
    rev = query->Get("rev");
  }
  return {std::move(*id), std::move(rev)};
}

// COPY /{db}/{docid}[?rev=] with "Destination: newid[?rev=R]" -> 201
// {"ok","id","rev"} of the copy + ETag + Location; the copy takes the
// source's body and attachments. 400 without Destination or with a bad id;
// 404 unknown source or db; 409 when the destination exists and R is not its
// current rev.
Response CopyDoc(Api& api, Request& request) {
  const std::string id = DocIdOf(request);
  ValidateId(id);
  std::shared_ptr<Database> db = api.OpenDb(request);
  auto [destination, rev] = CopyDestination(request);
  ValidateId(destination);
  if (!MayWriteDoc(api, request, destination)) Fail(403, "forbidden", kNotDbAdmin);
  if (IsLocalId(id) != IsLocalId(destination))
    Fail(400, "bad_request", "Cannot copy between _local and other documents");
  if (IsLocalId(id)) {
    Result<Json> local = db->GetLocal(id);
    if (!local.ok()) Fail(CouchError(local.status()));
    if (rev)
      (*local)[kRev] = *rev;
    else
      local->erase(kRev);
    (*local)[kId] = destination;
    return WriteResponse(request, db->PutLocal(destination, std::move(*local)));
  }
  GetOptions options;
  options.rev = request.query.Get("rev");
  options.attachments = true;  // the copy stores the bytes under its own revpos
  Result<Json> doc = db->Get(id, options);
  if (!doc.ok()) Fail(CouchError(doc.status()));
  (*doc)[kId] = destination;
  if (rev)
    (*doc)[kRev] = *rev;
  else
    doc->erase(kRev);
  return WriteResponse(request, db->Put(std::move(*doc)));
}

// ---------------------------------------------------------------------------
// Attachments

std::string AttachmentNameOf(const Request& request) { return request.Param("att"); }

void RejectLocalAttachment(const std::string& id) {
  if (IsLocalId(id)) Fail(400, "bad_request", kLocalNoAttachments);
}

// A single "Range: bytes=..." of an attachment of `size` bytes.
struct ByteRange {
  enum class Kind { kWhole, kPart, kUnsatisfiable } kind = Kind::kWhole;
  size_t first = 0;
  size_t last = 0;  // inclusive
};

// RFC 9110 byte ranges: "first-last", "first-" or "-suffix". A header that
// does not parse, or asks for several ranges, is ignored (the whole body
// answers), as the RFC allows.
ByteRange ParseByteRange(std::string_view header, size_t size) {
  ByteRange range;
  if (!StartsWith(header, "bytes=")) return range;
  std::string_view spec = header.substr(6);
  while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
  while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) return range;
  auto number = [](std::string_view digits) -> std::optional<size_t> {
    if (digits.empty() || digits.size() > 18 || !std::all_of(digits.begin(), digits.end(), ::isdigit))
      return std::nullopt;
    return static_cast<size_t>(std::stoull(std::string(digits)));
  };
  const std::string_view head = spec.substr(0, dash);
  const std::string_view tail = spec.substr(dash + 1);
  range.kind = ByteRange::Kind::kUnsatisfiable;
  if (head.empty()) {
    std::optional<size_t> suffix = number(tail);
    if (!suffix) return ByteRange{};
    if (*suffix == 0 || size == 0) return range;
    range.first = size - std::min(*suffix, size);
  } else {
    std::optional<size_t> first = number(head);
    std::optional<size_t> last = tail.empty() ? std::optional<size_t>(SIZE_MAX) : number(tail);
    if (!first || !last || *last < *first) return ByteRange{};
    if (*first >= size) return range;
    range.first = *first;
    range.last = std::min(*last, size - 1);
    range.kind = ByteRange::Kind::kPart;
    return range;
  }
  range.last = size - 1;
  range.kind = ByteRange::Kind::kPart;
  return range;
}

// GET|HEAD /{db}/{docid}/{att...}[?rev=] -> 200 the raw bytes with their
// Content-Type, ETag (the base64 md5) and Accept-Ranges: bytes; 206 with
// Content-Range for a satisfiable "Range: bytes=" and 416 with
// "Content-Range: bytes */N" otherwise; 304 on If-None-Match; 404 no db,
// doc or attachment.
Response GetAttachment(Api& api, Request& request) {
  const std::string id = DocIdOf(request);
  RejectLocalAttachment(id);
  std::shared_ptr<Database> db = api.OpenDb(request);
  Result<Attachment> att = db->GetAttachment(id, AttachmentNameOf(request), request.query.Get("rev"));
  if (!att.ok()) Fail(CouchError(att.status()));
  std::string_view digest = att->digest;
  if (StartsWith(digest, "md5-")) digest.remove_prefix(4);
  const std::string etag = "\"" + std::string(digest) + "\"";
  Response r;
  const std::string type = att->content_type.empty() ? "application/octet-stream" : att->content_type;
  const ByteRange range = ParseByteRange(request.headers.GetOr("Range"), att->data.size());
  const std::string size = std::to_string(att->data.size());
  if (std::optional<std::string> inm = request.headers.Get("If-None-Match"); inm && Unquote(*inm) == Unquote(etag)) {
    r.status = 304;
  } else if (range.kind == ByteRange::Kind::kUnsatisfiable) {
    r = CouchError(416, "requested_range_not_satisfiable", "Requested range not satisfiable");
    r.headers.Set("Content-Range", "bytes */" + size);
  } else if (range.kind == ByteRange::Kind::kPart) {
    r = Response::Text(206, att->data.substr(range.first, range.last - range.first + 1), type);
    r.headers.Set("Content-Range",
                  "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" + size);
  } else {
    r = Response::Text(200, std::move(att->data), type);
  }
  r.headers.Set("Accept-Ranges", "bytes");
  r.headers.Set("ETag", etag);
  r.headers.Set("Cache-Control", "must-revalidate");
  return r;
}

// PUT /{db}/{docid}/{att...}?rev= (or If-Match): the body becomes the
// attachment -> 201 {"ok","id","rev"}; creates the doc when it does not
// exist and no rev is given; 400 on _local docs; 404 no db; 409 stale rev.
Response PutAttachment(Api& api, Request& request) {
  const std::string id = DocIdOf(request);
  RejectLocalAttachment(id);
  ValidateId(id);
  std::shared_ptr<Database> db = api.OpenDb(request);
  std::string content_type = request.headers.GetOr("Content-Type", "application/octet-stream");
  WriteResult w = db->PutAttachment(id, AttachmentNameOf(request), RequestRev(request, nullptr), content_type,
                                    std::move(request.body));
  return WriteResponse(request, w);
}

// DELETE /{db}/{docid}/{att...}?rev= -> 200 {"ok","id","rev"}; 404; 409.
Response DeleteAttachment(Api& api, Request& request) {
  const std::string id = DocIdOf(request);
  RejectLocalAttachment(id);
  std::shared_ptr<Database> db = api.OpenDb(request);
  std::optional<std::string> rev = RequestRev(request, nullptr);
  if (!rev) Fail(409, "conflict", kConflictReason);
  return WriteResponse(request, db->DeleteAttachment(id, AttachmentNameOf(request), rev), 200);
}

// ---------------------------------------------------------------------------
// Bulk operations

// More entries than `max` in a bulk request: 413 {"error": `error`, "reason":
// "<max>"}, as CouchDB answers, so its replicator halves the batch and retries.
void CheckBulkCount(const Json& docs, size_t max, std::string_view error) {
  if (docs.size() > max) Fail(413, error, std::to_string(max));
}

// POST /{db}/_bulk_docs {"docs":[...],"new_edits"?} -> 201 one result per
// doc ({"ok","id","rev"} or {"id","error","reason"}); with new_edits=false
// only the failures ([] on success). 400 bad body or missing `docs`; 404 no
// db; 413 more than max_bulk_docs_count docs, or one too large.
Response BulkDocs(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  Json body = ParseObjectBody(request);
  if (!body.contains("docs") || !body["docs"].is_array()) Fail(400, "bad_request", "Missing JSON list of 'docs'");
  CheckBulkCount(body["docs"], api.options().max_bulk_docs_count, "max_bulk_docs_count_exceeded");
  bool new_edits = true;
  if (body.contains("new_edits")) {
    if (!body["new_edits"].is_boolean()) Fail(400, "bad_request", "`new_edits` must be a boolean");
    new_edits = body["new_edits"].get<bool>();
  }
  // _local docs take their own path (no revision tree); the rest go to the
  // engine in one batch. `results` keeps the input order.
  const size_t n = body["docs"].size();
  std::vector<WriteResult> results(n);
  std::vector<Json> docs;
  std::vector<size_t> positions;  // of docs[i] in the input
  for (size_t i = 0; i < n; ++i) {
    Json& doc = body["docs"][i];
    if (!doc.is_object()) Fail(400, "bad_request", "Document must be a JSON object");
    if (new_edits && !doc.contains(kId)) doc[kId] = NewId();
    if (doc.contains(kId) && doc[kId].is_string() && IsLocalId(doc[kId].get<std::string>())) {
      const std::string id = doc[kId].get<std::string>();
      results[i] = doc.value(kDeleted, false) ? db->DeleteLocal(id) : db->PutLocal(id, std::move(doc));
      continue;
    }
    if (!new_edits && !doc.contains(kRev) && !doc.contains(kRevisions)) {
      Fail(400, "bad_request", "When `new_edits: false`, the document needs `_rev` or `_revisions` specified");
    }
    if (!MayWriteDoc(api, request, json::GetString(doc, "_id"))) {
      results[i] = WriteResult{json::GetString(doc, "_id"), "", Status::PermissionDenied(std::string(kNotDbAdmin)),
                               "unauthorized"};
      continue;
    }
    if (db->name() == kUsersDb && new_edits) {
      if (Status refused = PrepareUserDoc(api, request, *db, doc); !refused.ok()) {
        results[i] = WriteResult{json::GetString(doc, "_id"), "", refused, "forbidden"};
        continue;
      }
    }
    docs.push_back(std::move(doc));
    positions.push_back(i);
  }
  if (!docs.empty()) {
    std::vector<WriteResult> written = db->BulkDocs(std::move(docs), new_edits);
    for (size_t j = 0; j < written.size() && j < positions.size(); ++j) results[positions[j]] = std::move(written[j]);
  }
  Json out = Json::array();
  for (const WriteResult& w : results) {
    if (!new_edits && w.status.ok()) continue;
    out.push_back(WriteResultJson(w));
  }
  return Reply(201, out);
}

// {"error":{"id","rev","error":"not_found","reason":"missing"}}
Json BulkGetError(const std::string& id, const Json& rev, std::string_view error, std::string_view reason) {
  return {{"error", {{"id", id}, {"rev", rev}, {"error", error}, {"reason", reason}}}};
}

// POST /{db}/_bulk_get[?revs&latest&attachments] {"docs":[{"id","rev"?}]}
// -> 200 {"results":[{"id","docs":[{"ok":doc}|{"error":{...}}]}]}, one
// result per request entry in order. 400 bad body; 404 no db; 413 more than
// max_bulk_get_count entries.
Response BulkGet(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  Json body = ParseObjectBody(request);
  if (!body.contains("docs") || !body["docs"].is_array()) Fail(400, "bad_request", "Missing JSON list of 'docs'");
  CheckBulkCount(body["docs"], api.options().max_bulk_get_count, "max_bulk_get_count_exceeded");
  GetOptions options;
  // CouchDB's replicator repeats the flags in the body; the query wins.
  auto flag = [&](std::string_view name) {
    const bool from_body = body.contains(name) && body[name].is_boolean() && body[name].get<bool>();
    return Query(params::Bool(request.query, name, from_body));
  };
  options.revs = flag("revs");
  options.latest = flag("latest");
  options.attachments = flag("attachments");

  // Written as text: each document is spliced from its stored body
  // (Database::OpenRevsText), which is what makes a pull replication fast.
  std::string out = "{\"results\":[";
  bool first_result = true;
  for (const Json& entry : body["docs"]) {
    if (!first_result) out += ',';
    first_result = false;
    if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_string()) {
      Json error = BulkGetError("", nullptr, "bad_request", "document id missed");
      error["error"]["id"] = nullptr;
      out += json::Dump(Json{{"id", nullptr}, {"docs", Json::array({std::move(error)})}});
      continue;
    }
    const std::string id = entry["id"].get<std::string>();
    std::vector<std::string> revs;
    Json rev_json = "undefined";
    if (entry.contains("rev") && entry["rev"].is_string()) {
      revs.push_back(entry["rev"].get<std::string>());
      rev_json = revs.back();
    }
    out += "{\"id\":" + json::Dump(Json(id)) + ",\"docs\":[";
    Result<std::vector<OpenRevText>> found = db->OpenRevsText(id, revs, options);
    if (!found.ok()) {
      out += json::Dump(BulkGetError(id, rev_json, CouchErrorType(http::HttpStatusOf(found.status().code())),
                                     found.status().message()));
    } else {
      bool first_doc = true;
      for (const OpenRevText& item : *found) {
        if (!first_doc) out += ',';
        first_doc = false;
        if (item.doc.empty()) {
          out += json::Dump(BulkGetError(id, item.missing, "not_found", "missing"));
        } else {
          out += "{\"ok\":" + item.doc + "}";
        }
      }
    }
    out += "]}";
  }
  out += "]}";
  return ReplyText(200, std::move(out));
}

// POST /{db}/_revs_diff {"id":["rev",...]} -> 200 {"id":{"missing":[...],
// "possible_ancestors"?:[...]}}; 400 bad body; 404 no db.
Response RevsDiff(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  Json body = ParseObjectBody(request);
  for (const auto& [id, revs] : body.items()) {
    if (!revs.is_array()) Fail(400, "bad_request", "Revisions of " + id + " must be a JSON array");
    for (const Json& r : revs) {
      if (!r.is_string()) Fail(400, "bad_request", "Revisions of " + id + " must be strings");
    }
  }
  return Reply(200, db->RevsDiff(body));
}

// Start or end key of _all_docs: a JSON string.
std::optional<std::string> KeyParam(const std::optional<Json>& value, std::string_view name) {
  if (!value) return std::nullopt;
  if (!value->is_string()) Fail(400, "query_parse_error", "`" + std::string(name) + "` must be a JSON string");
  return value->get<std::string>();
}

std::vector<std::string> KeysOf(const Json& keys) {
  if (!keys.is_array()) Fail(400, "bad_request", "`keys` member must be an array.");
  std::vector<std::string> out;
  for (const Json& k : keys) {
    if (!k.is_string()) Fail(400, "query_parse_error", "`keys` of _all_docs must be strings");
    out.push_back(k.get<std::string>());
  }
  return out;
}

// GET|POST /{db}/_all_docs -> 200 {"total_rows","offset","rows":[...]};
// keys via POST body {"keys":[...]} or GET keys=; 400 query_parse_error; 404 no db.
Response AllDocs(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  const http::QueryParams& q = request.query;
  AllDocsOptions o;
  o.descending = Query(params::Bool(q, "descending", false));
  o.inclusive_end = Query(params::Bool(q, "inclusive_end", true));
  o.include_docs = Query(params::Bool(q, "include_docs", false));
  o.conflicts = Query(params::Bool(q, "conflicts", false));
  o.update_seq = Query(params::Bool(q, "update_seq", false));
  if (std::optional<int64_t> limit = Query(params::Count(q, "limit"))) o.limit = static_cast<size_t>(*limit);
  if (std::optional<int64_t> skip = Query(params::Count(q, "skip"))) o.skip = static_cast<size_t>(*skip);
  o.startkey = KeyParam(Query(params::JsonValue(q, {"startkey", "start_key"})), "startkey");
  o.endkey = KeyParam(Query(params::JsonValue(q, {"endkey", "end_key"})), "endkey");
  if (std::optional<std::string> key = KeyParam(Query(params::JsonValue(q, {"key"})), "key")) {
    o.startkey = o.endkey = key;
    o.inclusive_end = true;
  }
  if (std::optional<Json> keys = Query(params::JsonValue(q, {"keys"}))) o.keys = KeysOf(*keys);
  if (request.method == http::Method::kPost) {
    Json body = ParseObjectBody(request, /*empty_ok=*/true);
    if (body.contains("keys")) o.keys = KeysOf(body["keys"]);
  }
  return ReplyText(200, db->AllDocsText(o));
}

// ---------------------------------------------------------------------------
// Mango

// A Mango selector, or a 400 with Mango's error name.
Selector ParseSelector(const Json& selector) {
  Result<Selector> parsed = Selector::Parse(selector);
  if (!parsed.ok()) Fail(400, MangoErrorType(parsed.status()), parsed.status().message());
  return std::move(*parsed);
}

// A failed Mango call: 400 with Mango's error name, 503 for index types
// wisp does not have, and the status's own answer otherwise.
[[noreturn]] void FailMango(const Status& status) {
  if (status.IsInvalidArgument()) Fail(400, MangoErrorType(status), status.message());
  if (status.code() == StatusCode::kUnavailable) Fail(503, "required index service unavailable", status.message());
  if (status.IsConflict()) Fail(500, "error_saving_ddoc", status.message());
  Fail(CouchError(status));
}

template <typename T>
T Mango(Result<T> parsed) {
  if (!parsed.ok()) FailMango(parsed.status());
  return std::move(*parsed);
}

// _find bookmarks are opaque to clients; wisp's carries the offset of the next page.
std::string MakeBookmark(size_t offset) { return Base64Encode(json::Dump(Json{{"offset", offset}})); }

std::optional<size_t> ReadBookmark(const Json& bookmark) {
  if (bookmark.is_null() || bookmark == "" || bookmark == "nil") return std::nullopt;
  if (!bookmark.is_string()) Fail(400, "invalid_bookmark", "Invalid bookmark value: " + json::Dump(bookmark));
  Result<std::string> text = Base64Decode(bookmark.get<std::string>());
  if (!text.ok()) Fail(400, "invalid_bookmark", "Invalid bookmark value: " + bookmark.get<std::string>());
  Result<Json> parsed = json::Parse(*text);
  if (!parsed.ok() || !parsed->contains("offset") || !(*parsed)["offset"].is_number_unsigned()) {
    Fail(400, "invalid_bookmark", "Invalid bookmark value: " + bookmark.get<std::string>());
  }
  return (*parsed)["offset"].get<size_t>();
}

size_t NonNegative(const Json& body, std::string_view name, size_t fallback) {
  if (!body.contains(name)) return fallback;
  const Json& value = body[name];
  if (!value.is_number_integer() || value.get<int64_t>() < 0) {
    Fail(400, "invalid_non_neg_integer", json::Dump(value) + " is not an integer greater than or equal to zero");
  }
  return value.get<size_t>();
}

bool Boolean(const Json& body, std::string_view name, bool fallback) {
  if (!body.contains(name)) return fallback;
  if (!body[name].is_boolean()) {
    Fail(400, "invalid_boolean", std::string(mango_reason::kInvalidBoolean) + json::Dump(body[name]));
  }
  return body[name].get<bool>();
}

// The body of POST /{db}/_find or _explain, validated as CouchDB's
// mango_opts validates it.
struct FindRequest {
  FindOptions options;
  std::vector<std::string> fields;
  bool execution_stats = false;
};

FindRequest ParseFindRequest(const Json& body) {
  static const std::set<std::string> kKeys = {"selector", "use_index",      "bookmark", "limit",     "skip",  "sort",
                                              "fields",   "partition",      "r",        "conflicts", "stale", "update",
                                              "stable",   "execution_stats"};
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (!kKeys.count(it.key())) {
      Fail(400, "invalid_key", std::string(mango_reason::kInvalidKey) + it.key() + " for this request.");
    }
  }
  if (!body.contains("selector")) {
    Fail(400, "missing_required_key", std::string(mango_reason::kMissingKey) + "selector");
  }
  FindRequest f;
  f.options.selector = Mango(Selector::Parse(body["selector"]));
  f.options.sort = Mango(ParseSort(body.value("sort", Json::array())));
  f.fields = Mango(ParseFields(body.value("fields", Json::array())));
  f.options.use_index = Mango(ParseUseIndex(body.value("use_index", Json())));
  f.options.limit = NonNegative(body, "limit", 25);
  f.options.skip = NonNegative(body, "skip", 0);
  if (body.contains("bookmark")) f.options.skip = ReadBookmark(body["bookmark"]).value_or(f.options.skip);
  f.options.conflicts = Boolean(body, "conflicts", false);
  f.execution_stats = Boolean(body, "execution_stats", false);
  (void)Boolean(body, "update", true);
  (void)Boolean(body, "stable", false);
  return f;
}

// POST /{db}/_find {"selector", "limit"?=25, "skip"?, "sort"?, "fields"?,
// "use_index"?, "bookmark"?, "conflicts"?, "execution_stats"?, ...} -> 200
// {"docs","bookmark","warning"?,"execution_stats"?}, through the index
// Database::Find picks. 400 with Mango's error names (no_usable_index for a
// sort no index serves); 404 no db.
Response Find(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  const FindRequest f = ParseFindRequest(ParseObjectBody(request));
  FindResult result = Mango(db->Find(f.options));
  Json docs = Json::array();
  for (const Json& doc : result.docs) docs.push_back(ProjectFields(doc, f.fields));
  Json out = {{"docs", docs},
              {"bookmark", docs.empty() ? std::string("nil") : MakeBookmark(f.options.skip + docs.size())}};
  if (!result.plan.warnings.empty()) {
    std::string warning;
    for (const std::string& w : result.plan.warnings) warning += (warning.empty() ? "" : "\n") + w;
    out["warning"] = warning;
  }
  if (f.execution_stats) {
    out["execution_stats"] = {{"total_keys_examined", result.stats.total_keys_examined},
                              {"total_docs_examined", result.stats.total_docs_examined},
                              {"total_quorum_docs_examined", 0},
                              {"results_returned", result.stats.results_returned},
                              {"execution_time_ms", result.stats.execution_time_ms}};
  }
  return Reply(200, out);
}

// POST /{db}/_explain (a _find body) -> 200 {"dbname","index","selector",
// "opts","limit","skip","fields","mrargs",...}: the index _find would use and
// the range it would read. 400 and 404 as _find.
Response Explain(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  const Json body = ParseObjectBody(request);
  const FindRequest f = ParseFindRequest(body);
  FindResult result = Mango(db->Explain(f.options));
  const QueryPlan& plan = result.plan;
  Json sort = Json::object();
  for (const SortField& field : f.options.sort) sort[field.field] = field.descending ? "desc" : "asc";
  const Json fields = f.fields.empty() ? Json("all_fields") : Json(f.fields);
  Json opts = {{"use_index", body.value("use_index", Json::array())},
               {"bookmark", body.value("bookmark", Json("nil"))},
               {"limit", f.options.limit},
               {"skip", f.options.skip},
               {"sort", sort},
               {"fields", fields},
               {"partition", ""},
               {"r", 1},
               {"conflicts", f.options.conflicts},
               {"stale", false},
               {"update", true},
               {"stable", false},
               {"execution_stats", f.execution_stats}};
  Json mrargs = {{"include_docs", true},
                 {"view_type", "map"},
                 {"reduce", false},
                 {"partition", nullptr},
                 {"start_key", plan.index >= 0 ? plan.StartKey() : Json(nullptr)},
                 {"end_key", plan.index >= 0 ? plan.EndKey() : Json("<MAX>")},
                 {"direction", plan.descending ? "rev" : "fwd"},
                 {"stable", false},
                 {"update", true},
                 {"conflicts", "undefined"}};
  return Reply(200, {{"dbname", db->name()},
                     {"index", result.index},
                     {"partitioned", false},
                     {"selector", f.options.selector.ToJson()},
                     {"opts", opts},
                     {"limit", f.options.limit},
                     {"skip", f.options.skip},
                     {"fields", fields},
                     {"mrargs", mrargs},
                     {"covering", false}});
}

// GET /{db}/_index -> 200 {"total_rows","indexes"}: _all_docs, then every
// JSON index by design document and name. 404 no db.
Response ListIndexes(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  Json indexes = Json::array({AllDocsIndexJson()});
  for (const IndexDef& index : db->ListIndexes()) indexes.push_back(index.ToJson());
  return Reply(200, {{"total_rows", indexes.size()}, {"indexes", indexes}});
}

// POST /{db}/_index {"index":{"fields":[...],"partial_filter_selector"?},
// "type"?:"json","name"?,"ddoc"?} -> 200 {"result":"created"|"exists","id",
// "name"}: the index is a view of a "query" design document, built over the
// existing documents before the answer. 400 with Mango's error names
// (invalid_index, invalid_sort_field, missing_required_key, ...); 400
// invalid_ddoc_lang when that design document has another language; 503 for
// text indexes; 404 no db.
Response CreateIndex(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  const IndexDef index = Mango(ParseIndexRequest(ParseObjectBody(request)));
  const CreateIndexResult result = Mango(db->CreateIndex(index));
  return Reply(200, {{"result", result.created ? "created" : "exists"}, {"id", result.id}, {"name", result.name}});
}

// DELETE /{db}/_index/{ddoc}/json/{name} (also /_index/_design/{ddoc}/...)
// -> 200 {"ok":true}; the design document goes when no index is left in it.
// 404 not_found "missing" for an unknown index or type; 404 no db.
Response DeleteIndex(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  const std::string& ddoc = request.Param("ddoc");
  const std::string id = StartsWith(ddoc, kDesignPrefix) ? ddoc : std::string(kDesignPrefix) + ddoc;
  if (request.Param("type") != "json") Fail(404, "not_found", "missing");
  Status s = db->DeleteIndex(id, request.Param("name"));
  if (!s.ok()) FailMango(s);
  return Reply(200, {{"ok", true}});
}

// ---------------------------------------------------------------------------
// _changes

struct FeedRequest {
  std::string feed = "normal";  // normal, longpoll, continuous, eventsource
  ChangesOptions changes;
  std::optional<Ms> heartbeat;
  std::optional<Ms> timeout;
};

std::string NormalBody(const ChangesPage& page) {
  // `results` first: CouchDB's replicator stops parsing after it.
  return "{\"results\":" + json::Dump(page.results) + ",\"last_seq\":" + std::to_string(page.last_seq) +
         ",\"pending\":" + std::to_string(page.pending) + "}\n";
}

FeedRequest ParseFeedRequest(Request& request, Database& db) {
  const http::QueryParams& q = request.query;
  FeedRequest f;
  f.feed = q.GetOr("feed", "normal");
  if (f.feed == "live") f.feed = "continuous";
  if (f.feed != "normal" && f.feed != "longpoll" && f.feed != "continuous" && f.feed != "eventsource") {
    Fail(400, "bad_request", "Supported `feed` types: normal, continuous, live, longpoll, eventsource");
  }
  ChangesOptions& c = f.changes;
  std::optional<std::string> since = q.Get("since");
  if (!since && f.feed == "eventsource") since = request.headers.Get("Last-Event-ID");
  if (since) c.since = Query(params::ParseSince(*since, db.update_seq()));
  if (std::optional<int64_t> limit = Query(params::Count(q, "limit"))) {
    c.limit = static_cast<size_t>(std::max<int64_t>(*limit, 1));  // CouchDB treats 0 as 1
  }
  c.descending = Query(params::Bool(q, "descending", false));
  c.include_docs = Query(params::Bool(q, "include_docs", false));
  c.conflicts = Query(params::Bool(q, "conflicts", false));
  const std::string style = q.GetOr("style", "main_only");
  if (style != "main_only" && style != "all_docs") {
    Fail(400, "bad_request", "Invalid `style` parameter: \"" + style + "\"");
  }
  c.all_docs_style = style == "all_docs";
  f.heartbeat = Query(params::Heartbeat(q));
  if (std::optional<int64_t> timeout = Query(params::Count(q, "timeout"))) f.timeout = Ms(*timeout);

  Json body = request.method == http::Method::kPost ? ParseObjectBody(request, /*empty_ok=*/true) : Json::object();
  const std::string filter = q.GetOr("filter", "");
  std::optional<Json> doc_ids = Query(params::JsonValue(q, {"doc_ids"}));
  if (body.contains("doc_ids")) doc_ids = body["doc_ids"];
  if (filter == "_doc_ids" || (filter.empty() && doc_ids)) {
    if (!doc_ids || !doc_ids->is_array()) Fail(400, "bad_request", "`doc_ids` filter parameter is not a list of doc ids.");
    std::set<std::string> ids;
    for (const Json& id : *doc_ids) {
      if (!id.is_string()) Fail(400, "bad_request", "`doc_ids` filter parameter is not a list of doc ids.");
      ids.insert(id.get<std::string>());
    }
    c.doc_ids = std::move(ids);
  } else if (filter == "_design") {
    c.filter = [](const Json& doc) { return StartsWith(json::GetString(doc, kId), kDesignPrefix); };
  } else if (filter == "_selector") {
    if (!body.contains("selector")) Fail(400, "bad_request", "Selector must be specified in POST payload");
    Selector selector = ParseSelector(body["selector"]);
    c.filter = [selector](const Json& doc) { return selector.Matches(doc); };
  } else if (!filter.empty()) {
    // JavaScript filters (ddoc/name, _view) need a JavaScript engine (spec §5).
    Fail(400, "bad_request", "Only the _doc_ids, _design and _selector filters are supported");
  }
  return f;
}

enum class WaitOutcome { kChanged, kTimedOut, kAbandoned };

// Blocks until the database moves past `since`, the deadline passes, or the
// feed is abandoned (client gone, server stopping), writing heartbeats on
// the way. Wakes at least every feed_check_interval to notice abandonment.
WaitOutcome WaitForMore(Api& api, Database& db, int64_t since, SteadyClock::time_point deadline,
                        std::optional<Ms> heartbeat, std::string_view heartbeat_text,
                        SteadyClock::time_point& next_heartbeat, http::BodyStream& out) {
  while (true) {
    if (api.stopping() || out.client_gone()) return WaitOutcome::kAbandoned;
    const auto now = SteadyClock::now();
    if (now >= deadline) return WaitOutcome::kTimedOut;
    const auto until = std::min({deadline, next_heartbeat, now + api.options().feed_check_interval});
    if (db.WaitForChange(since, until)) return WaitOutcome::kChanged;
    if (heartbeat && SteadyClock::now() >= next_heartbeat) {
      if (!out.Write(heartbeat_text)) return WaitOutcome::kAbandoned;
      next_heartbeat = SteadyClock::now() + *heartbeat;
    }
  }
}

// A streamed feed reads the database this many changes at a time, and waits
// while its client is more than kFeedBacklogBytes behind, so a slow reader
// holds a bounded amount of memory; one that stops reading is dropped by the
// server's write timeout (docs/security.md "Limits").
constexpr size_t kFeedBatch = 500;
constexpr size_t kFeedBacklogBytes = 1024 * 1024;

// False when the feed is abandoned while it waits for its reader.
bool WaitForReader(Api& api, http::BodyStream& out) {
  while (!out.WaitForRoom(kFeedBacklogBytes, SteadyClock::now() + api.options().feed_check_interval)) {
    if (api.stopping() || out.client_gone()) return false;
  }
  return true;
}

// Fills a streamed feed until its timeout, its limit, the client leaving or
// the server stopping. Runs on a feed thread.
void RunFeed(Api& api, Database& db, FeedRequest f, http::BodyStream& out) {
  // wisp_store_changes_listeners counts this feed while it is open.
  Gauge* listeners = db.metrics() ? &db.metrics()->ChangesListeners(db.name()) : nullptr;
  if (listeners) listeners->Add(1);
  struct Closed {
    Gauge* listeners;
    ~Closed() {
      if (listeners) listeners->Add(-1);
    }
  } closed{listeners};
  const bool longpoll = f.feed == "longpoll";
  const bool eventsource = f.feed == "eventsource";
  const auto start = SteadyClock::now();
  const Ms cap = api.options().max_feed_wait;
  // Longpoll always ends by the cap; continuous with a heartbeat runs until
  // its client leaves unless it asked for a timeout (as in CouchDB).
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  if (longpoll) {
    deadline = start + std::min(f.timeout.value_or(cap), cap);
  } else if (f.timeout) {
    deadline = start + *f.timeout;
  } else if (!f.heartbeat) {
    deadline = start + cap;
  }
  const std::string heartbeat_text = eventsource ? "event: heartbeat\ndata: \n\n" : "\n";
  auto next_heartbeat = f.heartbeat ? start + *f.heartbeat : SteadyClock::time_point::max();
  const size_t limit = f.changes.limit;
  size_t sent = 0;
  int64_t since = f.changes.since;
  int64_t pending = 0;
  f.changes.descending = false;  // a feed that waits only goes forward

  while (sent < limit) {
    ChangesOptions options = f.changes;
    options.since = since;
    options.limit = limit == SIZE_MAX ? SIZE_MAX : limit - sent;
    if (!longpoll) options.limit = std::min(options.limit, kFeedBatch);
    // Every change up to `seen` is in the page unless the limit cut it.
    const int64_t seen = db.update_seq();
    ChangesPage page = db.Changes(options);
    pending = page.pending;
    if (longpoll && !page.results.empty()) {
      out.Write(NormalBody(page));
      out.Close();
      return;
    }
    for (const Json& row : page.results) {
      if (!WaitForReader(api, out)) {
        out.Close();
        return;
      }
      std::string line = eventsource ? "data: " + json::Dump(row) + "\nid: " + json::Dump(row["seq"]) + "\n\n"
                                     : json::Dump(row) + "\n";
      if (!out.Write(line)) return;
      ++sent;
    }
    if (!page.status.ok()) {
      // The client goes on from the last change it got, on a new request.
      since = page.last_seq;
      break;
    }
    since = page.results.size() < options.limit ? std::max(page.last_seq, seen) : page.last_seq;
    if (sent >= limit) break;
    if (page.results.size() == options.limit) continue;  // a full batch: more are there already
    const WaitOutcome waited =
        WaitForMore(api, db, since, deadline, f.heartbeat, heartbeat_text, next_heartbeat, out);
    if (waited == WaitOutcome::kAbandoned) {
      out.Close();
      return;
    }
    if (waited == WaitOutcome::kTimedOut) break;
  }
  if (longpoll) {
    out.Write("{\"results\":[],\"last_seq\":" + std::to_string(since) + ",\"pending\":0}\n");
  } else if (!eventsource) {
    out.Write("{\"last_seq\":" + std::to_string(since) + ",\"pending\":" + std::to_string(pending) + "}\n");
  }
  out.Close();
}

// GET|POST /{db}/_changes: feed=normal -> 200 {"results","last_seq","pending"};
// longpoll -> the same, once there is a change or at the timeout (streamed
// with "\n" heartbeats while it waits); continuous -> one JSON per line,
// blank-line heartbeats, a final {"last_seq","pending"}; eventsource ->
// text/event-stream. 400 bad parameters or filter; 404 no db; 503 when
// every feed thread is busy.
Response Changes(Api& api, Request& request) {
  std::shared_ptr<Database> db = api.OpenDb(request);
  FeedRequest f = ParseFeedRequest(request, *db);
  if (f.feed == "normal" || f.feed == "longpoll") {
    ChangesPage page = db->Changes(f.changes);
    if (!page.status.ok() && page.results.empty()) return CouchError(page.status);
    if (f.feed == "normal" || !page.results.empty()) return ReplyText(200, NormalBody(page));
    f.changes.since = std::max(f.changes.since, page.last_seq);
  }
  auto [response, stream] =
      Response::Streaming(200, f.feed == "eventsource" ? "text/event-stream" : "application/json");
  response.headers.Set("Cache-Control", "must-revalidate");
  Api* raw = &api;
  const bool started = api.StartFeed(
      [raw, db, f = std::move(f), stream = stream]() mutable { RunFeed(*raw, *db, std::move(f), *stream); });
  if (!started) {
    stream->Close();
    return CouchError(503, "service_unavailable", "Too many open change feeds; try again later.");
  }
  return std::move(response);
}

// ---------------------------------------------------------------------------
// Replication (the work is in store/replication_manager.h)

// POST /_replicate: see ReplicationManager::Replicate() for the answers.
// Server admin only: 401 "You are not an authenticated user" for anonymous
// callers, 401 for wrong credentials and for users who are not the admin.
Response Replicate(Api& api, Request& request) {
  const Identity who = api.auth().Identify(request);
  switch (who.kind) {
    case Identity::Kind::kAdmin: break;
    case Identity::Kind::kAnonymous: Fail(401, "unauthorized", "You are not an authenticated user");
    case Identity::Kind::kRejected: Fail(CouchError(who.rejection));
    case Identity::Kind::kUser: Fail(401, "unauthorized", "You are not a server admin.");
  }
  ReplicationManager::Reply reply = api.options().replication->Replicate(ParseObjectBody(request));
  return Reply(reply.status, reply.body);
}

// GET /_scheduler/jobs, /_scheduler/docs, /_active_tasks -> 200.
Response SchedulerJobs(Api& api, Request&) { return Reply(200, api.options().replication->SchedulerJobs()); }
Response SchedulerDocs(Api& api, Request&) { return Reply(200, api.options().replication->SchedulerDocs()); }
Response ActiveTasks(Api& api, Request&) { return Reply(200, api.options().replication->ActiveTasks()); }

// GET /_scheduler/docs/_replicator/{docid} -> 200 the document's job; 404.
Response SchedulerDoc(Api& api, Request& request) {
  Result<Json> doc = api.options().replication->SchedulerDoc(request.Param("docid"));
  if (!doc.ok()) Fail(404, "not_found", "missing");
  return Reply(200, *doc);
}

// ---------------------------------------------------------------------------
// Routing

// PUT|DELETE|GET on a path whose {docid} is one encoded "_local/x" segment
// goes to the _local handlers inside GetDoc/PutDoc/DeleteDoc.
// `write` is who may change the documents: members, or for design
// documents the database's admins.
void AddDocRoutes(http::Router& router, const std::shared_ptr<Api>& api, const std::string& doc, Access write) {
  router.Get(doc, Guard(api, GetDoc, Access::kMember));
  router.Put(doc, Guard(api, PutDoc, write));
  router.Delete(doc, Guard(api, DeleteDoc, write));
  if (Status s = router.Add(http::Method::kCopy, doc, Guard(api, CopyDoc, write)); !s.ok()) {
    log::Error("store", "cannot add COPY route", {{"error", s.message()}});
  }
}

void AddAttachmentRoutes(http::Router& router, const std::shared_ptr<Api>& api, const std::string& doc,
                         Access write) {
  const std::string att = doc + "/{att...}";
  router.Get(att, Guard(api, GetAttachment, Access::kMember));
  router.Put(att, Guard(api, PutAttachment, write));
  router.Delete(att, Guard(api, DeleteAttachment, write));
}

}  // namespace

std::shared_ptr<CouchAuth> AddCouchRoutes(http::Router& router, Store& store, const CouchApiOptions& options) {
  auto api = std::make_shared<Api>(store, options);
  // Users log in against _users, so it exists from the start, as in CouchDB.
  if (Status s = store.CreateDatabase(std::string(kUsersDb)); !s.ok() && s.code() != StatusCode::kPreconditionFailed) {
    log::Error("store", "cannot create _users", {{"error", s.message()}});
  }

  router.Get("/", Guard(api, Welcome, Access::kPublic));
  router.Get("/_uuids", Guard(api, Uuids));
  router.Get("/_session", Guard(api, GetSession, Access::kPublic));
  router.Post("/_session", Guard(api, PostSession, Access::kPublic));
  router.Delete("/_session", Guard(api, DeleteSession, Access::kPublic));
  router.Get("/_all_dbs", Guard(api, AllDbs));

  router.Put("/{db}", Guard(api, CreateDb));
  router.Get("/{db}", Guard(api, DbInfo, Access::kMember));
  router.Delete("/{db}", Guard(api, DeleteDb));
  router.Post("/{db}", Guard(api, PostDoc, Access::kMember));

  router.Post("/{db}/_bulk_docs", Guard(api, BulkDocs, Access::kMember));
  router.Post("/{db}/_bulk_get", Guard(api, BulkGet, Access::kMember));
  router.Post("/{db}/_revs_diff", Guard(api, RevsDiff, Access::kMember));
  router.Get("/{db}/_all_docs", Guard(api, AllDocs, Access::kMember));
  router.Post("/{db}/_all_docs", Guard(api, AllDocs, Access::kMember));
  router.Get("/{db}/_changes", Guard(api, Changes, Access::kMember));
  router.Post("/{db}/_changes", Guard(api, Changes, Access::kMember));
  router.Post("/{db}/_ensure_full_commit", Guard(api, EnsureFullCommit, Access::kMember));
  router.Post("/{db}/_compact", Guard(api, Compact, Access::kDbAdmin));
  router.Post("/{db}/_compact/{ddoc}", Guard(api, CompactNothing));
  router.Post("/{db}/_view_cleanup", Guard(api, CompactNothing));
  router.Post("/{db}/_find", Guard(api, Find, Access::kMember));
  router.Get("/{db}/_index", Guard(api, ListIndexes, Access::kMember));
  router.Post("/{db}/_index", Guard(api, CreateIndex, Access::kDbAdmin));
  router.Delete("/{db}/_index/{ddoc}/{type}/{name}", Guard(api, DeleteIndex, Access::kDbAdmin));
  router.Delete("/{db}/_index/_design/{ddoc}/{type}/{name}", Guard(api, DeleteIndex, Access::kDbAdmin));
  router.Post("/{db}/_explain", Guard(api, Explain, Access::kMember));
  router.Get("/{db}/_security", Guard(api, GetSecurity, Access::kMember));
  router.Put("/{db}/_security", Guard(api, PutSecurity, Access::kDbAdmin));
  router.Get("/{db}/_revs_limit", Guard(api, GetRevsLimit, Access::kMember));
  router.Put("/{db}/_revs_limit", Guard(api, PutRevsLimit, Access::kDbAdmin));

  if (options.replication != nullptr) {
    router.Post("/_replicate", Guard(api, Replicate, Access::kPublic));
    router.Get("/_scheduler/jobs", Guard(api, SchedulerJobs));
    router.Get("/_scheduler/docs", Guard(api, SchedulerDocs));
    router.Get("/_scheduler/docs/_replicator/{docid}", Guard(api, SchedulerDoc));
    router.Get("/_active_tasks", Guard(api, ActiveTasks));
  }

  AddDocRoutes(router, api, "/{db}/{docid}", Access::kMember);
  AddDocRoutes(router, api, "/{db}/_design/{ddoc}", Access::kDbAdmin);
  AddDocRoutes(router, api, "/{db}/_local/{local}", Access::kMember);
  AddAttachmentRoutes(router, api, "/{db}/{docid}", Access::kMember);
  AddAttachmentRoutes(router, api, "/{db}/_design/{ddoc}", Access::kDbAdmin);
  AddAttachmentRoutes(router, api, "/{db}/_local/{local}", Access::kMember);
  return std::shared_ptr<CouchAuth>(api, &api->auth());  // shares the Api's lifetime
}

}  // namespace wisp::store
