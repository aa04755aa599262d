// Web actions (spec openwhisk.md §1.9): actions annotated `web-export`
// answer plain HTTP at /api/v1/web/{namespace}/{package|default}/{action}[.ext][/path].
//
// A web request runs its action as the namespace's owner through
// Controller::Invoke (so it is throttled and leaves an activation record)
// with the request as arguments (`__ow_method`, `__ow_headers`, `__ow_path`,
// `__ow_user`, and either the merged query and body or, with `raw-http`,
// `__ow_query` and `__ow_body`), then turns the result into an HTTP answer
// according to the extension (.json .html .svg .text .http, none = .http).
// Three annotations guard a web action: `require-whisk-auth` (a valid key,
// or a secret header), and `require-jwt` {"key", "issuer", "audience"}: a
// Bearer JWT signed by the key (HS256/384/512 base64 secret or RS256/384/512
// PEM public key), unexpired, from that issuer and for that audience, whose
// subject and roles then reach the action as `__ow_jwt` {sub, roles}.
// Failures are 401 (docs/security.md).
// The pure parts, argument building and transcoding, are exposed for tests.
//
// Thread-safety: the handlers run concurrently on the server's workers; the
// controller and identities must outlive the router.
#pragma once

#include <string>
#include <string_view>

#include "http/message.h"
#include "http/router.h"
#include "json/json.h"
#include "util/result.h"
#include "whisk/controller.h"
#include "whisk/identity.h"

namespace wisp::whisk {

// OpenWhisk's texts for web requests.
inline constexpr std::string_view kWebNotAllowedParamsText =
    "Request defines parameters that are not allowed (e.g., reserved properties).";
inline constexpr std::string_view kWebNotFoundText = "The requested resource does not exist.";
inline constexpr std::string_view kWebNotReadyText = "Response not yet ready.";
inline constexpr std::string_view kWebActionErrorText = "There was an error processing your request.";
inline constexpr std::string_view kWebMissingPropertyText = "Response does not include requested property.";
inline constexpr std::string_view kWebInvalidHttpText = "Response is not valid 'message/http'.";
inline constexpr std::string_view kWebUnknownContentTypeText = "Response did not specify a known content-type.";

// The extensions a web URL's action segment may end with.
enum class WebExtension { kHttp, kJson, kHtml, kSvg, kText };

// Splits "name.ext" into the action name and its extension (none: .http).
std::pair<std::string, WebExtension> SplitWebExtension(std::string_view segment);

// The CORS headers web answers carry unless the action has `web-custom-options`.
void AddWebCorsHeaders(const http::Request& request, http::Response& response);

// The HTTP answer for an action's successful result (or the value of an
// application error's `error` field). `projection` is the path after the
// extension ("/a/b"), used by every extension but .http.
http::Response TranscodeWebResult(const Json& result, WebExtension extension, const std::string& projection,
                                  const http::Request& request);

// Registers GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS under /api/v1/web.
void AddWebActionRoutes(http::Router& router, Controller& controller, const Identities& identities);

}  // namespace wisp::whisk
