#include "http/multipart.h"

#include <algorithm>

namespace wisp::http {

std::string MultipartBoundary(std::string_view content_type) {
  const size_t at = content_type.find("boundary=");
  if (at == std::string_view::npos) return "";
  std::string_view b = content_type.substr(at + 9);
  if (!b.empty() && b.front() == '"') {
    b.remove_prefix(1);
    return std::string(b.substr(0, b.find('"')));
  }
  return std::string(b.substr(0, b.find_first_of("; \t")));
}

Result<std::vector<MultipartPart>> SplitMultipart(std::string_view body, std::string_view boundary) {
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next_delimiter = "\r\n" + delimiter;
  std::vector<MultipartPart> parts;
  size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return Status::InvalidArgument("Multipart body without its boundary");
  while (true) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") return parts;  // the close delimiter
    const size_t line_end = body.find("\r\n", pos);
    if (line_end == std::string_view::npos) break;
    const size_t header_end = body.find("\r\n\r\n", line_end);
    const size_t next = body.find(next_delimiter, line_end);
    if (next == std::string_view::npos) break;
    // The part's header block ends at the first blank line, when that comes
    // before the next delimiter; without one, the whole part is body. The
    // blank line may be the line break in front of the next delimiter.
    MultipartPart part;
    size_t body_start = std::min(line_end + 2, next);
    if (header_end != std::string_view::npos && header_end + 2 <= next) {
      std::string_view headers =
          header_end > line_end ? body.substr(line_end + 2, header_end - line_end - 2) : std::string_view();
      while (!headers.empty()) {
        const size_t eol = headers.find("\r\n");
        std::string_view line = headers.substr(0, eol);
        if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
          std::string_view value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
          part.headers.Add(line.substr(0, colon), value);
        }
        if (eol == std::string_view::npos) break;
        headers.remove_prefix(eol + 2);
      }
      body_start = std::min(header_end + 4, next);
    }
    part.body = std::string(body.substr(body_start, next - body_start));
    parts.push_back(std::move(part));
    pos = next + 2;
  }
  return Status::InvalidArgument("Multipart body is truncated");
}

}  // namespace wisp::http
