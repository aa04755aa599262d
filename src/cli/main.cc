// The wisp binary: `wisp serve`, `wisp user`, `wisp replication status`, `wisp backup`/`restore`,
// `wisp store check`, `wisp export openwhisk`, the wsk-compatible client commands
// (property, action, activation, package, trigger, rule, namespace, list),
// `wisp deploy`/`undeploy` of wskdeploy manifests and `wisp demo`.
#include <CLI/CLI.hpp>

#include "cli/backup_command.h"
#include "cli/demo_command.h"
#include "cli/deploy_commands.h"
#include "cli/export_command.h"
#include "cli/replication_command.h"
#include "cli/serve_command.h"
#include "cli/sim_command.h"
#include "cli/store_command.h"
#include "cli/user_command.h"
#include "cli/wsk_commands.h"

#ifndef WISP_VERSION
#define WISP_VERSION "dev"
#endif

int main(int argc, char** argv) {
  CLI::App app{"wisp: serverless data pipelines on one machine, wire-compatible with OpenWhisk and CouchDB"};
  app.set_version_flag("--version", std::string("wisp ") + WISP_VERSION);
  app.require_subcommand(1);

  wisp::cli::WskCommands client_commands;
  wisp::cli::AddWskCommands(app, client_commands);
  wisp::cli::AddDeployCommands(app, client_commands);

  wisp::cli::ServeOptions serve_options;
  CLI::App* serve = wisp::cli::AddServeCommand(app, serve_options);
  wisp::cli::SimOptions sim_options;
  wisp::cli::AddSimCommand(app, sim_options);
  wisp::cli::DemoOptions demo_options;
  CLI::App* demo = wisp::cli::AddDemoCommand(app, demo_options);
  wisp::cli::UserOptions user_options;
  wisp::cli::AddUserCommand(app, user_options);
  wisp::cli::ReplicationOptions replication_options;
  wisp::cli::AddReplicationCommand(app, replication_options);
  wisp::cli::TransferOptions transfer_options;
  wisp::cli::AddBackupCommands(app, transfer_options);
  wisp::cli::StoreOptions store_options;
  CLI::App* store_check = wisp::cli::AddStoreCommand(app, store_options);
  wisp::cli::ExportOptions export_options;
  wisp::cli::AddExportCommands(app, export_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // wsk's exit code for bad arguments
  }
  if (serve->parsed()) return wisp::cli::RunServe(serve_options);
  if (demo->parsed()) return wisp::cli::RunDemo(demo_options);
  if (int code = wisp::cli::RunSimIfParsed(app, sim_options); code >= 0) return code;
  if (int code = wisp::cli::RunUserIfParsed(app, user_options); code >= 0) return code;
  if (int code = wisp::cli::RunReplicationIfParsed(replication_options); code >= 0) return code;
  if (int code = wisp::cli::RunBackupIfParsed(transfer_options); code >= 0) return code;
  if (store_check->parsed()) return wisp::cli::RunStoreCheck(store_options);
  if (int code = wisp::cli::RunExportIfParsed(app, export_options); code >= 0) return code;
  if (client_commands.run) return client_commands.run();
  return 0;
}
