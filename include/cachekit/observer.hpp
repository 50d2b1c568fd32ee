/// @file
/// `cachekit::observer`: the one interface every layer of a cache reports to. Operations (a
/// lookup answered by L1 or L2, a miss that ran the function, an L2 write), faults the cache
/// absorbed (L2 errors, corrupt entries, oversize values, ...) and circuit breaker state changes
/// are each one event; `cache::stats()`, `memoized::info()`, `cache_options::on_error`, the
/// Prometheus metrics (`prometheus.hpp`, component `cachekit::prometheus`) and the logs
/// (`log_observer`, logging.hpp) are views of them. docs/observability.md has the details.
///
///     struct count_l2_hits final : cachekit::observer {
///       std::atomic<int> hits{0};
///       void on_operation(const cachekit::operation_event& e) override {
///         if (e.layer == cachekit::cache_layer::l2 && e.outcome == cachekit::op_outcome::hit)
///         ++hits;
///       }
///     };
///     options.observers.push_back(std::make_shared<count_l2_hits>());
///
/// Cost: the built-in counters (`stats()`, `info()`) are kept in the cache whatever is attached;
/// with no observer attached each event costs one well-predicted branch, and no clock is read
/// for latency unless an attached observer asks for it (`wants_latency`).
///
/// Thread safety: events arrive on the threads that cause them (callers' threads, the refresh
/// and write-back threads), concurrently; an observer must be thread-safe. It runs inside the
/// cached call, so it must be quick and must not block (no I/O under a lock the application
/// also takes, no network), and must not call back into the cache that reports to it. An
/// exception escaping an observer is caught and dropped (the cached call goes on as if the
/// observer had returned); the other observers are still called.
#pragma once

#include <cachekit/circuit_breaker.hpp>
#include <cachekit/error.hpp>
#include <cachekit/export.hpp>
#include <cachekit/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {

/// Where an operation happened. `function`: neither layer answered and the function ran.
enum class cache_layer : std::uint8_t { l1, l2, function };
/// What was asked. `get`: a lookup (memoized call or typed `get`); `set`: a write of a value;
/// `erase`: an invalidation; `key`: deriving a call's key.
enum class cache_op : std::uint8_t { get, set, erase, key };
/// How it ended. `hit` / `miss` for lookups, `stored` for writes and erases that succeeded,
/// `failed` for an error (see `operation_event::error`), `skipped` when the circuit breaker was
/// open and L2 was not tried, `shed` when backpressure refused the operation.
enum class op_outcome : std::uint8_t { hit, miss, stored, failed, skipped, shed };

/// The names used in logs and metrics: "l1", "l2", "function"; "get", "set", "erase", "key";
/// "hit", "miss", "stored", "failed", "skipped", "shed".
[[nodiscard]] CACHEKIT_EXPORT const char* to_string(cache_layer l) noexcept;
[[nodiscard]] CACHEKIT_EXPORT const char* to_string(cache_op o) noexcept;
[[nodiscard]] CACHEKIT_EXPORT const char* to_string(op_outcome o) noexcept;

/// One cache operation.
struct operation_event {
  cache_op operation = cache_op::get;
  cache_layer layer = cache_layer::l1;
  op_outcome outcome = op_outcome::hit;
  /// The memoized function's `memoize_options::ns` or the typed call's `entry_options::ns`;
  /// empty when none was given (metrics label it "default", as cachekit-py).
  std::string_view ns;
  /// Time the operation took, measured only when an attached observer `wants_latency`;
  /// negative otherwise. L1 hits: the lookup, open and decode. L2: the backend round trip.
  std::chrono::nanoseconds latency{-1};
  /// Stored bytes (the entry as L1 or L2 holds it: frame, envelope, ciphertext) read by a hit or
  /// written to L2; 0 when not known (misses, failures).
  std::size_t bytes = 0;
  /// `failed`, `skipped`, `shed`: what went wrong, with its classification; null otherwise.
  const failure* error = nullptr;
  /// `classify(error->code)` when `error` is set.
  std::optional<error_class> error_kind;
};

/// Faults the cache absorbed, each counted in `cache_stats` (named after the counter).
enum class fault_kind : std::uint8_t {
  l2_error,           ///< an L2 operation failed; the call went on without L2
  l2_skipped,         ///< not tried: the circuit breaker was open
  l2_shed,            ///< refused by backpressure
  corrupt_entry,      ///< a stored entry failed to open or decode (evicted)
  security_failure,   ///< an encrypted entry failed authentication
  oversize_value,     ///< a result above max_value_bytes, not stored
  uncacheable_call,   ///< a key or value could not be encoded; the call ran uncached
  tenant_mismatch,    ///< multi-tenant: another tenant's entry, left in place
  python_only_entry,  ///< serializer "auto": a NumPy/pandas/Arrow entry, left in place
};
/// The `cache_stats` field names: "l2_errors", "l2_skipped", "corrupt_entries", ...
[[nodiscard]] CACHEKIT_EXPORT const char* to_string(fault_kind k) noexcept;

/// A fault. `key` is the storage key involved, or empty: it may embed user identifiers, so a
/// view that writes it anywhere must write `redact_key(key)` instead. `what.detail` never holds
/// key material, values or secrets.
struct fault_event {
  fault_kind kind = fault_kind::l2_error;
  /// Where the fault surfaced (corrupt entries: the layer the entry was read from).
  cache_layer layer = cache_layer::l2;
  const failure& what;
  std::string_view key;
  /// The namespace of the call that met the fault, as `operation_event::ns`; empty when none
  /// (or not known: background work, the write-back).
  std::string_view ns;
};

/// A circuit breaker state change. A breaker coming into being reports `from` empty and `to`
/// closed; one going away (its cache destroyed) reports `to` empty, so a view can count live
/// breakers per state (as cachekit-py's `circuit_breaker_state` gauge does).
struct breaker_event {
  std::optional<circuit_state> from;
  std::optional<circuit_state> to;
};

/// The interface. Override what you need; every method has an empty default. See the file
/// comment for threads, blocking and exceptions.
class CACHEKIT_EXPORT observer {
 public:
  virtual ~observer();
  /// Asked once, when the cache is built: whether operation events need `latency` (two clock
  /// reads per operation, ~20-40 ns). Views that only count should return false.
  [[nodiscard]] virtual bool wants_latency() const noexcept { return false; }
  /// Every lookup outcome (L1 hit, L2 hit, miss), L2 write, erase and failed operation.
  virtual void on_operation(const operation_event& event);
  /// Every absorbed fault, after it was counted in `cache_stats`, unthrottled (`on_error` is
  /// throttled per error class; an observer decides its own policy).
  virtual void on_fault(const fault_event& event);
  /// Every breaker state change, its creation and its end.
  virtual void on_breaker(const breaker_event& event);
};

/// The form in which a cache key may appear in logs: `<redacted:{16 hex}>`, the first 8 bytes
/// of BLAKE2b (digest size 8) of the key, exactly as cachekit-py's `redact_cache_key`, so a
/// C++ and a Python log line about the same key carry the same digest. A correlation id, not
/// a secret: the digest is as guessable as the key.
[[nodiscard]] CACHEKIT_EXPORT std::string redact_key(std::string_view key);

}  // namespace v0
}  // namespace cachekit
