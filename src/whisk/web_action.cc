#include "whisk/web_action.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

#include "http/url.h"
#include "store/jwt.h"
#include "util/base64.h"
#include "util/clock.h"
#include "whisk/entity.h"
#include "whisk/error_response.h"

namespace wisp::whisk {
namespace {

using http::Request;
using http::Response;

constexpr char kCorsMethods[] = "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH";
constexpr char kCorsDefaultHeaders[] = "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent";
constexpr std::string_view kReservedPrefix = "__ow_";

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("!#$&^_.+-").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

// "Type/Sub; charset=x" -> "type/sub", or nullopt when it is no media type.
std::optional<std::string> MediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.remove_suffix(1);
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front()))) type.remove_prefix(1);
  const size_t slash = type.find('/');
  if (slash == std::string_view::npos || !IsToken(type.substr(0, slash)) || !IsToken(type.substr(slash + 1))) {
    return std::nullopt;
  }
  return Lower(type);
}

bool IsJsonMedia(std::string_view media) {
  return media == "application/json" || (media.size() > 5 && media.substr(media.size() - 5) == "+json");
}

// Text is delivered as is; everything else (images, octet-stream, ...) is
// binary and travels base64-encoded inside JSON.
bool IsTextMedia(std::string_view media) {
  return media.starts_with("text/") || IsJsonMedia(media) || media == "application/xml" || media.ends_with("+xml") ||
         media == "application/javascript" || media == "application/x-www-form-urlencoded";
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

Response Error(int status, std::string_view text, const Request& request) {
  return ErrorResponse(status, text, request);
}

// The `require-jwt` annotation: {"key", "issuer", "audience"[, "kid"]}. `key`
// is an HS256/384/512 secret in base64 or an RSA public key in PEM (RS256/
// 384/512). The request must carry `Authorization: Bearer <token>` signed by
// that key, unexpired, from that issuer and for that audience. Unauthenticated
// with the reason otherwise, and also when the annotation is incomplete, so
// a misconfigured action stays closed.
Result<store::JwtIdentity> VerifyWebJwt(const Json& rule, const Request& request) {
  const std::string key = rule.is_object() ? json::GetString(rule, "key") : "";
  const std::string issuer = rule.is_object() ? json::GetString(rule, "issuer") : "";
  const std::string audience = rule.is_object() ? json::GetString(rule, "audience") : "";
  if (key.empty() || issuer.empty() || audience.empty()) {
    return Status::Unauthenticated("The action's require-jwt annotation needs a key, an issuer and an audience.");
  }
  store::JwtOptions options;
  options.issuer = issuer;
  options.audience = audience;
  const std::string kid = json::GetString(rule, "kid", "_default");
  const Status added = key.find("-----BEGIN") != std::string::npos ? store::AddJwtRsaKey(options, kid, key)
                                                                   : store::AddJwtKey(options, kid + ":" + key);
  if (!added.ok()) return Status::Unauthenticated("The action's require-jwt key is unusable: " + added.message());

  const std::string authorization = request.headers.GetOr("Authorization");
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() <= kBearer.size() || Lower(authorization.substr(0, kBearer.size())) != kBearer) {
    return Status::Unauthenticated(std::string(kNoAuthText));
  }
  Result<store::JwtIdentity> who =
      store::VerifyJwt(std::string_view(authorization).substr(kBearer.size()), options, Clock::System().NowMillis() / 1000);
  if (!who.ok()) return Status::Unauthenticated(who.status().message());
  return who;
}

