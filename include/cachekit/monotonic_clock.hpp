/// @file
/// The time source of everything in cachekit that expires or waits (L1 entries, and any later
/// TTL or breaker logic): a monotonic clock behind a small interface, so tests can inject a
/// `manual_clock` and state exact outcomes at exact instants.
///
/// Two process-wide clocks are built in: `monotonic_clock::precise()` (`std::chrono::
/// steady_clock`, ~30-50 ns per read on a VM) and `monotonic_clock::coarse()` (Linux
/// `CLOCK_MONOTONIC_COARSE`: ~10 ns per read, advances once per kernel tick, typically 1-4 ms).
/// Both read the same monotonic timeline, so their time points compare meaningfully.
///
/// Thread safety: thread-safe. `now()` may be called from any thread; `manual_clock` may be
/// advanced from one thread while others read it.
#pragma once

#include <cachekit/export.hpp>

#include <atomic>
#include <chrono>

namespace cachekit {
inline namespace v0 {

/// A monotonic time source, and the one way cachekit waits (retry back-off): waiting through the
/// clock lets a test's `manual_clock` turn a wait into an instant step. Implementations must
/// never go backwards.
class CACHEKIT_EXPORT monotonic_clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  virtual ~monotonic_clock() = default;

  /// The current time.
  [[nodiscard]] virtual time_point now() const noexcept = 0;

  /// Blocks the calling thread for `d` (the built-in clocks sleep; `manual_clock` advances
  /// itself by `d` and returns at once). Non-positive `d` returns at once.
  virtual void sleep_for(duration d) const;

  /// `std::chrono::steady_clock`: exact to the nanosecond, ~30-50 ns per read.
  [[nodiscard]] static const monotonic_clock& precise() noexcept;

  /// A clock that advances once per kernel tick (`CLOCK_MONOTONIC_COARSE` on Linux; elsewhere
  /// the same as `precise()`). Reads cost ~10 ns; readings lag the precise clock by less than
  /// one tick. The right choice for TTLs measured in seconds on a hot path.
  [[nodiscard]] static const monotonic_clock& coarse() noexcept;
};

/// A clock that moves only when told: for tests, so expiry happens at an exact instant.
///
///     cachekit::manual_clock clock;
///     cachekit::l1_cache cache({.clock = &clock});
///     cache.put("k", bytes, 10s);
///     clock.advance(10s);            // now the entry has expired
class CACHEKIT_EXPORT manual_clock final : public monotonic_clock {
 public:
  /// Starts at `start` (default: an arbitrary fixed point, one hour after the epoch of
  /// `steady_clock`, so that subtracting small durations stays positive).
  explicit manual_clock(time_point start = time_point{std::chrono::hours{1}}) noexcept
      : now_(start.time_since_epoch().count()) {}

  [[nodiscard]] time_point now() const noexcept override {
    return time_point{duration{now_.load(std::memory_order_acquire)}};
  }

  /// Moves the clock forward by `step` (which must not be negative: monotonic).
  void advance(duration step) const noexcept {
    now_.fetch_add(step.count(), std::memory_order_acq_rel);
  }

  /// Simulated waiting: moves the clock forward by `d` instead of blocking, so code that backs
  /// off through the clock runs instantly under test and its waits add up in `now()`.
  void sleep_for(duration d) const override {
    if (d > duration::zero()) advance(d);
  }

 private:
  // Mutable: advancing a manual clock is how a const clock reference "waits" (sleep_for).
  mutable std::atomic<duration::rep> now_;
};

}  // namespace v0
}  // namespace cachekit
