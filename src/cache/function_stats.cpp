#include <cachekit/memoized.hpp>

#include <chrono>
#include <ctime>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// The wall clock at the kernel tick's resolution (a few ms): "last operation at" needs no
// more, and the coarse clock costs a fraction of a precise read on every hit.
std::int64_t unix_micros_now() noexcept {
  timespec ts{};
#ifdef CLOCK_REALTIME_COARSE
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
#else
  clock_gettime(CLOCK_REALTIME, &ts);
#endif
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1'000;
}

// Threads take stripes round-robin as they first count something.
std::size_t this_thread_stripe(std::size_t stripes) noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t index = next.fetch_add(1, std::memory_order_relaxed);
  return index % stripes;
}

std::uint64_t sum(const auto& stripes, auto member) noexcept {
  std::uint64_t total = 0;
  for (const auto& s : stripes) total += (s.*member).load(std::memory_order_relaxed);
  return total;
}

}  // namespace

function_stats::stripe& function_stats::mine() noexcept {
  return stripes_[this_thread_stripe(stripe_count)];
}

void function_stats::touch() noexcept {
  const std::int64_t now = unix_micros_now();
  // Written only when it moved, so threads hitting in the same tick share the line read-only.
  if (last_operation_us_.load(std::memory_order_relaxed) != now) {
    last_operation_us_.store(now, std::memory_order_relaxed);
  }
}

void function_stats::record_l1_hit() noexcept {
  mine().l1_hits.fetch_add(1, std::memory_order_relaxed);
  touch();
}

void function_stats::record_l2_hit() noexcept {
  mine().l2_hits.fetch_add(1, std::memory_order_relaxed);
  touch();
}

void function_stats::record_miss() noexcept {
  mine().misses.fetch_add(1, std::memory_order_relaxed);
  touch();
}

void function_stats::record_l2_latency(std::chrono::nanoseconds elapsed) noexcept {
  stripe& s = mine();
  s.l2_reads.fetch_add(1, std::memory_order_relaxed);
  s.l2_nanos.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
}

void function_stats::record_stale_served() noexcept {
  stale_served_.fetch_add(1, std::memory_order_relaxed);
  touch();
}

void function_stats::record_refresh(bool succeeded) noexcept {
  (succeeded ? refreshes_ : refresh_failures_).fetch_add(1, std::memory_order_relaxed);
}

void function_stats::reset() noexcept {
  stale_served_.store(0, std::memory_order_relaxed);
  refreshes_.store(0, std::memory_order_relaxed);
  refresh_failures_.store(0, std::memory_order_relaxed);
  for (auto& s : stripes_) {
    s.l1_hits.store(0, std::memory_order_relaxed);
    s.l2_hits.store(0, std::memory_order_relaxed);
    s.misses.store(0, std::memory_order_relaxed);
    s.l2_reads.store(0, std::memory_order_relaxed);
    s.l2_nanos.store(0, std::memory_order_relaxed);
  }
  last_operation_us_.store(0, std::memory_order_relaxed);
}

cache_info function_stats::snapshot() const noexcept {
  cache_info info;
  info.l1_hits = sum(stripes_, &stripe::l1_hits);
  info.l2_hits = sum(stripes_, &stripe::l2_hits);
  info.hits = info.l1_hits + info.l2_hits;
  info.misses = sum(stripes_, &stripe::misses);
  if (const auto reads = sum(stripes_, &stripe::l2_reads); reads > 0) {
    info.l2_avg_latency_ms =
        static_cast<double>(sum(stripes_, &stripe::l2_nanos)) / 1e6 / static_cast<double>(reads);
  }
  info.stale_served = stale_served_.load(std::memory_order_relaxed);
  info.refreshes = refreshes_.load(std::memory_order_relaxed);
  info.refresh_failures = refresh_failures_.load(std::memory_order_relaxed);
  if (const auto us = last_operation_us_.load(std::memory_order_relaxed); us != 0) {
    info.last_operation_at = std::chrono::system_clock::time_point{std::chrono::microseconds{us}};
  }
  return info;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
