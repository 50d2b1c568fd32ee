// The lock of one L1 shard: a reader-writer lock on one 32-bit word. Reads of a shard share
// it; writes take it alone. Annotated for clang's -Wthread-safety.
//
// Why not std::shared_mutex: glibc's pthread_rwlock costs ~70 instructions per shared
// lock/unlock pair, a quarter of an L1 hit; this lock's uncontended pair is two atomic
// additions. Waiting uses C++20 atomic wait/notify (a futex on Linux), never a long spin:
// a descheduled holder on an oversubscribed machine must not be spun against.
//
// State: bit 31 = a writer holds the lock or is waiting for readers to leave; bits 0-30 =
// readers inside (plus, briefly, readers backing out). Writers are preferred: once the writer
// bit is set, new readers back out and wait, so a stream of reads cannot starve a write.
#pragma once

#include "l1/thread_annotations.hpp"

#include <atomic>
#include <cstdint>

namespace cachekit {
inline namespace v0 {
namespace detail {

class CACHEKIT_CAPABILITY("mutex") shard_mutex {
 public:
  void lock_shared() CACHEKIT_ACQUIRE_SHARED() {
    while (true) {
      const std::uint32_t before = state_.fetch_add(1, std::memory_order_acquire);
      if ((before & writer) == 0) return;
      leave();
      wait_while_writer();
    }
  }

  void unlock_shared() CACHEKIT_RELEASE_SHARED() { leave(); }

  void lock() CACHEKIT_ACQUIRE() {
    std::uint32_t seen = state_.load(std::memory_order_relaxed);
    while (true) {  // take the writer bit
      if ((seen & writer) != 0) {
        state_.wait(seen, std::memory_order_relaxed);
        seen = state_.load(std::memory_order_relaxed);
      } else if (state_.compare_exchange_weak(seen, seen | writer, std::memory_order_acquire,
                                              std::memory_order_relaxed)) {
        break;
      }
    }
    // New readers now back out; wait for those inside to leave.
    while ((seen = state_.load(std::memory_order_acquire)) != writer) {
      state_.wait(seen, std::memory_order_acquire);
    }
  }

  void unlock() CACHEKIT_RELEASE() {
    // fetch_sub, not store(0): readers backing out may still be counted.
    state_.fetch_sub(writer, std::memory_order_release);
    state_.notify_all();
  }

  // In a forked child, before any of its threads takes the lock: forgets the holders, threads of
  // the parent that do not exist here and will never unlock. Returns whether one of them was a
  // writer, whose change to the guarded data may be half done.
  bool forget_holders_after_fork() noexcept {
    return (state_.exchange(0, std::memory_order_acq_rel) & writer) != 0;
  }

 private:
  static constexpr std::uint32_t writer = std::uint32_t{1} << 31;

  // Leaves the reader count; the last reader out wakes a writer waiting for them.
  void leave() noexcept {
    if (state_.fetch_sub(1, std::memory_order_release) == (writer | 1)) state_.notify_all();
  }

  void wait_while_writer() noexcept {
    for (std::uint32_t seen = state_.load(std::memory_order_relaxed); (seen & writer) != 0;
         seen = state_.load(std::memory_order_relaxed)) {
      state_.wait(seen, std::memory_order_relaxed);
    }
  }

  std::atomic<std::uint32_t> state_{0};
};

/// Holds a shard exclusively for its scope.
class CACHEKIT_SCOPED_CAPABILITY exclusive_lock {
 public:
  explicit exclusive_lock(shard_mutex& mutex) CACHEKIT_ACQUIRE(mutex) : mutex_(mutex) {
    mutex_.lock();
  }
  ~exclusive_lock() CACHEKIT_RELEASE() { mutex_.unlock(); }
  exclusive_lock(const exclusive_lock&) = delete;
  exclusive_lock& operator=(const exclusive_lock&) = delete;

 private:
  shard_mutex& mutex_;
};

/// Holds a shard shared (with other readers) for its scope.
class CACHEKIT_SCOPED_CAPABILITY shared_lock {
 public:
  explicit shared_lock(shard_mutex& mutex) CACHEKIT_ACQUIRE_SHARED(mutex) : mutex_(mutex) {
    mutex_.lock_shared();
  }
  ~shared_lock() CACHEKIT_RELEASE_GENERIC() { mutex_.unlock_shared(); }
  shared_lock(const shared_lock&) = delete;
  shared_lock& operator=(const shared_lock&) = delete;

 private:
  shard_mutex& mutex_;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
