// Content digests for modules that must not include OpenSSL themselves
// (tools/check_layering.py keeps it in http and store).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace wisp::store {

// SHA-256 of `bytes` as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view bytes);

}  // namespace wisp::store
