// MountRouter: one router's routes answered under a path prefix of another.
//
// wisp's dashboard syncs with the store from the page's own origin: the
// CouchDB routes of port 5984 also answer under `/db` on port 3233, so the
// browser needs no CORS and sends its session cookie as for any same-origin
// request. The mounted handlers see the request as if it had come to their
// own port: the prefix is gone from `path`, `target` and `segments`.
//
// Thread-safety: add before the server starts; the mount only reads `inner`.
#pragma once

#include <memory>
#include <string_view>

#include "http/router.h"
#include "http/server.h"

namespace wisp::http {

// Adds routes for every method at `prefix` and below it (`prefix` is one
// literal segment, e.g. "/db") that strip the prefix and dispatch to
// `inner`. What `inner` does not route gets `render_error` (404, or 405 when
// only the method is wrong), so the mounted API keeps its error shape.
void MountRouter(Router& outer, std::string_view prefix, std::shared_ptr<const Router> inner,
                 ErrorRenderer render_error);

}  // namespace wisp::http
