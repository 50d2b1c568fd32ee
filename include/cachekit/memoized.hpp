/// @file
/// `memoized<F>`: the callable `cache::memoize` returns, the C++ counterpart of a function
/// decorated with cachekit-py's `@cache`.
///
///     auto get_user = cache.memoize("myapp.users.get_user", fetch_user, {.ttl = 10min});
///     user u = get_user(42);      // miss: runs fetch_user, stores the result in L1 and L2
///     u = get_user(42);           // L1 hit
///     get_user.invalidate(42);    // drops the L1 and L2 entries of these arguments
///     cachekit::cache_info info = get_user.info();
///
/// A call derives the key from its arguments (the default key of `default_key.hpp`, or the
/// interop key for `memoize_interop`), serves L1, then L2 (backfilling L1 for no longer than the
/// L2 entry has left), else runs the function and stores its result. Without encryption, L1
/// copies are kept under `default_key_builder::local_key_prefix()` (interop: `{ns}:{operation}:`)
/// followed by the arguments' pre-image (up to 128 bytes; longer calls use the key), so an L1
/// hit skips the BLAKE2b hash; L1 still holds the stored bytes and a hit still checks them
/// (frame, envelope checksum) before decoding. The cache never makes a call fail: an
/// unreachable L2, a corrupt entry (evicted, counted) or an argument that cannot be keyed means
/// the function runs and its result is returned. Exceptions thrown by the function reach the
/// caller and nothing is stored. One exception: under `encryption_options::fail_closed`, an
/// entry that fails authentication throws `cachekit::error` (errc_group::security) instead of
/// running the function.
///
/// Stale-while-revalidate (`cache_options::swr`, on by default as in cachekit-py): an L1 hit past
/// half of its copy's lifetime returns at once and has the function called again in the
/// background, once per key, with copies of the arguments; its result replaces the entry in L1
/// and L2 unless the key was invalidated, cleared or written again meanwhile. Functions whose
/// parameters are views, pointers or non-const references never refresh (compile time). An L2
/// that serves an entry past its TTL inside the stale-grace window its writer asked for
/// (cachekit.io with `cachekitio_options::stale_while_revalidate`, the `io` preset) is treated
/// the same way: the stale value returns at once (never copied to L1) and one background call
/// per key and process, under the backend's lock as a lease (another client holding it
/// revalidates instead), replaces it in L1 and L2. With
/// `cache_options::serve_stale_for`, a call whose function throws returns the key's recently
/// expired L1 copy instead (never written back to L2). `info()` counts `refreshes`,
/// `refresh_failures` and `stale_served`.
///
/// Asynchronous calls (`async`, `async_then`; docs/async.md): an L1 hit completes at once, an L2
/// read waits in the cache's dispatcher queue (batched, no thread held), a miss runs the function
/// on the cache's function pool.
///
/// Thread safety: calls, `invalidate`, `clear` and `info` are thread-safe (the function itself
/// is called concurrently when callers miss together, and from the cache's refresh thread).
/// Copies share the function and the counters, as re-decorating a Python function shares its
/// counters. A background refresh that has started when the last copy of the function is
/// destroyed runs to its end; none starts after that.
#pragma once

#include <cachekit/cache_options.hpp>
#include <cachekit/call_result.hpp>
#include <cachekit/codec.hpp>
#include <cachekit/default_key.hpp>
#include <cachekit/flight_table.hpp>
#include <cachekit/interop_key.hpp>
#include <cachekit/many_options.hpp>
#include <cachekit/object_cache.hpp>
#include <cachekit/tenant_scope.hpp>
#include <cachekit/value_codec.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {

class cache;

namespace detail {

// ---- the callable's signature -------------------------------------------------------------

// Hidden from doxygen, which reads this as deriving from itself.
/// \cond
template <class T>
struct callable_traits : callable_traits<decltype(&T::operator())> {};
/// \endcond
template <class R, class... P>
struct callable_traits<R (*)(P...)> {
  using signature = R(P...);
};
template <class R, class... P>
struct callable_traits<R (*)(P...) noexcept> : callable_traits<R (*)(P...)> {};
template <class R, class... P>
struct callable_traits<R(P...)> : callable_traits<R (*)(P...)> {};
template <class R, class... P>
struct callable_traits<R(P...) noexcept> : callable_traits<R (*)(P...)> {};
// QUALIFIERS is a list of qualifiers (`const &`), which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CACHEKIT_MEMBER_CALL_TRAITS(QUALIFIERS) \
  template <class C, class R, class... P>       \
  struct callable_traits<R (C::*)(P...) QUALIFIERS> : callable_traits<R (*)(P...)> {};
CACHEKIT_MEMBER_CALL_TRAITS()
CACHEKIT_MEMBER_CALL_TRAITS(const)
CACHEKIT_MEMBER_CALL_TRAITS(noexcept)
CACHEKIT_MEMBER_CALL_TRAITS(const noexcept)
CACHEKIT_MEMBER_CALL_TRAITS(&)
CACHEKIT_MEMBER_CALL_TRAITS(const&)
#undef CACHEKIT_MEMBER_CALL_TRAITS
// NOLINTEND(bugprone-macro-parentheses)

template <class F>
concept has_call_signature = requires {
  typename callable_traits<std::decay_t<F>>::signature;
};

template <class F>
struct memoize_signature {
  static_assert(has_call_signature<F>,
                "cachekit::memoize needs one call signature to derive keys from: wrap a generic "
                "or overloaded callable in a lambda with explicit parameter types, e.g. "
                "[&](std::int64_t id) { return fetch(id); }");
  using type = typename callable_traits<std::decay_t<F>>::signature;
};

// ---- how results become bytes in each storage mode ---------------------------------------

// A typed result is packed as msgpack-python packs the same data (typed_packer.hpp); in interop
// mode those bytes are rewritten canonically by the one interop encoder. Decoding reads stored,
// untrusted bytes: whatever a codec throws (std::bad_alloc included, or a user codec's own
// exception) becomes a failure, which the cache counts as a corrupt entry.
template <class T>
struct stored_value_codec {
  static result<byte_buffer> encode(const T& v, bool interop) {
    auto packed = codec<T>::encode(v);
    if (!interop || !packed) return packed;
    return standard_to_interop(*packed);
  }
  static result<T> decode(byte_view bytes, bool /*interop*/) {
    return guarded_decode([bytes] { return codec<T>::decode(bytes); });
  }

  template <class Decode>
  static result<T> guarded_decode(Decode&& decode) {
    try {
      return decode();
    } catch (const std::bad_alloc&) {
      return fail(errc::length_limit, "decoding the stored value ran out of memory");
    } catch (const std::exception& e) {
      return fail(errc::malformed, std::string("decoding the stored value threw: ") + e.what());
    } catch (...) {
      return fail(errc::malformed, "decoding the stored value threw a non-standard exception");
    }
  }
};
// A dynamic value is written as cachekit-py writes it in each mode (datetime sentinels in frame
// mode, canonical interop MessagePack in interop mode).
template <>
struct stored_value_codec<value> {
  static result<byte_buffer> encode(const value& v, bool interop) {
    return interop ? encode_interop_value(v) : encode_standard_value(v);
  }
  static result<value> decode(byte_view bytes, bool interop) {
    // The value decoders return failures for everything, running out of memory included.
    return interop ? decode_interop_value(bytes) : decode_standard_value(bytes);
  }
};

// ---- the non-template engine (src/cache/) -------------------------------------------------

class cache_engine;

/// Which layer answered a lookup. `left_in_place` is a miss whose entry this reader must leave
/// alone: sealed for another tenant (multi-tenant keys carry no tenant), or a Python-only value
/// of cachekit-py's auto serializer (NumPy, pandas, Arrow). The call runs and its result is not
/// stored, so it never overwrites an entry that is valid for another reader.
///
/// `l2_failed`: L2 could not be read for this call (down, timed out, breaker open): the call
/// runs the function without taking the fill lock, which would fail the same way.
///
/// `l2_stale`: L2 served the entry past its fresh TTL, inside the stale-grace window its writer
/// asked for (`timed_value::stale`): returned, not copied to L1, and refreshed in the background.
enum class served_by : std::uint8_t { nothing, l1, l2, left_in_place, l2_failed, l2_stale };

/// The counters behind `memoized::info()`; shared by copies of one memoized function. Striped
/// over cache-line-sized slots picked per thread, so concurrent hits do not bounce one line.
class CACHEKIT_EXPORT function_stats {
 public:
  void record_l1_hit() noexcept;
  void record_l2_hit() noexcept;
  void record_miss() noexcept;
  void record_l2_latency(std::chrono::nanoseconds elapsed) noexcept;
  /// Fail-safe stale (cache_options::serve_stale_for) and SWR refreshes: rare, so unstriped.
  void record_stale_served() noexcept;
  void record_refresh(bool succeeded) noexcept;
  void reset() noexcept;
  [[nodiscard]] cache_info snapshot() const noexcept;

