#include "l1/s3fifo_shard.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

std::size_t share_of(std::size_t total, double fraction) {
  return std::max<std::size_t>(
      1, static_cast<std::size_t>(std::floor(static_cast<double>(total) * fraction)));
}

}  // namespace

void s3fifo_shard::set_limits(const shard_limits& limits) {
  limits_ = limits;
  small_charge_share_ = share_of(limits.max_charge, limits.small_fraction);
  small_entries_share_ = limits.max_entries ? share_of(*limits.max_entries, limits.small_fraction)
                                            : std::numeric_limits<std::size_t>::max();
}

s3fifo_shard::~s3fifo_shard() {
  retired_entries retired;
  clear(retired);
}

bool s3fifo_shard::over_limit(std::size_t extra_charge, std::size_t extra_entries) const noexcept {
  if (charge_ + extra_charge > limits_.max_charge) return true;
  return limits_.max_entries && table_.size() + extra_entries > *limits_.max_entries;
}

bool s3fifo_shard::small_over_share() const noexcept {
  if (small_.charge() >= small_charge_share_) return true;
  return small_.count() >= small_entries_share_;
}

std::size_t s3fifo_shard::ghost_capacity() const noexcept {
  // The paper sizes the ghost like the main FIFO in entries; the entry count of a full shard
  // is the same order and is known without a byte-to-entry guess.
  return std::max<std::size_t>(table_.size(), 16);
}

void s3fifo_shard::put(l1_entry* fresh, monotonic_clock::time_point now, retired_entries& retired) {
  std::uint8_t queue = in_small;
  std::uint8_t freq = 0;
  if (l1_entry* old = table_.find(fresh->hash, fresh->key()); old != nullptr) {
    // An overwrite keeps the key's standing (its queue and counter) but not its value.
    queue = old->queue;
    freq = old->freq.load(std::memory_order_relaxed);
    unlink(old, retired);
  } else if (ghost_.take(fresh->hash)) {
    queue = in_main;
  }
  while (over_limit(fresh->charge, 1) && table_.size() > 0) evict_one(now, retired);

  fresh->queue = queue;
  fresh->freq.store(freq, std::memory_order_relaxed);
  (queue == in_main ? main_ : small_).push_head(fresh);
  table_.insert(fresh);
  charge_ += fresh->charge;
}

void s3fifo_shard::unlink(l1_entry* entry, retired_entries& retired) noexcept {
  queue_of(entry).remove(entry);
  table_.erase(entry);
  charge_ -= entry->charge;
  retired.add(entry);
}

void s3fifo_shard::erase(l1_entry* entry, retired_entries& retired) noexcept {
  unlink(entry, retired);
}

void s3fifo_shard::expire(l1_entry* entry, retired_entries& retired) noexcept {
  unlink(entry, retired);
  ++expirations_;
}

void s3fifo_shard::evict_one(monotonic_clock::time_point now, retired_entries& retired) noexcept {
  if (!small_.empty() && (small_over_share() || main_.empty())) {
    if (evict_from_small(now, retired)) return;
  }
  evict_from_main(now, retired);
}

bool s3fifo_shard::evict_from_small(monotonic_clock::time_point now,
                                    retired_entries& retired) noexcept {
  while (l1_entry* oldest = small_.tail()) {
    if (oldest->expires_at <= now) {
      expire(oldest, retired);
      return true;
    }
    if (oldest->freq.load(std::memory_order_relaxed) >= limits_.promote_threshold) {
      small_.remove(oldest);
      oldest->queue = in_main;
      main_.push_head(oldest);
      continue;
    }
    ghost_.add(oldest->hash, ghost_capacity());
    unlink(oldest, retired);
    ++evictions_;
    return true;
  }
  return false;
}

void s3fifo_shard::evict_from_main(monotonic_clock::time_point now,
                                   retired_entries& retired) noexcept {
  // Terminates: every pass over an entry lowers its counter, which never exceeds 3.
  while (l1_entry* oldest = main_.tail()) {
    if (oldest->expires_at <= now) {
      expire(oldest, retired);
      return;
    }
    if (const std::uint8_t freq = oldest->freq.load(std::memory_order_relaxed); freq > 0) {
      oldest->freq.store(static_cast<std::uint8_t>(std::min(freq, max_freq) - 1),
                         std::memory_order_relaxed);
      main_.remove(oldest);
      main_.push_head(oldest);
      continue;
    }
    unlink(oldest, retired);
    ++evictions_;
    return;
  }
}

template <typename Predicate>
std::size_t s3fifo_shard::remove_if(Predicate predicate, retired_entries& retired) noexcept {
  std::size_t removed = 0;
  for (entry_queue* queue : {&small_, &main_}) {
    for (l1_entry* entry = queue->head(); entry != nullptr;) {
      l1_entry* next = entry->older;  // read before `unlink` reuses the link
      if (predicate(*entry)) {
        unlink(entry, retired);
        ++removed;
      }
      entry = next;
    }
  }
  return removed;
}

std::size_t s3fifo_shard::erase_prefix(std::string_view prefix, retired_entries& retired) noexcept {
  return remove_if([prefix](const l1_entry& e) { return e.key().starts_with(prefix); }, retired);
}

std::size_t s3fifo_shard::sweep_expired(monotonic_clock::time_point cutoff,
                                        retired_entries& retired) noexcept {
  const std::size_t removed =
      remove_if([cutoff](const l1_entry& e) { return e.expires_at <= cutoff; }, retired);
  expirations_ += removed;
  return removed;
}

void s3fifo_shard::clear(retired_entries& retired) noexcept {
  for (entry_queue* queue : {&small_, &main_}) {
    for (l1_entry* entry = queue->head(); entry != nullptr;) {
      l1_entry* next = entry->older;
      retired.add(entry);
      entry = next;
    }
    queue->reset();
  }
  table_.clear();
  ghost_.clear();
  charge_ = 0;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
