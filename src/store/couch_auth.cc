#include "store/couch_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>

#include "http/url.h"
#include "store/users.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/text.h"

namespace wisp::store {
namespace {

constexpr std::string_view kBadCredentials = "Name or password is incorrect.";

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The value after `scheme ` in the Authorization header, if it uses `scheme`.
std::optional<std::string> Credentials(const http::Request& request, std::string_view scheme) {
  const std::string header = request.headers.GetOr("Authorization");
  if (header.size() <= scheme.size() || header[scheme.size()] != ' ' ||
      !http::EqualsIgnoreCase(std::string_view(header).substr(0, scheme.size()), scheme)) {
    return std::nullopt;
  }
  const size_t start = header.find_first_not_of(' ', scheme.size());
  return start == std::string::npos ? std::string() : header.substr(start);
}

std::optional<std::string> CookieValue(const http::Request& request, std::string_view name) {
  for (const auto& [key, value] : request.headers.entries()) {
    if (!http::EqualsIgnoreCase(key, "Cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      if (const size_t eq = pair.find('='); eq != std::string_view::npos && pair.substr(0, eq) == name) {
        return std::string(pair.substr(eq + 1));
      }
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
  }
  return std::nullopt;
}

std::vector<std::string> RolesOf(const Json& user) {
  std::vector<std::string> roles;
  for (const Json& r : user.value("roles", Json::array())) {
    if (r.is_string()) roles.push_back(r.get<std::string>());
  }
  return roles;
}

Identity Rejected(Status why) {
  Identity who;
  who.kind = Identity::Kind::kRejected;
  who.rejection = std::move(why);
  return who;
}

Identity Known(Identity::Kind kind, std::string name, std::vector<std::string> roles, std::string method) {
  Identity who;
  who.kind = kind;
  who.name = std::move(name);
  who.roles = std::move(roles);
  who.method = std::move(method);
  return who;
}

std::string UrlSafe(std::string b64) {
  std::replace(b64.begin(), b64.end(), '+', '-');
  std::replace(b64.begin(), b64.end(), '/', '_');
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

}  // namespace

CouchAuth::CouchAuth(Store& store, CouchAuthOptions options)
    : store_(store),
      options_(std::move(options)),
      process_key_(options_.session_secret.empty() ? RandomSecret(32) : options_.session_secret) {}

Identity CouchAuth::Identify(const http::Request& request) {
  if (!enabled()) return Known(Identity::Kind::kAdmin, "", {"_admin"}, "default");
  if (std::optional<std::string> basic = Credentials(request, "basic")) {
    Result<std::string> decoded = Base64Decode(*basic);
    const size_t colon = decoded.ok() ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) return Rejected(Status::Unauthenticated(std::string(kBadCredentials)));
    return Login(decoded->substr(0, colon), decoded->substr(colon + 1));
  }
  if (options_.jwt.enabled()) {
    if (std::optional<std::string> bearer = Credentials(request, "bearer")) {
      Result<JwtIdentity> token = VerifyJwt(*bearer, options_.jwt, NowSeconds());
      if (!token.ok()) return Rejected(token.status());
      const bool admin = std::find(token->roles.begin(), token->roles.end(), "_admin") != token->roles.end();
      return Known(admin ? Identity::Kind::kAdmin : Identity::Kind::kUser, token->name, token->roles, "jwt");
    }
  }
  std::optional<std::string> cookie = CookieValue(request, kSessionCookie);
  if (!cookie || cookie->empty()) return {};
  std::optional<std::string> name = SessionName(*cookie);
  if (!name) return {};
  if (ConstantTimeEquals(*name, options_.admin_name)) return Known(Identity::Kind::kAdmin, *name, {"_admin"}, "cookie");
  std::optional<Json> user = UserDoc(*name);
  if (!user) return {};
  return Known(Identity::Kind::kUser, *name, RolesOf(*user), "cookie");
}

Identity CouchAuth::Login(const std::string& name, const std::string& password) {
  const bool name_ok = ConstantTimeEquals(name, options_.admin_name);
  const bool password_ok = ConstantTimeEquals(password, options_.admin_password);
  if (name_ok && password_ok) return Known(Identity::Kind::kAdmin, name, {"_admin"}, "default");
  std::optional<Json> user = UserDoc(name);
  if (user && PasswordMatches(name, *user, password)) {
    return Known(Identity::Kind::kUser, name, RolesOf(*user), "default");
  }
  return Rejected(Status::Unauthenticated(std::string(kBadCredentials)));
}

bool CouchAuth::PasswordMatches(const std::string& name, const Json& user, const std::string& password) {
  // The entry is only valid for the hash it was checked against, so a new
  // password (a new salt and derived_key) invalidates it.
  const std::string entry = json::GetString(user, "derived_key") + ":" + Mac(name + ":" + password);
  {
    std::lock_guard lock(mu_);
    auto it = verified_.find(name);
    if (it != verified_.end() && ConstantTimeEquals(it->second, entry)) return true;
  }
  if (!VerifyUserPassword(user, password)) return false;
  std::lock_guard lock(mu_);
  if (verified_.size() >= kMaxVerified) verified_.clear();
  verified_[name] = entry;
  return true;
}

std::optional<Json> CouchAuth::UserDoc(const std::string& name) const {
  if (name.empty()) return std::nullopt;
  Result<std::shared_ptr<Database>> users = store_.GetDatabase(std::string(kUsersDb));
  if (!users.ok()) return std::nullopt;
  Result<Json> doc = (*users)->Get(std::string(kUserDocPrefix) + name, GetOptions{});
  if (!doc.ok()) return std::nullopt;
  return std::move(*doc);
}

// "name:HEXTIME:HMAC", base64url, as CouchDB shapes it (spec §5).
std::string CouchAuth::NewSession(const std::string& name) const {
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llX", static_cast<unsigned long long>(NowSeconds()));
  const std::string payload = name + ":" + hex;
  return UrlSafe(Base64Encode(payload + ":" + Mac(payload)));
}

std::optional<CouchAuth::Session> CouchAuth::ParseSession(const std::string& token) const {
  std::string standard = token;
  std::replace(standard.begin(), standard.end(), '-', '+');
  std::replace(standard.begin(), standard.end(), '_', '/');
  Result<std::string> decoded = Base64Decode(standard);
  if (!decoded.ok()) return std::nullopt;
  const size_t mac_at = decoded->rfind(':');
  if (mac_at == std::string::npos) return std::nullopt;
  const std::string payload = decoded->substr(0, mac_at);
  if (!ConstantTimeEquals(decoded->substr(mac_at + 1), Mac(payload))) return std::nullopt;
  const size_t time_at = payload.rfind(':');
  if (time_at == std::string::npos) return std::nullopt;
  const int64_t issued = std::strtoll(payload.c_str() + time_at + 1, nullptr, 16);
  if (NowSeconds() >= issued + kSessionSeconds) return std::nullopt;
  return Session{payload.substr(0, time_at), issued};
}

// The name a valid, unexpired token was issued to.
std::optional<std::string> CouchAuth::SessionName(const std::string& token) const {
  std::optional<Session> session = ParseSession(token);
  if (!session) return std::nullopt;
  return session->name;
}

std::optional<std::string> CouchAuth::RefreshedSession(const http::Request& request) const {
  std::optional<std::string> cookie = CookieValue(request, kSessionCookie);
  if (!cookie || cookie->empty()) return std::nullopt;
  std::optional<Session> session = ParseSession(*cookie);
  if (!session) return std::nullopt;
  if (NowSeconds() - session->issued < kSessionSeconds / 10) return std::nullopt;
  return NewSession(session->name);
}

// Hex HMAC-SHA256 of `payload` under this process's key.
std::string CouchAuth::Mac(std::string_view payload) const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), process_key_.data(), static_cast<int>(process_key_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), md, &len);
  return HexLower(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string SessionCookie(const std::string& token, const http::Request& request) {
  std::string cookie = std::string(kSessionCookie) + "=" + token +
                       "; Version=1; Path=/; Max-Age=" + std::to_string(kSessionSeconds) + "; HttpOnly";
  if (request.tls) cookie += "; Secure; SameSite=None";
  return cookie;
}

}  // namespace wisp::store
