#include "store/store.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "http/url.h"
#include "json/json.h"
#include "store/digest.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/private_file.h"

namespace wisp::store {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kDatabaseSuffix = ".sqlite";
constexpr std::string_view kNameSuffix = ".name";
// No encoded legal name starts with it: the only legal names that begin with
// '_' are _users and _replicator.
constexpr std::string_view kDigestPrefix = "_long_";
// A file name may have 255 bytes (ext4, xfs, tmpfs, ...), and SQLite needs
// room for the "-journal" it appends while it creates the file. Every name
// whose encoded file name fits this has always had that file name.
constexpr size_t kMaxStem = 255 - std::string_view(".sqlite-journal").size();

// The database file's name without ".sqlite": the percent-encoded name when
// it fits, else "_long_" and the name's SHA-256 (a legal name of 238 bytes
// encodes to up to 714). Existing files keep their names: no migration.
std::string FileStem(const std::string& name) {
  std::string encoded = http::PercentEncode(name);
  if (encoded.size() <= kMaxStem) return encoded;
  return std::string(kDigestPrefix) + Sha256Hex(name);
}

bool IsDigestStem(std::string_view stem) { return stem.substr(0, kDigestPrefix.size()) == kDigestPrefix; }

// The name of a database whose file is `stem`.sqlite; nullopt when the file
// is not a database of this store. A digest cannot be decoded, so a
// database with a digest file name has its name in the side file
// `stem`.name, written (atomically) before the database file is created. A
// side file beats storing the name in the database's own `meta` table:
// `_all_dbs` stays a directory listing, with no SQLite file opened per name.
std::optional<std::string> NameOfStem(const fs::path& dbs, const std::string& stem) {
  if (!IsDigestStem(stem)) {
    Result<std::string> name = http::PercentDecode(stem);
    return name.ok() ? std::optional<std::string>(std::move(*name)) : std::nullopt;
  }
  std::ifstream in(dbs / (stem + std::string(kNameSuffix)));
  std::string name;
  if (!std::getline(in, name) || !IsValidDatabaseName(name) || FileStem(name) != stem) return std::nullopt;
  return name;
}

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
  // Names may hold '/', '$', '(', ')' and '+': encoded (or hashed, see
  // FileStem), each name is one file.
  return (fs::path(data_dir_) / "dbs" / (FileStem(name) + std::string(kDatabaseSuffix))).string();
}

std::optional<std::string> Store::NamePathFor(const std::string& name) const {
  const std::string stem = FileStem(name);
  if (!IsDigestStem(stem)) return std::nullopt;
  return (fs::path(data_dir_) / "dbs" / (stem + std::string(kNameSuffix))).string();
}

Status Store::CreateDatabase(const std::string& name) {
  if (!IsValidDatabaseName(name)) return Status::InvalidArgument("illegal database name: " + name);
  std::lock_guard lock(mu_);
  const std::string path = PathFor(name);
  if (open_.count(name) || fs::exists(path)) return Status::PreconditionFailed("The database could not be created, the file already exists.");
  const std::optional<std::string> name_path = NamePathFor(name);
  if (name_path) WISP_RETURN_IF_ERROR(WritePrivateFile(*name_path, name + "\n"));
  Result<std::unique_ptr<Database>> db = Database::Open(path, name, options_);
  if (!db.ok()) {
    std::error_code ec;
    if (name_path) fs::remove(*name_path, ec);
    return db.status();
  }
  open_[name] = std::shared_ptr<Database>(std::move(*db));
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
  // After the database: a crash in between leaves a side file that nothing lists.
  if (const std::optional<std::string> name_path = NamePathFor(name)) fs::remove(*name_path, ec);
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
  const fs::path dbs = fs::path(data_dir_) / "dbs";
  for (const auto& entry : fs::directory_iterator(dbs, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.size() <= kDatabaseSuffix.size() || !std::string_view(file).ends_with(kDatabaseSuffix)) continue;
    std::optional<std::string> name = NameOfStem(dbs, file.substr(0, file.size() - kDatabaseSuffix.size()));
    if (name) names.push_back(std::move(*name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace wisp::store
