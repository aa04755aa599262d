#include "http/url.h"

namespace wisp::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

Result<std::string> PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) {
        return Status::InvalidArgument("truncated percent-escape");
      }
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return Status::InvalidArgument("invalid percent-escape");
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return Status::InvalidArgument("percent-escape decodes to NUL");
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

Result<std::vector<std::string>> SplitPath(std::string_view raw_path) {
  if (raw_path.empty() || raw_path.front() != '/') {
    return Status::InvalidArgument("path must start with '/'");
  }
  std::vector<std::string> segments;
  if (raw_path.size() == 1) return segments;
  size_t start = 1;
  for (;;) {
    const size_t slash = raw_path.find('/', start);
    const std::string_view piece =
        raw_path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    WISP_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(piece));
    segments.push_back(std::move(decoded));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

std::optional<std::string> QueryParams::Get(std::string_view name) const {
  for (const auto& [k, v] : entries_) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::string QueryParams::GetOr(std::string_view name, std::string_view fallback) const {
  auto v = Get(name);
  return v ? *v : std::string(fallback);
}

Result<QueryParams> ParseQuery(std::string_view query) {
  QueryParams params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view piece = query.substr(start, amp - start);
    if (!piece.empty()) {
      const size_t eq = piece.find('=');
      const std::string_view raw_name = piece.substr(0, eq);
      const std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
      WISP_ASSIGN_OR_RETURN(std::string name, PercentDecode(raw_name, /*plus_as_space=*/true));
      WISP_ASSIGN_OR_RETURN(std::string value, PercentDecode(raw_value, /*plus_as_space=*/true));
      params.Add(std::move(name), std::move(value));
    }
    start = amp + 1;
  }
  return params;
}

Result<Target> SplitTarget(std::string_view target) {
  if (target.empty()) return Status::InvalidArgument("empty request target");
  if (target.front() != '/') {
    // absolute-form: scheme "://" authority path-abempty [ "?" query ]
    const size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) {
      return Status::InvalidArgument("request target must be a path");
    }
    const size_t path_start = target.find_first_of("/?", scheme_end + 3);
    if (path_start == std::string_view::npos) {
      target = "/";
    } else if (target[path_start] == '?') {
      return SplitTarget("/" + std::string(target.substr(path_start)));
    } else {
      target = target.substr(path_start);
    }
  }
  Target out;
  const size_t q = target.find('?');
  out.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
  // A fragment is never sent by clients; strip one defensively.
  if (const size_t hash = out.query.find('#'); hash != std::string::npos) out.query.resize(hash);
  return out;
}

}  // namespace wisp::http
