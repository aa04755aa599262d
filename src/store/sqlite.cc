#include "store/sqlite.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "json/json.h"
#include "store/collation.h"

namespace wisp::store {
namespace {

// The kJsonCollation sequence: both sides are JSON texts (Mango index keys),
// ordered by CouchDB view collation. Text that does not parse, which the
// store never writes, sorts after all JSON, by bytes, so the order stays total.
int CompareJsonText(void*, int a_len, const void* a_data, int b_len, const void* b_data) {
  const std::string_view a(static_cast<const char*>(a_data), static_cast<size_t>(a_len));
  const std::string_view b(static_cast<const char*>(b_data), static_cast<size_t>(b_len));
  if (a == b) return 0;
  // Fast paths for the common keys, exactly as CollateJson orders them.
  auto plain_string = [](std::string_view t) {
    return t.size() >= 2 && t.front() == '"' && t.back() == '"' && t.find('\\') == std::string_view::npos;
  };
  if (plain_string(a) && plain_string(b)) return CollateString(a.substr(1, a.size() - 2), b.substr(1, b.size() - 2));
  auto small_integer = [](std::string_view t, int64_t* out) {
    const bool digits =
        !t.empty() && t.size() <= 18 && (t.front() == '-' ? t.size() > 1 : true) &&
        std::all_of(t.begin() + (t.front() == '-'), t.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return false;
    return std::from_chars(t.data(), t.data() + t.size(), *out).ec == std::errc();
  };
  int64_t ia = 0;
  int64_t ib = 0;
  if (small_integer(a, &ia) && small_integer(b, &ib)) return ia < ib ? -1 : (ia > ib ? 1 : 0);
  Result<Json> ja = json::Parse(a);
  Result<Json> jb = json::Parse(b);
  if (ja.ok() && jb.ok()) return CollateJson(*ja, *jb);
  if (ja.ok() != jb.ok()) return ja.ok() ? -1 : 1;
  return CollateRaw(a, b);
}

Status ErrorStatus(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xFF) {
    case SQLITE_FULL:
      // What a client sees in the CouchDB error's reason: the write was refused,
      // nothing of it was kept, and the cause is the operator's to fix.
      return Status::IoError("the disk is full: nothing was written (" + msg + ")");
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
      return Status::IoError(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(msg);
    default:
      return Status::Internal(msg);
  }
}

}  // namespace

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status_ = ErrorStatus(db_, rc, "sqlite step");
  return false;
}

Status Statement::Run() {
  while (Step()) {
  }
  Status s = status_;
  Reset();
  return s;
}

std::string Statement::Text(int column) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  const int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(p, static_cast<size_t>(n)) : std::string();
}

std::string_view Statement::TextView(int column) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  const int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string_view(p, static_cast<size_t>(n)) : std::string_view();
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

bool Statement::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  status_ = Status::Ok();
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, bool durable,
                                                        std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    Status s = ErrorStatus(db, rc, "cannot open " + path);
    sqlite3_close(db);
    return Status::IoError(s.message());
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  sqlite3_create_collation_v2(db, kJsonCollation, SQLITE_UTF8, nullptr, CompareJsonText, nullptr);
  // auto_vacuum only takes effect before the first table exists.
  const std::string pragmas = std::string("PRAGMA temp_store=MEMORY; PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; ") +
                              (durable ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=OFF;");
  WISP_RETURN_IF_ERROR(conn->Exec(pragmas));
  return conn;
}

Connection::~Connection() {
  cache_.clear();  // statements before the connection
  sqlite3_close(db_);
}

Status Connection::Exec(std::string_view sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Status s = ErrorStatus(db_, rc, "sqlite exec");
    sqlite3_free(err);
    return s;
  }
  return Status::Ok();
}

Statement& Connection::Prepare(const std::string& sql) {
  auto& slot = cache_[sql];
  if (!slot) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "wisp: bad SQL '%s': %s\n", sql.c_str(), sqlite3_errmsg(db_));
      std::abort();
    }
    slot = std::make_unique<Statement>(db_, stmt);
  } else {
    slot->Reset();
  }
  return *slot;
}

}  // namespace wisp::store
