// A latency histogram for the long-running benches (bench/mixed_load.cpp): log-linear buckets
// (16 per power of two, so a percentile is within 1/16 of the true value), fixed size, so a
// thread can record tens of millions of calls without keeping them. Thread-compatible: one per
// thread, merged at the end.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace cachekit::bench {

class latency_histogram {
 public:
  void record(std::chrono::nanoseconds took) noexcept {
    const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, took.count() / 1000));
    ++counts_[bucket_of(us)];
    ++total_;
    max_us_ = std::max(max_us_, us);
  }

  void merge(const latency_histogram& other) noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    max_us_ = std::max(max_us_, other.max_us_);
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
  [[nodiscard]] double max_ms() const noexcept { return static_cast<double>(max_us_) / 1000.0; }

  /// The upper bound of the bucket holding the `p` quantile (0..1), in milliseconds; 0 when
  /// nothing was recorded.
  [[nodiscard]] double percentile_ms(double p) const noexcept {
    if (total_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(p * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        return static_cast<double>(std::min(upper_bound_us(i), max_us_)) / 1000.0;
      }
    }
    return max_ms();
  }

 private:
  static constexpr int sub_bits = 4;  // 16 buckets per power of two
  static constexpr std::size_t buckets = (64 - sub_bits + 1) << sub_bits;

  static std::size_t bucket_of(std::uint64_t us) noexcept {
    if (us < (1u << sub_bits)) return static_cast<std::size_t>(us);
    const int top = std::bit_width(us) - 1;  // >= sub_bits
    const int shift = top - sub_bits;
    const auto mantissa = static_cast<std::size_t>((us >> shift) & ((1u << sub_bits) - 1));
    return (static_cast<std::size_t>(shift + 1) << sub_bits) + mantissa;
  }
  static std::uint64_t upper_bound_us(std::size_t bucket) noexcept {
    if (bucket < (1u << sub_bits)) return bucket;
    const int shift = static_cast<int>(bucket >> sub_bits) - 1;
    const std::uint64_t mantissa = (bucket & ((1u << sub_bits) - 1)) | (1u << sub_bits);
    return ((mantissa + 1) << shift) - 1;
  }

  std::array<std::uint64_t, buckets> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_us_ = 0;
};

}  // namespace cachekit::bench
