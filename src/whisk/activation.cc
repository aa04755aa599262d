#include "whisk/activation.h"

#include <algorithm>
#include <cstdio>

#include "util/ids.h"
#include "util/log.h"
#include "whisk/action_runtime.h"
#include "whisk/error_response.h"

namespace wisp::whisk {
namespace {

// How far before `since` the scan keeps looking: an activation's id is made
// when the request arrives, and its `start` can be later by its wait in the
// queue (bounded by the longest action timeout plus the blocking wait).
constexpr int64_t kStartSlackMs = 10 * 60 * 1000;

// Records queued and not yet committed beyond which Put() waits.
constexpr uint64_t kMaxUnwritten = 10'000;

// The epoch ms an activation id was made at (its first 12 hex digits).
int64_t IdMillis(std::string_view id) {
  int64_t ms = 0;
  for (size_t i = 0; i < 12 && i < id.size(); ++i) {
    const char c = id[i];
    ms = ms * 16 + (c >= 'a' ? c - 'a' + 10 : c - '0');
  }
  return ms;
}

std::string IdPrefixForMillis(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%012llx", static_cast<unsigned long long>(ms < 0 ? 0 : ms));
  return buf;
}

bool Matches(const Json& record, const ActivationQuery& q) {
  if (q.name && record.value("nameKey", "") != *q.name) return false;
  const int64_t start = json::GetInt(record, "start");
  if (q.since && start < *q.since) return false;
  if (q.upto && start > *q.upto) return false;
  return true;
}

}  // namespace

std::string NewActivationId(Clock::WallTime now) {
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  return IdPrefixForMillis(ms) + NewId().substr(0, 20);
}

Status ValidateActivationId(std::string_view id) {
  if (id.size() != 32) {
    return Status::InvalidArgument("Activation id length is " + std::to_string(id.size()) + " but must be 32.");
  }
  if (!IsId(id)) return Status::InvalidArgument("The activation id is not valid.");
  return Status::Ok();
}

Json ExtendedResponse(const Json& stored_response) {
  Json out = stored_response;
  const int code = static_cast<int>(json::GetInt(stored_response, "statusCode", 3));
  out.erase("statusCode");
  out["status"] = ActivationStatusText(static_cast<ActivationStatus>(code < 0 || code > 3 ? 3 : code));
  out["success"] = code == 0;
  return out;
}

Json ExtendedActivation(const Json& stored) {
  Json out = stored;
  for (const char* internal : {"_id", "_rev", "trace_id", "parent_id", "nameKey"}) out.erase(internal);
  out["response"] = ExtendedResponse(stored.value("response", Json::object()));
  if (json::GetInt(stored, "end") == 0) {
    out.erase("end");
    out.erase("duration");
  }
  return out;
}

Json SummaryActivation(const Json& stored) {
  Json out = Json::object();
  for (const char* key : {"namespace", "name", "version", "publish", "annotations", "activationId", "start", "cause"}) {
    if (stored.contains(key)) out[key] = stored[key];
  }
  if (json::GetInt(stored, "end") != 0) {
    out["end"] = stored["end"];
    out["duration"] = stored.value("duration", Json(0));
    out["statusCode"] = stored.value("response", Json::object()).value("statusCode", 0);
  }
  return out;
}

ActivationStore::ActivationStore(std::shared_ptr<store::Database> db)
    : db_(std::move(db)), writer_([this] { WriteLoop(); }) {
  store::IndexDef by_trace;
  by_trace.ddoc = "_design/wisp-traces";
  by_trace.name = "trace_id";
  by_trace.fields.push_back(store::SortField{"trace_id", {"trace_id"}, false});
  if (Result<store::CreateIndexResult> made = db_->CreateIndex(by_trace); !made.ok()) {
    // Traces still work, by a scan of every record.
    log::Error("whisk", "cannot index activations by trace", {{"error", made.status().ToString()}});
  }
}

ActivationStore::~ActivationStore() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  queued_cv_.notify_one();
  writer_.join();  // it writes what is queued before it stops
}

void ActivationStore::Put(Json record) {
  std::string id = json::GetString(record, "namespace") + "/" + json::GetString(record, "activationId");
  record["_id"] = id;
  Json copy = record;
  std::unique_lock lock(mu_);
  // Back-pressure: invokes wait rather than let the queue outgrow memory.
  committed_cv_.wait(lock, [&] { return queued_count_ - committed_count_ < kMaxUnwritten; });
  unwritten_.insert_or_assign(std::move(id), std::move(copy));
  queue_.push_back(std::move(record));
  ++queued_count_;
  if (queue_.size() == 1) queued_cv_.notify_one();
}

void ActivationStore::Flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = queued_count_;
  committed_cv_.wait(lock, [&] { return committed_count_ >= target; });
}

void ActivationStore::WriteLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    queued_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is written
    std::vector<Json> batch;
    batch.swap(queue_);
    lock.unlock();
    std::vector<std::string> ids;
    ids.reserve(batch.size());
    for (const Json& record : batch) ids.push_back(json::GetString(record, "_id"));
    // One transaction for the batch; OS-buffered, as OpenWhisk does not
    // wait for its records at all.
    const std::vector<store::WriteResult> written =
        db_->BulkDocs(std::move(batch), /*new_edits=*/true, store::Durability::kOsBuffered);
    for (const store::WriteResult& result : written) {
      if (!result.status.ok()) {
        log::Error("whisk", "cannot store activation", {{"id", result.id}, {"error", result.status.ToString()}});
      }
    }
    lock.lock();
    for (const std::string& id : ids) unwritten_.erase(id);
    committed_count_ += ids.size();
    committed_cv_.notify_all();
  }
}

