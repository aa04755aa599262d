// MIME multipart bodies (RFC 2046): the boundary of a Content-Type and the
// parts between its delimiters. CouchDB clients send documents with their
// attachments as multipart/related (the replicator, nano's multipart.insert).
//
// These parsers face the network directly; they are fuzzed by
// fuzz/multipart_fuzzer.cc. They never throw and never read out of bounds.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "util/result.h"

namespace wisp::http {

// One part of a multipart body: its header fields and its bytes.
struct MultipartPart {
  Headers headers;
  std::string body;
};

// The boundary parameter of a multipart Content-Type (quoted or not), or "".
std::string MultipartBoundary(std::string_view content_type);

// The parts of `body` up to the close delimiter; text before the first
// delimiter (the preamble) is skipped. Fails with InvalidArgument when the
// body never names the boundary or ends before its close delimiter.
Result<std::vector<MultipartPart>> SplitMultipart(std::string_view body, std::string_view boundary);

}  // namespace wisp::http