 private:
  static constexpr std::size_t stripe_count = 8;
  struct alignas(64) stripe {
    std::atomic<std::uint64_t> l1_hits{0};
    std::atomic<std::uint64_t> l2_hits{0};
    std::atomic<std::uint64_t> misses{0};
    std::atomic<std::uint64_t> l2_reads{0};
    std::atomic<std::uint64_t> l2_nanos{0};
  };
  [[nodiscard]] stripe& mine() noexcept;
  void touch() noexcept;
  std::array<stripe, stripe_count> stripes_{};
  alignas(64) std::atomic<std::int64_t> last_operation_us_{0};  // unix microseconds; 0 = never
  std::atomic<std::uint64_t> stale_served_{0};
  std::atomic<std::uint64_t> refreshes_{0};
  std::atomic<std::uint64_t> refresh_failures_{0};
};

/// What a memoized function shares with the engine: its storage mode, TTL and key space. It
/// holds no per-key state: its size does not grow with the number of distinct calls.
struct CACHEKIT_EXPORT memo_binding {
  std::shared_ptr<cache_engine> engine;
  int format = 0;  ///< engine storage-format index (frame with/without integrity, interop)
  bool interop = false;
  ttl_seconds ttl;
  bool collect_stats = true;
  /// Whether the cache has observers (`cache_options::observers`): misses are then told to
  /// them too. The memoize namespace (`memoize_options::ns`, the interop namespace), for them.
  bool observed = false;
  std::string ns;
  /// The prefix all the function's keys start with (`default_key_builder::key_space_prefix`,
  /// or `{ns}:{operation}:` in interop mode); `clear()` erases by it. Never empty.
  std::string key_space;
  /// cachekit-py's key registry id of the function (`ck:reg:{ns}:{blake3_16(name)}`): L2 writes
  /// record their key there when the backend keeps a registry; events name the function by it.
  std::string registry;
  function_stats stats;
  /// Concurrent misses of one key in this process share one call of the function.
  flight_table flights;

  /// Looks the entry up in L1 under `l1_key` and opens it; nullopt on a miss. `l1_key` is the
  /// protocol key, or (unencrypted caches) the call's pre-image key (see `memoized_impl`).
  /// Never fails: faults are counted, reported and treated as misses.
  /// `refresh_from` (SWR): see `cache_engine::load_l1`; a claimed refresh must be submitted
  /// or ended.
  [[nodiscard]] std::optional<byte_buffer> load_l1(
      std::string_view l1_key, served_by& layer,
      std::optional<monotonic_clock::time_point>* refresh_from = nullptr);
  /// Looks `key` up in L2 and opens the entry, backfilling L1 under `l1_key`; nullopt on a miss.
  /// Never fails, as `load_l1`.
  [[nodiscard]] std::optional<byte_buffer> load_l2(std::string_view key, std::string_view l1_key,
                                                   served_by& layer);
  // ---- batch calls (memoized::many; src/cache/memo_batch.cpp) -------------------------------
  /// `load_l2` of several keys in ONE L2 round trip (`backend::get_many_with_ttl`, through the
  /// reliability wrappers): `found[i]` and `layers[i]` as `load_l2` would give for `keys[i]`.
  /// Never fails: an L2 failure makes every layer `l2_failed`.
  void load_l2_many(std::span<const std::string_view> keys,
                    std::span<const std::string_view> l1_keys,
                    std::vector<std::optional<byte_buffer>>& found, std::vector<served_by>& layers);
  /// One result of a batch to store.
  struct batch_store {
    std::string_view key;
    std::string_view l1_key;
    byte_view msgpack;
  };
  /// `store` of several results: L1 each, then ONE L2 write (`backend::set_many`, recorded in
  /// the function's registry when the backend keeps one); `write_l2` as `store`.
  void store_many(std::span<const batch_store> items, bool write_l2);

  /// Seals `msgpack` and writes it to L1 (under `l1_key`) and, with `write_l2`, L2 (under
  /// `key`). A call whose L2 read just failed writes L1 only: the write would most likely wait
  /// out the same timeout, doubling what the outage costs the caller. Returns whether every
  /// write asked for succeeded (failures are counted and reported by the cache).
  bool store(std::string_view key, std::string_view l1_key, byte_view msgpack,
             bool write_l2 = true);
  /// After a miss of `key`: the distributed fill lock (cache_options::fill_lock). Either the
  /// lock is now held (`lock`; run the function, store, then `release_fill`), or another
  /// process stored the value meanwhile (`filled`, opened as `load_l2` opens it), or neither
  /// (no lock to take, or the wait ran out: run the function). Never fails.
  struct fill_result {
    std::optional<byte_buffer> filled;
    std::optional<lock_token> lock;
  };
  [[nodiscard]] fill_result await_fill(std::string_view key, std::string_view l1_key,
                                       served_by& layer);
  void release_fill(const lock_token& lock) noexcept;
  /// An entry that opened but did not decode as the result type: evicts it (L1 under `key` and
  /// `l1_key`, L2 under `key`) and counts it.
  void reject(std::string_view key, std::string_view l1_key, const failure& why,
              cache_layer layer = cache_layer::l2);
  /// A call that ran the function: counted in `info()`, told to observers.
  void count_miss() {
    if (collect_stats) stats.record_miss();
    if (observed) [[unlikely]]
      observe_miss();
  }
  void observe_miss() const noexcept;
  /// The key could not be derived or the result could not be encoded: counted, reported.
  void uncacheable(const failure& why);
  void invalidate(std::string_view key, std::string_view l1_key);
  /// `key` as the L2 stores it (behind `backend::key_prefix`); `key` itself without an L2.
  [[nodiscard]] std::string stored_key(std::string_view key) const;

