#include "backends/redis/redis_pool.hpp"

#include "backends/redis/redis_master_locator.hpp"
#include "process/fork_generation.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {

redis_pool::lease::~lease() {
  if (connection_) pool_->give_back(*slots_, std::move(connection_));
}

redis_pool::slots::slots(std::uint64_t gen, std::size_t capacity) : generation(gen) {
  // give_back is noexcept: with room reserved up front its push_back never allocates (a pool
  // of thousands is rare enough to take that risk only past 1024).
  idle.reserve(std::min<std::size_t>(capacity, 1024));
}

redis_pool::redis_pool(redis_connect_settings settings, std::size_t capacity)
    : settings_(std::move(settings)),
      capacity_(capacity),
      slots_(new slots(watch_forks(), capacity)) {}

redis_pool::~redis_pool() {
  delete slots_.load(std::memory_order_acquire);
}

// Slots inherited from the parent. Their idle connections' sockets are shared with the parent:
// closing this process's copy of a descriptor (redisFree only close()s, it sends nothing) leaves
// the parent's connection working. Never freed: if a thread of the parent held the lock at the
// fork, the idle list may be half-updated, and the condition variable may count waiters that
// do not exist here (destroying it would wait for them forever).
void redis_pool::abandon(slots& inherited) noexcept {
  if (!inherited.mutex.try_lock()) return;  // held by a thread that did not survive the fork
  auto idle = std::move(inherited.idle);
  inherited.mutex.unlock();
  idle.clear();
}

redis_pool::slots& redis_pool::current_slots() {
  slots* current = slots_.load(std::memory_order_acquire);
  const std::uint64_t generation = fork_generation();
  if (current->generation == generation) [[likely]] {
    return *current;
  }
  // First use in a forked child. No lock: a lock of the parent's may be held forever here.
  auto fresh = std::make_unique<slots>(generation, capacity_);
  while (current->generation != generation) {
    if (slots_.compare_exchange_weak(current, fresh.get(), std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      abandon(*current);
      return *fresh.release();
    }
  }
  return *current;  // another thread of this child installed its slots first
}

result<redis_pool::lease> redis_pool::acquire(std::string_view operation) {
  slots& s = current_slots();
  std::unique_lock lock(s.mutex);
  std::chrono::steady_clock::time_point deadline{};
  for (;;) {
    // Most recently returned first: it is the one most likely still open and warm.
    while (!s.idle.empty()) {
      auto connection = std::move(s.idle.back());
      s.idle.pop_back();
      lock.unlock();
      if (!connection->peer_closed() && !of_former_master(*connection)) {
        return lease(*this, s, std::move(connection));
      }
      connection.reset();
      discarded_.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
      --s.open;
    }
    if (s.open < capacity_) {
      ++s.open;
      lock.unlock();
      auto opened = redis_connection::open(settings_, operation);
      if (!opened) {
        close_slot(s);
        return std::move(opened).error();
      }
      connects_.fetch_add(1, std::memory_order_relaxed);
      return lease(*this, s, std::move(*opened));
    }
    if (deadline == std::chrono::steady_clock::time_point{}) {
      deadline = std::chrono::steady_clock::now() + settings_.command_timeout;
    }
    if (s.returned.wait_until(lock, deadline) == std::cv_status::timeout && s.idle.empty() &&
        s.open >= capacity_) {
      return fail(errc::timeout,
                  "redis " + std::string(operation) + " on " + settings_.where + ": all " +
                      std::to_string(capacity_) + " pooled connections stayed busy for " +
                      std::to_string(settings_.command_timeout.count()) +
                      " ms (command_timeout); raise pool_size or lower the concurrency");
    }
  }
}

void redis_pool::give_back(slots& owner, std::unique_ptr<redis_connection> connection) noexcept {
  if (owner.generation != fork_generation()) {
    // Leased before a fork and ended in the child: the parent still owns that socket's
    // conversation. Close this process's copy only (no protocol traffic).
    connection.reset();
    return;
  }
  if (connection->broken() || of_former_master(*connection)) {
    connection.reset();  // closes the socket outside the lock
    discarded_.fetch_add(1, std::memory_order_relaxed);
    close_slot(owner);
    return;
  }
  {
    std::lock_guard lock(owner.mutex);
    owner.idle.push_back(std::move(connection));
  }
  owner.returned.notify_one();
}

bool redis_pool::of_former_master(const redis_connection& connection) const noexcept {
  return connection.of_former_master();
}

void redis_pool::close_slot(slots& owner) noexcept {
  {
    std::lock_guard lock(owner.mutex);
    --owner.open;
  }
  owner.returned.notify_one();
}

redis_pool_stats redis_pool::stats() const {
  slots& s = const_cast<redis_pool*>(this)->current_slots();
  std::lock_guard lock(s.mutex);
  return {.open = s.open,
          .idle = s.idle.size(),
          .connects = connects_.load(std::memory_order_relaxed),
          .discarded = discarded_.load(std::memory_order_relaxed)};
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
