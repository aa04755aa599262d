#include "store/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "store/replication_endpoint.h"

namespace wisp::store {
namespace {

// The names couchbackup gives its header and resume marker (docs/backup.md).
constexpr std::string_view kResumeMarkerValue = "@cloudant/couchbackup:resume";
constexpr std::string_view kResumeMarkerLine = R"({"marker":"@cloudant/couchbackup:resume"})";
constexpr char kToolName[] = "wisp";
constexpr char kFullMode[] = "full";

// Transient endpoint errors (store/replication_endpoint.h) are retried this
// many times, waiting twice as long each time.
constexpr int kAttempts = 6;
constexpr std::chrono::milliseconds kFirstBackoff{200};

const Status& StatusOf(const Status& status) { return status; }
template <typename T>
const Status& StatusOf(const Result<T>& result) {
  return result.status();
}

template <typename Call>
auto WithRetries(Call call) -> decltype(call()) {
  auto backoff = kFirstBackoff;
  for (int attempt = 1;; ++attempt) {
    auto result = call();
    if (result.ok() || !IsTransient(StatusOf(result)) || attempt == kAttempts) return result;
    std::this_thread::sleep_for(backoff);  // the peer is down or busy: give it time
    backoff *= 2;
  }
}

Status Errno(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

// A file written through its descriptor, so that it can be cut back to a
// checkpoint and synced to disk.
class OutputFile {
 public:
  OutputFile() = default;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Opens `path` for appending; `truncate` empties it first.
  Status Open(const std::string& path, bool truncate) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
    return fd_ < 0 ? Errno("cannot open", path) : Status::Ok();
  }

  Status Append(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot write", path_);
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  Status Sync() { return ::fdatasync(fd_) == 0 ? Status::Ok() : Errno("cannot sync", path_); }

  Result<int64_t> Size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return Errno("cannot stat", path_);
    return static_cast<int64_t>(st.st_size);
  }

  Status TruncateTo(int64_t length) {
    return ::ftruncate(fd_, length) == 0 ? Status::Ok() : Errno("cannot truncate", path_);
  }

 private:
  std::string path_;
  int fd_ = -1;
};

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The JSON lines of a log; a line cut short by a crash is left out.
std::vector<Json> ReadLogLines(const std::string& path) {
  std::vector<Json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    Result<Json> parsed = json::ParseObject(line);
    if (parsed.ok()) lines.push_back(std::move(*parsed));
  }
  return lines;
}

Status RemoveLog(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("cannot remove", path);
  return Status::Ok();
}

// Where an interrupted backup stopped: the last checkpoint of its log.
struct BackupCheckpoint {
  int64_t batch = 0;
  Json since = 0;
  int64_t bytes = 0;
  int64_t docs = 0;
  int64_t revisions = 0;
};

Json ToJson(const BackupCheckpoint& c) {
  return {{"batch", c.batch}, {"since", c.since}, {"bytes", c.bytes}, {"docs", c.docs}, {"revisions", c.revisions}};
}

// The documents of one page of changes: every leaf of each, as
// FetchRevisions() wants them.
std::vector<std::pair<std::string, std::vector<std::string>>> LeavesOf(const Json& results) {
  std::vector<std::pair<std::string, std::vector<std::string>>> wanted;
  for (const Json& change : results) {
    std::vector<std::string> revs;
    for (const Json& leaf : change.value("changes", Json::array())) {
      const std::string rev = json::GetString(leaf, "rev");
      if (!rev.empty()) revs.push_back(rev);
    }
    const std::string id = json::GetString(change, "id");
    if (!id.empty() && !revs.empty()) wanted.emplace_back(id, std::move(revs));
  }
  return wanted;
}

// The members of an attachment that CouchDB names in snake_case and
// couchbackup's files in camelCase: couchbackup (2.11) reads and writes
// documents through the IBM Cloudant SDK's model, so its files say
// `contentType`, and couchrestore drops a `content_type` it finds there.
// wisp writes the file's names and turns them back when it restores.
constexpr std::pair<std::string_view, std::string_view> kAttachmentMemberNames[] = {
    {"content_type", "contentType"}, {"encoded_length", "encodedLength"}};

enum class AttachmentNames { kCouchDb, kBackupFile };

void RenameAttachmentMembers(Json& doc, AttachmentNames to) {
  auto attachments = doc.find("_attachments");
  if (attachments == doc.end() || !attachments->is_object()) return;
  for (auto& [name, attachment] : attachments->items()) {
    if (!attachment.is_object()) continue;
    for (const auto& [couch, file] : kAttachmentMemberNames) {
      const std::string from(to == AttachmentNames::kBackupFile ? couch : file);
      const std::string into(to == AttachmentNames::kBackupFile ? file : couch);
      if (attachment.contains(from) && !attachment.contains(into)) {
        attachment[into] = std::move(attachment[from]);
        attachment.erase(from);
      }
    }
  }
}

bool IsSystemDatabase(const Json& info) { return json::GetString(info, "db_name").starts_with('_'); }

}  // namespace

