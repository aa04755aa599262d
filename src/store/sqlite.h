// A thin RAII layer over the SQLite C API, for the store's own use.
//
// Statements are prepared once per connection and reset after each use.
// Errors come back as Status (IoError for the disk, Internal for misuse),
// never as exceptions.
//
// Thread-safety: a Connection and its statements belong to one thread at a
// time; the Database hands connections out under its own locks.
#pragma once

#include <cstdint>
#include <map>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace wisp::store {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds are 1-based, as in SQLite.
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, int64_t value);
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);

  // Advances to the next row: true with a row, false when done. A failure
  // sets status() and returns false.
  bool Step();
  const Status& status() const { return status_; }
  // Runs to completion, for statements without rows.
  Status Run();

  std::string Text(int column) const;
  // The same bytes without a copy: valid until the next Step() or Reset().
  std::string_view TextView(int column) const;
  int64_t Int(int column) const;
  bool IsNull(int column) const;

  // Clears bindings and rewinds, ready for reuse.
  void Reset();

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  Status status_;
};

// The collation sequence that orders JSON texts as CouchDB's view collation
// does (store/collation.h). Every Connection registers it; Mango index tables
// declare their key columns with it (docs/store_format.md).
inline constexpr char kJsonCollation[] = "couch_json";

class Connection {
 public:
  // Opens `path` (creating it) with the store's pragmas: WAL, foreign keys
  // off, a busy timeout, and synchronous FULL or OFF. Registers kJsonCollation.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool durable,
                                                  std::chrono::milliseconds busy_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without results.
  Status Exec(std::string_view sql);
  // A cached prepared statement, reset and ready to bind. Aborts on invalid
  // SQL: statements are written by us, not by users.
  Statement& Prepare(const std::string& sql);

  sqlite3* raw() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Statement>> cache_;
};

}  // namespace wisp::store