  // ---- stale-while-revalidate and fail-safe stale (cache_options::swr, serve_stale_for) ----
  /// Whether the cache refreshes in the background (the function must also be refreshable).
  bool swr = false;
  /// Whether a call whose function threw may return a kept expired L1 copy.
  bool serve_stale = false;
  /// Queues `job` on the cache's refresh threads; false (job destroyed unrun) when full.
  bool submit_refresh(std::function<void()> job);
  /// Ends the refresh claimed on the L1 copy of `l1_key` written at `from`.
  void end_refresh(std::string_view l1_key, monotonic_clock::time_point from, bool failed);
  /// Stores a refresh's result unless the copy written at `from` was erased or replaced
  /// meanwhile (`cache_engine::land_refresh`). Errors are counted and reported.
  [[nodiscard]] result<bool> land_refresh(std::string_view key, std::string_view l1_key,
                                          byte_view msgpack, monotonic_clock::time_point from);
  /// Whether L2 already holds a value of `key` fresh enough to refresh the L1 copy written at
  /// `from` with (another process refreshed it); copies it to L1 then
  /// (`cache_engine::adopt_fresh_l2`).
  [[nodiscard]] bool adopt_fresh_l2(std::string_view key, std::string_view l1_key,
                                    monotonic_clock::time_point from);
  /// Before a stale entry's refresh: the revalidation lease (saas-api.md "Revalidation flow"),
  /// one non-blocking try of `key`'s distributed lock. `proceed` false: another client holds it
  /// and revalidates, or the lock request failed (a later stale read tries again). `lock`: held,
  /// to `release_fill` after the refresh; none with `proceed`: the backend has no locks.
  struct refresh_lease {
    bool proceed = false;
    std::optional<lock_token> lock;
  };
  [[nodiscard]] refresh_lease try_refresh_lease(std::string_view key);
  /// After L2 served `key` stale (`served_by::l2_stale`): the claim on its background refresh,
  /// to hold until the refresh ends; null when SWR is off or this process already refreshes it
  /// (`cache_engine::claim_stale_refresh`).
  [[nodiscard]] std::shared_ptr<const void> claim_stale_refresh(std::string_view key) noexcept;
  /// The kept (live or recently expired) L1 copy of `l1_key`, opened; nullopt when none.
  [[nodiscard]] std::optional<byte_buffer> load_l1_kept(std::string_view l1_key);
  void record_stale_served() noexcept;

  /// Every entry of the function, from every process (`cache_engine::invalidate_function`):
  /// the key registry, and with `walk_prefix` the L2 prefix walk too. Failures are counted and
  /// reported; returns whether L2 was reached.
  bool invalidate_all(bool walk_prefix);
  /// Resets the counters, then `invalidate_all(true)`.
  void clear();
  [[nodiscard]] cache_info info() const;

  // ---- asynchronous calls (memoized::async; src/cache/memo_async.cpp) -----------------------
  /// `load_l2` without a thread waiting: `then(found, layer)` runs on a dispatcher thread with
  /// what `load_l2` would give, or on this thread when the read was not queued (no L2, queue
  /// full or stopped: `l2_failed`).
  void load_l2_async(std::string_view key, std::string_view l1_key,
                     std::function<void(std::optional<byte_buffer>, served_by)> then);
  /// `store` with the L2 write queued on the dispatcher (batched into one `set_many`).
  void store_async(std::string_view key, std::string_view l1_key, byte_view msgpack,
                   bool write_l2 = true);
  /// Runs `job` on the cache's function pool, or on this thread when the pool refuses it (full,
  /// or the cache is gone).
  void run_async(std::function<void()> job);
  /// Asynchronous single-flight of `key`: true when this call leads (it must `finish_async`);
  /// else `then` is called by the leader's `finish_async` with its value (as an L1 hit, counted)
  /// or its exception.
  using async_outcome =
      std::function<void(std::shared_ptr<const void>, std::exception_ptr, call_source)>;
  [[nodiscard]] bool join_async(std::string_view key, async_outcome then);
  void finish_async(std::string_view key, const std::shared_ptr<const void>& value,
                    const std::exception_ptr& error) noexcept;

  memo_binding(std::shared_ptr<cache_engine> e, int fmt, bool is_interop, ttl_seconds entry_ttl,
               bool stats_on, std::string function_key_space);
};

/// Runs `job(0)` .. `job(count - 1)`, on up to `parallelism` threads (the caller's among them;
/// 1: all on the caller's). `job` must not throw. Returns when every job has run.
CACHEKIT_EXPORT void run_batch_jobs(std::size_t count, std::size_t parallelism,
                                    const std::function<void(std::size_t)>& job);

/// Object mode (`intent::local`): what a function's decoded-results cache shares with the
/// engine, and its share of the cache's `object_max_bytes`, held while it lives.
struct CACHEKIT_EXPORT object_binding {
  std::shared_ptr<cache_engine> engine;
  function_stats stats;
  /// Concurrent misses of one key share one call of the function, as in bytes mode.
  flight_table flights;
  bool collect_stats = true;
  std::size_t reserved_bytes = 0;
  /// Whether the cache has observers; object-mode hits and misses are then told to them.
  bool observed = false;

  void uncacheable(const failure& why);
  void count_hit() {
    if (collect_stats) stats.record_l1_hit();
    if (observed) [[unlikely]]
      observe(op_outcome::hit);
  }
  void count_miss() {
    if (collect_stats) stats.record_miss();
    if (observed) [[unlikely]]
      observe(op_outcome::miss);
  }
  void observe(op_outcome outcome) const noexcept;

  /// Reserves `budget` bytes of the engine's `object_max_bytes`. Throws cachekit::error
  /// (errc::invalid_configuration) when the functions alive already hold too much of it.
  object_binding(std::shared_ptr<cache_engine> e, bool stats_on, std::size_t budget);
  ~object_binding();
  object_binding(const object_binding&) = delete;
  object_binding& operator=(const object_binding&) = delete;
};

// ---- which parameters a background refresh may copy -----------------------------------------

// Whether a copy of a T owns everything it refers to, as far as the type tells: pointers,
// string views, spans and reference wrappers refer to the caller's memory, which a background
// call made after the caller returned must not touch. User types are taken at their word.
template <class T>
struct owns_its_data;
template <class T>
inline constexpr bool owns_its_data_v = owns_its_data<std::remove_cv_t<T>>::value;
template <class T>
struct owns_its_data : std::bool_constant<!std::is_pointer_v<T> && !std::is_member_pointer_v<T> &&
                                          !std::is_reference_v<T>> {};
template <class T>
requires requires {
  typename T::value_type;
}
struct owns_its_data<T> : std::bool_constant<owns_its_data_v<typename T::value_type>> {};
template <class C, class Tr>
struct owns_its_data<std::basic_string_view<C, Tr>> : std::false_type {};
template <class T, std::size_t N>
struct owns_its_data<std::span<T, N>> : std::false_type {};
template <class T>
struct owns_its_data<std::reference_wrapper<T>> : std::false_type {};
template <class A, class B>
struct owns_its_data<std::pair<A, B>>
    : std::bool_constant<owns_its_data_v<A> && owns_its_data_v<B>> {};
template <class... T>
struct owns_its_data<std::tuple<T...>> : std::bool_constant<(owns_its_data_v<T> && ...)> {};

// A parameter a refresh can pass a copy of: by value or by const reference (or rvalue
// reference), of a copyable type that owns its data. A non-const lvalue reference is an
// output the caller expects to see changed: not refreshable.
template <class P>
inline constexpr bool is_output_parameter_v =
    std::is_lvalue_reference_v<P> && !std::is_const_v<std::remove_reference_t<P>>;
template <class P>
inline constexpr bool refreshable_parameter_v =
    !is_output_parameter_v<P> && std::is_copy_constructible_v<std::remove_cvref_t<P>> &&
    owns_its_data_v<std::remove_cvref_t<P>>;

template <class F, class Signature>
class memoized_impl;

template <class F, class R, class... P>
class memoized_impl<F, R(P...)> {
 public:
  using result_type = std::remove_cvref_t<R>;
  static_assert(!std::is_void_v<result_type>,
                "cachekit::memoize: the function returns void, so there is nothing to cache");
  static_assert(std::is_copy_constructible_v<result_type> ||
                    std::is_move_constructible_v<result_type>,
                "cachekit::memoize: the result type must be movable");

