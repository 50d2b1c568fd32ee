// The thread that hears failovers: subscribed to `+switch-master` on one sentinel, it hands
// `+switch-master <service> <old ip> <old port> <new ip> <new port>` for the locator's service
// to redis_master_locator::adopt, so the backend follows a new master before a command to the
// old one has to fail.
//
// It subscribes on the sentinels in the locator's order; when its sentinel goes away (connection
// lost, or silent past the subscription's keepalive) it moves to the next, and after a round in
// which none accepted it waits 1 s. Messages sent while it was between sentinels are lost; the
// locator's other triggers (connect failure, ROLE, READONLY, lost connection) still catch the
// change then.
//
// Made per process by the locator (a forked child starts its own). Thread-safe: the destructor
// stops the thread (within about 100 ms) and joins it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace cachekit {
inline namespace v0 {
namespace detail {

class redis_master_locator;

class redis_switch_listener {
 public:
  explicit redis_switch_listener(redis_master_locator& locator);
  ~redis_switch_listener();
  redis_switch_listener(const redis_switch_listener&) = delete;
  redis_switch_listener& operator=(const redis_switch_listener&) = delete;

 private:
  void run();
  // Waits `pause` unless stopped first; false once stopped.
  bool pause_for(std::chrono::milliseconds pause);

  redis_master_locator& locator_;
  std::atomic<bool> stopping_{false};
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
