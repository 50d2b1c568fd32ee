/// @file
/// `cachekit::cache`: the two-level cache (in-process L1 over a shared L2 backend) with a typed
/// get/set API and `memoize`, storing what cachekit-py stores so C++ and Python services share
/// entries.
///
///     auto cache = cachekit::cache::from_env();        // REDIS_URL, CACHEKIT_*; none: L1 only
///     auto get_user = cache.memoize("myapp.users.get_user", fetch_user, {.ttl = 10min});
///     user u = get_user(42);
///
///     cache.set("greeting", std::string("hello"), {.ttl = 60s, .ns = "demo"}).value();
///     std::optional<std::string> g = cache.get<std::string>("greeting", {.ns = "demo"}).value();
///
/// Three storage modes (docs/architecture.md):
/// - frame (default): keys and bytes of cachekit-py's `@cache` (CK v3 frame over the ByteStorage
///   envelope, or ciphertext), so `memoize("module.qualname", ...)` shares entries with a Python
///   function of that qualified name;
/// - interop: `memoize_interop(ns, operation, ...)` and `{.interop = true}`: interop/v1 keys and
///   plain canonical MessagePack, shared with cachekit-py/-rs/-ts interop mode;
/// - raw: `get_bytes` / `set_bytes`: the caller's key and bytes, stored as they are.
///
/// Reads go L1, then L2; an L2 hit backfills L1 for no longer than the L2 entry has left (30 s
/// at most when the backend cannot tell, e.g. memcached). A stored entry that fails to open
/// (checksum, tag, truncation, wrong tenant key) or to decode is a miss: it is evicted from both
/// layers and counted in `stats().corrupt_entries`, never returned. There is no cross-process
/// L1 invalidation (as in cachekit-py): `erase` and `invalidate` remove the L2 entry and this
/// process's L1 copy; other processes' copies live out their L1 TTL. Without encryption a
/// memoized function keeps its L1 copies under in-process keys of its own (its key space, the
/// key's suffix, then the call's argument pre-image, so an L1 hit needs no hash); the key-level
/// calls below (`erase`, `touch`, `get_bytes` ...) given a memoized call's `key()` reach its L2
/// entry but not that L1 copy: use the function's `invalidate` and `clear`.
///
/// Thread safety: thread-safe; one `cache` is meant to be shared by all threads. A `cache` is
/// movable; `memoized` functions keep what they need alive, so they may outlive it.
///
/// Fork safety: a `cache` (and its `memoized` functions) made before fork() may be used in the
/// parent and in any number of children at once, as pre-fork servers and process pools do.
/// A pthread_atfork child handler marks the new process; each part then replaces, on its first
/// use in the child, what must not be shared:
/// - encryption: every encryptor starts a new nonce run under a fresh random instance id from
///   the OS, so no two processes ever seal with the same nonce;
/// - Redis and memcached: the child opens its own connections and never touches its parent's.
///   Its copies of the parent's idle Redis sockets are closed without sending anything (no
///   QUIT, no shutdown), so the parent's connections keep working; memcached handles are left
///   open (freeing them would send "quit" on the parent's socket);
/// - locks a parent thread held at the fork do not block the child: the pools and the keyring's
///   tenant table are rebuilt, and L1 shards that a writer held start
///   empty (the other shards keep their entries; L1 is otherwise a copy of the parent's).
/// - background threads (stale-while-revalidate refreshes, the write-back after an outage) are
///   per process: the child starts its own when it first needs one, never waits for the
///   parent's, and L1 entries whose refresh a parent thread had claimed can be claimed again.
/// Not covered: a fork while
/// another thread is inside a `memory_backend` or `file_backend` (the child may block on their
/// locks), inside an `on_error` handler or a memoized function's own locks, or processes made
/// by a raw clone(2) or a vfork() that does not exec (glibc runs no atfork handlers for them).
/// Fork-then-exec is always safe.
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/bytes.hpp>
#include <cachekit/cache_options.hpp>
#include <cachekit/codec.hpp>
#include <cachekit/default_key.hpp>
#include <cachekit/export.hpp>
#include <cachekit/footprint.hpp>
#include <cachekit/interop_key.hpp>
#include <cachekit/l1_cache.hpp>
#include <cachekit/memoized.hpp>
#include <cachekit/result.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {

