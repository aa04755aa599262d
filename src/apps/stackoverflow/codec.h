// Codec: the byte and text transformations the Stack Exchange and Slack
// clients and simulators share: gzip, HTML entities, Slack mrkdwn escaping.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace wisp::stackoverflow {

// The gzip member (RFC 1952) of `data`, as the Stack Exchange API sends every body.
std::string Gzip(std::string_view data);

// Decodes HTML entities once: the named amp, lt, gt, quot, apos and nbsp, and
// decimal (&#39;) and hex (&#x27;) character references, into UTF-8. Anything
// else, including an unterminated reference, is kept as written, so
// "&amp;lt;" becomes "&lt;" and not "<".
std::string DecodeHtmlEntities(std::string_view text);

// Escapes text for Slack mrkdwn: only &, < and > are escaped (Slack's rule).
std::string SlackEscape(std::string_view text);

// A Slack link "<url|label>": the label is escaped, and '|' (which would end
// the label) becomes the look-alike U+2223.
std::string SlackLink(std::string_view url, std::string_view label);

}  // namespace wisp::stackoverflow
