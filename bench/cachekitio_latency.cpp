// cachekitio_backend over loopback TLS against tests/support/cachekitio_server (in this process:
// its threads share the CPUs with the bench), beside redis_backend on a local redis-server, in
// the same run: a 1 KiB GET each, and get_many of 100 keys against 100 sequential gets; and a
// memoized call of a 20 ms function just past its TTL, with the io preset's stale-grace window
// (the stale value returns, the function runs in the background) and without it (the caller
// runs the function). The ratios are the numbers to watch (absolute loopback times on shared VMs
// mostly measure wake-ups). Not in `make bench`: build and run cachekit_io_bench.
#include <cachekit/cache.hpp>
#include <cachekit/cachekitio_backend.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/cachekitio_server.hpp"
#include "support/local_server.hpp"
#include "support/tls_certificates.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using cachekit::testing::cachekitio_server;
using cachekit::testing::local_server;
using cachekit::testing::tls_certificates;

const std::string& value_1k() {
  static const std::string value(1024, 'v');
  return value;
}

const std::vector<std::string>& keys_100() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (int i = 0; i < 100; ++i) out.push_back("bench:io:" + std::to_string(i));
    return out;
  }();
  return keys;
}

struct io_setup {
  explicit io_setup(std::chrono::milliseconds rtt = {}) {
    // A simulated network round trip: the server waits this long before every answer.
    if (rtt.count() > 0) {
      server->inject({.kind = cachekitio_server::fault_kind::delay,
                      .delay = rtt,
                      .times = std::numeric_limits<int>::max()});
    }
  }
  std::unique_ptr<tls_certificates> certificates = tls_certificates::make();
  std::unique_ptr<cachekitio_server> server = cachekitio_server::start(*certificates);
  // A client of `server` with `pool` connections.
  [[nodiscard]] std::shared_ptr<cachekit::cachekitio_backend> client(std::size_t pool) const {
    cachekit::cachekitio_options o;
    o.api_key = cachekitio_server::live_key;
    o.api_url = server->url();
    o.allow_custom_host = true;
    o.ca_file = certificates->ca_cert().string();
    o.resolve = {server->resolve_entry()};
    o.connection_pool_size = pool;
    return cachekit::cachekitio_backend::create(o).value();
  }
  // A pool of 10 (a batch of 100 goes in 10 waves), with the benches' entries written.
  std::shared_ptr<cachekit::cachekitio_backend> backend = [this] {
    auto made = client(10);
    made->set("bench:io:1k", cachekit::as_byte_view(value_1k()), std::nullopt).value();
    for (const auto& k : keys_100()) {
      made->set(k, cachekit::as_byte_view(value_1k()), std::nullopt).value();
    }
    return made;
  }();
  // The same server with a pool as wide as the batch: get_many of 100 keys in one round trip.
  std::shared_ptr<cachekit::cachekitio_backend> wide = client(100);
};

io_setup& io() {
  static io_setup setup;
  return setup;
}

io_setup& io_rtt() {
  static io_setup setup(std::chrono::milliseconds{2});
  return setup;
}

void io_get_1k(benchmark::State& state) {
  auto& b = *io().backend;
  for (auto _ : state) benchmark::DoNotOptimize(b.get("bench:io:1k").value());
}
BENCHMARK(io_get_1k)->UseRealTime();

void redis_get_1k(benchmark::State& state) {
  static const std::unique_ptr<local_server> server = local_server::start_redis();
  static cachekit::redis_backend b({.url = server->address(), .pool_size = 1});
  b.set("bench:redis:1k", cachekit::as_byte_view(value_1k()), std::nullopt).value();
  for (auto _ : state) benchmark::DoNotOptimize(b.get("bench:redis:1k").value());
}
BENCHMARK(redis_get_1k)->UseRealTime();

// One get_many of the 100 keys per iteration.
void get_many_100(benchmark::State& state, cachekit::cachekitio_backend& b) {
  std::vector<std::string_view> views(keys_100().begin(), keys_100().end());
  for (auto _ : state) benchmark::DoNotOptimize(b.get_many(views).value());
}

void io_get_many_100(benchmark::State& state) {
  get_many_100(state, *io().backend);
}
BENCHMARK(io_get_many_100)->UseRealTime();

void io_get_many_100_pool_100(benchmark::State& state) {
  get_many_100(state, *io().wide);
}
BENCHMARK(io_get_many_100_pool_100)->UseRealTime();

// 100 gets, one after another, per iteration.
void hundred_gets(benchmark::State& state, cachekit::cachekitio_backend& b) {
  for (auto _ : state) {
    for (const auto& k : keys_100()) benchmark::DoNotOptimize(b.get(k).value());
  }
}

void io_100_gets(benchmark::State& state) {
  hundred_gets(state, *io().backend);
}
BENCHMARK(io_100_gets)->UseRealTime();

}  // namespace

// The same three shapes with a 2 ms round trip, where batching is what it saves.
namespace {

void io_rtt2ms_100_gets(benchmark::State& state) {
  hundred_gets(state, *io_rtt().backend);
}
BENCHMARK(io_rtt2ms_100_gets)->UseRealTime()->Iterations(3);

void io_rtt2ms_get_many_100(benchmark::State& state) {
  get_many_100(state, *io_rtt().backend);
}
BENCHMARK(io_rtt2ms_get_many_100)->UseRealTime()->Iterations(10);

void io_rtt2ms_get_many_100_pool_100(benchmark::State& state) {
  get_many_100(state, *io_rtt().wide);
}
BENCHMARK(io_rtt2ms_get_many_100_pool_100)->UseRealTime()->Iterations(10);

}  // namespace

// A memoized call just past its TTL, the function costing 20 ms.
namespace {

void past_ttl(benchmark::State& state, bool grace_window) {
  io_setup& setup = io();
  auto backend = setup.client(cachekit::cachekitio_options{}.connection_pool_size);
  cachekit::cache_options options;
  options.l2 = backend;
  options.l1_enabled = false;  // every call reads L2, as a process that has not seen the key
  cachekit::cache cache(std::move(options));
  const auto slow = [](int x) {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    return x * 2;
  };
  const std::string name = grace_window ? "bench.io.grace" : "bench.io.expired";
  auto f = cache.memoize(name, slow, {.ttl = std::chrono::seconds{60}});
  (void)f(21);
  const std::string key = f.key(21).value();  // cachekit.io adds no prefix
  const std::string stored = setup.server->stored(key).value();
  for (auto _ : state) {
    state.PauseTiming();
    // One second of TTL left, then two pass: stale inside a 60 s window, or gone without one.
    setup.server->put(key, stored, 1,
                      grace_window ? std::optional<long long>{60} : std::optional<long long>{});
    setup.server->advance(std::chrono::seconds{2});
    state.ResumeTiming();
    benchmark::DoNotOptimize(f(21));
    state.PauseTiming();
    (void)cache.wait_for_refreshes(std::chrono::seconds{10});  // the background run, untimed
    state.ResumeTiming();
  }
}

void io_past_ttl_with_grace_window(benchmark::State& state) {
  past_ttl(state, true);
}
BENCHMARK(io_past_ttl_with_grace_window)->UseRealTime()->Iterations(30);

void io_past_ttl_without_window(benchmark::State& state) {
  past_ttl(state, false);
}
BENCHMARK(io_past_ttl_without_window)->UseRealTime()->Iterations(30);

}  // namespace
