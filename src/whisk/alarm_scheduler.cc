#include "whisk/alarm_scheduler.h"

#include <cstdio>
#include <vector>

#include "util/log.h"
#include "whisk/cron.h"

namespace wisp::whisk {
namespace {

constexpr int64_t kIntervalDelayMs = 30'000;  // interval without startDate: first fire 30 s after creation

Status Bad(std::string text) { return Status::InvalidArgument(std::move(text)); }

// Epoch ms, as a number or a string of digits, or ISO-8601
// ("2026-01-02T03:04:05[.mmm][Z|+hh:mm]").
Result<int64_t> ParseDate(const Json& value, const std::string& field) {
  const Status bad = Bad(field + " parameter '" + (value.is_string() ? value.get<std::string>() : json::Dump(value)) +
                         "' is not a valid Date");
  if (value.is_number_integer()) return value.get<int64_t>();
  if (!value.is_string()) return bad;
  const std::string text = value.get<std::string>();
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) return std::stoll(text);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6) return bad;
  std::string rest = text.substr(static_cast<size_t>(n));
  int64_t ms = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    std::string frac;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) frac += rest[i++];
    frac = (frac + "000").substr(0, 3);
    ms = std::stoll(frac);
    rest = rest.substr(i);
  }
  int64_t offset_min = 0;
  if (rest == "Z" || rest.empty()) {
  } else if ((rest[0] == '+' || rest[0] == '-') && rest.size() == 6 && rest[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(rest.c_str() + 1, "%2d:%2d", &oh, &om) != 2) return bad;
    offset_min = (rest[0] == '+' ? 1 : -1) * (oh * 60 + om);
  } else {
    return bad;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return bad;
  const int64_t day_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::sys_days(ymd).time_since_epoch()).count();
  return day_ms + ((h * 60 + mi) * 60 + s) * 1000 + ms - offset_min * 60'000;
}

Json PayloadOf(const Json& value) {
  if (value.is_object()) return value;
  if (value.is_string()) {
    Result<Json> parsed = json::Parse(value.get<std::string>());
    if (parsed.ok() && parsed->is_object()) return *parsed;
    return Json{{"payload", value}};
  }
  return Json::object();
}

}  // namespace

AlarmScheduler::AlarmScheduler(store::Store& store, Clock& clock, FireFn fire)
    : store_(store), clock_(clock), fire_(std::move(fire)) {}

AlarmScheduler::~AlarmScheduler() { Stop(); }

int64_t AlarmScheduler::fires() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fires_;
}

int64_t AlarmScheduler::NextFire(const Json& doc, int64_t after_ms) const {
  const std::string feed = json::GetString(doc, "feed");
  const int64_t start = json::GetInt(doc, "startDate", -1);
  const int64_t stop = json::GetInt(doc, "stopDate", -1);
  const int64_t max = json::GetInt(doc, "maxTriggers", -1);
  if (max >= 0 && json::GetInt(doc, "fired") >= max) return -1;
  int64_t next = -1;
  if (feed == "once") {
    const int64_t date = json::GetInt(doc, "date");
    next = json::GetInt(doc, "fired") == 0 && date > after_ms ? date : -1;
  } else if (feed == "interval") {
    const int64_t first = start >= 0 ? start : json::GetInt(doc, "created") + kIntervalDelayMs;
    const int64_t period = json::GetInt(doc, "minutes") * 60'000;
    next = after_ms < first ? first : first + ((after_ms - first) / period + 1) * period;
  } else {
    Result<CronSchedule> cron = CronSchedule::Parse(json::GetString(doc, "cron"), json::GetString(doc, "timezone"));
    if (!cron.ok()) return -1;
    const int64_t from = std::max(after_ms, start - 1);
    const auto at = cron->Next(CronSchedule::Seconds(std::chrono::seconds(from >= 0 ? from / 1000 : -1)));
    next = at ? at->time_since_epoch().count() * 1000 : -1;
  }
  if (next >= 0 && stop >= 0 && next >= stop) return -1;
  return next;
}

Status AlarmScheduler::Persist(Json& doc) {
  store::WriteResult written = db_->Put(doc);
  if (!written.status.ok()) return written.status;
  doc["_rev"] = written.rev;
  return Status::Ok();
}

