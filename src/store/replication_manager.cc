#include "store/replication_manager.h"

#include <algorithm>
#include <vector>

#include "http/client.h"
#include "store/database.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"

namespace wisp::store {
namespace {

using Ms = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr char kNode[] = "nonode@nohost";
// How often the follower of `_replicator` wakes to notice Stop() and to
// reap the threads of finished jobs.
constexpr Ms kFollowInterval{250};
constexpr int kMaxSchedulerEvents = 20;

std::string Now() { return FormatIso8601(Clock::System().Now()); }
int64_t NowSeconds() { return Clock::System().NowMillis() / 1000; }

// The fields of a `_replicator` document that describe the job: everything
// but `_id`, `_rev` and the `_replication_*` fields the manager writes.
Json JobFields(const Json& doc) {
  Json fields = Json::object();
  for (const auto& [key, value] : doc.items()) {
    if (!key.empty() && key[0] == '_') continue;
    fields[key] = value;
  }
  return fields;
}

Json StatsJson(const ReplicationStats& s) {
  return {{"docs_read", s.docs_read},
          {"docs_written", s.docs_written},
          {"doc_write_failures", s.doc_write_failures},
          {"missing_checked", s.missing_checked},
          {"missing_found", s.missing_found}};
}

// The answer to a one-shot `/_replicate` whose job failed.
ReplicationManager::Reply FailureReply(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound: return {404, {{"error", "db_not_found"}, {"reason", s.message()}}};
    case StatusCode::kUnauthenticated: return {401, {{"error", "unauthorized"}, {"reason", s.message()}}};
    case StatusCode::kPermissionDenied: return {403, {{"error", "forbidden"}, {"reason", s.message()}}};
    case StatusCode::kInvalidArgument: return {400, {{"error", "bad_request"}, {"reason", s.message()}}};
    default: return {500, {{"error", "replication_failed"}, {"reason", s.message()}}};
  }
}

}  // namespace

struct ReplicationManager::Job {
  std::string id;  // the full replication id
  std::optional<std::string> doc_id;
  std::unique_ptr<Replication> replication;
  std::atomic<bool> stop{false};
  std::thread thread;
  std::once_flag joined;
  const std::string start_time = Now();
  const int64_t started_on = NowSeconds();

  std::mutex mu;
  std::condition_variable cv;          // backoff waits and `done`
  std::string state = "initializing";  // GUARDED_BY(mu)
  Status status;                       // the failure, when state is "failed"
  Json result;                         // a one-shot job's answer
  bool done = false;
  int error_count = 0;
  std::string last_updated = Now();
  Json history = Json::array();  // scheduler events, newest first

  void SetState(const std::string& new_state, const std::string& type, const std::string& reason = "") {
    std::lock_guard lock(mu);
    state = new_state;
    last_updated = Now();
    Json event = {{"timestamp", last_updated}, {"type", type}};
    if (!reason.empty()) event["reason"] = reason;
    history.insert(history.begin(), std::move(event));
    if (history.size() > kMaxSchedulerEvents) history.erase(history.end() - 1);
  }

  void Join() {
    std::call_once(joined, [this] {
      if (thread.joinable()) thread.join();
    });
  }
};

// What the manager knows of one `_replicator` document.
struct ReplicationManager::DocEntry {
  Json fields;         // JobFields() of the document
  std::string job_id;  // empty when no job runs for it
  std::string source;
  std::string target;
  std::string state;  // when no job runs: completed, failed
  std::string reason;
  Json stats = Json::object();
  int error_count = 0;
  std::string start_time = Now();
  std::string last_updated = Now();
};

ReplicationManager::ReplicationManager(Store& store, ReplicatorOptions options)
    : store_(store), options_(options), client_(std::make_unique<http::Client>()) {}

ReplicationManager::~ReplicationManager() { Stop(); }

Status ReplicationManager::Start() {
  Status created = store_.CreateDatabase(std::string(kReplicatorDb));
  if (!created.ok() && created.code() != StatusCode::kPreconditionFailed) return created;
  std::lock_guard lock(mu_);
  if (started_ || stopping_) return Status::Ok();
  started_ = true;
  follower_ = std::thread([this] { FollowReplicatorDb(); });
  return Status::Ok();
}

