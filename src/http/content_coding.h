// DecodeContentCoding: the body of a request sent with a Content-Encoding
// (RFC 9110 §8.4), decoded. CouchDB accepts gzip-compressed JSON bodies, and
// some clients send them by default (the IBM Cloudant SDK behind couchbackup
// compresses every request body), so the CouchDB API decodes them here.
//
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "util/result.h"

namespace wisp::http {

// `body` decoded from `encoding` (`gzip`, `x-gzip`, `deflate` or
// `identity`, case-insensitive). UnsupportedMediaType for another coding,
// InvalidArgument for bytes that do not decode, PayloadTooLarge when the
// decoded body would pass `max_bytes` (a small compressed body must not
// expand without bound).
Result<std::string> DecodeContentCoding(std::string_view encoding, std::string_view body, size_t max_bytes);

}  // namespace wisp::http
