// `wisp backup DB -o FILE` and `wisp restore FILE DB`: one database to and
// from a file in the line-delimited format of Cloudant's couchbackup
// (store/backup.h does the work; docs/backup.md has the format).
//
// Both speak to a CouchDB API over HTTP, like any CouchDB tool: without
// --url, the embedded store of a running `wisp serve` on 127.0.0.1:5984 as
// its admin (--admin, else DATA/admin.json, as `wisp user`); with --url (or
// COUCH_URL, as couchbackup reads it), any CouchDB server, with credentials
// from the URL's userinfo or --admin. On a terminal they draw a progress bar
// on stderr. An interrupted run leaves its log (FILE.backup-log or
// FILE.restore-log unless --log); running the same command again resumes.
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <cstddef>
#include <string>

namespace CLI {
class App;
}

namespace wisp::cli {

struct TransferOptions {
  std::string action;  // backup or restore, once parsed
  std::string db;
  std::string file;
  std::string url;    // the server's root; empty: the embedded store on 127.0.0.1:5984
  std::string admin;  // NAME:PASSWORD
  std::string data_dir = "./wisp-data";
  std::string log;  // empty: FILE.backup-log / FILE.restore-log
  size_t batch_size = 500;
};

// Registers `backup` and `restore` on `app`.
void AddBackupCommands(CLI::App& app, TransferOptions& options);

// Runs the parsed command; -1 when neither was on the command line,
// otherwise the exit code (0 done, 1 failed, 2 bad arguments).
int RunBackupIfParsed(const TransferOptions& options);

}  // namespace wisp::cli
