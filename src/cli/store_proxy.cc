#include "cli/store_proxy.h"

#include <algorithm>
#include <cstdlib>

#include "http/url.h"
#include "json/json.h"
#include "store/couch_error.h"
#include "util/log.h"

namespace wisp::cli {
namespace {

// Request headers that describe the body or the caller's preferences; the
// caller's Authorization and Cookie are wisp's, never the external store's.
constexpr const char* kForwardedRequestHeaders[] = {"Content-Type", "Accept", "If-Match", "If-None-Match"};
// Answer headers that belong to the hop, or to wisp's own session with the
// external store, and so never reach the browser.
constexpr const char* kDroppedResponseHeaders[] = {"Set-Cookie",     "Transfer-Encoding", "Connection", "Keep-Alive",
                                                   "Content-Length", "Content-Encoding",  "Location",   "Server"};

struct Proxy {
  StoreProxyOptions options;
  size_t prefix_segments = 1;  // "/db" is one segment
};

bool IsWrite(http::Method m) {
  return m == http::Method::kPut || m == http::Method::kPost || m == http::Method::kDelete ||
         m == http::Method::kCopy;
}

// The caller's right to the database, as wisp's own routes judge it:
// nullopt when the caller may go on; else wisp's refusal. Set-Cookie of a
// refreshed session is copied into `cookies`.
std::optional<http::Response> Authorize(const Proxy& proxy, const http::Request& request, const std::string& db,
                                        std::vector<std::string>& cookies) {
  http::Request probe;
  probe.method = http::Method::kGet;
  probe.method_name = "GET";
  probe.path = "/" + http::PercentEncode(db);
  probe.target = probe.path;
  probe.segments = {db};
  for (const char* name : {"Authorization", "Cookie", "Host", "X-Forwarded-Proto"}) {
    if (std::optional<std::string> v = request.headers.Get(name)) probe.headers.Set(name, *v);
  }
  probe.remote_address = request.remote_address;
  probe.tls = request.tls;
  http::RouteMatch match = proxy.options.local->Match(probe.method, probe.segments);
  if (!match.route) return store::CouchError(404, "not_found", "Database does not exist.");
  probe.params = std::move(match.params);
  probe.route = match.route->pattern;
  http::Response answer = match.route->handler(probe);
  for (const auto& [name, value] : answer.headers.entries()) {
    if (http::EqualsIgnoreCase(name, "Set-Cookie")) cookies.push_back(value);
  }
  // A member reads the database, so 200; a 404 means the embedded copy is
  // gone, and with it the rule that says who may use it.
  if (answer.status == 200) return std::nullopt;
  return answer;
}

// True when the request would change what every user of the external
// store sees: the database itself, its _security, or a design document.
bool NeedsServerAdmin(const http::Request& request, size_t first) {
  const std::vector<std::string>& s = request.segments;
  if (s.size() == first + 1) return request.method == http::Method::kPut || request.method == http::Method::kDelete;
  const std::string& what = s[first + 1];
  if (what == "_security") return true;
  if ((what == "_design" || what.starts_with("_design/")) && IsWrite(request.method)) return true;
  if (what == "_bulk_docs" && request.method == http::Method::kPost) {
    Result<Json> body = json::ParseObject(request.body);
    if (!body.ok() || !body->contains("docs") || !(*body)["docs"].is_array()) return false;  // the store says 400
    for (const Json& doc : (*body)["docs"]) {
      if (doc.is_object() && json::GetString(doc, "_id").starts_with("_design/")) return true;
    }
  }
  return false;
}

// The query for the external store: a longpoll is bounded and without
// heartbeats. InvalidArgument for a feed the proxy does not carry.
Result<std::string> ForwardedQuery(const Proxy& proxy, const std::string& raw_query, bool changes,
                                   std::chrono::milliseconds& wait) {
  wait = std::chrono::milliseconds(0);
  if (!changes) return raw_query;
  WISP_ASSIGN_OR_RETURN(http::QueryParams query, http::ParseQuery(raw_query));
  const std::string feed = query.GetOr("feed", "normal");
  if (feed == "continuous" || feed == "eventsource") {
    return Status::InvalidArgument("The external store is reached through wisp with feed=normal or longpoll only.");
  }
  if (feed != "longpoll") return raw_query;
  const long long asked = std::atoll(query.GetOr("timeout", "0").c_str());
  const long long cap = proxy.options.max_longpoll.count();
  wait = std::chrono::milliseconds(asked > 0 ? std::min(asked, cap) : cap);
  std::string out;
  for (const auto& [name, value] : query.entries()) {
    if (name == "heartbeat" || name == "timeout") continue;
    out += (out.empty() ? "" : "&") + http::PercentEncode(name) + "=" + http::PercentEncode(value);
  }
  return out + (out.empty() ? "" : "&") + "timeout=" + std::to_string(wait.count());
}

// The `since` of a changes query as the feed's last_seq: a number when it
// is one, else the text (an opaque CouchDB sequence, or "now").
Json SinceOf(const std::string& raw_query) {
  Result<http::QueryParams> query = http::ParseQuery(raw_query);
  const std::string since = query.ok() ? query->GetOr("since", "0") : "0";
  Result<Json> number = json::Parse(since);
  return number.ok() && number->is_number_integer() ? *number : Json(since);
}

http::Response Forward(const Proxy& proxy, http::Request& request) {
  const size_t first = proxy.prefix_segments;
  const std::string& db = request.segments[first];
  std::vector<std::string> cookies;
  if (std::optional<http::Response> refused = Authorize(proxy, request, db, cookies)) return *refused;
  if (NeedsServerAdmin(request, first) && !proxy.options.auth->Identify(request).admin()) {
    return store::CouchError(403, "forbidden",
                             "Only the server admin may change the database, its _security or design documents.");
  }

  // The raw path and query below the prefix, as the caller encoded them.
  Result<http::Target> target = http::SplitTarget(request.target);
  if (!target.ok()) return store::CouchError(400, "bad_request", target.status().message());
  size_t cut = 0;
  for (size_t i = 0; i < first; ++i) cut = target->path.find('/', cut + 1);
  const std::string path = cut == std::string::npos ? "/" : target->path.substr(cut);
  const bool changes = request.segments.size() == first + 2 && request.segments[first + 1] == "_changes";
  std::chrono::milliseconds wait{0};
  Result<std::string> query = ForwardedQuery(proxy, target->query, changes, wait);
  if (!query.ok()) return store::CouchError(400, "bad_request", query.status().message());

  http::ClientRequest out;
  // HEAD goes out as GET (the server drops the body of our answer).
  out.method = request.method == http::Method::kHead ? "GET" : std::string(http::MethodName(request.method));
  out.url = path + (query->empty() ? "" : "?" + *query);
  out.body = request.body;
  // Some servers (pouchdb-server) hold a longpoll past its timeout; it is
  // cut a little after, and answered as CouchDB answers one that ran out.
  out.timeout = wait.count() > 0 ? wait + std::chrono::seconds(2) : std::chrono::milliseconds(60'000);
  for (const char* name : kForwardedRequestHeaders) {
    if (std::optional<std::string> v = request.headers.Get(name)) out.headers.Set(name, *v);
  }
  Result<http::ClientResponse> answer = proxy.options.remote->Send(std::move(out));
  if (!answer.ok() && wait.count() > 0 && answer.status().IsDeadlineExceeded()) {
    return http::Response::Json(200, json::Dump(Json{{"results", Json::array()}, {"last_seq", SinceOf(target->query)}}));
  }
  if (!answer.ok()) {
    log::Warn("cli", "the external store cannot be reached",
              {{"store", proxy.options.remote->url()}, {"error", answer.status().message()}});
    return store::CouchError(503, "service_unavailable", "The external store cannot be reached; try again later.");
  }
  http::Response response;
  response.status = answer->status;
  response.body = std::move(answer->body);
  for (const auto& [name, value] : answer->headers.entries()) {
    const bool dropped = std::any_of(std::begin(kDroppedResponseHeaders), std::end(kDroppedResponseHeaders),
                                     [&](const char* d) { return http::EqualsIgnoreCase(name, d); });
    if (!dropped) response.headers.Add(name, value);
  }
  for (const std::string& cookie : cookies) response.headers.Add("Set-Cookie", cookie);
  return response;
}

}  // namespace

void AddStoreProxyRoutes(http::Router& api, const std::string& prefix, StoreProxyOptions options) {
  auto proxy = std::make_shared<Proxy>();
  proxy->options = std::move(options);
  proxy->prefix_segments = static_cast<size_t>(std::count(prefix.begin(), prefix.end(), '/'));
  auto handler = [proxy](http::Request& request) { return Forward(*proxy, request); };
  for (const std::string& db : proxy->options.databases) {
    for (const std::string& pattern : {prefix + "/" + db, prefix + "/" + db + "/{rest...}"}) {
      // A GET route answers HEAD too.
      for (http::Method m : {http::Method::kGet, http::Method::kPost, http::Method::kPut, http::Method::kDelete}) {
        if (Status s = api.Add(m, pattern, handler); !s.ok()) std::abort();  // routes are fixed at build time
      }
    }
  }
}

}  // namespace wisp::cli
