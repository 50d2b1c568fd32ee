#include "backends/redis/redis_subscription.hpp"

#include <array>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::string_view tracking_channel = "__redis__:invalidate";
constexpr std::size_t max_payload_bytes = 64 * 1024;

std::string_view text_of(const redisReply& r) {
  return {r.str, r.len};
}

bool is_text(const redisReply& r) {
  return r.type == REDIS_REPLY_STRING || r.type == REDIS_REPLY_STATUS;
}

failure unexpected(std::string_view what, const std::string& where) {
  return fail(errc::backend_permanent,
              "redis subscription on " + where + ": unexpected reply to " + std::string(what));
}

}  // namespace

redis_subscription::redis_subscription(std::unique_ptr<const redis_connect_settings> settings,
                                       std::unique_ptr<redis_connection> connection,
                                       std::string key_prefix, std::chrono::milliseconds keepalive)
    : settings_(std::move(settings)),
      connection_(std::move(connection)),
      key_prefix_(std::move(key_prefix)),
      keepalive_(keepalive),
      last_traffic_(std::chrono::steady_clock::now()) {}

result<std::unique_ptr<backend_subscription>> redis_subscription::open(
    const redis_connect_settings& original, std::string key_prefix,
    const subscription_options& options) {
  auto owned = std::make_unique<const redis_connect_settings>(original);
  const redis_connect_settings& settings = *owned;
  auto connection = redis_connection::open(settings, "SUBSCRIBE");
  if (!connection) return std::move(connection).error();
  auto& conn = **connection;
  std::vector<std::string> channels = options.channels;
  if (options.track_keys) {
    const std::array<std::string_view, 2> id_argv = {"CLIENT", "ID"};
    auto id = conn.run("CLIENT ID", id_argv);
    if (!id) return std::move(id).error();
    if ((*id)->type != REDIS_REPLY_INTEGER) return unexpected("CLIENT ID", settings.where);
    const std::string own_id = std::to_string((*id)->integer);
    std::vector<std::string_view> tracking = {"CLIENT",   "TRACKING", "on",
                                              "REDIRECT", own_id,     "BCAST"};
    if (!key_prefix.empty()) {
      tracking.emplace_back("PREFIX");
      tracking.emplace_back(key_prefix);
    }
    if (auto on = conn.run("CLIENT TRACKING", tracking); !on) return std::move(on).error();
    channels.emplace_back(tracking_channel);
  }
  if (channels.empty()) {
    return fail(errc::invalid_configuration,
                "a subscription needs at least one channel or track_keys = true");
  }
  std::vector<std::string_view> subscribe = {"SUBSCRIBE"};
  subscribe.insert(subscribe.end(), channels.begin(), channels.end());
  conn.append(subscribe);
  // One confirmation per channel, in order; an error reply (an ACL refusal) fails the open.
  for (std::size_t i = 0; i < channels.size(); ++i) {
    auto reply = conn.read_reply("SUBSCRIBE");
    if (!reply) return std::move(reply).error();
    if (auto refused = conn.check("SUBSCRIBE", **reply); !refused) {
      return std::move(refused).error();
    }
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 3 || !is_text(*r.element[0]) ||
        text_of(*r.element[0]) != "subscribe") {
      return unexpected("SUBSCRIBE", settings.where);
    }
  }
  return std::unique_ptr<backend_subscription>(new redis_subscription(
      std::move(owned), std::move(*connection), std::move(key_prefix), options.keepalive));
}

result<std::optional<pushed_message>> redis_subscription::next(std::chrono::milliseconds wait) {
  // Sentinel: after a failover the old master (now a replica) no longer hears the publishes
  // made on the new one; the owner must subscribe again (and treat it as a lost connection).
  if (connection_->of_former_master()) {
    return fail(errc::transient,
                "redis subscription: the master changed (Sentinel failover); subscribe again");
  }
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  const auto idle = now - last_traffic_;
  if (ping_sent_ && idle >= 2 * keepalive_) {
    return fail(errc::timeout, "redis subscription: no answer to PING within " +
                                   std::to_string(keepalive_.count()) + " ms");
  }
  if (!ping_sent_ && idle >= keepalive_) {
    const std::array<std::string_view, 1> ping = {"PING"};
    connection_->append(ping);
    ping_sent_ = true;
  }
  // Never wait past the moment the keepalive needs to act.
  const auto until_ping = std::chrono::duration_cast<std::chrono::milliseconds>(
      (ping_sent_ ? 2 * keepalive_ : keepalive_) - idle);
  const auto slice = std::max(std::chrono::milliseconds(1), std::min(wait, until_ping));
  auto reply = connection_->wait_reply("SUBSCRIBE", slice);
  if (!reply) return std::move(reply).error();
  if (!*reply) return std::optional<pushed_message>{};
  last_traffic_ = clock::now();
  ping_sent_ = false;
  if (auto refused = connection_->check("SUBSCRIBE", ***reply); !refused) {
    return std::move(refused).error();
  }
  return to_message(***reply);
}

result<std::optional<pushed_message>> redis_subscription::to_message(const redisReply& r) {
  // Subscribed RESP2 connections answer PING with ["pong", ""]; messages are
  // ["message", channel, payload].
  if (r.type != REDIS_REPLY_ARRAY || r.elements < 2 || !is_text(*r.element[0])) {
    return std::optional<pushed_message>{};
  }
  if (text_of(*r.element[0]) != "message" || r.elements != 3 || !is_text(*r.element[1])) {
    return std::optional<pushed_message>{};
  }
  pushed_message out;
  out.channel = std::string(text_of(*r.element[1]));
  const redisReply& body = *r.element[2];
  if (out.channel == tracking_channel) {
    if (body.type == REDIS_REPLY_NIL) {
      out.all_keys = true;  // FLUSHDB / FLUSHALL
    } else if (body.type == REDIS_REPLY_ARRAY) {
      for (std::size_t i = 0; i < body.elements; ++i) {
        if (!is_text(*body.element[i])) continue;
        const std::string_view key = text_of(*body.element[i]);
        if (!key.starts_with(key_prefix_)) continue;  // BCAST PREFIX sends only these
        out.keys.emplace_back(key.substr(key_prefix_.size()));
      }
    } else if (is_text(body)) {
      out.keys.emplace_back(text_of(body));
    }
    return std::optional<pushed_message>(std::move(out));
  }
  if (!is_text(body)) return std::optional<pushed_message>{};
  // Any client allowed to PUBLISH chooses the size: an oversized payload is delivered empty,
  // which every reader rejects, rather than copied.
  if (body.len > max_payload_bytes) return std::optional<pushed_message>(std::move(out));
  const auto* begin = reinterpret_cast<const std::byte*>(body.str);
  out.payload.assign(begin, begin + body.len);
  return std::optional<pushed_message>(std::move(out));
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
