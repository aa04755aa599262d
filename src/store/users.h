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
#include "util/status.h"

namespace wisp::store {

inline constexpr std::string_view kUsersDb = "_users";
inline constexpr std::string_view kUserDocPrefix = "org.couchdb.user:";

// Iterations for new password hashes: CouchDB 3.4's default and OWASP's
// advice for PBKDF2-SHA256. A check costs a few hundred milliseconds of CPU,
// so CouchAuth runs it once per password and remembers the result.
inline constexpr int kPasswordIterations = 600'000;

// Replaces a string `password` in `doc` with the PBKDF2 fields. Does nothing
// when there is no password.
void HashUserPassword(Json& doc, int iterations = kPasswordIterations);

// True when `password` matches the PBKDF2 fields of `user_doc` (prf sha256,
// or sha1 when `pbkdf2_prf` is absent, as CouchDB's older documents have).
bool VerifyUserPassword(const Json& user_doc, std::string_view password);

// The rules CouchDB's `_users` design document enforces on every write that
// is not a deletion: `type: "user"`, a `name` that matches the id, `roles` an
// array of strings without system roles, and a name that never changes. A
// writer who is not an admin may only write their own document
// (`writer_name`) and may not set or change its roles. `old_doc` is the
// current winner, or null for a new document. PermissionDenied (403
// forbidden) with CouchDB's text when a rule fails.
Status ValidateUserDoc(const Json& new_doc, const Json* old_doc, bool by_admin, const std::string& writer_name);

}  // namespace wisp::store