  /// The parameter type of a one-parameter function (without references), for `many`.
  struct no_single_parameter {};
  using single_parameter =
      std::tuple_element_t<0, std::tuple<std::remove_cvref_t<P>..., no_single_parameter>>;

  // A batch copies its calls' arguments (held as tuples) into the function: no output
  // parameters, copyable types.
  static constexpr bool batchable =
      ((!is_output_parameter_v<P> && std::is_copy_constructible_v<std::remove_cvref_t<P>>)&&...);

  /// Calls the function through the cache (see the file comment).
  result_type operator()(P... args) const {
    if (state_->objects) return call_objects(args...);
    return call_bytes(args...);
  }

  /// Drops the entries (L1 and L2) of calling with `args`. Does nothing when the arguments
  /// cannot be keyed. L2 failures are counted and reported, not thrown.
  void invalidate(P... args) const {
    if (state_->objects) {
      if (auto local = state_->object_keys(args...)) state_->objects->cache.erase(*local);
    } else if (auto key = make_key(args...)) {
      if (state_->l1_keys) {
        if (auto l1_key = state_->l1_keys(args...)) {
          state_->binding->invalidate(*key, *l1_key);
          return;
        }
      }
      state_->binding->invalidate(*key, *key);
    }
  }

  /// Drops every entry of the function, written by any process (cachekit-py's no-argument
  /// `invalidate_cache()`): on a backend that keeps cachekit-py's key registry (tenant-scoped
  /// Redis) it drains the function's registry set, which Python and C++ writers both fill, in
  /// bounded atomic steps; on others it erases L2 by the prefix all the function's keys share
  /// (Redis plain layout, memory; memcached and file entries live out their TTL). A drain the
  /// server refuses (an ACL user without `@scripting`) falls back to that prefix walk, and the
  /// call succeeds when the walk does (the refusal is still counted). Then this
  /// process's L1 copies, then an invalidation event tells other processes' listeners
  /// (`cache_options::coherence`, cachekit-py's `CACHEKIT_INVALIDATION_LISTENER_ENABLED`) to drop
  /// theirs. Returns false when L2 failed (counted and reported; L1 is emptied all the same and
  /// no event is sent). Object mode: empties this function's objects. Thread-safe.
  ///
  ///     get_user.invalidate_all();  // every user, in every process
  bool invalidate_all() const {
    if (state_->objects) {
      state_->objects->cache.clear();
      return true;
    }
    return state_->binding->invalidate_all(false);
  }

  /// Resets the counters and drops every entry of the function, as cachekit-py's
  /// `cache_clear()` (which is its `invalidate_cache()` plus the counters): `invalidate_all()`,
  /// then, on a backend that can erase by prefix, also a walk of L2 by the function's key prefix,
  /// which reaches entries no registry recorded (written by older C++ releases, or when a
  /// registry write failed) at a cost linear in the size of the L2 keyspace.
  void clear() const {
    if (state_->objects) {
      state_->objects->cache.clear();
      state_->objects->binding.stats.reset();
    } else {
      state_->binding->clear();
    }
  }

  /// Counters since creation or the last `clear()`.
  [[nodiscard]] cache_info info() const {
    if (state_->objects) {
      cache_info info = state_->objects->binding.stats.snapshot();
      info.maxsize = state_->objects->max_entries;
      info.currsize = state_->objects->cache.size();
      return info;
    }
    return state_->binding->info();
  }

  /// Runs the function without the cache (no lookup, no store, not counted), as cachekit-py's
  /// `_bypass_cache=True` call argument.
  result_type uncached(P... args) const {
    return std::invoke(state_->fn, std::forward<P>(args)...);
  }

  /// The arguments of one call of a batch (`many`): the parameters' types without references.
  using arguments = std::tuple<std::remove_cvref_t<P>...>;

  /// Calls the function through the cache once per element of `calls`, paying one L2 round
  /// trip for the whole batch instead of one per call: every call's key, then L1 (hits served
  /// as single calls serve them, background refreshes included), then ONE L2 read of all the
  /// L1 misses (`backend::get_many_with_ttl`, behind the circuit breaker and backpressure),
  /// then the function for each remaining miss, then ONE L2 write of all their results
  /// (`backend::set_many`). Answers are in input order, each with its own outcome: a function
  /// that throws for one call fails that element only (`call_result::error`), and nothing is
  /// stored for it. Calls with equal keys run the function once; a key another caller is
  /// filling right now is waited for (in-process single-flight, as single calls). An L2
  /// failure means every L1 miss runs the function (results then go to L1 only, as a single
  /// call whose read failed). Counters (`info()`) and observers count each element as a
  /// single call would. Not used for batches: the distributed fill lock
  /// (`cache_options::fill_lock`; taking it key by key would cost a round trip per key).
  /// Object mode (`intent::local`): each element is a single call, in order.
  /// `options.parallelism` > 1 runs the misses on that many threads. The arguments are copied
  /// for the calls that run the function. Thread-safe. The only exception it throws is a
  /// `fail_closed` refusal (errc_group::security), as a single call does, or std::bad_alloc.
  ///
  ///     std::vector<std::tuple<std::int64_t, std::string>> calls = {{1, "en"}, {2, "fr"}};
  ///     for (auto& r : get_user.many(calls)) if (r) use(r.value());
  [[nodiscard]] std::vector<call_result<result_type>> many(std::span<const arguments> calls,
                                                           const many_options& options = {}) const
      requires(batchable) {
    std::vector<std::optional<call_result<result_type>>> slots(calls.size());
    if (state_->objects) {
      for (std::size_t i = 0; i < calls.size(); ++i) slots[i].emplace(object_call(calls[i]));
    } else {
      many_bytes(calls, options, slots);
    }
    std::vector<call_result<result_type>> out;
    out.reserve(slots.size());
    for (auto& slot : slots) out.push_back(std::move(*slot));
    return out;
  }

  /// `many` for a function of one parameter: one call per element of `args`.
  ///
  ///     auto users = get_user.many(std::vector<std::int64_t>{1, 2, 3});
  [[nodiscard]] std::vector<call_result<result_type>> many(std::span<const single_parameter> args,
                                                           const many_options& options = {}) const
      requires(batchable && sizeof...(P) == 1) {
    std::vector<arguments> calls;
    calls.reserve(args.size());
    for (const auto& a : args) calls.emplace_back(a);
    return many(std::span<const arguments>(calls), options);
  }

  /// The key a call with `args` uses, as the protocol defines it and cachekit-py's key
  /// generator returns it (for logs, tests and the CLI's `--explain`). A backend may store it
  /// under a prefix: see `stored_key`.
  [[nodiscard]] result<std::string> key(P... args) const { return make_key(args...); }

  /// The key as the L2 holds it: `key(args...)` behind the backend's prefix (a tenant-scoped
  /// Redis adds `t:{tenant}:`, a memcached `key_prefix` its prefix), so `redis-cli GET` on it
  /// finds the entry. Equal to `key` without an L2 or in object mode (no L2).
  [[nodiscard]] result<std::string> stored_key(P... args) const {
    auto k = make_key(args...);
    if (!k || !state_->binding) return k;
    return state_->binding->stored_key(*k);
  }

