// A map of bounded size that drops its least recently used entry to make room, for tables keyed
// by something callers choose (tenants): a burst of new keys costs only the coldest entries,
// never the whole table.
//
// Thread safety: not thread-safe; the owner locks.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {

template <class Value>
class lru_map {
 public:
  explicit lru_map(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // The value of `key`, now the most recently used; nullptr when absent.
  [[nodiscard]] Value* find(std::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  // Adds (or replaces) `key`, most recently used, dropping the least recently used entry when
  // the map is full. Returns the stored value.
  Value& put(std::string key, Value value) {
    if (Value* held = find(key)) {
      *held = std::move(value);
      return *held;
    }
    if (index_.size() >= capacity_) {
      index_.erase(std::string_view(order_.back().first));
      order_.pop_back();
    }
    order_.emplace_front(std::move(key), std::move(value));
    index_.emplace(std::string_view(order_.front().first), order_.begin());
    return order_.front().second;
  }

  [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }
  [[nodiscard]] bool contains(std::string_view key) const { return index_.contains(key); }

 private:
  using entry_list = std::list<std::pair<std::string, Value>>;
  struct view_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  std::size_t capacity_;
  entry_list order_;  // most recently used first; its strings back the index's views
  std::unordered_map<std::string_view, typename entry_list::iterator, view_hash, std::equal_to<>>
      index_;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
