// Store: every database under one data directory, plus the server's identity.
//
// Layout: DATA/server.json holds the server uuid (CouchDB's `GET /` uuid,
// which PouchDB builds replication ids from, so it must survive restarts);
// DATA/dbs/<escaped name>.sqlite holds one database each; a name whose
// escaped form is too long for a file name gets DATA/dbs/_long_<sha256>.sqlite
// and keeps the name in DATA/dbs/_long_<sha256>.name (docs/store_format.md).
//
// Thread-safety: every method may be called from any thread. A Database
// returned here stays usable by its holder even if it is deleted meanwhile.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"
#include "util/result.h"

namespace wisp::store {

class Store {
 public:
  // Opens the data directory, creating it and the server identity on first use.
  static Result<std::unique_ptr<Store>> Open(const std::string& data_dir, DatabaseOptions options = {});

  const std::string& uuid() const { return uuid_; }
  const std::string& data_dir() const { return data_dir_; }

  // InvalidArgument for an illegal name; PreconditionFailed when it exists.
  Status CreateDatabase(const std::string& name);
  // NotFound when it does not exist.
  Status DeleteDatabase(const std::string& name);
  // NotFound when it does not exist.
  Result<std::shared_ptr<Database>> GetDatabase(const std::string& name);
  // Sorted names.
  std::vector<std::string> ListDatabases();

 private:
  Store(std::string data_dir, std::string uuid, DatabaseOptions options);
  std::string PathFor(const std::string& name) const;
  // The side file that holds the name of a database whose file name is a
  // digest; nullopt for the others.
  std::optional<std::string> NamePathFor(const std::string& name) const;

  const std::string data_dir_;
  const std::string uuid_;
  const DatabaseOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Database>> open_;  // GUARDED_BY(mu_)
};

}  // namespace wisp::store
