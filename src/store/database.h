// Database: one CouchDB-compatible database, stored in one SQLite file.
//
// Documents keep a revision tree (store/rev_tree.h); the winning revision is
// what reads return, and the other leaves are conflicts. Every change of a
// document moves it to a new position in the changes index, so `_changes`
// lists each document once, at its latest sequence number. Sequence numbers
// are integers that only grow.
//
// Writes go through one writer at a time with group commit: a request that
// arrives while another commits waits, and the next commit takes every
// request that queued meanwhile in one transaction, under one fsync. When a
// write call returns, its data is durable (synchronous=FULL by default).
// Reads use their own connections and never wait for writers (WAL mode).
//
// The file format is described in docs/store_format.md.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "json/json.h"
#include "store/mango.h"
#include "store/mango_index.h"
#include "util/result.h"

namespace wisp::store {

class StoreMetrics;

struct DatabaseOptions {
  // fsync at every commit (SQLite synchronous=FULL). Off only for benchmarks
  // that say so.
  bool durable = true;
  size_t max_document_bytes = 8'000'000;
  // Largest attachment, decoded (CouchDB's max_attachment_size, 1 GiB);
  // larger fails with PayloadTooLarge("<name>") and "attachment_too_large".
  size_t max_attachment_bytes = 1024 * 1024 * 1024;
  // Counts and times every call (store_metrics.h); null: none. It must
  // outlive the database.
  StoreMetrics* metrics = nullptr;
  // How long a read or write waits for a lock that another connection (a
  // backup, `wisp store check`, the sqlite3 shell) holds before it fails.
  std::chrono::milliseconds busy_timeout{10'000};
};

// When a write call may return. kSynced: after the commit's fsync, so the
// write survives a power loss (every CouchDB-facing write). kOsBuffered: after
// the commit reached the operating system, so it survives wisp being killed
// but not a power loss until a later synced commit or checkpoint carries it;
// for records that are re-creatable or, like OpenWhisk's activation records,
// written without waiting in the original. Both are visible to every read as
// soon as the call returns.
enum class Durability { kSynced, kOsBuffered };

// The outcome of writing one document: the new rev, or why it failed.
struct WriteResult {
  std::string id;
  std::string rev;   // empty on failure
  Status status;     // kConflict -> 409, kInvalidArgument -> 400, ...
  // CouchDB's error name when it is not derived from the status
  // ("missing_stub", "doc_validation", "illegal_docid").
  std::string error;
};

struct GetOptions {
  std::optional<std::string> rev;  // a specific revision instead of the winner
  bool revs = false;               // add _revisions
  bool revs_info = false;          // add _revs_info
  bool conflicts = false;          // add _conflicts
  bool deleted_conflicts = false;  // add _deleted_conflicts
  bool attachments = false;        // inline attachment data (base64) instead of stubs
  bool latest = false;             // with rev: return the leaf that descends from it
  bool local_seq = false;          // add _local_seq
  // Inline the data of attachments newer than these revisions (those whose
  // revpos is above the generation of the first of them on the document's
  // path); older ones stay stubs. CouchDB's replicator sends what
  // _revs_diff called possible_ancestors.
  std::optional<std::vector<std::string>> atts_since;
  // Add encoding and encoded_length to attachments stored compressed. wisp
  // stores every attachment as it came, so there is nothing to add.
  bool att_encoding_info = false;
};

struct ChangesOptions {
  int64_t since = 0;
  size_t limit = SIZE_MAX;
  bool descending = false;
  bool include_docs = false;
  bool all_docs_style = false;     // style=all_docs: every leaf, not only the winner
  bool conflicts = false;          // with include_docs: add _conflicts
  std::optional<std::set<std::string>> doc_ids;  // filter=_doc_ids
  // filter=_selector and similar: called with the winning doc body.
  std::function<bool(const Json& doc)> filter;
};

struct ChangesPage {
  Json results = Json::array();    // [{seq, id, changes:[{rev}], deleted?, doc?}]
  int64_t last_seq = 0;
  int64_t pending = 0;             // changes after last_seq
  // Not ok when reading failed part way (a lock held past the busy timeout,
  // an I/O error). results and last_seq then stop before the failure, so a
  // caller that goes on from last_seq skips nothing.
  Status status;
};

// One answer of Database::OpenRevsText(): a document, or the revision that
// is missing.
struct OpenRevText {
  std::string doc;      // JSON text; empty when missing
  std::string missing;  // the revision asked for that is not there
};

struct AllDocsOptions {
  std::optional<std::string> startkey;
  std::optional<std::string> endkey;
  bool inclusive_end = true;
  bool descending = false;
  size_t limit = SIZE_MAX;
  size_t skip = 0;
  bool include_docs = false;
  bool conflicts = false;
  bool update_seq = false;
  std::optional<std::vector<std::string>> keys;  // rows in this order, misses as errors
};

struct Attachment {
  std::string content_type;
  std::string data;                // decoded bytes
  std::string digest;              // "md5-<base64>"
  int64_t revpos = 0;
};

// A parsed Mango query (POST /{db}/_find).
struct FindOptions {
  Selector selector;
  std::vector<SortField> sort;
  size_t limit = 25;
  size_t skip = 0;
  bool conflicts = false;              // add _conflicts to the documents
  std::vector<std::string> use_index;  // as ParseUseIndex() gives it
};

// What a query cost, as _find's execution_stats reports it.
struct FindStats {
  int64_t total_keys_examined = 0;  // index entries (or _all_docs rows) read
  int64_t total_docs_examined = 0;  // documents loaded and matched against the selector
  int64_t results_returned = 0;
  double execution_time_ms = 0;
};

struct FindResult {
  std::vector<Json> docs;  // whole documents, in result order
  QueryPlan plan;          // the index used and its range; its warnings
  Json index;              // that index as GET /{db}/_index lists it
  FindStats stats;
};

struct CreateIndexResult {
  bool created = false;  // false: the design document already held this index
  std::string id;        // the design document
  std::string name;
};

class Database {
 public:
  // Opens (creating when missing) the database `name` in the file `path`.
  // Fails with IoError when the file cannot be opened or is corrupt.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, const std::string& name,
                                                DatabaseOptions options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  // The metrics its calls go to (DatabaseOptions::metrics), or null.
  StoreMetrics* metrics() const { return metrics_; }

