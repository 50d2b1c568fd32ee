/// @file
/// What a `cachekit::cache` is made of: its L2 backend, its L1, its storage format and
/// encryption, and the intent presets that switch those on and off as cachekit-py's
/// `@cache.minimal / dev / test / production / secure / local` do.
///
///     auto options = cachekit::cache_options::for_intent(cachekit::intent::production);
///     options.l2 = std::make_shared<cachekit::redis_backend>(
///         cachekit::redis_options{.url = "redis://cache:6379/0",
///                                 .key_layout = cachekit::redis_key_layout::tenant_scoped});
///     cachekit::cache cache(std::move(options));
///
/// `cache_options::from_env()` reads the same environment variables as cachekit-py
/// (see `from_env` below). Plain structs: thread-compatible (build one, then hand it over).
#pragma once

#include <cachekit/async_options.hpp>
#include <cachekit/backend.hpp>
#include <cachekit/encryption.hpp>
#include <cachekit/export.hpp>
#include <cachekit/monotonic_clock.hpp>
#include <cachekit/observer.hpp>
#include <cachekit/reliability.hpp>
#include <cachekit/result.hpp>
#include <cachekit/serializer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {

/// The intent presets of cachekit-py 0.24.1 (`DecoratorConfig.<preset>()`), and the bare
/// `@cache` as `standard`. What each switches:
///
/// | intent       | integrity | stats | TTL   | other                                   |
/// |--------------|-----------|-------|-------|-----------------------------------------|
/// | `standard`   | on        | on    | none  | bare `@cache`                           |
/// | `minimal`    | off       | off   | 300 s | speed first                             |
/// | `dev`        | on        | on    | 300 s |                                         |
/// | `test`       | off       | off   | 300 s |                                         |
/// | `production` | on        | on    | 600 s |                                         |
/// | `secure`     | forced on | on    | 600 s | refuses to start without `encryption`   |
/// | `local`      | n/a       | on    | 300 s | L1 only, decoded objects (see `memoize`) |
/// | `io`         | on        | on    | 3600 s| the cachekit.io HTTP backend (see below) |
///
/// `io` is the protocol's managed-backend preset (intent-presets.md): L1, SWR and the whole
/// reliability stack on, encryption only when set explicitly. Its L2 is the cachekit.io backend
/// of the optional component `cachekit::io` (<cachekit/cachekitio_backend.hpp>, linking
/// libcurl): build it with `cachekit::io_cache_options(api_key)` or `from_env(intent::io)`
/// (`CACHEKIT_API_KEY`). A `cache` built with `intent::io` and no L2 refuses to start, so missing
/// credentials fail at construction, never on the first call.
///
/// What a read detects, by preset, in an entry that does not check out. Detected: a counted
/// corrupt entry (`cache_stats::corrupt_entries`), evicted, and the function runs.
///
/// | intent                    | flipped byte    | under another key    | L2 writer tampers |
/// |---------------------------|-----------------|----------------------|-------------------|
/// | standard, dev, production | checksum        | key binding "k"      | not detected      |
/// | minimal, test             | served as value | key binding "k"      | not detected      |
/// | secure                    | AES-GCM tag     | AAD binds the key    | AES-GCM tag       |
/// | local                     | n/a (no L2)     | n/a                  | n/a               |
/// | interop mode, plaintext   | served as value | served as this key's | not detected      |
///
/// Flipped byte: integrity on, the envelope's xxHash3-64 checksum catches it; off, the bytes are
/// served as the value (or fail to decode). Under another key: an entry copied or swapped in L2.
/// The key binding is the "k" field of plaintext frames (frame.hpp, `cache_options::key_binding`);
/// entries written by cachekit-py (or with `key_binding = false`) carry none and are not checked,
/// and interop entries (plain canonical MessagePack) have nowhere to carry it. It is a hash, not
/// a secret: anyone who can write L2 can forge it, so only `secure` stops deliberate tampering.
///
/// Reliability layers around the L2 (`cache_options::reliability`), as cachekit-py's presets:
/// circuit breaker on except in `minimal` and `test`; backpressure on except in `test`; the
/// retry layer and the write-back after an outage (neither in cachekit-py) on except in `test`.
/// Stale-while-revalidate (`cache_options::swr`) on except in `minimal` and `test`; fail-safe
/// stale (`serve_stale_for`, not in cachekit-py) off in every preset.
enum class intent { standard, minimal, dev, test, production, secure, local, io };