void ReplicationManager::Stop() {
  if (stopping_.exchange(true)) return;
  if (follower_.joinable()) follower_.join();
  std::vector<std::shared_ptr<Job>> jobs;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, job] : jobs_) jobs.push_back(job);
  }
  for (const auto& job : jobs) {
    job->stop = true;
    job->cv.notify_all();
  }
  for (const auto& job : jobs) job->Join();
  std::lock_guard lock(mu_);
  jobs_.clear();
}

std::shared_ptr<ReplicationManager::Job> ReplicationManager::StartJob(ReplicationSpec spec,
                                                                      std::optional<std::string> doc_id) {
  const std::string id = spec.FullId(store_.uuid());
  std::shared_ptr<Job> previous;
  {
    std::lock_guard lock(mu_);
    if (auto it = jobs_.find(id); it != jobs_.end()) {
      std::lock_guard job_lock(it->second->mu);
      if (!it->second->done && !it->second->stop) return it->second;  // already running: join it
      previous = it->second;
    }
  }
  if (previous) StopJob(previous);  // one that ended or is ending, with the same id
  auto job = std::make_shared<Job>();
  job->id = id;
  job->doc_id = std::move(doc_id);
  job->replication = std::make_unique<Replication>(std::move(spec), store_.uuid(), store_, *client_, options_);
  job->SetState("initializing", "added");
  std::lock_guard lock(mu_);
  if (auto it = jobs_.find(id); it != jobs_.end()) return it->second;  // another caller won the race
  if (stopping_) {
    // Stop() has collected the jobs already: this one never runs.
    std::lock_guard job_lock(job->mu);
    job->state = "stopped";
    job->status = Status::Cancelled("the server is stopping");
    job->done = true;
    return job;
  }
  jobs_[id] = job;
  job->thread = std::thread([this, job] { RunJob(job); });
  return job;
}

// The job's thread: sessions, with backoff between transient failures.
void ReplicationManager::RunJob(const std::shared_ptr<Job>& job) {
  const bool continuous = job->replication->spec().continuous;
  const StopFlag stopped = [job] { return job->stop.load(); };
  int failures_in_a_row = 0;
  Ms backoff = options_.initial_backoff;
  Result<Json> outcome = Status::Cancelled("not run");
  while (true) {
    job->SetState("running", "started");
    const auto began = SteadyClock::now();
    outcome = job->replication->Run(stopped);
    if (outcome.ok() || job->stop) break;
    const Status& s = outcome.status();
    if (SteadyClock::now() - began > options_.max_backoff) {
      // It ran well for a while: start the backoff over.
      failures_in_a_row = 0;
      backoff = options_.initial_backoff;
    }
    if (!IsTransient(s) || (!continuous && failures_in_a_row >= options_.one_shot_retries)) break;
    ++failures_in_a_row;
    log::Warn("store", "replication crashed; retrying",
              {{"replication_id", job->id}, {"error", s.message()}, {"backoff_ms", backoff.count()}});
    job->SetState("crashing", "crashed", s.message());
    std::unique_lock lock(job->mu);
    ++job->error_count;
    job->cv.wait_for(lock, backoff, [&] { return job->stop.load(); });
    if (job->stop) break;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }

  std::string state = "failed";
  std::string reason;
  if (outcome.ok()) {
    state = "completed";
  } else if (job->stop) {
    state = "stopped";
  } else {
    reason = outcome.status().message();
    log::Error("store", "replication failed", {{"replication_id", job->id}, {"error", reason}});
  }
  // The document first, so that a job seen as ended has its state recorded.
  if (job->doc_id && state != "stopped") {
    RecordDocState(*job->doc_id, state, reason, StatsJson(job->replication->Progress().stats));
  }
  job->SetState(state, state == "failed" ? "crashed" : state, reason);
  std::lock_guard lock(job->mu);
  if (outcome.ok()) job->result = std::move(*outcome);
  if (!outcome.ok()) job->status = outcome.status();
  job->done = true;
  job->cv.notify_all();
}

void ReplicationManager::StopJob(const std::shared_ptr<Job>& job) {
  job->stop = true;
  job->cv.notify_all();
  job->Join();
  std::lock_guard lock(mu_);
  if (auto it = jobs_.find(job->id); it != jobs_.end() && it->second == job) jobs_.erase(it);
}

void ReplicationManager::ReapFinished() {
  std::vector<std::shared_ptr<Job>> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      bool done;
      {
        std::lock_guard job_lock(it->second->mu);
        done = it->second->done;
      }
      if (done) {
        finished.push_back(it->second);
        it = jobs_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& job : finished) job->Join();
}