class CACHEKIT_EXPORT cache {
 public:
  /// Builds the cache. Does not contact the L2 (unless `verify_l2_on_start`): a backend that is
  /// down at start-up only makes the first calls run uncached.
  /// Throws cachekit::error (errc::invalid_configuration) when the options cannot work:
  /// `intent::secure` without `encryption`, a zero L1 budget, `max_value_bytes` of 0; with
  /// `verify_l2_on_start`, the L2's own failure code (errc::backend_authentication,
  /// errc::transient, ...) when its first read fails.
  explicit cache(cache_options options = {});

  /// `cache(cache_options::from_env(i))`, throwing the error `from_env` returns.
  [[nodiscard]] static cache from_env(intent i = intent::standard);

  cache(cache&&) noexcept;
  cache& operator=(cache&&) noexcept;
  /// Ends the cache's background work first: queued SWR refreshes and write-backs are dropped,
  /// one running is waited for (a refresh runs the function: as long as it takes). So a program
  /// that destroys its cache before it exits leaves no cachekit thread running into its static
  /// destructors. Memoized functions that outlive the cache keep working, without refreshes and
  /// without the write-back. Asynchronous calls (`memoized::async`, `get_async`): reads and
  /// misses still queued are dropped, their futures throwing std::future_error
  /// (broken_promise); the ones running complete; queued L2 writes are flushed; afterwards
  /// asynchronous calls run on their caller's thread.
  ~cache();

  // ---- memoize --------------------------------------------------------------------------

  /// Wraps `fn` so calls are served from the cache (see memoized.hpp). `name` is the function's
  /// identity in keys: use the Python `module.qualname` to share entries with a cachekit-py
  /// function (e.g. "myapp.users.get_user"). With `intent::local` the results are held as
  /// decoded objects in a per-function L1 of `object_max_entries` and
  /// `object_function_max_bytes`, reserved from the cache's `object_max_bytes`, and never
  /// reach L2.
  /// Throws cachekit::error: errc::invalid_argument when `name` is empty or `name` or `ns` is
  /// not UTF-8; errc::invalid_configuration in object mode when `object_max_bytes` is used up.
  template <class F>
  [[nodiscard]] memoized<std::decay_t<F>> memoize(std::string_view name, F&& fn,
                                                  const memoize_options& options = {});

  /// As `memoize`, in interop mode: the key is `{ns}:{operation}:{hash of the arguments in
  /// order}` and the value plain MessagePack, shared with the interop mode of the other SDKs.
  /// Throws cachekit::error: errc::invalid_key when `ns` or `operation` is not a valid interop
  /// segment; errc::invalid_configuration when the L2 rewrites keys (a tenant-scoped Redis
  /// layout or a memcached key prefix), since other SDKs would not find the entries.
  template <class F>
  [[nodiscard]] memoized<std::decay_t<F>> memoize_interop(std::string_view ns,
                                                          std::string_view operation, F&& fn,
                                                          const memoize_options& options = {});

  // ---- typed values --------------------------------------------------------------------

  /// The value stored under `key` (`ns:{ns}:{key}` with a namespace) decoded as `T`, or
  /// nullopt on a miss. A corrupt entry or one that does not decode as `T` is a miss (evicted,
  /// counted). Errors: the L2's (errc_group::retry, e.g. errc::transient) when L1 missed and the
  /// L2 could not be read.
  template <class T>
  [[nodiscard]] result<std::optional<T>> get(std::string_view key,
                                             const entry_options& options = {}) const;

  /// Stores `value` under `key` in L1 and L2. Errors: errc::value_too_large above
  /// `max_value_bytes`; encoding errors of `T`'s codec; the L2's errors (L1 was written).
  template <class T>
  [[nodiscard]] result<void> set(std::string_view key, const T& value,
                                 const entry_options& options = {});

  /// `get` of several keys with one L2 round trip: L1 first for each key, then ONE read of
  /// every L1 miss (`backend::get_many_with_ttl`), backfilling L1 as `get` does. The values in
  /// the order of `keys` (duplicates allowed), nullopt for a miss or an entry that does not
  /// decode as `T` (evicted, counted). Errors: the L2's when it could not be read (then no
  /// value is returned, as `get` returns none). Thread-safe.
  ///
  ///     const std::array<std::string_view, 2> keys = {"a", "b"};
  ///     auto values = cache.get_many<std::string>(keys).value();  // values[1]: "b"'s
  template <class T>
  [[nodiscard]] result<std::vector<std::optional<T>>> get_many(
      std::span<const std::string_view> keys, const entry_options& options = {}) const;