Result<TransferProgress> BackupDatabase(Endpoint& source, const BackupOptions& options) {
  WISP_RETURN_IF_ERROR(WithRetries([&] { return source.Open(/*create=*/false); }));
  WISP_ASSIGN_OR_RETURN(Json info, WithRetries([&] { return source.Info(); }));
  TransferProgress progress;
  progress.total_docs = json::GetInt(info, "doc_count") + json::GetInt(info, "doc_del_count");

  // A log that exists belongs to an interrupted backup: go on from its last
  // checkpoint, with the file cut back to the length it had then.
  BackupCheckpoint at;
  OutputFile file;
  OutputFile log;
  const Json log_header = {{"backup_of", source.Describe()}};
  std::vector<Json> log_lines = FileExists(options.log) ? ReadLogLines(options.log) : std::vector<Json>{};
  if (log_lines.size() >= 2) {
    if (log_lines.front() != log_header) {
      return Status::PreconditionFailed(options.log + " is the log of another backup (" +
                                        json::GetString(log_lines.front(), "backup_of") +
                                        "); remove it to start a new backup");
    }
    const Json& last = log_lines.back();
    at = {json::GetInt(last, "batch"), last.value("since", Json(0)), json::GetInt(last, "bytes"),
          json::GetInt(last, "docs"), json::GetInt(last, "revisions")};
    WISP_RETURN_IF_ERROR(file.Open(options.file, /*truncate=*/false));
    WISP_ASSIGN_OR_RETURN(int64_t size, file.Size());
    if (size < at.bytes) {
      return Status::PreconditionFailed(options.file + " is shorter than its log " + options.log +
                                        " says; remove the log to start a new backup");
    }
    WISP_RETURN_IF_ERROR(file.TruncateTo(at.bytes));
    WISP_RETURN_IF_ERROR(log.Open(options.log, /*truncate=*/false));
    progress.resumed = true;
  } else {
    WISP_RETURN_IF_ERROR(file.Open(options.file, /*truncate=*/true));
    const Json header = {
        {"name", kToolName}, {"version", options.tool_version}, {"mode", kFullMode}, {"attachments", true}};
    WISP_RETURN_IF_ERROR(file.Append(json::Dump(header) + "\n"));
    WISP_RETURN_IF_ERROR(file.Sync());
    WISP_ASSIGN_OR_RETURN(at.bytes, file.Size());
    WISP_RETURN_IF_ERROR(log.Open(options.log, /*truncate=*/true));
    WISP_RETURN_IF_ERROR(log.Append(json::Dump(log_header) + "\n" + json::Dump(ToJson(at)) + "\n"));
  }
  progress.docs = at.docs;
  progress.revisions = at.revisions;
  progress.batches = at.batch;
  if (options.progress) options.progress(progress);

  const StopFlag never_stop = [] { return false; };
  while (true) {
    ChangesRequest request;
    request.since = at.since;
    request.limit = options.batch_size;
    WISP_ASSIGN_OR_RETURN(ChangesBatch page, WithRetries([&] { return source.Changes(request, never_stop); }));
    if (page.results.empty()) break;
    const auto wanted = LeavesOf(page.results);
    WISP_ASSIGN_OR_RETURN(std::vector<Json> revisions, WithRetries([&] { return source.FetchRevisions(wanted); }));

    // The batch reaches the disk before its checkpoint is written, so a
    // checkpoint never points past what the file holds.
    for (Json& revision : revisions) RenameAttachmentMembers(revision, AttachmentNames::kBackupFile);
    const auto entries = static_cast<int64_t>(revisions.size());
    if (entries > 0) {
      WISP_RETURN_IF_ERROR(file.Append(json::Dump(Json(std::move(revisions))) + "\n"));
      WISP_RETURN_IF_ERROR(file.Sync());
    }
    at.batch += 1;
    at.since = page.last_seq;
    at.docs += static_cast<int64_t>(wanted.size());
    at.revisions += entries;
    WISP_ASSIGN_OR_RETURN(at.bytes, file.Size());
    WISP_RETURN_IF_ERROR(log.Append(json::Dump(ToJson(at)) + "\n"));

    progress.docs = at.docs;
    progress.revisions = at.revisions;
    progress.batches = at.batch;
    progress.total_docs = std::max(progress.total_docs, progress.docs);
    if (options.progress) options.progress(progress);
  }
  WISP_RETURN_IF_ERROR(RemoveLog(options.log));
  return progress;
}

