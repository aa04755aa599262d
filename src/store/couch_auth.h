// CouchAuth: who a request to the CouchDB port speaks for (spec couchdb.md §5).
//
// Three ways to say who you are, tried in this order:
// - `Authorization: Basic` with the server admin's or a `_users` user's name
//   and password;
// - `Authorization: Bearer` with a JWT (store/jwt.h), when keys are configured;
// - an `AuthSession` cookie from `POST /_session`.
// Anything else is anonymous. A user's password check (PBKDF2) runs once per
// password: a verified password is remembered, keyed by an HMAC of it under a
// key of this process, until the user's stored hash changes.
//
// This file decides identity only. What an identity may do with a database
// (`_security`, the `_users` rules) is decided by the API (couch_api.cc).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/message.h"
#include "json/json.h"
#include "store/jwt.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/status.h"

namespace wisp::store {

inline constexpr std::string_view kSessionCookie = "AuthSession";
inline constexpr int64_t kSessionSeconds = 600;  // CouchDB's [chttpd_auth] timeout

struct CouchAuthOptions {
  // The one server admin. Empty name: no authentication at all ("admin
  // party"), which only tests should use.
  std::string admin_name;
  std::string admin_password;
  JwtOptions jwt;
  // The clock sessions are issued, expired and refreshed by; null is the
  // system clock (tests pass a FakeClock).
  const Clock* clock = nullptr;
  // The key that signs session cookies. Empty: a random one for this
  // process, so a restart ends every session. `wisp serve` keeps one in its
  // data directory, as CouchDB keeps [chttpd_auth] secret, so that a
  // restart does not sign every dashboard out.
  std::string session_secret;
};

struct Identity {
  enum class Kind { kAnonymous, kAdmin, kUser, kRejected };
  Kind kind = Kind::kAnonymous;
  std::string name;
  std::vector<std::string> roles;
  // How the identity was proven, as `_session` reports it:
  // "default" (Basic), "jwt" or "cookie".
  std::string method;
  // kRejected only: why, as Unauthenticated (401) or InvalidArgument (400).
  Status rejection;

  bool known() const { return kind == Kind::kAdmin || kind == Kind::kUser; }
  bool admin() const { return kind == Kind::kAdmin; }
};

class CouchAuth {
 public:
  CouchAuth(Store& store, CouchAuthOptions options);

  const CouchAuthOptions& options() const { return options_; }
  bool enabled() const { return !options_.admin_name.empty(); }

  // Who `request` speaks for. Wrong credentials and bad tokens are kRejected.
  Identity Identify(const http::Request& request);

  // The admin or a `_users` user whose password matches; else kRejected
  // with "Name or password is incorrect.".
  Identity Login(const std::string& name, const std::string& password);

  // A signed AuthSession token for `name`, valid kSessionSeconds.
  std::string NewSession(const std::string& name) const;

  // A new token for the request's AuthSession cookie when that cookie is
  // valid and past a tenth of its life, else nullopt. CouchDB sends such a
  // fresh cookie with its answers (couch_httpd_auth's cookie_auth_header),
  // so a session in use never expires: a dashboard that syncs all day keeps
  // its login.
  std::optional<std::string> RefreshedSession(const http::Request& request) const;

 private:
  struct Session {
    std::string name;
    int64_t issued = 0;  // seconds since the epoch
  };
  // The name and issue time of a correctly signed, unexpired token.
  std::optional<Session> ParseSession(const std::string& token) const;
  std::optional<std::string> SessionName(const std::string& token) const;
  std::optional<Json> UserDoc(const std::string& name) const;
  bool PasswordMatches(const std::string& name, const Json& user, const std::string& password);
  std::string Mac(std::string_view payload) const;
  int64_t NowSeconds() const { return (options_.clock ? *options_.clock : Clock::System()).NowMillis() / 1000; }

  Store& store_;
  const CouchAuthOptions options_;
  const std::string process_key_;  // signs sessions and keys the password cache

  static constexpr size_t kMaxVerified = 10'000;
  std::mutex mu_;
  // user name -> derived_key of the hash that was checked + MAC of the password.
  std::unordered_map<std::string, std::string> verified_;  // GUARDED_BY(mu_)
};

// The Set-Cookie value that carries session `token`: path /, kSessionSeconds,
// HttpOnly; Secure and SameSite=None on TLS (so a cross-origin app keeps it).
std::string SessionCookie(const std::string& token, const http::Request& request);

}  // namespace wisp::store
