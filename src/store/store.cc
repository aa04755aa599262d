#include "store/store.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "http/url.h"
#include "json/json.h"
#include "util/ids.h"
#include "util/log.h"

namespace wisp::store {
namespace fs = std::filesystem;

namespace {

// The server's identity, created once and kept: PouchDB's replication ids
// depend on it.
Result<std::string> LoadOrCreateUuid(const std::string& data_dir) {
  const fs::path file = fs::path(data_dir) / "server.json";
  std::ifstream in(file);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    WISP_ASSIGN_OR_RETURN(Json identity, json::ParseObject(text.str()));
    const std::string uuid = json::GetString(identity, "uuid");
    if (uuid.size() != 32) return Status::Internal(file.string() + " holds no valid uuid");
    return uuid;
  }
  const std::string uuid = NewId();
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << json::Dump(Json{{"uuid", uuid}}) << "\n";
    if (!out) return Status::IoError("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);  // atomic: a crash leaves the old state or the new one
  if (ec) return Status::IoError("cannot write " + file.string() + ": " + ec.message());
  return uuid;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& data_dir, DatabaseOptions options) {
  std::error_code ec;
  fs::create_directories(fs::path(data_dir) / "dbs", ec);
  if (ec) return Status::IoError("cannot create " + data_dir + ": " + ec.message());
  WISP_ASSIGN_OR_RETURN(std::string uuid, LoadOrCreateUuid(data_dir));
  return std::unique_ptr<Store>(new Store(data_dir, std::move(uuid), options));
}

Store::Store(std::string data_dir, std::string uuid, DatabaseOptions options)
    : data_dir_(std::move(data_dir)), uuid_(std::move(uuid)), options_(options) {}

std::string Store::PathFor(const std::string& name) const {
  // Names may hold '/', '$', '(', ')' and '+': encoded, each name is one file.
  return (fs::path(data_dir_) / "dbs" / (http::PercentEncode(name) + ".sqlite")).string();
}

Status Store::CreateDatabase(const std::string& name) {
  if (!IsValidDatabaseName(name)) return Status::InvalidArgument("illegal database name: " + name);
  std::lock_guard lock(mu_);
  const std::string path = PathFor(name);
  if (open_.count(name) || fs::exists(path)) return Status::PreconditionFailed("The database could not be created, the file already exists.");
  WISP_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path, name, options_));
  open_[name] = std::shared_ptr<Database>(std::move(db));
  log::Info("store", "database created", {{"db", name}});
  return Status::Ok();
}

Status Store::DeleteDatabase(const std::string& name) {
  std::lock_guard lock(mu_);
  const std::string path = PathFor(name);
  if (!open_.count(name) && !fs::exists(path)) return Status::NotFound("Database does not exist.");
  open_.erase(name);  // holders keep their handle; the file goes now
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix, ec);
  log::Info("store", "database deleted", {{"db", name}});
  return Status::Ok();
}

Result<std::shared_ptr<Database>> Store::GetDatabase(const std::string& name) {
  std::lock_guard lock(mu_);
  if (auto it = open_.find(name); it != open_.end()) return it->second;
  const std::string path = PathFor(name);
  if (!IsValidDatabaseName(name) || !fs::exists(path)) return Status::NotFound("Database does not exist.");
  WISP_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path, name, options_));
  auto shared = std::shared_ptr<Database>(std::move(db));
  open_[name] = shared;
  return shared;
}

std::vector<std::string> Store::ListDatabases() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(data_dir_) / "dbs", ec)) {
    const std::string file = entry.path().filename().string();
    const std::string suffix = ".sqlite";
    if (file.size() <= suffix.size() || file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    auto name = http::PercentDecode(file.substr(0, file.size() - suffix.size()));
    if (name.ok()) names.push_back(std::move(*name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace wisp::store
