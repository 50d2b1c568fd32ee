#include <cachekit/memoized.hpp>

#include <chrono>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

std::int64_t unix_micros_now() noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void function_stats::touch() noexcept {
  last_operation_us_.store(unix_micros_now(), std::memory_order_relaxed);
}

void function_stats::record_l1_hit() noexcept {
  l1_hits_.fetch_add(1, std::memory_order_relaxed);
  touch();
}

void function_stats::record_l2_hit() noexcept {
  l2_hits_.fetch_add(1, std::memory_order_relaxed);
  touch();
}

void function_stats::record_miss() noexcept {
  misses_.fetch_add(1, std::memory_order_relaxed);
  touch();
}

void function_stats::record_l2_latency(std::chrono::nanoseconds elapsed) noexcept {
  l2_reads_.fetch_add(1, std::memory_order_relaxed);
  l2_nanos_.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
}

void function_stats::reset() noexcept {
  l1_hits_.store(0, std::memory_order_relaxed);
  l2_hits_.store(0, std::memory_order_relaxed);
  misses_.store(0, std::memory_order_relaxed);
  l2_reads_.store(0, std::memory_order_relaxed);
  l2_nanos_.store(0, std::memory_order_relaxed);
  last_operation_us_.store(0, std::memory_order_relaxed);
}

cache_info function_stats::snapshot() const noexcept {
  cache_info info;
  info.l1_hits = l1_hits_.load(std::memory_order_relaxed);
  info.l2_hits = l2_hits_.load(std::memory_order_relaxed);
  info.hits = info.l1_hits + info.l2_hits;
  info.misses = misses_.load(std::memory_order_relaxed);
  if (const auto reads = l2_reads_.load(std::memory_order_relaxed); reads > 0) {
    info.l2_avg_latency_ms = static_cast<double>(l2_nanos_.load(std::memory_order_relaxed)) / 1e6 /
                             static_cast<double>(reads);
  }
  if (const auto us = last_operation_us_.load(std::memory_order_relaxed); us != 0) {
    info.last_operation_at = std::chrono::system_clock::time_point{std::chrono::microseconds{us}};
  }
  return info;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
