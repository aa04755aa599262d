// Users: the documents of the `_users` database and their passwords.
//
// A user is the document `org.couchdb.user:NAME` with `name`, `roles` and
// `type: "user"`. A plaintext `password` written to it is replaced, before
// it is stored, by CouchDB's PBKDF2 fields (spec couchdb.md §5):
// `password_scheme: "pbkdf2"`, `pbkdf2_prf: "sha256"`, `iterations`, `salt`
// (32 hex characters, used as ASCII) and `derived_key` (lowercase hex).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "json/json.h"

namespace wisp::store {

inline constexpr std::string_view kUsersDb = "_users";
inline constexpr std::string_view kUserDocPrefix = "org.couchdb.user:";

// Iterations for new password hashes. CouchDB 3.5 uses 600,000; every Basic
// request verifies the hash, so wisp uses fewer until verifications are cached.
inline constexpr int kPasswordIterations = 10'000;

// Replaces a string `password` in `doc` with the PBKDF2 fields. Does nothing
// when there is no password.
void HashUserPassword(Json& doc, int iterations = kPasswordIterations);

// True when `password` matches the PBKDF2 fields of `user_doc` (prf sha256,
// or sha1 when `pbkdf2_prf` is absent, as CouchDB's older documents have).
bool VerifyUserPassword(const Json& user_doc, std::string_view password);

}  // namespace wisp::store
