#include "cli/serve_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <cstdlib>
#include <iterator>
#include <pthread.h>

#include "apps/stackoverflow/actions.h"
#include "apps/stackoverflow/pipeline_metrics.h"
#include "cli/alerts.h"
#include "cli/dashboard.h"
#include "cli/replication_config.h"
#include "cli/termination_signals.h"
#include "http/client.h"
#include "http/health_routes.h"
#include "http/router.h"
#include "json/json.h"
#include "store/couch_api.h"
#include "store/couch_auth.h"
#include "store/couch_error.h"
#include "store/jwt.h"
#include "store/remote_couch.h"
#include "store/replication_manager.h"
#include "store/store.h"
#include "store/store_metrics.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/private_file.h"
#include "whisk/alarms.h"
#include "whisk/builtin_runtime.h"
#include "whisk/controller.h"
#include "whisk/cpp_runtime.h"
#include "whisk/error_response.h"
#include "whisk/identity.h"
#include "whisk/language_runtime.h"
#include "whisk/native_runtime.h"
#include "whisk/sandbox.h"
#include "whisk/whisk_api.h"

#ifndef WISP_VERSION
#define WISP_VERSION "dev"
#endif

namespace wisp::cli {
namespace {

// Lets only the CouchDB server admin through (Basic, a session cookie from
// /_session, or a JWT with the role _admin); anyone else gets OpenWhisk's 401.
// /metrics names every route, namespace and action, so it is the operator's.
http::AccessCheck ServerAdminOnly(std::shared_ptr<store::CouchAuth> auth) {
  return [auth = std::move(auth)](const http::Request& request) -> std::optional<http::Response> {
    if (!auth->enabled()) return std::nullopt;
    const store::Identity who = auth->Identify(request);
    if (who.admin()) return std::nullopt;
    if (who.kind == store::Identity::Kind::kAnonymous) return whisk::ErrorResponse(401, whisk::kNoAuthText, request);
    return whisk::ErrorResponse(401, "Only the server admin may read this resource.", request);
  };
}

std::shared_ptr<http::Router> ApiRouter(const MetricsRegistry& metrics, whisk::Controller& controller,
                                        const whisk::Identities& identities,
                                        std::shared_ptr<store::CouchAuth> couch_auth) {
  auto router = std::make_shared<http::Router>();
  http::AddPingRoute(*router);
  http::AddMetricsRoute(*router, metrics, ServerAdminOnly(std::move(couch_auth)));
  whisk::WhiskApiOptions whisk_api;
  whisk_api.build = WISP_VERSION;
  whisk::AddWhiskRoutes(*router, controller, identities, whisk_api);
  return router;
}

// The newest activations of every namespace wisp knows, newest first, with
// their logs; only the failed ones (any status but success) when asked.
Json RecentActivations(whisk::Controller& controller, const whisk::Identities& identities, bool failed_only,
                       size_t limit) {
  std::vector<Json> found;
  for (const std::string& ns : {std::string("guest"), std::string(whisk::kSystemNamespace)}) {
    Result<whisk::Identity> owner = identities.Find(ns);
    if (!owner.ok()) continue;
    whisk::ActivationQuery query;
    query.limit = failed_only ? 200 : limit;
    Result<Json> list = controller.ListActivations(*owner, ns, query, /*docs=*/true, /*count=*/false);
    if (!list.ok()) continue;
    for (Json& record : *list) {
      const std::string status = json::GetString(record.value("response", Json::object()), "status", "success");
      if (!failed_only || status != "success") found.push_back(std::move(record));
    }
  }
  std::sort(found.begin(), found.end(),
            [](const Json& a, const Json& b) { return a.value("start", int64_t{0}) > b.value("start", int64_t{0}); });
  if (found.size() > limit) found.resize(limit);
  Json out = Json::array();
  for (Json& record : found) out.push_back(std::move(record));
  return out;
}

// The CouchDB port's router, and the authenticator its routes share.
std::shared_ptr<http::Router> CouchRouter(store::Store& store, const store::CouchApiOptions& options,
                                          std::shared_ptr<store::CouchAuth>& auth) {
  auto router = std::make_shared<http::Router>();
  // CouchDB's health check: open to anonymous callers, like `GET /`.
  router->Get("/_up", [](http::Request&) { return http::Response::Json(200, R"({"status":"ok","seeds":{}})"); },
              http::Dispatch::kInline);
  auth = store::AddCouchRoutes(*router, store, options);
  return router;
}

constexpr char kAdminFile[] = "admin.json";
constexpr char kDefaultAdminName[] = "admin";

// The CouchDB admin: from --admin NAME:PASSWORD, else from DATA/admin.json,
// else a new random password written there (mode 0600) for the next start.
Status ResolveAdmin(const ServeOptions& o, store::CouchApiOptions& out, std::string& source) {
  if (!o.admin.empty()) {
    const size_t colon = o.admin.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == o.admin.size()) {
      return Status::InvalidArgument("--admin must be NAME:PASSWORD");
    }
    out.admin_name = o.admin.substr(0, colon);
    out.admin_password = o.admin.substr(colon + 1);
    source = "from --admin";
    return Status::Ok();
  }
  const std::filesystem::path path = std::filesystem::path(o.data_dir) / kAdminFile;
  source = "stored in " + path.string();
  WISP_RETURN_IF_ERROR(KeepPrivate(path.string()));
  if (std::ifstream in(path); in) {
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Result<Json> admin = json::ParseObject(text);
    if (!admin.ok()) return Status::InvalidArgument(path.string() + ": " + admin.status().message());
    out.admin_name = json::GetString(*admin, "name");
    out.admin_password = json::GetString(*admin, "password");
    if (out.admin_name.empty() || out.admin_password.empty()) {
      return Status::InvalidArgument(path.string() + ": needs \"name\" and \"password\"");
    }
    return Status::Ok();
  }
  out.admin_name = kDefaultAdminName;
  out.admin_password = RandomSecret(24);
  const std::string text = json::Dump(Json{{"name", out.admin_name}, {"password", out.admin_password}}) + "\n";
  return WritePrivateFile(path.string(), text);
}

// A `--jwt-rsa-key` value: FILE for tokens without a kid, or KID:FILE.
Status AddRsaKeyFile(store::JwtOptions& jwt, const std::string& spec) {
  std::string kid;
  std::string file = spec;
  const size_t colon = spec.find(':');
  if (!std::filesystem::exists(spec) && colon != std::string::npos) {
    kid = spec.substr(0, colon);
    file = spec.substr(colon + 1);
  }
  std::ifstream in(file);
  if (!in) return Status::InvalidArgument("--jwt-rsa-key: cannot read " + file);
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (Status s = store::AddJwtRsaKey(jwt, kid, pem); !s.ok()) {
    return Status::InvalidArgument("--jwt-rsa-key " + file + ": " + s.message());
  }
  return Status::Ok();
}

// A duration flag in milliseconds; at least 1.
// The key that signs session cookies, kept in DATA/session_secret so that
// sessions outlive a restart (store/couch_auth.h); made on first start.
Result<std::string> SessionSecret(const std::string& data_dir) {
  const std::filesystem::path path = std::filesystem::path(data_dir) / "session_secret";
  std::ifstream in(path);
  std::string secret;
  if (in && std::getline(in, secret) && secret.size() >= 32) return secret;
  secret = RandomSecret(48);
  if (Status s = WritePrivateFile(path.string(), secret + "\n"); !s.ok()) return s;
  return secret;
}

void AddTimeoutOption(CLI::App& app, const std::string& name, std::chrono::milliseconds& target,
                      const std::string& help) {
  app.add_option_function<int64_t>(
         name, [&target](int64_t ms) { target = std::chrono::milliseconds(ms); }, help)
      ->check(CLI::PositiveNumber)
      ->default_str(std::to_string(target.count()));
}

// A limit flag: a positive count, shown with its default in --help.
template <typename T>
void AddLimitOption(CLI::App& app, const std::string& name, T& target, const std::string& help) {
  app.add_option(name, target, help)->check(CLI::PositiveNumber)->capture_default_str();
}

// The OpenWhisk and CouchDB limits beyond the HTTP ones, each with the
// answer a caller gets past it (docs/security.md "Limits").
void AddSizeLimitOptions(CLI::App& serve, ServeOptions& o) {
  AddLimitOption(serve, "--fires-per-minute", o.fires_per_minute,
                 "Trigger fires per namespace and minute; more get 429");
  AddLimitOption(serve, "--sequence-max-length", o.sequence_max_length,
                 "Atomic actions one sequence may run; a longer one gets 400");
  AddLimitOption(serve, "--max-payload-bytes", o.max_payload_bytes,
                 "Largest invoke, trigger fire or web action body; larger gets 413");
  AddLimitOption(serve, "--max-parameter-bytes", o.max_parameter_bytes,
                 "Largest parameters of an action, package or trigger; larger gets 413");
  AddLimitOption(serve, "--max-code-bytes", o.max_code_bytes, "Largest action code; larger gets 413");
  AddLimitOption(serve, "--max-result-bytes", o.max_result_bytes,
                 "Largest action result; a larger one makes the activation an application error");
  AddLimitOption(serve, "--max-attachment-bytes", o.max_attachment_bytes,
                 "Largest CouchDB attachment; larger gets 413 attachment_too_large");
  AddLimitOption(serve, "--max-bulk-docs-count", o.max_bulk_docs_count,
                 "Documents in one _bulk_docs request; more get 413");
  AddLimitOption(serve, "--max-bulk-get-count", o.max_bulk_get_count, "Entries in one _bulk_get request; more get 413");
  AddLimitOption(serve, "--max-feeds", o.max_feeds,
                 "Waiting _changes feeds (longpoll, continuous, eventsource) at once, one thread each; more get 503");
}

// The sandbox of `--sandbox` (auto, on, off). Without one, actions still get
// their memory limit, but see everything wisp's user sees; the warning says so.
Result<std::shared_ptr<const whisk::Sandbox>> StartSandbox(const std::string& mode) {
  const whisk::Sandbox::Options options;
  if (mode == "off") {
    log::Warn("whisk", "the action sandbox is off (--sandbox=off): actions run as wisp's user and can read its data",
              {{"docs", "docs/security.md#sandbox"}});
    return std::make_shared<const whisk::Sandbox>(whisk::Sandbox::Disabled("--sandbox=off", options));
  }
  auto sandbox = std::make_shared<const whisk::Sandbox>(whisk::Sandbox::Probe(options));
  if (sandbox->active()) {
    log::Info("whisk", "actions run in a bubblewrap sandbox", {{"bwrap", options.bwrap}});
  } else if (mode == "on") {
    return Status::InvalidArgument("--sandbox=on, but the sandbox does not work: " + sandbox->unavailable_reason());
  } else {
    log::Warn("whisk",
              "the action sandbox is unavailable: actions run as wisp's user, can read its data directory and "
              "are not isolated from each other (only their memory is limited)",
              {{"reason", sandbox->unavailable_reason()}, {"docs", "docs/security.md#sandbox"}});
  }
  return sandbox;
}

// The password or token for --store-url: the first line of
// --store-secret-file, else $WISP_STORE_SECRET.
Result<std::string> StoreSecret(const ServeOptions& o) {
  if (o.store_secret_file.empty()) {
    const char* env = std::getenv("WISP_STORE_SECRET");
    return std::string(env ? env : "");
  }
  std::ifstream in(o.store_secret_file);
  if (!in) return Status::InvalidArgument("--store-secret-file: cannot read " + o.store_secret_file);
  std::string secret;
  std::getline(in, secret);
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
  return secret;
}

Result<store::RemoteCouchOptions> ExternalStoreOptions(const ServeOptions& o) {
  store::RemoteCouchOptions remote;
  remote.url = o.store_url;
  Result<store::RemoteAuth> auth = store::ParseRemoteAuth(o.store_auth);
  if (!auth.ok()) return Status::InvalidArgument("--store-auth: " + auth.status().message());
  remote.auth = *auth;
  remote.username = o.store_user;
  WISP_ASSIGN_OR_RETURN(remote.secret, StoreSecret(o));
  return remote;
}

// The external store of --store-url, with `questions` and `events` created
// there when missing. A store that refuses wisp's credentials stops the
// start (exit 1); one that cannot be reached only gets a warning: the
// pipeline's next poll and the dashboard's next sync try again.
Result<std::shared_ptr<store::RemoteCouch>> ConnectExternalStore(const ServeOptions& o, http::Client& client) {
  WISP_ASSIGN_OR_RETURN(store::RemoteCouchOptions options, ExternalStoreOptions(o));
  Result<std::shared_ptr<store::RemoteCouch>> couch = store::RemoteCouch::Create(client, std::move(options));
  if (!couch.ok()) return Status::InvalidArgument("--store-url: " + couch.status().message());
  for (const char* db : {kQuestionsDb, kEventsDb}) {
    // A member of an existing database may read it but not PUT it (CouchDB
    // answers 401, "not a server admin"): ask first, create only when missing.
    http::ClientRequest exists;
    exists.url = std::string("/") + db;
    Result<http::ClientResponse> r = (*couch)->Send(std::move(exists));
    if (r.ok() && r->status == 200) continue;
    if (r.ok() && r->status == 404) {
      http::ClientRequest create;
      create.method = "PUT";
      create.url = std::string("/") + db;
      r = (*couch)->Send(std::move(create));
    }
    if (!r.ok()) {
      log::Warn("cli", "the external store cannot be reached; the pipeline and the dashboard will retry",
                {{"store", (*couch)->url()}, {"error", r.status().message()}});
      break;
    }
    if (r->status == 401 || r->status == 403) {
      Result<Json> body = json::ParseObject(r->body);
      return Status::Unauthenticated("the external store " + (*couch)->url() + " refused wisp's credentials: " +
                                     (body.ok() ? json::GetString(*body, "reason") : r->body));
    }
    if (r->status != 201 && r->status != 202 && r->status != 412) {
      return Status::Unavailable("the external store " + (*couch)->url() + " cannot create " + db + ": HTTP " +
                                 std::to_string(r->status));
    }
  }
  log::Info("cli", "questions and events live in an external store", {{"store", (*couch)->Describe()}});
  return *couch;
}

// Turns --replications FILE into `_replicator` documents (before the
// manager starts, which then runs them).
Status ApplyReplicationsFile(const ServeOptions& o, store::Store& store) {
  std::ifstream in(o.replications);
  if (!in) return Status::InvalidArgument("--replications: cannot read " + o.replications);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::optional<store::RemoteCouchOptions> credentials;
  if (!o.store_url.empty()) {
    WISP_ASSIGN_OR_RETURN(credentials, ExternalStoreOptions(o));
  }
  Result<std::vector<std::pair<std::string, Json>>> wanted =
      ParseReplicationConfig(text, credentials ? &*credentials : nullptr);
  if (!wanted.ok()) return Status::InvalidArgument("--replications " + o.replications + ": " + wanted.status().message());
  if (Status s = ApplyReplicationConfig(store, *wanted); !s.ok()) {
    return Status::Internal("--replications: " + s.message());
  }
  return Status::Ok();
}

// The replication jobs in /metrics, one child per `_replicator` document
// (docs/observability.md).
void AddReplicationMetrics(MetricsRegistry& metrics, store::ReplicationManager& replication) {
  using Values = MetricsRegistry::LabelledValues;
  auto each_doc = [&replication](const std::function<void(const std::string&, const Json&)>& fn) {
    const Json docs = replication.SchedulerDocs().value("docs", Json::array());
    for (const Json& doc : docs) fn(json::GetString(doc, "doc_id"), doc);
  };
  metrics.AddCallbackGaugeFamily(
      "wisp_replication_docs_written", "Documents the replication job wrote to its target in its current session.",
      {"job"}, [each_doc] {
        Values out;
        each_doc([&](const std::string& job, const Json& doc) {
          const Json info = doc.value("info", Json::object());
          out.push_back({{job}, static_cast<double>(info.is_object() ? json::GetInt(info, "docs_written") : 0)});
        });
        return out;
      });
  metrics.AddCallbackGaugeFamily(
      "wisp_replication_pending_changes", "Changes of the source the replication job has not read yet.", {"job"},
      [each_doc] {
        Values out;
        each_doc([&](const std::string& job, const Json& doc) {
          const Json info = doc.value("info", Json::object());
          out.push_back({{job}, static_cast<double>(info.is_object() ? json::GetInt(info, "changes_pending") : 0)});
        });
        return out;
      });
  metrics.AddCallbackGaugeFamily(
      "wisp_replication_state",
      "1 for the state each replication job is in (initializing, running, crashing, completed, failed), else 0.",
      {"job", "state"}, [each_doc] {
        Values out;
        each_doc([&](const std::string& job, const Json& doc) {
          const std::string state = json::GetString(doc, "state");
          for (const char* s : {"initializing", "running", "crashing", "completed", "failed"}) {
            out.push_back({{job, s}, state == s ? 1.0 : 0.0});
          }
        });
        return out;
      });
}

}  // namespace

