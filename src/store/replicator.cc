#include "store/replicator.h"

#include <openssl/evp.h>

#include <ctime>
#include <utility>
#include <vector>

#include "http/client.h"
#include "store/mango.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/text.h"

namespace wisp::store {
namespace {

// CouchDB's replicator writes version 4 ids and checkpoints.
constexpr int kReplicationIdVersion = 4;
// Sessions a checkpoint remembers (CouchDB keeps 50).
constexpr size_t kMaxHistory = 50;

std::string Md5Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_md5(), nullptr);
  return HexLower(std::string_view(reinterpret_cast<const char*>(md), len));
}

// RFC 1123, as CouchDB writes start_time and end_time in checkpoints.
std::string HttpDate() {
  const std::time_t now = Clock::System().NowMillis() / 1000;
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

Result<bool> OptionalBool(const Json& body, const char* name) {
  if (!body.contains(name)) return false;
  if (!body[name].is_boolean()) return Status::InvalidArgument(std::string("`") + name + "` must be a boolean");
  return body[name].get<bool>();
}

// The sequence to start from: where both checkpoints agree (CouchDB's
// compare_replication_logs). Same session: its last sequence; else the
// newest session that both histories share; else the beginning.
Json StartSeq(const std::optional<Json>& source, const std::optional<Json>& target) {
  if (!source || !target) return 0;
  const std::string source_session = json::GetString(*source, "session_id");
  if (!source_session.empty() && source_session == json::GetString(*target, "session_id")) {
    return source->value("source_last_seq", Json(0));
  }
  const Json target_history = target->value("history", Json::array());
  for (const Json& entry : source->value("history", Json::array())) {
    const std::string session = json::GetString(entry, "session_id");
    if (session.empty()) continue;
    for (const Json& other : target_history) {
      if (json::GetString(other, "session_id") == session) return entry.value("recorded_seq", Json(0));
    }
  }
  return 0;
}

}  // namespace

Result<ReplicationSpec> ReplicationSpec::Parse(const Json& body) {
  if (!body.is_object()) return Status::InvalidArgument("Request body must be a JSON object");
  ReplicationSpec spec;
  if (!body.contains("source") || body["source"].is_null() || !body.contains("target") || body["target"].is_null()) {
    return Status::InvalidArgument("Missing replicator database");
  }
  spec.source = body["source"];
  spec.target = body["target"];
  WISP_ASSIGN_OR_RETURN(spec.source_description, DescribeEndpoint(spec.source));
  WISP_ASSIGN_OR_RETURN(spec.target_description, DescribeEndpoint(spec.target));
  WISP_ASSIGN_OR_RETURN(spec.continuous, OptionalBool(body, "continuous"));
  WISP_ASSIGN_OR_RETURN(spec.create_target, OptionalBool(body, "create_target"));
  if (body.contains("worker_batch_size") || body.contains("batch_size")) {
    const Json& size = body.contains("batch_size") ? body["batch_size"] : body["worker_batch_size"];
    if (!size.is_number_integer() || size.get<int64_t>() < 1) {
      return Status::InvalidArgument("`batch_size` must be a positive integer");
    }
    spec.batch_size = static_cast<size_t>(size.get<int64_t>());
  }
  const std::string filter = body.value("filter", Json("")).is_string() ? json::GetString(body, "filter") : "?";
  if (body.contains("doc_ids") && !body["doc_ids"].is_null()) {
    if (!body["doc_ids"].is_array()) return Status::InvalidArgument("`doc_ids` field must be a list of strings");
    std::set<std::string> ids;
    for (const Json& id : body["doc_ids"]) {
      if (!id.is_string()) return Status::InvalidArgument("`doc_ids` field must be a list of strings");
      ids.insert(id.get<std::string>());
    }
    spec.doc_ids = std::move(ids);
  }
  if (body.contains("selector") && !body["selector"].is_null()) {
    if (!body["selector"].is_object()) return Status::InvalidArgument("`selector` must be a JSON object");
    if (Result<Selector> parsed = Selector::Parse(body["selector"]); !parsed.ok()) {
      return Status::InvalidArgument("`selector` is invalid: " + parsed.status().message());
    }
    spec.selector = body["selector"];
  }
  if (spec.doc_ids && spec.selector) {
    return Status::InvalidArgument("`doc_ids` and `selector` are mutually exclusive");
  }
  if (!filter.empty()) {
    if (filter == "_doc_ids") {
      if (!spec.doc_ids) return Status::InvalidArgument("`filter=_doc_ids` needs a `doc_ids` list");
    } else if (filter == "_selector") {
      if (!spec.selector) return Status::InvalidArgument("`filter=_selector` needs a `selector`");
    } else {
      // JavaScript filters need a JavaScript engine (spec §5).
      return Status::InvalidArgument("Only the _doc_ids and _selector filters are supported");
    }
  }
  return spec;
}

