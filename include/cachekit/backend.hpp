/// @file
/// The L2 backend interface: a byte store keyed by strings (Redis, memcached, a local file
/// store, memory, later the cachekit.io HTTP service). Backends store opaque bytes; every
/// protocol layer (frame, envelope, encryption) sits above them.
///
/// Failures are values: `result<...>` whose code is one of
/// - `errc::transient` — connection refused or lost, server loading, read-only replica: retry;
/// - `errc::timeout` — no answer within the configured time: retry;
/// - `errc::backend_permanent` — the server rejected the request (too large, bad key): do not
/// retry;
/// - `errc::backend_authentication` — wrong password / ACL: fix the configuration;
/// - `errc::not_supported` — the backend has no such operation (e.g. reading a TTL on memcached);
/// - `errc::invalid_configuration` — only at construction, with a message that says what to fix.
/// The reliability layer (circuit breaker, retries) classifies by these codes.
///
/// A miss is `std::nullopt`, never an error. TTLs are whole seconds on the wire; `std::nullopt`
/// means "no expiry".
///
/// A TTL of zero or less means the entry has already expired, on every backend: `set` stores
/// nothing and removes any value the key had (and succeeds), `touch` removes the entry (and
/// returns whether it existed). So a TTL computed down to nothing (a deadline already passed, a
/// copy of an entry with no time left) never leaves an older value readable, nor keeps a value
/// forever. cachekit-py 0.24.1's Redis and memcached backends store such an entry without
/// expiry instead (its file backend: 0 without expiry, negative refused); "no expiry" here is
/// only ever `std::nullopt`. Keys and stored bytes are unaffected, so this changes nothing
/// another SDK reads.
///
/// Thread safety: every backend is thread-safe; one instance serves all threads.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/export.hpp>
#include <cachekit/result.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {

/// Time to live of an entry; `std::nullopt` means no expiry.
using ttl_seconds = std::optional<std::chrono::seconds>;

/// What `backend::ttl` found for a key.
struct remaining_ttl {
  bool exists = false;  ///< false: no such key (the TTL is meaningless)
  ttl_seconds ttl;      ///< when it exists: seconds left, or nullopt for no expiry
};

/// A value read together with its remaining lifetime (`backend::get_with_ttl`).
struct timed_value {
  byte_buffer value;
  /// nullopt: the backend cannot tell; else the entry's TTL (itself nullopt for no expiry).
  std::optional<ttl_seconds> remaining;
  /// The backend served the entry past its fresh TTL, inside a stale-grace window the writer
  /// asked for (cachekit.io's `X-CacheKit-Freshness: stale`; `remaining` is then 0 s). The cache
  /// returns it, never copies it to L1, and with `cache_options::swr` on replaces it in the
  /// background (memoized functions). Backends without such a window leave it false.
  bool stale = false;
};

/// One write of `backend::set_many`: as `set` (or, with a `registry`, as `set_tracked`). The views
/// must stay valid for the call.
struct write_request {
  std::string_view key;
  byte_view value;
  ttl_seconds ttl;
  /// cachekit-py's key registry to record `key` in (`set_tracked`); empty: a plain `set`.
  std::string_view registry;
};

/// What `backend::health` reports (cachekit-py's `health_check()` fields).
struct backend_health {
  bool healthy = false;
  std::chrono::microseconds latency{-1};  ///< of the probe; -1 when it failed
  std::string backend_type;               ///< "redis", "memcached", "file", "memory"
  std::map<std::string, std::string> details;
};

/// A held distributed lock; pass it back to `release_lock`.
struct lock_token {
  std::string key;    ///< the lock's own key, e.g. "{cache key}:lock"
  std::string value;  ///< the random token only the holder knows
};

/// What a `backend_subscription` delivers: a message published on a channel (`payload` holds
/// its bytes), or, on the key-tracking channel `"__redis__:invalidate"`, the keys another client
/// changed (`keys`, with the backend's `key_prefix()` removed) or `all_keys` when the server was
/// flushed.
struct pushed_message {
  std::string channel;
  byte_buffer payload;
  std::vector<std::string> keys;
  bool all_keys = false;
};

