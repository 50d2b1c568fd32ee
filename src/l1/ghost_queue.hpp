// S3-FIFO's ghost FIFO: the hashes of keys recently evicted from the small FIFO, without
// their keys or values (~24 bytes per remembered key). A key that comes back while its hash is
// remembered skips the small FIFO. Thread-compatible: used under the shard's exclusive lock.
//
// A FIFO of hashes plus an open-addressing set of the same hashes. The set is approximate in
// one harmless way: a hash added twice is forgotten when its older record leaves the FIFO.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>

namespace cachekit {
inline namespace v0 {
namespace detail {

class ghost_queue {
 public:
  // Nothing is allocated before the first eviction: most caches of a few entries (object mode's
  // per-function caches) never evict, and a std::deque allocates as soon as it is made.
  ghost_queue() = default;

  /// Remembers `hash`, forgetting the oldest hashes beyond `capacity`.
  void add(std::uint64_t hash, std::size_t capacity) {
    if (slots_ == nullptr) slots_ = std::make_unique<std::uint64_t[]>(initial_capacity);
    if (!fifo_) fifo_ = std::make_unique<std::deque<std::uint64_t>>();
    hash = stored(hash);
    fifo_->push_back(hash);
    if (!contains(hash)) insert(hash);
    while (fifo_->size() > capacity) {
      remove(fifo_->front());
      fifo_->pop_front();
    }
  }

  /// Whether `hash` is remembered; forgets it if so.
  bool take(std::uint64_t hash) noexcept { return size_ != 0 && remove(stored(hash)); }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  void clear() noexcept {
    if (fifo_) fifo_->clear();
    if (slots_ != nullptr) std::fill(slots_.get(), slots_.get() + mask_ + 1, empty);
    size_ = 0;
  }

 private:
  static constexpr std::size_t initial_capacity = 16;
  static constexpr std::uint64_t empty = 0;

  // 0 marks an empty slot, so hash 0 is stored as 1 (one more harmless collision).
  static std::uint64_t stored(std::uint64_t hash) noexcept { return hash == empty ? 1 : hash; }

  [[nodiscard]] bool contains(std::uint64_t hash) const noexcept {
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == hash) return true;
      if (slots_[i] == empty) return false;
    }
  }

  void insert(std::uint64_t hash) {
    if ((size_ + 1) * 4 > (mask_ + 1) * 3) grow();
    place(hash);
    ++size_;
  }

  void place(std::uint64_t hash) noexcept {
    std::size_t i = hash & mask_;
    while (slots_[i] != empty) i = (i + 1) & mask_;
    slots_[i] = hash;
  }

  bool remove(std::uint64_t hash) noexcept {
    std::size_t hole = hash & mask_;
    while (slots_[hole] != hash) {
      if (slots_[hole] == empty) return false;
      hole = (hole + 1) & mask_;
    }
    // Backward shift, as in entry_table.
    for (std::size_t next = (hole + 1) & mask_; slots_[next] != empty; next = (next + 1) & mask_) {
      const std::size_t home = slots_[next] & mask_;
      const bool home_in_gap =
          hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
      if (home_in_gap) continue;
      slots_[hole] = slots_[next];
      hole = next;
    }
    slots_[hole] = empty;
    --size_;
    return true;
  }

  void grow() {
    auto old = std::move(slots_);
    const std::size_t old_capacity = mask_ + 1;
    slots_ = std::make_unique<std::uint64_t[]>(old_capacity * 2);
    mask_ = old_capacity * 2 - 1;
    for (std::size_t i = 0; i < old_capacity; ++i) {
      if (old[i] != empty) place(old[i]);
    }
  }

  // Made by the first add, behind a pointer: an unused deque is 80 bytes in every shard.
  std::unique_ptr<std::deque<std::uint64_t>> fifo_;
  std::unique_ptr<std::uint64_t[]> slots_;  // zero-initialised: all empty; null until then
  std::size_t mask_ = initial_capacity - 1;
  std::size_t size_ = 0;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
