#include "whisk/blocking_waits.h"

#include <exception>
#include <vector>

#include "util/log.h"

namespace wisp::whisk {

struct BlockingWaits::Wait {
  explicit Wait(OnEnd on_end) : on_end(std::move(on_end)) {}
  OnEnd on_end;        // GUARDED_BY(BlockingWaits::mu_); empty once ended
  bool ended = false;  // GUARDED_BY(BlockingWaits::mu_)
  bool armed = false;  // GUARDED_BY(BlockingWaits::mu_): in deadlines_ under `key`
  Key key;             // GUARDED_BY(BlockingWaits::mu_)
};

BlockingWaits::BlockingWaits() : thread_([this] { Run(); }) {}

BlockingWaits::~BlockingWaits() {
  StopAll();
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

std::shared_ptr<BlockingWaits::Wait> BlockingWaits::Create(OnEnd on_end) {
  return std::make_shared<Wait>(std::move(on_end));
}

BlockingWaits::OnEnd BlockingWaits::End(Wait& wait) {
  if (wait.ended) return nullptr;
  wait.ended = true;
  OnEnd on_end = std::move(wait.on_end);
  if (wait.armed) {
    wait.armed = false;
    deadlines_.erase(wait.key);  // may destroy `wait`: it is not touched after this
  }
  return on_end;
}

void BlockingWaits::Call(OnEnd& on_end, const Json* record) {
  if (!on_end) return;
  try {
    on_end(record);
  } catch (const std::exception& e) {
    log::Error("whisk", "a blocking invoke's answer threw", {{"error", e.what()}});
  } catch (...) {
    log::Error("whisk", "a blocking invoke's answer threw a non-exception");
  }
}

void BlockingWaits::Arm(const std::shared_ptr<Wait>& wait, TimePoint deadline) {
  OnEnd now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (wait->ended) return;
    if (stopped_) {
      now = End(*wait);
    } else {
      wait->key = {deadline, next_seq_++};
      wait->armed = true;
      deadlines_.emplace(wait->key, wait);
      if (deadlines_.begin()->second == wait) cv_.notify_all();  // a new earliest deadline
    }
  }
  Call(now, nullptr);
}

void BlockingWaits::Finish(const std::shared_ptr<Wait>& wait, const Json& record) {
  OnEnd on_end;
  {
    std::lock_guard<std::mutex> lock(mu_);
    on_end = End(*wait);
  }
  Call(on_end, &record);
}

void BlockingWaits::Discard(const std::shared_ptr<Wait>& wait) {
  OnEnd dropped;  // destroyed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  dropped = End(*wait);
}

void BlockingWaits::StopAll() {
  std::vector<OnEnd> ended;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    while (!deadlines_.empty()) ended.push_back(End(*deadlines_.begin()->second));
  }
  for (OnEnd& on_end : ended) Call(on_end, nullptr);
}

size_t BlockingWaits::armed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return deadlines_.size();
}

void BlockingWaits::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!quit_) {
    if (deadlines_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const TimePoint next = deadlines_.begin()->first.first;
    if (std::chrono::steady_clock::now() < next) {
      cv_.wait_until(lock, next);
      continue;
    }
    std::vector<OnEnd> expired;
    const TimePoint now = std::chrono::steady_clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first.first <= now) {
      expired.push_back(End(*deadlines_.begin()->second));
    }
    lock.unlock();
    for (OnEnd& on_end : expired) Call(on_end, nullptr);
    expired.clear();  // the callbacks' captures go outside the lock too
    lock.lock();
  }
}

}  // namespace wisp::whisk
