/// @file
/// The circuit breaker of the reliability layer, with cachekit-py 0.24.1's semantics and
/// defaults, and `circuit_breaker_backend`, the backend decorator that puts one in front of a
/// backend.
///
/// States: **closed** (every call passes) opens when `failure_threshold` failures fall within
/// `failure_window`; **open** fails every call at once (errc::circuit_open) for
/// `recovery_timeout`; then **half-open** admits `half_open_requests` probe calls: any probe
/// failure reopens, `success_threshold` probe successes close. Successes while closed do not
/// reset the failure count (failures older than the window stop counting); outcomes of calls
/// admitted in an earlier state or cycle change nothing. A half-open cycle whose probes never
/// reported (a caller that abandoned its call) starts over after `recovery_timeout`, so the
/// breaker always recovers by itself.
///
/// What counts as a failure is `classify()` (error.hpp): `transient`, `timeout` and `security`
/// failures do; a miss, a `permanent` rejection (value too large) and `overload` do not.
///
/// Thread safety: thread-safe. While closed, admitting a call and recording a success are one
/// relaxed atomic load each (no lock): the breaker costs nothing measurable on a healthy path.
#pragma once

#include <cachekit/backend_wrapper.hpp>
#include <cachekit/export.hpp>
#include <cachekit/monotonic_clock.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {

/// Settings of a `circuit_breaker` (cachekit-py 0.24.1's `CircuitBreakerConfig` defaults).
struct circuit_breaker_options {
  /// Failures within `failure_window` that open the breaker (>= 1).
  std::size_t failure_threshold = 5;
  /// The rolling window failures are counted in.
  std::chrono::milliseconds failure_window = std::chrono::seconds{60};
  /// How long the breaker stays open before probing (> 0).
  std::chrono::milliseconds recovery_timeout = std::chrono::seconds{30};
  /// Probe calls admitted per half-open cycle (>= success_threshold).
  std::size_t half_open_requests = 3;
  /// Probe successes that close the breaker (>= 1).
  std::size_t success_threshold = 3;
};

/// The breaker's state.
enum class circuit_state { closed, open, half_open };

/// "closed", "open", "half_open".
[[nodiscard]] CACHEKIT_EXPORT const char* to_string(circuit_state s) noexcept;

/// A snapshot for health reports and tests.
struct circuit_breaker_stats {
  circuit_state state = circuit_state::closed;
  std::size_t recent_failures = 0;  ///< failures within the window (closed), else at opening
  std::uint64_t opened = 0;         ///< times the breaker opened since construction
  std::uint64_t rejected = 0;       ///< calls failed fast (open, or half-open with no probe slot)
};

/// The state machine. See the file comment. Use it directly to guard anything; backends use
/// `circuit_breaker_backend`.
///
///     auto permit = breaker.admit();
///     if (!permit) return fallback();            // open: fail fast
///     auto r = do_call();
///     breaker.record(*permit, r ? std::nullopt : std::optional(r.code()));
class CACHEKIT_EXPORT circuit_breaker {
 public:
  /// What `admit` hands out; give it back to `record`.
  struct permit {
    std::uint64_t cycle = 0;  ///< 0: admitted while closed; else the half-open cycle
  };

  /// Called after every state change, outside the breaker's lock, with the old and the new
  /// state. Must not throw.
  using transition_handler = std::function<void(circuit_state from, circuit_state to)>;

  /// Errors: throws `cachekit::error` (errc::invalid_configuration) for a threshold of 0, a
  /// non-positive timeout or window, or `half_open_requests < success_threshold` (a cycle could
  /// never close). `clock` must outlive the breaker.
  explicit circuit_breaker(circuit_breaker_options options = {},
                           const monotonic_clock& clock = monotonic_clock::coarse(),
                           transition_handler on_transition = nullptr);

  /// Whether a call may go ahead now: a permit, or nullopt to fail fast.
  [[nodiscard]] std::optional<permit> admit();

  /// The outcome of an admitted call: `failure` is its error code when it failed, nullopt when
  /// it succeeded. Failures that `classify` does not count are successes for the breaker.
  void record(permit p, std::optional<std::error_code> failure);

  /// Whether `code` counts as a backend failure for the breaker.
  [[nodiscard]] static bool counts_as_failure(const std::error_code& code) noexcept;

  [[nodiscard]] circuit_state state() const noexcept {
    return state_.load(std::memory_order_acquire);
  }
  [[nodiscard]] circuit_breaker_stats stats() const;
  [[nodiscard]] const circuit_breaker_options& options() const noexcept { return options_; }

 private:
  void on_failure(const permit& p, std::vector<circuit_state>& transitions);
  void on_success(const permit& p, std::vector<circuit_state>& transitions);
  void enter(circuit_state next, std::vector<circuit_state>& transitions);
  void announce(circuit_state from, const std::vector<circuit_state>& transitions) const noexcept;
  [[nodiscard]] std::size_t failures_in_window(monotonic_clock::time_point now) const;

  const circuit_breaker_options options_;
  const monotonic_clock* clock_;
  const transition_handler on_transition_;

  std::atomic<circuit_state> state_{circuit_state::closed};
  mutable std::mutex mutex_;
  // Guarded by mutex_: the last `failure_threshold` failure times (a ring), when the breaker
  // opened, and the current half-open cycle's number and counts.
  std::vector<monotonic_clock::time_point> failure_times_;
  std::size_t next_failure_slot_ = 0;
  monotonic_clock::time_point opened_at_{};
  monotonic_clock::time_point cycle_started_at_{};
  std::uint64_t cycle_ = 0;
  std::size_t probes_admitted_ = 0;
  std::size_t probe_successes_ = 0;
  std::size_t failures_at_opening_ = 0;
  std::atomic<std::uint64_t> opened_{0};
  std::atomic<std::uint64_t> rejected_{0};
};

/// A backend behind a circuit breaker: while the breaker is open every operation fails at once
/// with errc::circuit_open (class `overload`) instead of waiting on a backend that is down.
/// `health()` always reaches the backend (it is how an operator sees the real state) and adds
/// the breaker's state to the report's details.
class CACHEKIT_EXPORT circuit_breaker_backend final : public guarding_wrapper {
 public:
  /// Errors: as `circuit_breaker`'s constructor, and for a null `inner`.
  circuit_breaker_backend(std::shared_ptr<backend> inner, circuit_breaker_options options = {},
                          const monotonic_clock& clock = monotonic_clock::coarse(),
                          circuit_breaker::transition_handler on_transition = nullptr);

  [[nodiscard]] const circuit_breaker& breaker() const noexcept { return breaker_; }

  backend_health health() override;

 protected:
  std::optional<failure> guard(backend_operation operation, attempt_ref run) override;

 private:
  circuit_breaker breaker_;
};

}  // namespace v0
}  // namespace cachekit