  /// `set` of several entries with one L2 round trip: each encoded and kept in L1, then ONE
  /// write of all (`backend::set_many`). Nothing is stored when one value fails to encode (its
  /// error is returned). Errors: errc::value_too_large for an entry above `max_value_bytes`
  /// (the others are stored), the L2's (L1 was written). Thread-safe.
  ///
  ///     std::vector<std::pair<std::string_view, int>> items = {{"a", 1}, {"b", 2}};
  ///     cache.set_many<int>(items, {.ttl = 60s}).value();
  template <class T>
  [[nodiscard]] result<void> set_many(std::span<const std::pair<std::string_view, T>> items,
                                      const entry_options& options = {});

  /// Removes the entry from L1 and L2; returns whether L2 held it. Errors: the L2's.
  [[nodiscard]] result<bool> erase(std::string_view key, const entry_options& options = {});

  /// What `memoized::invalidate_all()` does, for a function this process has not memoized (a
  /// maintenance job, a service that only writes): every entry of `function_name` memoized
  /// with `options.ns`, written by any process, cachekit-py's included, is dropped from L2 (key
  /// registry, else prefix walk) and this process's L1, and other processes' listeners are
  /// told. Returns how many L2 entries went. Errors: errc::invalid_argument for a name
  /// `memoize` would refuse; the L2's (counted and reported; nothing is published then).
  ///
  ///     cache.invalidate_function("myapp.users.get_user", {.ns = "users"});
  [[nodiscard]] result<std::size_t> invalidate_function(std::string_view function_name,
                                                        const memoize_options& options = {});
  /// Whether a live entry exists in L1 or L2. Errors: the L2's.
  [[nodiscard]] result<bool> exists(std::string_view key, const entry_options& options = {});
  /// The L2 entry's remaining TTL (L1 when there is no L2). Errors: the L2's.
  [[nodiscard]] result<remaining_ttl> ttl(std::string_view key, const entry_options& options = {});
  /// Gives the L2 entry a new TTL (nullopt: no expiry) and drops the L1 copy so the next read
  /// takes the new expiry; returns whether the entry existed. Errors: the L2's.
  [[nodiscard]] result<bool> touch(std::string_view key, ttl_seconds ttl,
                                   const entry_options& options = {});

  /// `get` without a thread waiting for L2 (docs/async.md): an L1 hit gives a ready future;
  /// otherwise the L2 read is queued and batched with others by the cache's dispatcher threads
  /// (`cache_options::async`), and the future is satisfied on a dispatcher thread, after the
  /// L1 backfill. The future's value is what `get` returns: the value, nullopt on a miss (a
  /// corrupt entry or one that does not decode as `T` is evicted, counted, and a miss), or the
  /// L2's error (errc::circuit_open, errc::timeout ...); errc::backpressure when
  /// `async.max_pending` requests already wait. A read still queued when the cache is
  /// destroyed: the future throws std::future_error (broken_promise); after that, reads run on
  /// the caller's thread. The key and options are copied. Thread-safe.
  ///
  ///     auto f = cache.get_async<std::string>("greeting", {.ns = "demo"});
  ///     std::optional<std::string> g = f.get().value();
  template <class T>
  [[nodiscard]] std::future<result<std::optional<T>>> get_async(
      std::string_view key, const entry_options& options = {}) const;

  /// `set` with the L2 write queued and batched (one `set_many` per batch): the value is
  /// encoded, sealed and written to L1 on this thread; the future completes when L2 has answered
  /// (on a dispatcher thread), with what `set` returns: errors of encoding and sealing,
  /// errc::value_too_large, or the L2's (the batch's first error: a batch is one round trip;
  /// the write is kept for the write-back after an outage, as `set`'s). Beyond
  /// `async.max_pending`, and after the cache is destroyed, L2 is written on this thread as
  /// `set` does. Writes still queued when the cache is destroyed are flushed by its destructor
  /// (in batches, bounded by the L2's timeouts and breaker). Thread-safe.
  template <class T>
  [[nodiscard]] std::future<result<void>> set_async(std::string_view key, const T& value,
                                                    const entry_options& options = {});

  // ---- raw bytes -----------------------------------------------------------------------

