// ReplicationManager: the replication jobs of one server, CouchDB's
// replicator application in small.
//
// Jobs come from two places. `POST /_replicate` (Replicate()) starts a
// one-shot job and answers when it is done, or a continuous one and answers
// at once; a body with `cancel: true` stops one. Documents in the
// `_replicator` database start jobs too: the manager follows that
// database's changes, starts a job for each new document, stops it when
// the document is deleted (or restarts it when its fields change), and
// records `_replication_state` ("completed", or "failed" with a reason) in
// the document when a one-shot job ends, as CouchDB 2+ does. On Start()
// every document without a final state runs again, so continuous jobs
// resume after a restart, from their checkpoints.
//
// Each job runs on its own thread. A transient failure (store/
// replication_endpoint.h says which) is retried with exponential backoff;
// a one-shot job gives up after ReplicatorOptions::one_shot_retries, a
// continuous one never does. A 401 or 403 for a whole request, a missing
// database or a bad document fails the job at once.
//
// SchedulerJobs(), SchedulerDocs() and ActiveTasks() render the jobs as
// `/_scheduler/jobs`, `/_scheduler/docs` and `/_active_tasks` do, with
// CouchDB's field names. docs/replication.md has the whole story.
//
// Thread-safety: every method may be called from any thread. Stop() (also
// run by the destructor) stops every job and joins every thread; the Store
// must outlive the manager.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "json/json.h"
#include "store/replicator.h"
#include "util/result.h"

namespace wisp::http {
class Client;
}

namespace wisp::store {

class Store;

inline constexpr std::string_view kReplicatorDb = "_replicator";

class ReplicationManager {
 public:
  ReplicationManager(Store& store, ReplicatorOptions options = {});
  ~ReplicationManager();
  ReplicationManager(const ReplicationManager&) = delete;
  ReplicationManager& operator=(const ReplicationManager&) = delete;

  // Creates `_replicator` when missing and starts following it, which
  // starts (or resumes) the jobs its documents describe.
  Status Start();
  // Stops every job and the `_replicator` follower and joins their threads.
  // Jobs in flight stop between two requests; their checkpoints stay.
  // Idempotent.
  void Stop();

  // An HTTP answer: status and CouchDB body.
  struct Reply {
    int status = 200;
    Json body;
  };

  // POST /_replicate with `body`. One-shot: blocks until the job ends, then
  // 200 {ok, session_id, source_last_seq, history, ...}, or the job's
  // error (404 db_not_found, 401/403 from a peer, 500 for the rest).
  // Continuous: 202 {ok, _local_id}. Cancel: 200 {ok, _local_id}, 404
  // not_found without such a job. 400 bad_request for a bad body.
  Reply Replicate(const Json& body);

  Json SchedulerJobs();
  Json SchedulerDocs();
  // One `_replicator` document's entry, or NotFound.
  Result<Json> SchedulerDoc(const std::string& doc_id);
  Json ActiveTasks();

 private:
  struct Job;
  struct DocEntry;

  std::shared_ptr<Job> StartJob(ReplicationSpec spec, std::optional<std::string> doc_id);
  void RunJob(const std::shared_ptr<Job>& job);
  void StopJob(const std::shared_ptr<Job>& job);
  void FollowReplicatorDb();
  void OnReplicatorDoc(const std::string& doc_id, bool deleted);
  void RecordDocState(const std::string& doc_id, const std::string& state, const std::string& reason,
                      const Json& stats);
  void ReapFinished();
  Json JobJson(const Job& job) const;
  Json DocJson(const std::string& doc_id, const DocEntry& entry) const;

  Store& store_;
  const ReplicatorOptions options_;
  std::unique_ptr<http::Client> client_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;  // GUARDED_BY(mu_)

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;       // by full replication id, GUARDED_BY(mu_)
  std::map<std::string, std::unique_ptr<DocEntry>> docs_;  // `_replicator` docs by id, GUARDED_BY(mu_)
  std::thread follower_;
};

}  // namespace wisp::store
