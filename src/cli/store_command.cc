#include "cli/store_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "store/store.h"
#include "util/log.h"

namespace wisp::cli {

CLI::App* AddStoreCommand(CLI::App& app, StoreOptions& options) {
  CLI::App* store = app.add_subcommand("store", "Maintain the embedded store's data directory");
  store->require_subcommand(1);
  CLI::App* check = store->add_subcommand(
      "check", "Check every database's integrity (SQLite's and wisp's own invariants); exit 1 if any is broken");
  check->add_option("data_dir", options.data_dir, "The data directory (what `wisp serve --data-dir` used)")
      ->required();
  return check;
}

int RunStoreCheck(const StoreOptions& options) {
  // Store::Open would create a missing directory: a typo must not pass as an empty, sound store.
  const std::filesystem::path dbs = std::filesystem::path(options.data_dir) / "dbs";
  std::error_code ec;
  if (!std::filesystem::is_directory(dbs, ec)) {
    std::fprintf(stderr, "wisp store check: %s is not a wisp data directory (no dbs/ in it)\n",
                 options.data_dir.c_str());
    return 2;
  }
  log::Options quiet;
  quiet.level = log::Level::kError;  // the report is this command's output; the store's info lines are noise here
  (void)log::Configure(quiet);
  Result<std::unique_ptr<store::Store>> opened = store::Store::Open(options.data_dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "wisp store check: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  store::Store& store = **opened;
  int broken = 0;
  const std::vector<std::string> names = store.ListDatabases();
  for (const std::string& name : names) {
    Result<std::shared_ptr<store::Database>> db = store.GetDatabase(name);
    Status s = db.ok() ? (*db)->CheckIntegrity() : db.status();
    if (s.ok()) {
      const Json info = (*db)->Info();
      std::printf("ok      %s (%lld documents, update_seq %lld)\n", name.c_str(),
                  static_cast<long long>(info.value("doc_count", int64_t{0})),
                  static_cast<long long>(info.value("update_seq", int64_t{0})));
    } else {
      ++broken;
      std::printf("BROKEN  %s: %s\n", name.c_str(), s.ToString().c_str());
    }
  }
  std::printf("%zu databases checked, %d broken\n", names.size(), broken);
  return broken == 0 ? 0 : 1;
}

}  // namespace wisp::cli
