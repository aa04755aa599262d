#include "cli/sim_command.h"

#include <pthread.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "apps/stackoverflow/slack_sim.h"
#include "apps/stackoverflow/stackexchange_sim.h"
#include "cli/termination_signals.h"

namespace wisp::cli {

namespace {

void AddCommonFlags(CLI::App* cmd, SimOptions& o) {
  cmd->add_option("--port", o.port, "port to listen on (0: any free port)");
  cmd->add_option("--bind", o.bind, "address to listen on")->capture_default_str();
  cmd->add_option("--fault-script", o.fault_script, "JSON-lines fault script (docs/simulators.md)");
}

}  // namespace

void AddSimCommand(CLI::App& app, SimOptions& options) {
  CLI::App* sim = app.add_subcommand("sim", "run a simulator of a service the Stack Overflow pipeline uses");
  sim->require_subcommand(1);
  CLI::App* se = sim->add_subcommand("stackexchange", "the Stack Exchange API v2.3 (/2.3/questions, /2.3/search)");
  AddCommonFlags(se, options);
  se->add_option("--seed", options.seed, "seed of the generated world")->capture_default_str();
  se->add_option("--questions", options.questions, "questions in the initial world")->capture_default_str();
  se->add_option("--event-interval", options.event_interval_s, "mean seconds between world events")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  CLI::App* slack = sim->add_subcommand("slack", "Slack incoming webhooks (/services/...)");
  AddCommonFlags(slack, options);
}

int RunSimIfParsed(CLI::App& app, const SimOptions& o) {
  CLI::App* sim = app.get_subcommand("sim");
  if (!sim->parsed()) return -1;
  stackoverflow::FaultScript faults;
  if (!o.fault_script.empty()) {
    auto loaded = stackoverflow::FaultScript::Load(o.fault_script);
    if (!loaded.ok()) {
      std::fprintf(stderr, "wisp sim: %s\n", loaded.status().message().c_str());
      return 2;
    }
    faults = std::move(*loaded);
  }
  const sigset_t signals = BlockTerminationSignals();
  if (sim->get_subcommand("stackexchange")->parsed()) {
    stackoverflow::StackExchangeSimOptions options;
    options.seed = o.seed;
    options.initial_questions = o.questions;
    options.event_interval = std::chrono::seconds(o.event_interval_s);
    options.faults = std::move(faults);
    options.bind = o.bind;
    options.port = o.port;
    stackoverflow::StackExchangeSim server(Clock::System(), std::move(options));
    if (Status s = server.Start(); !s.ok()) {
      std::fprintf(stderr, "wisp sim stackexchange: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("Stack Exchange simulator listening on %s (admin: /admin/questions, /admin/activity)\n",
                server.base_url().c_str());
    std::fflush(stdout);
    WaitForTerminationSignal(signals);
    return 0;
  }
  stackoverflow::SlackSimOptions options;
  options.faults = std::move(faults);
  options.bind = o.bind;
  options.port = o.port;
  stackoverflow::SlackSim server(Clock::System(), std::move(options));
  if (Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "wisp sim slack: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("Slack simulator listening on http://%s:%u (webhook: %s, admin: /admin/messages)\n", o.bind.c_str(),
              server.port(), server.webhook_url().c_str());
  std::fflush(stdout);
  WaitForTerminationSignal(signals);
  return 0;
}

}  // namespace wisp::cli
