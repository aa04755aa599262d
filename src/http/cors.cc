#include "http/cors.h"

#include <algorithm>
#include <cctype>

namespace wisp::http {
namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

bool CorsPolicy::AllowsOrigin(const std::string& origin) const {
  if (!enabled || origin.empty()) return false;
  return std::any_of(origins.begin(), origins.end(),
                     [&](const std::string& o) { return o == "*" || o == origin; });
}

bool CorsPolicy::IsPreflight(const Request& request) const {
  return enabled && request.method == Method::kOptions && request.headers.Has("Origin") &&
         request.headers.Has("Access-Control-Request-Method");
}

Response CorsPolicy::Preflight(const Request& request) const {
  Response r;
  r.status = 204;
  const std::string origin = request.headers.GetOr("Origin");
  if (!AllowsOrigin(origin)) return r;

  // Every header the browser asks for must be allowed, or none is granted.
  const std::string asked = request.headers.GetOr("Access-Control-Request-Headers");
  size_t start = 0;
  while (start < asked.size()) {
    size_t comma = asked.find(',', start);
    if (comma == std::string::npos) comma = asked.size();
    const std::string name = Trim(std::string_view(asked).substr(start, comma - start));
    if (!name.empty() && std::none_of(allowed_headers.begin(), allowed_headers.end(),
                                      [&](const std::string& h) { return EqualsIgnoreCase(h, name); })) {
      return r;
    }
    start = comma + 1;
  }

  const bool wildcard = !credentials && std::find(origins.begin(), origins.end(), "*") != origins.end();
  r.headers.Set("Access-Control-Allow-Origin", wildcard ? "*" : origin);
  if (!wildcard) r.headers.Set("Vary", "Origin");
  if (credentials) r.headers.Set("Access-Control-Allow-Credentials", "true");
  r.headers.Set("Access-Control-Allow-Methods", methods);
  if (!asked.empty()) r.headers.Set("Access-Control-Allow-Headers", asked);
  r.headers.Set("Access-Control-Max-Age", std::to_string(max_age_seconds));
  return r;
}

void CorsPolicy::Decorate(const Request& request, Response& response) const {
  const std::string origin = request.headers.GetOr("Origin");
  if (!AllowsOrigin(origin)) return;
  if (response.headers.Has("Access-Control-Allow-Origin")) return;  // the handler decided
  const bool wildcard = !credentials && std::find(origins.begin(), origins.end(), "*") != origins.end();
  response.headers.Set("Access-Control-Allow-Origin", wildcard ? "*" : origin);
  if (!wildcard) response.headers.Add("Vary", "Origin");
  if (credentials) response.headers.Set("Access-Control-Allow-Credentials", "true");
  if (!exposed_headers.empty()) response.headers.Set("Access-Control-Expose-Headers", exposed_headers);
}

}  // namespace wisp::http
