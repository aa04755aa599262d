// Random identifiers: activation ids, request ids, trace ids, document uuids.
//
// All come from a per-thread generator seeded from the OS's entropy source;
// they are unique, not secret. Secrets (keys, passwords) use RandomSecret(),
// which reads the OS's cryptographic source directly.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <string>
#include <string_view>

namespace wisp {

// 32 lowercase hex characters (128 random bits): OpenWhisk's activation id
// shape and CouchDB's uuid shape.
std::string NewId();

// An RFC 4122 version-4 UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string NewUuid();

// `length` characters from [A-Za-z0-9], from the OS's cryptographic source.
std::string RandomSecret(size_t length);

// True when `s` is exactly 32 characters of [0-9a-f].
bool IsId(std::string_view s);

}  // namespace wisp
