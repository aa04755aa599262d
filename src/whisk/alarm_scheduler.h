// AlarmScheduler: the state behind the built-in alarms feeds
// (/whisk.system/alarms/alarm, once, interval; spec openwhisk.md §3.3,
// docs/alarms.md). It takes the feeds' lifecycle events, keeps one schedule
// per trigger in the system database `whisk_local_alarms`, and calls the
// fire callback when a schedule is due.
//
// Time comes from a Clock. The scheduler's thread sleeps until the earliest
// next fire, and is woken by any change of the schedules or, with a
// FakeClock, by any move of fake time: an idle server has no ticking timer.
// Misfire policy: a schedule whose next fire passed while wisp was down
// fires once at Start(), then continues from the current time.
//
// Thread-safety: every method may be called from any thread; the fire
// callback runs on the scheduler's thread, without the scheduler's lock.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "json/json.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/result.h"

namespace wisp::whisk {

inline constexpr char kAlarmsDb[] = "whisk_local_alarms";

class AlarmScheduler {
 public:
  // `trigger` is "/ns/name"; `auth_key` the "uuid:key" the feed was created with.
  using FireFn = std::function<void(const std::string& trigger, const std::string& auth_key, const Json& payload)>;

  AlarmScheduler(store::Store& store, Clock& clock, FireFn fire);
  ~AlarmScheduler();
  AlarmScheduler(const AlarmScheduler&) = delete;
  AlarmScheduler& operator=(const AlarmScheduler&) = delete;

  // Loads the persisted schedules, fires the missed ones once, and starts
  // the scheduler's thread.
  Status Start();
  void Stop();

  // A feed action's invocation. `feed` is "alarm", "once" or "interval";
  // `params` carries lifecycleEvent, triggerName, authKey and the feed's
  // parameters. The result is the feed's answer; errors are 400-style texts.
  Result<Json> Handle(const std::string& feed, const Json& params);

  // The number of fires so far (tests).
  int64_t fires() const;

 private:
  Result<Json> Create(const std::string& feed, const Json& params, const Json* old);
  // Ms of the fire after `after_ms`, or -1 when none is left.
  int64_t NextFire(const Json& doc, int64_t after_ms) const;
  Status Persist(Json& doc);
  void Run();
  void Wake();

  // What a FakeClock observer reaches; cleared at Stop(), since observers
  // outlive the scheduler.
  struct Waker {
    std::mutex mu;
    AlarmScheduler* scheduler = nullptr;  // GUARDED_BY(mu)
  };
  std::shared_ptr<Waker> waker_ = std::make_shared<Waker>();

  store::Store& store_;
  Clock& clock_;
  FireFn fire_;
  std::shared_ptr<store::Database> db_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Json> schedules_;  // GUARDED_BY(mu_): by "/ns/name"
  bool stop_ = false;                      // GUARDED_BY(mu_)
  uint64_t changes_ = 0;                   // GUARDED_BY(mu_)
  int64_t fires_ = 0;                      // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace wisp::whisk
