/// @file
/// `memory_backend`: a byte store inside the process, for tests of the layers above the backend
/// and as the embedded default when no server is configured. It behaves as the backend contract
/// describes Redis: whole-second TTLs with `std::nullopt` for "no expiry", `ttl`/`touch`, and
/// fill locks held as ordinary entries `{key}:lock` whose value is the holder's random token.
///
/// Entries live in independently locked shards. Expiry is lazy (a read of an expired entry
/// removes it) plus a bounded sweep on every write, so expired entries never pile up without
/// any read touching them. With `max_entries` or `max_bytes` set, each write evicts the
/// oldest-written entries until both bounds hold again (never the entry just written, never a
/// held lock).
///
/// Time comes from a `monotonic_clock` (the L1's kind), so tests of TTLs are exact:
///
///     cachekit::manual_clock clock;
///     cachekit::memory_backend store({.clock = &clock});
///     (void)store.set("k", bytes, std::chrono::seconds{10});
///     clock.advance(std::chrono::seconds{10});   // store.get("k") is now a miss
///
/// Thread safety: thread-safe; one instance serves all threads. The clock is read from every
/// thread that uses the backend (every `monotonic_clock` is thread-safe).
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/export.hpp>
#include <cachekit/monotonic_clock.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

namespace cachekit {
inline namespace v0 {

/// Options of `memory_backend`; fill with designated initializers: `{.max_entries = 1000}`.
struct memory_backend_options {
  /// Most entries held (locks included); beyond it the oldest-written are evicted.
  /// nullopt: unbounded. Must be at least 1.
  std::optional<std::size_t> max_entries;
  /// Most bytes held, counting each entry as key size + value size; beyond it the
  /// oldest-written entries are evicted. A single value larger than this is refused.
  /// nullopt: unbounded. Must be at least 1.
  std::optional<std::size_t> max_bytes;
  /// Independently locked shards; rounded up to a power of two, 1 to 1024.
  std::size_t shards = 16;
  /// Entries a write examines for expiry in its shard (the bounded sweep). 0 disables it.
  std::size_t sweep_limit = 16;
  /// The time source of TTLs and lock leases; must outlive the backend. Default: the coarse
  /// monotonic clock, as for the L1 (TTLs are whole seconds, leases milliseconds; a kernel tick
  /// of 1-4 ms is far below both). Tests pass a `manual_clock`.
  const monotonic_clock* clock = &monotonic_clock::coarse();
};

/// An in-process `backend`. See the file comment.
class CACHEKIT_EXPORT memory_backend final : public backend {
 public:
  /// Throws `cachekit::error` with `errc::invalid_configuration` when a bound is 0 or `shards`
  /// is outside 1..1024.
  explicit memory_backend(memory_backend_options options = {});
  ~memory_backend() override;
  memory_backend(const memory_backend&) = delete;
  memory_backend& operator=(const memory_backend&) = delete;

  /// The value, or nullopt when absent or expired (an expired entry is removed). Never fails.
  [[nodiscard]] result<std::optional<byte_buffer>> get(std::string_view key) override;

  /// Stores a copy of `value`. `ttl` nullopt: no expiry; zero or less: already expired, so
  /// nothing is stored and any value of `key` is removed (backend.hpp). Fails with
  /// `errc::backend_permanent` for a value above `max_bytes`.
  [[nodiscard]] result<void> set(std::string_view key, byte_view value, ttl_seconds ttl) override;
  [[nodiscard]] result<bool> set_if_absent(std::string_view key, byte_view value,
                                           ttl_seconds ttl) override;

  /// Removes `key`; true when a live entry was removed.
  [[nodiscard]] result<bool> erase(std::string_view key) override;

  /// Whether a live (unexpired) entry exists.
  [[nodiscard]] result<bool> exists(std::string_view key) override;

  /// `exists` false when absent or expired; otherwise the seconds left rounded to the nearest
  /// second (as Redis' TTL command rounds), or nullopt for no expiry.
  [[nodiscard]] result<remaining_ttl> ttl(std::string_view key) override;

  /// Sets a new TTL on a live entry (nullopt: no expiry) without changing its value or its age
  /// for eviction; a TTL of zero or less removes it. Returns whether the entry existed.
  [[nodiscard]] result<bool> touch(std::string_view key, ttl_seconds ttl) override;

  /// Creates the entry `{key}:lock` holding a random 32-hex-digit token, expiring after
  /// `timeout` (at least 1 ms), unless a live entry of that name exists: then nullopt.
  [[nodiscard]] result<std::optional<lock_token>> try_lock(
      std::string_view key, std::chrono::milliseconds timeout) override;

  /// Deletes the lock entry if it still holds `token.value` (compare-and-delete). Returns
  /// whether it did; false when it expired or another holder has it now.
  [[nodiscard]] result<bool> release_lock(const lock_token& token) override;

  /// Removes every live entry whose key starts with `prefix`, held locks excepted; returns how
  /// many. One shard locked at a time. Never fails.
  [[nodiscard]] result<std::size_t> erase_prefix(std::string_view prefix) override;

  /// Always healthy; details: "entries", "bytes", "shards", and the bounds when set.
  [[nodiscard]] backend_health health() override;

  /// "memory".
  [[nodiscard]] std::string_view type() const noexcept override { return "memory"; }

  /// Entries held now, including expired ones not yet removed.
  [[nodiscard]] std::size_t entry_count() const noexcept;
  /// Bytes held now (key + value sizes), including expired entries not yet removed.
  [[nodiscard]] std::size_t byte_count() const noexcept;
  /// Removes every entry, locks included.
  void clear();

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace v0
}  // namespace cachekit
