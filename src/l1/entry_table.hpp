// The index of one L1 shard: open addressing with linear probing over (hash, entry) slots,
// deletion by backward shift (no tombstones). A lookup reads one slot run and, on a hash
// match, the entry's key: the key and value sit in the entry's own allocation.
// Thread-compatible: the shard lock makes lookups shared and changes exclusive.
#pragma once

#include <cachekit/l1_cache.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

class entry_table {
 public:
  // No slots until the first insert: a cache that is made but never used (a memoized function
  // never called) costs no table.
  entry_table() = default;

  /// The entry whose key is `key` (whose hash is `hash`), or nullptr.
  [[nodiscard]] l1_entry* find(std::uint64_t hash, std::string_view key) const noexcept {
    if (size_ == 0) return nullptr;  // also covers the slot array not made yet
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (s.entry == nullptr) return nullptr;
      if (s.hash == hash && s.entry->key() == key) return s.entry;
    }
  }

  /// Adds `entry`, whose key must be absent.
  void insert(l1_entry* entry) {
    if (slots_ == nullptr || (size_ + 1) * 4 > (mask_ + 1) * 3) grow();
    place(entry);
    ++size_;
  }

  /// Removes `entry`, which must be present.
  void erase(const l1_entry* entry) noexcept {
    std::size_t hole = entry->hash & mask_;
    while (slots_[hole].entry != entry) hole = (hole + 1) & mask_;
    // Backward shift: pull later members of the run into the hole unless that would put them
    // before their home slot.
    for (std::size_t next = (hole + 1) & mask_; slots_[next].entry != nullptr;
         next = (next + 1) & mask_) {
      const std::size_t home = slots_[next].hash & mask_;
      const bool home_in_gap =
          hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
      if (home_in_gap) continue;
      slots_[hole] = slots_[next];
      hole = next;
    }
    slots_[hole] = slot{};
    --size_;
  }

  /// Forgets every entry (does not release them); keeps the capacity.
  void clear() noexcept {
    if (slots_ != nullptr) std::fill(slots_.get(), slots_.get() + mask_ + 1, slot{});
    size_ = 0;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return slots_ ? mask_ + 1 : 0; }

 private:
  static constexpr std::size_t initial_capacity = 16;

  struct slot {
    std::uint64_t hash = 0;
    l1_entry* entry = nullptr;
  };

  void place(l1_entry* entry) noexcept {
    std::size_t i = entry->hash & mask_;
    while (slots_[i].entry != nullptr) i = (i + 1) & mask_;
    slots_[i] = slot{entry->hash, entry};
  }

  void grow() {
    if (slots_ == nullptr) {
      slots_ = std::make_unique<slot[]>(initial_capacity);
      mask_ = initial_capacity - 1;
      return;
    }
    auto old = std::move(slots_);
    const std::size_t old_capacity = mask_ + 1;
    slots_ = std::make_unique<slot[]>(old_capacity * 2);
    mask_ = old_capacity * 2 - 1;
    for (std::size_t i = 0; i < old_capacity; ++i) {
      if (old[i].entry != nullptr) place(old[i].entry);
    }
  }

  std::unique_ptr<slot[]> slots_;  // null until the first insert
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
