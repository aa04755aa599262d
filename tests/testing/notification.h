// A one-shot event that tests wait on with a deadline, so that no test
// sleeps to wait for something.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace wisp::testing {

class Notification {
 public:
  void Notify() {
    std::lock_guard lock(mu_);
    notified_ = true;
    cv_.notify_all();
  }
  // True when notified before `deadline` passed.
  bool WaitFor(std::chrono::milliseconds deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [this] { return notified_; });
  }
  bool HasBeenNotified() {
    std::lock_guard lock(mu_);
    return notified_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace wisp::testing
