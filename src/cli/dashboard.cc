#include "cli/dashboard.h"

#include <algorithm>

#include "cli/store_proxy.h"
#include "cli/web_assets.h"
#include "http/mount.h"
#include "http/static_assets.h"
#include "http/url.h"
#include "json/json.h"
#include "store/couch_error.h"
#include "util/log.h"
#include "whisk/error_response.h"

namespace wisp::cli {
namespace {

constexpr char kSlackPrefix[] = "slack";
constexpr char kOpsPrefix[] = "ops";

// What Slack shows its sender alone ("ephemeral"), under the command.
http::Response SlackReply(const std::string& text) {
  return http::Response::Json(200, json::Dump(Json{{"response_type", "ephemeral"}, {"text", text}}));
}

// "https://host:port/" for a request that reached this port, as its sender named it.
std::string OwnOrigin(const http::Request& request) {
  const std::string forwarded = request.headers.GetOr("X-Forwarded-Proto");
  const std::string scheme = forwarded == "https" || forwarded == "http" ? forwarded : (request.tls ? "https" : "http");
  return scheme + "://" + request.headers.GetOr("Host", "127.0.0.1") + "/";
}

// POST /slack: Slack's slash command (spec stackexchange-slack.md §C). The
// signature is checked over the raw body before anything is parsed. 401 for
// an unsigned, forged, stale or replayed request (Slack shows its sender an
// error); every other answer is 200 with text for the sender: the sign-in
// link, or why there is none.
http::Response PostSlackCommand(const DashboardOptions& o, const http::Request& request) {
  if (!o.slack || !o.slack->configured()) {
    return SlackReply(
        "Slack sign-in is not configured on this wisp. An admin can start it with "
        "--slack-signing-secret (or WISP_SLACK_SIGNING_SECRET).");
  }
  if (Status s = o.slack->Verify(request.headers.GetOr("X-Slack-Request-Timestamp"),
                                 request.headers.GetOr("X-Slack-Signature"), request.body);
      !s.ok()) {
    log::Warn("cli", "refused a Slack command", {{"reason", s.message()}});
    return http::Response::Text(401, s.message() + "\n");
  }
  Result<http::QueryParams> form = http::ParseQuery(request.body);
  if (!form.ok()) return SlackReply("The command could not be read: " + form.status().message());
  if (form->GetOr("ssl_check", "") == "1") return http::Response::Text(200, "");
  Result<std::string> user = o.slack->UserFor(form->GetOr("team_id", ""), form->GetOr("user_id", ""));
  if (!user.ok()) return SlackReply(user.status().message());
  const std::string base = o.public_url.empty() ? OwnOrigin(request) : o.public_url;
  const std::string link = base + (base.ends_with("/") ? "" : "/") + "#/slack/" + o.slack->IssueLink(*user);
  log::Info("cli", "issued a Slack sign-in link", {{"user", *user}});
  return SlackReply("<" + link + "|Open the wisp dashboard> as " + *user +
                    ". The link works once, for a few minutes; keep it to yourself.");
}

// POST /slack/redeem {"token"} -> 200 {"ok":true,"name"} and the
// AuthSession cookie, as POST /_session answers a password; 401 {error,
// reason} for a link that is not valid, used or expired. Only the app's own
// origin may redeem, so another site cannot sign a browser in as someone else.
http::Response PostSlackRedeem(const DashboardOptions& o, const http::Request& request) {
  const std::string origin = request.headers.GetOr("Origin");
  const bool own = origin + "/" == OwnOrigin(request) ||
                   (!o.public_url.empty() && (o.public_url == origin || o.public_url.starts_with(origin + "/")));
  if (!origin.empty() && !own) {
    return store::CouchError(403, "forbidden", "Sign-in links are redeemed by the dashboard's own page.");
  }
  Result<Json> body = json::ParseObject(request.body);
  if (!body.ok()) return store::CouchError(400, "bad_request", "The body must be a JSON object with a token.");
  if (!o.slack) return store::CouchError(401, "unauthorized", "Slack sign-in is not configured on this wisp.");
  Result<std::string> name = o.slack->Redeem(json::GetString(*body, "token"));
  if (!name.ok()) return store::CouchError(401, "unauthorized", name.status().message());
  http::Response r = http::Response::Json(200, json::Dump(Json{{"ok", true}, {"name", *name}}));
  r.headers.Add("Set-Cookie", store::SessionCookie(o.auth->NewSession(*name), request));
  return r;
}

// The /ops routes are for the server admin: an admin session cookie (or
// Basic). nullopt when `request` may go on, else the CouchDB-shaped refusal.
std::optional<http::Response> RefuseNonAdmin(const DashboardOptions& o, const http::Request& request) {
  const store::Identity who = o.auth->Identify(request);
  if (who.admin()) return std::nullopt;
  if (who.kind == store::Identity::Kind::kRejected) return store::CouchError(who.rejection);
  if (!who.known()) return store::CouchError(401, "unauthorized", "You are not authorized to access this page.");
  // CouchDB answers a signed-in user who is not the server admin 401, too.
  return store::CouchError(401, "unauthorized", "You are not a server admin.");
}

void AddOpsRoutes(http::Router& api, const std::shared_ptr<const DashboardOptions>& o) {
  api.Get("/ops/metrics", [o](http::Request& request) {
    if (std::optional<http::Response> refused = RefuseNonAdmin(*o, request)) return *refused;
    return http::Response::Text(200, o->metrics_text ? o->metrics_text() : "",
                                "text/plain; version=0.0.4; charset=utf-8");
  });
  api.Get("/ops/alerts", [o](http::Request& request) {
    if (std::optional<http::Response> refused = RefuseNonAdmin(*o, request)) return *refused;
    return http::Response::Json(200, json::Dump(o->alerts ? o->alerts() : Json{{"alerts", Json::array()}}));
  });
  api.Get("/ops/activations", [o](http::Request& request) {
    if (std::optional<http::Response> refused = RefuseNonAdmin(*o, request)) return *refused;
    const bool failed = request.query.GetOr("failed", "false") == "true";
    const long long asked = std::atoll(request.query.GetOr("limit", "20").c_str());
    const size_t limit = static_cast<size_t>(std::clamp<long long>(asked, 1, 200));
    Json list = o->recent_activations ? o->recent_activations(failed, limit) : Json::array();
    return http::Response::Json(200, json::Dump(Json{{"activations", list}}));
  });
  api.Get("/ops/replications", [o](http::Request& request) {
    if (std::optional<http::Response> refused = RefuseNonAdmin(*o, request)) return *refused;
    return http::Response::Json(200, json::Dump(o->replications ? o->replications() : Json{{"docs", Json::array()}}));
  });
}

}  // namespace

void AddDashboardRoutes(http::Router& api, DashboardOptions options) {
  http::MountRouter(api, kStorePrefix, options.couch, store::RenderCouchError);
  if (options.external_store && options.auth) {
    AddStoreProxyRoutes(api, kStorePrefix,
                        {.remote = options.external_store,
                         .local = options.couch,
                         .auth = options.auth,
                         .databases = {kQuestionsDb, kEventsDb}});
  }
  std::shared_ptr<const http::StaticAssets> assets = options.web_root.empty()
                                                         ? http::StaticAssets::Embedded(WebAssets())
                                                         : http::StaticAssets::Directory(options.web_root);
  auto shared = std::make_shared<const DashboardOptions>(std::move(options));
  http::StaticRouteOptions statics;
  statics.reserved_prefixes = {"api", std::string(kStorePrefix).substr(1)};
  if (shared->auth) {
    api.Post("/slack", [shared](http::Request& request) { return PostSlackCommand(*shared, request); });
    api.Post("/slack/redeem", [shared](http::Request& request) { return PostSlackRedeem(*shared, request); });
    AddOpsRoutes(api, shared);
    statics.reserved_prefixes.push_back(kSlackPrefix);
    statics.reserved_prefixes.push_back(kOpsPrefix);
  }
  statics.not_found = [](http::Request& request) { return whisk::RenderWhiskError(404, "not found", request); };
  http::AddStaticRoutes(api, std::move(assets), std::move(statics));
}

Status EnsureDashboardDatabases(store::Store& store) {
  for (const char* name : {kQuestionsDb, kEventsDb}) {
    Result<std::shared_ptr<store::Database>> db = store.GetDatabase(name);
    if (!db.ok() && db.status().IsNotFound()) {
      if (Status s = store.CreateDatabase(name); !s.ok() && s.code() != StatusCode::kPreconditionFailed) return s;
      db = store.GetDatabase(name);
    }
    if (!db.ok()) return db.status();
    Json security = (*db)->Security();
    if (!security.is_object()) security = Json::object();
    Json& members = security["members"];
    if (!members.is_object()) members = Json::object();
    Json& roles = members["roles"];
    if (!roles.is_array()) roles = Json::array();
    bool present = false;
    for (const Json& role : roles) present = present || (role.is_string() && role.get<std::string>() == kAdvocateRole);
    if (present) continue;
    roles.push_back(kAdvocateRole);
    if (!members.contains("names")) members["names"] = Json::array();
    if (!security.contains("admins")) security["admins"] = Json{{"names", Json::array()}, {"roles", Json::array()}};
    if (Status s = (*db)->SetSecurity(security); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace wisp::cli