Result<Json> ActivationStore::Get(const std::string& namespace_name, const std::string& activation_id) {
  const std::string id = namespace_name + "/" + activation_id;
  {
    std::lock_guard lock(mu_);
    if (const auto it = unwritten_.find(id); it != unwritten_.end()) return it->second;
  }
  Result<Json> doc = db_->Get(id, {});
  if (!doc.ok()) {
    if (doc.status().IsNotFound()) return Status::NotFound(std::string(kNotFoundText));
    return doc.status();
  }
  return doc;
}

void ActivationStore::Scan(const std::string& namespace_name, const ActivationQuery& query,
                           const std::function<bool(Json&)>& visit) {
  const std::string prefix = namespace_name + "/";
  store::AllDocsOptions options;
  options.descending = true;
  options.include_docs = true;
  options.startkey = query.upto ? prefix + IdPrefixForMillis(*query.upto + 1) : prefix + "\xef\xbf\xbf";
  options.endkey = prefix;
  const size_t kPage = 256;
  while (true) {
    options.limit = kPage;
    const Json page = db_->AllDocs(options);
    const Json rows = page.value("rows", Json::array());
    bool last_id_set = false;
    std::string last_id;
    for (const Json& row : rows) {
      last_id = row.value("id", "");
      last_id_set = true;
      if (query.since && IdMillis(last_id.substr(prefix.size())) < *query.since - kStartSlackMs) return;
      Json doc = row.value("doc", Json());
      if (!doc.is_object() || !Matches(doc, query)) continue;
      if (!visit(doc)) return;
    }
    if (rows.size() < kPage || !last_id_set) return;
    options.startkey = last_id;
    options.skip = 1;
  }
}

std::vector<Json> ActivationStore::List(const std::string& namespace_name, const ActivationQuery& query) {
  Flush();  // records of invokes that have returned are listed
  std::vector<Json> out;
  size_t skipped = 0;
  if (query.limit == 0) return out;
  Scan(namespace_name, query, [&](Json& doc) {
    if (skipped < query.skip) {
      ++skipped;
      return true;
    }
    out.push_back(std::move(doc));
    return out.size() < query.limit;
  });
  return out;
}

size_t ActivationStore::Count(const std::string& namespace_name, const ActivationQuery& query) {
  Flush();
  size_t n = 0;
  Scan(namespace_name, query, [&](Json&) {
    ++n;
    return true;
  });
  return n;
}

std::vector<Json> ActivationStore::ByTrace(const std::string& namespace_name, const std::string& trace_id,
                                           size_t limit) {
  Flush();
  std::vector<Json> out;
  Result<store::Selector> selector = store::Selector::Parse({{"trace_id", trace_id}, {"namespace", namespace_name}});
  if (!selector.ok()) return out;
  store::FindOptions find;
  find.selector = std::move(*selector);
  find.limit = limit;
  Result<store::FindResult> found = db_->Find(find);
  if (!found.ok()) {
    log::Error("whisk", "cannot find a trace's activations", {{"error", found.status().ToString()}});
    return out;
  }
  return std::move(found->docs);
}

size_t ActivationStore::DeleteOlderThan(int64_t cutoff_ms) {
  Flush();  // a queued record is deleted too, not written after the sweep
  // First every expired id (ids only, a page at a time), then the deletions:
  // deleting while paging would move the rows under the page boundary.
  std::vector<Json> tombstones;
  store::AllDocsOptions options;
  const size_t kPage = 1000;
  while (true) {
    options.limit = kPage;
    const Json page = db_->AllDocs(options);
    const Json rows = page.value("rows", Json::array());
    for (const Json& row : rows) {
      const std::string id = row.value("id", "");
      options.startkey = id;
      options.skip = 1;
      const size_t slash = id.find('/');
      if (id.starts_with("_design/") || slash == std::string::npos) continue;
      const std::string_view activation_id = std::string_view(id).substr(slash + 1);
      if (activation_id.size() != 32 || IdMillis(activation_id) >= cutoff_ms) continue;
      tombstones.push_back(
          {{"_id", id}, {"_rev", json::GetString(row.value("value", Json::object()), "rev")}, {"_deleted", true}});
    }
    if (rows.size() < kPage) break;
  }
  size_t deleted = 0;
  for (size_t at = 0; at < tombstones.size(); at += kPage) {
    std::vector<Json> batch(tombstones.begin() + static_cast<std::ptrdiff_t>(at),
                            tombstones.begin() + static_cast<std::ptrdiff_t>(std::min(at + kPage, tombstones.size())));
    for (const store::WriteResult& result : db_->BulkDocs(std::move(batch), /*new_edits=*/true)) {
      if (result.status.ok()) {
        ++deleted;
      } else if (!result.status.IsConflict()) {  // a conflict: someone else changed or deleted it
        log::Error("whisk", "cannot delete an expired activation",
                   {{"id", result.id}, {"error", result.status.ToString()}});
      }
    }
  }
  return deleted;
}

}  // namespace wisp::whisk
