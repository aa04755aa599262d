// The one place where OpenWhisk errors get their wire shape:
// {"error": "<text>", "code": "<transaction id>"}, where the transaction id is
// the request's X-Request-ID (spec openwhisk.md §0.2, §1.1). The Go CLI shows
// a platform error nicely only when both fields are present.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "http/message.h"
#include "util/status.h"

namespace wisp::whisk {

// The body for `status` with `message`, carrying the request's id as `code`.
// 401s also carry WWW-Authenticate, as OpenWhisk's do.
http::Response ErrorResponse(int status, std::string_view message, const http::Request& request);

// The same, with the HTTP status taken from the Status code.
http::Response ErrorResponse(const Status& status, const http::Request& request);

// The texts OpenWhisk answers with when the router itself rejects a request.
inline constexpr std::string_view kNotFoundText = "The requested resource does not exist.";

// A listener's ErrorRenderer for errors the server raises itself (unknown
// route, wrong method, oversized or malformed request).
http::Response RenderWhiskError(int status, std::string_view message, const http::Request& request);

}  // namespace wisp::whisk