CLI::App* AddServeCommand(CLI::App& app, ServeOptions& o) {
  CLI::App* serve = app.add_subcommand("serve", "Run the server: the OpenWhisk port and the CouchDB port");
  serve->add_option("--data-dir", o.data_dir, "Directory for the server's state (created if missing)")->capture_default_str();
  serve->add_option("--bind", o.bind, "Address both ports listen on")->capture_default_str();
  serve->add_option("--api-port", o.api_port, "OpenWhisk API port (0 picks a free one)")->capture_default_str();
  serve->add_option("--couch-port", o.couch_port, "CouchDB API port (0 picks a free one)")->capture_default_str();
  serve->add_option("--tls-cert", o.tls_cert, "PEM certificate chain: serve HTTPS on both ports");
  serve->add_option("--tls-key", o.tls_key, "PEM private key for --tls-cert");
  serve->add_flag("--https-redirect", o.https_redirect,
                  "With --tls-cert: answer plain HTTP on either port with a redirect to the same URL over https "
                  "(default: a 400 naming the https URL)");
  serve->add_option("--cors-origin", o.cors_origins,
                    "Origin allowed to call the CouchDB port with credentials (repeatable; * for any)");
  serve->add_option("--admin", o.admin,
                    "CouchDB server admin as NAME:PASSWORD (default: admin with a password kept in DATA/admin.json)");
  serve->add_option("--jwt-key", o.jwt_keys,
                    "CouchDB JWT auth: an HS256/384/512 secret as BASE64, or KID:BASE64 (repeatable)");
  serve->add_option("--jwt-rsa-key", o.jwt_rsa_keys,
                    "CouchDB JWT auth: an RS256/384/512 public key as a PEM FILE, or KID:FILE (repeatable)");
  serve->add_option("--jwt-issuer", o.jwt_issuer, "When set, a JWT's iss claim must equal it");
  serve->add_option("--jwt-audience", o.jwt_audience, "When set, a JWT's aud claim must name it");
  serve->add_option("--jwt-roles-claim-path", o.jwt_roles_claim_path,
                    "Dotted path of the roles in a JWT's claims")
      ->capture_default_str();
  serve->add_option("--jwt-required-claims", o.jwt_required_claims, "Claims every JWT must have")
      ->delimiter(',')
      ->capture_default_str();
  serve->add_option("--max-document-bytes", o.max_document_bytes, "Largest CouchDB document; larger gets 413")
      ->capture_default_str();
  serve->add_option("--io-threads", o.io_threads, "Network threads (0: one per core)")->capture_default_str();
  serve->add_option("--worker-threads", o.worker_threads, "Threads for blocking handlers")->capture_default_str();
  serve->add_option("--max-body-bytes", o.limits.max_body_bytes, "Largest request body; larger gets 413")
      ->capture_default_str();
  serve->add_option("--max-header-bytes", o.limits.max_header_bytes, "Largest request header; larger gets 431")
      ->capture_default_str();
  serve->add_option("--max-connections", o.limits.max_connections, "Open connections per port; more get 503")
      ->capture_default_str();
  AddTimeoutOption(*serve, "--header-timeout-ms", o.limits.header_timeout,
                   "Time a client has, once it starts a request, to send the whole header");
  AddTimeoutOption(*serve, "--body-timeout-ms", o.limits.body_timeout, "Time a client has to send a request body");
  AddTimeoutOption(*serve, "--idle-timeout-ms", o.limits.idle_timeout, "Idle keep-alive connections close after this");
  AddTimeoutOption(*serve, "--write-timeout-ms", o.limits.write_timeout,
                   "Time each write to a client may take before the connection is dropped");
  serve->add_option("--guest-key", o.guest_key,
                    "The guest namespace's key as UUID:KEY (default: generated once, kept in DATA/whisk_auth.json)");
  serve->add_flag("--dev", o.dev, "Use OpenWhisk standalone's well-known guest and whisk.system keys");
  serve->add_option("--invocations-per-minute", o.invocations_per_minute,
                    "Action invocations per namespace and minute; more get 429")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_option("--concurrent-invocations", o.concurrent_invocations,
                    "Activations in flight per namespace; more get 429")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  AddSizeLimitOptions(*serve, o);
  serve->add_option("--native-idle-timeout-ms", o.native_idle_timeout_ms,
                    "A warm actionloop process idle this long is stopped (scale to zero)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_option("--native-max-processes", o.native_max_processes,
                    "Actionloop processes alive at once, over all actions")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_option("--public-url", o.public_url,
                    "The dashboard's public address, for Slack sign-in links (default: from the request's Host)");
  serve->add_option("--slack-signing-secret", o.slack_signing_secret,
                    "Slack app signing secret: turns on Slack sign-in at POST /slack")
      ->envname("WISP_SLACK_SIGNING_SECRET");
  serve->add_option("--slack-team-id", o.slack_team_ids, "A Slack workspace (team_id) that may sign in (repeatable)");
  serve->add_option("--slack-link-seconds", o.slack_link_seconds, "How long a Slack sign-in link stays valid")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  serve->add_option("--web-root", o.web_root,
                    "Serve the dashboard from this directory (e.g. web/) instead of the copy built into wisp");
  serve
      ->add_option("--stem-cells", o.stem_cells,
                   "Prewarmed interpreter processes per kind, e.g. nodejs:20=2,python:3=1 (0 for none)")
      ->capture_default_str();
  serve->add_option("--alert-rules", o.alert_rules,
                    "YAML alert rules (docs/observability.md); default: the shipped rules");
  serve->add_option("--alert-slack", o.alert_slack_url, "Slack incoming webhook that alerts are posted to");
  serve->add_option("--alert-webhook", o.alert_webhook_url, "URL that alerts are POSTed to as JSON");
  serve
      ->add_option("--metrics", o.metrics,
                   "Count the metrics of /metrics and evaluate the alerts (off: the page has only the process "
                   "gauges; for measuring their cost, bench/invoke.sh)")
      ->capture_default_str();
  serve->add_option("--alert-interval-ms", o.alert_interval_ms, "How often the alert rules are evaluated")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve
      ->add_option("--log-level", o.log_level,
                   "LEVEL[,MODULE=LEVEL...]: trace, debug, info, warn, error or off, for every module or one "
                   "(util, http, store, whisk, alarms, stackoverflow, cli), e.g. info,store=debug,http=warn")
      ->capture_default_str();
  serve->add_option("--log-file", o.log_file, "Write log lines to this file instead of standard error (- for standard output)");
  serve->add_option("--log-format", o.log_format,
                    "json (one object per line), text, or auto: text when the log goes to a terminal, else json")
      ->capture_default_str();
  serve->add_option("--activation-retention", o.activation_retention,
                    "Delete activation records older than this, e.g. 7d, 12h (default: keep them)");
  serve
      ->add_option("--sandbox", o.sandbox,
                   "Run native, nodejs, python and cpp actions under bubblewrap: auto (when it works), on, off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  serve
      ->add_option("--sandbox-network", o.sandbox_network,
                   "Give actions network (on); off cuts every action off, also from wisp's API")
      ->capture_default_str();
  AddExternalStoreOptions(*serve, o);
  return serve;
}

void AddExternalStoreOptions(CLI::App& command, ServeOptions& o) {
  command.add_option("--store-url", o.store_url,
                     "A CouchDB-compatible server that holds questions and events instead of the embedded store "
                     "(the pipeline writes there; the dashboard's /db/questions and /db/events reach it through wisp)");
  command.add_option("--store-auth", o.store_auth, "How wisp signs in to --store-url: none, basic, cookie or jwt")
      ->check(CLI::IsMember({"none", "basic", "cookie", "jwt"}))
      ->capture_default_str();
  command.add_option("--store-user", o.store_user, "The user name for --store-auth basic or cookie");
  command.add_option("--store-secret-file", o.store_secret_file,
                     "A file whose first line is the password (basic, cookie) or the token (jwt); "
                     "default: the environment variable WISP_STORE_SECRET");
  command.add_option("--replications", o.replications,
                     "A JSON file of continuous replications to run (docs/replication.md)");
}

struct WispServer::Parts {
  // First, so that it outlives every part that holds its metrics.
  MetricsRegistry metrics;
  std::unique_ptr<store::StoreMetrics> store_metrics;
  std::unique_ptr<stackoverflow::PipelineMetrics> pipeline_metrics;
  ServeOptions options;
  store::CouchApiOptions couch_api;
  std::string admin_source;
  whisk::WhiskKeys keys;
  whisk::Identities identities;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::ReplicationManager> replication;
  whisk::BuiltinRuntime builtin_runtime;
  http::Client pipeline_http;  // the pipeline's calls out: Stack Exchange, Slack, a remote CouchDB
  http::Client store_http;     // the external store's calls (pipeline and dashboard)
  std::shared_ptr<store::RemoteCouch> external_store;  // --store-url, or null
  // What the pipeline's actions hold on to; declared before the controller so
  // that it outlives every activation.
  std::unique_ptr<stackoverflow::PipelineServices> pipeline;
  std::unique_ptr<whisk::NativeRuntime> native_runtime;
  std::unique_ptr<whisk::CppRuntime> cpp_runtime;  // builds cpp actions, runs them on native_runtime
  std::unique_ptr<whisk::Controller> controller;
  std::unique_ptr<whisk::AlarmScheduler> alarms;
  http::Client alerts_http;  // notifications of alerts
  std::unique_ptr<AlertManager> alerts;
  std::unique_ptr<http::Server> server;
  std::shared_ptr<const http::Router> api_router;
  std::shared_ptr<const http::Router> couch_router;
  size_t api_index = 0;
  size_t couch_index = 0;
  bool stopped = false;

  std::string Url(size_t listener) const {
    return std::string(options.tls_cert.empty() ? "http" : "https") + "://" + options.bind + ":" +
           std::to_string(server->port(listener));
  }
};

WispServer::WispServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

WispServer::~WispServer() { Stop(); }

std::string WispServer::api_url() const { return parts_->Url(parts_->api_index); }
std::string WispServer::couch_url() const { return parts_->Url(parts_->couch_index); }
const std::string& WispServer::guest_key() const { return parts_->keys.guest; }
const std::string& WispServer::admin_name() const { return parts_->couch_api.admin_name; }
const std::string& WispServer::admin_password() const { return parts_->couch_api.admin_password; }
const http::Router& WispServer::api_router() const { return *parts_->api_router; }
const http::Router& WispServer::couch_router() const { return *parts_->couch_router; }

std::string WispServer::Banner() const {
  const Parts& p = *parts_;
  return std::string("wisp ") + WISP_VERSION + " serving\n  OpenWhisk API  " + api_url() +
         "  (ping: /ping, metrics: /metrics)\n  CouchDB API    " + couch_url() + "/\n  CouchDB admin  " +
         p.couch_api.admin_name + ":" + p.couch_api.admin_password + " (" + p.admin_source + ")\n  data dir       " +
         p.options.data_dir + "\n" +
         (p.external_store ? "  external store " + p.external_store->Describe() + "\n" : std::string()) +
         "  OpenWhisk key  guest (" + p.keys.source + "); for ~/.wskprops:\nAPIHOST=" +
         api_url() + "\nAUTH=" + p.keys.guest + "\n";
}

Result<std::unique_ptr<WispServer>> WispServer::Start(const ServeOptions& o) {
  auto parts = std::make_unique<Parts>();
  Parts& p = *parts;
  p.options = o;
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return Status::InvalidArgument("--tls-cert and --tls-key go together");
  }
  if (o.https_redirect && o.tls_cert.empty()) {
    return Status::InvalidArgument("--https-redirect needs --tls-cert and --tls-key");
  }
  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) return Status::IoError("cannot create data dir " + o.data_dir + ": " + ec.message());
  // It holds keys, passwords and every database: wisp's user only.
  std::filesystem::permissions(o.data_dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace,
                               ec);
  if (ec) log::Warn("cli", "cannot make the data directory private", {{"dir", o.data_dir}, {"error", ec.message()}});

  store::CouchApiOptions& couch_api = p.couch_api;
  WISP_RETURN_IF_ERROR(ResolveAdmin(o, couch_api, p.admin_source));
  for (const std::string& key : o.jwt_keys) {
    if (Status s = store::AddJwtKey(couch_api.jwt, key); !s.ok()) {
      return Status::InvalidArgument("--jwt-key: " + s.message());
    }
  }
  for (const std::string& spec : o.jwt_rsa_keys) {
    WISP_RETURN_IF_ERROR(AddRsaKeyFile(couch_api.jwt, spec));
  }
  couch_api.jwt.issuer = o.jwt_issuer;
  couch_api.jwt.audience = o.jwt_audience;
  couch_api.jwt.roles_claim_path = o.jwt_roles_claim_path;
  couch_api.jwt.required_claims = o.jwt_required_claims;
  couch_api.max_bulk_docs_count = o.max_bulk_docs_count;
  couch_api.max_bulk_get_count = o.max_bulk_get_count;
  couch_api.feed_threads = o.max_feeds;

  WISP_ASSIGN_OR_RETURN(p.keys, whisk::ResolveWhiskKeys(o.data_dir, o.guest_key, o.dev));
  whisk::Identities& identities = p.identities;
  if (Status s = identities.Add("guest", "guest", p.keys.guest); !s.ok()) return Status::InvalidArgument(s.message());
  if (Status s = identities.Add(std::string(whisk::kSystemNamespace), std::string(whisk::kSystemNamespace),
                                p.keys.system);
      !s.ok()) {
    return Status::InvalidArgument(s.message());
  }

  if (o.metrics) {
    p.store_metrics = std::make_unique<store::StoreMetrics>(p.metrics);
    p.pipeline_metrics = std::make_unique<stackoverflow::PipelineMetrics>(p.metrics);
  }
  store::DatabaseOptions db_options;
  db_options.max_document_bytes = o.max_document_bytes;
  db_options.max_attachment_bytes = o.max_attachment_bytes;
  db_options.metrics = p.store_metrics.get();
  Result<std::unique_ptr<store::Store>> store = store::Store::Open(o.data_dir, db_options);
  if (!store.ok()) {
    return Status::IoError("cannot open the store in " + o.data_dir + ": " + store.status().ToString());
  }
  p.store = std::move(*store);
  if (p.store_metrics) p.store_metrics->WatchDatabases(*p.store);

  // One authenticator for the CouchDB routes, Slack sign-in and /ops, so a
  // session issued by any of them is valid for all.
  Result<std::string> session_secret = SessionSecret(o.data_dir);
  if (!session_secret.ok()) return session_secret.status();
  couch_api.auth = std::make_shared<store::CouchAuth>(
      *p.store, store::CouchAuthOptions{couch_api.admin_name, couch_api.admin_password, couch_api.jwt, nullptr,
                                        *session_secret});
  if (Status s = EnsureDashboardDatabases(*p.store); !s.ok()) {
    return Status::Internal("cannot create the dashboard's databases: " + s.ToString());
  }

  if (!o.store_url.empty()) {
    WISP_ASSIGN_OR_RETURN(p.external_store, ConnectExternalStore(o, p.store_http));
  }

  // Replication jobs: `/_replicate`, and the `_replicator` database once the
  // ports are up (a job may replicate through this server's own port).
  p.replication = std::make_unique<store::ReplicationManager>(*p.store);
  couch_api.replication = p.replication.get();
  if (!o.replications.empty()) {
    WISP_RETURN_IF_ERROR(ApplyReplicationsFile(o, *p.store));
  }

  whisk::BuiltinRuntime& builtin_runtime = p.builtin_runtime;
  whisk::RegisterUtilsCatalog(builtin_runtime);
  whisk::ControllerOptions controller_options;
  controller_options.invocations_per_minute = o.invocations_per_minute;
  controller_options.concurrent_invocations = o.concurrent_invocations;
  controller_options.fires_per_minute = o.fires_per_minute;
  controller_options.sequence_max_length = o.sequence_max_length;
  controller_options.max_payload_bytes = o.max_payload_bytes;
  controller_options.max_parameter_bytes = o.max_parameter_bytes;
  controller_options.max_code_bytes = o.max_code_bytes;
  controller_options.max_result_bytes = o.max_result_bytes;
  controller_options.bounds.max_instances = o.concurrent_invocations;
  controller_options.metrics = o.metrics ? &p.metrics : nullptr;
  if (!o.activation_retention.empty()) {
    Result<std::chrono::milliseconds> retention = ParseDuration(o.activation_retention);
    if (!retention.ok() || retention->count() == 0) {
      return Status::InvalidArgument("--activation-retention: " + (retention.ok() ? std::string("must not be 0")
                                                                                   : retention.status().message()));
    }
    controller_options.activation_retention = *retention;
  }
  controller_options.action_network = o.sandbox_network;
  whisk::NativeRuntime::Options native_options;
  native_options.scratch_dir = std::filesystem::absolute(std::filesystem::path(o.data_dir) / "native").string();
  native_options.idle_timeout = std::chrono::milliseconds(o.native_idle_timeout_ms);
  native_options.max_processes = o.native_max_processes;
  native_options.max_result_bytes = o.max_result_bytes;
  WISP_ASSIGN_OR_RETURN(native_options.sandbox, StartSandbox(o.sandbox));
  // Interpreted kinds run in the native runtime's pools (docs/runtimes.md).
  Result<std::map<std::string, std::shared_ptr<whisk::Language>>> languages = whisk::CreateLanguages(
      o.stem_cells, native_options.scratch_dir + "/launchers", native_options.sandbox,
      whisk::NativeRuntime::CodeRoot(native_options.scratch_dir), o.sandbox_network, o.max_result_bytes);
  if (!languages.ok()) return Status::InvalidArgument(languages.status().message());
  native_options.languages = *languages;
  Result<std::unique_ptr<whisk::NativeRuntime>> native_runtime = whisk::NativeRuntime::Create(native_options);
  if (!native_runtime.ok()) {
    return Status::Internal("cannot start the native runtime: " + native_runtime.status().ToString());
  }
  p.native_runtime = std::move(*native_runtime);
  p.controller = std::make_unique<whisk::Controller>(*p.store, controller_options);
  whisk::Controller& controller = *p.controller;
  controller.SetRuntime("builtin", &builtin_runtime);
  controller.SetRuntime("native", p.native_runtime.get());
  for (const auto& [kind, language] : *languages) controller.SetRuntime(kind, p.native_runtime.get());
  whisk::CppRuntime::Options cpp_options;
  cpp_options.cache_dir = native_options.scratch_dir + "/cpp";
  Result<std::unique_ptr<whisk::CppRuntime>> cpp_runtime =
      whisk::CppRuntime::Create(cpp_options, p.native_runtime.get());
  if (!cpp_runtime.ok()) return Status::Internal("cannot start the cpp runtime: " + cpp_runtime.status().ToString());
  p.cpp_runtime = std::move(*cpp_runtime);
  controller.SetRuntime("cpp", p.cpp_runtime.get());
  controller.SetCodeCheck("cpp", [cpp = p.cpp_runtime.get()](const std::string& code, bool binary) -> Status {
    if (binary) return Status::InvalidArgument("A cpp action's code is C++ source text, not base64.");
    Result<std::string> built = cpp->Build(code);
    return built.ok() ? Status::Ok() : built.status();
  });
  controller.SetBuiltinNames(whisk::UtilsCatalogNames());
  p.alarms = std::make_unique<whisk::AlarmScheduler>(*p.store, Clock::System(),
                                                     whisk::AlarmFirePath(controller, identities));
  whisk::AlarmScheduler& alarms = *p.alarms;
  whisk::InstallAlarmsCatalog(builtin_runtime, controller, alarms);
  p.pipeline.reset(new stackoverflow::PipelineServices{
      .store = p.store.get(),
      .invoke_handler = stackoverflow::InvokeThroughController(
          controller, [&p](const std::string& ns) { return p.identities.Find(ns); }),
      .http = p.pipeline_http,
      .clock = Clock::System(),
      .sleep = {},
      .slack_sleep = {},
      .metrics = p.pipeline_metrics.get(),
      .external_store = p.external_store,
      .claim_notifications = false});  // one process: the webhook lock is enough
  stackoverflow::InstallStackoverflowCatalog(builtin_runtime, controller, *p.pipeline);
  if (Status s = controller.Start(); !s.ok()) {
    return Status::Internal("cannot start the OpenWhisk controller: " + s.ToString());
  }
  if (Status s = alarms.Start(); !s.ok()) {
    return Status::Internal("cannot start the alarms scheduler: " + s.ToString());
  }

  MetricsRegistry& metrics = p.metrics;
  const auto started = Clock::System().SteadyNow();
  const double start_time = static_cast<double>(Clock::System().NowMillis()) / 1000.0;
  metrics.AddCallbackGauge("wisp_uptime_seconds", "Seconds since this wisp process started.", [started] {
    return std::chrono::duration<double>(Clock::System().SteadyNow() - started).count();
  });
  metrics.AddCallbackGauge("process_start_time_seconds", "Start time of the process since the Unix epoch.",
                           [start_time] { return start_time; });
  metrics.AddGauge("wisp_build_info", "Always 1; the labels say which build runs.", {"version"})
      .WithLabels({WISP_VERSION})
      .Set(1);
  if (o.metrics) AddReplicationMetrics(metrics, *p.replication);

  std::vector<AlertRule> rules;
  if (o.alert_rules.empty()) {
    WISP_ASSIGN_OR_RETURN(rules, ParseAlertRules(kDefaultAlertRules));
  } else {
    Result<std::vector<AlertRule>> loaded = LoadAlertRules(o.alert_rules);
    if (!loaded.ok()) return Status::InvalidArgument("--alert-rules: " + loaded.status().message());
    rules = std::move(*loaded);
  }
  WISP_ASSIGN_OR_RETURN(p.alerts, AlertManager::Create(std::move(rules),
                                                       {.slack_url = o.alert_slack_url, .webhook_url = o.alert_webhook_url},
                                                       metrics, Clock::System(), p.alerts_http));

  http::ServerOptions server_options;
  server_options.io_threads = o.io_threads;
  server_options.worker_threads = o.worker_threads;
  server_options.metrics = o.metrics ? &metrics : nullptr;
  p.server = std::make_unique<http::Server>(server_options);
  http::Server& server = *p.server;

  http::ListenerOptions api;
  api.name = "api";
  api.bind = o.bind;
  api.port = o.api_port;
  api.tls_cert_file = o.tls_cert;
  api.tls_key_file = o.tls_key;
  api.https_redirect = o.https_redirect;
  api.limits = o.limits;
  std::shared_ptr<store::CouchAuth> couch_auth;
  std::shared_ptr<http::Router> couch_router = CouchRouter(*p.store, couch_api, couch_auth);
  {
    std::shared_ptr<http::Router> api_router = ApiRouter(metrics, controller, identities, couch_auth);
    AddAlertRoutes(*api_router, *p.alerts, identities);
    // The dashboard at / and the store under /db, on this port's origin (cli/dashboard.h).
    DashboardOptions dashboard;
    dashboard.couch = couch_router;
    dashboard.web_root = o.web_root;
    dashboard.auth = couch_api.auth;
    dashboard.slack = std::make_shared<store::SlackLogin>(
        *p.store, store::SlackLoginOptions{o.slack_signing_secret, o.slack_team_ids, nullptr,
                                           std::chrono::seconds(o.slack_link_seconds)});
    dashboard.public_url = o.public_url;
    dashboard.metrics_text = [&metrics] { return metrics.Render(); };
    dashboard.recent_activations = [&p](bool failed_only, size_t limit) {
      return RecentActivations(*p.controller, p.identities, failed_only, limit);
    };
    dashboard.alerts = [&p] { return p.alerts->State(); };
    dashboard.replications = [&p] { return p.replication->SchedulerDocs(); };
    dashboard.external_store = p.external_store;
    AddDashboardRoutes(*api_router, std::move(dashboard));
    p.api_router = api_router;
    api.router = std::move(api_router);
  }
  p.couch_router = couch_router;
  api.render_error = whisk::RenderWhiskError;
  // OpenWhisk answers every origin with "*" and no credentials (spec openwhisk.md §1.1).
  api.cors.enabled = true;
  api.cors.origins = {"*"};
  api.cors.credentials = false;
  api.cors.methods = "GET, DELETE, POST, PUT, HEAD";
  api.cors.allowed_headers = {"authorization", "origin", "x-requested-with", "content-type", "accept", "user-agent",
                              "x-request-id"};
  p.api_index = server.AddListener(std::move(api));

  http::ListenerOptions couch;
  couch.name = "couch";
  couch.bind = o.bind;
  couch.port = o.couch_port;
  couch.tls_cert_file = o.tls_cert;
  couch.tls_key_file = o.tls_key;
  couch.https_redirect = o.https_redirect;
  couch.limits = o.limits;
  couch.router = couch_router;
  couch.render_error = store::RenderCouchError;
  // PouchDB sends credentials on every request, so allowed origins are echoed (spec couchdb.md §4).
  couch.cors.enabled = !o.cors_origins.empty();
  couch.cors.origins = o.cors_origins;
  couch.cors.credentials = true;
  couch.cors.methods = "GET, PUT, POST, HEAD, DELETE, COPY, OPTIONS";
  // CouchDB's default allow-list (spec couchdb.md §4), so PouchDB's preflights pass.
  couch.cors.allowed_headers = {"accept", "accept-language", "authorization", "content-length", "content-range",
                                "content-type", "destination", "expires", "if-match", "if-none-match",
                                "last-modified", "origin", "pragma", "referer", "x-couch-full-commit", "x-couch-id",
                                "x-couch-persist", "x-couchdb-www-authenticate", "x-http-method-override",
                                "x-requested-with", "x-couchdb-vhost-path", "x-request-id"};
  couch.cors.exposed_headers = "accept-ranges, cache-control, content-type, etag, server, x-couch-request-id, "
                               "x-couch-update-newrev, x-request-id";
  p.couch_index = server.AddListener(std::move(couch));

  // From here on the destructor's Stop() unwinds whatever has started.
  std::unique_ptr<WispServer> running(new WispServer(std::move(parts)));
  if (Status s = server.Start(); !s.ok()) {
    log::Error("cli", "cannot start", {{"error", s.message()}});
    return s;
  }
  if (Status s = running->parts_->replication->Start(); !s.ok()) {
    log::Error("cli", "cannot start the replicator", {{"error", s.message()}});
  }
  controller.SetApiHost(running->api_url());
  // Without metrics every rule would see nothing (and "no successful poll" would fire).
  if (o.metrics) running->parts_->alerts->Start(std::chrono::milliseconds(o.alert_interval_ms));
  return running;
}

