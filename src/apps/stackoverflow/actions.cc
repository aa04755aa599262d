#include "apps/stackoverflow/actions.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "apps/stackoverflow/question_store.h"
#include "apps/stackoverflow/slack_client.h"
#include "apps/stackoverflow/stackexchange_client.h"
#include "util/log.h"

namespace wisp::stackoverflow {
namespace {

using std::chrono::milliseconds;

// How far the next window reaches back before the watermark: activity the
// API's caches showed late is fetched again (the storer skips what it has).
constexpr int64_t kDefaultOverlapSeconds = 60;
// The first poll of a tag set, without a watermark, starts this far back.
constexpr int64_t kDefaultFirstLookbackSeconds = 30 * 24 * 3600;
// Pages one poll reads at most: a poll's items travel as one activation
// result, which the controller bounds (1 MB by default; a question with its
// body is about 2.5 KB). A larger backlog is read over several polls.
constexpr int64_t kDefaultMaxPages = 3;
// Conflicting writes of one document before the action gives up (each
// retry re-reads after a short random pause, so only a writer storm gets
// this far; a user editing one question in a loop does not).
constexpr int kMaxConflictRetries = 100;
// How long the invoker waits for one handler activation.
constexpr milliseconds kHandlerWait{10 * 60 * 1000};
// A throttled invoke (429) is retried this long before the item counts as failed.
constexpr milliseconds kMaxThrottleWait{10 * 60 * 1000};
// Activation ids and failures the invoker's result lists (the counts are exact).
constexpr size_t kMaxListedIds = 100;
constexpr size_t kMaxListedFailures = 20;

Json Error(std::vector<std::string>& logs, const std::string& message) {
  logs.push_back("stderr:" + message);
  log::Warn("stackoverflow", message);
  return Json{{"error", message}};
}

std::function<void(milliseconds)> RealSleepUnless(const std::function<void(milliseconds)>& sleep) {
  if (sleep) return sleep;
  return [](milliseconds d) { std::this_thread::sleep_for(d); };
}

// A short random pause before re-reading a document that changed under a
// write, growing with the attempts (up to 32 ms): writers that retry at once
// keep colliding with each other, and a storer could lose every round to a
// user who edits the same question in a loop.
void BackOffAfterConflict(int attempt) {
  thread_local std::minstd_rand random(std::random_device{}());
  const int ceiling_ms = 1 << std::min(attempt, 5);
  std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(0, ceiling_ms)(random)));
}

// The questions database the parameters name.
Result<std::unique_ptr<QuestionStore>> StoreFor(const PipelineServices& services, const Json& args) {
  QuestionStoreConfig config;
  config.dbname = json::GetString(args, "dbname", "questions");
  if (config.dbname.empty()) config.dbname = "questions";
  config.url = json::GetString(args, "store_url");
  if (config.url.empty()) {
    if (services.external_store) return RemoteQuestionStore(services.external_store, config.dbname);
    if (!services.store) {
      return Status::InvalidArgument("`store_url` is empty, and this action has no store of its own: "
                                     "set it to the CouchDB that holds `" + config.dbname + "`");
    }
    return EmbeddedQuestionStore(*services.store, config.dbname);
  }
  config.username = json::GetString(args, "store_username");
  config.password = json::GetString(args, "store_password");
  return RemoteQuestionStore(services.http, config);
}

// The trigger payload's tags: a non-empty array of non-empty strings.
std::optional<std::vector<std::string>> TagsOf(const Json& args) {
  const Json tags = args.value("tags", Json());
  if (!tags.is_array() || tags.empty()) return std::nullopt;
  std::vector<std::string> out;
  for (const Json& tag : tags) {
    if (!tag.is_string() || tag.get<std::string>().empty()) return std::nullopt;
    out.push_back(tag.get<std::string>());
  }
  return out;
}

int64_t NowSeconds(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch()).count();
}

