#include "cli/replication_command.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <vector>

#include "cli/admin_credentials.h"
#include "cli/user_command.h"
#include "http/client.h"
#include "json/json.h"

namespace wisp::cli {
namespace {

// A sequence as a short cell: numbers as they are, CouchDB's long opaque
// strings cut to their leading part.
std::string SeqCell(const Json& seq) {
  if (seq.is_null()) return "-";
  std::string text = seq.is_string() ? seq.get<std::string>() : json::Dump(seq);
  if (text.size() > 16) text = text.substr(0, 13) + "...";
  return text;
}

std::string NumberCell(const Json& info, const char* key) {
  if (!info.is_object() || !info.contains(key) || info[key].is_null()) return "-";
  return json::Dump(info[key]);
}

}  // namespace

void AddReplicationCommand(CLI::App& app, ReplicationOptions& o) {
  CLI::App* replication = app.add_subcommand("replication", "The replication jobs of a running wisp");
  replication->require_subcommand(1);
  CLI::App* status = replication->add_subcommand("status", "Each job's state, checkpoint, progress and last error");
  status->add_option("--url", o.url, "The server's CouchDB API")->capture_default_str();
  status->add_option("--admin", o.admin, "The server admin as NAME:PASSWORD (default: from DATA/admin.json)");
  status->add_option("--data-dir", o.data_dir, "wisp serve's data dir, for admin.json")->capture_default_str();
  status->add_flag("--json", o.json, "Print the server's /_scheduler/docs answer");
  status->callback([&o] { o.status = true; });
}

int RunReplicationIfParsed(const ReplicationOptions& o) {
  if (!o.status) return -1;
  Result<AdminCredentials> admin = ResolveAdmin(o.admin, o.data_dir);
  if (!admin.ok()) {
    std::fprintf(stderr, "wisp replication: %s\n", admin.status().message().c_str());
    return 2;
  }
  std::string base = o.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  http::Client client;
  Result<Json> docs = CallStoreAsAdmin(client, *admin, "GET", base + "/_scheduler/docs");
  if (!docs.ok()) {
    std::fprintf(stderr, "wisp replication: %s\n", docs.status().message().c_str());
    return 1;
  }
  if (o.json) {
    std::printf("%s\n", json::Pretty(*docs).c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"JOB", "STATE", "CHECKPOINT", "WRITTEN", "PENDING", "LAST ERROR"}};
  for (const Json& doc : docs->value("docs", Json::array())) {
    const Json info = doc.value("info", Json::object());
    const std::string error = info.is_object() ? json::GetString(info, "error") : "";
    rows.push_back({json::GetString(doc, "doc_id"), json::GetString(doc, "state"),
                    SeqCell(info.is_object() ? info.value("checkpointed_source_seq", Json()) : Json()),
                    NumberCell(info, "docs_written"), NumberCell(info, "changes_pending"),
                    error.empty() ? "-" : error});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
  if (rows.size() == 1) std::printf("(no replication jobs)\n");
  return 0;
}

}  // namespace wisp::cli