// The request's arguments: __ow_* first, then (non-raw) query < body.
// InvalidArgument with kWebNotAllowedParamsText for a reserved key; a
// malformed JSON body is a 400 of its own.
Result<Json> WebArguments(const Request& request, bool raw, const std::string& ow_path,
                          const std::optional<Identity>& user) {
  Json args = Json::object();
  Json headers = Json::object();
  for (const auto& [name, value] : request.headers.entries()) {
    const std::string key = Lower(name);
    if (headers.contains(key)) {
      headers[key] = headers[key].get<std::string>() + ", " + value;
    } else {
      headers[key] = value;
    }
  }
  args["__ow_method"] =
      Lower(request.method_name.empty() ? std::string(http::MethodName(request.method)) : request.method_name);
  args["__ow_headers"] = headers;
  args["__ow_path"] = ow_path;
  if (user) args["__ow_user"] = user->namespace_name;

  const std::optional<std::string> media = MediaType(request.headers.GetOr("Content-Type", "application/json"));
  const bool has_body = !request.body.empty();
  if (raw) {
    const size_t q = request.target.find('?');
    args["__ow_query"] = q == std::string::npos ? "" : request.target.substr(q + 1);
    const bool text = media && IsTextMedia(*media) && !IsJsonMedia(*media);
    args["__ow_body"] = !has_body ? request.body : text ? request.body : Base64Encode(request.body);
    return args;
  }

  Json fields = Json::object();
  for (const auto& [key, value] : request.query.entries()) fields[key] = value;
  if (has_body) {
    if (media && IsJsonMedia(*media)) {
      Result<Json> body = json::Parse(request.body);
      if (!body.ok()) return Malformed(body.status().message());
      if (body->is_object()) {
        for (auto& [key, value] : body->items()) fields[key] = value;
      } else {
        args["__ow_body"] = Base64Encode(request.body);
      }
    } else if (media && *media == "application/x-www-form-urlencoded") {
      Result<http::QueryParams> form = http::ParseQuery(request.body);
      if (!form.ok()) return Malformed(form.status().message());
      for (const auto& [key, value] : form->entries()) fields[key] = value;
    } else if (media && IsTextMedia(*media)) {
      args["__ow_body"] = request.body;
    } else {
      args["__ow_body"] = Base64Encode(request.body);
    }
  }
  for (auto& [key, value] : fields.items()) {
    if (key.starts_with(kReservedPrefix)) return Status::InvalidArgument(std::string(kWebNotAllowedParamsText));
    args[key] = value;
  }
  return args;
}

// Follows "/a/b" into `value`; nullopt when a step is missing.
std::optional<Json> Project(const Json& value, const std::string& path) {
  const Json* at = &value;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    const std::string step = path.substr(start, slash - start);
    start = slash + 1;
    if (step.empty()) continue;
    if (!at->is_object() || !at->contains(step)) return std::nullopt;
    at = &(*at)[step];
  }
  return *at;
}