  // Replaces DatabaseOptions::max_document_bytes for this database: the
  // platform's own databases hold documents whose owner bounds them itself
  // (an action's code may be 48 MB, as on OpenWhisk), so the CouchDB limit
  // must not cut them shorter. Any thread; later writes see it.
  void SetMaxDocumentBytes(size_t bytes);

  // GET /{db}: db_name, update_seq, doc_count, doc_del_count, sizes, ...
  Json Info();
  int64_t update_seq();

  // _bulk_docs. With new_edits, each doc gets a new revision (a conflict when
  // its _rev is not a leaf); without, each doc's _rev/_revisions path is
  // merged into its tree as replication does, and nothing conflicts.
  // Results are in input order; one commit covers the whole batch.
  std::vector<WriteResult> BulkDocs(std::vector<Json> docs, bool new_edits,
                                    Durability durability = Durability::kSynced);

  // PUT /{db}/{id}: one document (its _id must be set).
  WriteResult Put(Json doc, bool new_edits = true, Durability durability = Durability::kSynced);

  // GET /{db}/{id}. NotFound("missing") or NotFound("deleted").
  Result<Json> Get(const std::string& id, const GetOptions& options);

  // GET /{db}/{id}?open_revs=...: [{"ok": doc} | {"missing": rev}]. `revs`
  // empty means all leaves. NotFound("missing") for an unknown document.
  Result<Json> OpenRevs(const std::string& id, const std::vector<std::string>& revs, const GetOptions& options);
  // The same answers with each document as JSON text, for the HTTP API
  // (_bulk_get). Plain reads and `revs` splice the stored body instead of
  // parsing it, so a document's keys come in CouchDB's order, not sorted.
  Result<std::vector<OpenRevText>> OpenRevsText(const std::string& id, const std::vector<std::string>& revs,
                                                const GetOptions& options);

