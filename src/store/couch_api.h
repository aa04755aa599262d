// The CouchDB HTTP API (spec couchdb.md §1-§5) on top of a Store.
//
// AddCouchRoutes() registers every route of the CouchDB face on a router:
// server routes (`/`, `/_uuids`, `/_all_dbs`, `/_session`), databases,
// documents (normal,
// `_design/` and `_local/`), standalone attachments, `_bulk_docs`,
// `_bulk_get`, `_revs_diff`, `_all_docs`, `_changes` (normal, longpoll,
// continuous, eventsource), `_find` (a full scan: no indexes yet),
// `_security`, `_revs_limit`, `_compact` and `_ensure_full_commit`. Each handler's comment in couch_api.cc lists its
// responses; every error body comes from store/couch_error.h.
//
// Authentication (store/couch_auth.h) is CouchDB's `require_valid_user =
// true`: every route except `GET /` and `/_session` needs the server admin, a
// user of `_users` (Basic or an `AuthSession` cookie from `POST /_session`),
// or a JWT bearer token when keys are configured. Anonymous callers get 401
// "You are not authorized to access this db.", wrong credentials 401 "Name or
// password is incorrect.", bad tokens CouchDB's JWT errors. No
// WWW-Authenticate header is sent, so browsers never pop a login dialog (spec
// §4). Server routes are for the admin; database routes also admit the
// members and admins that the database's `_security` names, and in `_users`
// a user may read and update their own document (not its roles). An empty
// admin name turns authentication off ("admin party"), which only tests
// should do.
//
// Long-running `_changes` feeds (a longpoll that has to wait, continuous,
// eventsource) are streamed responses filled by a small dedicated pool of
// feed threads, so they never hold one of the server's worker threads. When
// every feed thread is busy a new waiting feed gets 503.
//
// Thread-safety: the handlers may run concurrently from any thread. `store`
// must outlive the router; destroying the router (the last copy of its
// handlers) stops the feed threads and joins them.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <memory>

#include "http/router.h"
#include "store/couch_auth.h"
#include "store/jwt.h"
#include "store/store.h"
#include "util/clock.h"

namespace wisp::store {

class ReplicationManager;

struct CouchApiOptions {
  // The one server admin. Empty name: no authentication at all.
  std::string admin_name;
  std::string admin_password;
  // JWT bearer tokens (store/jwt.h); off when no key is set.
  JwtOptions jwt;
  // Threads for change feeds that wait (and for background compactions);
  // also the number of such feeds that may be open at once.
  size_t feed_threads = 64;
  // The longest a longpoll waits, heartbeat or not (spec §1.2 recommends a
  // cap so half-dead proxies cannot stall sync), and the default timeout of
  // a continuous feed without heartbeat (CouchDB's changes_timeout).
  std::chrono::milliseconds max_feed_wait{60'000};
  // Entries of one `_bulk_docs` / `_bulk_get` request; more get 413 (CouchDB's
  // max_bulk_docs_count and max_bulk_get_count).
  size_t max_bulk_docs_count = 10'000;
  size_t max_bulk_get_count = 10'000;
  // How often a waiting feed checks that its client is still there and the
  // server is not stopping.
  std::chrono::milliseconds feed_check_interval{1'000};
  // The replicator behind `/_replicate`, `/_scheduler/*` and
  // `/_active_tasks` (store/replication_manager.h); those routes exist only
  // when it is set. It must outlive the router.
  ReplicationManager* replication = nullptr;
  // The clock of session cookies (store/couch_auth.h); null: the system clock.
  const Clock* clock = nullptr;
  // The authenticator to use, when other routes must see and issue the same
  // sessions (the dashboard's Slack sign-in); null: one of its own, built
  // from the fields above.
  std::shared_ptr<CouchAuth> auth;
};

// Registers the CouchDB routes on `router`. See the file comment. Returns the
// authenticator the routes share, so that other routes of the server can
// accept the same credentials and session cookies (the API port's /metrics
// asks it for the server admin).
std::shared_ptr<CouchAuth> AddCouchRoutes(http::Router& router, Store& store, const CouchApiOptions& options);

}  // namespace wisp::store
