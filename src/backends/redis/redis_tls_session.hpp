// One TLS session over a connected socket that a redis_connection owns: the handshake with a
// deadline, then reads and writes each bounded by the command timeout, with poll.
//
// The socket is switched to non-blocking mode. OpenSSL never touches the descriptor itself: a
// BIO of ours sends with MSG_NOSIGNAL (a reset connection fails the write instead of raising
// SIGPIPE, as on plain connections) and receives with recv.
//
// Closing never sends close_notify (no SSL_shutdown): a forked child that drops the
// connections it inherited must not write into its parent's session, and a framed protocol
// such as RESP gains nothing from it. The descriptor is closed by its owner, not here.
//
// Not thread-safe: one thread at a time, like its connection.
#pragma once

#include "backends/redis/redis_tls_context.hpp"

#include <cachekit/result.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

using SSL = struct ssl_st;

namespace cachekit {
inline namespace v0 {
namespace detail {

class redis_tls_session {
 public:
  // Names used in failure messages: "redis <operation> on <where>: ...".
  struct labels {
    std::string_view operation;
    std::string_view where;
  };

  // Runs the client handshake on `fd` until `deadline`. SNI and the verified name are
  // tls.server_name, else `host` (an IP literal is verified as an address and sends no SNI).
  // Failures: errc::timeout (deadline), errc::transient (reset or closed during the handshake),
  // errc::backend_authentication (the certificate did not verify, or the server refused us with
  // an alert: the message has OpenSSL's reason), errc::backend_permanent (not TLS, e.g. a
  // plain-text port).
  static result<std::unique_ptr<redis_tls_session>> connect(
      const redis_tls_context& context, int fd, const std::string& host,
      std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds budget,
      labels names);

  ~redis_tls_session();
  redis_tls_session(const redis_tls_session&) = delete;
  redis_tls_session& operator=(const redis_tls_session&) = delete;

  // Writes all of `data`, waiting at most `timeout` for each step of progress.
  [[nodiscard]] result<void> write_all(std::string_view data, std::chrono::milliseconds timeout,
                                       labels names);

  // Reads at least one byte into `buffer`, waiting at most `timeout` for each step of progress.
  [[nodiscard]] result<std::size_t> read_some(std::span<char> buffer,
                                              std::chrono::milliseconds timeout, labels names);

  // Reads what can be read without waiting: 0 when no application bytes are ready (including
  // when only a TLS record such as a session ticket was processed).
  [[nodiscard]] result<std::size_t> read_ready(std::span<char> buffer, labels names);

  // Decrypted bytes already buffered in OpenSSL (poll on the socket cannot see them).
  [[nodiscard]] bool has_buffered() const noexcept;

  // For an idle connection: true when the server closed it or sent application bytes nobody
  // asked for; TLS housekeeping records (session tickets) are consumed and do not count.
  [[nodiscard]] bool peer_closed() noexcept;

 private:
  redis_tls_session(SSL* ssl, int fd) noexcept : ssl_(ssl), fd_(fd) {}

  // One step of SSL_read / SSL_write / SSL_connect's outcome.
  enum class step { done, want_read, want_write, closed, failed };
  step classify(int rc, int& saved_errno) noexcept;
  // One SSL_read into `buffer`: `done` with `bytes` read, or what it waits for, or the failure.
  step read_step(std::span<char> buffer, std::size_t& bytes, int& saved_errno) noexcept;
  failure failure_of(step outcome, int saved_errno, labels names, std::chrono::milliseconds budget,
                     std::string_view budget_name) const;
  [[nodiscard]] bool wait_for(step want, std::chrono::steady_clock::time_point deadline,
                              int& saved_errno) const noexcept;

  SSL* ssl_;
  int fd_;
  bool has_client_cert_ = false;
  bool handshaking_ = true;  // failures name the handshake until it completes
  // The server asked for a client certificate (TLS 1.3 refuses one after the client's side of
  // the handshake is done: the refusal, often just a reset, comes before any reply).
  bool certificate_requested_ = false;
  bool received_ = false;  // any application byte came in
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