/// The preset's name as cachekit-py spells it (`"production"`; `standard` is `"cache"`).
[[nodiscard]] CACHEKIT_EXPORT std::string_view to_string(intent i) noexcept;

/// Parses a preset name (`"production"`, `"secure"`, ...; `"cache"` or `"standard"` for the bare
/// decorator), spelt exactly so. Errors: errc::invalid_configuration listing the valid names.
[[nodiscard]] CACHEKIT_EXPORT result<intent> parse_intent(std::string_view name);

/// Client-side encryption (AES-256-GCM under HKDF-SHA256 tenant keys), as cachekit-py's
/// `EncryptionConfig` in single-tenant mode.
struct encryption_options {
  /// The current master key and up to three previous ones (reads try them by fingerprint).
  keyring keys;
  /// The tenant every entry is sealed for: cachekit-py's `deployment_uuid`
  /// (`CACHEKIT_DEPLOYMENT_UUID`), literally `"default"` when unset (cachekit-py 0.24.1). A
  /// UUID is used in its canonical lowercase 8-4-4-4-12 form whatever its spelling, as
  /// cachekit-py normalizes it (`str(uuid.UUID(x))`); other text is used as given.
  std::string tenant = "default";
  /// Multi-tenant mode (cachekit-py's `tenant_extractor`): each operation seals and opens with
  /// the keys of the calling thread's `tenant_scope` (`tenant_scope.hpp`), and `tenant` is
  /// unused. Keys carry no tenant (as in cachekit-py 0.24.1), so tenants calling with the same
  /// arguments share one entry slot: an entry sealed for another tenant is a miss counted in
  /// `cache_stats::tenant_mismatches` that is neither evicted nor overwritten; the caller's
  /// result is returned but not stored (cachekit-py evicts and overwrites instead). Put the
  /// tenant in the arguments where tenants must each have their own cached entry. With no scope
  /// on the thread, calls run uncached.
  bool multi_tenant = false;
  /// What an entry that fails authentication (AES-GCM tag mismatch: tampered, or sealed under a
  /// key this keyring does not hold; or a key fingerprint not in the keyring) does to a call,
  /// as cachekit-py's `fail_closed` (`CACHEKIT_ENCRYPTION_FAIL_CLOSED`). false (fail open): a
  /// counted corrupt entry, evicted, and the function runs. true (fail closed): the call throws
  /// `cachekit::error` with that code (errc_group::security) and the entry is kept for
  /// inspection; the function does not run. Counted in `cache_stats::security_failures` either
  /// way. Affects `memoize`d calls and the typed `cache::get`.
  ///
  /// In multi-tenant mode an entry sealed for another tenant stays a counted miss
  /// (`tenant_mismatches`) even under fail_closed, where cachekit-py 0.24.1 raises: the entry
  /// authenticated, as the other tenant's, so nothing was tampered with, and keys carry no
  /// tenant, so raising would let any tenant make another's calls fail by caching the same
  /// arguments first.
  bool fail_closed = false;
};

/// The distributed fill lock a memoized miss takes, as cachekit-py's (`{key}:lock`, a random
/// token, `SET NX PX`, compare-and-delete): across processes sharing an L2 that has locks
/// (Redis), one process runs the function for a key while the others poll L2 for its result.
/// A lock that cannot be taken (backend without locks, down, or breaker open) is skipped: the
/// call runs the function (fail open).
struct fill_lock_options {
  /// How long the lock lives if its holder dies before releasing it (cachekit-py: 30 s).
  std::chrono::milliseconds lease = std::chrono::seconds{30};
  /// How long a caller waits for another process's result before running the function itself
  /// (cachekit-py's blocking_timeout: 5 s).
  std::chrono::milliseconds max_wait = std::chrono::seconds{5};
  /// How often a waiting caller looks for the result and retries the lock.
  std::chrono::milliseconds poll_interval = std::chrono::milliseconds{50};
};

