#include "apps/stackoverflow/rest_invoke.h"

#include <string>

#include "http/url.h"
#include "util/base64.h"
#include "util/environment.h"

namespace wisp::stackoverflow {
namespace {

std::string ActionUrl(std::string host, const whisk::EntityName& handler) {
  if (host.find("://") == std::string::npos) host = "https://" + host;
  while (!host.empty() && host.back() == '/') host.pop_back();
  std::string url = host + "/api/v1/namespaces/" + http::PercentEncode(handler.ns) + "/actions/";
  if (!handler.package.empty()) url += http::PercentEncode(handler.package) + "/";
  return url + http::PercentEncode(handler.name) + "?blocking=true";
}

}  // namespace

HandlerInvoke InvokeThroughRestApi(http::Client& http) {
  return [&http](const std::string&, const whisk::EntityName& handler, const Json& input,
                 const whisk::InvokeOptions& options) -> Result<whisk::InvokeReply> {
    const std::string host = EnvironmentVariable("__OW_API_HOST");
    const std::string key = EnvironmentVariable("__OW_API_KEY");
    if (host.empty()) return Status::PreconditionFailed("__OW_API_HOST is not set: no OpenWhisk to invoke the handler on");
    if (key.empty()) {
      return Status::PreconditionFailed(
          "__OW_API_KEY is not set: the invoker needs the annotation provide-api-key: true");
    }
    http::ClientRequest request;
    request.method = "POST";
    request.url = ActionUrl(host, handler);
    request.body = json::Dump(input);
    request.headers.Set("Content-Type", "application/json");
    request.headers.Set("Authorization", "Basic " + Base64Encode(key));
    // OpenWhisk answers a blocking invoke within its own limit (60 s) with
    // the record or a 202; the margin covers the hop.
    request.timeout = options.wait + std::chrono::seconds(30);
    WISP_ASSIGN_OR_RETURN(http::ClientResponse response, http.Send(request));

    Result<Json> body = json::Parse(response.body);
    const Json reply = body.ok() ? *body : Json::object();
    if (response.status == 429) return Status::ResourceExhausted(json::GetString(reply, "error", "Too many requests"));
    whisk::InvokeReply out;
    out.status = response.status;
    out.activation_id = json::GetString(reply, "activationId", response.headers.GetOr("x-openwhisk-activation-id"));
    if (response.status == 200 || response.status == 502) {
      // The activation record: its result is what the handler returned.
      const Json& outcome = reply.contains("response") ? reply["response"] : Json();
      out.body = outcome.is_object() && outcome.contains("result") ? outcome["result"] : reply;
      if (response.status == 502 && !out.body.contains("error")) out.body = {{"error", json::Dump(out.body)}};
      return out;
    }
    if (response.status == 202) return out;
    return Status::Unavailable("OpenWhisk answered " + std::to_string(response.status) + " to the handler's invoke: " +
                               json::GetString(reply, "error", response.body.substr(0, 200)));
  };
}

}  // namespace wisp::stackoverflow
