// What the memcached backend puts on the wire, as pure functions: the key check, the expiration
// time and the parsing of "host:port" server entries. Kept apart from the I/O so unit tests can
// pin each rule against cachekit-py / pymemcache without a server.
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// memcached's key limit (ASCII protocol, KEY_MAX_LENGTH), prefix included.
inline constexpr std::size_t memcached_max_key_size = 250;

// The largest relative expiration memcached accepts; larger numbers are read as Unix times.
// cachekit-py's MAX_MEMCACHED_TTL.
inline constexpr std::chrono::seconds memcached_max_ttl{2'592'000};

// The memcached exptime for `ttl`, as cachekit-py computes it: 0 (no expiry) for nullopt or a
// TTL of zero or less; otherwise min(ttl, 30 days). (The backend itself deletes the key for a
// TTL of zero or less before it gets here: backend.hpp.)
[[nodiscard]] std::int64_t memcached_expiration(ttl_seconds ttl) noexcept;

// Checks that `prefix + key` is a memcached key: 1-250 bytes, each in 0x21-0x7E. Failure is
// errc::backend_permanent (cachekit-py classifies pymemcache's illegal-key errors as permanent)
// with a message naming the offending byte's value and offset, never the key itself (keys can
// carry user data and messages reach logs).
[[nodiscard]] result<void> check_memcached_key(std::string_view prefix, std::string_view key);

// Checks a configured key prefix: at most 249 bytes of 0x21-0x7E (so a 1-byte key still fits).
// Failure is errc::invalid_configuration.
[[nodiscard]] result<void> check_memcached_key_prefix(std::string_view prefix);

// One parsed server entry.
struct memcached_server_address {
  std::string host;  // as written, brackets of an IPv6 literal included
  std::uint16_t port = 0;
  std::string node_name;  // pymemcache's node id: host + ":" + decimal port ("%s:%s" % server)
};

// Parses `entry` ("host:port") the way cachekit-py does (split at the last ':', the port a
// number 1-65535). `index` is the entry's position, used in the message instead of its text
// (cachekit-py does the same: a malformed entry may carry a credential).
// Failure is errc::invalid_configuration.
[[nodiscard]] result<memcached_server_address> parse_memcached_server(std::string_view entry,
                                                                      std::size_t index);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