/// The write-back after an outage (beyond cachekit-py): a result this process stored in L1 only,
/// because L2 could not take it (down, timed out, circuit breaker open, shed by backpressure),
/// is written to L2 once L2 answers again, so other processes and Python services sharing the
/// L2 are not left cold for as long as this process's L1 copies live.
///
/// What is written is the L1 copy at that moment, with the time it has left: a key invalidated
/// or expired meanwhile is skipped. It is written only where L2 holds nothing under the key
/// (Redis `SET NX`, memcached `add`; other backends check, then write), so an entry another
/// process wrote after the outage is never replaced by this older one. A background thread per
/// process does the writing; it starts at the first key an outage leaves behind.
struct write_back_options {
  /// Keys waiting at most; later ones are dropped (counted in `cache_stats::write_backs_dropped`).
  std::size_t max_entries = 10'000;
  /// How often the waiting keys are tried while L2 stays down; a successful L2 operation
  /// triggers a try at once.
  std::chrono::milliseconds retry_interval = std::chrono::seconds{1};
};

/// Stale-while-revalidate of memoized functions (bytes mode), as cachekit-py 0.24.1's
/// `L1CacheConfig.swr_*`: an L1 hit on a copy older than `threshold_ratio` of its lifetime
/// (each read draws a ±10 % jitter, as cachekit-py, so keys written together do not refresh
/// together) returns the cached value at once and queues one background call of the function
/// for that key, which stores its result in L1 and L2 as a miss would. One refresh per key per
/// process at a time; after a refresh that failed (the function threw, the result could not be
/// stored) no refresh of that entry for `retry_interval`. An `invalidate`, `clear` or newer
/// write of the key made while the refresh runs wins: the refresh's result is dropped (see
/// docs/architecture.md, Reliability). Refreshes run on `workers` background threads of the
/// cache, started at the first refresh and joined when the cache and its memoized functions are
/// gone; at most `max_pending` wait (cachekit-py caps a function at 32 concurrent refreshes),
/// past that a hit queues nothing and a later hit tries again.
///
/// A function whose parameter types cannot be copied into the background call (not copyable,
/// or views of the caller's memory: pointers, `std::string_view`, `std::span`, non-const
/// references) never refreshes: decided at compile time. A parameter type of your own that
/// holds a view must not be used with SWR: switch it off for that cache.
///
/// cachekit-py runs this L1 refresh only when a function is L1-only; here every bytes-mode
/// memoized function refreshes, with or without L2. Object mode (`intent::local`) does not.
///
/// The same switch, threads and bound serve the server-side stale grace: a memoized call that
/// L2 answers inside a stale-grace window (`timed_value::stale`: cachekit.io with the `io`
/// preset) returns the stale value at once and queues one refresh of the key per process (at
/// most `max_pending` keys at once), which first takes the backend's lock as the spec's
/// revalidation lease (`fill_lock.lease` long) and leaves the key to a client that holds it.
/// Presets as cachekit-py's: on, except `minimal` and `test`. No environment variable sets it
/// (cachekit-py has none).
struct swr_options {
  /// On in cachekit-py's `L1CacheConfig()` and all presets but `minimal` and `test`.
  bool enabled = true;
  /// Fraction of an L1 copy's lifetime after which a hit refreshes it, in (0, 1] (cachekit-py:
  /// 0.5). The copy's lifetime is the function's TTL, or for a copy of an L2 entry what that
  /// entry had left when read; no TTL means the L1 default TTL (`l1_default_ttl`).
  double threshold_ratio = 0.5;
  /// After a failed refresh, no refresh of that entry for this long, >= 0 (cachekit-py: 10 s).
  /// The cached value keeps being served until it expires.
  std::chrono::milliseconds retry_interval = std::chrono::seconds{10};
  /// Refreshes waiting to run, at most (cachekit-py: 32 per function); positive.
  std::size_t max_pending = 32;
  /// Background threads running refreshes (started one by one as refreshes wait); positive.
  std::size_t workers = 1;
};

