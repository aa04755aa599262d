#include "store/database.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <map>
#include <regex>
#include <tuple>

#include "store/rev_tree.h"
#include "store/store_metrics.h"
#include "store/sqlite.h"
#include "util/base64.h"
#include "util/log.h"
#include "util/text.h"

namespace wisp::store {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  tree TEXT NOT NULL,
  winner TEXT NOT NULL,
  deleted INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS docs_by_seq ON docs (seq);
CREATE TABLE IF NOT EXISTS revs (
  id TEXT NOT NULL,
  rev TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (id, rev)
);
CREATE TABLE IF NOT EXISTS local_docs (id TEXT PRIMARY KEY, rev INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attachments (digest TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS mango_indexes (
  ix INTEGER PRIMARY KEY AUTOINCREMENT,
  ddoc TEXT NOT NULL,
  name TEXT NOT NULL,
  def TEXT NOT NULL,
  UNIQUE (ddoc, name)
);
)sql";

// The table that holds the keys of Mango index `ix` (docs/store_format.md).
std::string IndexTable(int64_t ix) { return "mango_idx_" + std::to_string(ix); }

bool IsDesignId(std::string_view id) { return id.starts_with("_design/"); }

// A Mango index with the number of its table.
struct LiveIndex {
  int64_t ix = 0;
  IndexDef def;
};

// Top-level fields a document may carry besides its own data.
bool IsKnownSpecialField(const std::string& key) {
  static const std::set<std::string> kKnown = {"_id",        "_rev",      "_deleted",           "_attachments",
                                               "_revisions", "_revs_info", "_conflicts",         "_deleted_conflicts",
                                               "_local_seq", "_access",   "_replication_state", "_replication_state_time",
                                               "_replication_id", "_replication_stats", "_replication_state_reason"};
  return kKnown.count(key) > 0;
}

// Fields that are metadata of the request, not part of the stored body.
bool IsTransientField(const std::string& key) {
  return key == "_id" || key == "_rev" || key == "_deleted" || key == "_revisions" || key == "_revs_info" ||
         key == "_conflicts" || key == "_deleted_conflicts" || key == "_local_seq";
}

std::string Md5Digest(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  return "md5-" + Base64Encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

// A failure of SQLite or the disk rather than of the document: the request
// that met it cannot be trusted to be half written.
bool IsStorageFailure(const Status& s) {
  return s.code() == StatusCode::kIoError || s.code() == StatusCode::kUnavailable ||
         s.code() == StatusCode::kInternal;
}

WriteResult Failure(std::string id, Status status, std::string error = "") {
  WriteResult r;
  r.id = std::move(id);
  r.status = std::move(status);
  r.error = std::move(error);
  return r;
}

// One document's row in the docs table.
struct DocRow {
  int64_t seq = 0;
  RevTree tree;
  std::string winner;
  bool deleted = false;
};

// Appends a document made of its stored body text (an object) with `_id`,
// `_rev` and `extra` (members, each with its leading comma) put in front:
// the body is the document less those (docs/store_format.md).
void AppendSplicedDoc(std::string& out, std::string_view id, std::string_view rev, std::string_view extra,
                      std::string_view body) {
  out += "{\"_id\":\"";
  log::AppendJsonEscaped(out, id);
  out += "\",\"_rev\":\"";
  log::AppendJsonEscaped(out, rev);  // a replicated rev may hold any text
  out += '"';
  out += extra;
  if (body != "{}") out += ',';
  out.append(body.substr(1));
}

}  // namespace

bool IsValidDatabaseName(const std::string& name) {
  if (name == "_users" || name == "_replicator") return true;
  static const std::regex kPattern("^[a-z][a-z0-9_$()+/-]*$");
  return name.size() <= 238 && std::regex_match(name, kPattern);
}

Status ValidateDocId(const std::string& id) {
  if (id.empty()) return Status::InvalidArgument("Document id must not be empty");
  if (!IsValidUtf8(id)) {
    return Status::InvalidArgument("Document id must be valid UTF-8");
  }
  if (id == "_design/" || id == "_local/") return Status::InvalidArgument("Illegal document id `" + id + "`");
  if (id[0] == '_' && id.rfind("_design/", 0) != 0 && id.rfind("_local/", 0) != 0) {
    return Status::InvalidArgument("Only reserved document ids may start with underscore.");
  }
  return Status::Ok();
}

class Database::Impl {
 public:
  Impl(std::string path, std::string name, DatabaseOptions options)
      : path_(std::move(path)), name_(std::move(name)), options_(options) {}

  ~Impl() {
    std::lock_guard lock(readers_mu_);
    readers_.clear();
  }

  Status Init() {
    WISP_ASSIGN_OR_RETURN(writer_, Connection::Open(path_, options_.durable, options_.busy_timeout));
    WISP_RETURN_IF_ERROR(writer_->Exec(kSchema));
    Statement& seq = writer_->Prepare("SELECT COALESCE(MAX(seq), 0) FROM docs");
    if (seq.Step()) update_seq_ = seq.Int(0);
    WISP_RETURN_IF_ERROR(seq.status());
    seq.Reset();  // an unfinished statement would pin an old snapshot on the writer
    Statement& counts = writer_->Prepare("SELECT deleted, COUNT(*) FROM docs GROUP BY deleted");
    while (counts.Step()) (counts.Int(0) ? del_count_ : doc_count_) = counts.Int(1);
    WISP_RETURN_IF_ERROR(counts.status());
    revs_limit_ = std::stoll(ReadMeta(*writer_, "revs_limit").value_or(std::to_string(kDefaultRevsLimit)));
    return IndexDesignDocsOnce();
  }

  // A file written before Mango indexes existed may already hold query
  // design documents (replicated, or written by hand): they become indexes
  // on the first open, once.
  Status IndexDesignDocsOnce() {
    constexpr char kMarker[] = "mango_indexes";
    if (ReadMeta(*writer_, kMarker)) return Status::Ok();
    return Write([&](Connection& c, Txn&) {
      std::vector<std::string> ids;
      Statement& s = c.Prepare("SELECT id FROM docs WHERE id >= '_design/' AND id < '_design0'");
      while (s.Step()) ids.push_back(s.Text(0));
      WISP_RETURN_IF_ERROR(s.status());
      s.Reset();
      for (const std::string& id : ids) {
        WISP_ASSIGN_OR_RETURN(std::optional<DocRow> row, LoadRow(c, id));
        if (row) WISP_RETURN_IF_ERROR(SyncDesignDoc(c, id, row->tree));
      }
      return WriteMeta(c, kMarker, "1");
    });
  }

  // ---------------------------------------------------------------- writes

  // A unit of work for the group-committing writer. `apply` runs inside the
  // batch's transaction, under its own savepoint; its Status decides whether
  // that savepoint is kept.
  struct Txn {
    int64_t seq = 0;         // the last sequence number handed out so far
    int64_t doc_delta = 0;   // change of the live-document count
    int64_t del_delta = 0;   // change of the deleted-document count
  };
  struct Writer {
    std::function<Status(Connection&, Txn&)> apply;
    Durability durability = Durability::kSynced;
    Status status;
    bool done = false;
    std::condition_variable cv;
  };

  // Runs `apply` in the next group commit. Returns its Status, or the
  // commit's failure.
  Status Write(std::function<Status(Connection&, Txn&)> apply, Durability durability = Durability::kSynced) {
    Writer w;
    w.apply = std::move(apply);
    w.durability = durability;
    std::unique_lock lock(queue_mu_);
    queue_.push_back(&w);
    while (!w.done && &w != queue_.front()) w.cv.wait(lock);
    if (w.done) return w.status;

    // This writer leads: it commits everything queued right now.
    std::vector<Writer*> batch(queue_.begin(), queue_.end());
    lock.unlock();
    CommitBatch(batch);
    lock.lock();
    for (size_t i = 0; i < batch.size(); ++i) {
      Writer* done = queue_.front();
      queue_.pop_front();
      done->done = true;
      if (done != &w) done->cv.notify_one();
    }
    if (!queue_.empty()) queue_.front()->cv.notify_one();
    return w.status;
  }

  void CommitBatch(const std::vector<Writer*>& batch) {
    Txn txn;
    {
      std::lock_guard lock(seq_mu_);
      txn.seq = update_seq_;
    }
    // One writer that needs its fsync makes the whole group wait for it;
    // a group of OS-buffered writes commits without one (WAL with
    // synchronous=NORMAL: the next synced commit or checkpoint syncs it).
    const bool sync = options_.durable && std::any_of(batch.begin(), batch.end(), [](const Writer* w) {
                        return w->durability == Durability::kSynced;
                      });
    if (options_.durable && sync != writer_syncs_) {
      if (Status s = writer_->Exec(sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"); !s.ok()) {
        for (Writer* w : batch) w->status = s;
        return;
      }
      writer_syncs_ = sync;
    }
    Status begin = writer_->Exec("BEGIN IMMEDIATE");
    if (!begin.ok()) {
      for (Writer* w : batch) w->status = begin;
      return;
    }
    if (batch.size() == 1) {
      // Alone in the transaction: a failure rolls all of it back, so no
      // savepoint (and no copy of each touched page into its journal).
      Status s = batch.front()->apply(*writer_, txn);
      if (!s.ok()) {
        (void)writer_->Exec("ROLLBACK");
        writer_indexes_.reset();  // the rollback may have undone an index change
        batch.front()->status = s;
        return;
      }
    } else {
      for (Writer* w : batch) {
        Txn before = txn;
        Status s = writer_->Exec("SAVEPOINT w");
        if (s.ok()) s = w->apply(*writer_, txn);
        if (s.ok()) {
          s = writer_->Exec("RELEASE w");
        } else {
          (void)writer_->Exec("ROLLBACK TO w; RELEASE w");
          writer_indexes_.reset();  // the rollback may have undone an index change
          txn = before;
        }
        w->status = s;
      }
    }
    Status commit = writer_->Exec("COMMIT");
    if (!commit.ok()) {
      (void)writer_->Exec("ROLLBACK");
      writer_indexes_.reset();
      log::Error("store", "commit failed", {{"db", name_}, {"error", commit.message()}});
      for (Writer* w : batch) {
        if (w->status.ok()) w->status = commit;
      }
      return;
    }
    {
      std::lock_guard lock(seq_mu_);
      const bool moved = txn.seq != update_seq_;
      update_seq_ = txn.seq;
      doc_count_ += txn.doc_delta;
      del_count_ += txn.del_delta;
      if (moved) seq_cv_.notify_all();
    }
  }

  std::vector<WriteResult> BulkDocs(std::vector<Json> docs, bool new_edits,
                                    Durability durability = Durability::kSynced) {
    std::vector<WriteResult> results(docs.size());
    const int64_t revs_limit = RevsLimit();
    Status batch = Write([&](Connection& c, Txn& txn) {
      for (size_t i = 0; i < docs.size(); ++i) {
        // A document is refused before anything of it is written (only
        // content-addressed attachment bytes may stay, and compaction drops
        // them), so documents need no savepoint of their own: one would copy
        // every page a document touches into SQLite's statement journal. A
        // storage failure fails the whole request, which its savepoint undoes.
        results[i] = new_edits ? WriteEdit(c, txn, std::move(docs[i]), revs_limit)
                               : WriteReplicated(c, txn, std::move(docs[i]), revs_limit);
        if (IsStorageFailure(results[i].status)) return results[i].status;
      }
      return Status::Ok();
    }, durability);
    if (!batch.ok()) {
      // The commit failed: nothing of this batch is durable.
      for (auto& r : results) {
        if (r.status.ok()) r = Failure(r.id, batch);
      }
    }
    return results;
  }

  // Splits a request document into its id, its stored body and its flags.
  struct Incoming {
    std::string id;
    std::optional<std::string> rev;
    bool deleted = false;
    Json body = Json::object();      // what is stored: data and _attachments
    std::optional<Json> revisions;   // _revisions, for new_edits=false
  };

  static Result<Incoming> Split(Json doc, std::string* error) {
    if (!doc.is_object()) {
      *error = "bad_request";
      return Status::InvalidArgument("Document must be a JSON object");
    }
    Incoming in;
    if (auto it = doc.find("_id"); it != doc.end()) {
      if (!it->is_string()) {
        *error = "illegal_docid";
        return Status::InvalidArgument("Document id must be a string");
      }
      in.id = it->get<std::string>();
    }
    if (auto it = doc.find("_rev"); it != doc.end() && !it->is_null()) {
      if (!it->is_string()) {
        *error = "bad_request";
        return Status::InvalidArgument("Invalid rev format");
      }
      in.rev = it->get<std::string>();
    }
    if (auto it = doc.find("_deleted"); it != doc.end()) in.deleted = it->is_boolean() && it->get<bool>();
    if (auto it = doc.find("_revisions"); it != doc.end()) in.revisions = *it;
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const std::string& key = it.key();
      if (!key.empty() && key[0] == '_') {
        if (!IsKnownSpecialField(key)) {
          *error = "doc_validation";
          return Status::InvalidArgument("Bad special document member: " + key);
        }
        if (IsTransientField(key)) continue;
      }
      in.body[key] = std::move(it.value());
    }
    return in;
  }

  // Turns inline attachment data into stored blobs and stubs; resolves stubs
  // against the parent revision. `generation` is the new revision's.
  Status ProcessAttachments(Connection& c, const std::string& id, Json& body, const Json* parent_body,
                            int64_t generation, bool new_edits, std::string* error) {
    auto it = body.find("_attachments");
    if (it == body.end()) return Status::Ok();
    if (!it->is_object()) {
      *error = "bad_request";
      return Status::InvalidArgument("_attachments must be an object");
    }
    Json stored = Json::object();
    for (auto& [name, att] : it->items()) {
      if (!att.is_object()) {
        *error = "bad_request";
        return Status::InvalidArgument("Attachment " + name + " must be an object");
      }
      const std::string content_type = json::GetString(att, "content_type", "application/octet-stream");
      if (att.contains("data")) {
        std::string data;
        if (att["data"].is_string()) {
          auto decoded = Base64Decode(att["data"].get<std::string>());
          if (!decoded.ok()) {
            *error = "bad_request";
            return Status::InvalidArgument("Invalid attachment data for " + name);
          }
          data = std::move(*decoded);
          if (data.size() > options_.max_attachment_bytes) {
            *error = "attachment_too_large";
            return Status::PayloadTooLarge(name);
          }
        } else {
          *error = "bad_request";
          return Status::InvalidArgument("Invalid attachment data for " + name);
        }
        const std::string digest = Md5Digest(data);
        WISP_RETURN_IF_ERROR(
            c.Prepare("INSERT OR IGNORE INTO attachments (digest, data) VALUES (?, ?)").Bind(1, digest).BindBlob(2, data).Run());
        const int64_t revpos = new_edits ? generation : json::GetInt(att, "revpos", generation);
        stored[name] = {{"content_type", content_type}, {"revpos", revpos}, {"digest", digest},
                        {"length", static_cast<int64_t>(data.size())}, {"stub", true}};
      } else if (att.value("stub", false)) {
        const Json* previous = nullptr;
        if (parent_body && parent_body->contains("_attachments") && (*parent_body)["_attachments"].contains(name)) {
          previous = &(*parent_body)["_attachments"][name];
        }
        if (previous) {
          stored[name] = *previous;
        } else if (!new_edits && att.contains("digest") && HasAttachmentData(c, json::GetString(att, "digest"))) {
          stored[name] = att;  // replicated stub whose bytes we already hold
        } else {
          *error = "missing_stub";
          return Status::PreconditionFailed("Invalid attachment stub in " + id + " for " + name);
        }
      } else {
        *error = "bad_request";
        return Status::InvalidArgument("Attachment " + name + " has neither data nor stub");
      }
    }
    *it = std::move(stored);
    if (it->empty()) body.erase("_attachments");
    return Status::Ok();
  }

  static bool HasAttachmentData(Connection& c, const std::string& digest) {
    Statement& s = c.Prepare("SELECT 1 FROM attachments WHERE digest = ?");
    s.Bind(1, digest);
    const bool found = s.Step();
    s.Reset();
    return found;
  }

  static Result<std::optional<DocRow>> LoadRow(Connection& c, const std::string& id) {
    Statement& s = c.Prepare("SELECT seq, tree, winner, deleted FROM docs WHERE id = ?");
    s.Bind(1, id);
    if (!s.Step()) {
      Status st = s.status();
      s.Reset();
      if (!st.ok()) return st;
      return std::optional<DocRow>();
    }
    DocRow row;
    row.seq = s.Int(0);
    const std::string tree_text = s.Text(1);
    row.winner = s.Text(2);
    row.deleted = s.Int(3) != 0;
    s.Reset();
    WISP_ASSIGN_OR_RETURN(Json tree_json, json::Parse(tree_text));
    WISP_ASSIGN_OR_RETURN(row.tree, RevTree::FromJson(tree_json));
    return std::optional<DocRow>(std::move(row));
  }

  // Reads every row of a statement selecting (id, seq, tree, winner, deleted),
  // then resets it. A row whose tree does not parse is logged and skipped.
  std::vector<std::pair<std::string, DocRow>> ReadRows(Statement& s, Status* error = nullptr) {
    std::vector<std::pair<std::string, DocRow>> rows;
    while (s.Step()) {
      std::string id = s.Text(0);
      DocRow row;
      row.seq = s.Int(1);
      auto tree_json = json::Parse(s.Text(2));
      auto tree = tree_json.ok() ? RevTree::FromJson(*tree_json) : Result<RevTree>(tree_json.status());
      if (!tree.ok()) {
        log::Error("store", "unreadable revision tree", {{"db", name_}, {"id", id}, {"error", tree.status().message()}});
        continue;
      }
      row.tree = std::move(*tree);
      row.winner = s.Text(3);
      row.deleted = s.Int(4) != 0;
      rows.emplace_back(std::move(id), std::move(row));
    }
    if (error) *error = s.status();
    s.Reset();
    return rows;
  }

  static Result<std::optional<Json>> LoadBody(Connection& c, const std::string& id, const std::string& rev) {
    Statement& s = c.Prepare("SELECT body FROM revs WHERE id = ? AND rev = ?");
    s.Bind(1, id).Bind(2, rev);
    if (!s.Step()) {
      Status st = s.status();
      s.Reset();
      if (!st.ok()) return st;
      return std::optional<Json>();
    }
    const std::string text = s.Text(0);
    s.Reset();
    WISP_ASSIGN_OR_RETURN(Json body, json::Parse(text));
    return std::optional<Json>(std::move(body));
  }

  // Saves the tree after an edit: stems it, drops stemmed bodies, moves the
  // document to a new sequence number and keeps the counts right.
  Status SaveRow(Connection& c, Txn& txn, const std::string& id, RevTree& tree,
                 const std::optional<DocRow>& old, int64_t revs_limit) {
    for (const Rev& gone : tree.Stem(static_cast<size_t>(revs_limit))) {
      WISP_RETURN_IF_ERROR(c.Prepare("DELETE FROM revs WHERE id = ? AND rev = ?").Bind(1, id).Bind(2, gone.ToString()).Run());
    }
    const Rev winner = tree.Winner();
    const bool deleted = tree.WinnerDeleted();
    txn.seq += 1;
    WISP_RETURN_IF_ERROR(c.Prepare("INSERT OR REPLACE INTO docs (id, seq, tree, winner, deleted) VALUES (?, ?, ?, ?, ?)")
                             .Bind(1, id)
                             .Bind(2, txn.seq)
                             .Bind(3, json::Dump(tree.ToJson()))
                             .Bind(4, winner.ToString())
                             .Bind(5, static_cast<int64_t>(deleted))
                             .Run());
    if (old) (old->deleted ? txn.del_delta : txn.doc_delta) -= 1;
    (deleted ? txn.del_delta : txn.doc_delta) += 1;
    return IndexDocument(c, id, tree, old.has_value());
  }

  // ------------------------------------------------------- Mango indexes
  //
  // Every index has a table of keys that follows the winning revision of
  // each document; it changes in the same transaction as the document.

  static Result<std::vector<LiveIndex>> LoadIndexes(Connection& c) {
    std::vector<LiveIndex> out;
    Statement& s = c.Prepare("SELECT ix, ddoc, name, def FROM mango_indexes ORDER BY ddoc, name");
    while (s.Step()) {
      LiveIndex index;
      index.ix = s.Int(0);
      auto def = json::Parse(s.Text(3));
      auto parsed = def.ok() ? ParseIndexDef(*def) : Result<IndexDef>(def.status());
      if (!parsed.ok()) continue;  // written by this code, so it parses
      index.def = std::move(*parsed);
      index.def.ddoc = s.Text(1);
      index.def.name = s.Text(2);
      out.push_back(std::move(index));
    }
    Status st = s.status();
    s.Reset();
    if (!st.ok()) return st;
    return out;
  }

  // The indexes as the writer's transaction sees them, cached between writes
  // until a design document changes or a savepoint rolls back.
  Result<const std::vector<LiveIndex>*> WriterIndexes(Connection& c) {
    if (!writer_indexes_) {
      WISP_ASSIGN_OR_RETURN(std::vector<LiveIndex> loaded, LoadIndexes(c));
      writer_indexes_ = std::move(loaded);
    }
    return &*writer_indexes_;
  }

  // The winning revision of `id` as index keys and partial filters see it,
  // or nullopt when it is deleted.
  static Result<std::optional<Json>> WinnerForIndex(Connection& c, const std::string& id, const RevTree& tree) {
    if (tree.WinnerDeleted()) return std::optional<Json>();
    const std::string winner = tree.Winner().ToString();
    WISP_ASSIGN_OR_RETURN(std::optional<Json> body, LoadBody(c, id, winner));
    if (!body) return std::optional<Json>();
    (*body)["_id"] = id;
    (*body)["_rev"] = winner;
    return body;
  }

  static Status InsertKey(Connection& c, const LiveIndex& index, const std::string& id, const Json& doc) {
    std::optional<std::vector<Json>> key = IndexKey(index.def, doc);
    if (!key) return Status::Ok();
    std::string sql = "INSERT OR REPLACE INTO " + IndexTable(index.ix) + " VALUES (?";
    for (size_t k = 0; k < key->size(); ++k) sql += ", ?";
    sql += ")";
    Statement& s = c.Prepare(sql);
    s.Bind(1, id);
    for (size_t k = 0; k < key->size(); ++k) s.Bind(static_cast<int>(k + 2), json::Dump((*key)[k]));
    return s.Run();
  }

  // Moves `id` to the keys of its new winner in every index; a design
  // document instead redefines the indexes it holds.
  Status IndexDocument(Connection& c, const std::string& id, const RevTree& tree, bool existed) {
    if (IsDesignId(id)) return SyncDesignDoc(c, id, tree);
    WISP_ASSIGN_OR_RETURN(const std::vector<LiveIndex>* indexes, WriterIndexes(c));
    if (indexes->empty()) return Status::Ok();
    WISP_ASSIGN_OR_RETURN(std::optional<Json> doc, WinnerForIndex(c, id, tree));
    for (const LiveIndex& index : *indexes) {
      if (existed) {
        WISP_RETURN_IF_ERROR(c.Prepare("DELETE FROM " + IndexTable(index.ix) + " WHERE id = ?").Bind(1, id).Run());
      }
      if (doc) WISP_RETURN_IF_ERROR(InsertKey(c, index, id, *doc));
    }
    return Status::Ok();
  }

  // Makes the indexes of design document `id` those its winning revision
  // defines: drops the ones it no longer has (or has changed) and builds the
  // new ones over every document.
  Status SyncDesignDoc(Connection& c, const std::string& id, const RevTree& tree) {
    writer_indexes_.reset();
    std::vector<IndexDef> wanted;
    WISP_ASSIGN_OR_RETURN(std::optional<Json> ddoc, WinnerForIndex(c, id, tree));
    if (ddoc) wanted = IndexesOfDesignDoc(id, *ddoc);
    std::vector<std::tuple<int64_t, std::string, std::string>> existing;
    Statement& s = c.Prepare("SELECT ix, name, def FROM mango_indexes WHERE ddoc = ?");
    s.Bind(1, id);
    while (s.Step()) existing.emplace_back(s.Int(0), s.Text(1), s.Text(2));
    WISP_RETURN_IF_ERROR(s.status());
    s.Reset();
    std::set<std::string> kept;
    for (const auto& [ix, name, def] : existing) {
      auto same = std::find_if(wanted.begin(), wanted.end(), [&, &name = name, &def = def](const IndexDef& w) {
        return w.name == name && json::Dump(w.Def()) == def;
      });
      if (same != wanted.end()) {
        kept.insert(name);
        continue;
      }
      WISP_RETURN_IF_ERROR(c.Prepare("DELETE FROM mango_indexes WHERE ix = ?").Bind(1, ix).Run());
      WISP_RETURN_IF_ERROR(c.Exec("DROP TABLE IF EXISTS " + IndexTable(ix)));
    }
    for (IndexDef& def : wanted) {
      if (kept.count(def.name)) continue;
      WISP_RETURN_IF_ERROR(BuildIndex(c, std::move(def)));
    }
    return Status::Ok();
  }

  // Creates the table of a new index and fills it from every live document.
  Status BuildIndex(Connection& c, IndexDef def) {
    WISP_RETURN_IF_ERROR(c.Prepare("INSERT INTO mango_indexes (ddoc, name, def) VALUES (?, ?, ?)")
                             .Bind(1, def.ddoc)
                             .Bind(2, def.name)
                             .Bind(3, json::Dump(def.Def()))
                             .Run());
    LiveIndex index;
    index.ix = sqlite3_last_insert_rowid(c.raw());
    index.def = std::move(def);
    const std::string table = IndexTable(index.ix);
    std::string columns;
    std::string key_columns;
    for (size_t k = 0; k < index.def.fields.size(); ++k) {
      columns += ", k" + std::to_string(k) + " TEXT NOT NULL COLLATE " + kJsonCollation;
      key_columns += "k" + std::to_string(k) + ", ";
    }
    WISP_RETURN_IF_ERROR(c.Exec("CREATE TABLE " + table + " (id TEXT PRIMARY KEY" + columns + ") WITHOUT ROWID; " +
                                "CREATE INDEX " + table + "_keys ON " + table + " (" + key_columns + "id);"));
    std::vector<std::string> ids;
    Statement& all = c.Prepare("SELECT id FROM docs WHERE deleted = 0");
    while (all.Step()) ids.push_back(all.Text(0));
    WISP_RETURN_IF_ERROR(all.status());
    all.Reset();
    for (const std::string& id : ids) {
      if (IsDesignId(id)) continue;
      WISP_ASSIGN_OR_RETURN(std::optional<DocRow> row, LoadRow(c, id));
      if (!row) continue;
      WISP_ASSIGN_OR_RETURN(std::optional<Json> doc, WinnerForIndex(c, id, row->tree));
      if (doc) WISP_RETURN_IF_ERROR(InsertKey(c, index, id, *doc));
    }
    return Status::Ok();
  }

  // The limit applies to the stored body: attachment bytes, which are stored
  // apart, do not count.
  Status CheckSize(const std::string& body_text, const std::string& id, std::string* error) {
    if (body_text.size() > max_document_bytes_.load(std::memory_order_relaxed)) {
      *error = "document_too_large";
      return Status::PayloadTooLarge(id);
    }
    return Status::Ok();
  }

  // Stores the body of `rev`, the new revision of `in`, and saves its tree.
  WriteResult StoreRevision(Connection& c, Txn& txn, const Incoming& in, const std::string& body_text, const Rev& rev,
                            RevTree& tree, const std::optional<DocRow>& old, int64_t revs_limit) {
    if (Status s = c.Prepare("INSERT OR REPLACE INTO revs (id, rev, body) VALUES (?, ?, ?)")
                       .Bind(1, in.id)
                       .Bind(2, rev.ToString())
                       .Bind(3, body_text)
                       .Run();
        !s.ok()) {
      return Failure(in.id, s);
    }
    if (Status s = SaveRow(c, txn, in.id, tree, old, revs_limit); !s.ok()) {
      // Something of the document is written by now, so whatever went wrong
      // must undo the whole request.
      return Failure(in.id, IsStorageFailure(s) ? s : Status::Internal(s.message()));
    }
    WriteResult ok;
    ok.id = in.id;
    ok.rev = rev.ToString();
    return ok;
  }

  WriteResult WriteEdit(Connection& c, Txn& txn, Json doc, int64_t revs_limit) {
    std::string error;
    auto split = Split(std::move(doc), &error);
    if (!split.ok()) return Failure("", split.status(), error);
    Incoming in = std::move(*split);
    if (Status s = ValidateDocId(in.id); !s.ok()) return Failure(in.id, s, "illegal_docid");

    auto row = LoadRow(c, in.id);
    if (!row.ok()) return Failure(in.id, row.status());
    RevTree tree = *row ? (*row)->tree : RevTree();

    std::optional<Rev> given;
    if (in.rev) {
      auto parsed = Rev::Parse(*in.rev);
      if (!parsed.ok()) return Failure(in.id, Status::InvalidArgument("Invalid rev format"), "bad_request");
      given = *parsed;
    }
    auto parent = tree.EditParent(given, in.deleted);
    if (!parent.ok()) return Failure(in.id, parent.status());

    std::optional<Json> parent_body;
    if (*parent) {
      auto loaded = LoadBody(c, in.id, (*parent)->ToString());
      if (!loaded.ok()) return Failure(in.id, loaded.status());
      parent_body = std::move(*loaded);
    }
    const int64_t generation = *parent ? (*parent)->generation + 1 : 1;
    if (Status s = ProcessAttachments(c, in.id, in.body, parent_body ? &*parent_body : nullptr, generation,
                                      /*new_edits=*/true, &error);
        !s.ok()) {
      return Failure(in.id, s, error);
    }
    const std::string body_text = json::Dump(in.body);
    if (Status s = CheckSize(body_text, in.id, &error); !s.ok()) return Failure(in.id, s, error);
    const Rev rev{generation, NewRevHash(std::string_view(body_text), *parent, in.deleted)};
    if (Status s = tree.AddEdit(given, rev, in.deleted); !s.ok()) return Failure(in.id, s);
    return StoreRevision(c, txn, in, body_text, rev, tree, *row, revs_limit);
  }

  WriteResult WriteReplicated(Connection& c, Txn& txn, Json doc, int64_t revs_limit) {
    std::string error;
    auto split = Split(std::move(doc), &error);
    if (!split.ok()) return Failure("", split.status(), error);
    Incoming in = std::move(*split);
    if (Status s = ValidateDocId(in.id); !s.ok()) return Failure(in.id, s, "illegal_docid");
    if (!in.rev && !in.revisions) {
      return Failure(in.id,
                     Status::InvalidArgument("When `new_edits: false`, the document needs `_rev` or `_revisions` specified"),
                     "bad_request");
    }
    // The path from the new leaf back, as _revisions gives it.
    std::vector<Rev> path;
    if (in.revisions && in.revisions->is_object()) {
      const int64_t start = json::GetInt(*in.revisions, "start", 0);
      const Json ids = in.revisions->value("ids", Json::array());
      if (start < 1 || !ids.is_array() || ids.empty() || static_cast<int64_t>(ids.size()) > start) {
        return Failure(in.id, Status::InvalidArgument("Invalid _revisions"), "bad_request");
      }
      for (size_t i = 0; i < ids.size(); ++i) {
        if (!ids[i].is_string() || ids[i].get<std::string>().empty()) {
          return Failure(in.id, Status::InvalidArgument("Invalid _revisions"), "bad_request");
        }
        path.push_back(Rev{start - static_cast<int64_t>(i), ids[i].get<std::string>()});
      }
      if (in.rev && *in.rev != path.front().ToString()) {
        return Failure(in.id, Status::InvalidArgument("_rev does not match _revisions"), "bad_request");
      }
    } else {
      auto parsed = Rev::Parse(*in.rev);
      if (!parsed.ok()) return Failure(in.id, Status::InvalidArgument("Invalid rev format"), "bad_request");
      path.push_back(*parsed);
    }
    auto row = LoadRow(c, in.id);
    if (!row.ok()) return Failure(in.id, row.status());
    RevTree tree = *row ? (*row)->tree : RevTree();
    const Rev leaf = path.front();
    if (tree.Contains(leaf)) {
      WriteResult ok;  // already here: replication sends what we have
      ok.id = in.id;
      ok.rev = leaf.ToString();
      return ok;
    }
    if (Status s = ProcessAttachments(c, in.id, in.body, nullptr, leaf.generation, /*new_edits=*/false, &error);
        !s.ok()) {
      return Failure(in.id, s, error);
    }
    const std::string body_text = json::Dump(in.body);
    if (Status s = CheckSize(body_text, in.id, &error); !s.ok()) return Failure(in.id, s, error);
    auto merged = tree.Merge(path, in.deleted);
    if (!merged.ok()) return Failure(in.id, merged.status(), "bad_request");
    return StoreRevision(c, txn, in, body_text, leaf, tree, *row, revs_limit);
  }

  // ----------------------------------------------------------------- reads

  // A read connection for the caller's scope; returned to the pool after.
  class Reader {
   public:
    Reader(Impl& impl, std::unique_ptr<Connection> c) : impl_(impl), c_(std::move(c)) {
      // One snapshot for the whole read.
      if (c_) (void)c_->Exec("BEGIN");
    }
    ~Reader() {
      if (!c_) return;
      (void)c_->Exec("COMMIT");
      std::lock_guard lock(impl_.readers_mu_);
      impl_.readers_.push_back(std::move(c_));
    }
    Connection& operator*() { return *c_; }
    bool ok() const { return c_ != nullptr; }

   private:
    Impl& impl_;
    std::unique_ptr<Connection> c_;
  };

  Reader Read() {
    {
      std::lock_guard lock(readers_mu_);
      if (!readers_.empty()) {
        auto c = std::move(readers_.back());
        readers_.pop_back();
        return Reader(*this, std::move(c));
      }
    }
    auto c = Connection::Open(path_, options_.durable, options_.busy_timeout);
    if (!c.ok()) {
      log::Error("store", "cannot open read connection", {{"db", name_}, {"error", c.status().message()}});
      return Reader(*this, nullptr);
    }
    return Reader(*this, std::move(*c));
  }

  // The full document for `rev` as a client sees it.
  Result<Json> Render(Connection& c, const std::string& id, const DocRow& row, const Rev& rev,
                      const GetOptions& options) {
    WISP_ASSIGN_OR_RETURN(std::optional<Json> body, LoadBody(c, id, rev.ToString()));
    if (!body) return Status::NotFound("missing");
    Json doc = Json::object();
    doc["_id"] = id;
    doc["_rev"] = rev.ToString();
    const bool deleted = row.tree.IsDeleted(rev);
    for (auto& [k, v] : body->items()) doc[k] = std::move(v);
    if (deleted) doc["_deleted"] = true;
    // Attachments with a revpos above this get their data inline.
    std::optional<int64_t> inline_after;
    if (options.attachments) inline_after = 0;
    if (options.atts_since) {
      inline_after = 0;
      const std::set<std::string> since(options.atts_since->begin(), options.atts_since->end());
      for (const Rev& r : row.tree.PathTo(rev)) {
        if (since.count(r.ToString())) {
          inline_after = r.generation;
          break;
        }
      }
    }
    if (inline_after && doc.contains("_attachments")) {
      for (auto& [name, att] : doc["_attachments"].items()) {
        if (json::GetInt(att, "revpos", 0) <= *inline_after) continue;
        auto data = AttachmentData(c, json::GetString(att, "digest"));
        if (!data.ok()) return data.status();
        att.erase("stub");
        att.erase("length");
        att["data"] = Base64Encode(*data);
      }
    }
    if (options.revs) {
      Json ids = Json::array();
      const std::vector<Rev> path = row.tree.PathTo(rev);
      for (const Rev& r : path) ids.push_back(r.hash);
      doc["_revisions"] = {{"start", rev.generation}, {"ids", ids}};
    }
    if (options.revs_info) {
      Json info = Json::array();
      for (const RevInfo& ri : row.tree.RevsInfo(rev)) {
        info.push_back({{"rev", ri.rev.ToString()}, {"status", std::string(ri.status)}});
      }
      doc["_revs_info"] = info;
    }
    if (options.conflicts) {
      Json list = Json::array();
      for (const Rev& r : row.tree.Conflicts()) list.push_back(r.ToString());
      if (!list.empty()) doc["_conflicts"] = list;
    }
    if (options.deleted_conflicts) {
      Json list = Json::array();
      for (const Rev& r : row.tree.DeletedConflicts()) list.push_back(r.ToString());
      if (!list.empty()) doc["_deleted_conflicts"] = list;
    }
    if (options.local_seq) doc["_local_seq"] = row.seq;
    return doc;
  }

  static Result<std::string> AttachmentData(Connection& c, const std::string& digest) {
    Statement& s = c.Prepare("SELECT data FROM attachments WHERE digest = ?");
    s.Bind(1, digest);
    if (!s.Step()) {
      Status st = s.status();
      s.Reset();
      return st.ok() ? Status::NotFound("attachment data missing") : st;
    }
    std::string data = s.Text(0);
    s.Reset();
    return data;
  }

  Result<Json> Get(const std::string& id, const GetOptions& options) {
    Reader r = Read();
    if (!r.ok()) return Status::IoError("cannot read " + name_);
    WISP_ASSIGN_OR_RETURN(std::optional<DocRow> row, LoadRow(*r, id));
    if (!row) return Status::NotFound("missing");
    Rev rev;
    if (options.rev) {
      auto parsed = Rev::Parse(*options.rev);
      if (!parsed.ok() || !row->tree.Contains(*parsed)) return Status::NotFound("missing");
      rev = *parsed;
      if (options.latest) {
        std::vector<Rev> leaves = row->tree.LeavesFrom(rev);
        if (!leaves.empty()) rev = *std::max_element(leaves.begin(), leaves.end(), [&](const Rev& a, const Rev& b) {
          return std::make_pair(a.generation, a.hash) < std::make_pair(b.generation, b.hash);
        });
      }
    } else {
      rev = row->tree.Winner();
      if (row->tree.WinnerDeleted()) return Status::NotFound("deleted");
    }
    return Render(*r, id, *row, rev, options);
  }

  // What OpenRevs answers, in order: each leaf when `revs` is empty, else
  // each rev asked for (its leaves, with `latest`); a rev the document does
  // not hold comes back as `missing`. NotFound("missing") when `revs` is
  // empty and there is no such document.
  struct OpenRevTarget {
    std::optional<Rev> rev;
    std::string missing;
  };
  static Result<std::vector<OpenRevTarget>> OpenRevTargets(const std::optional<DocRow>& row,
                                                           const std::vector<std::string>& revs,
                                                           const GetOptions& options) {
    std::vector<OpenRevTarget> targets;
    if (revs.empty()) {
      if (!row) return Status::NotFound("missing");
      for (const Rev& leaf : row->tree.Leaves()) targets.push_back({leaf, ""});
      return targets;
    }
    for (const std::string& text : revs) {
      auto parsed = Rev::Parse(text);
      if (!row || !parsed.ok() || !row->tree.Contains(*parsed)) {
        targets.push_back({std::nullopt, text});
        continue;
      }
      std::vector<Rev> leaves;
      if (options.latest) leaves = row->tree.LeavesFrom(*parsed);
      if (leaves.empty()) leaves = {*parsed};
      for (const Rev& leaf : leaves) targets.push_back({leaf, ""});
    }
    return targets;
  }

  Result<Json> OpenRevs(const std::string& id, const std::vector<std::string>& revs, const GetOptions& options) {
    Reader r = Read();
    if (!r.ok()) return Status::IoError("cannot read " + name_);
    WISP_ASSIGN_OR_RETURN(std::optional<DocRow> row, LoadRow(*r, id));
    WISP_ASSIGN_OR_RETURN(std::vector<OpenRevTarget> targets, OpenRevTargets(row, revs, options));
    Json out = Json::array();
    for (const OpenRevTarget& target : targets) {
      Result<Json> doc = target.rev ? Render(*r, id, *row, *target.rev, options) : Result<Json>(Status::NotFound(""));
      if (doc.ok()) out.push_back({{"ok", *doc}});
      else out.push_back({{"missing", target.rev ? target.rev->ToString() : target.missing}});
    }
    return out;
  }

  Result<std::vector<OpenRevText>> OpenRevsText(const std::string& id, const std::vector<std::string>& revs,
                                                const GetOptions& options) {
    Reader r = Read();
    if (!r.ok()) return Status::IoError("cannot read " + name_);
    WISP_ASSIGN_OR_RETURN(std::optional<DocRow> row, LoadRow(*r, id));
    WISP_ASSIGN_OR_RETURN(std::vector<OpenRevTarget> targets, OpenRevTargets(row, revs, options));
    std::vector<OpenRevText> out;
    for (const OpenRevTarget& target : targets) {
      Result<std::string> doc =
          target.rev ? RenderText(*r, id, *row, *target.rev, options) : Result<std::string>(Status::NotFound(""));
      if (doc.ok()) out.push_back({std::move(*doc), ""});
      else out.push_back({"", target.rev ? target.rev->ToString() : target.missing});
    }
    return out;
  }

  // Render() as JSON text. The common reads (replication's _bulk_get asks
  // for `revs`) splice the stored body behind `_id`, `_rev`, `_deleted` and
  // `_revisions` without parsing it; options that change the body or add
  // other members go through Render().
  Result<std::string> RenderText(Connection& c, const std::string& id, const DocRow& row, const Rev& rev,
                                 const GetOptions& options) {
    if (options.attachments || options.atts_since || options.revs_info || options.conflicts ||
        options.deleted_conflicts || options.local_seq) {
      WISP_ASSIGN_OR_RETURN(Json doc, Render(c, id, row, rev, options));
      return json::Dump(doc);
    }
    Statement& s = c.Prepare("SELECT body FROM revs WHERE id = ? AND rev = ?");
    const std::string rev_text = rev.ToString();
    s.Bind(1, id).Bind(2, rev_text);
    if (!s.Step()) {
      Status st = s.status();
      s.Reset();
      if (!st.ok()) return st;
      return Status::NotFound("missing");
    }
    const std::string_view body = s.TextView(0);
    if (body.size() < 2 || body.front() != '{') {
      s.Reset();
      return Status::Internal("unreadable body of " + id + " " + rev_text);
    }
    std::string extra;
    if (row.tree.IsDeleted(rev)) extra += ",\"_deleted\":true";
    if (options.revs) {
      extra += ",\"_revisions\":{\"start\":" + std::to_string(rev.generation) + ",\"ids\":[";
      bool first = true;
      for (const Rev& r : row.tree.PathTo(rev)) {
        if (!first) extra += ',';
        first = false;
        extra += '"';
        log::AppendJsonEscaped(extra, r.hash);
        extra += '"';
      }
      extra += "]}";
    }
    std::string out;
    AppendSplicedDoc(out, id, rev_text, extra, body);
    s.Reset();
    return out;
  }

  Json AllDocs(const AllDocsOptions& o) {
    Json response = Json::object();
    Json rows = Json::array();
    Reader r = Read();
    int64_t total = 0;
    {
      std::lock_guard lock(seq_mu_);
      total = doc_count_;
    }
    response["total_rows"] = total;
    if (!r.ok()) {
      response["offset"] = 0;
      response["rows"] = rows;
      return response;
    }
    auto row_for = [&](const std::string& id, const DocRow& row, bool with_deleted_value) {
      Json out = {{"id", id}, {"key", id}, {"value", {{"rev", row.winner}}}};
      if (with_deleted_value && row.deleted) out["value"]["deleted"] = true;
      if (o.include_docs) {
        if (row.deleted) {
          out["doc"] = nullptr;
        } else {
          GetOptions g;
          g.conflicts = o.conflicts;
          auto doc = Render(*r, id, row, row.tree.Winner(), g);
          out["doc"] = doc.ok() ? *doc : Json(nullptr);
        }
      }
      return out;
    };

    if (o.keys) {
      size_t skipped = 0;
      for (const std::string& key : *o.keys) {
        if (rows.size() >= o.limit) break;
        auto row = LoadRow(*r, key);
        Json out;
        if (!row.ok() || !*row) {
          out = {{"key", key}, {"error", "not_found"}};
        } else {
          out = row_for(key, **row, /*with_deleted_value=*/true);
        }
        if (skipped < o.skip) {
          ++skipped;
          continue;
        }
        rows.push_back(std::move(out));
      }
      response["offset"] = 0;
      response["rows"] = rows;
      if (o.update_seq) response["update_seq"] = UpdateSeq();
      return response;
    }

    Statement& s = PrepareRange(*r, "SELECT id, seq, tree, winner, deleted FROM docs", o);
    std::vector<std::pair<std::string, DocRow>> found = ReadRows(s);
    for (auto& [id, row] : found) rows.push_back(row_for(id, row, false));
    response["offset"] = RangeOffset(*r, o);
    response["rows"] = rows;
    if (o.update_seq) response["update_seq"] = UpdateSeq();
    return response;
  }

  // `select` (from docs) over the live documents of the range `o` asks
  // for, in raw byte order of ids (SQLite's BINARY collation), bound.
  static Statement& PrepareRange(Connection& c, std::string_view select, const AllDocsOptions& o) {
    std::string sql(select);
    sql += " WHERE deleted = 0";
    const std::optional<std::string>& low = o.descending ? o.endkey : o.startkey;
    const std::optional<std::string>& high = o.descending ? o.startkey : o.endkey;
    const bool high_inclusive = o.descending ? true : o.inclusive_end;
    const bool low_inclusive = o.descending ? o.inclusive_end : true;
    if (low) sql += low_inclusive ? " AND id >= ?1" : " AND id > ?1";
    if (high) sql += high_inclusive ? " AND id <= ?2" : " AND id < ?2";
    sql += o.descending ? " ORDER BY id DESC" : " ORDER BY id ASC";
    sql += " LIMIT ?3 OFFSET ?4";
    Statement& s = c.Prepare(sql);
    if (low) s.Bind(1, *low);
    if (high) s.Bind(2, *high);
    s.Bind(3, o.limit >= static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(o.limit));
    s.Bind(4, static_cast<int64_t>(o.skip));
    return s;
  }

  // _all_docs' offset: the live documents before the range's first row.
  static int64_t RangeOffset(Connection& c, const AllDocsOptions& o) {
    int64_t offset = static_cast<int64_t>(o.skip);
    if (o.startkey) {
      Statement& count = c.Prepare(o.descending ? "SELECT COUNT(*) FROM docs WHERE deleted = 0 AND id > ?"
                                                : "SELECT COUNT(*) FROM docs WHERE deleted = 0 AND id < ?");
      count.Bind(1, *o.startkey);
      if (count.Step()) offset += count.Int(0);
      count.Reset();
    }
    return offset;
  }

  std::string AllDocsText(const AllDocsOptions& o) {
    if (o.keys || !o.include_docs || o.conflicts) return json::Dump(AllDocs(o));
    Reader r = Read();
    if (!r.ok()) return json::Dump(AllDocs(o));  // its empty page
    int64_t total = 0;
    {
      std::lock_guard lock(seq_mu_);
      total = doc_count_;
    }
    std::string out = "{\"total_rows\":" + std::to_string(total) + ",\"offset\":" +
                      std::to_string(RangeOffset(*r, o)) + ",\"rows\":[";
    // The winner's stored body is the document less its _id and _rev
    // (docs/store_format.md), so the document is that text with them put in.
    Statement& s = PrepareRange(
        *r, "SELECT id, winner, (SELECT body FROM revs WHERE revs.id = docs.id AND revs.rev = docs.winner) FROM docs",
        o);
    bool first = true;
    while (s.Step()) {
      const std::string_view id = s.TextView(0);
      const std::string_view rev = s.TextView(1);
      const std::string_view body = s.TextView(2);
      if (!first) out += ',';
      first = false;
      out += "{\"id\":\"";
      log::AppendJsonEscaped(out, id);
      out += "\",\"key\":\"";
      log::AppendJsonEscaped(out, id);
      out += "\",\"value\":{\"rev\":\"";
      log::AppendJsonEscaped(out, rev);  // a replicated rev may hold any text
      out += "\"},\"doc\":";
      if (body.size() < 2 || body.front() != '{') {
        out += "null";  // no body stored for the winner: as Render() answers
      } else {
        AppendSplicedDoc(out, id, rev, "", body);
      }
      out += '}';
    }
    if (!s.status().ok()) {
      log::Error("store", "_all_docs read failed", {{"db", name_}, {"error", s.status().message()}});
    }
    s.Reset();
    out += ']';
    if (o.update_seq) out += ",\"update_seq\":" + std::to_string(UpdateSeq());
    out += '}';
    return out;
  }

  ChangesPage Changes(const ChangesOptions& o) {
    ChangesPage page;
    Reader r = Read();
    const int64_t head = UpdateSeq();
    page.last_seq = o.descending ? 0 : std::max<int64_t>(o.since, 0);
    if (!r.ok()) {
      page.status = Status::IoError("cannot read " + name_);
      return page;
    }
    const size_t limit = o.limit == 0 ? 1 : o.limit;
    const bool filtered = o.doc_ids.has_value() || static_cast<bool>(o.filter);
    int64_t cursor = o.descending ? INT64_MAX : o.since;
    bool exhausted = false;
    constexpr int64_t kChunk = 500;
    while (page.results.size() < limit && !exhausted) {
      Statement& s = (*r).Prepare(o.descending
                                      ? "SELECT id, seq, tree, winner, deleted FROM docs WHERE seq < ? ORDER BY seq DESC LIMIT ?"
                                      : "SELECT id, seq, tree, winner, deleted FROM docs WHERE seq > ? ORDER BY seq ASC LIMIT ?");
      s.Bind(1, cursor).Bind(2, filtered ? kChunk : static_cast<int64_t>(std::min<size_t>(limit - page.results.size(), kChunk)));
      Status read;
      std::vector<std::pair<std::string, DocRow>> rows = ReadRows(s, &read);
      // A failed read is not the end of the sequence: the page ends at the
      // last row read, never at the head it did not reach.
      if (!read.ok()) {
        page.status = read;
        log::Error("store", "changes read failed", {{"db", name_}, {"error", read.message()}});
      }
      if (rows.empty() && read.ok()) exhausted = true;
      for (auto& [id, row] : rows) {
        cursor = row.seq;
        if (o.doc_ids && !o.doc_ids->count(id)) continue;
        std::optional<Json> doc;
        if (o.include_docs || o.filter) {
          GetOptions g;
          g.conflicts = o.conflicts;
          auto rendered = Render(*r, id, row, row.tree.Winner(), g);
          if (rendered.ok()) doc = std::move(*rendered);
        }
        if (o.filter && !(doc && o.filter(*doc))) continue;
        Json change = {{"seq", row.seq}, {"id", id}};
        Json changes = Json::array();
        if (o.all_docs_style) {
          for (const Rev& leaf : row.tree.Leaves()) changes.push_back({{"rev", leaf.ToString()}});
        } else {
          changes.push_back({{"rev", row.winner}});
        }
        change["changes"] = changes;
        if (row.deleted) change["deleted"] = true;
        if (o.include_docs) change["doc"] = doc ? *doc : Json(nullptr);
        page.results.push_back(std::move(change));
        page.last_seq = row.seq;
        if (page.results.size() >= limit) break;
      }
      if (!read.ok()) break;
    }
    if (exhausted && !o.descending) page.last_seq = std::max(page.last_seq, std::max(o.since, head));
    if (exhausted && !o.descending && filtered) page.last_seq = std::max(page.last_seq, cursor);
    if (!o.descending) {
      Statement& p = (*r).Prepare("SELECT COUNT(*) FROM docs WHERE seq > ?");
      p.Bind(1, page.last_seq);
      if (p.Step()) page.pending = p.Int(0);
      p.Reset();
    }
    return page;
  }

  void SetMaxDocumentBytes(size_t bytes) { max_document_bytes_.store(bytes, std::memory_order_relaxed); }

  int64_t UpdateSeq() {
    std::lock_guard lock(seq_mu_);
    return update_seq_;
  }

  bool WaitForChange(int64_t since, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(seq_mu_);
    return seq_cv_.wait_until(lock, deadline, [&] { return update_seq_ > since; });
  }

  Json RevsDiff(const Json& request) {
    Json out = Json::object();
    if (!request.is_object()) return out;
    Reader r = Read();
    if (!r.ok()) return out;
    for (auto& [id, revs] : request.items()) {
      if (!revs.is_array() || id.rfind("_local/", 0) == 0) continue;
      auto row = LoadRow(*r, id);
      std::vector<Rev> asked;
      std::vector<std::string> unparsable;
      for (const Json& v : revs) {
        if (!v.is_string()) continue;
        auto parsed = Rev::Parse(v.get<std::string>());
        if (parsed.ok()) asked.push_back(*parsed);
        else unparsable.push_back(v.get<std::string>());
      }
      std::vector<Rev> missing = (row.ok() && *row) ? (*row)->tree.Missing(asked) : asked;
      if (missing.empty() && unparsable.empty()) continue;
      Json entry = Json::object();
      Json list = Json::array();
      for (const Rev& m : missing) list.push_back(m.ToString());
      for (const std::string& u : unparsable) list.push_back(u);
      entry["missing"] = list;
      if (row.ok() && *row) {
        Json ancestors = Json::array();
        for (const Rev& a : (*row)->tree.PossibleAncestors(missing)) ancestors.push_back(a.ToString());
        if (!ancestors.empty()) entry["possible_ancestors"] = ancestors;
      }
      out[id] = entry;
    }
    return out;
  }

  // ---------------------------------------------------------------- Mango

  Result<FindResult> Find(const FindOptions& o, bool run) {
    const auto started = std::chrono::steady_clock::now();
    Reader r = Read();
    if (!r.ok()) return Status::IoError("cannot read " + name_);
    WISP_ASSIGN_OR_RETURN(std::vector<LiveIndex> indexes, LoadIndexes(*r));
    std::vector<IndexDef> defs;
    for (const LiveIndex& index : indexes) defs.push_back(index.def);
    FindResult out;
    WISP_ASSIGN_OR_RETURN(out.plan, PlanQuery(defs, o.selector, o.sort, o.use_index));
    out.index = out.plan.index >= 0 ? defs[out.plan.index].ToJson() : AllDocsIndexJson();
    if (!run) return out;

    // Loads, matches and collects one candidate; false once the page is full.
    size_t skipped = 0;
    auto visit = [&](const std::string& id) -> Result<bool> {
      if (out.docs.size() >= o.limit) return false;
      WISP_ASSIGN_OR_RETURN(std::optional<DocRow> row, LoadRow(*r, id));
      if (!row || row->deleted) return true;
      ++out.stats.total_docs_examined;
      GetOptions g;
      g.conflicts = o.conflicts;
      WISP_ASSIGN_OR_RETURN(Json doc, Render(*r, id, *row, row->tree.Winner(), g));
      if (!o.selector.Matches(doc)) return true;
      if (skipped < o.skip) {
        ++skipped;
        return true;
      }
      out.docs.push_back(std::move(doc));
      return out.docs.size() < o.limit;
    };
    std::string sql;
    std::vector<std::string> binds;
    if (out.plan.index >= 0) {
      // The range: an $eq on each leading column, then one bounded column.
      const QueryPlan& plan = out.plan;
      const LiveIndex& index = indexes[plan.index];
      const char* dir = plan.descending ? " DESC" : " ASC";
      sql = "SELECT id FROM " + IndexTable(index.ix) + " WHERE 1";
      for (size_t k = 0; k < plan.equal.size(); ++k) {
        sql += " AND k" + std::to_string(k) + " = ?";
        binds.push_back(json::Dump(plan.equal[k]));
      }
      const std::string column = "k" + std::to_string(plan.equal.size());
      if (plan.low) {
        sql += " AND " + column + (plan.low->op == RangeOp::kGt ? " > ?" : " >= ?");
        binds.push_back(json::Dump(plan.low->value));
      }
      if (plan.high) {
        sql += " AND " + column + (plan.high->op == RangeOp::kLt ? " < ?" : " <= ?");
        binds.push_back(json::Dump(plan.high->value));
      }
      sql += " ORDER BY ";
      for (size_t k = 0; k < index.def.fields.size(); ++k) sql += "k" + std::to_string(k) + dir + ", ";
      sql += std::string("id") + dir;
    } else {
      // Every live document but the design documents ('0' follows '/').
      sql = std::string("SELECT id FROM docs WHERE deleted = 0 AND (id < '_design/' OR id >= '_design0') ORDER BY id") +
            (out.plan.descending ? " DESC" : " ASC");
    }
    if (!out.plan.empty && o.limit > 0) {
      Statement& s = (*r).Prepare(sql);
      for (size_t b = 0; b < binds.size(); ++b) s.Bind(static_cast<int>(b + 1), binds[b]);
      while (s.Step()) {
        ++out.stats.total_keys_examined;
        Result<bool> more = visit(s.Text(0));
        if (!more.ok()) {
          s.Reset();
          return more.status();
        }
        if (!*more) break;
      }
      Status st = s.status();
      s.Reset();
      WISP_RETURN_IF_ERROR(st);
    }
    out.stats.results_returned = static_cast<int64_t>(out.docs.size());
    out.stats.execution_time_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    return out;
  }

  std::vector<IndexDef> ListIndexes() {
    std::vector<IndexDef> out;
    Reader r = Read();
    if (!r.ok()) return out;
    auto indexes = LoadIndexes(*r);
    if (!indexes.ok()) return out;
    for (LiveIndex& index : *indexes) out.push_back(std::move(index.def));
    return out;
  }

  // Reads a design document for an edit of its indexes: the winner, or a
  // new query design document when there is none.
  Result<Json> DesignDocForEdit(const std::string& ddoc, bool create) {
    Result<Json> current = Get(ddoc, GetOptions{});
    if (current.ok()) return std::move(*current);
    if (!current.status().IsNotFound() || !create) return current.status();
    return Json{{"_id", ddoc}, {"language", kQueryLanguage}};
  }

  // A write of a design document that retries when a concurrent edit wins.
  static constexpr int kDesignDocAttempts = 5;

  Result<CreateIndexResult> CreateIndex(const IndexDef& index) {
    CreateIndexResult result;
    result.id = index.ddoc;
    result.name = index.name;
    for (int attempt = 0; attempt < kDesignDocAttempts; ++attempt) {
      WISP_ASSIGN_OR_RETURN(Json ddoc, DesignDocForEdit(index.ddoc, /*create=*/true));
      const Json language = ddoc.value("language", Json());
      if (language != kQueryLanguage) {
        return Status::InvalidArgument(std::string(mango_reason::kInvalidDdocLanguage) + json::Dump(language));
      }
      if (!AddIndexToDesignDoc(ddoc, index)) return result;
      std::vector<Json> one;
      one.push_back(std::move(ddoc));
      WriteResult w = std::move(BulkDocs(std::move(one), true).front());
      if (w.status.ok()) {
        result.created = true;
        return result;
      }
      if (!w.status.IsConflict()) return w.status;
    }
    return Status::Conflict("Encountered a conflict while saving the design document.");
  }

  Status DeleteIndex(const std::string& ddoc_id, const std::string& name) {
    for (int attempt = 0; attempt < kDesignDocAttempts; ++attempt) {
      Result<Json> ddoc = DesignDocForEdit(ddoc_id, /*create=*/false);
      if (!ddoc.ok()) return ddoc.status().IsNotFound() ? Status::NotFound("missing") : ddoc.status();
      if (json::GetString(*ddoc, "language") != kQueryLanguage || !RemoveIndexFromDesignDoc(*ddoc, name)) {
        return Status::NotFound("missing");
      }
      // A query design document left with nothing but its language goes.
      bool empty = true;
      for (auto it = ddoc->begin(); it != ddoc->end(); ++it) {
        if (it.key() != "_id" && it.key() != "_rev" && it.key() != "language") empty = false;
      }
      if (empty) *ddoc = {{"_id", ddoc_id}, {"_rev", (*ddoc)["_rev"]}, {"_deleted", true}};
      std::vector<Json> one;
      one.push_back(std::move(*ddoc));
      WriteResult w = std::move(BulkDocs(std::move(one), true).front());
      if (w.status.ok()) return Status::Ok();
      if (!w.status.IsConflict()) return w.status;
    }
    return Status::Conflict("Encountered a conflict while saving the design document.");
  }

  // ----------------------------------------------------------- local docs

  Result<Json> GetLocal(const std::string& id) {
    Reader r = Read();
    if (!r.ok()) return Status::IoError("cannot read " + name_);
    Statement& s = (*r).Prepare("SELECT rev, body FROM local_docs WHERE id = ?");
    s.Bind(1, id);
    if (!s.Step()) {
      Status st = s.status();
      s.Reset();
      return st.ok() ? Status::NotFound("missing") : st;
    }
    const int64_t rev = s.Int(0);
    const std::string text = s.Text(1);
    s.Reset();
    WISP_ASSIGN_OR_RETURN(Json body, json::Parse(text));
    Json doc = {{"_id", id}, {"_rev", "0-" + std::to_string(rev)}};
    for (auto& [k, v] : body.items()) doc[k] = std::move(v);
    return doc;
  }

  WriteResult PutLocal(const std::string& id, Json doc) {
    if (!doc.is_object()) return Failure(id, Status::InvalidArgument("Document must be a JSON object"), "bad_request");
    if (doc.contains("_attachments")) {
      return Failure(id, Status::InvalidArgument("_local documents do not accept attachments."), "bad_request");
    }
    // Last write wins, as in CouchDB 2+: the new rev is one more than the given one.
    int64_t given = 0;
    if (auto it = doc.find("_rev"); it != doc.end() && it->is_string()) {
      const std::string text = it->get<std::string>();
      const size_t dash = text.find('-');
      try {
        given = std::stoll(dash == std::string::npos ? text : text.substr(dash + 1));
      } catch (...) {
        given = 0;
      }
    }
    Json body = Json::object();
    for (auto& [k, v] : doc.items()) {
      if (k == "_id" || k == "_rev") continue;
      body[k] = std::move(v);
    }
    const int64_t rev = given + 1;
    Status s = Write([&](Connection& c, Txn&) {
      return c.Prepare("INSERT OR REPLACE INTO local_docs (id, rev, body) VALUES (?, ?, ?)")
          .Bind(1, id)
          .Bind(2, rev)
          .Bind(3, json::Dump(body))
          .Run();
    });
    if (!s.ok()) return Failure(id, s);
    WriteResult ok;
    ok.id = id;
    ok.rev = "0-" + std::to_string(rev);
    return ok;
  }

  WriteResult DeleteLocal(const std::string& id) {
    bool existed = false;
    Status s = Write([&](Connection& c, Txn&) {
      WISP_RETURN_IF_ERROR(c.Prepare("DELETE FROM local_docs WHERE id = ?").Bind(1, id).Run());
      existed = sqlite3_changes(c.raw()) > 0;
      return Status::Ok();
    });
    if (!s.ok()) return Failure(id, s);
    if (!existed) return Failure(id, Status::NotFound("missing"));
    WriteResult ok;
    ok.id = id;
    ok.rev = "0-0";
    return ok;
  }

  // ----------------------------------------------------------- attachments

  Result<Attachment> GetAttachment(const std::string& id, const std::string& name,
                                   const std::optional<std::string>& rev) {
    GetOptions g;
    g.rev = rev;
    WISP_ASSIGN_OR_RETURN(Json doc, Get(id, g));
    if (!doc.contains("_attachments") || !doc["_attachments"].contains(name)) return Status::NotFound("Document is missing attachment");
    const Json& att = doc["_attachments"][name];
    Attachment out;
    out.content_type = json::GetString(att, "content_type", "application/octet-stream");
    out.digest = json::GetString(att, "digest");
    out.revpos = json::GetInt(att, "revpos", 0);
    Reader r = Read();
    if (!r.ok()) return Status::IoError("cannot read " + name_);
    WISP_ASSIGN_OR_RETURN(out.data, AttachmentData(*r, out.digest));
    return out;
  }

  // Loads the current winner (or an empty new doc) for an attachment edit.
  Result<Json> DocForAttachmentEdit(const std::string& id, const std::optional<std::string>& rev) {
    GetOptions g;
    auto current = Get(id, g);
    if (!current.ok()) {
      if (!current.status().IsNotFound()) return current.status();
      Json fresh = {{"_id", id}};
      if (rev) fresh["_rev"] = *rev;  // a rev on a missing doc conflicts, as in CouchDB
      return fresh;
    }
    Json doc = std::move(*current);
    if (rev) doc["_rev"] = *rev;
    else doc.erase("_rev");  // no rev on an existing doc: a conflict, as in CouchDB
    return doc;
  }

  WriteResult PutAttachment(const std::string& id, const std::string& name, const std::optional<std::string>& rev,
                            const std::string& content_type, std::string data) {
    auto doc = DocForAttachmentEdit(id, rev);
    if (!doc.ok()) return Failure(id, doc.status());
    (*doc)["_attachments"][name] = {{"content_type", content_type}, {"data", Base64Encode(data)}};
    std::vector<Json> one;
    one.push_back(std::move(*doc));
    return std::move(BulkDocs(std::move(one), true).front());
  }

  WriteResult DeleteAttachment(const std::string& id, const std::string& name, const std::optional<std::string>& rev) {
    auto doc = DocForAttachmentEdit(id, rev);
    if (!doc.ok()) return Failure(id, doc.status());
    if (!doc->contains("_attachments") || !(*doc)["_attachments"].contains(name)) {
      return Failure(id, Status::NotFound("Document is missing attachment"));
    }
    (*doc)["_attachments"].erase(name);
    std::vector<Json> one;
    one.push_back(std::move(*doc));
    return std::move(BulkDocs(std::move(one), true).front());
  }

  // ----------------------------------------------------------- maintenance

  Status Compact() {
    compacting_ = true;
    Status s = Write([&](Connection& c, Txn&) {
      // Bodies of revisions that are no longer leaves.
      std::vector<std::pair<std::string, std::string>> trees;
      Statement& all = c.Prepare("SELECT id, tree FROM docs");
      while (all.Step()) trees.emplace_back(all.Text(0), all.Text(1));
      WISP_RETURN_IF_ERROR(all.status());
      all.Reset();
      for (auto& [id, text] : trees) {
        WISP_ASSIGN_OR_RETURN(Json tree_json, json::Parse(text));
        WISP_ASSIGN_OR_RETURN(RevTree tree, RevTree::FromJson(tree_json));
        std::vector<Rev> stale = tree.NonLeafRevsWithBodies();
        if (stale.empty()) continue;
        for (const Rev& rev : stale) {
          WISP_RETURN_IF_ERROR(c.Prepare("DELETE FROM revs WHERE id = ? AND rev = ?").Bind(1, id).Bind(2, rev.ToString()).Run());
          WISP_RETURN_IF_ERROR(tree.MarkBodyMissing(rev));
        }
        WISP_RETURN_IF_ERROR(
            c.Prepare("UPDATE docs SET tree = ? WHERE id = ?").Bind(1, json::Dump(tree.ToJson())).Bind(2, id).Run());
      }
      // Attachment data no remaining body refers to.
      std::set<std::string> referenced;
      Statement& bodies = c.Prepare("SELECT body FROM revs");
      while (bodies.Step()) {
        auto body = json::Parse(bodies.Text(0));
        if (!body.ok() || !body->contains("_attachments")) continue;
        for (auto& [n, att] : (*body)["_attachments"].items()) referenced.insert(json::GetString(att, "digest"));
      }
      WISP_RETURN_IF_ERROR(bodies.status());
      bodies.Reset();
      std::vector<std::string> unreferenced;
      Statement& digests = c.Prepare("SELECT digest FROM attachments");
      while (digests.Step()) {
        std::string d = digests.Text(0);
        if (!referenced.count(d)) unreferenced.push_back(std::move(d));
      }
      digests.Reset();
      for (const std::string& d : unreferenced) {
        WISP_RETURN_IF_ERROR(c.Prepare("DELETE FROM attachments WHERE digest = ?").Bind(1, d).Run());
      }
      return Status::Ok();
    });
    if (s.ok()) {
      // Give the freed pages back to the file system. The writer connection
      // belongs to whoever leads a commit, so this goes through Write() too.
      s = Write([](Connection& c, Txn&) { return c.Exec("PRAGMA incremental_vacuum"); });
    }
    compacting_ = false;
    return s;
  }

  Json Security() {
    Reader r = Read();
    if (r.ok()) {
      if (auto text = ReadMeta(*r, "security")) {
        auto parsed = json::Parse(*text);
        if (parsed.ok()) return *parsed;
      }
    }
    return Json::object();
  }

  Status SetSecurity(const Json& security) {
    if (!security.is_object()) return Status::InvalidArgument("Security object must be a JSON object");
    const std::string text = json::Dump(security);
    return Write([&](Connection& c, Txn&) { return WriteMeta(c, "security", text); });
  }

  int64_t RevsLimit() { return revs_limit_.load(); }

  Status SetRevsLimit(int64_t limit) {
    if (limit < 1) return Status::InvalidArgument("revs_limit must be positive");
    Status s = Write([&](Connection& c, Txn&) { return WriteMeta(c, "revs_limit", std::to_string(limit)); });
    if (s.ok()) revs_limit_ = limit;
    return s;
  }

  Status CheckIntegrity() {
    Reader r = Read();
    if (!r.ok()) return Status::IoError("cannot read " + name_);
    Statement& check = (*r).Prepare("PRAGMA integrity_check");
    if (check.Step() && check.Text(0) != "ok") {
      std::string problem = check.Text(0);
      check.Reset();
      return Status::Internal("integrity_check: " + problem);
    }
    check.Reset();
    std::vector<std::string> ids;
    Statement& all = (*r).Prepare("SELECT id FROM docs");
    while (all.Step()) ids.push_back(all.Text(0));
    all.Reset();
    for (const std::string& id : ids) {
      WISP_ASSIGN_OR_RETURN(std::optional<DocRow> row, LoadRow(*r, id));
      if (!row) continue;
      if (row->tree.Winner().ToString() != row->winner) return Status::Internal(id + ": stored winner is not the tree's winner");
      if (row->tree.WinnerDeleted() != row->deleted) return Status::Internal(id + ": stored deleted flag is wrong");
      for (const Rev& leaf : row->tree.Leaves()) {
        WISP_ASSIGN_OR_RETURN(std::optional<Json> body, LoadBody(*r, id, leaf.ToString()));
        if (!body) return Status::Internal(id + ": leaf " + leaf.ToString() + " has no body");
        if (!body->contains("_attachments")) continue;
        for (auto& [name, att] : (*body)["_attachments"].items()) {
          if (!HasAttachmentData(*r, json::GetString(att, "digest"))) {
            return Status::Internal(id + ": attachment " + name + " of " + leaf.ToString() + " has no data");
          }
        }
      }
    }
    WISP_RETURN_IF_ERROR(CheckSequenceAndCounts(*r));
    return CheckIndexes(*r, ids);
  }

  // The changes feed and the counts that GET /{db} reports agree with the
  // documents: no body belongs to a missing document, every sequence number
  // is positive, and the counters match the table. A reader may see a commit
  // that the counters do not show yet, so they are compared only when the
  // snapshot's last sequence is the counters' own.
  Status CheckSequenceAndCounts(Connection& c) {
    Statement& orphans = c.Prepare("SELECT COUNT(*) FROM revs WHERE id NOT IN (SELECT id FROM docs)");
    const int64_t orphan_bodies = orphans.Step() ? orphans.Int(0) : 0;
    orphans.Reset();
    if (orphan_bodies > 0) return Status::Internal(std::to_string(orphan_bodies) + " bodies belong to no document");
    // One statement, so one snapshot.
    Statement& totals = c.Prepare(
        "SELECT COALESCE(MIN(seq), 1), COALESCE(MAX(seq), 0), COALESCE(SUM(deleted = 0), 0), "
        "COALESCE(SUM(deleted <> 0), 0) FROM docs");
    int64_t min_seq = 1;
    int64_t max_seq = 0;
    int64_t live = 0;
    int64_t deleted = 0;
    if (totals.Step()) {
      min_seq = totals.Int(0);
      max_seq = totals.Int(1);
      live = totals.Int(2);
      deleted = totals.Int(3);
    }
    totals.Reset();
    if (min_seq < 1) return Status::Internal("a document has sequence " + std::to_string(min_seq));
    std::lock_guard lock(seq_mu_);
    if (max_seq == update_seq_ && (live != doc_count_ || deleted != del_count_)) {
      return Status::Internal("doc_count " + std::to_string(doc_count_) + " and doc_del_count " +
                              std::to_string(del_count_) + ", but the table holds " + std::to_string(live) + " and " +
                              std::to_string(deleted));
    }
    return Status::Ok();
  }

  // Every Mango index holds exactly the keys of the current winners.
  static Status CheckIndexes(Connection& c, const std::vector<std::string>& ids) {
    WISP_ASSIGN_OR_RETURN(std::vector<LiveIndex> indexes, LoadIndexes(c));
    for (const LiveIndex& index : indexes) {
      std::map<std::string, std::string> expected;  // id -> the key's columns, as stored
      for (const std::string& id : ids) {
        if (IsDesignId(id)) continue;
        WISP_ASSIGN_OR_RETURN(std::optional<DocRow> row, LoadRow(c, id));
        if (!row) continue;
        WISP_ASSIGN_OR_RETURN(std::optional<Json> doc, WinnerForIndex(c, id, row->tree));
        if (!doc) continue;
        if (std::optional<std::vector<Json>> key = IndexKey(index.def, *doc)) {
          std::string text;
          for (const Json& v : *key) text += json::Dump(v) + "\n";
          expected[id] = std::move(text);
        }
      }
      std::string sql = "SELECT id";
      for (size_t k = 0; k < index.def.fields.size(); ++k) sql += ", k" + std::to_string(k);
      Statement& s = c.Prepare(sql + " FROM " + IndexTable(index.ix));
      size_t rows = 0;
      Status problem;
      while (s.Step() && problem.ok()) {
        ++rows;
        std::string text;
        for (size_t k = 0; k < index.def.fields.size(); ++k) text += s.Text(static_cast<int>(k + 1)) + "\n";
        auto want = expected.find(s.Text(0));
        if (want == expected.end() || want->second != text) {
          problem = Status::Internal(index.def.name + ": stale key for " + s.Text(0));
        }
      }
      s.Reset();
      WISP_RETURN_IF_ERROR(problem);
      if (rows != expected.size()) return Status::Internal(index.def.name + ": missing keys");
    }
    return Status::Ok();
  }

  Json Info() {
    Json info = Json::object();
    info["db_name"] = name_;
    {
      std::lock_guard lock(seq_mu_);
      info["update_seq"] = update_seq_;
      info["doc_count"] = doc_count_;
      info["doc_del_count"] = del_count_;
    }
    info["purge_seq"] = 0;
    info["instance_start_time"] = "0";
    info["compact_running"] = compacting_.load();
    info["disk_format_version"] = 8;
    std::error_code ec;
    const auto file_size = std::filesystem::file_size(path_, ec);
    info["sizes"] = {{"file", ec ? 0 : static_cast<int64_t>(file_size)}, {"external", 0}, {"active", 0}};
    info["props"] = Json::object();
    info["cluster"] = {{"q", 1}, {"n", 1}, {"w", 1}, {"r", 1}};
    return info;
  }

  bool compacting() const { return compacting_.load(); }

 private:
  static std::optional<std::string> ReadMeta(Connection& c, const std::string& key) {
    Statement& s = c.Prepare("SELECT value FROM meta WHERE key = ?");
    s.Bind(1, key);
    std::optional<std::string> out;
    if (s.Step()) out = s.Text(0);
    s.Reset();
    return out;
  }

  static Status WriteMeta(Connection& c, const std::string& key, const std::string& value) {
    return c.Prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)").Bind(1, key).Bind(2, value).Run();
  }

  const std::string path_;
  const std::string name_;
  const DatabaseOptions options_;
  std::atomic<size_t> max_document_bytes_{options_.max_document_bytes};
  std::unique_ptr<Connection> writer_;  // used only by the leading writer
  bool writer_syncs_ = true;            // the writer's synchronous=FULL is on (leader only)

  std::mutex queue_mu_;
  std::deque<Writer*> queue_;  // GUARDED_BY(queue_mu_)

  std::mutex seq_mu_;
  std::condition_variable seq_cv_;
  int64_t update_seq_ = 0;  // GUARDED_BY(seq_mu_): the last committed sequence number
  int64_t doc_count_ = 0;   // GUARDED_BY(seq_mu_)
  int64_t del_count_ = 0;   // GUARDED_BY(seq_mu_)

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> readers_;  // GUARDED_BY(readers_mu_): idle read connections

  // The Mango indexes as the writer last loaded them; only the leading
  // writer touches it (the queue orders the leaders).
  std::optional<std::vector<LiveIndex>> writer_indexes_;

  std::atomic<int64_t> revs_limit_{static_cast<int64_t>(kDefaultRevsLimit)};
  std::atomic<bool> compacting_{false};
};

Database::Database(std::string path, std::string name, std::unique_ptr<Impl> impl, StoreMetrics* metrics)
    : path_(std::move(path)), name_(std::move(name)), impl_(std::move(impl)), metrics_(metrics) {}

Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, const std::string& name,
                                                 DatabaseOptions options) {
  auto impl = std::make_unique<Impl>(path, name, options);
  WISP_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Database>(new Database(path, name, std::move(impl), options.metrics));
}

