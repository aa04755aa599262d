// BlockingWaits: the blocking invokes that wait for their activation's
// record. A wait ends exactly once: with the record when the activation
// ends (Finish), or without it when its deadline passes or at StopAll(),
// and the invoke then answers 202 with the activation id.
//
// One thread watches every deadline, so a waiting invoke holds no thread of
// its own. That is what lets the REST API answer a blocking invoke from
// whichever thread ends the wait (http::DeferredResponse) instead of parking
// an HTTP worker on it: actions that invoke actions through the API would
// otherwise take every worker and stall the server.
//
// A wait is created before its activation is queued (so an activation that
// ends at once cannot be missed) and armed with its deadline afterwards.
//
// Thread-safety: every method may be called from any thread. A wait's
// `on_end` runs exactly once, on the thread that ends it (the activation's,
// the deadline thread, or the caller of Arm() or StopAll()), with no lock of
// this class held; an exception from it is logged and dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "json/json.h"

namespace wisp::whisk {

class BlockingWaits {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // The activation's record, or null when the wait ran out (deadline or stop).
  using OnEnd = std::function<void(const Json* record)>;
  struct Wait;

  BlockingWaits();
  ~BlockingWaits();  // StopAll(), then joins the deadline thread
  BlockingWaits(const BlockingWaits&) = delete;
  BlockingWaits& operator=(const BlockingWaits&) = delete;

  // A wait that Finish() may end, not yet watched for a deadline.
  std::shared_ptr<Wait> Create(OnEnd on_end);
  // Watches `wait` until `deadline`. Nothing when it has already ended;
  // after StopAll() it ends now, without a record.
  void Arm(const std::shared_ptr<Wait>& wait, TimePoint deadline);
  // The activation ended: `wait` ends with `record` unless it already ended.
  void Finish(const std::shared_ptr<Wait>& wait, const Json& record);
  // Ends `wait` without calling its on_end: its activation never started.
  void Discard(const std::shared_ptr<Wait>& wait);
  // Shutdown: every armed wait ends now without a record, and so does every
  // wait armed later.
  void StopAll();

  // Waits armed and not yet ended (tests, metrics).
  size_t armed() const;

 private:
  using Key = std::pair<TimePoint, uint64_t>;
  // Marks `wait` ended and takes its on_end (empty when it had ended).
  OnEnd End(Wait& wait);  // REQUIRES(mu_)
  static void Call(OnEnd& on_end, const Json* record);
  void Run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, std::shared_ptr<Wait>> deadlines_;  // GUARDED_BY(mu_): armed waits, earliest first
  uint64_t next_seq_ = 0;                           // GUARDED_BY(mu_)
  bool stopped_ = false;                            // GUARDED_BY(mu_): StopAll() was called
  bool quit_ = false;                               // GUARDED_BY(mu_): the thread ends
  std::thread thread_;
};

}  // namespace wisp::whisk
