/// @file
/// Load shedding for the reliability layer, with cachekit-py 0.24.1's semantics and defaults:
/// at most `max_in_flight` backend operations run at once; up to `max_waiting` more wait at most
/// `max_wait` for a slot; anything beyond is refused at once with errc::backpressure (class
/// `overload`). A slow backend then costs the application a bounded queue, not every thread.
/// `backpressure_backend` puts a `backpressure_gate` in front of a backend.
///
/// Waits use the real monotonic clock (a condition variable cannot wait on a `manual_clock`).
///
/// Thread safety: thread-safe. Entering and leaving while below the limit are one atomic
/// read-modify-write each, no lock.
#pragma once

#include <cachekit/backend_wrapper.hpp>
#include <cachekit/export.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace cachekit {
inline namespace v0 {

/// Settings of a `backpressure_gate` (cachekit-py's `BackpressureConfig` defaults).
struct backpressure_options {
  /// Operations allowed to run at once (>= 1).
  std::size_t max_in_flight = 100;
  /// Callers allowed to wait for a slot; past that, refused at once (0: never wait).
  std::size_t max_waiting = 1000;
  /// Longest wait for a slot.
  std::chrono::milliseconds max_wait = std::chrono::milliseconds{100};
};

/// A snapshot for health reports and tests.
struct backpressure_stats {
  std::size_t in_flight = 0;
  std::size_t waiting = 0;
  std::uint64_t rejected = 0;  ///< refused: queue full or no slot within max_wait
};

/// The concurrency limit itself.
class CACHEKIT_EXPORT backpressure_gate {
 public:
  /// Errors: throws `cachekit::error` (errc::invalid_configuration) when max_in_flight is 0.
  explicit backpressure_gate(backpressure_options options = {});

  /// Takes a slot, waiting as the options allow. Returns false when refused (counted).
  [[nodiscard]] bool enter();
  /// Gives back a slot taken by a successful `enter`.
  void leave() noexcept;

  [[nodiscard]] backpressure_stats stats() const noexcept;
  [[nodiscard]] const backpressure_options& options() const noexcept { return options_; }

 private:
  [[nodiscard]] bool try_take() noexcept;

  const backpressure_options options_;
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> waiting_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::mutex mutex_;
  std::condition_variable freed_;
};

/// A backend whose operations pass a `backpressure_gate`: an operation refused by the gate
/// fails at once with errc::backpressure and never reaches the backend. `health()` passes
/// ungated and reports the gate's counts in its details.
class CACHEKIT_EXPORT backpressure_backend final : public guarding_wrapper {
 public:
  /// Errors: as `backpressure_gate`'s constructor, and for a null `inner`.
  explicit backpressure_backend(std::shared_ptr<backend> inner, backpressure_options options = {});

  [[nodiscard]] const backpressure_gate& gate() const noexcept { return gate_; }

  backend_health health() override;

 protected:
  std::optional<failure> guard(backend_operation operation, attempt_ref run) override;

 private:
  backpressure_gate gate_;
};

}  // namespace v0
}  // namespace cachekit
