#include <cachekit/backend.hpp>

namespace cachekit {
inline namespace v0 {
namespace {

failure unsupported(const backend& b, const char* operation) {
  return fail(errc::not_supported,
              std::string(b.type()) + " backend has no " + operation + " operation");
}

}  // namespace

result<std::vector<std::optional<byte_buffer>>> backend::get_many(
    std::span<const std::string_view> keys) {
  std::vector<std::optional<byte_buffer>> out;
  out.reserve(keys.size());
  for (auto key : keys) {
    auto one = get(key);
    if (!one) return std::move(one).error();
    out.push_back(std::move(*one));
  }
  return out;
}

result<std::vector<std::optional<timed_value>>> backend::get_many_with_ttl(
    std::span<const std::string_view> keys) {
  std::vector<std::optional<timed_value>> out;
  out.reserve(keys.size());
  for (auto key : keys) {
    auto one = get_with_ttl(key);
    if (!one) return std::move(one).error();
    out.push_back(std::move(*one));
  }
  return out;
}

result<void> backend::set_many(std::span<const write_request> writes) {
  for (const auto& w : writes) {
    if (w.registry.empty()) {
      if (auto stored = set(w.key, w.value, w.ttl); !stored) return stored;
    } else if (auto tracked = set_tracked(w.key, w.value, w.ttl, w.registry); !tracked) {
      return std::move(tracked).error();
    }
  }
  return {};
}

result<bool> backend::set_if_absent(std::string_view key, byte_view value, ttl_seconds ttl) {
  if (ttl && *ttl <= std::chrono::seconds::zero()) return false;
  auto present = exists(key);
  if (!present) return std::move(present).error();
  if (*present) return false;
  auto stored = set(key, value, ttl);
  if (!stored) return std::move(stored).error();
  return true;
}

result<remaining_ttl> backend::ttl(std::string_view) {
  return unsupported(*this, "ttl");
}

result<std::optional<timed_value>> backend::get_with_ttl(std::string_view key) {
  auto found = get(key);
  if (!found) return std::move(found).error();
  if (!*found) return std::optional<timed_value>{};
  timed_value out{std::move(**found), std::nullopt};
  // The value is already in hand: a TTL that cannot be read only makes the lifetime unknown.
  if (auto left = ttl(key)) {
    out.remaining.emplace(left->exists ? left->ttl : ttl_seconds{std::chrono::seconds{0}});
  }
  return std::optional<timed_value>{std::move(out)};
}

result<bool> backend::touch(std::string_view, ttl_seconds) {
  return unsupported(*this, "touch");
}

result<std::optional<lock_token>> backend::try_lock(std::string_view, std::chrono::milliseconds) {
  return unsupported(*this, "lock");
}

result<bool> backend::release_lock(const lock_token&) {
  return unsupported(*this, "lock");
}

result<std::size_t> backend::erase_prefix(std::string_view) {
  return unsupported(*this, "erase_prefix");
}

result<bool> backend::set_tracked(std::string_view key, byte_view value, ttl_seconds ttl,
                                  std::string_view) {
  auto stored = set(key, value, ttl);
  if (!stored) return std::move(stored).error();
  return false;
}

result<std::size_t> backend::drain_registry(std::string_view) {
  return unsupported(*this, "key registry");
}

result<std::size_t> backend::publish(std::string_view, byte_view) {
  return unsupported(*this, "publish");
}

result<std::unique_ptr<backend_subscription>> backend::subscribe(const subscription_options&) {
  return unsupported(*this, "subscribe");
}

}  // namespace v0
}  // namespace cachekit
