// The client side of the OpenWhisk REST API as the `wsk` CLI drives it: the
// `~/.wskprops` configuration and one authenticated request at a time.
//
// Configuration precedence (lowest first): the properties file
// (`WSK_CONFIG_FILE`, else `$HOME/.wskprops`), the `WHISK_AUTH`,
// `WHISK_APIHOST` and `WHISK_NAMESPACE` environment variables, then the global
// flags `--apihost`, `--auth`, `-i`, `-v`.
//
// Thread-safety: a WskClient is used by one thread (one CLI command).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "http/client.h"
#include "json/json.h"
#include "util/result.h"

namespace wisp::cli {

// The global flags every client command accepts.
struct WskGlobals {
  std::string apihost;
  std::string auth;
  bool insecure = false;
  bool verbose = false;
};

// A properties file: KEY=VALUE lines, other lines kept as they are.
class WskProps {
 public:
  static std::string DefaultPath();  // WSK_CONFIG_FILE or $HOME/.wskprops
  static WskProps Load(const std::string& path);
  Status Save() const;

  std::string Get(const std::string& key) const;
  void Set(const std::string& key, const std::string& value);
  void Unset(const std::string& key);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::pair<std::string, std::string>> entries_;  // in file order
};

// The effective settings for a command.
struct WskConfig {
  std::string apihost;     // as configured, e.g. "localhost:3233" or "http://..."
  std::string auth;        // UUID:KEY
  std::string namespace_;  // "_" when unset
  bool insecure = false;
  bool verbose = false;

  static WskConfig Resolve(const WskGlobals& globals);
  // "https://" is prepended to a host without a scheme, as wsk does.
  std::string BaseUrl() const;
};

// A reply that reached the CLI: the status and the body parsed as JSON (null
// when empty or not JSON).
struct WskReply {
  int status = 0;
  std::string body;
  Json json;
  http::Headers headers;
};

// A failed exchange as the CLI reports it.
struct WskError {
  std::string message;  // e.g. "The requested resource does not exist. (code abc)"
  int exit_code = 1;
};

class WskClient {
 public:
  explicit WskClient(WskConfig config);

  // Sends METHOD {base}/api/v1/{path}; query must already be encoded.
  // A transport failure is an error Status; any HTTP reply is a WskReply.
  Result<WskReply> Send(std::string_view method, const std::string& path, const Json* body = nullptr);

  const WskConfig& config() const { return config_; }

 private:
  WskConfig config_;
  http::Client client_;
};

// wsk's error text for a non-2xx reply: "<error> (code <code>)", and its exit
// code: the HTTP status minus 256 (so 404 exits 148), 202 for a timed-out
// blocking wait.
WskError ErrorFromReply(const WskReply& reply);

// Percent-encodes one path segment or query value.
std::string UrlEncode(std::string_view text);

// A parsed entity name: "/ns/pkg/a", "pkg/a" or "a".
struct QualifiedName {
  std::string ns;    // "_" when relative
  std::string name;  // "pkg/a" or "a"
  std::string Full() const { return "/" + ns + "/" + name; }
  // The request path: namespaces/NS/COLLECTION/ENCODED-NAME.
  std::string Path(std::string_view collection) const;
};
QualifiedName ParseQualifiedName(std::string_view text, const std::string& default_ns);

}  // namespace wisp::cli
