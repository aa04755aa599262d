// `wisp demo`: the Stack Overflow pipeline on one machine, in one process.
//
// It starts the server (as `wisp serve` does), the Stack Exchange and Slack
// simulators on their own loopback ports, deploys the pipeline's manifest
// (src/apps/stackoverflow/manifest.yaml, built into the binary) through the
// REST API with a fast schedule and the simulators' URLs, creates a
// dashboard user with the role `advocate`, prints where everything is, and
// runs until SIGINT or SIGTERM. Flags point the pipeline at the real Stack
// Exchange API and a real Slack webhook instead.
//
// Thread-safety: RunDemo() runs on the main thread and owns what it starts.
#pragma once

#include <cstdint>
#include <string>

#include "cli/serve_command.h"

namespace CLI {
class App;
}

namespace wisp::cli {

struct DemoOptions {
  ServeOptions serve;             // data dir, ports, logging of the embedded server
  std::string user;               // NAME:PASSWORD of the dashboard user; empty: advocate with a new password
  std::string manifest;           // empty: the built-in Stack Overflow manifest
  std::string stackexchange_url;  // empty: the simulator
  std::string apikey;             // Stack Exchange app key
  std::string slack_url;          // empty: the simulator's webhook
  std::string cron;   // every search trigger's schedule; empty: every 10 s on the simulator, 5 min on the real API
  uint64_t seed = 1;  // the Stack Exchange simulator's world
  int64_t event_interval_s = 20;  // mean seconds between new simulated events
};

// The text of src/apps/stackoverflow/manifest.yaml (generated at build time).
extern const char kStackoverflowManifest[];

// Registers `demo` and its flags on `app`.
CLI::App* AddDemoCommand(CLI::App& app, DemoOptions& options);

// Runs the demo until a termination signal; returns the exit code: 0 after a
// clean stop, 1 when something cannot start, the deploy's code when the
// manifest cannot be deployed, 2 for bad flags.
int RunDemo(const DemoOptions& options);

}  // namespace wisp::cli
