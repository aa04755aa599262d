// The OpenWhisk REST API under /api/v1 (spec openwhisk.md §1) on top of a
// Controller.
//
// AddWhiskRoutes() registers the routes of port 3233: `GET /api/v1` (open),
// and, behind Basic authentication, `/api/v1/namespaces`, the namespace's
// `limits`, and the collections `actions`, `packages`, `triggers`, `rules`
// and `activations`. `_` as the namespace segment is the caller's namespace.
// Each handler's comment in whisk_api.cc lists its responses. Errors are
// `{error, code}` bodies from whisk/error_response.h, with OpenWhisk's texts;
// the code is the request's X-Request-ID.
//
// Thread-safety: handlers run concurrently on the server's workers; the
// controller and identities must outlive the router.
#pragma once

#include <string>

#include "http/router.h"
#include "whisk/controller.h"
#include "whisk/identity.h"

namespace wisp::whisk {

struct WhiskApiOptions {
  std::string build = "dev";  // `build` and `buildno` of GET /api/v1
};

void AddWhiskRoutes(http::Router& router, Controller& controller, const Identities& identities,
                    const WhiskApiOptions& options = {});

}  // namespace wisp::whisk