/// What `backend::subscribe` listens to.
struct subscription_options {
  /// Pub/sub channels (Redis SUBSCRIBE).
  std::vector<std::string> channels;
  /// Also hear of every change to a key under the backend's `key_prefix()` (every key for the
  /// plain layout), by any client: Redis client-side caching in broadcast mode
  /// (`CLIENT TRACKING on REDIRECT <own id> BCAST [PREFIX p]`), delivered on
  /// `"__redis__:invalidate"`. Works on RESP2 (hiredis 0.14).
  bool track_keys = false;
  /// After this long without traffic the subscription PINGs the server; a server that then
  /// stays silent as long again fails `next` (errc::timeout), so a dead peer is noticed.
  std::chrono::milliseconds keepalive{10000};
};

/// A dedicated push connection opened by `backend::subscribe`. Not thread-safe: one thread
/// reads it. Destroying it closes the connection. It may outlive the backend that opened it.
class CACHEKIT_EXPORT backend_subscription {
 public:
  virtual ~backend_subscription() = default;
  /// Waits up to `wait` for the next message; nullopt when none came (keepalive traffic is
  /// handled inside). Errors: errc::transient (connection lost), errc::timeout (silent server),
  /// errc::backend_authentication (a SUBSCRIBE or PING the ACL refuses): the subscription is
  /// then dead; open a new one.
  [[nodiscard]] virtual result<std::optional<pushed_message>> next(
      std::chrono::milliseconds wait) = 0;
};

/// A byte store. See the file comment for the error contract.
class CACHEKIT_EXPORT backend {
 public:
  virtual ~backend() = default;

  /// The stored bytes, or nullopt on a miss.
  [[nodiscard]] virtual result<std::optional<byte_buffer>> get(std::string_view key) = 0;

  /// Stores `value` under `key`, replacing any previous value. A `ttl` of zero or less removes
  /// `key` instead (see the file comment).
  [[nodiscard]] virtual result<void> set(std::string_view key, byte_view value,
                                         ttl_seconds ttl) = 0;

  /// Stores `value` under `key` only when the key holds no live entry; returns whether it
  /// stored. A `ttl` of zero or less stores nothing (and returns false). Used where an older
  /// value must never replace a newer one (the write-back after an outage). The default runs
  /// `exists` then `set`, which is not atomic: a writer in between may be overwritten. Redis
  /// (`SET NX`), memcached (`add`) and the memory backend do it in one step.
  [[nodiscard]] virtual result<bool> set_if_absent(std::string_view key, byte_view value,
                                                   ttl_seconds ttl);

  /// Deletes `key`. Returns whether it existed.
  [[nodiscard]] virtual result<bool> erase(std::string_view key) = 0;

  /// Whether `key` exists (and has not expired).
  [[nodiscard]] virtual result<bool> exists(std::string_view key) = 0;

  /// Several keys at once; the default runs `get` per key, network backends pipeline.
  [[nodiscard]] virtual result<std::vector<std::optional<byte_buffer>>> get_many(
      std::span<const std::string_view> keys);

  /// `get_with_ttl` of several keys, answers in input order, in one round trip where the
  /// backend can (Redis pipelines GET and PTTL of every key). The default runs `get_with_ttl`
  /// per key and stops at the first error.
  [[nodiscard]] virtual result<std::vector<std::optional<timed_value>>> get_many_with_ttl(
      std::span<const std::string_view> keys);

  /// Several writes, each as `set` (or `set_tracked` when it names a registry), in one round
  /// trip where the backend can (Redis pipelines them). Not atomic: on an error some writes may
  /// have landed; the first error is returned. The default writes one at a time and stops at
  /// the first error.
  [[nodiscard]] virtual result<void> set_many(std::span<const write_request> writes);

  /// The time left on `key`. Default: `errc::not_supported`.
  [[nodiscard]] virtual result<remaining_ttl> ttl(std::string_view key);

  /// `key`'s value with the time it has left, so a copy kept elsewhere (the L1) never outlives
  /// it; nullopt when absent. The default runs `get` then `ttl`: `remaining` is nullopt when the
  /// backend cannot tell (memcached), and 0 s when the entry expired between the two.
  /// Backends that know both in one step override it (Redis pipelines GET and PTTL).
  [[nodiscard]] virtual result<std::optional<timed_value>> get_with_ttl(std::string_view key);

  /// Whether `get_with_ttl` may answer an entry as stale (`timed_value::stale`: a stale-grace
  /// window) at no more cost than `get`. A cache then reads through `get_with_ttl` even with no
  /// L1 to bound, so it sees the label and refreshes the entry. Default false (Redis would pay a
  /// PTTL for a label it never gives); cachekit.io: true.
  [[nodiscard]] virtual bool labels_stale_entries() const noexcept { return false; }

