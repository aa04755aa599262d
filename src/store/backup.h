// Backup and restore of one database as a line-delimited file that Cloudant's
// couchbackup can read, and that reads couchbackup's files
// (docs/backup.md has the format and where the two tools differ).
//
// A backup file is a header line, then one line per batch: a JSON array of
// documents, each a revision with its `_rev`, its `_revisions` path and its
// attachments inline (base64 `data`). wisp writes every leaf revision of a
// document (the winner, its conflicts and deleted leaves) as its own entry,
// so a restore with new_edits=false rebuilds the same leaves.
//
// Both directions can resume. BackupDatabase() appends a checkpoint to its
// log after each batch is on disk (the sequence reached and the file's
// length); a second run with the same log cuts the file back to that length
// and goes on from that sequence. RestoreDatabase() records the last line
// whose documents were all written; a second run skips the lines up to it
// (writing them again would be harmless too: new_edits=false merges).
// A finished run removes its log.
//
// Thread-safety: each call runs on the caller's thread and uses its endpoint
// alone; the progress callback is called on that thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "json/json.h"
#include "util/result.h"

namespace wisp::store {

class Endpoint;

// How far a backup or restore has come, for a progress display.
struct TransferProgress {
  int64_t docs = 0;         // documents backed up, or document revisions restored
  int64_t revisions = 0;    // backup: entries written (every leaf of every document)
  int64_t total_docs = -1;  // backup: the database's documents at the start; -1 unknown
  int64_t bytes = 0;        // restore: bytes of the file read
  int64_t total_bytes = 0;  // restore: the file's size
  int64_t batches = 0;      // lines written or read
  bool resumed = false;     // this run continued an interrupted one
};

using ProgressCallback = std::function<void(const TransferProgress&)>;

struct BackupOptions {
  std::string file;           // the backup file (created, or cut back when resuming)
  std::string log;            // the checkpoint log; an existing one is resumed
  size_t batch_size = 500;    // documents per line (couchbackup's bufferSize)
  std::string tool_version;   // the header's `version`
  ProgressCallback progress;  // after each batch; may be empty
};

struct RestoreOptions {
  std::string file;
  std::string log;                          // the line reached; an existing one is resumed
  size_t max_docs_per_request = 500;        // one _bulk_docs never carries more
  size_t max_bytes_per_request = 8u << 20;  // ... nor more JSON than this (one doc alone may)
  ProgressCallback progress;
};

// Backs up the database of `source` (Open() not called yet) into
// `options.file`. Returns the final progress. Fails with the endpoint's
// error (NotFound for a missing database, Unauthenticated, ...) after
// retrying transient ones, IoError when a file cannot be written, and
// PreconditionFailed when the log belongs to a backup of another database
// or the file is shorter than the log says. After a failure the log stays,
// so the next run resumes.
Result<TransferProgress> BackupDatabase(Endpoint& source, const BackupOptions& options);

// Restores `options.file` (wisp's or couchbackup's format) into the database
// of `target`, creating it when missing. Unless it resumes, the database must
// be empty (as couchrestore requires), except a system database (`_users`,
// ...): PreconditionFailed otherwise. Fails with InvalidArgument, naming the
// line, for a line that is not part of the format, a document without
// `_rev`, or a document the target refuses (its id, error and reason), and
// with the endpoint's errors after retrying transient ones.
Result<TransferProgress> RestoreDatabase(Endpoint& target, const RestoreOptions& options);

// One line of a backup file, as a restore reads it.
enum class BackupLineKind {
  kBlank,         // empty (couchbackup leaves one after a clean resume)
  kHeader,        // line 1: {"name", "version", "mode", "attachments"?}
  kResumeMarker,  // couchbackup's {"marker": "@cloudant/couchbackup:resume"}
  kDocs,          // a JSON array of documents
  kCutShort,      // a batch an interrupted couchbackup left half-written; skipped
};

struct BackupLine {
  BackupLineKind kind = BackupLineKind::kBlank;
  Json value;  // the header object, or the array of documents
};

// Classifies line `line_number` (from 1). `after_header` says whether line 1
// was a header: files of couchbackup before 2.10 have none, and any line of
// theirs that is not JSON is a cut-short batch. InvalidArgument, naming the
// line, for anything else that is not part of the format.
Result<BackupLine> ParseBackupLine(std::string_view line, int64_t line_number, bool after_header);

}  // namespace wisp::store