Json Database::Info() { return impl_->Info(); }
int64_t Database::update_seq() { return impl_->UpdateSeq(); }

void Database::SetMaxDocumentBytes(size_t bytes) { impl_->SetMaxDocumentBytes(bytes); }
std::vector<WriteResult> Database::BulkDocs(std::vector<Json> docs, bool new_edits, Durability durability) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kBulk);
  return impl_->BulkDocs(std::move(docs), new_edits, durability);
}
WriteResult Database::Put(Json doc, bool new_edits, Durability durability) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kWrite);
  std::vector<Json> one;
  one.push_back(std::move(doc));
  return std::move(impl_->BulkDocs(std::move(one), new_edits, durability).front());
}
Result<Json> Database::Get(const std::string& id, const GetOptions& options) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kRead);
  return impl_->Get(id, options);
}
Result<Json> Database::OpenRevs(const std::string& id, const std::vector<std::string>& revs, const GetOptions& options) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kRead);
  return impl_->OpenRevs(id, revs, options);
}
Result<std::vector<OpenRevText>> Database::OpenRevsText(const std::string& id, const std::vector<std::string>& revs,
                                                        const GetOptions& options) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kRead);
  return impl_->OpenRevsText(id, revs, options);
}
Json Database::AllDocs(const AllDocsOptions& options) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kQuery);
  return impl_->AllDocs(options);
}

