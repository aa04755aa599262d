#include "whisk/activation_sweeper.h"

#include <algorithm>
#include <utility>

namespace wisp::whisk {

ActivationSweeper::ActivationSweeper(Clock& clock, std::chrono::milliseconds interval, std::function<void()> sweep)
    : clock_(clock), interval_(std::max(interval, std::chrono::milliseconds(1))), sweep_(std::move(sweep)) {}

ActivationSweeper::~ActivationSweeper() { Stop(); }

std::chrono::milliseconds ActivationSweeper::IntervalFor(std::chrono::milliseconds retention) {
  return std::clamp<std::chrono::milliseconds>(retention / 10, std::chrono::seconds(1), std::chrono::hours(1));
}

void ActivationSweeper::Start() {
  if (auto* fake = dynamic_cast<FakeClock*>(&clock_)) {
    {
      std::lock_guard<std::mutex> lock(waker_->mu);
      waker_->sweeper = this;
    }
    fake->OnChange([waker = waker_] {
      std::lock_guard<std::mutex> lock(waker->mu);
      if (waker->sweeper != nullptr) waker->sweeper->Wake();
    });
  }
  thread_ = std::thread([this] { Run(); });
}

void ActivationSweeper::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  ++changes_;
  cv_.notify_all();
}

void ActivationSweeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(waker_->mu);
    waker_->sweeper = nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

int64_t ActivationSweeper::sweeps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sweeps_;
}

bool ActivationSweeper::WaitForSweeps(int64_t count, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return sweeps_ >= count; });
}

void ActivationSweeper::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  int64_t next = clock_.NowMillis();
  while (!stop_) {
    const int64_t now = clock_.NowMillis();
    if (now >= next) {
      lock.unlock();
      sweep_();
      lock.lock();
      ++sweeps_;
      next = now + interval_.count();
      cv_.notify_all();
      continue;
    }
    const uint64_t seen = changes_;
    cv_.wait_for(lock, std::chrono::milliseconds(next - now), [&] { return stop_ || changes_ != seen; });
  }
}

}  // namespace wisp::whisk
