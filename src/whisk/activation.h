// Activation records: their ids, their two JSON views, and where they are
// kept (spec openwhisk.md §1.8).
//
// A record is stored as a document of the system database
// `whisk_local_activations`, with the id "<namespace>/<activationId>", in
// OpenWhisk's stored form: `response.statusCode` (0..3) without
// `status`/`success`. Three more fields stay in the store only: `trace_id`
// (the request that caused the activation), `parent_id` (the activation
// whose run invoked this one: the trigger activation for a rule's action,
// the invoker for each handler; a sequence component has `cause` instead),
// and `nameKey` (the `[pkg/]name` that the list's `name` filter matches).
// A Mango index on `trace_id` (design document `_design/wisp-traces`) finds
// the activations of one trace (traces.h).
//
// Activation ids are 32 lower-case hex characters like OpenWhisk's, but the
// first 12 are the creation time in milliseconds, so that the store's id
// order is time order and a list reads newest first without sorting.
//
// Records are written behind, as OpenWhisk writes them: Put() queues a record
// and returns, and one writer thread commits what is queued in batches, one
// transaction each (OS-buffered, no fsync). A record is readable the moment
// Put() returns: Get() finds a queued record in memory, and List() and
// Count() first wait for the records queued before them to be committed.
// What is still queued when wisp is killed (a few milliseconds of records)
// is lost; the destructor and Flush() write everything queued.
//
// Thread-safety: the functions are pure; ActivationStore may be used from
// any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "json/json.h"
#include "store/database.h"
#include "util/clock.h"
#include "util/result.h"

namespace wisp::whisk {

// A new activation id whose first 12 hex digits are `now` in epoch ms.
std::string NewActivationId(Clock::WallTime now);

// OK, or 400 with "Activation id length is N but must be 32." or
// "The activation id is not valid." (ENT/ActivationId.scala).
Status ValidateActivationId(std::string_view id);

// The stored record as GET, `docs=true` lists and blocking invokes answer it:
// `response` gets `status` and `success` instead of `statusCode`, and `end`
// and `duration` go when `end` is 0.
Json ExtendedActivation(const Json& stored);
// The list item: namespace, name, version, publish, annotations,
// activationId, start, and end, duration and statusCode when it has ended,
// and cause when set.
Json SummaryActivation(const Json& stored);
// `response` of the extended view: {result, size?, status, success}.
Json ExtendedResponse(const Json& stored_response);

struct ActivationQuery {
  std::optional<std::string> name;  // [pkg/]name
  std::optional<int64_t> since;     // start >= since (epoch ms)
  std::optional<int64_t> upto;      // start <= upto
  size_t skip = 0;
  size_t limit = 30;
};

class ActivationStore {
 public:
  explicit ActivationStore(std::shared_ptr<store::Database> db);
  ~ActivationStore();  // Flush(), then the writer stops
  ActivationStore(const ActivationStore&) = delete;
  ActivationStore& operator=(const ActivationStore&) = delete;

  // Queues a record for the writer (its `namespace` and `activationId` make
  // the document id). Waits only while a great many records are queued.
  void Put(Json record);
  // Returns once every record queued before the call is committed (or failed,
  // which the writer logs).
  void Flush();
  // The stored record, or 404 "The requested resource does not exist.".
  Result<Json> Get(const std::string& namespace_name, const std::string& activation_id);
  // Matching stored records, newest first, after `skip`, at most `limit`.
  std::vector<Json> List(const std::string& namespace_name, const ActivationQuery& query);
  // How many records match (skip and limit ignored).
  size_t Count(const std::string& namespace_name, const ActivationQuery& query);
  // The stored records of `namespace_name` whose trace_id is `trace_id`, at
  // most `limit`, in no particular order.
  std::vector<Json> ByTrace(const std::string& namespace_name, const std::string& trace_id, size_t limit);
  // Deletes every record, of any namespace, whose activation id was made
  // before `cutoff_ms` (epoch ms); returns how many went.
  size_t DeleteOlderThan(int64_t cutoff_ms);

 private:
  // Calls `visit` with each matching record, newest first, until it returns false.
  void Scan(const std::string& namespace_name, const ActivationQuery& query, const std::function<bool(Json&)>& visit);
  // The writer thread: commits the queue in batches until stopped and empty.
  void WriteLoop();

  std::shared_ptr<store::Database> db_;

  std::mutex mu_;
  std::condition_variable queued_cv_;     // the writer: work, or stop
  std::condition_variable committed_cv_;  // Flush() and Put()'s back-pressure
  std::vector<Json> queue_;               // GUARDED_BY(mu_): not yet taken by the writer
  // GUARDED_BY(mu_): a copy of every record queued and not yet committed, by
  // document id, for Get().
  std::map<std::string, Json> unwritten_;
  uint64_t queued_count_ = 0;     // GUARDED_BY(mu_): records ever queued
  uint64_t committed_count_ = 0;  // GUARDED_BY(mu_): records the writer has finished with
  bool stop_ = false;             // GUARDED_BY(mu_)
  std::thread writer_;
};

}  // namespace wisp::whisk