  /// Calls the function through the cache without waiting for L2 (docs/async.md). An L1 hit
  /// returns a ready future; otherwise the L2 read is queued and batched with others by the
  /// cache's dispatcher threads (`cache_options::async`), so no thread waits for it, and a miss
  /// runs the function on the cache's function pool (that pool thread is held while it runs).
  /// The future gets the result, or the exception the function threw; the cache itself never
  /// fails the call: L2 down, the breaker open, backpressure or a full queue mean the function
  /// runs, as for a blocking call. Concurrent asynchronous calls of one key share one L2 read
  /// and one run of the function; a miss also joins blocking callers' single-flight.
  /// Counters (`info()`), observers, SWR refreshes and corrupt-entry handling are the blocking
  /// call's. The arguments are copied (parameters that are views, pointers or non-const
  /// references are refused at compile time). A call still queued when the `cache` object is
  /// destroyed gets `std::future_error` (`std::future_errc::broken_promise`); after that, calls
  /// run on the caller's thread. Thread-safe.
  ///
  ///     std::future<user> f = get_user.async(42);
  ///     user u = f.get();
  [[nodiscard]] std::future<result_type> async(P... args) const {
    auto promise = std::make_shared<std::promise<result_type>>();
    std::future<result_type> out = promise->get_future();
    async_then(
        [promise](call_result<result_type> r) {
          if (r) {
            promise->set_value(r.take());
          } else {
            promise->set_exception(r.error());
          }
        },
        std::forward<P>(args)...);
    return out;
  }

  /// As `async`, completing with a callback: `done` gets a `call_result` holding the result
  /// and where it came from (l1, l2, function, stale), or the function's exception (a call
  /// dropped at shutdown: `std::future_error` broken_promise). `done` runs exactly once: on
  /// this thread for an L1 hit (before `async_then` returns) and when the call cannot be
  /// queued; else on a cachekit thread (a dispatcher thread after an L2 hit, a function-pool
  /// thread after a miss), so it must be short and must not block or wait for another
  /// asynchronous call. Exceptions thrown by `done` are caught and dropped. Thread-safe.
  void async_then(std::function<void(call_result<result_type>)> done, P... args) const {
    static_assert(refreshable,
                  "cachekit::memoized::async copies the arguments for a call that completes "
                  "later: every parameter must be a value or a const reference of a copyable "
                  "type that owns its data (std::string, not std::string_view; no pointers, "
                  "spans or non-const references)");
    if (state_->objects) {  // object mode holds no L2: answered on this thread
      auto local = state_->object_keys(args...);
      const bool held = local && state_->objects->cache.visit(*local, [](const result_type&) {});
      std::shared_ptr<const result_type> value;
      std::exception_ptr error;
      try {
        value = std::make_shared<const result_type>(call_objects(args...));
      } catch (...) {
        error = std::current_exception();
      }
      deliver(done, value, error, held ? call_source::l1 : call_source::function);
      return;
    }
    memo_binding& b = *state_->binding;
    auto copies = std::make_shared<argument_copies>(args...);
    l1_lookup l1 = look_in_l1(b, args...);
    if (!l1.l1_key) {
      start_miss(make_leader(std::move(done), copies, {}, {}, false), miss_run::plain);
      return;
    }
    if (l1.hit) {
      try {
        done(call_result<result_type>(std::move(*l1.hit), call_source::l1));
      } catch (...) {  // as documented: the callback's exceptions are dropped
      }
      return;
    }
    result<std::string>& l1_key = l1.l1_key;
    const served_by layer = l1.layer;
    std::optional<failure>& l1_fault = l1.fault;
    result<std::string> protocol = state_->l1_keys ? make_key(args...) : *l1_key;
    if (!protocol) {
      b.uncacheable(protocol.error());
      start_miss(make_leader(std::move(done), copies, {}, {}, false), miss_run::plain);
      return;
    }
    if (layer == served_by::left_in_place) {  // run, and store nothing over its entry
      start_miss(make_leader(std::move(done), copies, {}, {}, false), miss_run::counted);
      return;
    }
    auto shared_done =
        std::make_shared<std::function<void(call_result<result_type>)>>(std::move(done));
    const bool leads =
        b.join_async(*protocol, [shared_done](std::shared_ptr<const void> value,
                                              std::exception_ptr error, call_source source) {
          deliver(*shared_done, std::static_pointer_cast<const result_type>(value), error, source);
        });
    if (!leads) return;  // the leader's outcome reaches `shared_done`
    auto lead = std::make_shared<async_leader>(state_, std::move(*protocol), std::move(*l1_key),
                                               copies, shared_done, true);
    lead->tenant = caller_tenant();
    if (l1_fault) {
      b.reject(lead->key, lead->l1_key, *l1_fault, cache_layer::l1);
      start_miss(lead, miss_run::fill, true);
      return;
    }
    b.load_l2_async(
        lead->key, lead->l1_key,
        [lead](std::optional<byte_buffer> found, served_by got) { landed_l2(lead, found, got); });
  }

 private:
  friend class ::cachekit::v0::cache;
  using key_function = std::function<result<std::string>(const std::remove_cvref_t<P>&...)>;

  struct object_state {
    object_cache<result_type> cache;
    std::size_t max_entries = 0;
    object_binding binding;
  };
  struct state {
    F fn;
    key_function keys;                      // the protocol key (`key()`, bytes mode)
    key_function object_keys;               // object mode: the exact in-process key
    std::shared_ptr<memo_binding> binding;  // bytes mode
    std::unique_ptr<object_state> objects;  // object mode
    key_function l1_keys;                   // bytes mode, unencrypted: the L1 key (see call_bytes)
  };

  explicit memoized_impl(std::shared_ptr<state> s) : state_(std::move(s)) {}

  result<std::string> make_key(const std::remove_cvref_t<P>&... args) const {
    return state_->keys(args...);
  }

  // A call's L1 key and what L1 held under it: the first step of every form of call (blocking,
  // `async`, `many`). `l1_key` failed: the call cannot be keyed (counted and reported here).
  // `hit`: the copy, decoded and counted as an L1 hit, its background refresh queued when due.
  // `fault`: a copy that did not decode (its refresh claim ended; the caller rejects it).
  struct l1_lookup {
    result<std::string> l1_key;
    served_by layer = served_by::nothing;
    std::optional<result_type> hit;
    std::optional<failure> fault;
  };

  l1_lookup look_in_l1(memo_binding& b, const std::remove_cvref_t<P>&... args) const {
    l1_lookup out{.l1_key = state_->l1_keys ? state_->l1_keys(args...) : make_key(args...),
                  .layer = served_by::nothing,
                  .hit = std::nullopt,
                  .fault = std::nullopt};
    if (!out.l1_key) {
      b.uncacheable(out.l1_key.error());
      return out;
    }
    std::optional<monotonic_clock::time_point> refresh_from;
    std::optional<byte_buffer> stored =
        b.load_l1(*out.l1_key, out.layer, refreshable && b.swr ? &refresh_from : nullptr);
    if (!stored) return out;
    auto decoded = stored_value_codec<result_type>::decode(*stored, b.interop);
    if (!decoded) {
      if (refresh_from) b.end_refresh(*out.l1_key, *refresh_from, false);  // not of a bad copy
      out.fault = std::move(decoded).error();
      return out;
    }
    if (b.collect_stats) b.stats.record_l1_hit();
    if (refresh_from) schedule_refresh(b, *out.l1_key, *refresh_from, args...);
    out.hit.emplace(std::move(*decoded));
    return out;
  }

