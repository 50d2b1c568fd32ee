// One shard of the L1 store without its lock: the index, the S3-FIFO queues (small, main,
// ghost) and the accounting. Single-threaded; `l1_core` wraps each shard in a lock.
//
// S3-FIFO (Juncheng Yang et al., "FIFO queues are all you need for cache eviction", SOSP 2023):
// - a new key enters the small FIFO, or the main FIFO if its hash is in the ghost FIFO;
// - a hit only raises the entry's 2-bit counter (no list move, hence no exclusive lock);
// - making room: while the small FIFO holds more than its share (10%), its oldest entry leaves
//   it: to the main FIFO if it was read `promote_threshold` times, else out (its hash joins the
//   ghost FIFO). Otherwise the main FIFO's oldest entry is evicted if its counter is 0, or
//   reinserted at the head with the counter decremented.
// Expired entries met on the way out are removed as expirations, never reinserted.
#pragma once

#include "l1/entry_queue.hpp"
#include "l1/entry_table.hpp"
#include "l1/ghost_queue.hpp"

#include <cachekit/l1_cache.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {

/// Entries taken out of a shard, chained through `older`, to be released after the shard's
/// lock is dropped (freeing memory does not need the lock).
class retired_entries {
 public:
  retired_entries() = default;
  retired_entries(const retired_entries&) = delete;
  retired_entries& operator=(const retired_entries&) = delete;
  ~retired_entries() {
    while (first_ != nullptr) release(std::exchange(first_, first_->older));
  }
  void add(l1_entry* entry) noexcept {
    entry->older = first_;
    first_ = entry;
  }

 private:
  l1_entry* first_ = nullptr;
};

struct shard_limits {
  std::size_t max_charge = 0;
  std::optional<std::size_t> max_entries;
  double small_fraction = 0.10;
  std::uint8_t promote_threshold = 1;
};

class s3fifo_shard {
 public:
  /// The access counter saturates here (2 bits): a hit at this value writes nothing.
  static constexpr std::uint8_t max_freq = 3;

  s3fifo_shard() = default;
  ~s3fifo_shard();
  s3fifo_shard(const s3fifo_shard&) = delete;
  s3fifo_shard& operator=(const s3fifo_shard&) = delete;

  /// Sets the bounds; call once, before the first `put`.
  void set_limits(const shard_limits& limits);
  [[nodiscard]] const shard_limits& limits() const noexcept { return limits_; }

  [[nodiscard]] l1_entry* find(std::uint64_t hash, std::string_view key) const noexcept {
    return table_.find(hash, key);
  }

  /// Stores `fresh` (which holds one reference, handed over), replacing the entry of the same
  /// key, whose queue and counter it takes over. Evicts until it fits; `fresh->charge` must not
  /// exceed the shard's budget.
  void put(l1_entry* fresh, monotonic_clock::time_point now, retired_entries& retired);

  /// Removes `entry` (present in this shard) without counting it.
  void erase(l1_entry* entry, retired_entries& retired) noexcept;
  /// Removes `entry` (present and expired) and counts an expiration.
  void expire(l1_entry* entry, retired_entries& retired) noexcept;
  /// Removes every entry whose key starts with `prefix`; returns how many.
  std::size_t erase_prefix(std::string_view prefix, retired_entries& retired) noexcept;
  /// Removes every entry that expired at `cutoff` or before; returns how many.
  std::size_t sweep_expired(monotonic_clock::time_point cutoff, retired_entries& retired) noexcept;
  /// Calls `fn(l1_entry&)` on every entry.
  template <typename F>
  void for_each(F&& fn) noexcept {
    for (entry_queue* queue : {&small_, &main_}) {
      for (l1_entry* entry = queue->head(); entry != nullptr; entry = entry->older) fn(*entry);
    }
  }
  /// Removes every entry and forgets the ghost.
  void clear(retired_entries& retired) noexcept;

  [[nodiscard]] std::size_t charge() const noexcept { return charge_; }
  [[nodiscard]] std::size_t entries() const noexcept { return table_.size(); }
  [[nodiscard]] std::uint64_t evictions() const noexcept { return evictions_; }
  [[nodiscard]] std::uint64_t expirations() const noexcept { return expirations_; }
  [[nodiscard]] std::size_t small_count() const noexcept { return small_.count(); }
  [[nodiscard]] std::size_t main_count() const noexcept { return main_.count(); }
  [[nodiscard]] std::size_t ghost_count() const noexcept { return ghost_.size(); }

 private:
  enum queue_id : std::uint8_t { in_small = 0, in_main = 1 };

  entry_queue& queue_of(const l1_entry* entry) noexcept {
    return entry->queue == in_main ? main_ : small_;
  }
  [[nodiscard]] bool over_limit(std::size_t extra_charge, std::size_t extra_entries) const noexcept;
  [[nodiscard]] bool small_over_share() const noexcept;
  void evict_one(monotonic_clock::time_point now, retired_entries& retired) noexcept;
  bool evict_from_small(monotonic_clock::time_point now, retired_entries& retired) noexcept;
  void evict_from_main(monotonic_clock::time_point now, retired_entries& retired) noexcept;
  void unlink(l1_entry* entry, retired_entries& retired) noexcept;
  [[nodiscard]] std::size_t ghost_capacity() const noexcept;
  template <typename Predicate>
  std::size_t remove_if(Predicate predicate, retired_entries& retired) noexcept;

  shard_limits limits_;
  std::size_t small_charge_share_ = 0;
  // No entry bound: SIZE_MAX (not an optional: a shard's size decides how many cache lines
  // an unused per-function cache costs).
  std::size_t small_entries_share_ = std::numeric_limits<std::size_t>::max();
  entry_table table_;
  entry_queue small_;
  entry_queue main_;
  ghost_queue ghost_;
  std::size_t charge_ = 0;
  std::uint64_t evictions_ = 0;
  std::uint64_t expirations_ = 0;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
