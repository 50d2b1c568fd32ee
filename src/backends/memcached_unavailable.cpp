// memcached_backend in a cachekit built without the memcached component
// (CACHEKIT_WITH_MEMCACHED=OFF, so no libmemcached): the public type stays, so code that names
// it still compiles and links, and constructing one says how to get the real backend.
#include <cachekit/error.hpp>
#include <cachekit/memcached_backend.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {

struct memcached_backend::impl {};

namespace {

constexpr const char* unavailable =
    "this cachekit was built without the memcached backend (CACHEKIT_WITH_MEMCACHED=OFF); "
    "rebuild cachekit with -DCACHEKIT_WITH_MEMCACHED=ON (needs libmemcached-dev), or ask "
    "find_package(cachekit COMPONENTS memcached) to require it";

failure not_built() {
  return fail(errc::invalid_configuration, unavailable);
}

}  // namespace

memcached_backend::memcached_backend(memcached_options) {
  throw error(errc::invalid_configuration, unavailable);
}
memcached_backend::~memcached_backend() = default;
memcached_backend::memcached_backend(memcached_backend&&) noexcept = default;
memcached_backend& memcached_backend::operator=(memcached_backend&&) noexcept = default;

// Unreachable: no memcached_backend can be constructed. Defined for the vtable.
std::string_view memcached_backend::key_prefix() const noexcept {
  return {};
}
result<std::optional<byte_buffer>> memcached_backend::get(std::string_view) {
  return not_built();
}
result<void> memcached_backend::set(std::string_view, byte_view, ttl_seconds) {
  return not_built();
}
result<bool> memcached_backend::erase(std::string_view) {
  return not_built();
}
result<bool> memcached_backend::exists(std::string_view) {
  return not_built();
}
result<std::vector<std::optional<byte_buffer>>> memcached_backend::get_many(
    std::span<const std::string_view>) {
  return not_built();
}
result<std::vector<std::optional<timed_value>>> memcached_backend::get_many_with_ttl(
    std::span<const std::string_view>) {
  return not_built();
}
result<remaining_ttl> memcached_backend::ttl(std::string_view) {
  return not_built();
}
result<bool> memcached_backend::touch(std::string_view, ttl_seconds) {
  return not_built();
}
backend_health memcached_backend::health() {
  return {.healthy = false,
          .latency = std::chrono::microseconds(-1),
          .backend_type = "memcached",
          .details = {{"error", unavailable}}};
}

}  // namespace v0
}  // namespace cachekit