Result<BackupLine> ParseBackupLine(std::string_view line, int64_t line_number, bool after_header) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  BackupLine out;
  if (line.empty()) return out;
  auto bad = [line_number](const std::string& what) {
    return Status::InvalidArgument("line " + std::to_string(line_number) + " of the backup file " + what);
  };
  Result<Json> parsed = json::Parse(line);
  if (!parsed.ok()) {
    // couchbackup appends its resume marker to whatever an interrupted run
    // left, so a batch cut short ends with the marker; before 2.10 it wrote
    // no marker (and no header), and any broken line was such a batch.
    if (!after_header || line.ends_with(kResumeMarkerLine)) {
      out.kind = BackupLineKind::kCutShort;
      return out;
    }
    return bad("is not JSON: " + parsed.status().message());
  }
  Json& value = *parsed;
  if (value.is_array()) {
    for (const Json& doc : value) {
      if (!doc.is_object() || !doc.contains("_id") || !doc["_id"].is_string()) {
        return bad("holds an entry that is not a document with an _id");
      }
    }
    out.kind = BackupLineKind::kDocs;
    out.value = std::move(value);
    return out;
  }
  if (value.is_object() && json::GetString(value, "marker") == kResumeMarkerValue) {
    out.kind = BackupLineKind::kResumeMarker;
    return out;
  }
  if (value.is_object() && line_number == 1 && value.contains("name") && value.contains("version") &&
      value.contains("mode")) {
    out.kind = BackupLineKind::kHeader;
    out.value = std::move(value);
    return out;
  }
  return bad("is neither an array of documents nor a header");
}

