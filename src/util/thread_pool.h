// ThreadPool: a fixed set of threads that run submitted tasks in FIFO order.
//
// The HTTP server runs blocking handlers here so that they never stall its IO
// threads. Tasks may be move-only. A task runs under the log context
// (log.h) of the thread that submitted it, so its lines keep the trace id.
//
// Thread-safety: Submit() and Shutdown() may be called from any thread,
// including from a task. The destructor calls Shutdown(); it must not run on
// one of the pool's own threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "util/log.h"

namespace wisp {

class ThreadPool {
 public:
  // Starts `threads` threads (at least one), named `name` for debuggers.
  explicit ThreadPool(size_t threads, std::string name = "wisp-pool");
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`. Returns false, without running it, once Shutdown() began.
  template <typename F>
  bool Submit(F&& task) {
    // std::function needs a copyable target; a shared_ptr makes move-only tasks fit.
    auto holder = std::make_shared<std::decay_t<F>>(std::forward<F>(task));
    return Enqueue([holder, context = log::CapturedContext::Current()] {
      log::LogContext carried(context);
      (*holder)();
    });
  }

  // Runs every task already queued, then joins the threads. Idempotent;
  // every caller returns only after the join (called from a task, it joins
  // all threads but the caller's).
  void Shutdown();

  size_t size() const { return threads_.size(); }
  // Tasks queued but not yet started.
  size_t pending() const;

 private:
  bool Enqueue(std::function<void()> task);
  void Run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                    // GUARDED_BY(mu_)
  std::mutex join_mu_;  // serialises the joins of concurrent Shutdown() calls
  std::vector<std::thread> threads_;
};

}  // namespace wisp
