// Small byte-level text helpers shared by modules: hex encoding and UTF-8
// validation.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wisp {

// Lowercase hex of `bytes`: digests, keys, revision ids.
std::string HexLower(std::string_view bytes);

// The length of the well-formed UTF-8 sequence that starts `s` (whose first
// byte is >= 0x80), or 0 when it is not one: RFC 3629 excludes overlong
// forms, surrogates and code points above U+10FFFF.
size_t Utf8SequenceLength(std::string_view s);

// True when all of `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

}  // namespace wisp