std::string ReplicationSpec::BaseId(const std::string& server_uuid) const {
  Json key = Json::array({server_uuid, source_description, target_description});
  if (doc_ids) key.push_back(Json{{"doc_ids", Json(*doc_ids)}});
  if (selector) key.push_back(Json{{"selector", *selector}});
  return Md5Hex(json::Dump(key));
}

std::string ReplicationSpec::FullId(const std::string& server_uuid) const {
  return BaseId(server_uuid) + (continuous ? "+continuous" : "") + (create_target ? "+create_target" : "");
}

Replication::Replication(ReplicationSpec spec, std::string server_uuid, Store& store, http::Client& client,
                         ReplicatorOptions options)
    : spec_(std::move(spec)), base_id_(spec_.BaseId(server_uuid)), store_(store), client_(client), options_(options) {}

ReplicationProgress Replication::Progress() const {
  std::lock_guard lock(mu_);
  return progress_;
}

Result<Json> Replication::Run(const StopFlag& stopped) {
  WISP_ASSIGN_OR_RETURN(std::unique_ptr<Endpoint> source,
                        MakeEndpoint(spec_.source, store_, client_, options_.request_timeout));
  WISP_ASSIGN_OR_RETURN(std::unique_ptr<Endpoint> target,
                        MakeEndpoint(spec_.target, store_, client_, options_.request_timeout));
  WISP_RETURN_IF_ERROR(source->Open(/*create=*/false));
  WISP_RETURN_IF_ERROR(target->Open(spec_.create_target));
  return RunSession(*source, *target, stopped);
}

Result<Json> Replication::RunSession(Endpoint& source, Endpoint& target, const StopFlag& stopped) {
  // Target first, as PouchDB and CouchDB read them.
  WISP_ASSIGN_OR_RETURN(std::optional<Json> target_checkpoint, target.GetCheckpoint(base_id_));
  Result<std::optional<Json>> source_checkpoint = source.GetCheckpoint(base_id_);
  if (!source_checkpoint.ok()) {
    if (IsTransient(source_checkpoint.status())) return source_checkpoint.status();
    source_checkpoint = std::optional<Json>();  // a read-only source keeps no checkpoints
  }
  session_id_ = NewId();
  session_start_ = HttpDate();
  start_seq_ = StartSeq(*source_checkpoint, target_checkpoint);
  history_ = target_checkpoint ? target_checkpoint->value("history", Json::array()) : Json::array();
  if (!history_.is_array()) history_ = Json::array();
  source_checkpoints_ = true;
  {
    std::lock_guard lock(mu_);
    progress_ = ReplicationProgress{};
    progress_.source_seq = progress_.through_seq = progress_.checkpointed_seq = start_seq_;
  }

  Json seq = start_seq_;
  bool caught_up = false;
  while (true) {
    if (stopped()) return Status::Cancelled("replication stopped");
    ChangesRequest request;
    request.since = seq;
    request.limit = spec_.batch_size;
    request.doc_ids = spec_.doc_ids;
    request.selector = spec_.selector;
    if (spec_.continuous && caught_up) request.wait = options_.poll_timeout;
    WISP_ASSIGN_OR_RETURN(ChangesBatch batch, source.Changes(request, stopped));

    if (batch.results.empty()) {
      // Caught up: record where, then end (one-shot) or wait (continuous).
      if (batch.last_seq != seq) {
        seq = batch.last_seq;
        {
          std::lock_guard lock(mu_);
          progress_.source_seq = progress_.through_seq = seq;
        }
        WISP_RETURN_IF_ERROR(Checkpoint(source, target, seq));
      }
      {
        std::lock_guard lock(mu_);
        progress_.pending = 0;  // an empty page: nothing is left
      }
      if (!spec_.continuous) break;
      caught_up = true;
      continue;
    }

    // Which of the changed revisions the target lacks.
    Json diff_request = Json::object();
    int64_t checked = 0;
    for (const Json& change : batch.results) {
      const std::string id = json::GetString(change, "id");
      Json& revs = diff_request[id];
      if (!revs.is_array()) revs = Json::array();
      for (const Json& c : change.value("changes", Json::array())) {
        revs.push_back(c.value("rev", ""));
        ++checked;
      }
    }
    WISP_ASSIGN_OR_RETURN(Json diff, target.RevsDiff(diff_request));
    std::vector<std::pair<std::string, std::vector<std::string>>> wanted;
    int64_t found = 0;
    for (const auto& [id, entry] : diff.items()) {
      std::vector<std::string> missing;
      for (const Json& rev : entry.value("missing", Json::array())) {
        if (rev.is_string()) missing.push_back(rev.get<std::string>());
      }
      found += static_cast<int64_t>(missing.size());
      if (!missing.empty()) wanted.emplace_back(id, std::move(missing));
    }

    // Fetch them with their history and attachments, and write them as they are.
    int64_t read = 0;
    int64_t written = 0;
    int64_t failures = 0;
    if (!wanted.empty()) {
      WISP_ASSIGN_OR_RETURN(std::vector<Json> docs, source.FetchRevisions(wanted));
      read = static_cast<int64_t>(docs.size());
      if (!docs.empty()) {
        WISP_ASSIGN_OR_RETURN(std::vector<DocWriteError> errors, target.WriteRevisions(std::move(docs)));
        // Per-document refusals (forbidden, unauthorized, too large...) are
        // counted and skipped, as CouchDB and PouchDB do.
        failures = static_cast<int64_t>(errors.size());
        written = read - failures;
      }
    }
    seq = batch.last_seq;
    {
      std::lock_guard lock(mu_);
      progress_.stats.missing_checked += checked;
      progress_.stats.missing_found += found;
      progress_.stats.docs_read += read;
      progress_.stats.docs_written += written;
      progress_.stats.doc_write_failures += failures;
      progress_.source_seq = progress_.through_seq = seq;
      progress_.pending = batch.pending ? Json(*batch.pending) : Json();
    }
    WISP_RETURN_IF_ERROR(Checkpoint(source, target, seq));
    caught_up = false;
  }

  Json answer = {{"ok", true},
                 {"session_id", session_id_},
                 {"source_last_seq", seq},
                 {"replication_id_version", kReplicationIdVersion}};
  const ReplicationStats stats = Progress().stats;
  if (seq == start_seq_ && stats.missing_checked == 0) answer["no_changes"] = true;
  Json history = Json::array({HistoryEntry(seq)});
  for (const Json& old : history_) {
    if (history.size() >= kMaxHistory) break;
    history.push_back(old);
  }
  answer["history"] = std::move(history);
  return answer;
}

