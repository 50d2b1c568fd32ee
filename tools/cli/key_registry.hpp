// Where the keys of one cached function are: cachekit-py 0.24.1's key registry (a Redis set per
// function that its Redis backends add every written key to) and the key prefix every
// default-mode key of the function starts with.
//
// cachekit-py names the set `ck:reg:{namespace or ""}:{h}`, h = the first 16 hex digits of
// BLAKE3(`module.qualname`) (decorators/wrapper.py), and stores it under the backend's key
// prefix (`t:{tenant}:` for the tenant-scoped layout); members are cache keys without that
// prefix. The C++ cache keeps no registry, so its entries are found by their key prefix.
// Thread-safe: pure functions.
#pragma once

#include <cachekit/result.hpp>

#include "coherence/invalidation_event.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace cachekit::cli {

/// `ck:reg:{ns}:{blake3_16(function)}` (unscoped: put the backend's key prefix in front).
///     registry_id("myapp.get_user", std::nullopt) == "ck:reg::<16 hex digits>"
[[nodiscard]] std::string registry_id(std::string_view function,
                                      const std::optional<std::string>& ns);

/// The prefix every default-mode key of `function` starts with:
/// `[ns:{ns}:]func:{sanitized function}:args:` (default_key.hpp's sanitizing).
/// Errors: as `default_key` (an empty function name).
[[nodiscard]] result<std::string> function_key_prefix(std::string_view function,
                                                      const std::optional<std::string>& ns);

/// cachekit-py's invalidation event for every key of a registry (`invalidation.encode_event(id,
/// None)`): the MessagePack map {"r": registry_id} ("" when the id is over 1024 bytes), published
/// on `invalidation_channel`.
[[nodiscard]] std::string invalidation_event(std::string_view registry_id);
inline constexpr std::string_view invalidation_channel = detail::invalidation_channel;

}  // namespace cachekit::cli