Response HttpResult(const Json& result, const Request& request) {
  if (!result.is_object()) return Error(400, kWebInvalidHttpText, request);
  Response response;
  response.body.clear();
  std::vector<std::pair<std::string, std::string>> headers;
  const Json no_headers = Json::object();
  const Json& declared = result.contains("headers") ? result["headers"] : no_headers;
  if (!declared.is_object()) return Error(400, kWebInvalidHttpText, request);
  const auto scalar = [](const Json& v) -> std::optional<std::string> {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number() || v.is_boolean()) return json::Dump(v);
    return std::nullopt;
  };
  std::string content_type;
  for (const auto& [name, value] : declared.items()) {
    std::vector<Json> values = value.is_array() ? std::vector<Json>(value.begin(), value.end()) : std::vector{value};
    for (const Json& v : values) {
      std::optional<std::string> text = scalar(v);
      if (!text || name.empty()) return Error(400, kWebInvalidHttpText, request);
      if (http::EqualsIgnoreCase(name, "Content-Type")) {
        content_type = *text;
      } else {
        headers.emplace_back(name, *text);
      }
    }
  }

  const Json body = result.value("body", Json());
  const bool empty = body.is_null() || (body.is_string() && body.get<std::string>().empty());
  if (!empty) {
    if (body.is_string()) {
      const std::optional<std::string> media = MediaType(content_type.empty() ? "text/html" : content_type);
      if (!media) return Error(400, kWebUnknownContentTypeText, request);
      const std::string& text = body.get_ref<const std::string&>();
      if (!IsTextMedia(*media)) {
        Result<std::string> bytes = Base64Decode(text);
        if (!bytes.ok()) return Error(400, kWebInvalidHttpText, request);
        response.body = std::move(*bytes);
      } else if (IsJsonMedia(*media)) {
        // Legacy: a JSON type whose string is base64 carries the JSON encoded.
        Result<std::string> bytes = Base64Decode(text);
        response.body = bytes.ok() && json::Parse(*bytes).ok() ? *bytes : text;
      } else {
        response.body = text;
      }
      if (content_type.empty()) content_type = "text/html; charset=UTF-8";
    } else {
      if (!content_type.empty()) {
        const std::optional<std::string> media = MediaType(content_type);
        if (!media) return Error(400, kWebUnknownContentTypeText, request);
        if (!IsJsonMedia(*media)) return Error(400, kWebInvalidHttpText, request);
      } else {
        content_type = "application/json";
      }
      response.body = json::Dump(body);
    }
  }

  response.status = response.body.empty() ? 204 : 200;
  if (result.contains("statusCode")) {
    const Json& code = result["statusCode"];
    std::optional<int64_t> status;
    if (code.is_number_integer()) status = code.get<int64_t>();
    if (code.is_string()) status = ParseInt(code.get<std::string>());
    if (!status || *status < 100 || *status > 599) return Error(400, kWebInvalidHttpText, request);
    response.status = static_cast<int>(*status);
  }
  for (const auto& [name, value] : headers) response.headers.Add(name, value);
  if (!response.body.empty()) response.headers.Set("Content-Type", content_type);
  return response;
}

// .html and .svg: a string in `body`, else in the extension's own field.
Response MarkupResult(const Json& value, bool projected, std::string_view field, std::string_view media,
                      const Request& request) {
  const Json* text = &value;
  if (!projected) {
    text = value.is_object() && value.contains("body")  ? &value["body"]
           : value.is_object() && value.contains(field) ? &value[std::string(field)]
                                                        : nullptr;
    if (text == nullptr) return Error(404, kWebMissingPropertyText, request);
  }
  if (!text->is_string()) return Error(400, "Response is not valid '" + std::string(media) + "'.", request);
  return Response::Text(200, text->get<std::string>(), media == "text/html" ? "text/html; charset=UTF-8" : media);
}

}  // namespace

std::pair<std::string, WebExtension> SplitWebExtension(std::string_view segment) {
  static const std::pair<std::string_view, WebExtension> kExtensions[] = {{".http", WebExtension::kHttp},
                                                                          {".json", WebExtension::kJson},
                                                                          {".html", WebExtension::kHtml},
                                                                          {".svg", WebExtension::kSvg},
                                                                          {".text", WebExtension::kText}};
  for (const auto& [suffix, extension] : kExtensions) {
    if (segment.size() > suffix.size() && segment.ends_with(suffix)) {
      return {std::string(segment.substr(0, segment.size() - suffix.size())), extension};
    }
  }
  return {std::string(segment), WebExtension::kHttp};
}

void AddWebCorsHeaders(const Request& request, Response& response) {
  if (!response.headers.Has("Access-Control-Allow-Origin")) response.headers.Set("Access-Control-Allow-Origin", "*");
  if (!response.headers.Has("Access-Control-Allow-Methods")) {
    response.headers.Set("Access-Control-Allow-Methods", kCorsMethods);
  }
  if (!response.headers.Has("Access-Control-Allow-Headers")) {
    const std::string asked = request.headers.GetOr("Access-Control-Request-Headers");
    response.headers.Set("Access-Control-Allow-Headers", asked.empty() ? kCorsDefaultHeaders : asked);
  }
}

