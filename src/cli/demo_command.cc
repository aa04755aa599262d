#include "cli/demo_command.h"

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "apps/stackoverflow/slack_sim.h"
#include "apps/stackoverflow/stackexchange_sim.h"
#include "cli/deployer.h"
#include "cli/manifest.h"
#include "cli/termination_signals.h"
#include "cli/wsk_client.h"
#include "http/client.h"
#include "util/base64.h"
#include "util/ids.h"
#include "util/log.h"

namespace wisp::cli {

namespace {

constexpr char kDefaultUser[] = "advocate";
constexpr char kDashboardRole[] = "advocate";

// Creates the dashboard user in `_users`, or resets its password and role
// when it exists (a second demo on the same data dir).
Status EnsureDashboardUser(const WispServer& server, const std::string& name, const std::string& password) {
  http::Client client;
  const std::string url = server.couch_url() + "/_users/" + UrlEncode("org.couchdb.user:" + name);
  http::ClientRequest request;
  request.url = url;
  request.headers.Set("Authorization", "Basic " + Base64Encode(server.admin_name() + ":" + server.admin_password()));
  request.headers.Set("Content-Type", "application/json");
  Json doc = {{"_id", "org.couchdb.user:" + name},
              {"name", name},
              {"type", "user"},
              {"roles", Json::array({kDashboardRole})},
              {"password", password}};
  for (int attempt = 0; attempt < 3; ++attempt) {
    request.method = "GET";
    request.body.clear();
    WISP_ASSIGN_OR_RETURN(http::ClientResponse existing, client.Send(request));
    if (existing.status == 200) {
      Result<Json> old = json::ParseObject(existing.body);
      if (old.ok()) doc["_rev"] = json::GetString(*old, "_rev");
    }
    request.method = "PUT";
    request.body = json::Dump(doc);
    WISP_ASSIGN_OR_RETURN(http::ClientResponse put, client.Send(request));
    if (put.status == 201 || put.status == 202) return Status::Ok();
    if (put.status != 409) {
      return Status::Internal("cannot create the dashboard user: HTTP " + std::to_string(put.status) + " " + put.body);
    }
  }
  return Status::Conflict("cannot create the dashboard user: its document keeps changing");
}

// The manifest's variables: the demo's own first, then the environment.
EnvLookup DemoEnvironment(std::map<std::string, std::string> overrides) {
  EnvLookup process = ProcessEnvironment();
  return [overrides = std::move(overrides), process](const std::string& name) -> std::optional<std::string> {
    if (auto it = overrides.find(name); it != overrides.end()) return it->second;
    return process(name);
  };
}

}  // namespace

CLI::App* AddDemoCommand(CLI::App& app, DemoOptions& o) {
  o.serve.data_dir = "./wisp-demo-data";
  // Every question is three activations (qhandler, storer, notifier): the
  // standalone defaults of 60 a minute and 30 at once would make the first
  // polls queue behind the throttle.
  o.serve.invocations_per_minute = 100'000;
  o.serve.concurrent_invocations = 200;
  CLI::App* demo = app.add_subcommand(
      "demo", "Run the Stack Overflow pipeline on one machine: server, simulators, deployed manifest, dashboard user");
  demo->add_option("--data-dir", o.serve.data_dir, "Directory for the server's state (created if missing)")
      ->capture_default_str();
  demo->add_option("--api-port", o.serve.api_port, "OpenWhisk API and dashboard port (0 picks a free one)")
      ->capture_default_str();
  demo->add_option("--couch-port", o.serve.couch_port, "CouchDB API port (0 picks a free one)")->capture_default_str();
  demo->add_option("--max-feeds", o.serve.max_feeds,
                   "Waiting _changes feeds at once (a thread each); more get 503")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  demo->add_option("--invocations-per-minute", o.serve.invocations_per_minute,
                   "Action invocations per namespace and minute; more get 429")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  demo->add_option("--user", o.user, "Dashboard user as NAME:PASSWORD (default: advocate with a new random password)");
  demo->add_option("--manifest", o.manifest, "Deploy this wskdeploy manifest instead of the built-in one");
  demo->add_option("--stackexchange-url", o.stackexchange_url,
                   "Use this Stack Exchange API (e.g. https://api.stackexchange.com/2.3) instead of the simulator");
  demo->add_option("--apikey", o.apikey, "Stack Exchange app key (a larger daily quota)");
  demo->add_option("--slack-url", o.slack_url, "Post to this Slack incoming webhook instead of the simulator");
  demo->add_option("--cron", o.cron,
                   "Schedule of every search, 5 fields or 6 with seconds first (default: */10 * * * * * on the "
                   "simulator, */5 * * * * on the real API, whose daily quota is small)");
  demo->add_option("--seed", o.seed, "Seed of the simulated Stack Exchange world")->capture_default_str();
  demo->add_option("--event-interval", o.event_interval_s, "Mean seconds between simulated Stack Exchange events")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  demo->add_option("--log-file", o.serve.log_file, "Log lines (default: DATA/wisp.log; - for standard output)");
  demo->add_option("--log-level", o.serve.log_level, "LEVEL[,MODULE=LEVEL...], as for wisp serve")
      ->capture_default_str();
  demo->add_option("--log-format", o.serve.log_format, "json, text, or auto (text on a terminal)")->capture_default_str();
  demo->add_option("--activation-retention", o.serve.activation_retention,
                   "Delete activation records older than this, e.g. 1d (default: keep them)");
  AddExternalStoreOptions(*demo, o.serve);
  return demo;
}

int RunDemo(const DemoOptions& o) {
  std::string user = kDefaultUser;
  std::string password;
  if (!o.user.empty()) {
    const size_t colon = o.user.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == o.user.size()) {
      std::fprintf(stderr, "wisp demo: --user must be NAME:PASSWORD\n");
      return 2;
    }
    user = o.user.substr(0, colon);
    password = o.user.substr(colon + 1);
  } else {
    password = RandomSecret(12);
  }