std::string Database::AllDocsText(const AllDocsOptions& options) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kQuery);
  return impl_->AllDocsText(options);
}
ChangesPage Database::Changes(const ChangesOptions& options) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kChanges);
  return impl_->Changes(options);
}
bool Database::WaitForChange(int64_t since, std::chrono::steady_clock::time_point deadline) {
  return impl_->WaitForChange(since, deadline);
}
Json Database::RevsDiff(const Json& request) { return impl_->RevsDiff(request); }
Result<Json> Database::GetLocal(const std::string& id) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kLocal);
  return impl_->GetLocal(id);
}
WriteResult Database::PutLocal(const std::string& id, Json doc) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kLocal);
  return impl_->PutLocal(id, std::move(doc));
}
WriteResult Database::DeleteLocal(const std::string& id) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kLocal);
  return impl_->DeleteLocal(id);
}
Result<Attachment> Database::GetAttachment(const std::string& id, const std::string& name,
                                           const std::optional<std::string>& rev) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kAttachment);
  return impl_->GetAttachment(id, name, rev);
}
WriteResult Database::PutAttachment(const std::string& id, const std::string& name,
                                    const std::optional<std::string>& rev, const std::string& content_type,
                                    std::string data) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kAttachment);
  return impl_->PutAttachment(id, name, rev, content_type, std::move(data));
}
WriteResult Database::DeleteAttachment(const std::string& id, const std::string& name,
                                       const std::optional<std::string>& rev) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kAttachment);
  return impl_->DeleteAttachment(id, name, rev);
}
Result<FindResult> Database::Find(const FindOptions& options) {
  StoreMetrics::Timer timer(metrics_, StoreOp::kQuery);
  return impl_->Find(options, /*run=*/true);
}
Result<FindResult> Database::Explain(const FindOptions& options) { return impl_->Find(options, /*run=*/false); }
Result<CreateIndexResult> Database::CreateIndex(const IndexDef& index) { return impl_->CreateIndex(index); }
Status Database::DeleteIndex(const std::string& ddoc, const std::string& name) {
  return impl_->DeleteIndex(ddoc, name);
}
std::vector<IndexDef> Database::ListIndexes() { return impl_->ListIndexes(); }
Status Database::Compact() { return impl_->Compact(); }
bool Database::compact_running() const { return impl_->compacting(); }
Json Database::Security() { return impl_->Security(); }
Status Database::SetSecurity(const Json& security) { return impl_->SetSecurity(security); }
int64_t Database::RevsLimit() { return impl_->RevsLimit(); }
Status Database::SetRevsLimit(int64_t limit) { return impl_->SetRevsLimit(limit); }
Status Database::CheckIntegrity() { return impl_->CheckIntegrity(); }

}  // namespace wisp::store
