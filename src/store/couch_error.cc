#include "store/couch_error.h"

#include "http/status_mapping.h"
#include "json/json.h"

namespace wisp::store {

std::string_view CouchErrorType(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 406: return "not_acceptable";
    case 408: return "request_timeout";
    case 409: return "conflict";
    case 412: return "file_exists";
    case 413: return "too_large";
    case 414: return "too_long";
    case 415: return "bad_content_type";
    case 416: return "requested_range_not_satisfiable";
    case 417: return "expectation_failed";
    case 429: return "too_many_requests";
    case 431: return "header_too_large";
    case 503: return "service_unavailable";
    default: return status >= 500 ? "unknown_error" : "bad_request";
  }
}

http::Response CouchError(int status, std::string_view type, std::string_view reason) {
  Json body = {{"error", std::string(type)}, {"reason", std::string(reason)}};
  http::Response r = http::Response::Json(status, json::Dump(body));
  r.headers.Set("Cache-Control", "must-revalidate");
  return r;
}

http::Response CouchError(int status, std::string_view reason) {
  return CouchError(status, CouchErrorType(status), reason);
}

http::Response CouchError(const Status& status) {
  return CouchError(http::HttpStatusOf(status.code()), status.message());
}

http::Response RenderCouchError(int status, std::string_view message, const http::Request& request) {
  // CouchDB answers an unknown top-level path with not_found/missing.
  if (status == 404) return CouchError(404, "missing");
  return CouchError(status, message);
}

}  // namespace wisp::store
