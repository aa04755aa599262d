// JWT bearer authentication as CouchDB 3 does it (spec couchdb.md §5):
// `Authorization: Bearer <token>`, signed with HMAC (HS256, HS384, HS512)
// under a configured secret or with RSA (RS256, RS384, RS512) under a
// configured public key, the user's name in `sub` and the roles at a
// configured claim path. No `_users` lookup: the token is the whole identity.
//
// The algorithm picks the kind of key: an HS token is checked only against
// the HMAC secrets and an RS token only against the RSA keys, so a public key
// can never be used as an HMAC secret. `alg: none` and every other algorithm
// are refused.
//
// The error texts and statuses are CouchDB's: a malformed token, a bad
// signature, a missing required claim or a wrong `iss` is 400; an expired
// token, one not yet valid, or one without `sub` is 401. A wrong `aud`, when
// an audience is configured, is 400 "Invalid aud claim" like a wrong `iss`.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace wisp::store {

struct JwtOptions {
  // Raw HMAC secrets by key id; tokens without `kid` use "_default".
  // Empty: JWT authentication is off.
  std::map<std::string, std::string> hmac_keys;
  // RSA public keys (PEM, "-----BEGIN PUBLIC KEY-----") by key id, for RS*.
  std::map<std::string, std::string> rsa_keys;
  // When not empty, `iss` must equal it (CouchDB's required_claims {iss, X}).
  std::string issuer;
  // When not empty, `aud` (a string, or an array of strings) must name it.
  std::string audience;
  // Claims that must be present (CouchDB's [jwt_auth] required_claims).
  std::vector<std::string> required_claims = {"exp"};
  // Where the roles are: a dotted path into the claims, `\.` for a literal
  // dot (CouchDB's roles_claim_path). The value is an array of strings or
  // one comma-separated string. The default is CouchDB's: the top-level
  // claim named "_couchdb.roles".
  std::string roles_claim_path = R"(_couchdb\.roles)";

  bool enabled() const { return !hmac_keys.empty() || !rsa_keys.empty(); }
};

struct JwtIdentity {
  std::string name;
  std::vector<std::string> roles;
};

// Verifies `token` at `now_seconds` (Unix time). InvalidArgument (400) or
// Unauthenticated (401) with CouchDB's reason text when it is not valid.
Result<JwtIdentity> VerifyJwt(std::string_view token, const JwtOptions& options, int64_t now_seconds);

// Adds a `--jwt-key` value: "BASE64" for the default key or "KID:BASE64".
// InvalidArgument when the secret is not base64 or is empty.
Status AddJwtKey(JwtOptions& options, std::string_view spec);

// Adds an RSA public key in PEM under `kid` ("_default" for tokens without
// one). InvalidArgument when the text is not an RSA public key.
Status AddJwtRsaKey(JwtOptions& options, std::string kid, std::string_view pem);

}  // namespace wisp::store
