// Identities: who may call the OpenWhisk API, and in which namespace
// (spec openwhisk.md §2, §1.1).
//
// An identity is a subject, a namespace and a `uuid:key` credential. wisp
// knows two: `guest`, the users' namespace, and `whisk.system`, which owns
// the shared catalog. Their keys come from the command line, from OpenWhisk
// standalone's well-known dev keys, or from DATA/whisk_auth.json, which the
// first start writes with fresh random keys (mode 0600).
//
// Thread-safety: Identities is filled before the server starts and only read
// afterwards; Authenticate() may then be called from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace wisp::whisk {

struct Identity {
  std::string subject;
  std::string namespace_name;
  std::string uuid;
  std::string key;

  std::string Credential() const { return uuid + ":" + key; }
};

// OpenWhisk standalone's fixed dev credentials (spec §0.12).
inline constexpr std::string_view kDevGuestCredential =
    "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
inline constexpr std::string_view kDevSystemCredential =
    "789c46b1-71f6-4ed5-8c54-816aa4f8c502:abczO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";

// The 401 texts (spec §1.1).
inline constexpr std::string_view kNoAuthText =
    "The resource requires authentication, which was not supplied with the request";
inline constexpr std::string_view kBadAuthText = "The supplied authentication is invalid";

// True when `credential` is "uuid:key" with a UUID and a 64-character key.
bool IsValidCredential(std::string_view credential);

class Identities {
 public:
  // Adds an identity from "uuid:key". InvalidArgument when malformed.
  Status Add(std::string subject, std::string namespace_name, std::string_view credential);

  // The identity an `Authorization` header value names. Unauthenticated with
  // kNoAuthText when the header is missing or not Basic, kBadAuthText when it
  // names no identity.
  Result<Identity> Authenticate(std::string_view authorization) const;

  // The identity of `namespace_name`, or NotFound.
  Result<Identity> Find(std::string_view namespace_name) const;

 private:
  std::vector<Identity> identities_;
};

// The keys of `guest` and `whisk.system` for `wisp serve`: `guest_key` when
// given, the dev keys with `dev`, else DATA/whisk_auth.json, written with
// random keys on first start. InvalidArgument for a malformed key or file.
struct WhiskKeys {
  std::string guest;
  std::string system;
  std::string source;  // for the banner: "from --guest-key", "stored in ..."
};
Result<WhiskKeys> ResolveWhiskKeys(const std::string& data_dir, const std::string& guest_key, bool dev);

}  // namespace wisp::whisk