  /// The bytes stored under `key` exactly as stored (no envelope, no decryption), from L1 or
  /// L2. Errors: the L2's.
  [[nodiscard]] result<std::optional<byte_buffer>> get_bytes(std::string_view key);
  /// Stores `bytes` under `key` as they are. Errors: errc::value_too_large; the L2's.
  [[nodiscard]] result<void> set_bytes(std::string_view key, byte_view bytes,
                                       ttl_seconds ttl = std::nullopt);

  // ---- introspection -------------------------------------------------------------------

  /// The L2's health probe (Redis PING, memcached version, a file-system check ...), as
  /// cachekit-py's `health_check()`; an L1-only cache reports healthy with type "none". The
  /// details add each layer's state: `circuit_breaker` (closed/open/half_open) and its counts,
  /// `backpressure_in_flight` / `_waiting` / `_rejected`, `retries`, the fault counters of
  /// `stats()`, `last_l2_error` (the latest one reported), `l1_entries` and `l1_bytes`.
  /// Blocks for at most the backend's timeouts (200 ms each for Redis by default). Never throws
  /// except on allocation failure.
  [[nodiscard]] backend_health health() const;

  /// Fault counters (see `cache_stats`).
  [[nodiscard]] cache_stats stats() const;
  /// The L1's counters and sizes (zeros when L1 is disabled).
  [[nodiscard]] l1_stats l1() const;
  /// The L2 backend, or nullptr for an L1-only cache.
  [[nodiscard]] backend* l2() const noexcept;
  /// The options the cache was built with (the keyring stays inside).
  [[nodiscard]] const cache_options& options() const noexcept;

  /// Waits until no background refresh (`cache_options::swr`) of this cache's memoized
  /// functions waits or runs in this process, or until `timeout` (real time) has passed;
  /// returns whether none is left. For tests and orderly shutdowns: refreshes otherwise finish
  /// on their own, and destroying the cache with its functions drops those still waiting.
  bool wait_for_refreshes(std::chrono::milliseconds timeout);

  /// Low-level access for `memoized` and tests: the storage-format index of a mode.
  [[nodiscard]] int format_index(
      bool interop, bool integrity_checking,
      serializer_kind serializer = serializer_kind::standard) const noexcept;
  /// The serializer of a memoized function: its own, else the cache's. Throws cachekit::error
  /// (errc::invalid_configuration) for one the cache cannot write (json/auto when encrypted).
  [[nodiscard]] serializer_kind memoize_serializer(const memoize_options& options) const;

 private:
  [[nodiscard]] result<std::optional<byte_buffer>> load_value(std::string_view key,
                                                              const entry_options& options) const;
  [[nodiscard]] result<void> store_value(std::string_view key, byte_view msgpack,
                                         const entry_options& options);
  void reject_value(std::string_view key, const entry_options& options, const failure& why) const;
  // The batch halves of get_many / set_many (src/cache/cache_batch.cpp).
  [[nodiscard]] result<std::vector<std::optional<byte_buffer>>> load_values(
      std::span<const std::string_view> keys, const entry_options& options) const;
  [[nodiscard]] result<void> store_values(std::span<const std::string_view> keys,
                                          std::span<const byte_buffer> msgpack,
                                          const entry_options& options);
  // `function`: the name the key registry id is derived from (the memoized name, or the
  // interop operation).
  [[nodiscard]] std::shared_ptr<detail::memo_binding> bind(bool interop,
                                                           const memoize_options& options,
                                                           std::string key_space,
                                                           std::string_view function) const;
  [[nodiscard]] std::size_t object_max_entries() const noexcept;
  [[nodiscard]] bool object_mode() const noexcept;
  void require_unprefixed_l2_for_interop() const;
  static void require_function_name(std::string_view name);
  [[nodiscard]] const monotonic_clock* clock() const noexcept;

  // The asynchronous read of `get_async`: `use` gets `load_value`'s outcome (on this thread
  // for an L1 hit, else on a dispatcher thread) and returns the failure of a decode, which
  // evicts the entry.
  using stored_value_use =
      std::function<std::optional<failure>(result<std::optional<byte_buffer>>)>;
  void load_value_async(std::string_view key, const entry_options& options,
                        stored_value_use use) const;
  [[nodiscard]] std::future<result<void>> store_value_async(std::string_view key, byte_view msgpack,
                                                            const entry_options& options);

  std::shared_ptr<detail::cache_engine> engine_;
};

