// The store's server admin, as the client commands that speak to the
// CouchDB API (`wisp user`, `wisp backup`, `wisp restore`) find it.
//
// Thread-safety: a pure function of its arguments and the file it reads.
#pragma once

#include <string>

#include "util/result.h"

namespace wisp::cli {

struct AdminCredentials {
  std::string name;
  std::string password;
};

// `flag` (NAME:PASSWORD) when it is set, else DATA/admin.json (what `wisp
// serve` wrote and printed) under `data_dir`. InvalidArgument, saying which,
// when the flag has no colon or the file cannot be read or parsed.
Result<AdminCredentials> ResolveAdmin(const std::string& flag, const std::string& data_dir);

}  // namespace wisp::cli
