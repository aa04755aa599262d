// `wisp replication status`: the replication jobs of a running wisp, as its
// `/_scheduler/docs` says, one line each: the `_replicator` document (jobs
// from `serve --replications` are `wisp-config:NAME:push|pull`), its state
// (initializing, running, crashing, completed, failed), the last
// checkpointed source sequence, documents written in the current session,
// changes pending (when the source says), and the last error. `--json`
// prints the server's answer instead.
//
// It talks to the CouchDB port as the server admin, like `wisp user`.
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace wisp::cli {

struct ReplicationOptions {
  bool status = false;  // the subcommand `status` was given
  bool json = false;
  std::string url = "http://127.0.0.1:5984";
  std::string admin;  // NAME:PASSWORD; empty: DATA/admin.json
  std::string data_dir = "./wisp-data";
};

void AddReplicationCommand(CLI::App& app, ReplicationOptions& options);

// -1 when `replication` was not on the command line; else the exit code
// (0 printed, 1 the server failed, 2 bad arguments).
int RunReplicationIfParsed(const ReplicationOptions& options);

}  // namespace wisp::cli
