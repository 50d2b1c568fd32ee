// A bounded, thread-safe pool of redis_connections, connected lazily.
//
// `acquire` hands out an idle connection (after checking that the server has not closed it),
// or opens a new one while fewer than `capacity` exist, or waits for one to come back — at most
// `command_timeout`, then errc::timeout. A lease gives its connection back when it ends; a
// broken connection (I/O error, timeout, EOF) is closed instead, which frees its slot, so the
// next acquire reconnects.
//
// Thread-safe. The pool must outlive its leases.
#pragma once

#include "backends/redis/redis_connection.hpp"

#include <cachekit/redis_backend.hpp>
#include <cachekit/result.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

class redis_pool {
 public:
  // One operation's use of one connection.
  class lease {
   public:
    lease(lease&& other) noexcept = default;
    lease& operator=(lease&&) = delete;
    ~lease();

    redis_connection& operator*() const noexcept { return *connection_; }
    redis_connection* operator->() const noexcept { return connection_.get(); }

   private:
    friend class redis_pool;
    lease(redis_pool& pool, std::unique_ptr<redis_connection> connection) noexcept
        : pool_(&pool), connection_(std::move(connection)) {}

    redis_pool* pool_;
    std::unique_ptr<redis_connection> connection_;
  };

  redis_pool(redis_connect_settings settings, std::size_t capacity);
  redis_pool(const redis_pool&) = delete;
  redis_pool& operator=(const redis_pool&) = delete;

  // A connection for `operation` (named in failures): connect failures as classified by
  // redis_connection::open, errc::timeout when none is free within command_timeout.
  [[nodiscard]] result<lease> acquire(std::string_view operation);

  [[nodiscard]] redis_pool_stats stats() const;
  [[nodiscard]] const redis_connect_settings& settings() const noexcept { return settings_; }

 private:
  void give_back(std::unique_ptr<redis_connection> connection) noexcept;
  void close_slot() noexcept;

  const redis_connect_settings settings_;
  const std::size_t capacity_;

  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<redis_connection>> idle_;  // guarded by mutex_
  std::size_t open_ = 0;                                 // guarded by mutex_; idle + leased

  std::atomic<std::uint64_t> connects_{0};
  std::atomic<std::uint64_t> discarded_{0};
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