  ServeOptions serve = o.serve;
  std::error_code ec;
  std::filesystem::create_directories(serve.data_dir, ec);
  if (serve.log_file.empty()) serve.log_file = (std::filesystem::path(serve.data_dir) / "wisp.log").string();
  if (Status s = ConfigureLogging(serve); !s.ok()) {
    std::fprintf(stderr, "wisp demo: %s\n", s.message().c_str());
    return s.IsInvalidArgument() ? 2 : 1;
  }

  const sigset_t signals = BlockTerminationSignals();
  Result<std::unique_ptr<WispServer>> server = WispServer::Start(serve);
  if (!server.ok()) {
    std::fprintf(stderr, "wisp demo: %s\n", server.status().message().c_str());
    return server.status().IsInvalidArgument() ? 2 : 1;
  }

  // The simulators, unless real services were named.
  std::unique_ptr<stackoverflow::StackExchangeSim> stackexchange;
  std::string stackexchange_url = o.stackexchange_url;
  if (stackexchange_url.empty()) {
    stackoverflow::StackExchangeSimOptions options;
    options.seed = o.seed;
    options.event_interval = std::chrono::seconds(o.event_interval_s);
    // Three searches every 10 s would spend the real API's anonymous daily
    // quota (300) in minutes; the demo is meant to run for hours.
    options.quota_anonymous = 100'000;
    stackexchange = std::make_unique<stackoverflow::StackExchangeSim>(Clock::System(), std::move(options));
    if (Status s = stackexchange->Start(); !s.ok()) {
      std::fprintf(stderr, "wisp demo: cannot start the Stack Exchange simulator: %s\n", s.ToString().c_str());
      return 1;
    }
    stackexchange_url = stackexchange->base_url();
  }
  std::unique_ptr<stackoverflow::SlackSim> slack;
  std::string slack_url = o.slack_url;
  if (slack_url.empty()) {
    slack = std::make_unique<stackoverflow::SlackSim>(Clock::System(), stackoverflow::SlackSimOptions{});
    if (Status s = slack->Start(); !s.ok()) {
      std::fprintf(stderr, "wisp demo: cannot start the Slack simulator: %s\n", s.ToString().c_str());
      return 1;
    }
    slack_url = slack->webhook_url();
  }

