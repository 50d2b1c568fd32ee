// What a libmemcached return code means for the caller and for the connection that produced
// it. The mapping follows cachekit-py's classify_memcached_error (INVENTORY §5.3): timeouts are
// timeouts; connection, I/O and server errors are transient; client errors, bad keys and
// too-large items are permanent; SASL failures are authentication errors.
#pragma once

#include <cachekit/error.hpp>

#include <libmemcached-1.0/types/return.h>

namespace cachekit {
inline namespace v0 {
namespace detail {

enum class memcached_outcome {
  answer,          // the server answered as the protocol allows (stored, found, not found ...)
  timeout,         // no answer in time: the connection may still deliver a late reply
  unreachable,     // connect failed, connection lost or unusable: the server may be down
  server_error,    // the server answered SERVER_ERROR (out of memory ...): retry later
  rejected,        // the server or client refused the request itself (too large, bad key)
  authentication,  // SASL refused
};

// Classifies `rc`. `is_answer` says whether the calling operation takes `rc` as a normal reply
// (e.g. SUCCESS and NOTFOUND for get). `saved_errno` is memcached_last_error_errno(): it tells
// a socket-creation failure from the server's "ERROR" reply, which share a code.
[[nodiscard]] memcached_outcome classify_memcached_return(memcached_return_t rc, bool is_answer,
                                                          int saved_errno) noexcept;

// The cachekit code for an outcome other than `answer`.
[[nodiscard]] errc errc_of(memcached_outcome outcome) noexcept;

// Whether the connection must be closed: anything but an answer may leave a half-read reply
// in the socket.
[[nodiscard]] inline bool must_discard_connection(memcached_outcome outcome) noexcept {
  return outcome != memcached_outcome::answer;
}

// Whether the outcome counts against the server's health (skipping after retry_attempts).
[[nodiscard]] inline bool counts_as_server_failure(memcached_outcome outcome) noexcept {
  return outcome == memcached_outcome::timeout || outcome == memcached_outcome::unreachable;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
