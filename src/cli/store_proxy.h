// The dashboard's databases on an external store (docs/scaling.md,
// "External CouchDB").
//
// With `wisp serve --store-url`, `questions` and `events` live on another
// CouchDB-compatible server. The dashboard still talks to `/db/questions`
// and `/db/events` on wisp's own origin: these routes forward each request
// to the external store with wisp's credentials for it. So the browser needs
// no CORS, signs in to wisp as before (password, Slack link, the same
// AuthSession cookie), and never sees the external store's credentials.
//
// Who may do what is decided here, by wisp, before anything is forwarded:
// - reading and writing documents: whoever may read the embedded database
//   of the same name (its `_security` members, i.e. the role `advocate`;
//   checked by asking wisp's own CouchDB routes `GET /{db}` as the caller,
//   so the answer for a refused caller is exactly wisp's 401 or 403);
// - creating or deleting the database, `_security`, and writing design
//   documents (also inside `_bulk_docs`): the server admin only, as they
//   would change what every user of the external store sees;
// - `_changes`: `feed=normal` and `longpoll` (the longpoll is cut after
//   `max_longpoll`, its heartbeats dropped, so a request holds a worker
//   thread for a bounded time); `continuous` and `eventsource` get 400.
//
// Thread-safety: add the routes before the server starts; the handlers may
// run on any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "http/router.h"
#include "store/couch_auth.h"
#include "store/remote_couch.h"

namespace wisp::cli {

struct StoreProxyOptions {
  std::shared_ptr<store::RemoteCouch> remote;
  std::shared_ptr<const http::Router> local;  // wisp's CouchDB routes, which authorize
  std::shared_ptr<store::CouchAuth> auth;     // who is the server admin
  std::vector<std::string> databases;         // e.g. {"questions", "events"}
  std::chrono::milliseconds max_longpoll{25'000};
};

// Adds `PREFIX/{db}` and `PREFIX/{db}/...` for every database of `options`
// and every method CouchDB's document API uses. Literal routes, so they win
// over a mount of the whole CouchDB API at the same prefix.
void AddStoreProxyRoutes(http::Router& api, const std::string& prefix, StoreProxyOptions options);

}  // namespace wisp::cli