/// How this process's L1 learns that another process changed or invalidated an entry it holds.
/// Every mode keeps the TTL bound; the others only shorten how long a copy can be stale.
/// Staleness measured for each mode: docs/architecture.md (One cache, many processes).
enum class l1_coherence {
  /// A copy is served until its L1 TTL (cachekit-py's default).
  ttl_only,
  /// cachekit-py 0.24.1's invalidation events: a listener on `cachekit:py:invalidate:v1` drops
  /// the copies another process's `invalidate`, `invalidate_all` or `clear` named (Python's
  /// `invalidate_cache()` included). `CACHEKIT_INVALIDATION_LISTENER_ENABLED=true`.
  invalidation_events,
  /// Beyond cachekit-py: Redis client-side caching in broadcast mode. The listener also drops
  /// a copy when any client writes, deletes or expires its key (a plain `SET` from redis-cli
  /// too), and includes the events above. Each write of this process comes back as an
  /// invalidation too, so the next read of that key goes to L2 once.
  redis_tracking,
};

/// How a `cache` is built. Fill a preset and change fields, or use designated initializers.
struct cache_options {
  /// The preset these options came from; `secure` makes the cache refuse to start without
  /// `encryption`, `local` makes `memoize` hold decoded objects with no L2.
  intent preset = intent::standard;

  /// The shared L2 (redis_backend, memcached_backend, file_backend, memory_backend, ...).
  /// nullptr: L1 only (what cachekit-py does with nothing configured).
  std::shared_ptr<backend> l2 = nullptr;

  /// The layers wrapped around `l2` when the cache is built: backpressure, circuit breaker and
  /// retry (reliability.hpp), so a backend that is down or hung costs a bounded wait and then
  /// nothing while the breaker is open. The cache's `options().l2` is the wrapped stack.
  reliability_options reliability = {};

  /// Stampede protection across processes for memoized misses (see `fill_lock_options`);
  /// nullopt: off. Within one process, concurrent misses of one key always share one call of
  /// the function (single-flight), whatever this says.
  std::optional<fill_lock_options> fill_lock = fill_lock_options{};

  /// After an outage, write what this process kept in L1 only back to L2 (see
  /// `write_back_options`); nullopt: off (L2 fills again as calls miss it).
  std::optional<write_back_options> write_back = write_back_options{};

  /// The in-process L1 holding the stored bytes (ciphertext stays ciphertext).
  bool l1_enabled = true;
  /// L1 budget in bytes (CACHEKIT_L1_MAX_SIZE_MB); one entry may take an eighth of it.
  std::size_t l1_max_bytes = std::size_t{100} * 1024 * 1024;

  /// Wrap values in the ByteStorage envelope (LZ4 + xxHash3-64). Also the `1`/`0` flag of keys,
  /// so it must match the Python service that shares the entries.
  bool integrity_checking = true;

  /// Which cachekit-py serializer memoized functions store their results with (serializer.hpp):
  /// `standard` (cachekit-py "default", MessagePack), `json` ("orjson") or `auto_detect`
  /// ("auto"). Part of every default key (`…:1s` / `…:1o` / `…:1a`) and of the frame header, so
  /// it must match the Python function sharing the entries; `memoize_options::serializer`
  /// overrides it per function. `json` and `auto_detect` are plaintext only: with `encryption`
  /// set the cache refuses to start (errc::invalid_configuration). Interop mode ignores it.
  ///
  ///     cachekit::cache cache({.l2 = redis, .serializer = cachekit::serializer_kind::json});
  serializer_kind serializer = serializer_kind::standard;

  /// Frame mode, plaintext: write the key binding "k" into each entry's header (the xxHash3-64
  /// of the key as L2 stores it, frame.hpp) and check it on read, so an entry copied or swapped
  /// under another key is a counted corrupt entry instead of that key's value. cachekit-py
  /// 0.24.1 reads such entries unchanged; it does not check the binding, and since each header
  /// differs, its header memo misses on them (a JSON parse per read of a C++-written entry on the
  /// Python side). Entries without "k" (cachekit-py's, older C++ ones) still read. Off: write
  /// exactly cachekit-py's bytes and ignore "k" on read, as cachekit-py does. No effect on
  /// encrypted entries (their AAD binds the key) nor in interop mode (no header).
  bool key_binding = true;

