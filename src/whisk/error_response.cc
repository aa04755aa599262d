#include "whisk/error_response.h"

#include "http/status_mapping.h"
#include "json/json.h"

namespace wisp::whisk {

http::Response ErrorResponse(int status, std::string_view message, const http::Request& request) {
  // Ordered so that the body reads as OpenWhisk's does: error first.
  const OrderedJson body = {{"error", std::string(message)}, {"code", request.request_id}};
  http::Response r = http::Response::Json(status, json::Dump(body));
  if (status == 401) r.headers.Set("WWW-Authenticate", "Basic realm=\"OpenWhisk secure realm\"");
  return r;
}

http::Response ErrorResponse(const Status& status, const http::Request& request) {
  return ErrorResponse(http::HttpStatusOf(status.code()), status.message(), request);
}


http::Response RenderWhiskError(int status, std::string_view message, const http::Request& request) {
  if (status == 404) return ErrorResponse(404, kNotFoundText, request);
  return ErrorResponse(status, message, request);
}

}  // namespace wisp::whisk
