// Holds a function's calls that arrive while closed, so a test can act while a call (a
// background refresh, a fill) is in progress. Waits are bounded by `generous`: a bound on a
// hang, never a timing assertion. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace cachekit::testing {

class call_gate {
 public:
  static constexpr std::chrono::seconds generous{30};

  void close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  // Called by the function: counts the arrival, then waits while the gate is closed.
  void pass() {
    std::unique_lock lock(mutex_);
    ++arrived_;
    changed_.notify_all();
    changed_.wait_for(lock, generous, [&] { return open_; });
  }
  // Waits until `n` calls have arrived in all; false when they did not within `generous`.
  bool wait_arrivals(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, generous, [&] { return arrived_ >= n; });
  }
  // Calls that have arrived so far (passed or waiting).
  int arrivals() {
    std::lock_guard lock(mutex_);
    return arrived_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  int arrived_ = 0;
};

}  // namespace cachekit::testing
