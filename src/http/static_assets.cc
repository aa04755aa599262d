#include "http/static_assets.h"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace wisp::http {
namespace {

constexpr std::string_view kIndex = "index.html";

// A validator, not a secret: FNV-1a over the bytes, with the length, is
// enough to tell two versions of a file apart.
std::string EtagOf(std::string_view data) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char text[48];
  std::snprintf(text, sizeof text, "\"%016llx-%zx\"", static_cast<unsigned long long>(hash), data.size());
  return text;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// True when If-None-Match names `etag` (or is "*"). Weak tags match too, as
// RFC 9110 says for If-None-Match.
bool NoneMatchHits(std::string_view header, std::string_view etag) {
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view tag = header.substr(start, end - start);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    start = end + 1;
  }
  return false;
}

Response Serve(const Request& request, const AssetFile& file) {
  Response r;
  r.headers.Set("ETag", file.etag);
  r.headers.Set("Cache-Control", "no-cache");
  r.headers.Set("X-Content-Type-Options", "nosniff");
  if (auto none_match = request.headers.Get("If-None-Match"); none_match && NoneMatchHits(*none_match, file.etag)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.headers.Set("Content-Type", file.content_type);
  r.body = file.body;
  return r;
}

bool IsNavigation(const Request& request) {
  const std::string last = request.segments.empty() ? "" : request.segments.back();
  return last.find('.') == std::string::npos && request.headers.GetOr("Accept").find("text/html") != std::string::npos;
}

}  // namespace

std::string ContentTypeForPath(std::string_view path) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
      {".woff2", "font/woff2"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (EndsWith(path, ext)) return std::string(type);
  }
  return "application/octet-stream";
}

bool IsSafeAssetPath(const std::vector<std::string>& segments) {
  for (const std::string& s : segments) {
    if (s.empty() || s.front() == '.') return false;  // also "." and ".."
    if (s.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) return false;
  }
  return true;
}

std::shared_ptr<const StaticAssets> StaticAssets::Embedded(std::span<const EmbeddedAsset> assets) {
  std::shared_ptr<StaticAssets> out(new StaticAssets());
  for (const EmbeddedAsset& a : assets) {
    out->embedded_[std::string(a.path)] = AssetFile{ContentTypeForPath(a.path), EtagOf(a.data), std::string(a.data)};
  }
  return out;
}

std::shared_ptr<const StaticAssets> StaticAssets::Directory(std::string root) {
  std::shared_ptr<StaticAssets> out(new StaticAssets());
  out->root_ = std::move(root);
  return out;
}

std::optional<AssetFile> StaticAssets::Find(std::string_view relative_path) const {
  if (root_.empty()) {
    auto it = embedded_.find(relative_path);
    if (it == embedded_.end()) return std::nullopt;
    return it->second;
  }
  const std::filesystem::path path = std::filesystem::path(root_) / std::string(relative_path);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return AssetFile{ContentTypeForPath(relative_path), EtagOf(body), std::move(body)};
}

void AddStaticRoutes(Router& router, std::shared_ptr<const StaticAssets> assets, StaticRouteOptions options) {
  Handler not_found =
      options.not_found ? options.not_found : [](Request&) { return Response::Text(404, "Not Found\n"); };
  auto handler = [assets, not_found, reserved = options.reserved_prefixes](Request& request) -> Response {
    const std::vector<std::string>& segments = request.segments;
    if (!segments.empty()) {
      for (const std::string& prefix : reserved) {
        if (segments.front() == prefix) return not_found(request);
      }
    }
    if (!IsSafeAssetPath(segments)) return not_found(request);
    std::string relative;
    for (const std::string& s : segments) relative += (relative.empty() ? "" : "/") + s;
    if (relative.empty()) relative = kIndex;
    if (std::optional<AssetFile> file = assets->Find(relative)) return Serve(request, *file);
    if (IsNavigation(request)) {
      if (std::optional<AssetFile> index = assets->Find(kIndex)) return Serve(request, *index);
    }
    return not_found(request);
  };
  router.Get("/", handler);
  router.Get("/{path...}", handler);
}

}  // namespace wisp::http