Status AlarmScheduler::Start() {
  Status created = store_.CreateDatabase(kAlarmsDb);
  if (!created.ok() && created.code() != StatusCode::kPreconditionFailed) return created;
  WISP_ASSIGN_OR_RETURN(db_, store_.GetDatabase(kAlarmsDb));
  store::AllDocsOptions options;
  options.include_docs = true;
  const Json page = db_->AllDocs(options);
  std::vector<Json> missed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_.NowMillis();
    for (const Json& row : page.value("rows", Json::array())) {
      if (!row.contains("doc") || !row["doc"].is_object()) continue;
      Json doc = row["doc"];
      const int64_t next = json::GetInt(doc, "next", -1);
      if (doc.value("active", true) && next >= 0 && next <= now) {
        // Missed while down: fire once now, then go on from now.
        missed.push_back(doc);
        doc["fired"] = json::GetInt(doc, "fired") + 1;
        doc["next"] = NextFire(doc, now);
        (void)Persist(doc);
        ++fires_;
      }
      const std::string trigger = json::GetString(doc, "trigger");  // before the move below
      schedules_[trigger] = std::move(doc);
    }
    stop_ = false;
  }
  for (const Json& doc : missed) {
    fire_(json::GetString(doc, "trigger"), json::GetString(doc, "authKey"), doc.value("payload", Json::object()));
  }
  if (auto* fake = dynamic_cast<FakeClock*>(&clock_)) {
    {
      std::lock_guard<std::mutex> lock(waker_->mu);
      waker_->scheduler = this;
    }
    fake->OnChange([waker = waker_] {
      std::lock_guard<std::mutex> lock(waker->mu);
      if (waker->scheduler != nullptr) waker->scheduler->Wake();
    });
  }
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void AlarmScheduler::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  ++changes_;
  cv_.notify_all();
}

void AlarmScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(waker_->mu);
    waker_->scheduler = nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void AlarmScheduler::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    const int64_t now = clock_.NowMillis();
    std::vector<Json> due;
    int64_t earliest = -1;
    for (auto& [trigger, doc] : schedules_) {
      const int64_t next = json::GetInt(doc, "next", -1);
      if (!doc.value("active", true) || next < 0) continue;
      if (next <= now) {
        due.push_back(doc);
        doc["fired"] = json::GetInt(doc, "fired") + 1;
        doc["next"] = NextFire(doc, now);
        if (Status s = Persist(doc); !s.ok()) {
          log::Error("alarms", "cannot persist schedule", {{"trigger", trigger}, {"error", s.ToString()}});
        }
        ++fires_;
      }
      const int64_t after = json::GetInt(doc, "next", -1);
      if (after >= 0 && (earliest < 0 || after < earliest)) earliest = after;
    }
    if (!due.empty()) {
      lock.unlock();
      for (const Json& doc : due) {
        fire_(json::GetString(doc, "trigger"), json::GetString(doc, "authKey"), doc.value("payload", Json::object()));
      }
      lock.lock();
      cv_.notify_all();
      continue;
    }
    const uint64_t seen = changes_;
    const auto woken = [&] { return stop_ || changes_ != seen; };
    if (earliest < 0) {
      cv_.wait(lock, woken);
    } else {
      cv_.wait_for(lock, std::chrono::milliseconds(earliest - now), woken);
    }
  }
}

Result<Json> AlarmScheduler::Create(const std::string& feed, const Json& params, const Json* old) {
  const std::string trigger = json::GetString(params, "triggerName");
  Json doc = old ? *old : Json::object();
  doc["_id"] = trigger.size() > 1 ? trigger.substr(1) : trigger;
  doc["trigger"] = trigger;
  doc["authKey"] = json::GetString(params, "authKey", json::GetString(doc, "authKey"));
  doc["feed"] = feed;
  const auto param = [&](const char* key) { return params.contains(key) ? params[key] : doc.value(key, Json()); };
  if (feed == "alarm") {
    const Json cron = param("cron");
    if (!cron.is_string()) return Bad("alarms trigger feed is missing the cron parameter");
    const Json zone = param("timezone");
    WISP_RETURN_IF_ERROR(
        CronSchedule::Parse(cron.get<std::string>(), zone.is_string() ? zone.get<std::string>() : "").status());
    doc["cron"] = cron;
    if (zone.is_string()) doc["timezone"] = zone;
  } else if (feed == "once") {
    const Json date = param("date");
    if (date.is_null()) return Bad("alarms once trigger feed is missing the date parameter");
    WISP_ASSIGN_OR_RETURN(int64_t at, ParseDate(date, "date"));
    if (at <= clock_.NowMillis()) return Bad("date parameter '" + json::Dump(date) + "' must be in the future");
    doc["date"] = at;
  } else {
    const Json minutes = param("minutes");
    if (!minutes.is_number_integer() || minutes.get<int64_t>() <= 0) {
      return Bad("the minutes parameter must be an integer greater than zero");
    }
    doc["minutes"] = minutes;
  }
  for (const char* key : {"startDate", "stopDate"}) {
    const Json value = param(key);
    if (value.is_null()) continue;
    WISP_ASSIGN_OR_RETURN(int64_t ms, ParseDate(value, key));
    doc[key] = ms;
  }
  if (doc.contains("stopDate") && doc.contains("startDate") && doc["stopDate"] <= doc["startDate"]) {
    return Bad("stopDate parameter '" + json::Dump(doc["stopDate"]) + "' must be greater than the startDate");
  }
  const Json max = param("maxTriggers");
  if (max.is_number_integer()) {
    if (doc.contains("stopDate") && max.get<int64_t>() >= 0) return Bad("maxTriggers is not allowed with a stopDate");
    doc["maxTriggers"] = max;
  }
  doc["payload"] = PayloadOf(param("trigger_payload"));
  if (!old) {
    doc["created"] = clock_.NowMillis();
    doc["fired"] = 0;
    doc["active"] = true;
    doc["dateChanged"] = clock_.NowMillis();
  }
  doc["next"] = NextFire(doc, clock_.NowMillis());
  if (json::GetInt(doc, "next", -1) < 0 && doc.contains("stopDate")) {
    return Bad("the first scheduled trigger fire is not until after the stop date");
  }
  return doc;
}

