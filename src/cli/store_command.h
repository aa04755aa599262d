// `wisp store check DATA_DIR`: the integrity check of a data directory.
//
// Opens every database under DATA_DIR/dbs and runs Database::CheckIntegrity()
// on it: SQLite's `PRAGMA integrity_check`, then wisp's own invariants
// (revision trees against the stored winners, bodies and attachments,
// sequence numbers and document counts, Mango index keys). It prints one
// line per database and exits 0 when every one is sound, 1 when any is
// broken (the report names the database and the first problem found), 2
// for bad arguments. Run it while no server holds the directory: the check
// reads every row, and a server writing at the same time would only make it
// slower, not wrong, but a stopped server is what the fault tests check.
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace wisp::cli {

struct StoreOptions {
  std::string data_dir;
};

// Registers `store` and its subcommand `check` on `app`; returns `store check`.
CLI::App* AddStoreCommand(CLI::App& app, StoreOptions& options);

// Runs `store check`; the exit code (0 sound, 1 broken or unreadable, 2 bad arguments).
int RunStoreCheck(const StoreOptions& options);

}  // namespace wisp::cli