// A string parameter that may also arrive as null or empty (an unset
// manifest input: wskdeploy's `${VAR}` has no default of its own).
std::string Param(const Json& args, std::string_view key, std::string fallback = "") {
  const auto it = args.find(std::string(key));
  if (it == args.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) return fallback;
  return it->get<std::string>();
}

std::optional<int64_t> StoredWatermark(const std::optional<Json>& doc) {
  if (!doc || !doc->contains("watermark") || !(*doc)["watermark"].is_number_integer()) return std::nullopt;
  return (*doc)["watermark"].get<int64_t>();
}

// The lock that lets one notification at a time through a webhook, from
// the read of `notified_at` to its write. A crash can then catch at most one
// message between Slack's 200 and the record (DESIGN §5: one duplicate per
// crash, not one per notifier in flight), and two activations for the same
// question cannot both send. Slack takes about one message a second per
// webhook anyway, so nothing is lost by the wait.
std::mutex& WebhookLock(const std::string& url) {
  static std::mutex registry_mu;
  static std::map<std::string, std::unique_ptr<std::mutex>> locks;  // GUARDED_BY(registry_mu), never shrinks
  std::lock_guard<std::mutex> lock(registry_mu);
  std::unique_ptr<std::mutex>& mu = locks[url];
  if (!mu) mu = std::make_unique<std::mutex>();
  return *mu;
}

// How long a notifier's claim on a question holds (claim_notifications):
// longer than a notifier can take with every Slack retry, so a live claim
// is never taken over; a notifier that died holding it delays the message
// by this much.
constexpr int64_t kNotifyClaimSeconds = 5 * 60;

// Claims the notification of `doc` by writing `notify_claim` under its
// revision; the returned document carries the new revision. Conflict when
// another notifier holds a live claim or wins the write: this activation
// then fails, so its poll keeps the watermark and a later poll brings the
// question back (by then notified, or its claim expired).
Result<Json> ClaimNotification(QuestionStore& store, Json doc, const Clock& clock) {
  const int64_t now = NowSeconds(clock);
  const Json claim = doc.value("notify_claim", Json());
  if (claim.is_object() && json::GetInt(claim, "until", 0) > now) {
    return Status::Conflict("another notifier holds the question until " + std::to_string(json::GetInt(claim, "until", 0)) +
                            "; a later poll tries again");
  }
  doc["notify_claim"] = {{"until", now + kNotifyClaimSeconds}};
  Result<std::string> rev = store.Put(doc, store::Durability::kOsBuffered);
  if (!rev.ok()) {
    if (!rev.status().IsConflict()) return rev.status();
    return Status::Conflict("the question changed while it was being claimed; a later poll tries again");
  }
  doc["_rev"] = *rev;
  return doc;
}

// One handler activation, as the invoker saw it end.
struct HandlerOutcome {
  std::string activation_id;
  bool stored = false;
  std::string status;  // the storer's: new, updated, skipped
  bool notified = false;
  std::string error;
};

}  // namespace

Json PackageParameters() {
  const auto kv = [](const char* key, Json value) { return Json{{"key", key}, {"value", std::move(value)}}; };
  return Json::array({kv("dbname", "questions"), kv("site", "stackoverflow"),
                      kv("api_url", "https://api.stackexchange.com/2.3"), kv("apikey", ""), kv("slackURL", ""),
                      kv("botURL", ""), kv("store_url", ""), kv("store_username", ""), kv("store_password", ""),
                      kv("handler", "stackoverflow/qhandler"), kv("concurrency", 8)});
}

const std::vector<std::string>& ActionNames() {
  static const std::vector<std::string> names = {"collector", "invoker", "storer", "notifier"};
  return names;
}

std::string WatermarkName(const std::string& site, const std::string& search_type, std::vector<std::string> tags) {
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  std::string name = "so-watermark:" + site + ":" + search_type + ":";
  for (size_t i = 0; i < tags.size(); ++i) name += (i ? "|" : "") + tags[i];
  return name;
}