  // GET|POST /{db}/_all_docs: the whole response body.
  Json AllDocs(const AllDocsOptions& options);
  // The same response as JSON text, for the HTTP API. A range read with
  // include_docs (and without conflicts) splices each stored body behind its
  // `_id` and `_rev` instead of parsing and re-serialising it, so its keys
  // come in CouchDB's order rather than sorted; the rest is AllDocs() dumped.
  std::string AllDocsText(const AllDocsOptions& options);

  // GET /{db}/_changes (one page; feeds are built on WaitForChange()).
  ChangesPage Changes(const ChangesOptions& options);

  // Blocks until update_seq() > since, or the deadline. Returns whether it moved.
  bool WaitForChange(int64_t since, std::chrono::steady_clock::time_point deadline);

  // POST /{db}/_revs_diff: {"id": ["rev", ...]} -> {"id": {"missing": [...], "possible_ancestors": [...]}}.
  Json RevsDiff(const Json& request);

  // _local documents: not replicated, no history; revs are "0-N".
  Result<Json> GetLocal(const std::string& id);
  WriteResult PutLocal(const std::string& id, Json doc);
  WriteResult DeleteLocal(const std::string& id);

  // GET /{db}/{id}/{name}: the attachment of the winner (or of `rev`).
  Result<Attachment> GetAttachment(const std::string& id, const std::string& name,
                                   const std::optional<std::string>& rev);
  // PUT|DELETE /{db}/{id}/{name}: a new revision with the attachment set or removed.
  WriteResult PutAttachment(const std::string& id, const std::string& name, const std::optional<std::string>& rev,
                            const std::string& content_type, std::string data);
  WriteResult DeleteAttachment(const std::string& id, const std::string& name, const std::optional<std::string>& rev);

  // POST /{db}/_find: the documents whose winning revision matches, through
  // the index PlanQuery() picks (store/mango_index.h), or a scan of every
  // document. Fails with InvalidArgument no_usable_index (mango.h's
  // MangoErrorType() names it) when the sort needs a missing index.
  Result<FindResult> Find(const FindOptions& options);
  // POST /{db}/_explain: the plan of Find() without running it.
  Result<FindResult> Explain(const FindOptions& options);

  // POST /{db}/_index: adds `index` to its design document (creating it),
  // which builds the index over every document in the same commit.
  // InvalidArgument invalid_ddoc_lang when that design document exists with
  // another language; the write's failure otherwise.
  Result<CreateIndexResult> CreateIndex(const IndexDef& index);
  // DELETE /{db}/_index/{ddoc}/json/{name}: removes the view from its design
  // document, and the design document when no view is left. NotFound
  // ("missing") when there is no such index.
  Status DeleteIndex(const std::string& ddoc, const std::string& name);
  // GET /{db}/_index: every Mango JSON index, by design document and name.
  std::vector<IndexDef> ListIndexes();

  // POST /{db}/_compact: drops bodies of non-leaf revisions and unreferenced
  // attachment data, then vacuums. Runs while reads and writes go on.
  Status Compact();
  bool compact_running() const;

  // _security (not versioned, not replicated) and _revs_limit.
  Json Security();
  Status SetSecurity(const Json& security);
  int64_t RevsLimit();
  Status SetRevsLimit(int64_t limit);

  // Runs SQLite's integrity check, the revision-tree invariants of every
  // document (the stored winner and deleted flag are the tree's, every leaf
  // has a body, every attachment it names has its bytes), that no body is
  // orphaned, that sequence numbers are positive and the document counts
  // match the table, and that every Mango index holds exactly the keys of
  // the current winners. OK, or Internal with the first problem found.
  // `wisp store check` runs it on every database of a data directory.
  Status CheckIntegrity();

 private:
  class Impl;
  Database(std::string path, std::string name, std::unique_ptr<Impl> impl, StoreMetrics* metrics);

  std::string path_;
  std::string name_;
  std::unique_ptr<Impl> impl_;
  StoreMetrics* metrics_ = nullptr;
};

// True for names CouchDB accepts: ^[a-z][a-z0-9_$()+/-]*$, or _users / _replicator.
bool IsValidDatabaseName(const std::string& name);

// OK, or InvalidArgument for ids CouchDB refuses (empty, a reserved "_"
// prefix other than _design/ and _local/, invalid UTF-8).
Status ValidateDocId(const std::string& id);

}  // namespace wisp::store