  /// Client-side encryption; nullopt: plaintext. Required by `intent::secure`.
  std::optional<encryption_options> encryption = std::nullopt;

  /// TTL of an entry when the call gives none; nullopt: the L2 entry never expires (L1 still
  /// drops it after `l1_default_ttl`).
  ttl_seconds default_ttl = std::nullopt;
  /// How long L1 keeps an entry written with no TTL (cachekit-py: 300 s).
  std::chrono::seconds l1_default_ttl = std::chrono::seconds{300};

  /// Largest stored entry (after framing, compression and encryption) written to L1 or L2
  /// (CACHEKIT_MAX_VALUE_SIZE). Bigger results are returned to the caller but not stored.
  std::size_t max_value_bytes = std::size_t{100} * 1024 * 1024;

  /// Reads bound what a stored entry may cost before decoding it, because anyone who can write
  /// to L2 chooses those bytes: an entry above `max_value_bytes`, an envelope that would
  /// decompress to more than `max_value_bytes` (or more than LZ4 can produce), or a payload with
  /// more than `max_value_items` MessagePack items (each decodes to tens of bytes however small
  /// its encoding: 4 Mi nils are 4 MiB of MessagePack and ~160 MiB of decoded values) is a
  /// counted corrupt entry, evicted, and the function runs. Raise it if your results really hold
  /// more items. A read then costs at most about 2x `max_value_bytes` plus 40 bytes per item.
  std::size_t max_value_items = std::size_t{4} << 20;

  /// How L1 copies follow other processes' changes (see `l1_coherence`). With anything but
  /// `ttl_only`, the cache runs one listener thread on a dedicated connection of `l2` (which
  /// must support `backend::subscribe`: Redis), started with the cache and in a forked child at
  /// its first call; L1 copies are then kept under their L2 key, so an event can name them
  /// (a hit hashes the arguments). While the listener is not connected, copies are served by
  /// TTL; each time it (re)subscribes, the cache's L1 is emptied, so nothing missed meanwhile
  /// outlives the reconnection. Events for a key this process does not hold cost a hash lookup.
  /// `from_env`: `CACHEKIT_INVALIDATION_LISTENER_ENABLED=true` (events), or ours,
  /// `CACHEKIT_L1_COHERENCE` = `ttl`, `events` or `tracking`.
  l1_coherence coherence = l1_coherence::ttl_only;

  /// Per-function counters for `memoized::info()`; off in `minimal` and `test`.
  bool collect_stats = true;

  /// Entries per memoized function in object mode (`intent::local`; cachekit-py's
  /// `max_entries`, 256).
  std::size_t object_max_entries = 256;
  /// Bytes each memoized function may hold in object mode, counting every entry as its key +
  /// `footprint(result)` + `object_entry_overhead` (object_cache.hpp). `footprint`
  /// (footprint.hpp) counts `sizeof(result)` and the heap the result owns: strings, vectors,
  /// maps, optionals, pairs and tuples, and `MSGPACK_DEFINE_MAP` structs of them, recursively;
  /// define `cachekit_footprint(const T&)` next to your type for anything else. The oldest
  /// entries are evicted to stay within it; a result larger than the budget is returned but not
  /// kept. Default 256 KiB.
  std::size_t object_function_max_bytes = std::size_t{256} * 1024;
  /// Bytes all object-mode functions of one cache may hold together: each `memoize` reserves
  /// `object_function_max_bytes` of it until the function and its copies are gone, and throws
  /// when it is used up. Default 64 MiB (256 functions at the default size).
  std::size_t object_max_bytes = std::size_t{64} * 1024 * 1024;

  // ---- serving while refreshing, and serving stale when things fail ---------------------
  /// Stale-while-revalidate of memoized functions (see `swr_options`); on by default.
  swr_options swr = {};
  /// Fail-safe stale (not in cachekit-py; off by default): a memoized call that missed (L2
  /// failed, its breaker was open, or it had no entry) and whose function then threw returns
  /// the key's expired L1 copy instead of the exception, if that copy expired no more than this
  /// long ago; counted in `cache_info::stale_served` and `cache_stats::stale_served`. Callers
  /// waiting for that call (single-flight) get the same. Expired copies stay in L1 only, for up
  /// to this long, counted against `l1_max_bytes` and evicted as any entry; they are never
  /// written back to L2 nor extend an L2 entry's TTL, so other readers of L2 (cachekit-py
  /// included) never see them. `invalidate` and `clear` drop them too. Without a kept copy the
  /// caller gets the function's exception, as always. Must be positive when set. Needs L1
  /// (`l1_enabled`); no effect in object mode.
  std::optional<std::chrono::seconds> serve_stale_for = std::nullopt;

