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
// Thread-safety: call both functions once, before the server starts.
#pragma once

#include <memory>
#include <string>

#include "http/router.h"
#include "store/store.h"
#include "util/status.h"

namespace wisp::cli {

inline constexpr char kQuestionsDb[] = "questions";
inline constexpr char kEventsDb[] = "events";
inline constexpr char kAdvocateRole[] = "advocate";
inline constexpr char kStorePrefix[] = "/db";

// Adds to the OpenWhisk port's router: `couch`'s routes under /db, and the
// dashboard at / (the embedded files, or those under `web_root` when it is
// not empty). Paths under /api and /db that nothing routes keep their APIs'
// own 404 bodies.
void AddDashboardRoutes(http::Router& api, std::shared_ptr<const http::Router> couch, const std::string& web_root);

// Creates `questions` and `events` when missing, and makes sure the role
// `advocate` is among each one's `_security` members (other members and
// admins are kept). Safe to run at every start.
Status EnsureDashboardDatabases(store::Store& store);

}  // namespace wisp::cli