Response TranscodeWebResult(const Json& result, WebExtension extension, const std::string& projection,
                            const Request& request) {
  if (extension == WebExtension::kHttp) return HttpResult(result, request);
  const bool projected = projection.find_first_not_of('/') != std::string::npos;
  const std::optional<Json> value = Project(result, projection);
  if (!value) return Error(404, kWebMissingPropertyText, request);
  switch (extension) {
    case WebExtension::kJson:
      if (!value->is_object() && !value->is_array()) {
        return Error(400, "Response is not valid 'application/json'.", request);
      }
      return Response::Json(200, json::Dump(*value));
    case WebExtension::kHtml: return MarkupResult(*value, projected, "html", "text/html", request);
    case WebExtension::kSvg: return MarkupResult(*value, projected, "svg", "image/svg+xml", request);
    case WebExtension::kText: {
      const Json* text = &*value;
      if (!projected) {
        text = value->is_object() && value->contains("body")   ? &(*value)["body"]
               : value->is_object() && value->contains("text") ? &(*value)["text"]
                                                               : nullptr;
        if (text == nullptr) return Error(404, kWebMissingPropertyText, request);
      }
      std::string out = text->is_string()                       ? text->get<std::string>()
                        : text->is_object() || text->is_array() ? json::Pretty(*text)
                                                                : json::Dump(*text);
      return Response::Text(200, std::move(out), "text/plain; charset=UTF-8");
    }
    case WebExtension::kHttp: break;
  }
  return HttpResult(result, request);
}

