#include "cache/fill_coordinator.hpp"

#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {

fill_coordinator::fill_coordinator(backend* l2, std::optional<fill_lock_options> options,
                                   const monotonic_clock& clock) noexcept
    : l2_(l2), options_(options), clock_(&clock) {}

fill_coordinator::outcome fill_coordinator::await(std::string_view key,
                                                  const std::function<bool()>& filled) {
  if (l2_ == nullptr || !options_ || unsupported_.load(std::memory_order_relaxed)) return {};
  const auto started = clock_->now();
  for (;;) {
    auto taken = l2_->try_lock(key, options_->lease);
    if (!taken) {
      if (taken.code() == make_error_code(errc::not_supported)) {
        unsupported_.store(true, std::memory_order_relaxed);  // memcached, file: never ask again
      }
      return {};  // fail open: the lock itself failed
    }
    if (*taken) return {.lock = std::move(**taken)};
    // Another process is filling the key: wait for its result, not for the lock.
    if (clock_->now() - started + options_->poll_interval > options_->max_wait) return {};
    clock_->sleep_for(options_->poll_interval);
    if (filled()) return {.lock = std::nullopt, .filled = true};
  }
}

fill_coordinator::lease fill_coordinator::try_lease(std::string_view key) {
  if (l2_ == nullptr || unsupported_.load(std::memory_order_relaxed)) {
    return {.outcome = lease_outcome::unsupported, .lock = std::nullopt};
  }
  const std::chrono::milliseconds lease_for =
      options_ ? options_->lease : fill_lock_options{}.lease;
  auto taken = l2_->try_lock(key, lease_for);
  if (!taken) {
    if (taken.code() == make_error_code(errc::not_supported)) {
      unsupported_.store(true, std::memory_order_relaxed);
      return {.outcome = lease_outcome::unsupported, .lock = std::nullopt};
    }
    return {.outcome = lease_outcome::failed, .lock = std::nullopt};
  }
  if (!*taken) return {.outcome = lease_outcome::contended, .lock = std::nullopt};
  return {.outcome = lease_outcome::held, .lock = std::move(**taken)};
}

void fill_coordinator::release(const lock_token& lock) noexcept {
  try {
    (void)l2_->release_lock(lock);
  } catch (...) {  // allocation failure: the lease ends the lock
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
