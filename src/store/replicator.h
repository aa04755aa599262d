// Replication: one replication job's work, the PouchDB algorithm between two
// endpoints (store/replication_endpoint.h), with CouchDB's checkpoints.
//
// One Run() is one session: read the checkpoints of both ends, start from
// the newest sequence they agree on, then page through the source's changes
// (style=all_docs, `batch_size` at a time): _revs_diff on the target,
// fetch what is missing with its history and attachments, write it with
// new_edits=false, checkpoint. A one-shot session ends when a page comes
// back empty; a continuous one then waits for changes (a longpoll) until it
// is stopped. Retrying and scheduling belong to ReplicationManager
// (store/replication_manager.h). The protocol, the replication id and the
// checkpoint documents are described in docs/replication.md.
//
// Thread-safety: Run() is called by one thread at a time (the job's);
// Progress() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "json/json.h"
#include "store/replication_endpoint.h"
#include "util/result.h"

namespace wisp::http {
class Client;
}

namespace wisp::store {

class Store;

// Knobs of the replicator; tests make the waits short.
struct ReplicatorOptions {
  // The first wait after a transient failure; it doubles up to max_backoff.
  std::chrono::milliseconds initial_backoff{1'000};
  std::chrono::milliseconds max_backoff{60'000};
  // Transient failures in a row a one-shot job survives before it fails.
  // A continuous job retries for ever.
  int one_shot_retries = 5;
  // How long a continuous job's longpoll waits for a change.
  std::chrono::milliseconds poll_timeout{10'000};
  // One HTTP exchange with a remote endpoint.
  std::chrono::milliseconds request_timeout{60'000};
};

// What a replication request (a `/_replicate` body or a `_replicator`
// document) asks for.
struct ReplicationSpec {
  Json source;
  Json target;
  std::string source_description;  // no credentials
  std::string target_description;
  bool continuous = false;
  bool create_target = false;
  size_t batch_size = 100;
  std::optional<std::set<std::string>> doc_ids;
  std::optional<Json> selector;

  // Validates a request body. InvalidArgument with CouchDB's reason.
  static Result<ReplicationSpec> Parse(const Json& body);

  // The replication id: the MD5 (hex) of the server uuid, both endpoints
  // and the filter, so it is stable across restarts; the checkpoints are
  // `_local/<BaseId>`. FullId() adds CouchDB's "+continuous" and
  // "+create_target" suffixes.
  std::string BaseId(const std::string& server_uuid) const;
  std::string FullId(const std::string& server_uuid) const;
};

// Counters of one session, with CouchDB's names.
struct ReplicationStats {
  int64_t docs_read = 0;
  int64_t docs_written = 0;
  int64_t doc_write_failures = 0;
  int64_t missing_checked = 0;
  int64_t missing_found = 0;
};

struct ReplicationProgress {
  ReplicationStats stats;
  Json source_seq = 0;        // the newest source sequence seen
  Json through_seq = 0;       // everything up to here is written
  Json checkpointed_seq = 0;  // ... and recorded in the checkpoints
  // Changes of the source after through_seq, as its last page said; null
  // when the source does not say (pouchdb-server).
  Json pending = nullptr;
};

class Replication {
 public:
  Replication(ReplicationSpec spec, std::string server_uuid, Store& store, http::Client& client,
              ReplicatorOptions options);

  const ReplicationSpec& spec() const { return spec_; }
  const std::string& base_id() const { return base_id_; }

  // Runs one session. Returns CouchDB's `/_replicate` answer
  // ({ok, session_id, source_last_seq, history, ...}) when a one-shot
  // session has caught up. Fails with Cancelled when `stopped` turned true,
  // a transient code (IsTransient()) when the network or a peer failed,
  // Unauthenticated / PermissionDenied on a request-level 401 / 403, and
  // NotFound when a database is missing.
  Result<Json> Run(const StopFlag& stopped);

  ReplicationProgress Progress() const;

 private:
  Result<Json> RunSession(Endpoint& source, Endpoint& target, const StopFlag& stopped);
  Status Checkpoint(Endpoint& source, Endpoint& target, const Json& seq);
  Json HistoryEntry(const Json& seq) const;

  const ReplicationSpec spec_;
  const std::string base_id_;
  Store& store_;
  http::Client& client_;
  const ReplicatorOptions options_;

  // The session in progress (Run()'s thread only).
  std::string session_id_;
  std::string session_start_;
  Json start_seq_ = 0;
  Json history_ = Json::array();  // the checkpoint history read at the start
  bool source_checkpoints_ = true;

  mutable std::mutex mu_;
  ReplicationProgress progress_;  // GUARDED_BY(mu_)
};

}  // namespace wisp::store
