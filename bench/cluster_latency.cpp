// redis_backend on a Redis Cluster (3 masters + 3 replicas, tests/support/redis_cluster_nodes)
// beside the same backend on a single redis-server, in the same run: the L2 GET latency of a
// 1 KiB value (the ratio cluster ÷ single is the number to watch: routing should cost a CRC16
// and an atomic load, target within 1.2x) and GET throughput with 16 threads over 1,024 keys
// (on the cluster they spread over the 3 masters). All servers share this machine's cores, so
// the throughput figures say more about scheduling than about Redis; compare them as a ratio.
//     make bench-cluster
// For steadier figures pin the bench and its servers (children: they inherit the mask):
//     taskset -c 0 build-release/bench/cachekit_cluster_bench --benchmark_repetitions=5 \
//         --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
// Measured so (2 vCPUs shared with other builds, Release, medians of 5): GET 1 KiB 31.0 µs on a
// single server, 33.8 µs on the cluster (1.09x); 16 threads: 33.4k GET/s single, 27.3k GET/s
// cluster (on one CPU seven servers cannot add parallelism; unpinned, 54k vs 37k GET/s).
// get_many_with_ttl of 100 keys (a batch's one L2 read): on the cluster the keys fall on the 3
// masters, whose pipelines all go out before any reply is read.
#include <cachekit/redis_backend.hpp>

#include "support/local_server.hpp"
#include "support/redis_cluster_nodes.hpp"

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using cachekit::testing::local_server;
using cachekit::testing::redis_cluster_nodes;

constexpr std::size_t key_count = 1024;

const cachekit::byte_buffer& value_1k() {
  static const cachekit::byte_buffer value(1024, std::byte{'v'});
  return value;
}

const std::vector<std::string>& keys() {
  static const std::vector<std::string> out = [] {
    std::vector<std::string> k;
    for (std::size_t i = 0; i < key_count; ++i) k.push_back("bench:cluster:" + std::to_string(i));
    return k;
  }();
  return out;
}

std::unique_ptr<cachekit::redis_backend> filled_backend(const std::string& url) {
  auto backend = std::make_unique<cachekit::redis_backend>(
      cachekit::redis_options{.url = url, .pool_size = 16});
  for (const auto& k : keys()) backend->set(k, value_1k(), std::nullopt).value();
  return backend;
}

cachekit::redis_backend& single() {
  static const auto server = local_server::start_redis();
  static const auto backend = filled_backend(server->address());
  return *backend;
}

cachekit::redis_backend& cluster() {
  static const auto nodes = redis_cluster_nodes::start();
  static const auto backend = filled_backend(nodes->url());
  return *backend;
}

void get_one(benchmark::State& state, cachekit::redis_backend& backend) {
  const std::string& key = keys()[0];
  for (auto _ : state) {
    auto got = backend.get(key);
    if (!got || !got->has_value()) state.SkipWithError("GET failed");
    benchmark::DoNotOptimize(got);
  }
}

void get_spread(benchmark::State& state, cachekit::redis_backend& backend) {
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 61;
  for (auto _ : state) {
    auto got = backend.get(keys()[i++ % key_count]);
    if (!got || !got->has_value()) state.SkipWithError("GET failed");
    benchmark::DoNotOptimize(got);
  }
  state.SetItemsProcessed(state.iterations());
}

// One get_many_with_ttl of 100 keys spread over the key space (GET and PTTL of each).
void get_many_100(benchmark::State& state, cachekit::redis_backend& backend) {
  std::vector<std::string_view> batch;
  for (std::size_t i = 0; i < 100; ++i) batch.emplace_back(keys()[i * 7 % key_count]);
  for (auto _ : state) {
    auto got = backend.get_many_with_ttl(batch);
    if (!got || got->size() != batch.size()) state.SkipWithError("get_many_with_ttl failed");
    benchmark::DoNotOptimize(got);
  }
}

void redis_single_get_1k(benchmark::State& state) {
  get_one(state, single());
}
void redis_cluster_get_1k(benchmark::State& state) {
  get_one(state, cluster());
}
void redis_single_get_1k_threads(benchmark::State& state) {
  get_spread(state, single());
}
void redis_cluster_get_1k_threads(benchmark::State& state) {
  get_spread(state, cluster());
}
void redis_single_get_many_100(benchmark::State& state) {
  get_many_100(state, single());
}
void redis_cluster_get_many_100(benchmark::State& state) {
  get_many_100(state, cluster());
}

// Started before timing: the first use starts the servers and fills them.
[[maybe_unused]] const bool started = [] {
  (void)single();
  (void)cluster();
  return true;
}();

BENCHMARK(redis_single_get_1k)->UseRealTime();
BENCHMARK(redis_cluster_get_1k)->UseRealTime();
BENCHMARK(redis_single_get_1k_threads)->Threads(16)->UseRealTime();
BENCHMARK(redis_cluster_get_1k_threads)->Threads(16)->UseRealTime();
BENCHMARK(redis_single_get_many_100)->UseRealTime();
BENCHMARK(redis_cluster_get_many_100)->UseRealTime();

}  // namespace