// --- collector ---------------------------------------------------------------

Json Collect(const PipelineServices& services, const Json& args, std::vector<std::string>& logs) {
  const std::optional<std::vector<std::string>> tags = TagsOf(args);
  if (!tags) return Error(logs, "collector: the payload needs `tags`, a non-empty array of tag names");
  const std::string search_type = Param(args, "search_type", "or");
  Result<SearchType> type = ParseSearchType(search_type);
  if (!type.ok()) return Error(logs, "collector: " + std::string(type.status().message()));

  StackExchangeOptions options;
  options.base_url = Param(args, "api_url", options.base_url);
  options.site = Param(args, "site", options.site);
  options.key = Param(args, "apikey");
  const int64_t max_pages = std::clamp<int64_t>(json::GetInt(args, "max_pages", kDefaultMaxPages), 1,
                                                options.key.empty() ? options.max_pages : 100'000);
  options.max_pages = static_cast<int>(max_pages);

  const std::string watermark_name = WatermarkName(options.site, search_type, *tags);
  Result<std::unique_ptr<QuestionStore>> store = StoreFor(services, args);
  if (!store.ok()) return Error(logs, "collector: " + std::string(store.status().message()));
  Result<std::optional<Json>> stored = (*store)->GetLocal(watermark_name);
  if (!stored.ok()) return Error(logs, "collector: cannot read the watermark: " + stored.status().ToString());
  const std::optional<int64_t> watermark = StoredWatermark(*stored);
  // After a poll that stopped early the mark is the last activity read, and
  // the next window starts exactly there: with an overlap, a backlog denser
  // than one poll's pages per overlap would be read again and again.
  const bool resume = *stored && (**stored).value("partial", false);
  const int64_t overlap = resume ? 0 : json::GetInt(args, "overlap_seconds", kDefaultOverlapSeconds);
  const PollWindow window = NextWindow(watermark, NowSeconds(services.clock), overlap,
                                       json::GetInt(args, "first_lookback_seconds", kDefaultFirstLookbackSeconds));

  // Oldest activity first: when paging stops early (depth, quota), what was
  // read is a prefix in time, and the watermark can move to its end.
  StackExchangeClient client(services.http, services.clock, options, RealSleepUnless(services.sleep));
  Result<SearchResult> found = client.Search(
      {.tags = *tags, .type = *type, .sort = "activity", .order = "asc", .min = window.min, .max = window.max});
  if (!found.ok()) {
    return Error(logs, "collector: the Stack Exchange search failed (" + options.site + ", " + search_type +
                           "): " + found.status().ToString());
  }
  std::optional<int64_t> next = watermark;
  if (found->complete) {
    next = AdvanceWatermark(watermark, window, true);
  } else if (!found->items.empty()) {
    const int64_t reached = json::GetInt(found->items.back(), "last_activity_date", 0);
    if (reached > watermark.value_or(0)) next = reached;
    logs.push_back("paging stopped early (" + found->stopped_because + "); the next poll continues from " +
                   std::to_string(reached));
  }
  if (services.metrics) {
    services.metrics->Polled(PipelineMetrics::TriggerLabel(*tags), found->items.size(),
                             static_cast<double>(NowSeconds(services.clock)));
    services.metrics->Quota(options.site, found->quota_remaining, found->quota_max, found->backoff);
  }
  logs.push_back("fetched " + std::to_string(found->items.size()) + " questions in " + std::to_string(found->pages) +
                 " pages, activity " + std::to_string(window.min) + ".." + std::to_string(window.max) +
                 ", quota left " + std::to_string(found->quota_remaining));

  Json result = {
      {"watermark", {{"name", watermark_name}, {"value", next ? Json(*next) : Json()}, {"partial", !found->complete}}},
      {"window", {{"min", window.min}, {"max", window.max}}},
      {"complete", found->complete},
      {"pages", found->pages},
      {"quota_remaining", found->quota_remaining}};
  result["items"] = Json(std::move(found->items));
  return result;
}

// --- invoker -----------------------------------------------------------------

namespace {

HandlerOutcome InvokeHandler(const PipelineServices& services, const std::string& namespace_name,
                             const whisk::EntityName& handler, const Json& item, const std::string& trace_id) {
  HandlerOutcome outcome;
  whisk::InvokeOptions options;
  options.blocking = true;
  options.result_only = true;
  options.wait = kHandlerWait;
  options.trace_id = trace_id;
  // Backpressure: a throttled invoke (429) waits and tries again.
  milliseconds waited{0}, delay{50};
  Result<whisk::InvokeReply> reply = Status::Internal("not invoked");
  while (true) {
    reply = services.invoke_handler(namespace_name, handler, Json{{"question", item}}, options);
    if (reply.ok() || reply.status().code() != StatusCode::kResourceExhausted || waited >= kMaxThrottleWait) break;
    std::this_thread::sleep_for(delay);
    waited += delay;
    delay = std::min(delay * 2, milliseconds(2000));
  }
  if (!reply.ok()) {
    outcome.error = reply.status().ToString();
    return outcome;
  }
  outcome.activation_id = reply->activation_id;
  if (reply->status == 202) {
    outcome.error = "the handler still runs after " + std::to_string(kHandlerWait.count() / 1000) + " s";
  } else if (reply->status != 200) {
    outcome.error = json::GetString(reply->body, "error", json::Dump(reply->body));
  } else {
    outcome.stored = true;
    outcome.status = json::GetString(reply->body, "status");
    outcome.notified = reply->body.value("notified", false);
  }
  return outcome;
}

}  // namespace

Json InvokeHandlers(const PipelineServices& services, const std::string& namespace_name, const std::string& trace_id,
                    const Json& args, std::vector<std::string>& logs) {
  const Json& items = args.contains("items") ? args["items"] : Json();
  if (!items.is_array()) return Error(logs, "invoker: the input needs `items`, an array (the collector's result)");
  std::string handler_text = Param(args, "handler", "stackoverflow/qhandler");
  if (handler_text.empty() || handler_text.front() != '/') handler_text = "/_/" + handler_text;
  Result<whisk::EntityName> handler = whisk::ParseFullyQualifiedName(handler_text, namespace_name);
  if (!handler.ok()) return Error(logs, "invoker: bad `handler`: " + std::string(handler.status().message()));
  const size_t concurrency = static_cast<size_t>(std::clamp<int64_t>(json::GetInt(args, "concurrency", 8), 1, 256));

  // `concurrency` workers take the next item each time their activation
  // ends, so no more than that many are in flight.
  std::vector<HandlerOutcome> outcomes(items.size());
  std::atomic<size_t> next{0};
  // The workers log, and invoke, as this activation: its context (trace,
  // activation id, action) goes with them, and makes it each handler's parent.
  const log::CapturedContext context = log::CapturedContext::Current();
  const auto work = [&] {
    log::LogContext carried(context);
    for (size_t i = next++; i < items.size(); i = next++) {
      outcomes[i] = InvokeHandler(services, namespace_name, *handler, items[i], trace_id);
    }
  };
  std::vector<std::thread> workers;
  const size_t threads = std::min(concurrency, items.size());
  for (size_t t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();

  Json counts = {{"invoked", items.size()}, {"new", 0}, {"updated", 0}, {"skipped", 0}, {"failed", 0}, {"notified", 0}};
  Json ids = Json::array();
  Json failures = Json::array();
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const HandlerOutcome& o = outcomes[i];
    if (!o.activation_id.empty() && ids.size() < kMaxListedIds) ids.push_back(o.activation_id);
    if (!o.stored) {
      counts["failed"] = counts["failed"].get<int64_t>() + 1;
      if (failures.size() < kMaxListedFailures) {
        failures.push_back({{"question_id", items[i].value("question_id", Json())},
                            {"activation_id", o.activation_id},
                            {"error", o.error}});
      }
      continue;
    }
    if (counts.contains(o.status)) counts[o.status] = counts[o.status].get<int64_t>() + 1;
    if (o.notified) counts["notified"] = counts["notified"].get<int64_t>() + 1;
  }
  Json result = counts;
  result["activation_ids"] = ids;
  result["activation_ids_truncated"] = outcomes.size() > ids.size();
  if (!failures.empty()) result["failures"] = failures;

  // The watermark moves only when every item is stored: a failed item is
  // fetched again by the next poll, whose window starts at the old mark.
  const Json watermark = args.value("watermark", Json());
  const std::string name = watermark.is_object() ? json::GetString(watermark, "name") : "";
  const Json value = watermark.is_object() ? watermark.value("value", Json()) : Json();
  bool advanced = false;
  std::string reason;
  if (name.empty() || !value.is_number_integer()) {
    reason = "the collector gave no watermark";
  } else if (counts["failed"].get<int64_t>() > 0) {
    reason = std::to_string(counts["failed"].get<int64_t>()) + " of " + std::to_string(items.size()) +
             " items failed; the next poll fetches them again";
  } else {
    Result<std::unique_ptr<QuestionStore>> store = StoreFor(services, args);
    Result<std::optional<Json>> current = store.ok() ? (*store)->GetLocal(name) : store.status();
    const std::optional<int64_t> old = current.ok() ? StoredWatermark(*current) : std::nullopt;
    const int64_t moved = std::max(old.value_or(0), value.get<int64_t>());
    const Json doc = {{"watermark", moved},
                      {"partial", watermark.value("partial", false)},
                      {"updated_at", FormatIso8601(services.clock.Now())}};
    Status written = current.ok() ? (*store)->PutLocal(name, doc) : current.status();
    if (written.ok()) {
      advanced = true;
    } else {
      reason = "cannot write the watermark: " + written.ToString();
    }
  }
  result["watermark"] = {{"name", name}, {"value", value}, {"advanced", advanced}};
  result["complete"] = args.value("complete", false);  // the collector read the whole window
  if (!advanced) {
    result["watermark"]["reason"] = reason;
    logs.push_back("the watermark stays: " + reason);
  }
  logs.push_back("invoked " + std::to_string(items.size()) + " handler activations: " + json::Dump(counts));
  if (!failures.empty()) logs.push_back("stderr:failures (sample): " + json::Dump(failures));
  return result;
}

// --- storer ------------------------------------------------------------------

Json StoreQuestion(const PipelineServices& services, const Json& args, std::vector<std::string>& logs) {
  const Json& question = args.contains("question") ? args["question"] : Json();
  if (!question.is_object()) return Error(logs, "storer: the input needs `question`, a Stack Exchange question");
  const Json& qid = question.value("question_id", Json());
  if (!qid.is_number_integer() || qid.get<int64_t>() <= 0) {
    return Error(logs, "storer: the question has no question_id: " + json::Dump(question).substr(0, 200));
  }
  const std::string id = std::to_string(qid.get<int64_t>());
  Json fetched = question;
  if (fetched.contains("tags") && fetched["tags"].is_array()) {
    std::sort(fetched["tags"].begin(), fetched["tags"].end());
  }
  const int64_t activity = json::GetInt(fetched, "last_activity_date", 0);

  Result<std::unique_ptr<QuestionStore>> opened = StoreFor(services, args);
  if (!opened.ok()) return Error(logs, "storer: " + std::string(opened.status().message()));
  QuestionStore* store = opened->get();
  for (int attempt = 0; attempt < kMaxConflictRetries; ++attempt) {
    Result<std::optional<Json>> existing = store->Get(id);
    if (!existing.ok()) return Error(logs, "storer: cannot read question " + id + ": " + existing.status().ToString());
    Json doc;
    std::string status;
    bool owes_message = true;
    if (!existing->has_value()) {
      status = "new";
      doc = {{"_id", id},        {"type", "question"},     {"question", fetched},         {"status", status},
             {"owner", nullptr}, {"notes", Json::array()}, {"custom_tags", Json::array()}};
    } else {
      Json& current = **existing;
      // A question stored as new whose message was never recorded still
      // owes it (a crash or a Slack outage came between the two).
      owes_message = json::GetString(current, "status") == "new" && !current.contains("notified_at");
      const auto stored_question = current.find("question");
      if (stored_question != current.end() && stored_question->is_object() &&
          activity <= json::GetInt(*stored_question, "last_activity_date", 0)) {
        if (services.metrics) services.metrics->Stored("skipped");
        return Json{{"id", id}, {"status", "skipped"}, {"notify", owes_message}};
      }
      status = "updated";
      doc = std::move(current);
      doc["question"] = fetched;
      doc["status"] = status;
    }
    // No fsync of its own: the write survives a kill at once, and a power
    // loss only costs a re-fetch, because the watermark that lets the item
    // go is a synced write to the same database after it, which syncs it too.
    Result<std::string> rev = store->Put(std::move(doc), store::Durability::kOsBuffered);
    // The question itself stays out of the result: the notifier reads the
    // document anyway, and a 2.5 KB body in every storer record (and in
    // every copy the sequence makes of it) was a large share of the cost.
    if (rev.ok()) {
      if (services.metrics) services.metrics->Stored(status);
      return Json{{"id", id}, {"status", status}, {"notify", owes_message}};
    }
    if (!rev.status().IsConflict()) {
      return Error(logs, "storer: cannot write question " + id + ": " + rev.status().ToString());
    }
    logs.push_back("question " + id + " changed while being stored; reading it again");
    BackOffAfterConflict(attempt);
  }
  return Error(logs, "storer: question " + id + " kept changing; gave up after " + std::to_string(kMaxConflictRetries) +
                         " conflicts");
}

// --- notifier ----------------------------------------------------------------

Json NotifyNewQuestion(const PipelineServices& services, const Json& args, std::vector<std::string>& logs) {
  const std::string id = Param(args, "id");
  const std::string status = Param(args, "status");
  Json result = {{"id", id}, {"status", status}, {"notified", false}};
  if (!args.value("notify", false)) {
    result["reason"] = "not a new question";
    return result;
  }
  const std::string slack_url = Param(args, "slackURL");
  if (slack_url.empty()) {
    result["reason"] = "no slackURL configured";
    return result;
  }
  if (id.empty()) return Error(logs, "notifier: the input needs `id` (the storer's result)");

  Result<std::unique_ptr<QuestionStore>> opened = StoreFor(services, args);
  if (!opened.ok()) return Error(logs, "notifier: " + std::string(opened.status().message()));
  QuestionStore* store = opened->get();
  std::lock_guard<std::mutex> one_at_a_time(WebhookLock(slack_url));
  Result<std::optional<Json>> doc = store->Get(id);
  if (!doc.ok()) return Error(logs, "notifier: cannot read question " + id + ": " + doc.status().ToString());
  if (!doc->has_value()) return Error(logs, "notifier: question " + id + " is not stored");
  if ((*doc)->contains("notified_at")) {
    result["reason"] = "already notified";
    result["notified_at"] = (**doc)["notified_at"];
    return result;
  }
  if (services.claim_notifications) {
    Result<Json> claimed = ClaimNotification(*store, std::move(**doc), services.clock);
    if (!claimed.ok()) return Error(logs, "notifier: question " + id + ": " + std::string(claimed.status().message()));
    **doc = std::move(*claimed);
  }
  const Json& question = (**doc)["question"];  // as stored: the latest version

  SlackClient slack(services.http, {}, RealSleepUnless(services.slack_sleep ? services.slack_sleep : services.sleep));
  const Status posted = slack.Post(slack_url, NewQuestionMessage(question));
  if (services.metrics) services.metrics->Notified(posted.ok());
  if (!posted.ok()) {
    return Error(logs, "notifier: Slack did not take the message for question " + id + ": " + posted.ToString());
  }
  const std::string bot_url = Param(args, "botURL");
  if (!bot_url.empty()) {
    // The Slack message went out: a bot failure must not make the next poll
    // send it again, so it is only reported.
    if (Status posted = slack.PostBot(bot_url, question); !posted.ok()) {
      result["bot_error"] = posted.ToString();
      logs.push_back("stderr:notifier: the bot webhook failed for question " + id + ": " + posted.ToString());
    }
  }

  const std::string notified_at = FormatIso8601(services.clock.Now());
  for (int attempt = 0; attempt < kMaxConflictRetries; ++attempt) {
    if (attempt > 0) {
      doc = store->Get(id);
      if (!doc.ok() || !doc->has_value()) break;
    }
    Json updated = std::move(**doc);
    if (updated.contains("notified_at")) break;  // recorded meanwhile
    updated["notified_at"] = notified_at;
    updated.erase("notify_claim");
    // No fsync inside the webhook's lock: the record survives a kill at
    // once, so a crash still catches at most the one message in flight. A
    // power loss may drop the records since the database's last synced
    // commit (the poll's watermark at the latest), and those messages go
    // out once more.
    Result<std::string> rev = store->Put(std::move(updated), store::Durability::kOsBuffered);
    if (rev.ok()) {
      result["notified"] = true;
      result["notified_at"] = notified_at;
      return result;
    }
    if (!rev.status().IsConflict()) {
      return Error(logs,
                   "notifier: sent, but cannot record notified_at on question " + id + ": " + rev.status().ToString());
    }
  }
  result["notified"] = true;
  result["reason"] = "sent; notified_at was recorded by another writer or could not be";
  return result;
}

// --- the catalog -------------------------------------------------------------

HandlerInvoke InvokeThroughController(whisk::Controller& controller,
                                      std::function<Result<whisk::Identity>(const std::string&)> identity_of) {
  return [&controller, identity_of = std::move(identity_of)](
             const std::string& namespace_name, const whisk::EntityName& handler, const Json& input,
             const whisk::InvokeOptions& options) -> Result<whisk::InvokeReply> {
    Result<whisk::Identity> identity = identity_of(namespace_name);
    if (!identity.ok()) return Status::NotFound("no identity for namespace " + namespace_name);
    return controller.Invoke(*identity, handler, input, options);
  };
}

void InstallStackoverflowCatalog(whisk::BuiltinRuntime& runtime, whisk::Controller& controller,
                                 const PipelineServices& services) {
  const std::string prefix = std::string(kPackageName) + "/";
  runtime.Register(prefix + "collector", [&services](const Json& args, whisk::BuiltinContext& context) {
    return Collect(services, args, context.logs);
  });
  runtime.Register(prefix + "invoker", [&services](const Json& args, whisk::BuiltinContext& context) {
    return InvokeHandlers(services, context.request.namespace_name, context.request.transaction_id, args, context.logs);
  });
  runtime.Register(prefix + "storer", [&services](const Json& args, whisk::BuiltinContext& context) {
    return StoreQuestion(services, args, context.logs);
  });
  runtime.Register(prefix + "notifier", [&services](const Json& args, whisk::BuiltinContext& context) {
    return NotifyNewQuestion(services, args, context.logs);
  });
  controller.AddCatalogPackage(kPackageName, "Stack Overflow questions into a database, new ones to Slack",
                               PackageParameters(), ActionNames());
}

}  // namespace wisp::stackoverflow
