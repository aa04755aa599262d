// The one place where CouchDB errors get their wire shape:
// {"error": "<type>", "reason": "<text>"} with CouchDB's status codes
// (spec couchdb.md §1.5). The `error` type is derived from the HTTP status
// the way CouchDB names it (404 -> "not_found", 409 -> "conflict", ...).
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "http/message.h"
#include "util/status.h"

namespace wisp::store {

// CouchDB's error type for an HTTP status: 400 -> "bad_request".
std::string_view CouchErrorType(int status);

// {"error": CouchErrorType(status), "reason": reason}.
http::Response CouchError(int status, std::string_view reason);

// The same with an explicit type, for the cases CouchDB names specially
// ("file_exists" on 412, "doc_validation" on 400, ...).
http::Response CouchError(int status, std::string_view type, std::string_view reason);

// From a Status: its HTTP status, and its message as the reason.
http::Response CouchError(const Status& status);

// A listener's ErrorRenderer for errors the server raises itself.
http::Response RenderCouchError(int status, std::string_view message, const http::Request& request);

}  // namespace wisp::store