void WispServer::EvaluateAlerts() { parts_->alerts->Evaluate(); }

void WispServer::Stop() {
  Parts& p = *parts_;
  if (p.stopped) return;
  p.stopped = true;
  p.alerts->Stop();
  // Jobs first: a one-shot `/_replicate` request waits for its job, so the
  // server's handlers can only finish once the jobs have stopped.
  p.replication->Stop();
  p.alarms->Stop();  // no new fires during shutdown

  // Blocking invokes that still wait answer 202 at once, completing their
  // deferred responses, so server.Stop() need not wait its grace for them;
  // then the actionloop processes go, so activations still queued fail fast
  // instead of holding the controller's shutdown.
  p.controller->StopWaiting();
  p.server->Stop();
  p.native_runtime->Shutdown();
}

// --log-format auto: text for a person at a terminal, where the banner and
// its APIHOST= and AUTH= lines must stand out; JSON lines for a file or a
// pipe, which is where aggregators read them.
std::string LogFormatFor(const ServeOptions& o) {
  if (o.log_format != "auto") return o.log_format;
  const int fd = o.log_file.empty() ? STDERR_FILENO : o.log_file == "-" ? STDOUT_FILENO : -1;
  return fd >= 0 && isatty(fd) ? "text" : "json";
}

Status ConfigureLogging(const ServeOptions& o) {
  log::Options log_options;
  if (Status s = log::ParseLevelSpec(o.log_level, &log_options); !s.ok()) {
    return Status::InvalidArgument("--log-level: " + s.message());
  }
  if (!log::ParseFormat(LogFormatFor(o), &log_options.format)) {
    return Status::InvalidArgument("--log-format: '" + o.log_format + "' is not json, text or auto");
  }
  log_options.file = o.log_file;
  return log::Configure(log_options);
}

int RunServe(const ServeOptions& o) {
  if (Status s = ConfigureLogging(o); !s.ok()) {
    std::fprintf(stderr, "wisp serve: %s\n", s.message().c_str());
    return s.IsInvalidArgument() ? 2 : 1;
  }
  const sigset_t signals = BlockTerminationSignals();
  Result<std::unique_ptr<WispServer>> server = WispServer::Start(o);
  if (!server.ok()) {
    std::fprintf(stderr, "wisp serve: %s\n", server.status().message().c_str());
    return server.status().IsInvalidArgument() ? 2 : 1;
  }
  std::printf("%s", (*server)->Banner().c_str());
  std::fflush(stdout);

  const int signal = WaitForTerminationSignal(signals);
  log::Info("cli", "shutting down", {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
  (*server)->Stop();
  return 0;
}

}  // namespace wisp::cli
