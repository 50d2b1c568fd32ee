// A bounded, thread-safe pool of redis_connections, connected lazily.
//
// `acquire` hands out an idle connection (after checking that the server has not closed it),
// or opens a new one while fewer than `capacity` exist, or waits for one to come back — at most
// `command_timeout`, then errc::timeout. A lease gives its connection back when it ends; a
// broken connection (I/O error, timeout, EOF) is closed instead, which frees its slot, so the
// next acquire reconnects.
//
// Fork: the connections, lock and wait queue live in a per-process `slots` record. A forked
// child never uses its parent's: its first acquire installs fresh slots, closes its copies of
// the inherited idle sockets without sending anything (the parent keeps using them), and opens
// its own connections. See process/fork_generation.hpp.
//
// Sentinel (settings.locator set): a connection opened under an older generation of the
// locator (the master changed since) is closed instead of handed out or kept.
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
  struct slots;

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
    lease(redis_pool& pool, slots& owner, std::unique_ptr<redis_connection> connection) noexcept
        : pool_(&pool), slots_(&owner), connection_(std::move(connection)) {}

    redis_pool* pool_;
    slots* slots_;
    std::unique_ptr<redis_connection> connection_;
  };

  redis_pool(redis_connect_settings settings, std::size_t capacity);
  ~redis_pool();
  redis_pool(const redis_pool&) = delete;
  redis_pool& operator=(const redis_pool&) = delete;

  // A connection for `operation` (named in failures): connect failures as classified by
  // redis_connection::open, errc::timeout when none is free within command_timeout.
  [[nodiscard]] result<lease> acquire(std::string_view operation);

  [[nodiscard]] redis_pool_stats stats() const;
  [[nodiscard]] const redis_connect_settings& settings() const noexcept { return settings_; }

 private:
  // The connections of one process (one fork generation).
  struct slots {
    slots(std::uint64_t gen, std::size_t capacity);

    const std::uint64_t generation;
    std::mutex mutex;
    std::condition_variable returned;
    std::vector<std::unique_ptr<redis_connection>> idle;  // guarded by mutex
    std::size_t open = 0;                                 // guarded by mutex; idle + leased
  };

  [[nodiscard]] slots& current_slots();
  void give_back(slots& owner, std::unique_ptr<redis_connection> connection) noexcept;
  static void close_slot(slots& owner) noexcept;
  // Sentinel: opened under an older generation of the locator (the master changed since).
  [[nodiscard]] bool of_former_master(const redis_connection& connection) const noexcept;
  static void abandon(slots& inherited) noexcept;

  const redis_connect_settings settings_;
  const std::size_t capacity_;
  std::atomic<slots*> slots_;  // owned; replaced (and the old one abandoned) after a fork

  std::atomic<std::uint64_t> connects_{0};
  std::atomic<std::uint64_t> discarded_{0};
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
