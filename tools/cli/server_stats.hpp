// The server figures of `cachekit stats`: Redis INFO essentials, memcached `stats` per server,
// the file backend's directory usage. Single-threaded; opens its own connections.
#pragma once

#include "backend_from_flags.hpp"

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cachekit::cli {

using labelled_lines = std::vector<std::pair<std::string, std::string>>;

/// The figures of `b`'s server(s), labelled, in display order.
/// Errors: the backend's (transient / timeout / authentication) when it does not answer.
[[nodiscard]] result<labelled_lines> server_stats(live_backend& b);

/// memcached's `stats` of one `host:port` (IPv6 as `[::1]:11211`) over the ASCII protocol.
[[nodiscard]] result<std::map<std::string, std::string>> memcached_stats(
    const std::string& server, std::chrono::milliseconds timeout);

}  // namespace cachekit::cli