Result<Json> AlarmScheduler::Handle(const std::string& feed, const Json& params) {
  if (feed != "alarm" && feed != "once" && feed != "interval") return Bad("unknown alarms feed '" + feed + "'");
  const std::string event = json::GetString(params, "lifecycleEvent");
  const std::string trigger = json::GetString(params, "triggerName");
  if (trigger.size() < 4 || trigger[0] != '/' || trigger.find('/', 1) == std::string::npos) {
    return Bad("triggerName parameter is required as /namespace/name");
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (!db_) return Status::Unavailable("the alarms service is not running");
  const auto it = schedules_.find(trigger);
  const auto changed = [&] {
    ++changes_;
    cv_.notify_all();
  };
  if (event == "CREATE") {
    if (json::GetString(params, "authKey").empty()) return Bad("authKey parameter is required");
    if (it != schedules_.end()) return Status::Conflict("trigger " + trigger + " already has an alarm");
    WISP_ASSIGN_OR_RETURN(Json doc, Create(feed, params, nullptr));
    WISP_RETURN_IF_ERROR(Persist(doc));
    schedules_[trigger] = std::move(doc);
    changed();
    return Json::object();
  }
  if (it == schedules_.end()) return Status::NotFound("trigger " + trigger + " has no alarm");
  Json& doc = it->second;
  if (event == "READ") {
    Json config = {{"name", trigger.substr(trigger.find('/', 1) + 1)},
                   {"namespace", trigger.substr(1, trigger.find('/', 1) - 1)},
                   {"payload", doc.value("payload", Json::object())}};
    for (const char* key : {"cron", "timezone", "minutes", "date", "startDate", "stopDate", "maxTriggers"}) {
      if (doc.contains(key)) config[key] = doc[key];
    }
    const int64_t changed_ms = json::GetInt(doc, "dateChanged");
    Json status = {{"active", doc.value("active", true)},
                   {"dateChanged", changed_ms},
                   {"dateChangedISO", FormatIso8601(Clock::WallTime(std::chrono::milliseconds(changed_ms)))}};
    return Json{{"config", config}, {"status", status}};
  }
  if (event == "UPDATE") {
    WISP_ASSIGN_OR_RETURN(Json updated, Create(json::GetString(doc, "feed", feed), params, &doc));
    WISP_RETURN_IF_ERROR(Persist(updated));
    doc = std::move(updated);
    changed();
    return Json::object();
  }
  if (event == "PAUSE" || event == "UNPAUSE") {
    Json updated = doc;
    updated["active"] = event == "UNPAUSE";
    updated["dateChanged"] = clock_.NowMillis();
    if (event == "UNPAUSE") updated["next"] = NextFire(updated, clock_.NowMillis());
    WISP_RETURN_IF_ERROR(Persist(updated));
    doc = std::move(updated);
    changed();
    return Json::object();
  }
  if (event == "DELETE") {
    Json tombstone = {{"_id", doc["_id"]}, {"_rev", doc["_rev"]}, {"_deleted", true}};
    WISP_RETURN_IF_ERROR(db_->Put(std::move(tombstone)).status);
    schedules_.erase(it);
    changed();
    return Json::object();
  }
  return Bad("unsupported lifecycleEvent");
}

}  // namespace wisp::whisk