  // The pipeline, through the REST API as `wisp deploy` sends it.
  WskConfig config;
  config.apihost = (*server)->api_url();
  config.auth = (*server)->guest_key();
  config.namespace_ = "_";
  WskClient client(config);
  const std::string cron = !o.cron.empty() ? o.cron : stackexchange ? "*/10 * * * * *" : "*/5 * * * *";
  const EnvLookup env = DemoEnvironment(
      {{"SO_API_URL", stackexchange_url}, {"SO_API_KEY", o.apikey}, {"SLACK_URL", slack_url}, {"SO_CRON", cron}});
  Result<Manifest> manifest = o.manifest.empty()
                                  ? ParseManifest(kStackoverflowManifest, ".", "manifest.yaml (built in)", env)
                                  : LoadManifest(o.manifest, env);
  if (!manifest.ok()) {
    std::fprintf(stderr, "wisp demo: %s\n", manifest.status().message().c_str());
    return 2;
  }
  std::printf("wisp demo: deploying %s\n", o.manifest.empty() ? "the Stack Overflow pipeline" : o.manifest.c_str());
  Deployer deployer(client, stdout, stderr);
  if (int code = deployer.Deploy(*manifest); code != 0) {
    std::fprintf(stderr, "wisp demo: the manifest could not be deployed; stopping\n");
    return code;
  }
  if (Status s = EnsureDashboardUser(**server, user, password); !s.ok()) {
    std::fprintf(stderr, "wisp demo: %s\n", s.message().c_str());
    return 1;
  }

  const std::string api = (*server)->api_url();
  std::printf("\nwisp demo is running: every search runs on the schedule %s\n", cron.c_str());
  std::printf("  Dashboard       %s/  (user %s, password %s)\n", api.c_str(), user.c_str(), password.c_str());
  std::printf("  OpenWhisk API   %s  (AUTH=%s)\n", api.c_str(), (*server)->guest_key().c_str());
  std::printf("  CouchDB API     %s/  (admin %s:%s)\n", (*server)->couch_url().c_str(), (*server)->admin_name().c_str(),
              (*server)->admin_password().c_str());
  if (!serve.store_url.empty()) {
    std::printf("  External store  %s (auth %s): questions and events\n", serve.store_url.c_str(),
                serve.store_auth.c_str());
  }
  std::printf("  Stack Exchange  %s%s\n", stackexchange_url.c_str(),
              stackexchange ? "  (simulator; its questions: /admin/questions)" : "");
  std::printf("  Slack webhook   %s%s\n", slack_url.c_str(),
              slack ? "  (simulator; what was posted: /admin/messages)" : "");
  std::printf("  data dir        %s  (log: %s)\n", serve.data_dir.c_str(), serve.log_file.c_str());
  std::printf("Watch the pipeline work:\n  wisp activation list --apihost %s --auth %s\n", api.c_str(),
              (*server)->guest_key().c_str());
  std::printf("Ctrl-C stops everything.\n");
  std::fflush(stdout);

  const int signal = WaitForTerminationSignal(signals);
  log::Info("cli", "demo shutting down", {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
  // Stop() ends the fires, but a poll already under way goes on in the
  // invoker pool until the controller goes, and its collectors and notifiers
  // call the simulators: against stopped ones each would sleep through its
  // retries (15 s a notifier). So the server goes, draining that work, first.
  (*server)->Stop();
  server->reset();
  if (slack) slack->Stop();
  if (stackexchange) stackexchange->Stop();
  std::printf("wisp demo stopped.\n");
  return 0;
}

}  // namespace wisp::cli
