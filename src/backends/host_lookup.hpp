// Host name resolution with a deadline, for backends whose client library would otherwise call
// getaddrinfo(3) synchronously and without bound (hiredis 0.14 and libmemcached 1.1 both do,
// inside their connect). A DNS server that does not answer holds a plain getaddrinfo for the
// resolver's own timeout (resolv.conf `timeout:5 attempts:2`: 10 s and more per name server);
// here the caller waits at most its budget and gets `errc::timeout`.
//
// How: the lookup runs getaddrinfo on a detached thread of its own and the caller waits on a
// condition variable until the budget runs out. A lookup that overruns is abandoned, not
// cancelled (getaddrinfo cannot be interrupted); its thread finishes on its own and frees the
// shared state. This is curl's threaded resolver, and it is chosen over glibc's getaddrinfo_a
// because glibc's helper threads and request queue have no fork handler: a child forked while
// a parent's helper thread was alive or idle inherits a queue whose counters name threads that
// do not exist, and its own requests may never run. A thread per lookup inherits nothing.
//
// At most `max_running_lookups` lookups run at once per process (abandoned ones included);
// beyond that a lookup fails at once with `errc::timeout` rather than pile up threads on a
// resolver that hangs. The count is per process (a forked child starts from zero: the parent's
// lookup threads do not exist there).
//
// Nothing is cached: each call resolves again (so DNS changes are seen by the next
// connection, and there is nothing for a fork to share).
//
// Thread-safe.
#pragma once

#include <cachekit/result.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Lookups (getaddrinfo threads) that may run at once in one process.
inline constexpr std::size_t max_running_lookups = 32;

// `host` as a numeric address when it is one (IPv4, IPv6 with or without a zone), decided
// without any DNS traffic (getaddrinfo with AI_NUMERICHOST); nullopt for a name.
[[nodiscard]] std::optional<std::string> numeric_host(const std::string& host);

// The addresses of `host` for a TCP connection, as numeric host strings, IPv4 first (as hiredis
// 0.14 prefers), each family in getaddrinfo's order (RFC 6724), duplicates removed; a numeric
// `host` is returned as is, without a thread. Waits at
// most `budget`; `budget_name` is the option that sets it ("redis_options::connect_timeout"),
// quoted in messages.
// Failures: errc::timeout when the resolver does not answer within `budget` (or too many
// lookups are already stuck); errc::transient when the name does not resolve (it may appear
// later: a container not started yet) or the resolver fails. Messages name the host, the
// budget and what to do; they never contain anything but the host name.
[[nodiscard]] result<std::vector<std::string>> lookup_host(const std::string& host,
                                                           std::chrono::milliseconds budget,
                                                           std::string_view budget_name);

// Lookups running now in this process (for tests).
[[nodiscard]] std::size_t running_lookups() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
