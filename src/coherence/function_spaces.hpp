// Which L1 key spaces belong to a registry id, so a whole-function invalidation event (no key)
// drops the copies of every memoized function it names. An append-only lock-free list: a
// memoized function registers once when it is made, and the listener reads the list from its
// thread. No lock, so a process forked while another thread registered never waits on one.
//
// Thread-safe and fork-safe. Entries are never removed (one per distinct function and
// namespace made by the cache, a few dozen bytes each).
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

class function_spaces {
 public:
  function_spaces() = default;
  function_spaces(const function_spaces&) = delete;
  function_spaces& operator=(const function_spaces&) = delete;
  ~function_spaces() {
    node* n = head_.load();
    while (n != nullptr) {
      node* next = n->next;
      delete n;
      n = next;
    }
  }

  // Records that `key_space` belongs to `registry` (once; a racing duplicate is harmless).
  void add(std::string_view registry, std::string_view key_space) {
    if (contains(registry, key_space)) return;
    auto* fresh = new node{std::string(registry), std::string(key_space), head_.load()};
    while (!head_.compare_exchange_weak(fresh->next, fresh)) {
    }
  }

  // The key spaces of `registry`.
  [[nodiscard]] std::vector<std::string> of(std::string_view registry) const {
    std::vector<std::string> out;
    for (const node* n = head_.load(); n != nullptr; n = n->next) {
      if (n->registry == registry) out.push_back(n->key_space);
    }
    return out;
  }

 private:
  struct node {
    std::string registry;
    std::string key_space;
    node* next;
  };

  [[nodiscard]] bool contains(std::string_view registry, std::string_view key_space) const {
    for (const node* n = head_.load(); n != nullptr; n = n->next) {
      if (n->registry == registry && n->key_space == key_space) return true;
    }
    return false;
  }

  std::atomic<node*> head_{nullptr};
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
