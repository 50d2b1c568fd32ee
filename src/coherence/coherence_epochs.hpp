// Guards L1 backfills against invalidations that arrive while the L2 read is in flight.
//
// The race: a reader reads the old value from L2, another process writes and its invalidation
// reaches the listener, which drops the key from L1 (nothing there yet), then the reader's
// backfill puts the old value in L1, where no later event removes it. So the listener bumps the
// key's epoch before it drops the copy, and a backfill takes a snapshot before its L2 read and
// checks it after its L1 put, erasing its own copy when an invalidation came in between. Keys
// share 1024 slots: a collision costs one needless L2 read, never a stale copy. A global epoch
// covers whole-function drops, flushes and reconnections.
//
// Thread-safe and fork-safe: lock-free atomics only.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

class coherence_epochs {
 public:
  struct snapshot {
    std::uint64_t global;
    std::uint64_t slot;
    std::size_t index;
  };

  [[nodiscard]] snapshot take(std::string_view key) const noexcept {
    const std::size_t index = std::hash<std::string_view>{}(key) % slot_count;
    return {global_.load(), slots_[index].load(), index};
  }

  // False when the key (or everything) was invalidated since `taken`.
  [[nodiscard]] bool unchanged(const snapshot& taken) const noexcept {
    return global_.load() == taken.global && slots_[taken.index].load() == taken.slot;
  }

  void bump(std::string_view key) noexcept {
    slots_[std::hash<std::string_view>{}(key) % slot_count].fetch_add(1);
  }

  void bump_all() noexcept { global_.fetch_add(1); }

 private:
  static constexpr std::size_t slot_count = 1024;
  std::array<std::atomic<std::uint64_t>, slot_count> slots_{};
  std::atomic<std::uint64_t> global_{0};
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
