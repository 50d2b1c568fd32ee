// One blocking hiredis connection: connect with a timeout, AUTH and SELECT, then commands and
// pipelines with a per-read/write socket timeout.
//
// Requests are written here, not by hiredis: hiredis 0.14 writes with write(2), which raises
// SIGPIPE (killing a process that did not ignore it) when the server has reset the connection.
// We encode RESP into a reused buffer and send it with MSG_NOSIGNAL; hiredis only connects and
// parses replies.
//
// On a `rediss://` endpoint the same socket carries TLS (redis_tls_session): hiredis connects
// the TCP socket and parses replies fed to its reader; every byte in either direction goes
// through OpenSSL with our timeouts.
//
// A connection that failed an exchange (I/O error, timeout, EOF, protocol error) is `broken()`
// for good: hiredis leaves it with unread or half-written data, so the pool closes it.
//
// Not thread-safe: one thread at a time (the pool hands each connection to one operation).
#pragma once

#include "backends/redis/redis_tls_context.hpp"
#include "backends/redis/redis_url.hpp"

#include <cachekit/result.hpp>

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

class redis_master_locator;

struct redis_reply_deleter {
  void operator()(redisReply* reply) const noexcept { freeReplyObject(reply); }
};
using redis_reply_ptr = std::unique_ptr<redisReply, redis_reply_deleter>;

// Where and how to connect; shared read-only by the pool and its connections.
struct redis_connect_settings {
  redis_endpoint endpoint;
  std::string where;  // endpoint.describe(): credential-free, for messages
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds command_timeout{5000};
  // Set iff endpoint.tls is: the backend's one OpenSSL context, shared by its connections.
  std::shared_ptr<const redis_tls_context> tls = nullptr;
  // Set for redis+sentinel:// (redis_master_locator.hpp): `open` connects to the master it
  // names (credentials and db still from `endpoint`) and accepts the server only if `ROLE`
  // says "master" (or is refused by the ACL: NOPERM); a connect failure, another role, a
  // READONLY reply or a connection lost mid-command report the master unusable to it.
  std::shared_ptr<redis_master_locator> locator = nullptr;
};

class redis_tls_session;

class redis_connection {
 public:
  // Connects, sets the command timeout on the socket, and runs `AUTH [user] password` and
  // `SELECT db` (pipelined) when the URL asks for them. Name resolution and connecting share
  // connect_timeout: a host name is resolved on a thread of its own (backends/host_lookup.hpp)
  // within it, then each address is tried in turn with an equal share of what is left. A
  // numeric address or a Unix socket needs no resolution.
  // `operation` is the command that needed the connection, named in connect failures.
  static result<std::unique_ptr<redis_connection>> open(const redis_connect_settings& settings,
                                                        std::string_view operation);

  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  // Queues one command (no I/O yet).
  void append(std::span<const std::string_view> argv);

  // Sends what is queued and reads the next reply. An error reply is returned as a reply (so
  // that a pipeline can read all its replies); an I/O failure breaks the connection.
  [[nodiscard]] result<redis_reply_ptr> read_reply(std::string_view operation);

  // Sends what is queued without waiting for a reply (read them later with `read_reply`), so a
  // caller can put pipelines on several connections before waiting for any. An I/O failure
  // breaks the connection.
  [[nodiscard]] result<void> send_queued(std::string_view operation) { return flush(operation); }

  // Marks the connection unusable: it still owes replies nobody will read (a pipeline given up
  // halfway), so its pool closes it instead of handing it out again out of step.
  void abandon() noexcept { broken_ = true; }

  // Sends what is queued, then waits up to `wait` for the next reply (a pushed pub/sub message
  // on a subscribed connection); nullopt when none came in time. The connection stays usable
  // after a nullopt (unlike a socket timeout, which breaks a hiredis context for good).
  [[nodiscard]] result<std::optional<redis_reply_ptr>> wait_reply(std::string_view operation,
                                                                  std::chrono::milliseconds wait);

  // append + read_reply, with an error reply turned into its classified failure.
  [[nodiscard]] result<redis_reply_ptr> run(std::string_view operation,
                                            std::span<const std::string_view> argv);

  // The failure for `reply` when it is an error reply; success otherwise.
  [[nodiscard]] result<void> check(std::string_view operation, const redisReply& reply) const;

  // True after any failed exchange: the connection must be closed, not reused.
  [[nodiscard]] bool broken() const noexcept { return broken_ || context_->err != 0; }

  // True when the server has closed its end (or sent bytes nobody asked for) while the
  // connection sat idle: a zero-timeout poll, so a restart is noticed before a command fails.
  [[nodiscard]] bool peer_closed() const noexcept;

  // With a locator: its generation when this connection was opened; the pool drops a
  // connection whose generation is no longer the locator's (the master changed). 0 without.
  [[nodiscard]] std::uint64_t master_generation() const noexcept { return master_generation_; }
  // With a locator: true once the locator's generation has moved past this connection's (the
  // master changed, or was reported unusable). False without a locator.
  [[nodiscard]] bool of_former_master() const noexcept;

 private:
  redis_connection(redisContext* context, const redis_connect_settings& settings) noexcept;
  // Turns what redisConnect* returned into a ready connection (command timeout, keepalive,
  // handshake); `where` names the server, with the address tried when it differs from the host.
  // `deadline` bounds the TLS handshake (the rest of connect_timeout).
  static result<std::unique_ptr<redis_connection>> set_up(
      redisContext* raw, int saved_errno, const redis_connect_settings& settings,
      std::string_view operation, const std::string& where,
      std::chrono::steady_clock::time_point deadline);
  result<void> handshake();
  failure io_failure_now(std::string_view operation, int saved_errno);
  result<void> flush(std::string_view operation);
  // TLS: decrypted bytes for hiredis's reader, waiting up to command_timeout for some.
  result<void> feed_from_tls(std::string_view operation);
  // TLS: the failure `f` of the session, which breaks the connection.
  failure tls_failure(failure f) noexcept;
  // Resolves `host` and connects to `port` (settings.endpoint's host and port, or the master's);
  // `where` names it in messages.
  static result<std::unique_ptr<redis_connection>> open_tcp(const redis_connect_settings& settings,
                                                            std::string_view operation,
                                                            const std::string& host, int port,
                                                            const std::string& where);
  // Opens a connection to the master the locator names and checks its ROLE.
  static result<std::unique_ptr<redis_connection>> open_located(
      const redis_connect_settings& settings, std::string_view operation);
  // Tells the locator that this connection's master failed in a way that suggests it is no
  // longer the master (`code` transient: lost connection).
  void report_lost(const failure& f) const noexcept;

  redisContext* context_;
  std::unique_ptr<redis_tls_session> tls_;  // null on plain connections
  const redis_connect_settings* settings_;
  std::string pending_;  // RESP of the queued commands
  bool broken_ = false;
  std::uint64_t master_generation_ = 0;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
