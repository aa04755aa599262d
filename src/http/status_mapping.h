// The one place where a Status code gets its HTTP status.
//
// Each API renders the body in its own shape (CouchDB's {error, reason},
// OpenWhisk's {error, code}), but both agree on the number.
#pragma once

#include "util/status.h"

namespace wisp::http {

// kOk -> 200, kNotFound -> 404, kConflict -> 409, ... kInternal -> 500.
int HttpStatusOf(StatusCode code);

}  // namespace wisp::http
