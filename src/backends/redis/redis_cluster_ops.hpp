// The redis_backend operations that a Redis Cluster needs done differently from a single
// server: the ones that touch keys of several slots (get_many, erase_prefix, set_tracked,
// drain_registry) and the ones that address every master (health). redis_backend.cpp calls
// these when its URL is `redis+cluster://`; include/cachekit/redis_backend.hpp documents
// what each one sends.
//
// Thread-safe as the router is.
#pragma once

#include "backends/redis/redis_cluster_router.hpp"
#include "backends/redis/redis_key_layout.hpp"

#include <cachekit/backend.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

// One MGET per slot, pipelined per master; the values in the order of `keys`.
[[nodiscard]] result<std::vector<std::optional<byte_buffer>>> get_many_cluster(
    redis_cluster_router& router, const redis_key_layout_rules& layout,
    std::span<const std::string_view> keys);

// SCAN MATCH `pattern` on every master, each batch (fill locks excepted) unlinked per slot.
[[nodiscard]] result<std::size_t> erase_prefix_cluster(redis_cluster_router& router,
                                                       const std::string& pattern);

// `set_argv` on the key's master, then `sadd` and `expire` pipelined on the registry's.
[[nodiscard]] result<bool> set_tracked_cluster(redis_cluster_router& router,
                                               std::string_view wire_key,
                                               std::string_view registry_key,
                                               std::span<const std::string_view> set_argv,
                                               std::span<const std::string_view> sadd,
                                               std::span<const std::string_view> expire);

// cachekit-py's drain script as routed steps (SRANDMEMBER, UNLINK per slot, SREM).
[[nodiscard]] result<std::size_t> drain_registry_cluster(redis_cluster_router& router,
                                                         std::string_view registry_key,
                                                         std::string_view prefix);

// PING every master, INFO and CLUSTER INFO from the first; `health` arrives unhealthy.
[[nodiscard]] backend_health cluster_health(redis_cluster_router& router, backend_health health);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