  /// Sets a new TTL on an existing key (nullopt: no expiry; zero or less: it expires now, so it
  /// is removed); returns whether the key existed. Default: `errc::not_supported`.
  [[nodiscard]] virtual result<bool> touch(std::string_view key, ttl_seconds ttl);

  /// Takes the distributed fill lock of `key` if free: `SET {key}:lock <token> NX PX <timeout>`
  /// on Redis. Returns the token, nullopt when another holder has it. Default: not_supported.
  [[nodiscard]] virtual result<std::optional<lock_token>> try_lock(
      std::string_view key, std::chrono::milliseconds timeout);

  /// Releases a lock taken by `try_lock` if it is still ours (compare-and-delete). Returns
  /// whether it was released. Default: not_supported.
  [[nodiscard]] virtual result<bool> release_lock(const lock_token& token);

  /// Deletes every entry whose key starts with `prefix` (before the backend's own
  /// `key_prefix()`), except fill locks (`{key}:lock`); returns how many it deleted. It walks the
  /// store in bounded batches and keeps no list of keys, so it is linear in the store's size
  /// and not atomic: an entry written meanwhile may survive. This is how a memoized function's
  /// `clear()` reaches L2 without remembering every key it wrote.
  /// Default: `errc::not_supported` (memcached cannot list keys; the file backend stores
  /// hashed names): those entries then live out their TTL.
  [[nodiscard]] virtual result<std::size_t> erase_prefix(std::string_view prefix);

  // ---- cachekit-py's key registry and invalidation events (one cache, many processes) ----

  /// Whether the backend keeps cachekit-py's key registry: a set per memoized function of
  /// every key written, which `drain_registry` empties. cachekit-py 0.24.1 keeps it on its
  /// tenant-scoped Redis backend (`KeyTrackableBackend`). Default false.
  [[nodiscard]] virtual bool keeps_key_registry() const noexcept { return false; }

  /// `set`, and, when the backend keeps a key registry, `key` added to the set `registry`
  /// (stored under `key_prefix()`, as cachekit-py's `track_key`: SADD then EXPIRE 7 days) in
  /// the same round trip. Returns whether the key was recorded: false for a backend without a
  /// registry (the default only calls `set`) or when the server refused the registry write (the
  /// entry is stored all the same). Errors: those of `set`.
  [[nodiscard]] virtual result<bool> set_tracked(std::string_view key, byte_view value,
                                                 ttl_seconds ttl, std::string_view registry);

  /// Deletes every key recorded in `registry` and empties it, as cachekit-py's
  /// `drain_tracked`: in atomic steps of at most 10,000 members, each key deleted before its
  /// member leaves the set, so a failure never orphans a key; a write landing meanwhile is
  /// drained by a later step or the next drain. Returns how many members were drained.
  /// Default: errc::not_supported.
  [[nodiscard]] virtual result<std::size_t> drain_registry(std::string_view registry);

  /// Publishes `message` on `channel` (Redis PUBLISH); returns how many subscribers got it.
  /// Reliability wrappers pass it through unguarded: an event that fails must not count
  /// against the circuit breaker (cachekit-py does the same). Default: errc::not_supported.
  [[nodiscard]] virtual result<std::size_t> publish(std::string_view channel, byte_view message);

  /// Opens a dedicated push connection (see `subscription_options`) and returns once the server
  /// confirmed the subscription. Default: errc::not_supported. Errors: as `get`, and
  /// errc::backend_authentication when the ACL refuses a channel.
  [[nodiscard]] virtual result<std::unique_ptr<backend_subscription>> subscribe(
      const subscription_options& options);

  /// Probes the backend (PING / a get of a health key / a stat of the directory).
  [[nodiscard]] virtual backend_health health() = 0;

  /// "redis", "memcached", "file", "memory".
  [[nodiscard]] virtual std::string_view type() const noexcept = 0;

  /// What the backend prepends to every key on the wire (cachekit-py binds this into the AAD
  /// of encrypted entries): e.g. "t:default:" for the tenant-scoped Redis layout. Default "".
  [[nodiscard]] virtual std::string_view key_prefix() const noexcept { return {}; }
};

}  // namespace v0
}  // namespace cachekit
