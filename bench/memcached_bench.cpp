// memcached_backend against bare libmemcached on the same server in the same run. The ratio
// (ours / libmemcached) is the number to watch; absolute times on these VMs mostly measure the
// loopback wake-up of the other vCPU. For stable figures pin the bench and the memcached it
// starts (a child, so it inherits the mask) to one CPU:
//     taskset -c 0 build/bench/cachekit_bench --benchmark_filter=memcached \
//         --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cachekit/memcached_backend.hpp>

#include "support/local_server.hpp"

#include <benchmark/benchmark.h>
#include <libmemcached/memcached.h>

#include <cstdlib>
#include <memory>
#include <string>

namespace {

using cachekit::testing::local_server;

constexpr std::string_view bench_key = "bench:memcached:1k";

// One memcached for the whole run, started on first use and stopped at exit.
local_server& shared_server() {
  static const std::unique_ptr<local_server> server = local_server::start_memcached();
  return *server;
}

const cachekit::byte_buffer& value_1k() {
  static const cachekit::byte_buffer value(1024, std::byte{'v'});
  return value;
}

memcached_st* bare_client() {
  memcached_st* client = memcached_create(nullptr);
  memcached_server_add(client, "127.0.0.1", static_cast<in_port_t>(shared_server().port()));
  // The same settings memcached_backend uses.
  memcached_behavior_set(client, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
  memcached_behavior_set(client, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 200);
  memcached_behavior_set(client, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 200);
  return client;
}

void memcached_get_1k_cachekit(benchmark::State& state) {
  cachekit::memcached_backend backend({.servers = {shared_server().address()}});
  if (!backend.set(bench_key, value_1k(), std::nullopt)) {
    state.SkipWithError("set failed");
    return;
  }
  for (auto _ : state) {
    auto hit = backend.get(bench_key);
    if (!hit || !*hit) {
      state.SkipWithError("get missed or failed");
      return;
    }
    benchmark::DoNotOptimize(hit);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1024);
}
BENCHMARK(memcached_get_1k_cachekit)->UseRealTime();

void memcached_get_1k_libmemcached(benchmark::State& state) {
  memcached_st* client = bare_client();
  const auto* bytes = reinterpret_cast<const char*>(value_1k().data());
  if (memcached_set(client, bench_key.data(), bench_key.size(), bytes, 1024, 0, 0) !=
      MEMCACHED_SUCCESS) {
    state.SkipWithError("set failed");
    memcached_free(client);
    return;
  }
  for (auto _ : state) {
    std::size_t length = 0;
    std::uint32_t flags = 0;
    memcached_return_t rc = MEMCACHED_FAILURE;
    char* value = memcached_get(client, bench_key.data(), bench_key.size(), &length, &flags, &rc);
    if (value == nullptr) {
      state.SkipWithError("get missed or failed");
      break;
    }
    benchmark::DoNotOptimize(value);
    std::free(value);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1024);
  memcached_free(client);
}
BENCHMARK(memcached_get_1k_libmemcached)->UseRealTime();

void memcached_set_1k_cachekit(benchmark::State& state) {
  cachekit::memcached_backend backend({.servers = {shared_server().address()}});
  for (auto _ : state) {
    auto stored = backend.set(bench_key, value_1k(), std::chrono::seconds(600));
    if (!stored) {
      state.SkipWithError("set failed");
      return;
    }
  }
}
BENCHMARK(memcached_set_1k_cachekit)->UseRealTime();

void memcached_set_1k_libmemcached(benchmark::State& state) {
  memcached_st* client = bare_client();
  const auto* bytes = reinterpret_cast<const char*>(value_1k().data());
  for (auto _ : state) {
    if (memcached_set(client, bench_key.data(), bench_key.size(), bytes, 1024, 600, 0) !=
        MEMCACHED_SUCCESS) {
      state.SkipWithError("set failed");
      break;
    }
  }
  memcached_free(client);
}
BENCHMARK(memcached_set_1k_libmemcached)->UseRealTime();

}  // namespace