// ---- implementation ------------------------------------------------------------------------

namespace detail {
// Longest argument pre-image a bytes-mode memoized function keys its L1 copies by; longer calls
// use the protocol key (an L1 key weighs on the L1 budget, a hash does not grow).
inline constexpr std::size_t max_exact_l1_key = 128;
}  // namespace detail

template <class F>
memoized<std::decay_t<F>> cache::memoize(std::string_view name, F&& fn,
                                         const memoize_options& options) {
  using memo = memoized<std::decay_t<F>>;
  require_function_name(name);
  const bool objects = object_mode();
  const bool integrity =
      objects ? false : options.integrity_checking.value_or(this->options().integrity_checking);
  const serializer_kind kind = objects ? serializer_kind::standard : memoize_serializer(options);
  default_key_builder builder(
      name, {.ns = options.ns,
             .integrity_checking = integrity,
             .serializer = objects ? std::string("local") : std::string(serializer_name(kind))});
  // Object mode keys its per-function L1 by the arguments' exact pre-image (no hash) unless the
  // arguments are long; the protocol key stays what `key()` reports.
  typename memo::key_function object_keys = nullptr;
  if (objects) {
    object_keys = [builder](const auto&... args) -> result<std::string> {
      // Declared here, not outside: a constant the lambda reads without capturing it counts
      // as set but unused in the enclosing function for GCC's -Wunused-but-set-variable.
      constexpr std::size_t max_exact_key = 256;
      auto exact = builder.preimage_of(args...);
      if (exact && exact->size() > max_exact_key) return builder(args...);
      return exact;
    };
  }
  std::string key_space = builder.key_space_prefix();
  // Bytes mode keys L1 by the key space and the pre-image (no hash on a hit) unless the
  // arguments are long or the entries are encrypted (the AAD binds the protocol key).
  typename memo::key_function l1_keys = nullptr;
  // With an L1 coherence mode, events name copies by their L2 key: L1 uses it too.
  if (!objects && !this->options().encryption && this->options().l1_enabled &&
      this->options().coherence == l1_coherence::ttl_only) {
    l1_keys = [builder,
               prefix = builder.local_key_prefix()](const auto&... args) -> result<std::string> {
      auto exact = builder.prefixed_preimage_of(prefix, args...);
      if (exact && exact->size() > prefix.size() + detail::max_exact_l1_key) {
        return builder(args...);
      }
      return exact;
    };
  }
  auto s = std::make_shared<typename memo::state>(typename memo::state{
      std::forward<F>(fn),
      [builder = std::move(builder)](const auto&... args) { return builder(args...); },
      std::move(object_keys), nullptr, nullptr, std::move(l1_keys)});
  if (objects) {
    const std::size_t max_entries = object_max_entries();
    const auto ttl =
        options.ttl.value_or(this->options().default_ttl.value_or(this->options().l1_default_ttl));
    using result_type = typename memo::result_type;
    const std::size_t budget = this->options().object_function_max_bytes;
    s->objects.reset(new typename memo::object_state{
        object_cache<result_type>(
            {.max_entries = max_entries,
             .max_weight = budget,
             .weigher = [](const result_type& r) { return footprint(r) + object_entry_overhead; },
             .weigh_keys = true,
             .default_ttl = ttl,
             .clock = clock()}),
        max_entries, detail::object_binding(engine_, this->options().collect_stats, budget)});
  } else {
    s->binding = bind(false, options, std::move(key_space), name);
  }
  return memo(std::move(s));
}

