#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "testing/notification.h"
#include "util/log.h"

namespace wisp {
namespace {

// Generous: these bound a broken pool, they are not waited out when it works.
constexpr auto kDeadline = std::chrono::seconds(10);

// A one-shot gate that tasks wait on and the test opens.
class Gate {
 public:
  void Open() { notification_.Notify(); }
  // True when the gate opened before the deadline.
  bool Wait() { return notification_.WaitFor(kDeadline); }

 private:
  testing::Notification notification_;
};

// Counts events and lets the test wait until a number is reached.
class Counter {
 public:
  void Add() {
    std::lock_guard lock(mu_);
    ++count_;
    cv_.notify_all();
  }
  // True when at least `n` events happened before the deadline.
  bool WaitFor(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

TEST(ThreadPoolTest, RunsEverySubmittedTask) {
  ThreadPool pool(4);
  Counter done;
  constexpr int kTasks = 1000;
  for (int i = 0; i < kTasks; ++i) ASSERT_TRUE(pool.Submit([&] { done.Add(); }));
  EXPECT_TRUE(done.WaitFor(kTasks));
  pool.Shutdown();
  EXPECT_EQ(done.count(), kTasks);
}

TEST(ThreadPoolTest, ZeroThreadsMeansOne) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), 1u);
  Counter done;
  ASSERT_TRUE(pool.Submit([&] { done.Add(); }));
  EXPECT_TRUE(done.WaitFor(1));
}

TEST(ThreadPoolTest, SizeIsTheNumberOfThreads) {
  ThreadPool pool(3, "a-name-longer-than-fifteen-characters");
  EXPECT_EQ(pool.size(), 3u);
}

TEST(ThreadPoolTest, AcceptsMoveOnlyTasks) {
  ThreadPool pool(2);
  Counter done;
  std::atomic<int> seen{0};
  auto value = std::make_unique<int>(42);
  ASSERT_TRUE(pool.Submit([v = std::move(value), &seen, &done] {
    seen = *v;
    done.Add();
  }));
  EXPECT_TRUE(done.WaitFor(1));
  EXPECT_EQ(seen.load(), 42);
}

TEST(ThreadPoolTest, SingleThreadRunsTasksInSubmissionOrder) {
  ThreadPool pool(1);
  std::mutex mu;
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(pool.Submit([&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
    }));
  }
  pool.Shutdown();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(ThreadPoolTest, SubmitAfterShutdownReturnsFalseWithoutRunning) {
  ThreadPool pool(2);
  pool.Shutdown();
  bool ran = false;
  EXPECT_FALSE(pool.Submit([&] { ran = true; }));
  EXPECT_FALSE(ran);
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(ThreadPoolTest, ShutdownRunsTasksAlreadyQueued) {
  ThreadPool pool(1);
  Gate gate;
  Counter started;
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.Submit([&] {
    started.Add();
    gate.Wait();
    ++ran;
  }));
  ASSERT_TRUE(started.WaitFor(1));  // the only thread is now busy
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(pool.Submit([&] { ++ran; }));
  EXPECT_EQ(pool.pending(), 10u);

  std::thread stopper([&] { pool.Shutdown(); });
  // Shutdown has begun once Submit refuses work; the ten tasks are still queued.
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (pool.Submit([] {}) && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_FALSE(pool.Submit([] {}));
  EXPECT_EQ(ran.load(), 0);

  gate.Open();
  stopper.join();
  EXPECT_EQ(ran.load(), 11);
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(ThreadPoolTest, ShutdownIsIdempotent) {
  ThreadPool pool(2);
  pool.Shutdown();
  pool.Shutdown();
  EXPECT_FALSE(pool.Submit([] {}));
}

TEST(ThreadPoolTest, DestructorDrainsQueuedTasks) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.Submit([&] { ++ran; }));
  }
  EXPECT_EQ(ran.load(), 50);
}

