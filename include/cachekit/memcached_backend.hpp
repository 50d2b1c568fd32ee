/// @file
/// The memcached backend: cachekit's L2 on one or more memcached servers, through libmemcached
/// over the ASCII protocol (what cachekit-py's pymemcache client speaks).
///
/// It stores what cachekit-py's `MemcachedBackend` stores, where cachekit-py stores it:
/// - the key on the wire is `key_prefix + key`; the prefix is part of the AAD of encrypted
///   entries, so both SDKs must be configured with the same prefix;
/// - values are the bytes as given, with memcached flags 0; flags are ignored on reads;
/// - with several servers, a key lives on the server pymemcache's `HashClient` picks (rendezvous
///   hashing, MurmurHash3 of `"host:port-" + wire key`), so a Python and a C++ process that list
///   the same servers in the same `host:port` spelling find each other's entries;
/// - TTLs: `std::nullopt` stores without expiry; TTLs over memcached's 30-day maximum for
///   relative times are clamped to it.
///
///     cachekit::memcached_backend mc({.servers = {"10.0.0.5:11211", "10.0.0.6:11211"},
///                                     .key_prefix = "myapp:"});
///     auto stored = mc.set("user:42", bytes, std::chrono::minutes(10));
///     auto hit = mc.get("user:42");   // result<optional<byte_buffer>>
///
/// Differences from cachekit-py, on purpose:
/// - A TTL of zero or less means already expired (backend.hpp): `set` and `touch` delete the
///   key. cachekit-py stores such an entry without expiry.
/// - A key, prefix included, must be 1-250 bytes of printable ASCII 0x21-0x7E (so with a
///   prefix the empty key is allowed); cachekit-py lets other control characters (not
///   whitespace or NUL) and an empty key through to the server.
///   Both report a bad key as a permanent error (`errc::backend_permanent`).
/// - A server that fails `retry_attempts` times in a row is skipped (operations on its keys fail
///   at once with `errc::transient`) for `retry_timeout`, then tried again. pymemcache goes on
///   to drop such a server from the hash ring for 60 s and moves its keys to the other servers;
///   this backend never moves keys, so every client keeps agreeing on where a key lives.
///
/// Thread safety: thread-safe. Each server has a bounded pool of connections (`pool_size`);
/// an operation holds one connection for its duration.
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/export.hpp>
#include <cachekit/monotonic_clock.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {

/// How to reach memcached. The defaults are cachekit-py's `CACHEKIT_MEMCACHED_*` defaults,
/// except the two timeouts: 200 ms each, as for Redis (`redis_options`).
struct memcached_options {
  /// The servers, each `"host:port"` (IPv6 as `"[::1]:11211"`). Spell them as the Python
  /// clients do: the `host:port` text (with the port as a plain number) decides key placement.
  std::vector<std::string> servers = {"127.0.0.1:11211"};
  /// How long resolving a server's host name and opening the TCP connection may take,
  /// together (CACHEKIT_MEMCACHED_CONNECT_TIMEOUT). 200 ms, not cachekit-py's 2 s: a cache
  /// lookup that waits longer than the work it saves is worthless. A host name is resolved on a
  /// thread of its own, waited for at most this long (libmemcached alone would wait for the
  /// resolver's own timeout, 10 s and more when a DNS server does not answer); the connection
  /// goes to its first address, IPv4 before IPv6. IP addresses skip resolution.
  std::chrono::milliseconds connect_timeout = std::chrono::milliseconds(200);
  /// How long to wait for each reply (CACHEKIT_MEMCACHED_TIMEOUT); also the longest wait for a
  /// free pooled connection. 200 ms, not cachekit-py's 1 s, for the same reason.
  std::chrono::milliseconds timeout = std::chrono::milliseconds(200);
  /// Connections per server (CACHEKIT_MEMCACHED_MAX_POOL_SIZE): the most concurrent operations
  /// on one server. Opened on demand.
  std::size_t pool_size = 10;
  /// Prepended to every key on the wire (CACHEKIT_MEMCACHED_KEY_PREFIX), printable ASCII.
  std::string key_prefix;
  /// Values longer than this fail with `errc::backend_permanent` before anything is sent
  /// (CACHEKIT_MEMCACHED_MAX_ITEM_SIZE_BYTES); 0 turns the check off. Keep it at or below the
  /// server's `-I` limit (1 MiB by default, which also counts the key and item header).
  std::size_t max_item_size = std::size_t{1024} * 1024;
  /// Failures in a row (connection refused or lost, timeouts) after which a server is skipped
  /// for `retry_timeout` (CACHEKIT_MEMCACHED_RETRY_ATTEMPTS); 0 never skips a server.
  int retry_attempts = 2;
  /// How long a failing server is skipped before it is tried again (pymemcache's retry_timeout).
  std::chrono::milliseconds retry_timeout = std::chrono::seconds(1);
  /// The clock of `retry_timeout` (when a skipped server is tried again); must outlive the
  /// backend. Tests pass a `manual_clock`. Network waits (connect, replies, a free connection)
  /// are real time, always.
  const monotonic_clock* clock = &monotonic_clock::coarse();
};