// ---------------------------------------------------------------------------
// POST /_replicate

ReplicationManager::Reply ReplicationManager::Replicate(const Json& body) {
  if (stopping_) return {503, {{"error", "service_unavailable"}, {"reason", "The server is stopping."}}};
  if (!body.is_object()) return {400, {{"error", "bad_request"}, {"reason", "Request body must be a JSON object"}}};
  ReapFinished();
  if (body.contains("cancel")) {
    if (!body["cancel"].is_boolean())
      return {400, {{"error", "bad_request"}, {"reason", "`cancel` must be a boolean"}}};
  }
  if (body.value("cancel", false)) {
    std::string id;
    if (body.contains("replication_id")) {
      if (!body["replication_id"].is_string()) {
        return {400, {{"error", "bad_request"}, {"reason", "`replication_id` must be a string"}}};
      }
      id = body["replication_id"].get<std::string>();
    } else {
      Result<ReplicationSpec> spec = ReplicationSpec::Parse(body);
      if (!spec.ok()) return {400, {{"error", "bad_request"}, {"reason", spec.status().message()}}};
      id = spec->FullId(store_.uuid());
    }
    std::shared_ptr<Job> job;
    {
      std::lock_guard lock(mu_);
      for (const auto& [job_id, candidate] : jobs_) {
        // The id with or without its "+continuous" suffixes.
        if (job_id == id || job_id.substr(0, job_id.find('+')) == id) job = candidate;
      }
    }
    if (!job) return {404, {{"error", "not_found"}, {"reason", id + ": Replication job not found"}}};
    StopJob(job);
    return {200, {{"ok", true}, {"_local_id", job->id}}};
  }

  Result<ReplicationSpec> spec = ReplicationSpec::Parse(body);
  if (!spec.ok()) return {400, {{"error", "bad_request"}, {"reason", spec.status().message()}}};
  const bool continuous = spec->continuous;
  std::shared_ptr<Job> job = StartJob(std::move(*spec), std::nullopt);
  if (continuous) return {202, {{"ok", true}, {"_local_id", job->id}}};

  std::unique_lock lock(job->mu);
  job->cv.wait(lock, [&] { return job->done; });
  Reply reply = job->state == "completed" ? Reply{200, job->result} : FailureReply(job->status);
  if (job->state == "stopped") reply = {500, {{"error", "replication_cancelled"}, {"reason", "The job was stopped."}}};
  lock.unlock();
  ReapFinished();
  return reply;
}

// ---------------------------------------------------------------------------
// The _replicator database

void ReplicationManager::FollowReplicatorDb() {
  int64_t since = 0;
  std::shared_ptr<Database> followed;
  while (!stopping_) {
    ReapFinished();
    Result<std::shared_ptr<Database>> db = store_.GetDatabase(std::string(kReplicatorDb));
    if (!db.ok()) {
      // Deleted: its jobs go with it, and a new one starts from scratch.
      std::vector<std::string> ids;
      {
        std::lock_guard lock(mu_);
        for (const auto& [doc_id, entry] : docs_) ids.push_back(doc_id);
      }
      for (const std::string& doc_id : ids) OnReplicatorDoc(doc_id, /*deleted=*/true);
      followed.reset();
      since = 0;
      std::this_thread::sleep_for(kFollowInterval);  // until someone creates it again
      continue;
    }
    if (*db != followed) {
      followed = *db;
      since = 0;
    }
    ChangesOptions options;
    options.since = since;
    options.limit = 100;
    ChangesPage page = followed->Changes(options);
    for (const Json& change : page.results) {
      if (stopping_) return;
      OnReplicatorDoc(json::GetString(change, "id"), change.value("deleted", false));
    }
    since = std::max(since, page.last_seq);
    if (page.results.empty()) followed->WaitForChange(since, SteadyClock::now() + kFollowInterval);
  }
}