  // L1 copies are kept under `l1_keys` when the binding has them (unencrypted caches): the
  // function's key space followed by the call's pre-image, so an L1 hit costs no hash. The
  // protocol key (BLAKE2b of the pre-image) is derived only when L2 or a store needs it. With
  // encryption the AAD binds the protocol key, so L1 is keyed by it.
  result_type call_bytes(P&... args) const {
    memo_binding& b = *state_->binding;
    l1_lookup l1 = look_in_l1(b, args...);
    if (!l1.l1_key) return std::invoke(state_->fn, std::forward<P>(args)...);
    if (l1.hit) return std::move(*l1.hit);
    const result<std::string>& l1_key = l1.l1_key;
    served_by layer = l1.layer;
    const std::optional<failure>& l1_fault = l1.fault;
    // Everything past an L1 hit needs the protocol key.
    result<std::string> protocol = state_->l1_keys ? make_key(args...) : *l1_key;
    if (!protocol) {  // the same writer as the L1 key: not expected, but never fatal
      b.uncacheable(protocol.error());
      return std::invoke(state_->fn, std::forward<P>(args)...);
    }
    const std::string& key = *protocol;
    if (l1_fault) {
      b.reject(key, *l1_key, *l1_fault, cache_layer::l1);
    } else if (layer != served_by::left_in_place) {
      if (auto from_l2 = b.load_l2(key, *l1_key, layer)) {
        auto decoded = stored_value_codec<result_type>::decode(*from_l2, b.interop);
        if (decoded) {
          if (b.collect_stats) b.stats.record_l2_hit();
          if (layer == served_by::l2_stale) {
            refresh_stale(b, key, *l1_key, caller_tenant(),
                          std::forward_as_tuple(std::as_const(args)...));
          }
          return std::move(*decoded);
        }
        b.reject(key, *l1_key, decoded.error());
      }
    }
    if (layer == served_by::left_in_place) {  // run, and store nothing over its entry
      b.count_miss();
      return std::invoke(state_->fn, std::forward<P>(args)...);
    }
    if (!b.serve_stale) return fill(b, key, *l1_key, layer != served_by::l2_failed, args...);
    try {
      return fill(b, key, *l1_key, layer != served_by::l2_failed, args...);
    } catch (const error& e) {
      if (e.code() == errc_group::security) throw;  // fail_closed refusals are never masked
      if (auto kept = stale_copy(b, *l1_key)) return std::move(*kept);
      throw;
    } catch (...) {
      if (auto kept = stale_copy(b, *l1_key)) return std::move(*kept);
      throw;
    }
  }

  // Fail-safe stale (cache_options::serve_stale_for): the key's kept L1 copy, decoded.
  std::optional<result_type> stale_copy(memo_binding& b, const std::string& l1_key) const {
    auto kept = b.load_l1_kept(l1_key);
    if (!kept) return std::nullopt;
    auto decoded = stored_value_codec<result_type>::decode(*kept, b.interop);
    if (!decoded) return std::nullopt;
    b.record_stale_served();
    return std::optional<result_type>(std::move(*decoded));
  }

  // ---- stale-while-revalidate (cache_options::swr) -----------------------------------------

  static constexpr bool refreshable = (refreshable_parameter_v<P> && ...);
  using argument_copies = std::tuple<std::remove_cvref_t<P>...>;

  // One claimed refresh: ends the claim when the last copy of its job goes, having run or not
  // (a full queue, a cache shutting down), unless the run ended it.
  struct refresh_claim {
    std::weak_ptr<state> owner;
    std::string l1_key;
    monotonic_clock::time_point from;
    std::optional<std::string> tenant;  // multi-tenant: the caller's tenant_scope
    bool ended = false;
    refresh_claim(std::weak_ptr<state> o, std::string key, monotonic_clock::time_point f)
        : owner(std::move(o)), l1_key(std::move(key)), from(f) {}
    refresh_claim(const refresh_claim&) = delete;
    refresh_claim& operator=(const refresh_claim&) = delete;
    void end(memo_binding& b, bool failed) {
      if (std::exchange(ended, true)) return;
      b.end_refresh(l1_key, from, failed);
    }
    ~refresh_claim() {
      if (ended) return;
      if (auto s = owner.lock()) s->binding->end_refresh(l1_key, from, false);
    }
  };

  // Queues the background call that refreshes the L1 copy of `l1_key` written at `from`.
  void schedule_refresh(memo_binding& b, const std::string& l1_key,
                        monotonic_clock::time_point from,
                        const std::remove_cvref_t<P>&... args) const {
    if constexpr (refreshable) {
      std::optional<argument_copies> copies;
      try {
        copies.emplace(args...);
      } catch (...) {  // copying the arguments failed: no refresh
        b.end_refresh(l1_key, from, false);
        return;
      }
      schedule_refresh_of(b, l1_key, from, std::move(*copies));
    } else {
      b.end_refresh(l1_key, from, false);
      ((void)args, ...);
    }
  }

  // schedule_refresh with the arguments already copied (batch calls hold them as tuples).
  void schedule_refresh_of(memo_binding& b, const std::string& l1_key,
                           monotonic_clock::time_point from, argument_copies copies) const {
    if constexpr (refreshable) {
      std::shared_ptr<refresh_claim> claim;
      try {
        claim = std::make_shared<refresh_claim>(state_, l1_key, from);
        claim->tenant = caller_tenant();
      } catch (...) {  // out of memory: no refresh; the entry may be claimed again
        b.end_refresh(l1_key, from, false);
        return;
      }
      try {
        // A job that is not queued is destroyed at once; the last copy of `claim` then ends
        // the claim (so does one dropped unrun when the cache goes).
        (void)b.submit_refresh([claim, copies = std::move(copies)]() mutable {
          auto owner = claim->owner.lock();
          if (!owner) return;  // the function is gone: nothing to refresh for
          std::optional<tenant_scope> scope;
          if (claim->tenant) scope.emplace(*claim->tenant);
          memoized_impl(owner).run_refresh(*claim, copies);
        });
      } catch (...) {  // copying the arguments failed: `claim` ends the claim as it goes
      }
    } else {
      b.end_refresh(l1_key, from, false);
      (void)copies;
    }
  }

  // On a refresh thread: takes a fresh enough L2 entry if another process stored one, else runs
  // the function with the copied arguments through this function's single-flight (a foreground miss
  // of the key already running means nothing to do; one that comes now waits for this call) and
  // lands the result (cache_engine::land_refresh).
  void run_refresh(refresh_claim& claim, argument_copies& copies) const {
    memo_binding& b = *state_->binding;
    auto key = std::apply([this](const auto&... a) { return make_key(a...); }, copies);
    if (!key) {  // the same writer as the call's key: not expected
      if (b.collect_stats) b.stats.record_refresh(false);
      claim.end(b, true);
      return;
    }
    // Another process may have refreshed the key already: then its value serves, and the
    // function does not run in every process sharing the L2.
    if (b.adopt_fresh_l2(*key, claim.l1_key, claim.from)) {
      if (b.collect_stats) b.stats.record_refresh(true);
      claim.end(b, false);
      return;
    }
    auto ticket = b.flights.join(*key);
    if (!ticket.leader()) {  // a fill of the key is running; it stores the new value
      claim.end(b, false);
      return;
    }
    bool failed = true;
    try {
      auto fresh = std::make_shared<const result_type>(invoke_copies(copies));
      if (auto encoded = stored_value_codec<result_type>::encode(*fresh, b.interop)) {
        auto landed = b.land_refresh(*key, claim.l1_key, *encoded, claim.from);
        failed = !landed;
        if (landed && *landed && b.collect_stats) b.stats.record_refresh(true);
      } else {
        b.uncacheable(encoded.error());
      }
      b.flights.finish(ticket, fresh, nullptr);
    } catch (...) {  // the function threw: shared with any caller that joined, not stored
      b.flights.finish(ticket, nullptr, std::current_exception());
    }
    if (failed && b.collect_stats) b.stats.record_refresh(false);
    claim.end(b, failed);
  }

  // ---- the server-side stale grace (served_by::l2_stale) -----------------------------------

