#include "backends/redis/redis_switch_listener.hpp"

#include "backends/redis/redis_master_locator.hpp"
#include "backends/redis/redis_subscription.hpp"

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::string_view switch_channel = "+switch-master";
constexpr std::chrono::milliseconds read_slice{100};
constexpr std::chrono::milliseconds retry_after_round{1000};
// A sentinel that stops answering is left after 2 × this (the subscription's PING).
constexpr std::chrono::milliseconds keepalive{2000};

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto space = text.find(' ');
    if (space != 0) out.push_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return out;
}

}  // namespace

redis_switch_listener::redis_switch_listener(redis_master_locator& locator)
    : locator_(locator), thread_([this] { run(); }) {}

redis_switch_listener::~redis_switch_listener() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool redis_switch_listener::pause_for(std::chrono::milliseconds pause) {
  std::unique_lock lock(wake_mutex_);
  return !wake_.wait_for(lock, pause, [this] { return stopping_.load(); });
}

void redis_switch_listener::run() {
  subscription_options options;
  options.channels.emplace_back(switch_channel);
  options.keepalive = keepalive;
  const std::string& service = locator_.settings().service;
  while (!stopping_.load()) {
    for (const std::size_t index : locator_.sentinel_order()) {
      if (stopping_.load()) return;
      auto subscription =
          redis_subscription::open(locator_.sentinels()[index], std::string{}, options);
      if (!subscription) continue;
      while (!stopping_.load()) {
        auto message = (*subscription)->next(read_slice);
        if (!message) break;  // this sentinel is gone: try the next
        if (!*message || (*message)->channel != switch_channel) continue;
        const auto& payload = (*message)->payload;
        const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
        // <service> <old ip> <old port> <new ip> <new port>
        const auto w = words(text);
        if (w.size() != 5 || w[0] != service) continue;
        int port = 0;
        if (std::from_chars(w[4].data(), w[4].data() + w[4].size(), port).ec != std::errc{} ||
            port <= 0 || port > 65535) {
          continue;
        }
        locator_.adopt(std::string(w[3]), port);
      }
    }
    if (!pause_for(retry_after_round)) return;
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
