// Endpoint: one side of a replication, either a database of this server
// (called through the Database API, no HTTP) or a remote CouchDB-compatible
// database reached over HTTP with the libcurl client.
//
// The replicator (store/replicator.h) sees both through the same small
// interface, which is exactly the protocol of docs/replication.md: changes,
// revs_diff, fetching revisions with their history and attachments, writing
// them with new_edits=false, and _local checkpoints.
//
// Errors are Status codes with one meaning each for the replicator:
// Unavailable, DeadlineExceeded, IoError and ResourceExhausted are transient
// (connection refused, 5xx, timeouts, 429) and retried; Unauthenticated (401)
// and PermissionDenied (403) stop the job; NotFound is a missing database;
// Cancelled means the caller's stop flag was raised during a wait.
//
// Thread-safety: an Endpoint is used by one replication job at a time; the
// `stopped` callbacks may be called from that job's thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "json/json.h"
#include "util/result.h"

namespace wisp::http {
class Client;
}

namespace wisp::store {

class Store;

// True while the job that asks should keep going.
using StopFlag = std::function<bool()>;

// True for the codes a replicator retries with backoff.
bool IsTransient(const Status& status);

struct ChangesRequest {
  Json since = 0;  // an integer for wisp and pouchdb-server, an opaque string for CouchDB 2+
  size_t limit = 100;
  std::optional<std::set<std::string>> doc_ids;  // filter=_doc_ids
  std::optional<Json> selector;                  // filter=_selector
  // When the page would be empty: wait up to this long for a change (a
  // longpoll) instead of answering at once.
  std::optional<std::chrono::milliseconds> wait;
};

struct ChangesBatch {
  Json results = Json::array();  // [{seq, id, changes:[{rev}], deleted?}]
  Json last_seq = 0;
  // Changes after this page, when the source says (wisp and CouchDB do).
  std::optional<int64_t> pending;
};

// A per-document failure of a write: CouchDB's {id, rev?, error, reason}.
struct DocWriteError {
  std::string id;
  std::string error;
  std::string reason;
};

class Endpoint {
 public:
  virtual ~Endpoint() = default;

  // What the endpoint is, without credentials: the database name for a
  // local one, the URL for a remote one. Part of the replication id, and
  // what /_scheduler and /_active_tasks show.
  virtual std::string Describe() const = 0;

  // Checks that the database exists, creating it when `create` is set.
  // NotFound when it does not exist (and may not be created).
  virtual Status Open(bool create) = 0;

  // GET /{db}: doc_count, doc_del_count, update_seq, ... (after Open()).
  virtual Result<Json> Info() = 0;

  // One page of changes in style=all_docs. Cancelled when `stopped` turns
  // true during a wait.
  virtual Result<ChangesBatch> Changes(const ChangesRequest& request, const StopFlag& stopped) = 0;

  // POST _revs_diff: {"id": [revs]} -> {"id": {"missing": [...]}}.
  virtual Result<Json> RevsDiff(const Json& request) = 0;

  // The given revisions of each document, each with _revisions and its
  // attachments inline (latest=true: a rev that was extended since gives
  // its leaf). Revisions the endpoint no longer has are left out.
  virtual Result<std::vector<Json>> FetchRevisions(
      const std::vector<std::pair<std::string, std::vector<std::string>>>& wanted) = 0;

  // POST _bulk_docs with new_edits=false. The per-document failures.
  virtual Result<std::vector<DocWriteError>> WriteRevisions(std::vector<Json> docs) = 0;

  // A _local document by its id without the prefix; nullopt when missing.
  virtual Result<std::optional<Json>> GetCheckpoint(const std::string& id) = 0;
  // Writes it (a remote one needs the current _rev in `doc`; a 409 is
  // answered with Conflict so that the caller re-reads).
  virtual Status PutCheckpoint(const std::string& id, Json doc) = 0;
};

// How an endpoint is written in a request: a local database name, a URL
// (`http://user:pass@host:port/db`), or {url, headers, auth: {basic:
// {username, password}}}. InvalidArgument with CouchDB's reason otherwise.
// A URL without a scheme is a local database name. `client` is used by
// remote endpoints and must outlive them.
Result<std::unique_ptr<Endpoint>> MakeEndpoint(const Json& spec, Store& store, http::Client& client,
                                               std::chrono::milliseconds request_timeout);

// A remote endpoint only (`spec` must hold a URL), for tools that have no
// Store of their own, such as `wisp backup` (store/backup.h).
Result<std::unique_ptr<Endpoint>> MakeRemoteEndpoint(const Json& spec, http::Client& client,
                                                     std::chrono::milliseconds request_timeout);

// The description MakeEndpoint()'s endpoint would give, without opening
// anything: the database name, or the URL with its credentials removed.
Result<std::string> DescribeEndpoint(const Json& spec);

}  // namespace wisp::store