  /// Asynchronous calls (`memoized::async`, `cache::get_async` ...): dispatcher threads, batch
  /// size, queue bound and function pool (see `async_options`).
  async_options async = {};

  /// Time source of L1 expiry, the circuit breaker and retry back-off (tests inject a
  /// `manual_clock`). Must outlive the cache.
  const monotonic_clock* clock = &monotonic_clock::coarse();

  /// Called for faults the cache absorbed (L2 unreachable, corrupt entry evicted, value too
  /// large, circuit breaker opened, ...), after they were counted. L2 failures of one class
  /// (error.hpp's `error_class`) are reported at most once per second, the next report saying
  /// how many were counted but not reported; operations skipped while the breaker is open are
  /// counted only (its opening was reported). Must be thread-safe and must not throw. Never
  /// receives key material or values. nullptr: counted only.
  std::function<void(const failure&)> on_error = nullptr;

  /// Fail fast on a misconfigured L2: the `cache` constructor reads one key from `l2` (which
  /// connects, authenticates and selects the db) and throws cachekit::error with the backend's
  /// failure and how to fix it when that fails (a wrong password, a bad db index, a server that
  /// is not running). Off by default, as cachekit-py: a cache then starts without its L2 and
  /// keeps retrying it, counting and reporting the failures.
  bool verify_l2_on_start = false;

  /// Observers told of every operation, absorbed fault and circuit breaker change of this
  /// cache (observer.hpp): metrics (`cachekit::prometheus_observer`), logs (`log_observer`),
  /// your own. `stats()`, `memoized::info()` and `on_error` keep working without any. Fixed
  /// when the cache is built; null entries are ignored. Empty: each event costs one branch.
  std::vector<std::shared_ptr<observer>> observers = {};

  /// The options of an intent preset (table on `intent`), with no L2 and no encryption.
  [[nodiscard]] CACHEKIT_EXPORT static cache_options for_intent(intent i);

