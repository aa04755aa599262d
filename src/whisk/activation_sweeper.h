// ActivationSweeper: runs a sweep (the controller's ExpireActivations) now
// and then every `interval` of the clock's wall time, on its own thread, so
// that activation records older than the retention period go away.
//
// With a FakeClock the sweeper follows fake time: every Advance() wakes it
// and it sweeps when a sweep is due, so tests move time instead of waiting.
//
// Thread-safety: Start() and Stop() from one thread; sweeps() and
// WaitForSweeps() from any.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "util/clock.h"

namespace wisp::whisk {

class ActivationSweeper {
 public:
  ActivationSweeper(Clock& clock, std::chrono::milliseconds interval, std::function<void()> sweep);
  ~ActivationSweeper();  // Stop()
  ActivationSweeper(const ActivationSweeper&) = delete;
  ActivationSweeper& operator=(const ActivationSweeper&) = delete;

  // Starts the thread; the first sweep runs at once.
  void Start();
  // Waits for a running sweep to end, then joins. Idempotent.
  void Stop();
  // Sweeps finished so far.
  int64_t sweeps() const;
  // Waits until `count` sweeps have finished; false after `timeout` (tests).
  bool WaitForSweeps(int64_t count, std::chrono::milliseconds timeout);

  // The interval for a retention period: a tenth of it, between one second
  // and one hour, so records outlive the period by at most that much.
  static std::chrono::milliseconds IntervalFor(std::chrono::milliseconds retention);

 private:
  void Run();
  void Wake();

  // What a FakeClock observer reaches; cleared at Stop(), since observers
  // outlive the sweeper.
  struct Waker {
    std::mutex mu;
    ActivationSweeper* sweeper = nullptr;  // GUARDED_BY(mu)
  };
  std::shared_ptr<Waker> waker_ = std::make_shared<Waker>();

  Clock& clock_;
  const std::chrono::milliseconds interval_;
  const std::function<void()> sweep_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;     // GUARDED_BY(mu_)
  uint64_t changes_ = 0;  // GUARDED_BY(mu_): fake-clock moves
  int64_t sweeps_ = 0;    // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace wisp::whisk
