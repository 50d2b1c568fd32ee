// Turns hiredis failures and Redis error replies into cachekit failures (backend.hpp's
// contract). The message names the operation, the server (`redis_endpoint::describe`, which
// has no credentials) and what went wrong; commands' arguments never appear in it, so neither
// can a password.
//
// Thread-safe: stateless.
#pragma once

#include <cachekit/result.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// The errc of a Redis error reply ("-WRONGPASS invalid username-password pair" without '-'):
// NOAUTH / WRONGPASS / NOPERM ⇒ backend_authentication; LOADING / READONLY / BUSY /
// CLUSTERDOWN / MASTERDOWN / TRYAGAIN ⇒ transient; anything else ⇒ backend_permanent.
[[nodiscard]] errc classify_error_reply(std::string_view reply) noexcept;

// A failure for an error reply to `operation` (e.g. "GET") on `where`.
[[nodiscard]] failure error_reply_failure(std::string_view operation, std::string_view where,
                                          std::string_view reply);

// What hiredis reported for a broken exchange: its `err` code (REDIS_ERR_IO, _EOF, ...), the
// errno saved right after the failing call, and `errstr`.
struct io_error {
  int hiredis_err = 0;
  int saved_errno = 0;
  std::string text;
};

// The errc of an I/O error: timeout for EAGAIN / ETIMEDOUT (the socket timeout fired or the
// connect did not finish in time), backend_permanent for a protocol error (the peer does not
// speak RESP), transient for everything else (refused, reset, closed, unresolvable).
[[nodiscard]] errc classify_io_error(const io_error& error) noexcept;

// A failure for an I/O error during `operation` on `where`; `budget` is the timeout that
// applied and `budget_name` its redis_options field, both quoted when the code is timeout.
[[nodiscard]] failure io_failure(std::string_view operation, std::string_view where,
                                 const io_error& error, std::chrono::milliseconds budget,
                                 std::string_view budget_name);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
