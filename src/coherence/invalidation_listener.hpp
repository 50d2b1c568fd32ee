// The thread behind `cache_options::coherence`: one dedicated subscription on the cache's L2
// (backend::subscribe) that drops L1 copies other processes invalidated.
//
// - `cachekit:py:invalidate:v1` events (cachekit-py's format, decoded under its bounds): a key
//   drops that copy; no key drops every copy of the functions registered under the registry id
//   (function_spaces). A bad event is counted and dropped; it can cost L1 copies, never more.
// - With key tracking, `__redis__:invalidate`: each key drops its copy; a flush drops all.
// - Each (re)subscription empties the L1 first: events sent while it was not subscribed are
//   lost (Redis pub/sub keeps nothing), so nothing from before may outlive it. Losing the
//   connection empties it too. Between the two, copies are served by TTL.
// - A failed subscription is retried after 1 s (60 s when the server refused it: an ACL), from
//   this thread; the cache goes on meanwhile.
// Every drop bumps coherence_epochs first (see there).
//
// Thread-safe: the counters are atomics; `stop` may be called from any thread once.
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/l1_cache.hpp>

#include "coherence/coherence_epochs.hpp"
#include "coherence/function_spaces.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace cachekit {
inline namespace v0 {
namespace detail {

class invalidation_listener {
 public:
  struct target {
    backend* l2;  // the subscription's source; outlives the listener
    l1_cache* l1;
    coherence_epochs* epochs;
    const function_spaces* spaces;
    bool track_keys;
  };

  struct counters {
    std::uint64_t events = 0;         // events and tracking messages applied
    std::uint64_t bad_events = 0;     // undecodable events, dropped
    std::uint64_t subscriptions = 0;  // successful (re)subscriptions
    std::uint64_t failures = 0;       // failed subscriptions and lost connections
  };

  explicit invalidation_listener(target t);
  ~invalidation_listener();
  invalidation_listener(const invalidation_listener&) = delete;
  invalidation_listener& operator=(const invalidation_listener&) = delete;

  // Ends the thread (within about 100 ms) and waits for it.
  void stop();
  [[nodiscard]] counters stats() const noexcept;
  // Whether a subscription is in place now.
  [[nodiscard]] bool subscribed() const noexcept { return subscribed_.load(); }

 private:
  void run();
  void apply(const pushed_message& message);
  void drop_all() noexcept;
  // Waits `pause` unless stopped first; false once stopped.
  bool pause_for(std::chrono::milliseconds pause);
  void log_failure(const failure& why);

  target target_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> subscribed_{false};
  std::atomic<std::uint64_t> events_{0};
  std::atomic<std::uint64_t> bad_events_{0};
  std::atomic<std::uint64_t> subscriptions_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::chrono::steady_clock::time_point last_logged_{};
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