  /// Options from the environment, as cachekit-py 0.24.1 reads it:
  /// - L2: `CACHEKIT_API_KEY` (the cachekit.io backend, with `CACHEKIT_API_URL`,
  ///   `CACHEKIT_TIMEOUT`, ...: needs the `cachekit::io` component, else errc::not_supported
  ///   says how to link it), `CACHEKIT_REDIS_URL` (tenant-scoped Redis, tenant `default`, pool 50),
  ///   `CACHEKIT_MEMCACHED_SERVERS` (a JSON list, + `CACHEKIT_MEMCACHED_*`),
  ///   `CACHEKIT_FILE_CACHE_DIR` (+ `CACHEKIT_FILE_*`); more than one of these is a conflict and
  ///   an error naming them. Else `REDIS_URL`: tenant-scoped Redis. Nothing set: L1 only, except
  ///   `intent::secure`, which gets tenant-scoped Redis at `redis://localhost:6379` (as
  ///   cachekit-py's encrypted decorators: ciphertext needs an L2). A backend's own variables
  ///   are read only when that backend is selected.
  /// - Redis tuning: `CACHEKIT_CONNECTION_POOL_SIZE`, `CACHEKIT_SOCKET_TIMEOUT`,
  ///   `CACHEKIT_SOCKET_CONNECT_TIMEOUT` (seconds, fractions allowed; unset: 0.2 s, where
  ///   cachekit-py waits 5 s; see `redis_options`). `CACHEKIT_REDIS_KEY_LAYOUT` (ours, not
  ///   cachekit-py's): `tenant_scoped` (the default) or `plain`, bare keys as cachekit-py's
  ///   explicit `RedisBackend(url)`, which `cache::memoize_interop` needs.
  /// - `CACHEKIT_MASTER_KEY` (+ `CACHEKIT_PREVIOUS_MASTER_KEYS`, comma-separated hex, at most 3,
  ///   `CACHEKIT_DEPLOYMENT_UUID`, a UUID in any form `uuid.UUID()` takes, used in canonical
  ///   lowercase form) enables encryption only for `intent::secure`, which fails without it;
  ///   with another intent a master key is an error (cachekit-py 0.24.1 no longer encrypts
  ///   implicitly). `CACHEKIT_ENCRYPTION_FAIL_CLOSED` sets `encryption_options::fail_closed`.
  /// - `CACHEKIT_L1_MAX_SIZE_MB`, `CACHEKIT_MAX_VALUE_SIZE`. Other cachekit-py settings that
  ///   have no effect here are still checked, so an environment cachekit-py refuses is refused.
  /// - `intent::local` reads nothing (as `@cache.local`): the result is `for_intent(local)`.
  /// - `intent::io` always takes the cachekit.io backend (as `@cache.io`), from
  ///   `CACHEKIT_API_KEY` only: without it, errc::invalid_configuration; the other backend
  ///   selectors are not read.
  /// Variable names are matched case-insensitively, as pydantic-settings does; when two
  /// spellings are set, the later one in `environ` wins. A backend selector other than
  /// `CACHEKIT_REDIS_URL` must be upper case, though: cachekit-py selects by the exact name.
  /// Empty selectors, URLs, keys and deployment UUIDs count as unset; an empty number or
  /// boolean is invalid, as in cachekit-py.
  /// Errors: errc::invalid_configuration / errc::invalid_master_key / errc::not_supported with a
  /// message naming the variable and the fix; values are never repeated in messages.
  /// Building a backend does not connect: a server that is down does not fail this call (the
  /// file backend does create its directory).
  ///
  /// Reads `environ`: do not call it while another thread changes the environment.
  [[nodiscard]] CACHEKIT_EXPORT static result<cache_options> from_env(intent i = intent::standard);

  /// As `from_env`, reading variables through `lookup` (for tests and embedding: return the
  /// value of the named variable, or nullopt when unset). `lookup` is asked for the upper-case
  /// names (`"CACHEKIT_REDIS_URL"`); matching other spellings is up to it.
  ///
  ///     std::map<std::string, std::string, std::less<>> vars{{"REDIS_URL", "redis://cache"}};
  ///     auto options = cachekit::cache_options::from_env(cachekit::intent::production,
  ///         [&](std::string_view n) -> std::optional<std::string> {
  ///           auto it = vars.find(n); return it == vars.end() ? std::nullopt
  ///                                                           : std::optional(it->second); });
  using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;
  [[nodiscard]] CACHEKIT_EXPORT static result<cache_options> from_env(intent i,
                                                                      const env_lookup& lookup);
};

/// Per-function settings of `cache::memoize`. Unset fields take the cache's.
struct memoize_options {
  /// Entry TTL; nullopt: the cache's `default_ttl`.
  ttl_seconds ttl = std::nullopt;
  /// Key namespace (`ns:{ns}:` in front of the key; cachekit-py's `namespace=`).
  std::optional<std::string> ns = std::nullopt;
  /// Overrides the cache's `integrity_checking` for this function (and its key flag).
  std::optional<bool> integrity_checking = std::nullopt;
  /// Overrides the cache's `serializer` for this function (and its key's serializer code), as
  /// cachekit-py's `@cache(serializer="orjson")`. `memoize` throws cachekit::error
  /// (errc::invalid_configuration) for `json` or `auto_detect` on an encrypted cache, and
  /// `memoize_interop` for anything but `standard`. Object mode (`intent::local`) ignores it.
  ///
  ///     auto get = cache.memoize("app.api.get", fetch, {.serializer = serializer_kind::json});
  std::optional<serializer_kind> serializer = std::nullopt;
};

