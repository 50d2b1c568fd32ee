// How cache keys are written to Redis: unchanged (`plain`) or `t:{quote(tenant)}:{key}`
// (`tenant_scoped`), byte for byte as cachekit-py's PerRequestRedisBackend writes them.
//
// Thread-safe: stateless functions and an immutable value.
#pragma once

#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Python's `urllib.parse.quote(text, safe="")` over the bytes of `text`: every byte outside
// `A-Za-z0-9_.-~` becomes `%XX` with uppercase hex ("a b/c" -> "a%20b%2Fc", "é" -> "%C3%A9").
[[nodiscard]] std::string url_quote(std::string_view text);

// `t:{url_quote(tenant)}:`, the prefix cachekit-py's tenant-scoped backend puts on every key.
[[nodiscard]] std::string tenant_key_prefix(std::string_view tenant);

// The key on the wire: the prefix ("" for the plain layout) followed by the caller's key.
class redis_key_layout_rules {
 public:
  explicit redis_key_layout_rules(std::string prefix) : prefix_(std::move(prefix)) {}

  [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }
  [[nodiscard]] bool is_plain() const noexcept { return prefix_.empty(); }

  [[nodiscard]] std::string wire_key(std::string_view key) const {
    std::string out;
    out.reserve(prefix_.size() + key.size());
    out.append(prefix_).append(key);
    return out;
  }

  // `{wire key}:lock`: the distributed fill lock of `key`.
  [[nodiscard]] std::string lock_key(std::string_view key) const {
    std::string out;
    out.reserve(prefix_.size() + key.size() + 5);
    out.append(prefix_).append(key).append(":lock");
    return out;
  }

 private:
  std::string prefix_;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