void ReplicationManager::OnReplicatorDoc(const std::string& doc_id, bool deleted) {
  if (doc_id.rfind("_design/", 0) == 0) return;
  Json doc;
  if (!deleted) {
    Result<std::shared_ptr<Database>> db = store_.GetDatabase(std::string(kReplicatorDb));
    Result<Json> found = db.ok() ? (*db)->Get(doc_id, GetOptions{}) : Result<Json>(db.status());
    if (found.ok()) {
      doc = std::move(*found);
    } else {
      deleted = true;
    }
  }

  std::shared_ptr<Job> old_job;
  auto take_old_job = [&](const DocEntry& entry) {
    if (entry.job_id.empty()) return;
    if (auto it = jobs_.find(entry.job_id); it != jobs_.end() && it->second->doc_id == doc_id) old_job = it->second;
  };
  const Json fields = deleted ? Json() : JobFields(doc);
  std::optional<ReplicationSpec> to_start;
  std::string invalid_reason;
  {
    std::lock_guard lock(mu_);
    auto it = docs_.find(doc_id);
    if (deleted) {
      if (it != docs_.end()) {
        take_old_job(*it->second);
        docs_.erase(it);
      }
    } else if (it != docs_.end() && it->second->fields == fields) {
      return;  // only the manager's own _replication_* fields changed
    } else {
      const bool fresh = it == docs_.end();
      if (!fresh) take_old_job(*it->second);
      auto entry = std::make_unique<DocEntry>();
      entry->fields = fields;
      const std::string recorded = json::GetString(doc, "_replication_state");
      Result<ReplicationSpec> spec = ReplicationSpec::Parse(doc);
      if (spec.ok()) {
        entry->source = spec->source_description;
        entry->target = spec->target_description;
      }
      if (fresh && (recorded == "completed" || recorded == "failed")) {
        // Ended before this process started: CouchDB does not run it again.
        entry->state = recorded;
        entry->reason = json::GetString(doc, "_replication_state_reason");
        entry->stats = doc.value("_replication_stats", Json::object());
      } else if (!spec.ok()) {
        entry->state = "failed";
        entry->reason = spec.status().message();
        invalid_reason = entry->reason;
      } else {
        entry->job_id = spec->FullId(store_.uuid());
        to_start = std::move(*spec);
      }
      docs_[doc_id] = std::move(entry);
    }
  }
  if (old_job) StopJob(old_job);
  if (!invalid_reason.empty()) RecordDocState(doc_id, "failed", invalid_reason, Json::object());
  if (to_start && !stopping_) StartJob(std::move(*to_start), doc_id);
}

// Writes `_replication_state` (and its time, stats or reason) into the
// document, as CouchDB 2+ does for jobs that ended.
void ReplicationManager::RecordDocState(const std::string& doc_id, const std::string& state, const std::string& reason,
                                        const Json& stats) {
  // The document first, so that whoever sees the state here finds it there too.
  Result<std::shared_ptr<Database>> db = store_.GetDatabase(std::string(kReplicatorDb));
  for (int attempt = 0; db.ok() && attempt < 3; ++attempt) {
    Result<Json> doc = (*db)->Get(doc_id, GetOptions{});
    if (!doc.ok()) break;  // deleted meanwhile
    (*doc)["_replication_state"] = state;
    (*doc)["_replication_state_time"] = Now();
    if (state == "completed") (*doc)["_replication_stats"] = stats;
    if (!reason.empty()) (*doc)["_replication_state_reason"] = reason;
    WriteResult w = (*db)->Put(std::move(*doc));
    if (w.status.IsConflict()) continue;
    if (!w.status.ok()) {
      log::Warn("store", "cannot record replication state", {{"doc_id", doc_id}, {"error", w.status.message()}});
    }
    break;
  }
  std::lock_guard lock(mu_);
  auto it = docs_.find(doc_id);
  if (it == docs_.end()) return;
  it->second->state = state;
  it->second->reason = reason;
  it->second->stats = stats;
  it->second->last_updated = Now();
  if (state == "failed") ++it->second->error_count;
}

// ---------------------------------------------------------------------------
// /_scheduler/jobs, /_scheduler/docs, /_active_tasks

namespace {

Json InfoJson(const ReplicationProgress& p) {
  return {{"revisions_checked", p.stats.missing_checked},
          {"missing_revisions_found", p.stats.missing_found},
          {"docs_read", p.stats.docs_read},
          {"docs_written", p.stats.docs_written},
          {"changes_pending", p.pending},
          {"doc_write_failures", p.stats.doc_write_failures},
          {"checkpointed_source_seq", p.checkpointed_seq},
          {"source_seq", p.source_seq},
          {"through_seq", p.through_seq}};
}

}  // namespace

