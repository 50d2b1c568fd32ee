// A FIFO of L1 entries, intrusive through the entries' `newer`/`older` links: O(1) insert at
// the head, removal anywhere, and the oldest entry at the tail. Tracks its count and charge.
// Thread-compatible: used under the shard's exclusive lock.
#pragma once

#include <cachekit/l1_cache.hpp>

#include <cstddef>

namespace cachekit {
inline namespace v0 {
namespace detail {

class entry_queue {
 public:
  [[nodiscard]] bool empty() const noexcept { return tail_ == nullptr; }
  [[nodiscard]] std::size_t count() const noexcept { return count_; }
  [[nodiscard]] std::size_t charge() const noexcept { return charge_; }
  /// The oldest entry, or nullptr.
  [[nodiscard]] l1_entry* tail() const noexcept { return tail_; }
  /// The newest entry, or nullptr.
  [[nodiscard]] l1_entry* head() const noexcept { return head_; }

  void push_head(l1_entry* entry) noexcept {
    entry->newer = nullptr;
    entry->older = head_;
    if (head_ != nullptr) head_->newer = entry;
    head_ = entry;
    if (tail_ == nullptr) tail_ = entry;
    ++count_;
    charge_ += entry->charge;
  }

  void remove(l1_entry* entry) noexcept {
    (entry->newer != nullptr ? entry->newer->older : head_) = entry->older;
    (entry->older != nullptr ? entry->older->newer : tail_) = entry->newer;
    entry->newer = entry->older = nullptr;
    --count_;
    charge_ -= entry->charge;
  }

  /// Forgets all entries (does not release them).
  void reset() noexcept {
    head_ = tail_ = nullptr;
    count_ = charge_ = 0;
  }

 private:
  l1_entry* head_ = nullptr;
  l1_entry* tail_ = nullptr;
  std::size_t count_ = 0;
  std::size_t charge_ = 0;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
