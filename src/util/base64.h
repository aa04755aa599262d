// Base64 (RFC 4648, standard alphabet, with padding): attachment data inline
// in CouchDB documents, and md5 digests ("md5-<base64>").
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace wisp {

std::string Base64Encode(std::string_view bytes);

// Accepts padded or unpadded input and ignores whitespace (PouchDB and
// browsers send both). InvalidArgument on any other character.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace wisp