  // After L2 served `key` stale (inside the stale-grace window its writer asked for, see
  // cachekitio_options::stale_while_revalidate): queues the call that replaces the entry, at
  // most one per key in this process, while the caller is served the stale value (cachekit-py's
  // backed-mode SWR). No L1 copy exists to claim, so the claim is the engine's
  // (claim_stale_refresh). `call`: the call's arguments, as a tuple of values or references;
  // `tenant`: the caller's tenant_scope.
  template <typename Arguments>
  void refresh_stale(memo_binding& b, const std::string& key, const std::string& l1_key,
                     std::optional<std::string> tenant, const Arguments& call) const {
    if constexpr (refreshable) {
      if (!b.swr) return;
      auto claim = b.claim_stale_refresh(key);
      if (!claim) return;
      try {
        // A job that is not queued is destroyed unrun, and its claim with it.
        (void)b.submit_refresh([owner = std::weak_ptr<state>(state_), claim = std::move(claim), key,
                                l1_key, tenant = std::move(tenant),
                                copies = std::make_from_tuple<argument_copies>(call)]() mutable {
          auto live = owner.lock();
          if (!live) return;  // the function is gone: nothing to refresh for
          std::optional<tenant_scope> scope;
          if (tenant) scope.emplace(*tenant);
          memoized_impl(live).run_stale_refresh(key, l1_key, copies);
        });
      } catch (...) {  // copying the key or the arguments failed: no refresh this time
      }
    } else {
      (void)b, (void)key, (void)l1_key, (void)tenant, (void)call;
    }
  }

  // On a refresh thread: takes the revalidation lease (another client revalidating, or a failed
  // lock request, ends it here), runs the function with the copied arguments through this
  // function's single-flight (a foreground miss of the key already running stores the new
  // value: nothing to do; one that comes now waits for this call), stores the result as a miss
  // does, in L1 and in L2 (with a new grace window), and releases the lease. Failures are
  // counted (`info().refresh_failures`) and reported, never thrown: the caller already has its
  // answer.
  void run_stale_refresh(const std::string& key, const std::string& l1_key,
                         argument_copies& copies) const {
    memo_binding& b = *state_->binding;
    auto lease = b.try_refresh_lease(key);
    if (!lease.proceed) return;
    struct lease_release {  // on every way out, the function's exception included
      memo_binding& b;
      std::optional<lock_token>& lock;
      ~lease_release() {
        if (lock) b.release_fill(*lock);
      }
    } release{b, lease.lock};
    auto ticket = b.flights.join(key);
    if (!ticket.leader()) return;
    bool stored = false;
    try {
      auto fresh = std::make_shared<const result_type>(invoke_copies(copies));
      if (auto encoded = stored_value_codec<result_type>::encode(*fresh, b.interop)) {
        stored = b.store(key, l1_key, *encoded);
      } else {
        b.uncacheable(encoded.error());
      }
      b.flights.finish(ticket, fresh, nullptr);
    } catch (...) {  // the function threw: shared with any caller that joined, not stored
      b.flights.finish(ticket, nullptr, std::current_exception());
    }
    if (b.collect_stats) b.stats.record_refresh(stored);
  }

  // The calling thread's tenant_scope, copied for work that runs on another thread.
  static std::optional<std::string> caller_tenant() {
    auto tenant = tenant_scope::current();
    return tenant ? std::optional<std::string>(*tenant) : std::nullopt;
  }

  // ---- batch calls (many; the bodies are in memoized_batch.hpp) ---------------------------

  // The function called with a copy of `call`'s arguments.
  result_type invoke_with(const arguments& call) const;
  // Object mode: one single call, with where its result came from.
  call_result<result_type> object_call(const arguments& call) const;

  // What happens to one call of a batch after its lookups.
  enum class batch_step : std::uint8_t {
    done,          // served from L1 or L2
    run_uncached,  // its key could not be derived: the function runs, nothing is stored
    run_unstored,  // another reader's entry is left in place: runs, nothing is stored
    lookup_l2,     // an L1 miss, to be read from L2
    fill,          // a miss: single-flight, the function, the store
  };

  // The result (or exception) of one function run of a batch.
  struct batch_run {
    std::shared_ptr<const result_type> value;
    std::exception_ptr error;
    std::optional<byte_buffer> encoded;
  };

  // A failed call's answer: its kept expired copy (fail-safe stale) or its exception.
  call_result<result_type> failed_call(memo_binding& b, const std::string& l1_key,
                                       std::exception_ptr thrown) const;
  // The batch in bytes mode: fills `out` (one slot per call).
  void many_bytes(std::span<const arguments> calls, const many_options& options,
                  std::vector<std::optional<call_result<result_type>>>& out) const;

  // A miss of `key`. Concurrent callers in this process share one call of the function (the
  // first leads, the others wait for its result or its exception); across processes, the fill
  // lock lets one process run it while the others wait for what it stores.
  result_type fill(memo_binding& b, const std::string& key, const std::string& l1_key,
                   bool use_fill_lock, P&... args) const {
    call_source source = call_source::function;
    return *fill_flight(
        b, key, l1_key, use_fill_lock, source,
        [&] { return std::invoke(state_->fn, std::forward<P>(args)...); },
        // use_fill_lock false: this call's L2 read failed, so L1 only.
        [&](byte_view encoded) { b.store(key, l1_key, encoded, use_fill_lock); });
  }

  // The miss path of blocking and asynchronous calls: this process's single-flight of `key` (a
  // caller already running the function is waited for: counted as an L1 hit, so that misses stay
  // the calls that ran the function, cachekit-py's definition), the fill lock (another process
  // may store the value meanwhile: taken from L2), else `run()` for the value, whose encoding
  // goes to `keep` (the store). `source` says which of the three answered. The function's
  // exception is shared with the flight's waiters, never cached, and rethrown.
  template <typename Run, typename Keep>
  std::shared_ptr<const result_type> fill_flight(memo_binding& b, const std::string& key,
                                                 const std::string& l1_key, bool use_fill_lock,
                                                 call_source& source, Run&& run,
                                                 Keep&& keep) const {
    auto ticket = b.flights.join(key);
    if (!ticket.leader()) {
      auto shared = std::static_pointer_cast<const result_type>(b.flights.wait(ticket));
      if (b.collect_stats) b.stats.record_l1_hit();
      source = call_source::l1;
      return shared;
    }
    std::optional<lock_token> lock;
    try {
      served_by layer = served_by::nothing;
      memo_binding::fill_result fill;
      if (use_fill_lock) fill = b.await_fill(key, l1_key, layer);
      lock = std::move(fill.lock);
      if (fill.filled) {
        auto decoded = stored_value_codec<result_type>::decode(*fill.filled, b.interop);
        if (decoded) {
          if (b.collect_stats) b.stats.record_l2_hit();
          auto shared = std::make_shared<const result_type>(std::move(*decoded));
          b.flights.finish(ticket, shared, nullptr);
          source = call_source::l2;
          return shared;
        }
        b.reject(key, l1_key, decoded.error());
      }
      b.count_miss();
      auto fresh = std::make_shared<const result_type>(run());
      if (auto encoded = stored_value_codec<result_type>::encode(*fresh, b.interop)) {
        keep(byte_view(*encoded));
      } else {
        b.uncacheable(encoded.error());
      }
      if (lock) b.release_fill(*lock);
      b.flights.finish(ticket, fresh, nullptr);
      source = call_source::function;
      return fresh;
    } catch (...) {
      if (lock) b.release_fill(*lock);
      b.flights.finish(ticket, nullptr, std::current_exception());
      throw;
    }
  }

