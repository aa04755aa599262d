// QuestionStore: the few document operations the pipeline's actions need on
// the questions database, over the embedded store (in-process, no HTTP) or
// over a remote CouchDB (HTTP: the `store_url` parameter, or the external
// store of `wisp serve --store-url`, docs/scaling.md).
//
// A missing database is created on the first write, so a fresh deployment
// needs no setup. Conflicts come back as StatusCode::kConflict, so callers
// re-read and retry; other failures carry the store's reason.
//
// Thread-safety: both implementations may be used from several threads.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "http/client.h"
#include "json/json.h"
#include "store/remote_couch.h"
#include "store/store.h"
#include "util/result.h"

namespace wisp::stackoverflow {

class QuestionStore {
 public:
  virtual ~QuestionStore() = default;

  // The current document `id` (with `_rev`), or nullopt when it does not
  // exist or was deleted.
  virtual Result<std::optional<Json>> Get(const std::string& id) = 0;
  // Writes `doc` (`_id` set; `_rev` set to update). Conflict on a stale or
  // missing `_rev`. Returns the new revision. kOsBuffered lets the embedded
  // store return without an fsync: the write survives the process being
  // killed, and a power loss only until the next synced commit of the
  // database, which syncs it too (a remote CouchDB decides for itself).
  virtual Result<std::string> Put(Json doc, store::Durability durability = store::Durability::kSynced) = 0;
  // `_local/<name>` documents: not replicated, last write wins.
  virtual Result<std::optional<Json>> GetLocal(const std::string& name) = 0;
  virtual Status PutLocal(const std::string& name, const Json& doc) = 0;
};

// Where the questions live, as the package parameters say.
struct QuestionStoreConfig {
  std::string dbname = "questions";
  std::string url;  // empty: the embedded store
  std::string username;
  std::string password;
};

// The embedded store's database `dbname` (created when missing).
std::unique_ptr<QuestionStore> EmbeddedQuestionStore(store::Store& store, std::string dbname);

// Database `config.dbname` of the CouchDB at `config.url`, with basic
// authentication when a username is given. A URL that is not http(s) or
// carries credentials gives a store whose every call fails with
// InvalidArgument saying so.
std::unique_ptr<QuestionStore> RemoteQuestionStore(http::Client& http, const QuestionStoreConfig& config);

// Database `dbname` of `couch`, with its credentials (basic, cookie or JWT).
std::unique_ptr<QuestionStore> RemoteQuestionStore(std::shared_ptr<store::RemoteCouch> couch,
                                                   const std::string& dbname);

}  // namespace wisp::stackoverflow
