// One T per process: a forked child that asks for it gets a fresh, default-constructed T, not
// its parent's. For small state guarded by a lock (sets, tables) that a thread of the parent may
// have held at the fork: the child never takes that lock.
//
// The parent's T is abandoned in the child, never destroyed: its lock may be held for good, its
// containers half-updated. One abandoned T per fork, and only in the children that use it.
//
// Thread-safe: get() is one acquire load, one relaxed load and a compare; the first get() in a
// child allocates and installs the fresh T lock-free.
#pragma once

#include "process/fork_generation.hpp"

#include <atomic>
#include <cstdint>
#include <memory>

namespace cachekit {
inline namespace v0 {
namespace detail {

template <typename T>
class per_process {
 public:
  per_process() : current_(new node(watch_forks())) {}
  ~per_process() { delete current_.load(std::memory_order_acquire); }
  per_process(const per_process&) = delete;
  per_process& operator=(const per_process&) = delete;

  // This process's T.
  [[nodiscard]] T& get() {
    node* seen = current_.load(std::memory_order_acquire);
    const std::uint64_t generation = fork_generation();
    if (seen->generation == generation) [[likely]] {
      return seen->value;
    }
    return replace(seen, generation);
  }

 private:
  struct node {
    explicit node(std::uint64_t gen) : generation(gen) {}
    const std::uint64_t generation;
    T value{};
  };

  T& replace(node* seen, std::uint64_t generation) {
    auto fresh = std::make_unique<node>(generation);
    while (seen->generation != generation) {
      if (current_.compare_exchange_weak(seen, fresh.get(), std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        return fresh.release()->value;  // `seen`, the parent's, is abandoned
      }
    }
    return seen->value;  // another thread of this child installed its T first
  }

  std::atomic<node*> current_;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
