#include "cache/stale_refreshes.hpp"

#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {

struct stale_refreshes::claim {
  claim(std::shared_ptr<table> t, std::string k) : in(std::move(t)), key(std::move(k)) {}
  claim(const claim&) = delete;
  claim& operator=(const claim&) = delete;
  ~claim() {
    if (!held) return;
    const std::lock_guard lock(in->mutex);
    in->keys.erase(key);
  }
  std::shared_ptr<table> in;
  std::string key;
  bool held = false;  // set once `key` is in the table
};

std::shared_ptr<const void> stale_refreshes::try_claim(std::string_view key) noexcept {
  try {
    // Made before the key goes in, so no allocation can fail while the key is held untokened.
    auto token = std::make_shared<claim>(tables_.get().shared, std::string(key));
    const std::lock_guard lock(token->in->mutex);
    if (token->in->keys.size() >= limit_) return nullptr;
    token->held = token->in->keys.insert(token->key).second;
    if (!token->held) return nullptr;
    return token;
  } catch (...) {  // out of memory: no refresh this time (a later stale read tries again)
    return nullptr;
  }
}

std::size_t stale_refreshes::running() {
  const std::shared_ptr<table> t = tables_.get().shared;
  const std::lock_guard lock(t->mutex);
  return t->keys.size();
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
