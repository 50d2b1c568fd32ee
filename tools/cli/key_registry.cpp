#include "key_registry.hpp"

#include "coherence/invalidation_event.hpp"

#include <cachekit/default_key.hpp>

namespace cachekit::cli {

std::string registry_id(std::string_view function, const std::optional<std::string>& ns) {
  return detail::registry_id(function, ns);
}

result<std::string> function_key_prefix(std::string_view function,
                                        const std::optional<std::string>& ns) {
  auto key = default_key(function, {}, {}, {.ns = ns});
  if (!key) return std::move(key).error();
  const auto args = key->find(":args:");
  if (args == std::string::npos) {
    return fail(errc::invalid_key, "the function name makes a shortened key; give --prefix");
  }
  return key->substr(0, args + 6);
}

std::string invalidation_event(std::string_view registry_id) {
  return detail::encode_invalidation_event(registry_id, std::nullopt).value_or(std::string{});
}

}  // namespace cachekit::cli