namespace {

// Writes one line's documents in requests no larger than the options allow.
Status WriteLine(Endpoint& target, Json docs, int64_t line_number, const RestoreOptions& options) {
  std::vector<Json> chunk;
  size_t chunk_bytes = 0;
  auto flush = [&]() -> Status {
    if (chunk.empty()) return Status::Ok();
    std::vector<Json> sending = std::move(chunk);
    chunk.clear();
    chunk_bytes = 0;
    WISP_ASSIGN_OR_RETURN(std::vector<DocWriteError> errors, WithRetries([&]() -> Result<std::vector<DocWriteError>> {
                            return target.WriteRevisions(sending);
                          }));
    if (errors.empty()) return Status::Ok();
    const DocWriteError& first = errors.front();
    return Status::InvalidArgument("line " + std::to_string(line_number) + ": the target refused " +
                                   std::to_string(errors.size()) + " document(s), the first " + first.id + ": " +
                                   first.error + (first.reason.empty() ? "" : " (" + first.reason + ")"));
  };
  for (Json& doc : docs) {
    if (!doc.contains("_rev") || !doc["_rev"].is_string()) {
      return Status::InvalidArgument("line " + std::to_string(line_number) + ": document " +
                                     json::GetString(doc, "_id") +
                                     " has no _rev (a restore writes revisions as they were)");
    }
    RenameAttachmentMembers(doc, AttachmentNames::kCouchDb);
    const size_t bytes = json::Dump(doc).size();
    if (!chunk.empty() &&
        (chunk.size() >= options.max_docs_per_request || chunk_bytes + bytes > options.max_bytes_per_request)) {
      WISP_RETURN_IF_ERROR(flush());
    }
    chunk.push_back(std::move(doc));
    chunk_bytes += bytes;
  }
  return flush();
}

}  // namespace

Result<TransferProgress> RestoreDatabase(Endpoint& target, const RestoreOptions& options) {
  std::ifstream in(options.file, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + options.file + ": " + std::strerror(errno));
  TransferProgress progress;
  in.seekg(0, std::ios::end);
  progress.total_bytes = static_cast<int64_t>(in.tellg());
  in.seekg(0);

  WISP_RETURN_IF_ERROR(WithRetries([&] { return target.Open(/*create=*/true); }));
  const Json log_header = {{"restore_into", target.Describe()}};
  std::vector<Json> log_lines = FileExists(options.log) ? ReadLogLines(options.log) : std::vector<Json>{};
  int64_t done_lines = 0;
  OutputFile log;
  if (log_lines.size() >= 2 && log_lines.front() == log_header) {
    done_lines = json::GetInt(log_lines.back(), "line");
    progress.docs = json::GetInt(log_lines.back(), "docs");
    progress.resumed = true;
    WISP_RETURN_IF_ERROR(log.Open(options.log, /*truncate=*/false));
  } else {
    WISP_ASSIGN_OR_RETURN(Json info, WithRetries([&] { return target.Info(); }));
    if (!IsSystemDatabase(info) && json::GetInt(info, "doc_count") + json::GetInt(info, "doc_del_count") > 0) {
      return Status::PreconditionFailed("the database " + target.Describe() +
                                        " is not empty; restore into a new or empty database");
    }
    WISP_RETURN_IF_ERROR(log.Open(options.log, /*truncate=*/true));
    WISP_RETURN_IF_ERROR(log.Append(json::Dump(log_header) + "\n" + json::Dump(Json{{"line", 0}, {"docs", 0}}) + "\n"));
  }
  if (options.progress) options.progress(progress);

  bool after_header = false;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    progress.bytes += static_cast<int64_t>(line.size()) + 1;
    if (number > 1 && number <= done_lines) continue;  // line 1 still says whether there is a header
    WISP_ASSIGN_OR_RETURN(BackupLine parsed, ParseBackupLine(line, number, after_header));
    if (parsed.kind == BackupLineKind::kHeader) after_header = true;
    if (number <= done_lines) continue;
    if (parsed.kind == BackupLineKind::kDocs) {
      const int64_t count = static_cast<int64_t>(parsed.value.size());
      WISP_RETURN_IF_ERROR(WriteLine(target, std::move(parsed.value), number, options));
      progress.docs += count;
      progress.batches += 1;
      // Not synced: a checkpoint lost in a crash only means lines written again.
      WISP_RETURN_IF_ERROR(log.Append(json::Dump(Json{{"line", number}, {"docs", progress.docs}}) + "\n"));
    }
    if (options.progress) options.progress(progress);
  }
  if (in.bad()) return Status::IoError("cannot read " + options.file);
  WISP_RETURN_IF_ERROR(RemoveLog(options.log));
  return progress;
}

}  // namespace wisp::store