/// A `backend` on memcached. See the file comment for what goes on the wire.
///
/// Errors (as values): `errc::timeout` when a server does not answer within `timeout`, or its
/// host name does not resolve within `connect_timeout`; `errc::transient` when it cannot be
/// reached, its host name does not exist, closes the connection, reports a server error,
/// is being skipped after failures, or all its pooled connections stay busy; and
/// `errc::backend_permanent` for a bad key, a value over `max_item_size` (both without any
/// network I/O), or a value the server refuses as too large. `ttl` is `errc::not_supported`:
/// memcached cannot report a key's remaining time.
class CACHEKIT_EXPORT memcached_backend final : public backend {
 public:
  /// Checks the options and prepares one connection pool per server. Connects lazily: a server
  /// that is down now does not stop construction; operations on it fail with
  /// `errc::transient` until it is back.
  /// Throws `cachekit::error` (`errc::invalid_configuration`) for a malformed server entry, a
  /// duplicate server, an empty list, a key prefix outside 0x21-0x7E or longer than 249 bytes,
  /// a timeout below 1 ms, or a pool size of 0; the message names the field and the fix.
  explicit memcached_backend(memcached_options options = {});
  ~memcached_backend() override;

  /// Movable; a moved-from backend may only be destroyed or assigned to.
  memcached_backend(memcached_backend&&) noexcept;
  memcached_backend& operator=(memcached_backend&&) noexcept;
  memcached_backend(const memcached_backend&) = delete;
  memcached_backend& operator=(const memcached_backend&) = delete;

  /// The stored bytes (empty values included), or nullopt on a miss.
  [[nodiscard]] result<std::optional<byte_buffer>> get(std::string_view key) override;

  /// Stores `value` with memcached `set` (flags 0). `ttl`: nullopt means no expiry; longer
  /// than 30 days is stored as 30 days; zero or less deletes the key instead.
  [[nodiscard]] result<void> set(std::string_view key, byte_view value, ttl_seconds ttl) override;

  /// memcached `delete`; true when the key existed.
  [[nodiscard]] result<bool> erase(std::string_view key) override;

  /// A `get` (memcached has no exists command; cachekit-py does the same), so it transfers the
  /// value.
  [[nodiscard]] result<bool> exists(std::string_view key) override;

  /// One `get k1 k2 ...` per server that holds some of the keys, sent to all of them before any
  /// reply is read. Results are in the order of `keys` (duplicates allowed). If any server
  /// fails, the whole call fails with that server's error.
  [[nodiscard]] result<std::vector<std::optional<byte_buffer>>> get_many(
      std::span<const std::string_view> keys) override;

  /// `get_many` (one multi-get per server, sent to all before any reply is read) with each
  /// found value's `remaining` nullopt: memcached cannot tell the time left.
  [[nodiscard]] result<std::vector<std::optional<timed_value>>> get_many_with_ttl(
      std::span<const std::string_view> keys) override;

  /// Always `errc::not_supported`: memcached's protocol cannot report the time left.
  [[nodiscard]] result<remaining_ttl> ttl(std::string_view key) override;

  /// memcached `touch` with the TTL rules of `set` (zero or less: `delete`); true when the key
  /// existed.
  [[nodiscard]] result<bool> touch(std::string_view key, ttl_seconds ttl) override;

  /// Gets `key_prefix + "__cachekit_health__"` from every server (cachekit-py probes only the
  /// server that key hashes to) and asks each for its version. Healthy when all answered;
  /// `latency` is the whole probe. `details`: `configured_servers`, `servers` (comma-separated),
  /// and per server `server.<host:port>` ("up" or the error) and `version.<host:port>`.
  [[nodiscard]] backend_health health() override;

  /// "memcached".
  [[nodiscard]] std::string_view type() const noexcept override { return "memcached"; }

  /// `memcached_options::key_prefix`: it goes in front of every key on the wire.
  [[nodiscard]] std::string_view key_prefix() const noexcept override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace v0
}  // namespace cachekit
