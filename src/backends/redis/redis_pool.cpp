#include "backends/redis/redis_pool.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {

redis_pool::lease::~lease() {
  if (connection_) pool_->give_back(std::move(connection_));
}

redis_pool::redis_pool(redis_connect_settings settings, std::size_t capacity)
    : settings_(std::move(settings)), capacity_(capacity) {
  // give_back is noexcept: with room reserved up front its push_back never allocates (a pool
  // of thousands is rare enough to take that risk only past 1024).
  idle_.reserve(std::min<std::size_t>(capacity, 1024));
}

result<redis_pool::lease> redis_pool::acquire(std::string_view operation) {
  std::unique_lock lock(mutex_);
  std::chrono::steady_clock::time_point deadline{};
  for (;;) {
    // Most recently returned first: it is the one most likely still open and warm.
    while (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      lock.unlock();
      if (!connection->peer_closed()) return lease(*this, std::move(connection));
      connection.reset();
      discarded_.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
      --open_;
    }
    if (open_ < capacity_) {
      ++open_;
      lock.unlock();
      auto opened = redis_connection::open(settings_, operation);
      if (!opened) {
        close_slot();
        return std::move(opened).error();
      }
      connects_.fetch_add(1, std::memory_order_relaxed);
      return lease(*this, std::move(*opened));
    }
    if (deadline == std::chrono::steady_clock::time_point{}) {
      deadline = std::chrono::steady_clock::now() + settings_.command_timeout;
    }
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= capacity_) {
      return fail(errc::timeout,
                  "redis " + std::string(operation) + " on " + settings_.where + ": all " +
                      std::to_string(capacity_) + " pooled connections stayed busy for " +
                      std::to_string(settings_.command_timeout.count()) +
                      " ms (command_timeout); raise pool_size or lower the concurrency");
    }
  }
}

void redis_pool::give_back(std::unique_ptr<redis_connection> connection) noexcept {
  if (connection->broken()) {
    connection.reset();  // closes the socket outside the lock
    discarded_.fetch_add(1, std::memory_order_relaxed);
    close_slot();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }
  returned_.notify_one();
}

void redis_pool::close_slot() noexcept {
  {
    std::lock_guard lock(mutex_);
    --open_;
  }
  returned_.notify_one();
}

redis_pool_stats redis_pool::stats() const {
  std::lock_guard lock(mutex_);
  return {.open = open_,
          .idle = idle_.size(),
          .connects = connects_.load(std::memory_order_relaxed),
          .discarded = discarded_.load(std::memory_order_relaxed)};
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
