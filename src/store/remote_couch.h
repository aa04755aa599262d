// RemoteCouch: a CouchDB-compatible server (CouchDB 3, Cloudant,
// pouchdb-server, another wisp) reached over HTTP with one set of
// credentials, for the parts of wisp that use an external store instead of
// the embedded one: the pipeline's questions (apps/stackoverflow) and the
// dashboard's `/db` proxy (cli/store_proxy.h). docs/scaling.md, "External
// CouchDB", tells the whole story.
//
// Three ways to authenticate, as CouchDB offers them:
// - basic: `Authorization: Basic` on every request;
// - cookie: `POST /_session` once, then the `AuthSession` cookie; a 401
//   (the session expired, or the server restarted with a new secret) signs
//   in again and repeats the request once, and a refreshed cookie in any
//   answer replaces the old one, as a browser would;
// - jwt: `Authorization: Bearer TOKEN` with a token the operator issued.
// The credentials never appear in Describe(), logs or errors.
//
//   RemoteCouch couch(client, {.url = "http://db:5984", .auth = RemoteAuth::kCookie,
//                              .username = "wisp", .secret = password});
//   Result<http::ClientResponse> r = couch.Send(std::move(request_with_path));
//
// Thread-safety: Send() may be called from any thread at once; the session
// cookie is shared under a lock.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "http/client.h"
#include "util/result.h"

namespace wisp::store {

enum class RemoteAuth { kNone, kBasic, kCookie, kJwt };

// "none", "basic", "cookie", "jwt" -> the mode; InvalidArgument otherwise.
Result<RemoteAuth> ParseRemoteAuth(const std::string& name);
const char* RemoteAuthName(RemoteAuth auth);

struct RemoteCouchOptions {
  std::string url;  // the server's root, e.g. "https://db.example:6984"; no credentials in it
  RemoteAuth auth = RemoteAuth::kNone;
  std::string username;  // basic and cookie
  std::string secret;    // the password (basic, cookie) or the token (jwt)
};

class RemoteCouch {
 public:
  // `client` must outlive this object. InvalidArgument (from Create) for a
  // URL that is not http(s), carries credentials, or an auth mode without
  // what it needs.
  static Result<std::shared_ptr<RemoteCouch>> Create(http::Client& client, RemoteCouchOptions options);

  // The server's root URL without a trailing slash (no credentials).
  const std::string& url() const { return url_; }
  RemoteAuth auth() const { return options_.auth; }
  // "URL (auth MODE)", safe to print.
  std::string Describe() const;

  // Sends `request` with `url` taken as a path below the server's root
  // ("/questions/_all_docs?x=y") and the credentials added. A transport
  // failure is an error; any answer of the server is a response. With
  // cookie auth a 401 signs in again and repeats the request once; a sign-in
  // that the server refuses answers with the server's 401.
  Result<http::ClientResponse> Send(http::ClientRequest request);

  // The full URL of `path` below the root.
  std::string UrlOf(const std::string& path) const;

 private:
  RemoteCouch(http::Client& client, RemoteCouchOptions options);

  // POST /_session: the new AuthSession cookie value, or the server's refusal.
  Result<http::ClientResponse> SignIn(std::string& cookie_out);
  void RememberCookie(const http::ClientResponse& response);

  http::Client& client_;
  const RemoteCouchOptions options_;
  const std::string url_;
  std::mutex mu_;
  std::string cookie_;  // "AuthSession=..." or empty, GUARDED_BY(mu_)
};

}  // namespace wisp::store
