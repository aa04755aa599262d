#include "store/remote_couch.h"

#include "http/url.h"
#include "json/json.h"
#include "util/base64.h"

namespace wisp::store {
namespace {

constexpr std::string_view kCookieName = "AuthSession=";

// The `AuthSession=...` pair of a Set-Cookie header, or "".
std::string SessionCookieOf(const http::ClientResponse& response) {
  for (const auto& [name, value] : response.headers.entries()) {
    if (!http::EqualsIgnoreCase(name, "Set-Cookie") || !value.starts_with(kCookieName)) continue;
    const size_t end = value.find(';');
    std::string pair = value.substr(0, end);
    // An empty value is CouchDB ending the session (a logout), not a new one.
    if (pair.size() > kCookieName.size()) return pair;
  }
  return "";
}

}  // namespace

Result<RemoteAuth> ParseRemoteAuth(const std::string& name) {
  if (name == "none" || name.empty()) return RemoteAuth::kNone;
  if (name == "basic") return RemoteAuth::kBasic;
  if (name == "cookie") return RemoteAuth::kCookie;
  if (name == "jwt") return RemoteAuth::kJwt;
  return Status::InvalidArgument("the store's auth is one of none, basic, cookie, jwt; not '" + name + "'");
}

const char* RemoteAuthName(RemoteAuth auth) {
  switch (auth) {
    case RemoteAuth::kNone: return "none";
    case RemoteAuth::kBasic: return "basic";
    case RemoteAuth::kCookie: return "cookie";
    case RemoteAuth::kJwt: return "jwt";
  }
  return "none";
}

Result<std::shared_ptr<RemoteCouch>> RemoteCouch::Create(http::Client& client, RemoteCouchOptions options) {
  const std::string& url = options.url;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos || (url.substr(0, scheme_end) != "http" && url.substr(0, scheme_end) != "https")) {
    return Status::InvalidArgument("the store URL must start with http:// or https://");
  }
  const std::string authority = url.substr(scheme_end + 3, url.find('/', scheme_end + 3) - (scheme_end + 3));
  if (authority.empty()) return Status::InvalidArgument("the store URL names no host");
  if (authority.find('@') != std::string::npos) {
    // Credentials in a URL end up in logs, process lists and banners.
    return Status::InvalidArgument("the store URL must not carry credentials; give them separately");
  }
  const bool needs_user = options.auth == RemoteAuth::kBasic || options.auth == RemoteAuth::kCookie;
  if (needs_user && (options.username.empty() || options.secret.empty())) {
    return Status::InvalidArgument(std::string(RemoteAuthName(options.auth)) +
                                   " auth needs a user name and a password");
  }
  if (options.auth == RemoteAuth::kJwt && options.secret.empty()) {
    return Status::InvalidArgument("jwt auth needs a token");
  }
  return std::shared_ptr<RemoteCouch>(new RemoteCouch(client, std::move(options)));
}

RemoteCouch::RemoteCouch(http::Client& client, RemoteCouchOptions options)
    : client_(client), options_(std::move(options)), url_([this] {
        std::string url = options_.url;
        while (!url.empty() && url.back() == '/') url.pop_back();
        return url;
      }()) {}

std::string RemoteCouch::Describe() const { return url_ + " (auth " + RemoteAuthName(options_.auth) + ")"; }

std::string RemoteCouch::UrlOf(const std::string& path) const {
  if (path.empty() || path.front() != '/') return url_ + "/" + path;
  return url_ + path;
}

Result<http::ClientResponse> RemoteCouch::SignIn(std::string& cookie_out) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = UrlOf("/_session");
  request.headers.Set("Content-Type", "application/json");
  request.headers.Set("Accept", "application/json");
  request.body = json::Dump(Json{{"name", options_.username}, {"password", options_.secret}});
  WISP_ASSIGN_OR_RETURN(http::ClientResponse response, client_.Send(request));
  cookie_out = response.status == 200 ? SessionCookieOf(response) : "";
  return response;
}

void RemoteCouch::RememberCookie(const http::ClientResponse& response) {
  std::string fresh = SessionCookieOf(response);
  if (fresh.empty()) return;
  std::lock_guard lock(mu_);
  cookie_ = std::move(fresh);
}

Result<http::ClientResponse> RemoteCouch::Send(http::ClientRequest request) {
  request.url = UrlOf(request.url);
  switch (options_.auth) {
    case RemoteAuth::kNone: return client_.Send(request);
    case RemoteAuth::kBasic:
      request.headers.Set("Authorization", "Basic " + Base64Encode(options_.username + ":" + options_.secret));
      return client_.Send(request);
    case RemoteAuth::kJwt:
      request.headers.Set("Authorization", "Bearer " + options_.secret);
      return client_.Send(request);
    case RemoteAuth::kCookie: break;
  }
  std::string cookie;
  {
    std::lock_guard lock(mu_);
    cookie = cookie_;
  }
  // Two rounds at most: the cookie we hold, then a fresh one after a 401.
  for (int round = 0; round < 2; ++round) {
    if (cookie.empty()) {
      WISP_ASSIGN_OR_RETURN(http::ClientResponse signed_in, SignIn(cookie));
      if (cookie.empty()) {
        // The server refused the password (or gave no cookie): its answer
        // is the caller's, without the password we sent.
        if (signed_in.status == 200) signed_in.status = 401;
        return signed_in;
      }
      std::lock_guard lock(mu_);
      cookie_ = cookie;
    }
    request.headers.Set("Cookie", cookie);
    WISP_ASSIGN_OR_RETURN(http::ClientResponse response, client_.Send(request));
    if (response.status != 401 || round == 1) {
      RememberCookie(response);
      return response;
    }
    {
      std::lock_guard lock(mu_);
      if (cookie_ == cookie) cookie_.clear();
    }
    cookie.clear();
  }
  return Status::Internal("unreachable");
}

}  // namespace wisp::store
