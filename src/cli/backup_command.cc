#include "cli/backup_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "cli/admin_credentials.h"
#include "cli/progress_bar.h"
#include "http/client.h"
#include "http/url.h"
#include "store/backup.h"
#include "store/replication_endpoint.h"

#ifndef WISP_VERSION
#define WISP_VERSION "dev"
#endif

namespace wisp::cli {
namespace {

constexpr char kEmbeddedStoreUrl[] = "http://127.0.0.1:5984";
// couchbackup's requestTimeout: a batch of large documents may take a while.
constexpr std::chrono::seconds kRequestTimeout{120};

// The endpoint spec of store/replication_endpoint.h for DB on the server.
Result<Json> EndpointSpec(const TransferOptions& o) {
  std::string base = o.url.empty() ? kEmbeddedStoreUrl : o.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  Json spec = {{"url", base + "/" + http::PercentEncode(o.db)}};
  // The admin file is the embedded store's: its password never goes to a
  // server named by --url.
  if (o.url.empty() || !o.admin.empty()) {
    WISP_ASSIGN_OR_RETURN(AdminCredentials admin, ResolveAdmin(o.admin, o.data_dir));
    spec["auth"] = {{"basic", {{"username", admin.name}, {"password", admin.password}}}};
  }
  return spec;
}

int Fail(const TransferOptions& o, const std::string& message, int code = 1) {
  std::fprintf(stderr, "wisp %s: %s\n", o.action.c_str(), message.c_str());
  return code;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void AddBackupCommands(CLI::App& app, TransferOptions& o) {
  auto common = [&o](CLI::App* sub) {
    sub->add_option("--url", o.url, "A CouchDB server's root URL (default: the embedded store on 127.0.0.1:5984)")
        ->envname("COUCH_URL");
    sub->add_option("--admin", o.admin, "Credentials as NAME:PASSWORD (default: from DATA/admin.json without --url)");
    sub->add_option("--data-dir", o.data_dir, "wisp serve's data dir, for admin.json")->capture_default_str();
    sub->add_option("--log", o.log, "The resume log (default: FILE.backup-log or FILE.restore-log)");
    sub->callback([&o, sub] { o.action = sub->get_name(); });
  };
  CLI::App* backup = app.add_subcommand("backup", "Back up a database to a file (couchbackup's format)");
  backup->add_option("db", o.db, "The database")->required();
  backup->add_option("-o,--output", o.file, "The backup file")->required();
  backup->add_option("--batch-size", o.batch_size, "Documents per line of the file")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  common(backup);
  CLI::App* restore = app.add_subcommand("restore", "Restore a backup file (wisp's or couchbackup's) into a database");
  restore->add_option("file", o.file, "The backup file")->required();
  restore->add_option("db", o.db, "The database (created when missing; must be empty)")->required();
  common(restore);
}

int RunBackupIfParsed(const TransferOptions& o) {
  if (o.action.empty()) return -1;
  Result<Json> spec = EndpointSpec(o);
  if (!spec.ok()) return Fail(o, spec.status().message(), 2);
  http::Client client;
  Result<std::unique_ptr<store::Endpoint>> endpoint = store::MakeRemoteEndpoint(*spec, client, kRequestTimeout);
  if (!endpoint.ok()) return Fail(o, endpoint.status().message(), 2);

  const bool backup = o.action == "backup";
  ProgressBar bar(stderr, ::isatty(STDERR_FILENO) == 1, "docs");
  bool announced_resume = false;
  auto show = [&](const store::TransferProgress& p) {
    if (p.resumed && !announced_resume) {
      announced_resume = true;
      std::fprintf(stderr, "wisp %s: resuming an interrupted %s (%lld documents done)\n", o.action.c_str(),
                   o.action.c_str(), static_cast<long long>(p.docs));
    }
    if (backup) {
      bar.Update(p.total_docs > 0 ? static_cast<double>(p.docs) / p.total_docs : 0, p.docs, p.total_docs);
    } else {
      bar.Update(p.total_bytes > 0 ? static_cast<double>(p.bytes) / p.total_bytes : 0, p.docs, -1);
    }
  };
  const auto start = std::chrono::steady_clock::now();
  auto transfer = [&]() -> Result<store::TransferProgress> {
    if (backup) {
      store::BackupOptions options;
      options.file = o.file;
      options.log = o.log.empty() ? o.file + ".backup-log" : o.log;
      options.batch_size = o.batch_size;
      options.tool_version = WISP_VERSION;
      options.progress = show;
      return store::BackupDatabase(**endpoint, options);
    }
    store::RestoreOptions options;
    options.file = o.file;
    options.log = o.log.empty() ? o.file + ".restore-log" : o.log;
    options.progress = show;
    return store::RestoreDatabase(**endpoint, options);
  };
  Result<store::TransferProgress> done = transfer();
  if (done.ok()) {
    if (backup) {
      bar.Update(1, done->docs, done->docs, /*force=*/true);
    } else {
      bar.Update(1, done->docs, -1, /*force=*/true);
    }
  }
  bar.Finish();
  if (!done.ok()) {
    std::string message = done.status().message();
    if (done.status().IsUnauthenticated() || done.status().IsPermissionDenied()) {
      message += o.url.empty() ? " (check --admin or DATA/admin.json)" : " (put credentials in --url or --admin)";
    } else if (done.status().IsUnavailable() && o.url.empty()) {
      message += " (is `wisp serve` running? --url names another server)";
    }
    return Fail(o, message);
  }
  if (backup) {
    std::printf("ok: backed up %lld documents (%lld revisions) of %s to %s in %.1f s\n",
                static_cast<long long>(done->docs), static_cast<long long>(done->revisions), o.db.c_str(),
                o.file.c_str(), SecondsSince(start));
  } else {
    std::printf("ok: restored %lld document revisions from %s into %s in %.1f s\n", static_cast<long long>(done->docs),
                o.file.c_str(), o.db.c_str(), SecondsSince(start));
  }
  return 0;
}

}  // namespace wisp::cli
