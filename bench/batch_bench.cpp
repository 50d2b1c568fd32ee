// memoized::many against 100 single calls, same run, same redis-server: 100 keys of which 90
// are L2 hits and 10 misses (fresh keys each iteration), L1 off so every hit is an L2 hit.
// A single call pays one round trip per key (GET+PTTL, plus a SET per miss); a batch pays two
// (one get_many_with_ttl, one set_many). The ratio single / many is the figure (docs/batch.md).
//     build/bench/cachekit_bench --benchmark_filter=batch_
#include <cachekit/cache.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/local_server.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace {

using cachekit::testing::local_server;

constexpr std::int64_t batch_size = 100;
constexpr std::int64_t hits_per_batch = 90;

local_server& batch_server() {
  static const std::unique_ptr<local_server> server = local_server::start_redis();
  return *server;
}

std::int64_t double_it(std::int64_t n) {
  return n * 2;
}

// A cache with L1 off over the bench's redis-server, and a memoized function whose first 90
// keys are stored in L2.
struct batch_setup {
  cachekit::cache cache;
  cachekit::memoized<decltype(&double_it)> twice;

  explicit batch_setup(const char* name)
      : cache(make_options()), twice(cache.memoize(name, &double_it)) {
    for (std::int64_t n = 0; n < hits_per_batch; ++n) (void)twice(n);
  }
  static cachekit::cache_options make_options() {
    cachekit::cache_options options;
    options.l2 = std::make_shared<cachekit::redis_backend>(
        cachekit::redis_options{.url = batch_server().address()});
    options.l1_enabled = false;
    return options;
  }
};

// The 100 arguments of iteration `round`: the 90 stored keys, then 10 never seen.
std::vector<std::int64_t> arguments(std::int64_t round) {
  std::vector<std::int64_t> out;
  out.reserve(batch_size);
  for (std::int64_t n = 0; n < hits_per_batch; ++n) out.push_back(n);
  for (std::int64_t n = 0; n < batch_size - hits_per_batch; ++n) {
    out.push_back(1'000'000 + round * batch_size + n);
  }
  return out;
}

void batch_single_calls_100_keys_90pct_l2_hits(benchmark::State& state) {
  batch_setup setup("bench.batch.single");
  std::int64_t round = 0;
  for (auto _ : state) {
    const auto args = arguments(round++);
    for (const auto n : args) benchmark::DoNotOptimize(setup.twice(n));
  }
  state.SetItemsProcessed(state.iterations() * batch_size);
}
BENCHMARK(batch_single_calls_100_keys_90pct_l2_hits)->Unit(benchmark::kMicrosecond);

void batch_many_100_keys_90pct_l2_hits(benchmark::State& state) {
  batch_setup setup("bench.batch.many");
  std::int64_t round = 0;
  for (auto _ : state) {
    const auto args = arguments(round++);
    benchmark::DoNotOptimize(setup.twice.many(args));
  }
  state.SetItemsProcessed(state.iterations() * batch_size);
}
BENCHMARK(batch_many_100_keys_90pct_l2_hits)->Unit(benchmark::kMicrosecond);

}  // namespace
