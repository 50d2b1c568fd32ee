#include "coherence/invalidation_listener.hpp"

#include "coherence/invalidation_event.hpp"

#include <cachekit/logging.hpp>

#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::chrono::milliseconds read_slice{100};
constexpr std::chrono::milliseconds retry_after_failure{1000};
constexpr std::chrono::milliseconds retry_after_refusal{60000};
constexpr std::chrono::seconds log_interval{60};

}  // namespace

invalidation_listener::invalidation_listener(target t) : target_(t), thread_([this] { run(); }) {}

invalidation_listener::~invalidation_listener() {
  stop();
}

void invalidation_listener::stop() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

invalidation_listener::counters invalidation_listener::stats() const noexcept {
  return {.events = events_.load(std::memory_order_relaxed),
          .bad_events = bad_events_.load(std::memory_order_relaxed),
          .subscriptions = subscriptions_.load(std::memory_order_relaxed),
          .failures = failures_.load(std::memory_order_relaxed)};
}

bool invalidation_listener::pause_for(std::chrono::milliseconds pause) {
  std::unique_lock lock(wake_mutex_);
  return !wake_.wait_for(lock, pause, [this] { return stopping_.load(); });
}

void invalidation_listener::drop_all() noexcept {
  target_.epochs->bump_all();
  if (target_.l1 != nullptr) target_.l1->clear();
}

void invalidation_listener::log_failure(const failure& why) {
  // One line a minute: a Redis that is down fails this every second.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_logged_ < log_interval) return;
  last_logged_ = now;
  try {
    emit_log(log_level::warning, "invalidation_listener",
             "L1 invalidation listener not subscribed (" + why.message() +
                 "); L1 copies are served by their TTL until it is. Retrying.");
  } catch (...) {  // out of memory building the line
  }
}

void invalidation_listener::apply(const pushed_message& message) {
  if (message.channel != invalidation_channel) {  // key tracking
    events_.fetch_add(1, std::memory_order_relaxed);
    if (message.all_keys) {
      drop_all();
      return;
    }
    for (const auto& key : message.keys) {
      target_.epochs->bump(key);
      if (target_.l1 != nullptr) target_.l1->erase(key);
    }
    return;
  }
  // Decoded before it is counted: a reader of the counters never sees a hostile payload
  // counted as received, even for the moment before it is recognised as one.
  auto event = decode_invalidation_event(message.payload);
  if (!event) {
    bad_events_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  events_.fetch_add(1, std::memory_order_relaxed);
  if (event->key) {
    target_.epochs->bump(*event->key);
    if (target_.l1 != nullptr) target_.l1->erase(*event->key);
    return;
  }
  const auto spaces = target_.spaces->of(event->registry);
  if (spaces.empty()) return;  // a function this process does not cache
  target_.epochs->bump_all();
  if (target_.l1 != nullptr) {
    for (const auto& space : spaces) target_.l1->erase_prefix(space);
  }
}

void invalidation_listener::run() {
  subscription_options options;
  options.channels.emplace_back(invalidation_channel);
  options.track_keys = target_.track_keys;
  while (!stopping_.load()) {
    auto subscription = target_.l2->subscribe(options);
    if (!subscription) {
      failures_.fetch_add(1, std::memory_order_relaxed);
      log_failure(subscription.error());
      if (subscription.error().code == make_error_code(errc::not_supported)) {
        emit_log(log_level::warning, "invalidation_listener",
                 "cache_options::coherence needs an L2 that can subscribe (Redis); " +
                     std::string(target_.l2->type()) +
                     " cannot, so L1 copies are served by their TTL only");
        return;
      }
      const bool refused =
          subscription.error().code == make_error_code(errc::backend_authentication);
      if (!pause_for(refused ? retry_after_refusal : retry_after_failure)) return;
      continue;
    }
    drop_all();  // whatever was sent while no subscription was in place is lost
    subscriptions_.fetch_add(1, std::memory_order_relaxed);
    subscribed_.store(true);
    while (!stopping_.load()) {
      auto message = (*subscription)->next(read_slice);
      if (!message) {
        subscribed_.store(false);
        drop_all();  // the connection is gone: events may be lost from here on
        failures_.fetch_add(1, std::memory_order_relaxed);
        log_failure(message.error());
        break;
      }
      if (*message) apply(**message);
    }
    subscribed_.store(false);
    if (!stopping_.load() && !pause_for(retry_after_failure)) return;
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