Json Replication::HistoryEntry(const Json& seq) const {
  const ReplicationStats s = Progress().stats;
  return {{"session_id", session_id_},
          {"start_time", session_start_},
          {"end_time", HttpDate()},
          {"start_last_seq", start_seq_},
          {"end_last_seq", seq},
          {"recorded_seq", seq},
          {"missing_checked", s.missing_checked},
          {"missing_found", s.missing_found},
          {"docs_read", s.docs_read},
          {"docs_written", s.docs_written},
          {"doc_write_failures", s.doc_write_failures}};
}

// Writes the checkpoint on the target, then on the source. A source that
// refuses (a read-only one) keeps none, and replication goes on.
Status Replication::Checkpoint(Endpoint& source, Endpoint& target, const Json& seq) {
  Json history = Json::array({HistoryEntry(seq)});
  for (const Json& old : history_) {
    if (history.size() >= kMaxHistory) break;
    history.push_back(old);
  }
  Json doc = {{"session_id", session_id_},
              {"source_last_seq", seq},
              {"replication_id_version", kReplicationIdVersion},
              {"replicator", "wisp"},
              {"history", std::move(history)}};
  // Each end needs its own current _rev (CouchDB refuses a stale one).
  auto put = [&](Endpoint& end) -> Status {
    for (int attempt = 0; attempt < 2; ++attempt) {
      Json copy = doc;
      WISP_ASSIGN_OR_RETURN(std::optional<Json> current, end.GetCheckpoint(base_id_));
      if (current && current->contains("_rev")) copy["_rev"] = (*current)["_rev"];
      Status s = end.PutCheckpoint(base_id_, std::move(copy));
      if (!s.IsConflict()) return s;
    }
    return Status::Conflict("checkpoint of " + end.Describe() + " keeps changing");
  };
  WISP_RETURN_IF_ERROR(put(target));
  if (source_checkpoints_) {
    Status s = put(source);
    if (IsTransient(s)) return s;
    if (!s.ok()) source_checkpoints_ = false;
  }
  std::lock_guard lock(mu_);
  progress_.checkpointed_seq = seq;
  return Status::Ok();
}

}  // namespace wisp::store
