// Activation records: their ids, their two JSON views, and where they are
// kept (spec openwhisk.md §1.8).
//
// A record is stored as a document of the system database
// `whisk_local_activations`, with the id "<namespace>/<activationId>", in
// OpenWhisk's stored form: `response.statusCode` (0..3) without
// `status`/`success`. Two more fields stay in the store only: `trace_id`
// (the request that caused the activation) and `nameKey` (the `[pkg/]name`
// that the list's `name` filter matches).
//
// Activation ids are 32 lower-case hex characters like OpenWhisk's, but the
// first 12 are the creation time in milliseconds, so that the store's id
// order is time order and a list reads newest first without sorting.
//
// Thread-safety: the functions are pure; ActivationStore may be used from
// any thread (the Database serialises its writes).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
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
  explicit ActivationStore(std::shared_ptr<store::Database> db) : db_(std::move(db)) {}

  // Stores a record (its `namespace` and `activationId` make the document id).
  Status Put(Json record);
  // The stored record, or 404 "The requested resource does not exist.".
  Result<Json> Get(const std::string& namespace_name, const std::string& activation_id);
  // Matching stored records, newest first, after `skip`, at most `limit`.
  std::vector<Json> List(const std::string& namespace_name, const ActivationQuery& query);
  // How many records match (skip and limit ignored).
  size_t Count(const std::string& namespace_name, const ActivationQuery& query);

 private:
  // Calls `visit` with each matching record, newest first, until it returns false.
  void Scan(const std::string& namespace_name, const ActivationQuery& query, const std::function<bool(Json&)>& visit);

  std::shared_ptr<store::Database> db_;
};

}  // namespace wisp::whisk
