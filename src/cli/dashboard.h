// The triage dashboard's place in `wisp serve` (issue F).
//
// On the OpenWhisk port the dashboard's files answer at `/`, and the
// CouchDB API answers again under `/db`, so the app in the browser syncs
// with the store on its own origin (same auth, same session cookie). The
// CouchDB port keeps answering cross-origin callers with CORS. The store
// holds the two databases the app syncs: `questions` and `events`, readable
// and writable by users with the role `advocate` (see `wisp user`).
// docs/dashboard.md tells the whole story.
//
// Two more things live on the same origin, beside the app:
// - Slack sign-in (store/slack_login.h): `POST /slack` takes Slack's signed
//   slash command and answers, visible only to its sender, with a one-time
//   link `PUBLIC_URL/#/slack/TOKEN`; the app POSTs the token to
//   `/slack/redeem`, which answers like `POST /_session` (the same
//   AuthSession cookie). The token travels in the fragment, so link
//   previews and logs never see it and never spend it.
// - The operations page's data (issue H): `/ops/metrics`, `/ops/alerts`,
//   `/ops/activations` and `/ops/replications`, for a server admin's
//   session (or Basic) only.
//
// Thread-safety: call both functions once, before the server starts.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "http/router.h"
#include "json/json.h"
#include "store/couch_auth.h"
#include "store/remote_couch.h"
#include "store/slack_login.h"
#include "store/store.h"
#include "util/status.h"

namespace wisp::cli {

inline constexpr char kQuestionsDb[] = "questions";
inline constexpr char kEventsDb[] = "events";
inline constexpr char kAdvocateRole[] = "advocate";
inline constexpr char kStorePrefix[] = "/db";

struct DashboardOptions {
  std::shared_ptr<const http::Router> couch;  // the CouchDB routes, mounted at /db
  std::string web_root;                       // the app's files; empty: the embedded ones
  // The store's authenticator (the one `couch` uses), so that sessions from
  // /slack/redeem work under /db and /ops sees who is signed in. Null: no
  // Slack sign-in and no /ops routes.
  std::shared_ptr<store::CouchAuth> auth;
  std::shared_ptr<store::SlackLogin> slack;  // null or unconfigured: /slack says so
  // Where sign-in links point, e.g. "https://triage.example/"; empty: this
  // port, as the request's Host header names it.
  std::string public_url;
  // The operations page's sources. /ops/metrics serves metrics_text() (the
  // text of GET /metrics); /ops/alerts serves alerts() ({"alerts":[]} when
  // unset); /ops/activations serves recent_activations(failed_only, limit)
  // as {"activations":[...]}, newest first.
  std::function<std::string()> metrics_text;
  std::function<Json()> alerts;
  std::function<Json(bool failed_only, size_t limit)> recent_activations;
  // /ops/replications serves replications() (the `_scheduler/docs` of the
  // replicator); unset: {"docs":[]}.
  std::function<Json()> replications;
  // `wisp serve --store-url`: `/db/questions` and `/db/events` go to this
  // external store instead of the embedded one (cli/store_proxy.h). Needs
  // `auth`. Null: the embedded store.
  std::shared_ptr<store::RemoteCouch> external_store;
};

// Adds to the OpenWhisk port's router: the CouchDB routes under /db, the
// Slack sign-in and /ops routes, and the dashboard at / (the embedded files,
// or those under `web_root`). Paths under /api and /db that nothing routes
// keep their APIs' own 404 bodies.
void AddDashboardRoutes(http::Router& api, DashboardOptions options);

// Creates `questions` and `events` when missing, and makes sure the role
// `advocate` is among each one's `_security` members (other members and
// admins are kept). Safe to run at every start.
Status EnsureDashboardDatabases(store::Store& store);

}  // namespace wisp::cli
