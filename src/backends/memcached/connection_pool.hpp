// A bounded pool of libmemcached handles to ONE memcached server, plus that server's failure
// record.
//
// Each handle (memcached_st) is a clone of a per-server template and owns one TCP connection,
// opened lazily by libmemcached on first use. A server given by host name is the exception:
// libmemcached 1.1 resolves names with a plain getaddrinfo in its connect (per handle, not
// bounded by its connect timeout), so for a name each new handle is made here instead, with the
// name resolved within connect_timeout (backends/host_lookup.hpp) and libmemcached given the
// first address; its connect gets what is left of connect_timeout. A handle is used by one thread
// at a time (a `lease`); libmemcached handles are independent, so leases run in parallel. Handles
// that fail are closed rather than returned (a timed-out request may still deliver its reply later,
// and libmemcached would otherwise keep its own 2-second "temporarily disabled" state).
//
// Failure record: after `retry_attempts` failures in a row (timeouts, unreachable), the server
// is skipped for `retry_timeout`: `acquire` fails at once with errc::transient. The first
// operation after the window tries the server again; a success clears the record.
//
// Fork: handles, lock, wait queue and failure record live in a per-process `slots` record. A
// forked child never uses its parent's handles: its first acquire installs fresh slots and
// clones new handles. The inherited handles are abandoned, not freed: memcached_free sends
// "quit" on a socket the parent is still using. See process/fork_generation.hpp.
//
// Thread safety: thread-safe.
#pragma once

#include "backends/memcached/memcached_wire.hpp"

#include <cachekit/monotonic_clock.hpp>
#include <cachekit/result.hpp>

#include <libmemcached-1.0/memcached.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

struct memcached_pool_settings {
  std::chrono::milliseconds connect_timeout{200};  // name lookup and connect, together
  std::chrono::milliseconds timeout{200};          // each reply; also the wait for a free handle
  std::size_t max_connections = 10;
  int retry_attempts = 2;  // 0: never skip the server
  std::chrono::milliseconds retry_timeout{1000};
  // The clock of the skip window (retry_timeout). Waits for I/O and for a free handle are
  // real time (steady_clock): they block on sockets and a condition variable.
  const monotonic_clock* clock = &monotonic_clock::coarse();
};

class memcached_connection_pool {
  struct slots;

 public:
  // A handle on loan; goes back to the pool (or is closed, after `discard`) on destruction.
  class lease {
   public:
    lease(lease&& other) noexcept;
    lease& operator=(lease&&) = delete;
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease();

    [[nodiscard]] memcached_st* handle() const noexcept { return handle_; }
    // Whether the handle served an operation before: its connection may have died since (a
    // server restart), which a fresh handle would not suffer.
    [[nodiscard]] bool reused() const noexcept { return reused_; }
    // Close the handle instead of returning it.
    void discard() noexcept { discard_ = true; }

   private:
    friend class memcached_connection_pool;
    lease(memcached_connection_pool* pool, slots* owner, memcached_st* handle, bool reused) noexcept
        : pool_(pool), slots_(owner), handle_(handle), reused_(reused) {}

    memcached_connection_pool* pool_;
    slots* slots_;
    memcached_st* handle_;
    bool reused_;
    bool discard_ = false;
  };

  // Throws std::bad_alloc when libmemcached cannot allocate the template, cachekit::error
  // (invalid_configuration) when it refuses the server.
  memcached_connection_pool(const memcached_server_address& server,
                            const memcached_pool_settings& settings);
  ~memcached_connection_pool();
  memcached_connection_pool(const memcached_connection_pool&) = delete;
  memcached_connection_pool& operator=(const memcached_connection_pool&) = delete;

  // An idle handle, a new one if fewer than max_connections exist, or the next one returned
  // within `timeout`. Fails with errc::transient while the server is skipped or when every
  // handle stays busy. `fresh` forces a new handle (after a reused one proved dead).
  [[nodiscard]] result<lease> acquire(bool fresh = false);

  // Closes every idle handle: after one connection died, the others to the same server
  // probably did too.
  void close_idle();

  // The operation's outcome for the failure record.
  void record_success() noexcept;
  void record_failure() noexcept;

  // "host:port" as configured.
  [[nodiscard]] const std::string& address() const noexcept { return address_; }

 private:
  struct idle_handle {
    memcached_st* handle;
    bool used;
  };

  // The handles and failure record of one process (one fork generation).
  struct slots {
    slots(std::uint64_t gen, std::size_t max_connections);

    const std::uint64_t generation;
    std::mutex mutex;
    std::condition_variable returned;
    std::vector<idle_handle> idle;             // guarded by mutex
    std::size_t open = 0;                      // guarded by mutex: handles idle or on loan
    int failures_in_a_row = 0;                 // guarded by mutex
    monotonic_clock::time_point skip_until{};  // guarded by mutex; settings' clock
    // failures_in_a_row > 0, readable without the lock. A stale read only delays clearing the
    // count to the next success; record_failure sets it under the lock.
    std::atomic<bool> failing{false};
  };

  [[nodiscard]] slots& current_slots();
  // A new handle for a server given by name: the name resolved within connect_timeout
  // (backends/host_lookup.hpp), libmemcached given the first address, and the rest of
  // connect_timeout left for its connect.
  [[nodiscard]] result<memcached_st*> open_by_name() const;
  void give_back(slots& owner, memcached_st* handle, bool discard) noexcept;

  const std::string address_;
  const std::string host_;  // for getaddrinfo: an IPv6 literal without brackets
  const std::uint16_t port_;
  // The server is a host name, not an address: each new handle resolves it (bounded) and gets
  // a numeric address, because libmemcached would call getaddrinfo itself, without a bound.
  const bool by_name_;
  const memcached_pool_settings settings_;
  memcached_st* template_;     // never connects; cloned under the current slots' mutex
  std::atomic<slots*> slots_;  // owned; replaced (and the old one abandoned) after a fork
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
