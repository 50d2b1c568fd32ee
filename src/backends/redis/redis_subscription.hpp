// The Redis side of `backend::subscribe`: one dedicated connection in subscribe mode, with
// optional broadcast key tracking redirected to itself, and its own keepalive.
//
// Opening runs, on a fresh connection (same URL, credentials, database and timeouts as the
// pool's): `CLIENT ID`; with key tracking `CLIENT TRACKING on REDIRECT <that id> BCAST
// [PREFIX <key prefix>]`; then `SUBSCRIBE` to the channels (and `__redis__:invalidate` when
// tracking), waiting for every confirmation. A refusal (an ACL without the channel, a server
// without tracking) fails the open. With Sentinel, `next` fails (errc::transient) once the
// master has changed: the publishes go to the new one. Not thread-safe: one reader.
#pragma once

#include "backends/redis/redis_connection.hpp"

#include <cachekit/backend.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {

class redis_subscription final : public backend_subscription {
 public:
  // Copies `settings` (the connection keeps a pointer to them), so the subscription may
  // outlive the backend whose pool owns the originals.
  static result<std::unique_ptr<backend_subscription>> open(const redis_connect_settings& settings,
                                                            std::string key_prefix,
                                                            const subscription_options& options);

  result<std::optional<pushed_message>> next(std::chrono::milliseconds wait) override;

 private:
  redis_subscription(std::unique_ptr<const redis_connect_settings> settings,
                     std::unique_ptr<redis_connection> connection, std::string key_prefix,
                     std::chrono::milliseconds keepalive);
  // A pushed reply turned into a message; nullopt for replies that are not messages (pong).
  result<std::optional<pushed_message>> to_message(const redisReply& reply);

  std::unique_ptr<const redis_connect_settings> settings_;  // before connection_: outlives it
  std::unique_ptr<redis_connection> connection_;
  std::string key_prefix_;
  std::chrono::milliseconds keepalive_;
  std::chrono::steady_clock::time_point last_traffic_;
  bool ping_sent_ = false;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