/// Per-call settings of the typed `cache::get` / `cache::set` API.
struct entry_options {
  /// Entry TTL on writes; nullopt: the cache's `default_ttl`.
  ttl_seconds ttl = std::nullopt;
  /// Key namespace: the stored key is `ns:{ns}:{key}`.
  std::optional<std::string> ns = std::nullopt;
  /// `frame` (cachekit-py `@cache` format) or `interop` (plain canonical MessagePack).
  bool interop = false;
  /// Frame mode: the serializer the entry is written and read with (`cache_options::serializer`
  /// by default). `json`/`auto_detect` on an encrypted cache: errc::invalid_configuration.
  std::optional<serializer_kind> serializer = std::nullopt;
};

/// What `memoized::info()` reports, as cachekit-py's `cache_info()`: `hits = l1_hits + l2_hits`,
/// and `misses` are the calls that ran the function. A call that waited for a concurrent call
/// of the same arguments in this process (single-flight) counts as an L1 hit; one that found
/// the result another process stored while it waited (fill lock) counts as an L2 hit.
struct cache_info {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t l1_hits = 0;
  std::uint64_t l2_hits = 0;
  /// Object mode: the entry bound and the entries held; nullopt otherwise (as cachekit-py).
  std::optional<std::size_t> maxsize = std::nullopt;
  std::optional<std::size_t> currsize = std::nullopt;
  /// Mean latency of L2 reads (hits and misses); nullopt before the first one.
  std::optional<double> l2_avg_latency_ms = std::nullopt;
  /// Wall-clock time of the last call; nullopt before the first one.
  std::optional<std::chrono::system_clock::time_point> last_operation_at = std::nullopt;
  /// Calls answered with an expired L1 copy because the function threw
  /// (`cache_options::serve_stale_for`). Such a call ran the function, so it is also a miss.
  std::uint64_t stale_served = 0;
  /// Background refreshes (`swr_options`) that stored a new value, and that failed.
  std::uint64_t refreshes = 0;
  std::uint64_t refresh_failures = 0;
};

/// Cache-wide fault counters (`cache::stats()`), for dashboards and tests.
struct cache_stats {
  std::uint64_t l2_errors = 0;        ///< L2 operations that failed (the call went on without L2)
  std::uint64_t l2_skipped = 0;       ///< L2 operations not tried: the circuit breaker was open
  std::uint64_t l2_shed = 0;          ///< L2 operations refused by backpressure (overload)
  std::uint64_t corrupt_entries = 0;  ///< stored entries that failed to open or decode (evicted)
  /// Encrypted entries that failed authentication (also counted in corrupt_entries when
  /// evicted; raised to the caller instead under `encryption_options::fail_closed`).
  std::uint64_t security_failures = 0;
  std::uint64_t oversize_values = 0;  ///< results not stored: above `max_value_bytes`
  std::uint64_t uncacheable_calls =
      0;  ///< calls run uncached: a key or a value could not be encoded
  /// Multi-tenant reads that found an entry sealed for another tenant: a miss that left the
  /// entry in place (neither evicted nor overwritten by the caller's result).
  std::uint64_t tenant_mismatches = 0;
  /// Reads of cachekit-py `auto` entries holding a Python-only value (NumPy array, pandas
  /// DataFrame/Series, Arrow table; errc::python_only_value): a miss that left the entry in
  /// place; a memoized call runs the function and does not store over it.
  std::uint64_t python_only_entries = 0;
  /// Entries written to L2 after an outage (`cache_options::write_back`).
  std::uint64_t written_back = 0;
  /// Keys not written back: more than `write_back_options::max_entries` waited.
  std::uint64_t write_backs_dropped = 0;
  /// Memoized calls answered with an expired L1 copy (`cache_options::serve_stale_for`).
  std::uint64_t stale_served = 0;
  /// `cache_options::coherence`: invalidations (events and tracked keys) the listener applied,
  /// events it could not decode (dropped), its successful (re)subscriptions (each empties L1),
  /// and its failed subscriptions or lost connections.
  std::uint64_t invalidations_received = 0;
  std::uint64_t invalidations_dropped = 0;
  std::uint64_t listener_subscriptions = 0;
  std::uint64_t listener_failures = 0;
  /// Invalidation events this process could not publish (the invalidation itself stood; other
  /// processes keep their L1 copies until their TTL).
  std::uint64_t invalidations_unpublished = 0;
};

}  // namespace v0
}  // namespace cachekit
