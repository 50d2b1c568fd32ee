/// @file
/// The L1 cache: an in-process, sharded, byte-bounded cache of stored bytes with a TTL per
/// entry. It holds exactly the bytes written to L2 (a CK frame, an interop payload, or a
/// ciphertext: encrypted entries stay encrypted in memory and are decrypted on every hit).
///
/// Eviction is S3-FIFO (Yang et al., SOSP 2023): new keys enter a small FIFO holding ~10% of
/// the budget; keys read again before they leave it move to the main FIFO, where each read
/// buys one more pass (a 2-bit counter); keys evicted from the small FIFO are remembered by
/// hash in a ghost FIFO, so a quick return goes straight to the main FIFO. A hit only bumps
/// that counter, so reads share the shard lock with each other. docs/l1-eviction.md has the
/// hit rates against LRU and the command that measures them.
///
/// Budget: every entry is charged `key.size() + value.size() + l1_entry_overhead` bytes; the
/// sum never exceeds `max_bytes`. The budget is split evenly between the shards. One entry may
/// take at most `max_entry_bytes()`: an eighth of the budget, as cachekit-py 0.24 (so one store
/// never empties most of the cache), and never more than one shard's budget. A larger value
/// is not cached and drops an older copy of its key, as cachekit-py does.
///
/// Expiry: an entry written with a TTL `d` at instant `t` is served while `now < t + d` and
/// is a miss from `t + d` on (lazy: removed by the read that finds it, by the eviction scan
/// when it reaches it, or by `sweep_expired()`). Time comes from `l1_options::clock`. The TTL
/// is taken as given: cachekit-py's L1 stores `L2 TTL - 1 s`; that safety margin, and capping
/// a backfill from L2 at the L2 entry's remaining TTL, are the two-level cache's job.
///
/// Kept expired entries (`l1_options::keep_expired_for`, off by default): an expired entry is
/// still a miss for `get`/`visit`, but stays readable through `visit_kept` until `keep` past its
/// expiry (the fail-safe "serve stale" of a two-level cache). It keeps its charge against the
/// budget until removed, and eviction takes expired entries (kept or not) first when it meets
/// them, so the budget holds as before.
///
/// Versions: every write stamps its entry with `written_at`, the clock's time at the write,
/// made distinct per shard (a write in the same clock tick as the previous one of its shard is
/// stamped a nanosecond later). So `written_at` also names one write of a key, and
/// `replace_if_written_at` stores only over that exact write: a writer that read an entry, went
/// away and came back cannot overwrite a newer write or resurrect an erased key.
///
/// Errors: nothing here throws on the hot path except `std::bad_alloc`; configuration
/// mistakes throw `cachekit::error` from the constructor.
///
/// Thread safety: thread-safe. Reads share a shard's lock (a hit only bumps an atomic counter),
/// a write locks one shard. `l1_value` handles stay valid after their entry is evicted,
/// replaced or cleared.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/export.hpp>
#include <cachekit/monotonic_clock.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cachekit {
inline namespace v0 {

/// Bytes of bookkeeping charged to the budget for every L1 entry on top of its key and value:
/// the entry header (64 B), the allocator's header and rounding (8-23 B), a hash-table slot
/// (16 B at a load of 3/8 to 3/4: 21-43 B) and the ghost's record of an evicted key (8 B in a
/// FIFO plus a set slot: ~21 B). A full cache of 100-byte values and 40-byte keys measured
/// 132 B per entry (tests/unit/l1_cache_test.cpp, entry_overhead_estimate_...).
inline constexpr std::size_t l1_entry_overhead = 144;

/// How an `l1_cache` is bounded and timed. Fill with designated initializers:
///     cachekit::l1_cache cache({.max_bytes = 64 << 20, .default_ttl = 60s});
struct l1_options {
  /// Byte budget: the sum of `key + value + l1_entry_overhead` over all entries never exceeds
  /// it. Default 100 MiB, cachekit-py's `CACHEKIT_L1_MAX_SIZE_MB=100`. Must be positive.
  std::size_t max_bytes = std::size_t{100} * 1024 * 1024;
  /// An optional bound on the number of entries as well. Must be positive when set.
  std::optional<std::size_t> max_entries = std::nullopt;
  /// The TTL of a `put` without one: 300 s, cachekit-py's L1 default. The L1 never keeps an
  /// entry forever: with no cross-process invalidation, this bounds how long another
  /// process's write to L2 can stay unseen here. Must be positive.
  monotonic_clock::duration default_ttl = std::chrono::seconds{300};
  /// How long an expired entry stays readable through `l1_cache::visit_kept` (still a miss for
  /// `get` and `visit`), charged against the budget and evicted like any other until then.
  /// nullopt (default): an expired entry is removed when met. Must be positive when set.
  std::optional<monotonic_clock::duration> keep_expired_for = std::nullopt;
  /// Number of shards, a power of two up to 256. nullopt: twice the hardware threads rounded
  /// up to a power of two (at most 64), halved while a shard would get less than 1 MiB or
  /// fewer than 64 entries of the `max_entries` bound.
  std::optional<std::size_t> shards = std::nullopt;
  /// The time source; must outlive the cache. Default: the coarse monotonic clock (~10 ns a
  /// read, expiry exact to one kernel tick, 1-4 ms). Tests pass a `manual_clock`.
  const monotonic_clock* clock = &monotonic_clock::coarse();
};

/// Counters and sizes of an L1 cache. Counters only grow; sizes are current.
struct l1_stats {
  std::uint64_t hits = 0;         ///< reads that returned a value
  std::uint64_t misses = 0;       ///< reads that did not (absent or expired)
  std::uint64_t evictions = 0;    ///< live entries removed to make room
  std::uint64_t expirations = 0;  ///< expired entries removed (by a read, a sweep or eviction)
  std::uint64_t rejections = 0;   ///< puts not stored: above max_entry_bytes, or TTL <= 0
  std::size_t bytes = 0;          ///< charged bytes held now (object_cache: total weight)
  std::size_t entries = 0;        ///< entries held now (expired ones not yet removed included)
};

namespace detail {
struct l1_entry;
}  // namespace detail

/// An L1 entry as `l1_cache::visit_timed` and `visit_kept` show it to their callback: valid
/// only during that call, under the shard's read lock. Thread-safe (`claim_refresh` is atomic).
class l1_visited {
 public:
  /// The stored bytes.
  [[nodiscard]] byte_view bytes() const noexcept;
  /// When this value was written (on the cache's clock); names this write (file comment).
  [[nodiscard]] monotonic_clock::time_point written_at() const noexcept;
  /// When it expires; at or before now for an expired entry `visit_kept` shows.
  [[nodiscard]] monotonic_clock::time_point expires_at() const noexcept;
  /// Claims the one background refresh of this write: true for the first caller since it was
  /// written or since its last refresh ended (`l1_cache::end_refresh`), unless that refresh
  /// failed and asked for no new claim before a time after `now`. The claimer must end it with
  /// `end_refresh`, or the write is never claimed again (it still expires as usual).
  [[nodiscard]] bool claim_refresh(monotonic_clock::time_point now) const noexcept;

 private:
  friend class l1_cache;
  explicit l1_visited(const detail::l1_entry& entry) noexcept : entry_(entry) {}
  const detail::l1_entry& entry_;
};

namespace detail {

/// One cached entry: a single allocation holding this 64-byte header, the key, then (at the
/// next 16-byte boundary) the payload: the value bytes, or in object mode a
/// `shared_ptr<const void>`. A lookup reads only the header and the key, which are contiguous
/// whatever the value's size. Reference counted: the shard's table holds one reference, every
/// `l1_value` another.
struct l1_entry {
  // Set before the entry is published, immutable afterwards.
  std::uint64_t hash = 0;
  monotonic_clock::time_point expires_at{};
  /// When it was written; distinct per shard, so it names this write (set under the lock).
  monotonic_clock::time_point written_at{};
  std::size_t charge = 0;  ///< what the entry counts against the budget
  std::uint32_t key_size = 0;
  // Written by readers (through const access) and writers concurrently.
  mutable std::atomic<std::uint32_t> refs{1};
  mutable std::atomic<std::uint8_t> freq{0};  ///< S3-FIFO access counter, 0..3
  bool holds_object = false;                  ///< set before publication
  // Guarded by the owning shard's lock.
  std::uint8_t queue = 0;
  /// Background refresh of this write (`l1_visited::claim_refresh`): 0 none, 1 claimed, v >= 2
  /// no claim before `written_at + (v - 2) ms` (a failed refresh's back-off). Atomic: claimed
  /// under the shard's shared lock.
  mutable std::atomic<std::uint32_t> refresh_mark{0};
  l1_entry* newer = nullptr;
  l1_entry* older = nullptr;

  /// Where the payload starts, after the header: the key, rounded up to 16 bytes.
  [[nodiscard]] static constexpr std::size_t payload_offset(std::size_t key_size) noexcept {
    return (key_size + 15) & ~std::size_t{15};
  }
  [[nodiscard]] std::string_view key() const noexcept {
    return {reinterpret_cast<const char*>(this + 1), key_size};
  }
  [[nodiscard]] const std::byte* value_data() const noexcept {
    return reinterpret_cast<const std::byte*>(this + 1) + payload_offset(key_size);
  }
  /// Bytes of payload (object mode: sizeof the shared_ptr). Derived rather than stored, which
  /// keeps the header one cache line with `written_at` in it: a byte entry is charged exactly
  /// key + value + l1_entry_overhead.
  [[nodiscard]] std::size_t value_size() const noexcept {
    return holds_object ? sizeof(std::shared_ptr<const void>)
                        : charge - key_size - l1_entry_overhead;
  }
  /// Object mode: the stored object.
  [[nodiscard]] const std::shared_ptr<const void>& object() const noexcept {
    return *std::launder(reinterpret_cast<const std::shared_ptr<const void>*>(value_data()));
  }
};
static_assert(sizeof(l1_entry) % 16 == 0 && alignof(std::shared_ptr<const void>) <= 16);

/// Frees an entry whose last reference is gone.
CACHEKIT_EXPORT void destroy_entry(l1_entry* entry) noexcept;

inline void retain(l1_entry* entry) noexcept {
  entry->refs.fetch_add(1, std::memory_order_relaxed);
}
inline void release(l1_entry* entry) noexcept {
  if (entry->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_entry(entry);
}

/// What the shared core of `l1_cache` and `object_cache` is bounded by.
struct l1_core_config {
  std::size_t max_charge = 0;  ///< budget in the caller's unit (bytes, or weight)
  std::optional<std::size_t> max_entries;
  monotonic_clock::duration default_ttl{};
  monotonic_clock::duration keep_expired_for{};  ///< zero: expired entries go at once
  std::optional<std::size_t> shards;
  const monotonic_clock* clock = nullptr;
  std::size_t min_auto_shard_charge = 0;    ///< auto sharding keeps each shard at least this big
  std::size_t entry_share_divisor = 1;      ///< one entry may take max_charge / this at most
  const char* options_name = "l1_options";  ///< for configuration error messages
  const char* charge_name = "max_bytes";
  // S3-FIFO tuning, exposed for the hit-rate simulator (bench/l1_bench.cpp).
  double small_fraction = 0.10;        ///< share of the budget held by the small FIFO
  std::uint8_t promote_threshold = 1;  ///< reads needed in the small FIFO to enter the main one
};

/// Sharded S3-FIFO store of `l1_entry`s, shared by `l1_cache` and `object_cache<T>`.
/// Thread-safe. Usable in a forked child: shards whose lock a thread of the parent held for
/// writing at the fork start empty there; the others keep their entries.
class CACHEKIT_EXPORT l1_core {
 public:
  /// Throws `cachekit::error` (`errc::invalid_configuration`) on an impossible configuration.
  explicit l1_core(const l1_core_config& config);
  ~l1_core();
  l1_core(const l1_core&) = delete;
  l1_core& operator=(const l1_core&) = delete;

  /// On a live hit returns the entry with one reference taken for the caller; else nullptr.
  [[nodiscard]] l1_entry* acquire(std::string_view key);

  /// On a live hit calls `visit(const l1_entry&)` under the shard's shared lock and returns
  /// true. `visit` must be short and must not call back into the cache.
  template <typename F>
  bool visit(std::string_view key, F&& fn) {
    using fn_type = std::remove_reference_t<F>;
    return visit_impl(
        key, [](void* context, const l1_entry& entry) { (*static_cast<fn_type*>(context))(entry); },
        const_cast<void*>(static_cast<const void*>(std::addressof(fn))));
  }

  /// On a live entry or one expired less than `keep_expired_for` ago, calls `visit(const
  /// l1_entry&)` under the shard's shared lock and returns true. Counts nothing, marks nothing.
  template <typename F>
  bool visit_kept(std::string_view key, F&& fn) const {
    using fn_type = std::remove_reference_t<F>;
    return visit_kept_impl(
        key, [](void* context, const l1_entry& entry) { (*static_cast<fn_type*>(context))(entry); },
        const_cast<void*>(static_cast<const void*>(std::addressof(fn))));
  }

  /// Stores a copy of `value`; see `l1_cache::put`.
  bool put_bytes(std::string_view key, byte_view value,
                 std::optional<monotonic_clock::duration> ttl);
  /// Sets the refresh mark of the entry of `key` written at `written_at`; false when absent.
  bool set_refresh_mark(std::string_view key, monotonic_clock::time_point written_at,
                        std::uint32_t mark) const;
  /// As `put_bytes`, only over the entry of `key` written at `written_at`; see
  /// `l1_cache::replace_if_written_at`.
  std::optional<monotonic_clock::time_point> replace_bytes(
      std::string_view key, byte_view value, std::optional<monotonic_clock::duration> ttl,
      monotonic_clock::time_point written_at);
  /// Stores `object` charged `charge` units; see `object_cache::put`.
  bool put_object(std::string_view key, std::shared_ptr<const void> object, std::size_t charge,
                  std::optional<monotonic_clock::duration> ttl);

  [[nodiscard]] std::optional<monotonic_clock::duration> ttl(std::string_view key) const;
  [[nodiscard]] bool contains(std::string_view key) const;
  bool erase(std::string_view key);
  std::size_t erase_prefix(std::string_view prefix);
  void clear();
  std::size_t sweep_expired();
  [[nodiscard]] l1_stats stats() const;
  [[nodiscard]] std::size_t charge() const noexcept;
  [[nodiscard]] std::size_t entries() const noexcept;
  [[nodiscard]] std::size_t shard_count() const noexcept;
  [[nodiscard]] std::size_t max_entry_charge() const noexcept;

 private:
  using visitor = void (*)(void* context, const l1_entry& entry);
  struct shard;
  bool visit_impl(std::string_view key, visitor on_hit, void* context);
  bool visit_kept_impl(std::string_view key, visitor on_hit, void* context) const;
  shard& shard_for(std::uint64_t hash) const noexcept;
  // When an entry that expires at `expires_at` stops being kept (saturating).
  [[nodiscard]] monotonic_clock::time_point kept_until(
      monotonic_clock::time_point expires_at) const noexcept;
  [[nodiscard]] l1_entry* build_bytes_entry(std::string_view key, std::uint64_t hash,
                                            byte_view value, monotonic_clock::duration lifetime,
                                            monotonic_clock::time_point now);
  [[nodiscard]] bool admissible(std::string_view key, std::size_t charge,
                                monotonic_clock::duration lifetime) const noexcept;
  void reject(std::string_view key, std::uint64_t hash);
  void insert(l1_entry* fresh, monotonic_clock::time_point now);

  // Called first by every operation that takes a shard lock: after a fork, frees the shards
  // from locks held by the parent's threads (one relaxed and one acquire load otherwise).
  void follow_fork() const;
  void adopt_after_fork(std::uint64_t generation) const;

  std::unique_ptr<shard[]> shards_;
  std::size_t shard_mask_ = 0;
  // The fork generation (src/process/fork_generation.hpp) whose threads alone may hold shard
  // locks, and the one being adopted.
  mutable std::atomic<std::uint64_t> generation_{0};
  mutable std::atomic<std::uint64_t> adopting_{0};
  const monotonic_clock* clock_ = nullptr;
  monotonic_clock::duration default_ttl_{};
  monotonic_clock::duration keep_expired_for_{};
  std::size_t max_entry_charge_ = 0;
};

}  // namespace detail

/// A shared, immutable view of a cached value. Copying it costs one atomic increment, never a
/// copy of the bytes; the bytes stay valid while any handle to them lives, even after the
/// entry was evicted or overwritten.
///
/// Thread safety: like `std::shared_ptr`: distinct handles may be used from any thread.
class l1_value {
 public:
  l1_value(const l1_value& other) noexcept : entry_(other.entry_) { detail::retain(entry_); }
  l1_value(l1_value&& other) noexcept : entry_(std::exchange(other.entry_, nullptr)) {}
  l1_value& operator=(l1_value other) noexcept {
    std::swap(entry_, other.entry_);
    return *this;
  }
  ~l1_value() {
    if (entry_ != nullptr) detail::release(entry_);
  }

  /// The stored bytes.
  [[nodiscard]] byte_view bytes() const noexcept {
    return {entry_->value_data(), entry_->value_size()};
  }
  [[nodiscard]] const std::byte* data() const noexcept { return entry_->value_data(); }
  [[nodiscard]] std::size_t size() const noexcept { return entry_->value_size(); }
  /// When the entry expires (on the cache's clock).
  [[nodiscard]] monotonic_clock::time_point expires_at() const noexcept {
    return entry_->expires_at;
  }
  /// When the entry was written (on the cache's clock); names this write (see the file comment).
  [[nodiscard]] monotonic_clock::time_point written_at() const noexcept {
    return entry_->written_at;
  }
  /// An owning copy of the bytes.
  [[nodiscard]] byte_buffer to_buffer() const { return {bytes().begin(), bytes().end()}; }

  operator byte_view() const noexcept { return bytes(); }  // NOLINT: a view of what it holds

 private:
  friend class l1_cache;
  explicit l1_value(detail::l1_entry* adopted) noexcept : entry_(adopted) {}
  detail::l1_entry* entry_;  // never null except after a move
};

/// The byte L1 cache. See the file comment for eviction, budget and expiry.
///
///     cachekit::l1_cache l1({.max_bytes = 64 << 20});
///     l1.put(key, frame_bytes, 10min);
///     if (auto hit = l1.get(key)) decode(hit->bytes());
class CACHEKIT_EXPORT l1_cache {
 public:
  /// Throws `cachekit::error` (`errc::invalid_configuration`) when `options` cannot work: a
  /// zero budget, zero `max_entries`, a non-positive `default_ttl`, a null clock, or `shards`
  /// not a power of two in 1..256 (the message names the field and a valid value).
  explicit l1_cache(const l1_options& options = {});
  ~l1_cache();
  l1_cache(const l1_cache&) = delete;
  l1_cache& operator=(const l1_cache&) = delete;

  /// The value stored under `key`, or nullopt when it is absent or has expired (an expired
  /// entry is removed and counted as an expiration). Counts a hit or a miss. No copy of the
  /// bytes is made.
  [[nodiscard]] std::optional<l1_value> get(std::string_view key);

  /// Calls `fn(byte_view value, monotonic_clock::time_point expires_at)` with the live value of
  /// `key` and returns true, or returns false when it is absent or expired; counts as `get`.
  /// Unlike `get` it writes no per-entry reference count, so threads reading the same hot keys
  /// do not pass cache lines back and forth; in exchange `fn` runs under the shard's read lock:
  /// keep it short, do not call back into this cache, and copy what must outlive the call.
  template <typename F>
  bool visit(std::string_view key, F&& fn) {
    return core_.visit(key, [&fn](const detail::l1_entry& entry) {
      fn(byte_view(entry.value_data(), entry.value_size()), entry.expires_at);
    });
  }

  /// As `visit`, passing `fn(const l1_visited& entry)`: the live value with the instants it
  /// was written and expires, and its refresh claim. Counts as `get`; same rules for `fn`.
  template <typename F>
  bool visit_timed(std::string_view key, F&& fn) {
    return core_.visit(key, [&fn](const detail::l1_entry& entry) { fn(l1_visited(entry)); });
  }

  /// Calls `fn(const l1_visited& entry)` with the entry of `key` if it is live or expired less
  /// than `l1_options::keep_expired_for` ago, and returns true; false otherwise.
  /// `entry.expires_at() <= now` tells an expired one. Counts nothing and does not mark the key
  /// as used; `fn` runs under the shard's read lock as in `visit`.
  template <typename F>
  bool visit_kept(std::string_view key, F&& fn) const {
    return core_.visit_kept(key, [&fn](const detail::l1_entry& entry) { fn(l1_visited(entry)); });
  }

  /// Ends the refresh claimed on the write of `key` made at `written_at`
  /// (`l1_visited::claim_refresh`). `no_claim_before`: after a failure, no new claim of that
  /// write before this instant; nullopt: claimable again at once. Returns false, changing
  /// nothing, when that write is no longer there (a newer write starts unclaimed).
  bool end_refresh(std::string_view key, monotonic_clock::time_point written_at,
                   std::optional<monotonic_clock::time_point> no_claim_before);

  /// Stores a copy of `value` under `key` for `ttl` (nullopt: `default_ttl`), replacing any
  /// older value. Makes room by evicting other entries. Returns false, and drops any older
  /// value of `key`, when the entry would exceed `max_entry_bytes()` or `ttl` is not positive.
  bool put(std::string_view key, byte_view value,
           std::optional<monotonic_clock::duration> ttl = std::nullopt);

  /// As `put`, but only when the entry now under `key` (live or kept expired) is the one written
  /// at `written_at` (`l1_visited::written_at`, `l1_value::written_at`). Returns the new
  /// entry's `written_at`, or nullopt, storing nothing, when the key was erased, evicted,
  /// cleared or written again since. A too-large value or a non-positive `ttl` drops that entry,
  /// as `put` does, and returns nullopt.
  std::optional<monotonic_clock::time_point> replace_if_written_at(
      std::string_view key, byte_view value, std::optional<monotonic_clock::duration> ttl,
      monotonic_clock::time_point written_at);

  /// Time left before `key` expires; nullopt when absent or expired. Counts nothing and does
  /// not mark the key as used. (`l1_value::expires_at()` gives the same for a value in hand.)
  [[nodiscard]] std::optional<monotonic_clock::duration> ttl(std::string_view key) const;

  /// Whether `key` holds a live value. Counts nothing and does not mark the key as used.
  [[nodiscard]] bool contains(std::string_view key) const;

  /// Removes `key`. Returns whether a value (live or expired) was there.
  bool erase(std::string_view key);

  /// Removes every key that starts with `prefix` (a namespace clear). Linear in the size of
  /// the cache. Returns how many entries were removed.
  std::size_t erase_prefix(std::string_view prefix);

  /// Removes every entry and forgets evicted keys. Counters are kept.
  void clear();

  /// Removes every expired entry now (reads remove them lazily anyway), except those still
  /// within `keep_expired_for` of their expiry. Linear in the size of the cache. Returns how
  /// many were removed.
  std::size_t sweep_expired();

  /// Counters and sizes, summed over the shards (each shard read at a slightly different
  /// instant under concurrent use).
  [[nodiscard]] l1_stats stats() const;

  /// Charged bytes held now; never above `max_bytes`.
  [[nodiscard]] std::size_t size_bytes() const noexcept;
  /// Entries held now (including expired ones not yet removed).
  [[nodiscard]] std::size_t size() const noexcept;
  /// The largest charge (key + value + l1_entry_overhead) one entry may have: an eighth of
  /// `max_bytes`, or one shard's budget if that is smaller.
  [[nodiscard]] std::size_t max_entry_bytes() const noexcept;
  /// The number of shards in use.
  [[nodiscard]] std::size_t shard_count() const noexcept;

 private:
  detail::l1_core core_;
};

inline byte_view l1_visited::bytes() const noexcept {
  return {entry_.value_data(), entry_.value_size()};
}
inline monotonic_clock::time_point l1_visited::written_at() const noexcept {
  return entry_.written_at;
}
inline monotonic_clock::time_point l1_visited::expires_at() const noexcept {
  return entry_.expires_at;
}
inline bool l1_visited::claim_refresh(monotonic_clock::time_point now) const noexcept {
  std::uint32_t mark = entry_.refresh_mark.load(std::memory_order_relaxed);
  if (mark == 1) return false;
  if (mark >= 2 && now < entry_.written_at + std::chrono::milliseconds{mark - 2}) return false;
  return entry_.refresh_mark.compare_exchange_strong(mark, 1, std::memory_order_relaxed);
}

}  // namespace v0
}  // namespace cachekit
