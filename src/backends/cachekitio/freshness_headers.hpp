// How the cachekit.io backend reads the response headers that steer it (spec/saas-api.md): the
// freshness label, the remaining-freshness bound and Retry-After. Pure functions, each pinned by
// the protocol's vectors (freshness-headers.json) or cachekit-py 0.24.1's parser.
//
// Thread-safe (pure).
#pragma once

#include <optional>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// The largest TTL the API accepts, and so the largest X-CacheKit-Fresh-For (30 days).
inline constexpr long long cachekitio_max_ttl_seconds = 2'592'000;

// X-CacheKit-Freshness on a GET 200: fresh when absent (nullopt: pre-SWR servers send none)
// or exactly "fresh"; any other value, case and white space included, is stale (revalidating
// is the conservative action).
[[nodiscard]] bool is_stale_freshness(std::optional<std::string_view> value) noexcept;

// X-CacheKit-Fresh-For: nullopt when absent (no server-side bound); the number when it is 1 to
// 7 ASCII digits and at most 30 days; 0 for anything else (never extend local service). The
// length is checked before the digits are read, so no value overflows.
[[nodiscard]] std::optional<long long> parse_fresh_for(
    std::optional<std::string_view> value) noexcept;

// Retry-After in its delta-seconds form when it is at most `max_seconds`; nullopt for an
// HTTP-date, a fraction, a sign, an absent header or a larger value (cachekit-py's reading:
// leading zeros are allowed, surrounding white space is ignored).
[[nodiscard]] std::optional<long long> parse_retry_after(std::optional<std::string_view> value,
                                                         long long max_seconds) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