Json ReplicationManager::JobJson(const Job& job) const {
  const ReplicationSpec& spec = job.replication->spec();
  Json out = {{"database", job.doc_id ? Json(kReplicatorDb) : Json()},
              {"id", job.id},
              {"pid", "<0." + job.id.substr(0, 8) + ">"},
              {"source", spec.source_description},
              {"target", spec.target_description},
              {"user", nullptr},
              {"doc_id", job.doc_id ? Json(*job.doc_id) : Json()},
              {"info", InfoJson(job.replication->Progress())},
              {"node", kNode},
              {"start_time", job.start_time}};
  return out;
}

Json ReplicationManager::SchedulerJobs() {
  ReapFinished();
  Json jobs = Json::array();
  std::lock_guard lock(mu_);
  for (const auto& [id, job] : jobs_) {
    Json j = JobJson(*job);
    std::lock_guard job_lock(job->mu);
    if (job->done) continue;
    j["history"] = job->history;
    jobs.push_back(std::move(j));
  }
  return {{"total_rows", jobs.size()}, {"offset", 0}, {"jobs", std::move(jobs)}};
}

Json ReplicationManager::DocJson(const std::string& doc_id, const DocEntry& entry) const {
  Json out = {{"database", kReplicatorDb},
              {"doc_id", doc_id},
              {"id", entry.job_id.empty() ? Json() : Json(entry.job_id)},
              {"node", kNode},
              {"source", entry.source},
              {"target", entry.target},
              {"state", entry.state},
              {"info", entry.stats},
              {"error_count", entry.error_count},
              {"last_updated", entry.last_updated},
              {"start_time", entry.start_time},
              {"source_proxy", nullptr},
              {"target_proxy", nullptr}};
  if (!entry.reason.empty()) out["info"] = {{"error", entry.reason}};
  if (entry.job_id.empty() || !entry.state.empty()) return out;
  // A job that still runs: its live state.
  if (auto it = jobs_.find(entry.job_id); it != jobs_.end()) {
    const Job& job = *it->second;
    out["info"] = InfoJson(job.replication->Progress());
    std::lock_guard job_lock(it->second->mu);
    out["state"] = job.state;
    out["error_count"] = job.error_count;
    out["last_updated"] = job.last_updated;
    if (job.state == "crashing" && !job.history.empty()) out["info"]["error"] = job.history[0].value("reason", "");
  } else {
    out["state"] = "initializing";
  }
  return out;
}

Json ReplicationManager::SchedulerDocs() {
  Json docs = Json::array();
  std::lock_guard lock(mu_);
  for (const auto& [doc_id, entry] : docs_) docs.push_back(DocJson(doc_id, *entry));
  return {{"total_rows", docs.size()}, {"offset", 0}, {"docs", std::move(docs)}};
}

Result<Json> ReplicationManager::SchedulerDoc(const std::string& doc_id) {
  std::lock_guard lock(mu_);
  auto it = docs_.find(doc_id);
  if (it == docs_.end()) return Status::NotFound("missing");
  return DocJson(doc_id, *it->second);
}

Json ReplicationManager::ActiveTasks() {
  ReapFinished();
  Json tasks = Json::array();
  std::lock_guard lock(mu_);
  for (const auto& [id, job] : jobs_) {
    const ReplicationSpec& spec = job->replication->spec();
    const ReplicationProgress p = job->replication->Progress();
    Json task = {{"pid", "<0." + id.substr(0, 8) + ">"},
                 {"node", kNode},
                 {"type", "replication"},
                 {"replication_id", id},
                 {"doc_id", job->doc_id ? Json(*job->doc_id) : Json()},
                 {"database", job->doc_id ? Json(kReplicatorDb) : Json()},
                 {"user", nullptr},
                 {"continuous", spec.continuous},
                 {"source", spec.source_description},
                 {"target", spec.target_description},
                 {"docs_read", p.stats.docs_read},
                 {"docs_written", p.stats.docs_written},
                 {"doc_write_failures", p.stats.doc_write_failures},
                 {"missing_revisions_found", p.stats.missing_found},
                 {"revisions_checked", p.stats.missing_checked},
                 {"changes_pending", p.pending},
                 {"checkpointed_source_seq", p.checkpointed_seq},
                 {"source_seq", p.source_seq},
                 {"through_seq", p.through_seq},
                 {"started_on", job->started_on},
                 {"updated_on", NowSeconds()}};
    std::lock_guard job_lock(job->mu);
    if (job->done) continue;
    tasks.push_back(std::move(task));
  }
  return tasks;
}

}  // namespace wisp::store
