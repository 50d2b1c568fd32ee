// The distributed fill lock of a memoized miss (cache_options::fill_lock): take `{key}:lock`,
// or wait for the process that holds it to store its result, polling, for at most max_wait.
// Fails open: a backend without locks (remembered, never asked again), a failed lock call or a
// wait that runs out all mean "run the function without the lock".
//
// Thread-safe.
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/cache_options.hpp>
#include <cachekit/monotonic_clock.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

class fill_coordinator {
 public:
  // `l2` may be null (no L2: nothing to coordinate); it and `clock` must outlive this.
  fill_coordinator(backend* l2, std::optional<fill_lock_options> options,
                   const monotonic_clock& clock) noexcept;

  struct outcome {
    std::optional<lock_token> lock;  // held: run the function, store, then `release` it
    bool filled = false;             // another process stored the value: read it
  };

  // After a miss of `key`: takes the lock, or waits while another holds it, asking `filled`
  // (which reads L2) after each poll interval.
  [[nodiscard]] outcome await(std::string_view key, const std::function<bool()>& filled);

  // Releases a lock `await` or `try_lease` took (compare-and-delete: a lock that expired and
  // was taken by another process is left alone). Failures are ignored: the lease ends it.
  void release(const lock_token& lock) noexcept;

  // The revalidation lease of an entry L2 served stale (saas-api.md "Revalidation flow", step
  // 2): one non-blocking try of `key`'s lock, for fill_lock.lease (30 s by default, cachekit-py's
  // lease), whether or not the miss path's fill lock is on.
  enum class lease_outcome : std::uint8_t {
    held,         // refresh, then `release` the lock
    contended,    // another client holds it and revalidates: do not refresh
    unsupported,  // the backend has no locks: refresh without one
    failed,       // the lock request failed (an ordinary L2 error): skip this attempt
  };
  struct lease {
    lease_outcome outcome = lease_outcome::failed;
    std::optional<lock_token> lock;
  };
  [[nodiscard]] lease try_lease(std::string_view key);

 private:
  backend* l2_;
  const std::optional<fill_lock_options> options_;
  const monotonic_clock* clock_;
  std::atomic<bool> unsupported_{false};
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
