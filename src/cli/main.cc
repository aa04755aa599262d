// The wisp binary: `wisp serve` and, as later modules land, the wsk-style
// client commands.
#include <CLI/CLI.hpp>

#include "cli/serve_command.h"
#include "cli/sim_command.h"

#ifndef WISP_VERSION
#define WISP_VERSION "dev"
#endif

int main(int argc, char** argv) {
  CLI::App app{"wisp: serverless data pipelines on one machine, wire-compatible with OpenWhisk and CouchDB"};
  app.set_version_flag("--version", std::string("wisp ") + WISP_VERSION);
  app.require_subcommand(1);

  wisp::cli::ServeOptions serve_options;
  CLI::App* serve = wisp::cli::AddServeCommand(app, serve_options);
  wisp::cli::SimOptions sim_options;
  wisp::cli::AddSimCommand(app, sim_options);

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) return wisp::cli::RunServe(serve_options);
  if (int code = wisp::cli::RunSimIfParsed(app, sim_options); code >= 0) return code;
  return 0;
}
