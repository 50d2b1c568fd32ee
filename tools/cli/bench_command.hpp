// `cachekit bench`: a short load on the backend (`connections` workers, one operation at a
// time each) and its latency percentiles and throughput. Writes only keys under
// `cachekit:bench:{pid}:`, and deletes them afterwards. Runs its workers itself; call it from one
// thread.
#pragma once

#include "backend_from_flags.hpp"

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <vector>

namespace cachekit::cli {

struct bench_request {
  std::size_t ops = 10'000;                  ///< stop after this many operations...
  std::chrono::milliseconds duration{5000};  ///< ...or after this long, whichever first
  double set_ratio = 0.2;                    ///< fraction of operations that are sets
  std::size_t value_size = 1024;             ///< bytes per value
  std::size_t key_space = 1000;              ///< distinct keys
  std::size_t connections = 1;               ///< concurrent workers, 1 to max_bench_connections
};

/// The most `--connections`: as many as a CLI backend's connection pool holds.
inline constexpr std::size_t max_bench_connections = live_pool_size;

/// The p-th percentile (0..100, nearest rank) of sorted `samples`; zero when empty.
[[nodiscard]] std::chrono::nanoseconds percentile(
    const std::vector<std::chrono::nanoseconds>& sorted, double p);

/// Runs the load and prints per-operation p50/p90/p99/max, errors and throughput.
int bench_command(live_backend& b, const bench_request& req, std::ostream& out, std::ostream& err);

}  // namespace cachekit::cli
