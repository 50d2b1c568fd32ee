#include "backends/memcached/memcached_outcome.hpp"

#include <cerrno>

namespace cachekit {
inline namespace v0 {
namespace detail {

memcached_outcome classify_memcached_return(memcached_return_t rc, bool is_answer,
                                            int saved_errno) noexcept {
  if (is_answer) return memcached_outcome::answer;
  switch (rc) {
    case MEMCACHED_TIMEOUT: return memcached_outcome::timeout;

    case MEMCACHED_ERRNO:
      return saved_errno == ETIMEDOUT || saved_errno == EAGAIN ? memcached_outcome::timeout
                                                               : memcached_outcome::unreachable;

    // MEMCACHED_ERROR is both the server's "ERROR" (unknown command: nothing a retry fixes, as
    // pymemcache's MemcacheUnknownCommandError is a client error) and, under its alias
    // MEMCACHED_CONNECTION_SOCKET_CREATE_FAILURE, a local socket() failure, which sets errno.
    case MEMCACHED_ERROR:
      return saved_errno != 0 ? memcached_outcome::unreachable : memcached_outcome::rejected;

    case MEMCACHED_SERVER_ERROR:
    case MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE: return memcached_outcome::server_error;

    case MEMCACHED_E2BIG:
    case MEMCACHED_CLIENT_ERROR:
    case MEMCACHED_BAD_KEY_PROVIDED:
    case MEMCACHED_NO_KEY_PROVIDED:
    case MEMCACHED_KEY_TOO_BIG:
    case MEMCACHED_INVALID_ARGUMENTS:
    case MEMCACHED_NOT_SUPPORTED:
    case MEMCACHED_DEPRECATED:
    case MEMCACHED_INVALID_HOST_PROTOCOL:
    case MEMCACHED_PARSE_ERROR:
    case MEMCACHED_PARSE_USER_ERROR:
    case MEMCACHED_UNKNOWN_STAT_KEY:
    case MEMCACHED_FAIL_UNIX_SOCKET: return memcached_outcome::rejected;

    case MEMCACHED_AUTH_PROBLEM:
    case MEMCACHED_AUTH_FAILURE:
    case MEMCACHED_AUTH_CONTINUE: return memcached_outcome::authentication;

    // Connection and I/O failures, a server libmemcached itself disabled, and replies that make
    // no sense for the command sent (a stream out of step): close and try a new connection.
    default: return memcached_outcome::unreachable;
  }
}

errc errc_of(memcached_outcome outcome) noexcept {
  switch (outcome) {
    case memcached_outcome::timeout: return errc::timeout;
    case memcached_outcome::rejected: return errc::backend_permanent;
    case memcached_outcome::authentication: return errc::backend_authentication;
    case memcached_outcome::answer:
    case memcached_outcome::unreachable:
    case memcached_outcome::server_error: break;
  }
  return errc::transient;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
