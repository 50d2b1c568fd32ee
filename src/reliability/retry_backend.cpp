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
    : guarding_wrapper(std::move(inner)), options_(checked(options)), clock_(&clock) {}

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

std::optional<failure> retry_backend::guard(backend_operation operation, attempt_ref run) {
  const auto started = clock_->now();
  std::error_code outcome = run();
  // A lost reply to a lock's SET NX may mean the lock is already ours: a retry would find it
  // taken and report another holder.
  if (operation == backend_operation::try_lock) return std::nullopt;
  for (std::size_t attempt = 1; attempt < options_.max_attempts; ++attempt) {
    if (!outcome || !retryable(outcome)) break;
    const auto wait = backoff(attempt);
    if (clock_->now() - started + wait > options_.budget) break;
    clock_->sleep_for(wait);
    retries_.fetch_add(1, std::memory_order_relaxed);
    outcome = run();
  }
  return std::nullopt;
}

backend_health retry_backend::health() {
  backend_health report = inner().health();
  report.details["retries"] = std::to_string(retries());
  return report;
}

}  // namespace v0
}  // namespace cachekit
