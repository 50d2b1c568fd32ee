// The write-back after an outage: keys this process stored in L1 only, because L2 could not
// take the write (down, timed out, breaker open, shed), are written to L2 once it answers again,
// so other processes and Python services sharing it are not left cold for the L1 lifetime.
//
// A background thread, started in each process when its first key is recorded, retries every
// `retry_interval` and sooner when L2 is seen answering (`l2_answered`). The bytes written are
// the L1 copy's at that moment: a key invalidated or expired meanwhile is not in L1 any more and
// is skipped. The writer uses set-if-absent, so an entry another process wrote after the outage
// (or that survived it) is never replaced by this older one.
//
// Bounded: at most `max_entries` keys wait; later keys are dropped (counted), never queued
// without limit during a long outage. Each key waits once: storing it again updates nothing.
//
// Thread safety: thread-safe. Fork: a child starts with nothing pending (its parent writes its
// own keys back) and starts its own thread if it records keys.
#pragma once

#include <cachekit/cache_options.hpp>
#include <cachekit/monotonic_clock.hpp>

#include "process/per_process.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace cachekit {
inline namespace v0 {
namespace detail {

class write_back_queue {
 public:
  // A key waiting: where its L1 copy is, and whether the L2 entry expires (ttl set) or not.
  struct waiting_key {
    std::string l1_key;
    bool expires = true;
  };
  enum class outcome : std::uint8_t {
    written,  // L2 took it
    skipped,  // nothing to write (gone from L1, expired, L2 already holds the key) or refused
    failed,   // L2 still failing: keep it and the rest, try again later
  };
  // Writes one key's L1 copy to L2; called on the queue's thread.
  using writer = std::function<outcome(const std::string& key, const waiting_key&)>;

  write_back_queue(write_back_options options, writer write);
  ~write_back_queue();
  write_back_queue(const write_back_queue&) = delete;
  write_back_queue& operator=(const write_back_queue&) = delete;

  // `key` was stored in L1 (under `l1_key`) but not in L2.
  void record(std::string_view key, std::string_view l1_key, bool expires);
  // Forgets the waiting keys, ends this process's thread (joined) and records nothing from now
  // on. `cache::~cache` calls it: no background write outlives the cache a program destroys.
  void stop();
  // L2 answered an operation: wakes the thread when keys wait. One relaxed load otherwise.
  void l2_answered() noexcept;
  // Keys written to L2, keys dropped (the queue was full), keys waiting in this process.
  [[nodiscard]] std::uint64_t written() const noexcept {
    return written_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t dropped() const noexcept {
    return dropped_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::size_t pending() {
    return state_.get().waiting.load(std::memory_order_relaxed);
  }

 private:
  struct state {
    std::mutex mutex;
    std::condition_variable wake;
    std::unordered_map<std::string, waiting_key> keys;  // guarded by mutex
    bool woken = false;                                 // guarded by mutex
    std::atomic<bool> stopping{false};
    void stop();
    std::thread thread;  // started under mutex
    std::atomic<std::size_t> waiting{0};
    ~state();
  };
  void run(state& s);
  void drain(state& s);

  const write_back_options options_;
  const writer write_;
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<bool> stopped_{false};
  per_process<state> state_;  // last: its thread is joined before the rest is destroyed
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
