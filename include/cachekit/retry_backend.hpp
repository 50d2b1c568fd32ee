/// @file
/// `retry_backend`: retries an idempotent backend operation that failed with a `transient`
/// error (connection refused or reset, server loading), with exponential back-off and full
/// jitter, inside a time budget. cachekit-py 0.24.1 does not retry; cachekit-rs does (3
/// attempts, 100 ms base, 5 s cap). A cache must stay faster than the work it saves, so the
/// defaults here are 3 attempts, 10 ms base, 100 ms cap and a 250 ms budget per operation.
///
/// What is retried: every operation but `try_lock` (a lost reply to `SET NX` may mean the lock
/// is already ours; retrying would report it taken) and `health`. `set` is retried too: writing
/// the same bytes twice is harmless. `timeout`s are not retried unless `retry_timeouts` is set:
/// a server that did not answer in time is unlikely to answer the next attempt, and the caller
/// already waited the whole command timeout.
///
/// The budget bounds when a new attempt may start: one starts only if the time spent so far
/// plus its back-off is within `budget`. An attempt in progress is bounded by the backend's own
/// timeouts, so an operation takes at most `budget` plus one backend timeout. Back-off waits go
/// through the injected clock (`monotonic_clock::sleep_for`): with a `manual_clock` a test's
/// retries take no real time.
///
/// Thread safety: thread-safe (the jitter generator is per thread).
#pragma once

#include <cachekit/backend_wrapper.hpp>
#include <cachekit/export.hpp>
#include <cachekit/monotonic_clock.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace cachekit {
inline namespace v0 {

/// Settings of a `retry_backend`.
struct retry_options {
  /// Attempts in all, the first included (>= 1; 1 never retries).
  std::size_t max_attempts = 3;
  /// Back-off before the second attempt; doubles for each later one (full jitter: the wait is
  /// uniform between 0 and that).
  std::chrono::milliseconds base_delay = std::chrono::milliseconds{10};
  /// Largest back-off.
  std::chrono::milliseconds max_delay = std::chrono::milliseconds{100};
  /// No attempt starts later than this after the first began (see the file comment).
  std::chrono::milliseconds budget = std::chrono::milliseconds{250};
  /// Retry `timeout`s as well as `transient` failures.
  bool retry_timeouts = false;
};

/// See the file comment.
class CACHEKIT_EXPORT retry_backend final : public guarding_wrapper {
 public:
  /// Errors: throws `cachekit::error` (errc::invalid_configuration) when max_attempts is 0 or a
  /// duration is negative, and for a null `inner`. `clock` must outlive the backend.
  retry_backend(std::shared_ptr<backend> inner, retry_options options = {},
                const monotonic_clock& clock = monotonic_clock::precise());

  /// Retries made since construction (attempts after the first), for health reports and tests.
  [[nodiscard]] std::uint64_t retries() const noexcept {
    return retries_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] const retry_options& options() const noexcept { return options_; }

  backend_health health() override;

 protected:
  std::optional<failure> guard(backend_operation operation, attempt_ref run) override;

 private:
  [[nodiscard]] bool retryable(const std::error_code& code) const noexcept;
  [[nodiscard]] monotonic_clock::duration backoff(std::size_t retry) const;

  const retry_options options_;
  const monotonic_clock* clock_;
  std::atomic<std::uint64_t> retries_{0};
};

}  // namespace v0
}  // namespace cachekit
