#include <cachekit/retry_backend.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace {

retry_options checked(retry_options o) {
  auto refuse = [](const std::string& what) {
    throw error(errc::invalid_configuration, "retry_options: " + what);
  };
  if (o.max_attempts == 0) refuse("max_attempts must be at least 1 (1 never retries)");
  if (o.base_delay < std::chrono::milliseconds::zero() ||
      o.max_delay < std::chrono::milliseconds::zero() ||
      o.budget < std::chrono::milliseconds::zero()) {
    refuse("base_delay, max_delay and budget must not be negative");
  }
  return o;
}

// Jitter needs no cryptographic quality, only independence between threads (so that callers
// failing together do not retry together).
std::minstd_rand& jitter_source() {
  thread_local std::minstd_rand source{std::random_device{}()};
  return source;
}

}  // namespace

retry_backend::retry_backend(std::shared_ptr<backend> inner, retry_options options,
                             const monotonic_clock& clock)
    : backend_wrapper(std::move(inner)), options_(checked(options)), clock_(&clock) {}

bool retry_backend::retryable(const std::error_code& code) const noexcept {
  const error_class c = classify(code);
  return c == error_class::transient || (options_.retry_timeouts && c == error_class::timeout);
}

monotonic_clock::duration retry_backend::backoff(std::size_t retry) const {
  // base * 2^(retry-1), capped; the shift is bounded so it cannot overflow.
  const auto doubled =
      options_.base_delay * (std::int64_t{1} << std::min<std::size_t>(retry - 1, 20));
  const auto cap = std::min<std::chrono::milliseconds>(doubled, options_.max_delay);
  const auto cap_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(cap).count();
  if (cap_ns <= 0) return monotonic_clock::duration::zero();
  std::uniform_int_distribution<std::int64_t> pick(0, cap_ns);
  return std::chrono::duration_cast<monotonic_clock::duration>(
      std::chrono::nanoseconds{pick(jitter_source())});
}

template <typename Operation>
auto retry_backend::retried(Operation&& operation) -> decltype(operation()) {
  const auto started = clock_->now();
  auto outcome = operation();
  for (std::size_t attempt = 1; attempt < options_.max_attempts; ++attempt) {
    if (outcome || !retryable(outcome.code())) break;
    const auto wait = backoff(attempt);
    if (clock_->now() - started + wait > options_.budget) break;
    clock_->sleep_for(wait);
    retries_.fetch_add(1, std::memory_order_relaxed);
    outcome = operation();
  }
  return outcome;
}

result<std::optional<byte_buffer>> retry_backend::get(std::string_view key) {
  return retried([&] { return inner().get(key); });
}

result<void> retry_backend::set(std::string_view key, byte_view value, ttl_seconds ttl) {
  return retried([&] { return inner().set(key, value, ttl); });
}

result<bool> retry_backend::erase(std::string_view key) {
  return retried([&] { return inner().erase(key); });
}

result<bool> retry_backend::exists(std::string_view key) {
  return retried([&] { return inner().exists(key); });
}

result<std::vector<std::optional<byte_buffer>>> retry_backend::get_many(
    std::span<const std::string_view> keys) {
  return retried([&] { return inner().get_many(keys); });
}

result<remaining_ttl> retry_backend::ttl(std::string_view key) {
  return retried([&] { return inner().ttl(key); });
}

result<std::optional<timed_value>> retry_backend::get_with_ttl(std::string_view key) {
  return retried([&] { return inner().get_with_ttl(key); });
}

result<bool> retry_backend::touch(std::string_view key, ttl_seconds ttl) {
  return retried([&] { return inner().touch(key, ttl); });
}

result<bool> retry_backend::release_lock(const lock_token& token) {
  return retried([&] { return inner().release_lock(token); });
}

result<std::size_t> retry_backend::erase_prefix(std::string_view prefix) {
  return retried([&] { return inner().erase_prefix(prefix); });
}

backend_health retry_backend::health() {
  backend_health report = inner().health();
  report.details["retries"] = std::to_string(retries());
  return report;
}

}  // namespace v0
}  // namespace cachekit
