/// @file
/// `object_cache<T>`: the object-mode L1. It holds decoded values as `shared_ptr<const T>`, so
/// a hit costs a lookup and one reference count, with no decoding and no copy. It serves the
/// `local` preset (cachekit-py's `@cache.local`: 256 entries, 300 s) and speed-first users. It
/// shares the byte L1's engine (l1_cache.hpp): same sharding, S3-FIFO eviction and TTL rules.
///
/// Bounds: a number of entries (default 256) and, optionally, a total weight computed by a
/// `weigher` you supply (e.g. an estimate of the object's bytes). Values are shared, never
/// copied: treat them as immutable (the element type is `const T`).
///
/// Thread safety: thread-safe, like `l1_cache`.
#pragma once

#include <cachekit/error.hpp>
#include <cachekit/l1_cache.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

namespace cachekit {
inline namespace v0 {

/// What an object-mode entry costs beyond its key and `sizeof(T)`: the L1 entry's bookkeeping
/// (`l1_entry_overhead`) plus the `shared_ptr`'s control block and its allocator header (32 B
/// with `std::make_shared`). Memory that `T` owns on the heap (a string's or vector's buffer)
/// is the `weigher`'s to count: `cachekit::footprint` (footprint.hpp) estimates it, and is what
/// object-mode `memoize` weighs with.
inline constexpr std::size_t object_entry_overhead = l1_entry_overhead + 32;

/// How an `object_cache<T>` is bounded and timed.
///     cachekit::object_cache<user> users({.max_entries = 10'000, .default_ttl = 60s});
template <typename T>
struct object_cache_options {
  /// At most this many entries: 256, cachekit-py's `@cache.local` default. Must be positive.
  std::size_t max_entries = 256;
  /// An optional bound on the sum of `weigher(value)` over all entries; needs `weigher`.
  std::optional<std::size_t> max_weight = std::nullopt;
  /// The weight of a value, in the unit of `max_weight`; used only with `max_weight`.
  std::function<std::size_t(const T&)> weigher = nullptr;
  /// Adds each key's size to its entry's weight (for a `max_weight` in bytes); used only with
  /// `max_weight`.
  bool weigh_keys = false;
  /// The TTL of a `put` without one: 300 s, as cachekit-py's `@cache.local`. Must be positive.
  monotonic_clock::duration default_ttl = std::chrono::seconds{300};
  /// Number of shards, a power of two up to 256 and at most `max_entries`. nullopt: twice the
  /// hardware threads rounded up to a power of two, halved while a shard would hold fewer
  /// than 64 of the `max_entries`.
  std::optional<std::size_t> shards = std::nullopt;
  /// The time source; must outlive the cache. Tests pass a `manual_clock`.
  const monotonic_clock* clock = &monotonic_clock::coarse();
};

/// An L1 of decoded values. Expiry is as in `l1_cache`: a value put with TTL `d` at `t` is
/// served while `now < t + d`.
///
///     cachekit::object_cache<user> users;
///     users.put("user:42", user{42, "Ada"});
///     if (std::shared_ptr<const user> u = users.get("user:42")) greet(*u);
template <typename T>
class object_cache {
 public:
  using options = object_cache_options<T>;

  /// Throws `cachekit::error` (`errc::invalid_configuration`) when `opts` cannot work: zero
  /// `max_entries` or `max_weight`, `max_weight` without `weigher` or the reverse, a
  /// non-positive `default_ttl`, a null clock, or bad `shards`.
  explicit object_cache(options opts = {})
      : weigher_(std::move(opts.weigher)),
        weighed_(opts.max_weight.has_value()),
        weigh_keys_(weighed_ && opts.weigh_keys),
        core_(core_config(opts, weigher_ != nullptr)) {}

  /// The value under `key`, or an empty pointer when absent or expired. Counts a hit or miss.
  [[nodiscard]] std::shared_ptr<const T> get(std::string_view key) {
    std::shared_ptr<const T> found;
    core_.visit(key, [&found](const detail::l1_entry& entry) {
      found = std::static_pointer_cast<const T>(entry.object());
    });
    return found;
  }

  /// Stores `value` under `key` for `ttl` (nullopt: `default_ttl`), replacing any older value
  /// and evicting others to make room. Returns false, and drops any older value of `key`, when
  /// `value` is empty, `ttl` is not positive, or its weight exceeds `max_entry_weight()`.
  /// Calls `fn(const T&)` with the live value of `key` and returns true, or returns false when
  /// it is absent or expired; counts as `get`. Copying the value out in `fn` avoids the atomic
  /// reference-count traffic of `get`'s shared_ptr, which costs real throughput when several
  /// threads read the same hot entries. `fn` runs under the shard's read lock: keep it short and
  /// do not call back into this cache.
  template <typename F>
  bool visit(std::string_view key, F&& fn) {
    return core_.visit(key, [&fn](const detail::l1_entry& entry) {
      // `put` refuses null pointers; the check keeps a broken invariant from becoming a crash.
      if (const auto* held = static_cast<const T*>(entry.object().get())) fn(*held);
    });
  }

  bool put(std::string_view key, std::shared_ptr<const T> value,
           std::optional<monotonic_clock::duration> ttl = std::nullopt) {
    std::size_t weight = weighed_ && value != nullptr ? weigher_(*value) : 0;
    if (weigh_keys_) weight += key.size();
    return core_.put_object(key, std::move(value), weight, ttl);
  }

  /// Stores `value` (moved into a new shared object); see the other overload.
  bool put(std::string_view key, T value,
           std::optional<monotonic_clock::duration> ttl = std::nullopt) {
    return put(key, std::make_shared<const T>(std::move(value)), ttl);
  }

  /// Time left before `key` expires; nullopt when absent or expired. Counts nothing.
  [[nodiscard]] std::optional<monotonic_clock::duration> ttl(std::string_view key) const {
    return core_.ttl(key);
  }
  /// Whether `key` holds a live value. Counts nothing and does not mark the key as used.
  [[nodiscard]] bool contains(std::string_view key) const { return core_.contains(key); }
  /// Removes `key`; returns whether a value (live or expired) was there.
  bool erase(std::string_view key) { return core_.erase(key); }
  /// Removes every key starting with `prefix`; returns how many. Linear in the cache size.
  std::size_t erase_prefix(std::string_view prefix) { return core_.erase_prefix(prefix); }
  /// Removes every entry. Counters are kept.
  void clear() { core_.clear(); }
  /// Removes every expired entry now; returns how many.
  std::size_t sweep_expired() { return core_.sweep_expired(); }
  /// Counters and sizes; `bytes` is the total weight (0 without `max_weight`).
  [[nodiscard]] l1_stats stats() const { return core_.stats(); }
  /// Entries held now (including expired ones not yet removed).
  [[nodiscard]] std::size_t size() const noexcept { return core_.entries(); }
  /// Total weight held now (0 without `max_weight`).
  [[nodiscard]] std::size_t weight() const noexcept { return core_.charge(); }
  /// The largest weight one value may have: `max_weight` / shards.
  [[nodiscard]] std::size_t max_entry_weight() const noexcept { return core_.max_entry_charge(); }
  /// The number of shards in use.
  [[nodiscard]] std::size_t shard_count() const noexcept { return core_.shard_count(); }

 private:
  static detail::l1_core_config core_config(const options& opts, bool has_weigher) {
    if (opts.max_weight.has_value() != has_weigher) {
      throw cachekit::error(errc::invalid_configuration,
                            opts.max_weight ? "object_cache_options.max_weight needs a weigher "
                                              "(a function returning each value's weight)"
                                            : "object_cache_options.weigher is used only with "
                                              "max_weight; set max_weight or drop the weigher");
    }
    return {.max_charge = opts.max_weight.value_or(static_cast<std::size_t>(-1)),
            .max_entries = opts.max_entries,
            .default_ttl = opts.default_ttl,
            .shards = opts.shards,
            .clock = opts.clock,
            .min_auto_shard_charge = 0,
            .options_name = "object_cache_options",
            .charge_name = "max_weight"};
  }

  std::function<std::size_t(const T&)> weigher_;
  bool weighed_;
  bool weigh_keys_;
  detail::l1_core core_;
};

}  // namespace v0
}  // namespace cachekit
