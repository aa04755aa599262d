// `wisp serve`: the composition root that starts every face of wisp.
//
// WispServer builds the routers of the OpenWhisk port and the CouchDB port,
// wires the metrics registry and starts the HTTP server; `wisp serve` runs
// one until SIGINT or SIGTERM, and `wisp demo` runs one in-process next to
// the simulators. Later modules add their routes here; lower modules never
// reach up for them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/server.h"
#include "util/result.h"

namespace CLI {
class App;
}

namespace wisp::cli {

struct ServeOptions {
  std::string data_dir = "./wisp-data";
  std::string bind = "127.0.0.1";
  uint16_t api_port = 3233;
  uint16_t couch_port = 5984;
  std::string tls_cert;
  std::string tls_key;
  bool https_redirect = false;             // with TLS: plain HTTP gets a redirect to https on the same port
  std::string admin;                       // NAME:PASSWORD; empty: DATA/admin.json
  size_t max_document_bytes = 8'000'000;
  std::vector<std::string> jwt_keys;       // BASE64 or KID:BASE64 HMAC secrets
  std::vector<std::string> jwt_rsa_keys;   // FILE or KID:FILE, PEM RSA public keys (RS256/384/512)
  std::string jwt_issuer;                  // when set, a JWT's iss must equal it
  std::string jwt_audience;                // when set, a JWT's aud must name it
  std::string jwt_roles_claim_path = R"(_couchdb\.roles)";  // the claim "_couchdb.roles"
  std::vector<std::string> jwt_required_claims = {"exp"};
  std::vector<std::string> cors_origins;   // CouchDB port; the API port answers "*" as OpenWhisk does
  size_t io_threads = 0;
  size_t worker_threads = 16;
  http::Limits limits;
  // The OpenWhisk face.
  std::string guest_key;                   // UUID:KEY; empty: DATA/whisk_auth.json
  bool dev = false;                        // OpenWhisk standalone's well-known keys
  int64_t invocations_per_minute = 60;     // per namespace
  int64_t concurrent_invocations = 30;     // per namespace
  // The rest of the limits (docs/security.md "Limits"); defaults are OpenWhisk's and CouchDB's.
  int64_t fires_per_minute = 60;           // trigger fires per namespace
  size_t sequence_max_length = 50;         // atomic actions one sequence invoke may run
  size_t max_payload_bytes = 1024 * 1024;  // invoke / fire / web action body
  size_t max_parameter_bytes = 1024 * 1024;  // an entity's parameters
  size_t max_code_bytes = 48 * 1024 * 1024;  // an action's code
  size_t max_result_bytes = 1024 * 1024;   // an activation's result
  size_t max_attachment_bytes = 1024 * 1024 * 1024;
  size_t max_bulk_docs_count = 10'000;
  size_t max_bulk_get_count = 10'000;
  size_t max_feeds = 64;                   // waiting _changes feeds at once (one thread each)
  int64_t native_idle_timeout_ms = 600'000;  // a warm actionloop process idle this long stops
  int native_max_processes = 64;           // actionloop processes alive at once
  std::string web_root;                    // the dashboard's files; empty: the ones built in
  std::string public_url;                  // the dashboard's address in sign-in links; empty: from Host
  std::string slack_signing_secret;        // Slack sign-in (cli/dashboard.h); empty: off
  std::vector<std::string> slack_team_ids; // Slack workspaces that may sign in; empty: any
  int64_t slack_link_seconds = 300;        // how long a Slack sign-in link stays valid
  std::string stem_cells = "nodejs:20=1,python:3=1";  // prewarmed launchers per kind (docs/runtimes.md)
  bool metrics = true;  // --metrics=off: no counting (the overhead benchmark's baseline)
  // Alerts (cli/alerts.h, docs/observability.md).
  std::string alert_rules;              // a YAML rules file; empty: the shipped defaults
  std::string alert_slack_url;          // a Slack incoming webhook for alerts
  std::string alert_webhook_url;        // a generic JSON webhook for alerts
  int64_t alert_interval_ms = 15'000;   // how often the rules are evaluated
  std::string log_level = "info";          // LEVEL[,MODULE=LEVEL...] (log::ParseLevelSpec)
  std::string log_file;                    // empty: standard error; "-": standard output
  std::string log_format = "auto";         // json, text, or auto: text on a terminal, else json
  std::string activation_retention;        // e.g. 7d (util ParseDuration); empty: keep forever
  // Actions under bubblewrap (docs/security.md "Sandbox"): "auto" when it
  // works (a warning otherwise), "on" (start fails without it), "off".
  std::string sandbox = "auto";
  bool sandbox_network = true;  // --sandbox-network=off: no action has network
  // An external store for `questions` and `events` (docs/scaling.md): the
  // pipeline writes there and the dashboard's /db/questions and /db/events
  // go there. Empty: the embedded store.
  std::string store_url;
  std::string store_auth = "none";  // none, basic, cookie or jwt
  std::string store_user;           // basic and cookie
  std::string store_secret_file;    // the password or token; else $WISP_STORE_SECRET
  // Continuous replications declared in a JSON file (cli/replication_config.h).
  std::string replications;
};

// Configures logging from the --log-* options. InvalidArgument for a bad
// level or format (exit code 2), IoError when the file cannot be opened.
Status ConfigureLogging(const ServeOptions& options);

// Registers `serve` and its flags on `app`; `options` is filled by parsing.
CLI::App* AddServeCommand(CLI::App& app, ServeOptions& options);

// The --store-* and --replications flags, shared by `serve` and `demo`.
void AddExternalStoreOptions(CLI::App& command, ServeOptions& options);

// Every part of a running server: the store, the controller and its runtimes,
// the alarms scheduler, the replicator and both listeners.
//
// Thread-safety: Start(), Stop() and the accessors from one thread (the one
// that blocked SIGINT and SIGTERM before calling Start(), so that no server
// thread receives them).
class WispServer {
 public:
  // Opens the data directory and starts both ports. Logging must already be
  // configured. InvalidArgument: a bad option (exit code 2); any other error:
  // the server could not start (exit code 1).
  static Result<std::unique_ptr<WispServer>> Start(const ServeOptions& options);
  ~WispServer();  // Stop()
  WispServer(const WispServer&) = delete;
  WispServer& operator=(const WispServer&) = delete;

  // Stops gracefully: replication and alarms first, then waiting clients,
  // the listeners and the actionloop processes. Idempotent.
  void Stop();

  // "http://BIND:PORT" (https with TLS) of the OpenWhisk and CouchDB ports.
  std::string api_url() const;
  std::string couch_url() const;
  // The guest namespace's UUID:KEY, for ~/.wskprops.
  const std::string& guest_key() const;
  const std::string& admin_name() const;
  const std::string& admin_password() const;
  // The routers of the OpenWhisk and CouchDB ports, for tests that walk
  // every route (tests/cli/authz_matrix_test.cc).
  const http::Router& api_router() const;
  const http::Router& couch_router() const;
  // The lines `wisp serve` prints once it is up: ports, admin, key.
  std::string Banner() const;
  // Evaluates the alert rules now (tests; the server also does it every
  // alert_interval_ms).
  void EvaluateAlerts();

 private:
  struct Parts;
  explicit WispServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// Runs the server until a termination signal. Returns the process exit code.
int RunServe(const ServeOptions& options);

}  // namespace wisp::cli