TEST(ThreadPoolTest, RunsTasksConcurrentlyOnAllThreads) {
  constexpr int kThreads = 4;
  ThreadPool pool(kThreads);
  Counter arrived;
  Gate all_arrived;
  std::atomic<int> saw_everyone{0};
  std::mutex ids_mu;
  std::set<std::thread::id> ids;
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(pool.Submit([&] {
      {
        std::lock_guard lock(ids_mu);
        ids.insert(std::this_thread::get_id());
      }
      arrived.Add();
      // Each task blocks until all have started: only possible when they run at once.
      if (all_arrived.Wait()) ++saw_everyone;
    }));
  }
  EXPECT_TRUE(arrived.WaitFor(kThreads));
  all_arrived.Open();
  pool.Shutdown();
  EXPECT_EQ(saw_everyone.load(), kThreads);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads));
}

TEST(ThreadPoolTest, TaskMaySubmitAnotherTask) {
  ThreadPool pool(1);
  Counter done;
  ASSERT_TRUE(pool.Submit([&] {
    done.Add();
    EXPECT_TRUE(pool.Submit([&] { done.Add(); }));
  }));
  EXPECT_TRUE(done.WaitFor(2));
}

class ThreadPoolThrowTest : public ::testing::Test {
 protected:
  // The pool logs a throwing task; keep that out of the test output.
  void SetUp() override {
    log::Options quiet;
    quiet.level = log::Level::kOff;
    ASSERT_TRUE(log::Configure(quiet).ok());
  }
  void TearDown() override { ASSERT_TRUE(log::Configure(log::Options{}).ok()); }
};

TEST_F(ThreadPoolThrowTest, ThrowingTaskDoesNotKillThePool) {
  ThreadPool pool(1);
  Counter done;
  ASSERT_TRUE(pool.Submit([] { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(pool.Submit([] { throw 42; }));  // not a std::exception
  ASSERT_TRUE(pool.Submit([&] { done.Add(); }));
  EXPECT_TRUE(done.WaitFor(1));

  // The single thread is still alive for later work.
  ASSERT_TRUE(pool.Submit([&] { done.Add(); }));
  EXPECT_TRUE(done.WaitFor(2));
}

TEST(ThreadPoolTest, ConcurrentShutdownCallersReturnOnlyAfterTheDrain) {
  ThreadPool pool(1);
  Gate gate;
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.Submit([&] {
    gate.Wait();
    ++ran;
  }));
  ASSERT_TRUE(pool.Submit([&] { ++ran; }));
  std::atomic<int> returned{0};
  std::atomic<int> ran_when_returned{-1};
  auto stop = [&] {
    pool.Shutdown();
    ran_when_returned = ran.load();
    ++returned;
  };
  std::thread a(stop);
  std::thread b(stop);
  gate.Open();
  a.join();
  b.join();
  EXPECT_EQ(returned.load(), 2);
  EXPECT_EQ(ran_when_returned.load(), 2) << "a Shutdown() returned before the queue drained";
}

TEST(ThreadPoolTest, ShutdownFromATaskLeavesTheDestructorToJoinThatThread) {
  Gate called;
  {
    ThreadPool pool(2);
    ASSERT_TRUE(pool.Submit([&] {
      pool.Shutdown();
      called.Open();
    }));
    EXPECT_TRUE(called.Wait());
  }  // the destructor joins the thread that called Shutdown(): under ASan a
     // detached thread outliving the pool shows as a use-after-free here
}

}  // namespace
}  // namespace wisp

namespace wisp {
namespace {

TEST(ThreadPoolTest, ATaskRunsUnderTheSubmittersLogContext) {
  ThreadPool pool(2);
  testing::Notification done;
  std::string seen_trace = "unset", seen_after = "unset";
  {
    log::LogContext ctx({{"trace_id", "submitted-under"}});
    ASSERT_TRUE(pool.Submit([&] {
      seen_trace = log::LogContext::Get("trace_id");
      done.Notify();
    }));
  }
  ASSERT_TRUE(done.WaitFor(std::chrono::seconds(10)));
  EXPECT_EQ(seen_trace, "submitted-under");
  // The pool thread does not keep the context for the next task.
  testing::Notification second;
  ASSERT_TRUE(pool.Submit([&] {
    seen_after = log::LogContext::Get("trace_id");
    second.Notify();
  }));
  ASSERT_TRUE(second.WaitFor(std::chrono::seconds(10)));
  EXPECT_EQ(seen_after, "");
}

}  // namespace
}  // namespace wisp