  result_type call_objects(P&... args) const {
    object_state& o = *state_->objects;
    auto key = state_->object_keys(args...);
    if (!key) {
      o.binding.uncacheable(key.error());
      return std::invoke(state_->fn, std::forward<P>(args)...);
    }
    // Copied out under the shard's read lock: no shared_ptr reference counting on a hit.
    std::optional<result_type> held;
    if (o.cache.visit(*key, [&held](const result_type& v) { held.emplace(v); }) && held) {
      o.binding.count_hit();
      return std::move(*held);
    }
    // A miss: one caller runs the function, the others of this key wait for its result (an L1
    // hit for them, as in bytes mode) or its exception.
    auto ticket = o.binding.flights.join(*key);
    if (!ticket.leader()) {
      auto shared = std::static_pointer_cast<const result_type>(o.binding.flights.wait(ticket));
      o.binding.count_hit();
      return *shared;
    }
    try {
      o.binding.count_miss();
      auto fresh =
          std::make_shared<const result_type>(std::invoke(state_->fn, std::forward<P>(args)...));
      o.cache.put(*key, fresh);
      o.binding.flights.finish(ticket, fresh, nullptr);
      return *fresh;
    } catch (...) {  // not cached; shared with the waiters of this flight
      o.binding.flights.finish(ticket, nullptr, std::current_exception());
      throw;
    }
  }

  // ---- asynchronous calls -------------------------------------------------------------------

  using async_done = std::function<void(call_result<result_type>)>;

  static void deliver(const async_done& done, const std::shared_ptr<const result_type>& value,
                      const std::exception_ptr& error, call_source source) noexcept {
    try {
      if (value) {
        done(call_result<result_type>(*value, source));
      } else {
        done(call_result<result_type>(error));
      }
    } catch (...) {  // the caller's callback: dropped, as documented
    }
  }

  // The one call of an asynchronous flight that does the work. Whoever drops the last
  // reference without finishing (work dropped at shutdown) completes every caller of the
  // flight with std::future_error(broken_promise), so no future is left unsatisfied.
  struct async_leader {
    std::shared_ptr<state> owner;
    std::string key;
    std::string l1_key;
    std::shared_ptr<argument_copies> copies;
    std::shared_ptr<async_done> done;
    bool joined = false;  // leads a flight of `key` (else a lone call: uncacheable, left in place)
    std::optional<std::string> tenant;  // multi-tenant: the caller's tenant_scope
    bool finished = false;
    async_leader(std::shared_ptr<state> o, std::string k, std::string l1,
                 std::shared_ptr<argument_copies> c, std::shared_ptr<async_done> d, bool j)
        : owner(std::move(o)),
          key(std::move(k)),
          l1_key(std::move(l1)),
          copies(std::move(c)),
          done(std::move(d)),
          joined(j) {}
    async_leader(const async_leader&) = delete;
    async_leader& operator=(const async_leader&) = delete;
    void finish(const std::shared_ptr<const result_type>& value, const std::exception_ptr& error,
                call_source source) noexcept {
      if (std::exchange(finished, true)) return;
      if (joined) owner->binding->finish_async(key, value, error);  // the other callers
      deliver(*done, value, error, source);
    }
    ~async_leader() {
      if (finished) return;
      finish(nullptr, std::make_exception_ptr(std::future_error(std::future_errc::broken_promise)),
             call_source::function);
    }
  };

  std::shared_ptr<async_leader> make_leader(async_done done,
                                            std::shared_ptr<argument_copies> copies,
                                            std::string key, std::string l1_key,
                                            bool joined) const {
    auto lead =
        std::make_shared<async_leader>(state_, std::move(key), std::move(l1_key), std::move(copies),
                                       std::make_shared<async_done>(std::move(done)), joined);
    lead->tenant = caller_tenant();
    return lead;
  }

  // plain: run the function, not counted (its key could not be derived); counted: run it and
  // count a miss, storing nothing (an entry left in place); fill: the miss path of a call.
  enum class miss_run : std::uint8_t { plain, counted, fill };

  static void start_miss(const std::shared_ptr<async_leader>& lead, miss_run how,
                         bool use_l2 = true) {
    lead->owner->binding->run_async([lead, how, use_l2] { run_miss(*lead, how, use_l2); });
  }

  // On a dispatcher thread (or the caller's, when the read was not queued).
  static void landed_l2(const std::shared_ptr<async_leader>& lead,
                        std::optional<byte_buffer>& found, served_by layer) {
    memo_binding& b = *lead->owner->binding;
    if (found) {
      auto decoded = stored_value_codec<result_type>::decode(*found, b.interop);
      if (decoded) {
        if (b.collect_stats) b.stats.record_l2_hit();
        if (layer == served_by::l2_stale) {
          memoized_impl(lead->owner)
              .refresh_stale(b, lead->key, lead->l1_key, lead->tenant, *lead->copies);
        }
        std::shared_ptr<const result_type> value;
        try {
          value = std::make_shared<const result_type>(std::move(*decoded));
        } catch (...) {
          lead->finish(nullptr, std::current_exception(), call_source::function);
          return;
        }
        lead->finish(value, nullptr, call_source::l2);
        return;
      }
      b.reject(lead->key, lead->l1_key, decoded.error());
    }
    if (layer == served_by::left_in_place) {
      start_miss(lead, miss_run::counted);
      return;
    }
    start_miss(lead, miss_run::fill, layer != served_by::l2_failed);
  }

  result_type invoke_copies(argument_copies& copies) const {
    return std::apply([this](auto&... a) { return std::invoke(state_->fn, static_cast<P>(a)...); },
                      copies);
  }

  // On a function-pool thread (or the caller's, when the pool refused the job).
  static void run_miss(async_leader& lead, miss_run how, bool use_l2) noexcept {
    std::optional<tenant_scope> scope;
    memoized_impl self(lead.owner);
    memo_binding& b = *lead.owner->binding;
    try {
      if (lead.tenant) scope.emplace(*lead.tenant);
      if (how != miss_run::fill) {
        if (how == miss_run::counted) b.count_miss();
        auto value = std::make_shared<const result_type>(self.invoke_copies(*lead.copies));
        lead.finish(value, nullptr, call_source::function);
        return;
      }
      call_source source = call_source::function;
      auto value = self.fill_async(b, lead, use_l2, source);
      lead.finish(value, nullptr, source);
    } catch (const error& e) {
      if (e.code() != errc_group::security && b.serve_stale) self.finish_stale(b, lead);
      lead.finish(nullptr, std::current_exception(), call_source::function);
    } catch (...) {
      if (b.serve_stale) self.finish_stale(b, lead);
      lead.finish(nullptr, std::current_exception(), call_source::function);
    }
  }

  void finish_stale(memo_binding& b, async_leader& lead) const noexcept {
    try {
      if (auto kept = stale_copy(b, lead.l1_key)) {
        lead.finish(std::make_shared<const result_type>(std::move(*kept)), nullptr,
                    call_source::stale);
      }
    } catch (...) {  // out of memory: the function's exception goes out instead
    }
  }

  // `fill` for an asynchronous miss, on a pool thread: the blocking callers' single-flight (a
  // blocking call already running the function is waited for here, holding this pool thread),
  // the fill lock, the function, then the store with its L2 write queued.
  std::shared_ptr<const result_type> fill_async(memo_binding& b, async_leader& lead,
                                                bool use_fill_lock, call_source& source) const {
    return fill_flight(
        b, lead.key, lead.l1_key, use_fill_lock, source,
        [&] { return invoke_copies(*lead.copies); },
        [&](byte_view encoded) { b.store_async(lead.key, lead.l1_key, encoded, use_fill_lock); });
  }

  std::shared_ptr<state> state_;
};

}  // namespace detail

/// The callable returned by `cache::memoize` for a callable of type `F` (a function pointer,
/// a lambda, any object with one non-template `operator()`). Its call operator takes the same
/// parameters as `F` and returns the result by value.
template <class F>
using memoized = detail::memoized_impl<F, typename detail::memoize_signature<F>::type>;

}  // namespace v0
}  // namespace cachekit

#include <cachekit/memoized_batch.hpp>  // memoized::many's bodies
