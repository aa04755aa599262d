// CORS, configured per listener.
//
// Two browsers' worth of rules meet here. With credentials (PouchDB sends
// them on every request) the browser accepts only the exact Origin echoed
// back, never "*", plus Access-Control-Allow-Credentials: true. Without
// credentials, "*" is allowed, which is what OpenWhisk's API answers.
//
// Thread-safety: a CorsPolicy is immutable once the server starts.
#pragma once

#include <string>
#include <vector>

#include "http/message.h"

namespace wisp::http {

struct CorsPolicy {
  bool enabled = false;
  // Allowed origins ("https://app.example:8080"); "*" allows any.
  std::vector<std::string> origins = {"*"};
  // Send Access-Control-Allow-Credentials: true and always echo the origin.
  bool credentials = false;
  std::string methods = "GET, HEAD, POST, PUT, DELETE, OPTIONS";
  // Headers a preflight may ask for; compared case-insensitively.
  std::vector<std::string> allowed_headers = {"accept", "authorization", "content-type", "origin",
                                              "referer", "x-requested-with", "x-request-id"};
  std::string exposed_headers = "content-type, etag, x-request-id";
  int max_age_seconds = 600;

  bool AllowsOrigin(const std::string& origin) const;

  // True when `request` is a CORS preflight this policy should answer
  // (OPTIONS with Origin and Access-Control-Request-Method).
  bool IsPreflight(const Request& request) const;

  // The answer to a preflight: 204 with the Allow-* headers, or 204 without
  // them when the origin or a requested header is not allowed (the browser
  // then blocks the real request).
  Response Preflight(const Request& request) const;

  // Adds Allow-Origin (and Credentials, Expose-Headers, Vary) to an actual response.
  void Decorate(const Request& request, Response& response) const;
};

}  // namespace wisp::http