template <class F>
memoized<std::decay_t<F>> cache::memoize_interop(std::string_view ns, std::string_view operation,
                                                 F&& fn, const memoize_options& options) {
  using memo = memoized<std::decay_t<F>>;
  if (auto ok = validate_interop_namespace(ns); !ok)
    throw error(ok.error().code, ok.error().detail);
  if (auto ok = validate_interop_operation(operation); !ok)
    throw error(ok.error().code, ok.error().detail);
  require_unprefixed_l2_for_interop();
  if (options.serializer && *options.serializer != serializer_kind::standard) {
    throw error(errc::invalid_configuration,
                "memoize_interop stores canonical MessagePack, which has no serializer choice; "
                "leave memoize_options.serializer unset (or use memoize for the \"" +
                    std::string(serializer_name(*options.serializer)) + "\" serializer)");
  }
  std::string key_space = std::string(ns) + ':' + std::string(operation) + ':';
  // L1 keyed by the canonical arguments, as `memoize` does with its pre-image.
  typename memo::key_function l1_keys = nullptr;
  if (!this->options().encryption && this->options().l1_enabled && !object_mode() &&
      this->options().coherence == l1_coherence::ttl_only) {
    l1_keys = [space = key_space, ns = std::string(ns),
               op = std::string(operation)](const auto&... args) -> result<std::string> {
      auto exact = detail::interop_prefixed_preimage(space, args...);
      if (exact && exact->size() > space.size() + detail::max_exact_l1_key) {
        return interop_key_for(ns, op, args...);
      }
      return exact;
    };
  }
  auto s = std::make_shared<typename memo::state>(typename memo::state{
      std::forward<F>(fn),
      [ns = std::string(ns), op = std::string(operation)](const auto&... args) {
        return interop_key_for(ns, op, args...);
      },
      nullptr, nullptr, nullptr, std::move(l1_keys)});
  s->binding = bind(true, options, std::move(key_space), operation);
  if (!options.ns) s->binding->ns = std::string(ns);
  return memo(std::move(s));
}

template <class T>
result<std::optional<T>> cache::get(std::string_view key, const entry_options& options) const {
  auto stored = load_value(key, options);
  if (!stored) return stored.error();
  if (!*stored) return std::optional<T>{};
  auto decoded = detail::stored_value_codec<T>::decode(**stored, options.interop);
  if (!decoded) {
    reject_value(key, options, decoded.error());
    return std::optional<T>{};
  }
  return std::optional<T>{std::move(*decoded)};
}

template <class T>
std::future<result<std::optional<T>>> cache::get_async(std::string_view key,
                                                       const entry_options& options) const {
  auto promise = std::make_shared<std::promise<result<std::optional<T>>>>();
  auto out = promise->get_future();
  load_value_async(key, options,
                   [promise, interop = options.interop](
                       result<std::optional<byte_buffer>> stored) -> std::optional<failure> {
                     if (!stored) {
                       promise->set_value(stored.error());
                       return std::nullopt;
                     }
                     if (!*stored) {
                       promise->set_value(std::optional<T>{});
                       return std::nullopt;
                     }
                     auto decoded = detail::stored_value_codec<T>::decode(**stored, interop);
                     if (!decoded) {
                       promise->set_value(std::optional<T>{});
                       return std::move(decoded).error();
                     }
                     promise->set_value(std::optional<T>{std::move(*decoded)});
                     return std::nullopt;
                   });
  return out;
}

template <class T>
std::future<result<void>> cache::set_async(std::string_view key, const T& value,
                                           const entry_options& options) {
  auto encoded = detail::stored_value_codec<T>::encode(value, options.interop);
  if (!encoded) {
    std::promise<result<void>> failed;
    failed.set_value(encoded.error());
    return failed.get_future();
  }
  return store_value_async(key, *encoded, options);
}

template <class T>
result<void> cache::set(std::string_view key, const T& value, const entry_options& options) {
  auto encoded = detail::stored_value_codec<T>::encode(value, options.interop);
  if (!encoded) return encoded.error();
  return store_value(key, *encoded, options);
}

template <class T>
result<std::vector<std::optional<T>>> cache::get_many(std::span<const std::string_view> keys,
                                                      const entry_options& options) const {
  auto stored = load_values(keys, options);
  if (!stored) return std::move(stored).error();
  std::vector<std::optional<T>> out(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!(*stored)[i]) continue;
    auto decoded = detail::stored_value_codec<T>::decode(*(*stored)[i], options.interop);
    if (!decoded) {
      reject_value(keys[i], options, decoded.error());
      continue;
    }
    out[i].emplace(std::move(*decoded));
  }
  return out;
}

template <class T>
result<void> cache::set_many(std::span<const std::pair<std::string_view, T>> items,
                             const entry_options& options) {
  std::vector<std::string_view> keys;
  std::vector<byte_buffer> encoded;
  keys.reserve(items.size());
  encoded.reserve(items.size());
  for (const auto& [key, value] : items) {
    auto bytes = detail::stored_value_codec<T>::encode(value, options.interop);
    if (!bytes) return std::move(bytes).error();
    keys.push_back(key);
    encoded.push_back(std::move(*bytes));
  }
  return store_values(keys, encoded, options);
}

}  // namespace v0
}  // namespace cachekit
