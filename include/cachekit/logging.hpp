/// @file
/// Logging: where cachekit's own messages go, and `log_observer`, the log view of a cache's
/// events (observer.hpp).
///
/// Two sources write log records:
/// - cachekit itself, through the process-wide sink (`set_log_sink`): the first L2 error of each
///   cache, with its fix (a wrong password, a bad database index or a server that is not there
///   otherwise gives a cache that quietly never uses its L2), and unknown `CACHEKIT_*`
///   variables met by `cache_options::from_env` (`CACHEKIT_REDIS_ULR`). The default sink
///   writes warnings and errors to stderr, one line each; replace it with your logger's, or
///   silence it with `set_log_sink(nullptr)`.
/// - a `log_observer` attached to a cache (`cache_options::observers`): every absorbed fault
///   and breaker change at its level, repeated faults rate-limited, cache keys shown only as
///   `redact_key` digests (never the key, never arguments, values or secrets).
///
///     cachekit::set_log_sink([](const cachekit::log_record& r) {
///       my_logger.log(static_cast<int>(r.level), "cachekit {}: {}", r.event, r.message);
///     });
///     options.observers.push_back(std::make_shared<cachekit::log_observer>());
///
/// Thread safety: thread-safe. A sink is called on the thread that logs, possibly on several
/// at once; it must not throw (an exception is caught and dropped) nor call back into cachekit.
#pragma once

#include <cachekit/export.hpp>
#include <cachekit/monotonic_clock.hpp>
#include <cachekit/observer.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

namespace cachekit {
inline namespace v0 {

enum class log_level : std::uint8_t { debug, info, warning, error, off };
/// "debug", "info", "warning", "error", "off".
[[nodiscard]] CACHEKIT_EXPORT const char* to_string(log_level level) noexcept;

/// One log line's content. `event` is a stable identifier (`first_l2_error`, `unknown_env`,
/// `l2_errors`, `corrupt_entries`, `breaker_open`, ...); `message` is one line of text holding
/// no key material, value or secret.
struct log_record {
  log_level level = log_level::info;
  std::string_view event;
  std::string_view message;
};

using log_sink = std::function<void(const log_record&)>;

/// Replaces the process-wide sink; nullptr silences cachekit's own messages.
CACHEKIT_EXPORT void set_log_sink(log_sink sink);
/// A sink writing records at `min_level` or above to stderr, one line each
/// (`cachekit: warning: first_l2_error: ...`). The default sink is `stderr_log_sink()`.
[[nodiscard]] CACHEKIT_EXPORT log_sink stderr_log_sink(log_level min_level = log_level::warning);
/// Sends a record to the process-wide sink (what cachekit calls; available to adapters).
CACHEKIT_EXPORT void emit_log(log_level level, std::string_view event, std::string_view message);

struct log_options {
  /// Records below this level are dropped before they are formatted. `debug` adds a line per
  /// operation (hits, misses, writes): for debugging only, it costs a format per call.
  log_level min_level = log_level::warning;
  /// Faults of one kind and error class are logged at most once per this interval: the first
  /// at once, later ones with the count of those held back since. Breaker changes are not
  /// limited (they are already rare).
  std::chrono::milliseconds rate_limit = std::chrono::seconds{10};
  /// Where records go; nullptr: the process-wide sink (`set_log_sink`).
  log_sink sink = nullptr;
  /// Time source of the rate limit (tests inject a `manual_clock`). Must outlive the observer.
  const monotonic_clock* clock = &monotonic_clock::coarse();
};

/// The log view of a cache's events. Levels: security failures `error`; other faults and a
/// breaker opening `warning`; a breaker closing or half-opening `info`; operations `debug`.
class CACHEKIT_EXPORT log_observer final : public observer {
 public:
  explicit log_observer(log_options options = {});
  void on_operation(const operation_event& event) override;
  void on_fault(const fault_event& event) override;
  void on_breaker(const breaker_event& event) override;

 private:
  void emit(log_level level, std::string_view event, std::string_view message) const;
  log_options options_;
  struct window {
    std::atomic<monotonic_clock::duration::rep> last{0};
    std::atomic<std::uint64_t> held_back{0};
    std::atomic<bool> used{false};
  };
  // Per fault_kind (8) x error_class (5, and one spare for codes outside the table).
  std::array<std::array<window, 6>, 8> windows_{};
};

}  // namespace v0
}  // namespace cachekit