namespace {

// The answer to a web action's invoke: its result transcoded for
// `extension`, or OpenWhisk's error for an activation that failed or is not
// ready (202), with the activation id.
Response WebReply(const InvokeReply& reply, WebExtension extension, const std::string& ow_path,
                  const Request& request) {
  Response response;
  if (reply.status == 202) {
    response = Error(202, kWebNotReadyText, request);
  } else {
    // The reply is the activation, or the bare result when it is an array.
    const Json& body = reply.body;
    const Json outcome = body.is_array() ? Json::object() : body.value("response", Json::object());
    const std::string status = json::GetString(outcome, "status", reply.status == 200 ? "success" : "");
    const Json result = body.is_array() ? body : outcome.value("result", Json::object());
    if (status == "success") {
      response = TranscodeWebResult(result, extension, ow_path, request);
    } else if (status == "application error") {
      response = TranscodeWebResult(result.value("error", Json::object()), extension, ow_path, request);
    } else {
      response = Error(400, kWebActionErrorText, request);
    }
  }
  response.headers.Set("x-openwhisk-activation-id", reply.activation_id);
  return response;
}

// One web request, from the URL to the answer.
Response ServeWeb(Controller& controller, const Identities& identities, Request& request) {
  const std::string& ns = request.Param("ns");
  const std::string& package = request.Param("pkg");
  const std::string& rest = request.Param("rest");
  const size_t slash = rest.find('/');
  const auto [action_name, extension] = SplitWebExtension(rest.substr(0, slash));
  const std::string ow_path = slash == std::string::npos ? "" : rest.substr(slash);

  // Any failure to find an exported action is the same 404, never a 403.
  Result<Identity> owner = identities.Find(ns);
  if (!owner.ok() || !IsValidEntityName(action_name) || (package != "default" && !IsValidEntityName(package))) {
    return Error(404, kWebNotFoundText, request);
  }
  EntityName name;
  name.ns = owner->namespace_name;
  name.package = package == "default" ? "" : package;
  name.name = action_name;
  Result<ResolvedAction> action = controller.ResolveAction(*owner, name);
  const Json no_annotations = Json::array();
  const Json& annotations = action.ok() ? action->doc->value("annotations", no_annotations) : no_annotations;
  if (!action.ok() || !KeyValueIsTrue(annotations, "web-export")) return Error(404, kWebNotFoundText, request);

  const bool custom_options = KeyValueIsTrue(annotations, "web-custom-options");
  auto finish = [&](Response response) {
    if (!custom_options) AddWebCorsHeaders(request, response);
    return response;
  };
  if (request.method == http::Method::kOptions && !custom_options) return finish(Response::Text(200, "", "text/plain"));

  // require-whisk-auth: true wants the caller's key; a string or number is a
  // secret the X-Require-Whisk-Auth header must repeat.
  std::optional<Identity> user;
  if (request.headers.Has("Authorization")) {
    Result<Identity> caller = identities.Authenticate(request.headers.GetOr("Authorization"));
    if (caller.ok()) user = *caller;
  }
  const Json required = KeyValue(annotations, "require-whisk-auth");
  if (required.is_boolean() && required.get<bool>() && !user) {
    return finish(Error(401, kNoAuthText, request));
  }
  if (required.is_string() || required.is_number()) {
    const std::string secret = required.is_string() ? required.get<std::string>() : json::Dump(required);
    if (request.headers.GetOr("X-Require-Whisk-Auth") != secret) return finish(Error(401, kBadAuthText, request));
  }

  std::optional<store::JwtIdentity> jwt_user;
  if (const Json rule = KeyValue(annotations, "require-jwt"); !rule.is_null() && rule != Json(false)) {
    Result<store::JwtIdentity> who = VerifyWebJwt(rule, request);
    if (!who.ok()) return finish(Error(401, who.status().message(), request));
    jwt_user = std::move(*who);
  }

  const size_t max_payload = controller.options().max_payload_bytes;
  if (request.body.size() > max_payload) {
    return finish(Error(413,
                        "Request larger than allowed: " + std::to_string(request.body.size()) + " > " +
                            std::to_string(max_payload) + " bytes.",
                        request));
  }
  const bool raw = KeyValueIsTrue(annotations, "raw-http");
  Result<Json> args = WebArguments(request, raw, ow_path, user);
  if (!args.ok()) return finish(ErrorResponse(args.status(), request));
  if (jwt_user) (*args)["__ow_jwt"] = {{"sub", jwt_user->name}, {"roles", jwt_user->roles}};
  if (KeyValueIsTrue(annotations, "final")) {
    const Json defined = KeyValuesToObject(action->parameters);
    for (const auto& [key, value] : args->items()) {
      if (defined.contains(key) && !defined[key].is_null())
        return finish(Error(400, kWebNotAllowedParamsText, request));
    }
  }

  InvokeOptions invoke;
  invoke.blocking = true;
  invoke.trace_id = request.request_id;
  invoke.wait = controller.options().max_blocking_wait;
  // The answer is made when the activation ends, on that thread, so this
  // worker does not wait for it; it reads a copy of the request (bar the
  // body, already in the arguments), since the connection's own may be gone.
  std::string body = std::move(request.body);
  auto kept = std::make_shared<const Request>(request);
  request.body = std::move(body);
  auto [response, deferred] = Response::Deferred();
  const Status started = controller.InvokeAsync(
      *owner, name, std::move(*args), invoke,
      [deferred = deferred, kept, extension = extension, ow_path, custom_options](InvokeReply reply) {
        Response answer = WebReply(reply, extension, ow_path, *kept);
        if (!custom_options) AddWebCorsHeaders(*kept, answer);
        deferred->Complete(std::move(answer));
      });
  if (!started.ok()) return finish(ErrorResponse(started, request));
  return std::move(response);
}

}  // namespace

void AddWebActionRoutes(http::Router& router, Controller& controller, const Identities& identities) {
  constexpr char kPattern[] = "/api/v1/web/{ns}/{pkg}/{rest...}";
  Controller* c = &controller;
  const Identities* ids = &identities;
  for (http::Method method : {http::Method::kGet, http::Method::kHead, http::Method::kPost, http::Method::kPut,
                              http::Method::kPatch, http::Method::kDelete, http::Method::kOptions}) {
    const Status added = router.Add(method, kPattern, [c, ids](Request& r) { return ServeWeb(*c, *ids, r); });
    if (!added.ok()) std::abort();  // a fixed pattern: only a programming error fails
  }
}

}  // namespace wisp::whisk
