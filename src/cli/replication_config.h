// Replications declared in a file (`wisp serve --replications FILE`):
// continuous replication between embedded databases and a remote
// CouchDB-compatible server, as configuration rather than as requests.
//
// The file is JSON (docs/replication.md, "Replications as configuration"):
//
//   {"replications": [
//     {"name": "questions-offsite", "local": "questions",
//      "remote": "https://couch.example/questions",     // or {url, headers, auth} as in _replicator
//      "direction": "both",                              // push, pull or both
//      "selector": {"type": "question"}, "doc_ids": ["a", "b"],   // optional filters
//      "credentials": "store",                           // optional: --store-* credentials
//      "create_target": true}]}
//
// Each entry becomes one `_replicator` document per direction, with the id
// `wisp-config:<name>:push` or `...:pull`, so the ReplicationManager runs
// them as it runs any `_replicator` job: continuously, resuming from
// checkpoints after a restart of either side, retrying a remote outage with
// backoff. Applying the same file twice changes nothing (the jobs keep
// running, with their checkpoints); an entry that was removed from the file
// has its documents deleted, which stops its jobs; a changed entry has its
// documents rewritten, which restarts them.
//
// Thread-safety: Apply() from one thread, before or after the manager starts.
#pragma once

#include <string>
#include <vector>

#include "json/json.h"
#include "store/remote_couch.h"
#include "store/store.h"
#include "util/result.h"

namespace wisp::cli {

inline constexpr char kConfigReplicationPrefix[] = "wisp-config:";

// The `_replicator` documents a file asks for, by id. `store_credentials`
// fills entries with "credentials": "store" (basic, or a JWT as a bearer
// header; cookie sessions are sent as basic, which every CouchDB accepts).
// InvalidArgument naming the entry and field for a malformed file.
Result<std::vector<std::pair<std::string, Json>>> ParseReplicationConfig(const std::string& text,
                                                                          const store::RemoteCouchOptions* store_credentials);

// Makes `_replicator` hold exactly `wanted` among its `wisp-config:`
// documents: writes new and changed ones, deletes the others, leaves equal
// ones alone. Creates `_replicator` and the local databases when missing.
Status ApplyReplicationConfig(store::Store& store, const std::vector<std::pair<std::string, Json>>& wanted);

}  // namespace wisp::cli
