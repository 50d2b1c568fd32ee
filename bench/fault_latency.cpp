// What a hung Redis costs a memoized call, with the reliability layer and without it (issue 11's
// figures): 16 threads call a memoized function with L1 off (every call reaches Redis) while
// redis-server is paused (SIGSTOP) for 5 s, then resumed. Reports, per mode, the calls made
// during the pause, how many fell back to running the function, wrong values, exceptions that
// escaped, and the latency percentiles; then how long after the breaker's half-open time L2
// hits came back. Not a Google Benchmark: one scenario, real time, ratios read side by side.
//
//     cachekit_fault_latency            # 5 s pause, 30 s recovery timeout (cachekit-py's)
//     cachekit_fault_latency 5 3        # pause seconds, recovery timeout seconds
#include <cachekit/cache.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/local_server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
using cachekit::testing::local_server;

constexpr int threads = 16;
constexpr std::int64_t keys = 256;

struct phase_outcome {
  std::uint64_t calls = 0;
  std::uint64_t fallbacks = 0;  // calls that ran the function
  std::uint64_t wrong = 0;
  std::uint64_t escaped = 0;
  std::vector<std::uint32_t> latencies_us;
};

double percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return 0;
  const auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(at), v.end());
  return v[at] / 1000.0;
}

void run(bool with_layer, std::chrono::seconds pause, std::chrono::seconds recovery) {
  auto server = local_server::start_redis();
  cachekit::cache_options options = cachekit::cache_options::for_intent(
      with_layer ? cachekit::intent::production : cachekit::intent::test);
  options.l2 = std::make_shared<cachekit::redis_backend>(
      cachekit::redis_options{.url = server->address(), .pool_size = threads});
  options.l1_enabled = false;
  options.collect_stats = true;  // the recovery check reads l2_hits (the test preset has none)
  std::atomic<steady::rep> opened_at{0};
  if (with_layer) {
    options.reliability.circuit_breaker->recovery_timeout = recovery;
    options.on_error = [&](const cachekit::failure& f) {
      // The latest opening: a probe that fails while Redis is still paused reopens it.
      if (f.code == cachekit::errc::circuit_open) {
        opened_at.store(steady::now().time_since_epoch().count());
      }
    };
  }
  cachekit::cache cache(std::move(options));
  std::atomic<std::uint64_t> ran{0};
  auto triple = cache.memoize("bench.fault_latency.triple", [&](std::int64_t x) {
    ++ran;
    return x * 3;
  });
  for (std::int64_t k = 0; k < keys; ++k) (void)triple(k);  // every key stored

  std::atomic<bool> stop{false};
  std::mutex merge;
  phase_outcome during;
  std::vector<std::thread> workers;
  server->pause();
  const auto paused_at = steady::now();
  const std::uint64_t ran_before = ran.load();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      phase_outcome mine;
      mine.latencies_us.reserve(1 << 20);
      for (std::int64_t i = t; !stop.load(std::memory_order_relaxed); ++i) {
        const std::int64_t k = i % keys;
        const auto started = steady::now();
        try {
          if (triple(k) != k * 3) ++mine.wrong;
        } catch (...) {
          ++mine.escaped;
        }
        const auto took =
            std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started);
        mine.latencies_us.push_back(static_cast<std::uint32_t>(took.count()));
        ++mine.calls;
      }
      std::lock_guard lock(merge);
      during.calls += mine.calls;
      during.wrong += mine.wrong;
      during.escaped += mine.escaped;
      during.latencies_us.insert(during.latencies_us.end(), mine.latencies_us.begin(),
                                 mine.latencies_us.end());
    });
  }
  std::this_thread::sleep_until(paused_at + pause);
  stop = true;
  for (auto& w : workers) w.join();
  server->resume();
  const auto resumed_at = steady::now();
  during.fallbacks = ran.load() - ran_before;

  std::printf(
      "%-18s %9llu %10llu %6llu %8llu %9.2f %9.2f %9.2f\n",
      with_layer ? "layer on" : "layer off (test)", static_cast<unsigned long long>(during.calls),
      static_cast<unsigned long long>(during.fallbacks),
      static_cast<unsigned long long>(during.wrong),
      static_cast<unsigned long long>(during.escaped), percentile(during.latencies_us, 0.50),
      percentile(during.latencies_us, 0.99),
      during.latencies_us.empty()
          ? 0.0
          : *std::max_element(during.latencies_us.begin(), during.latencies_us.end()) / 1000.0);

  // Recovery: one caller polls a stored key until it is an L2 hit again.
  const auto deadline = resumed_at + recovery + 30s;
  std::uint64_t hits_before = triple.info().l2_hits;
  while (steady::now() < deadline) {
    (void)triple(1);
    if (triple.info().l2_hits > hits_before) break;
    hits_before = triple.info().l2_hits;
    std::this_thread::sleep_for(5ms);
  }
  const auto back_at = steady::now();
  const auto ms = [](steady::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  if (with_layer && opened_at.load() != 0) {
    const steady::time_point opened{steady::duration{opened_at.load()}};
    const auto half_open = std::max(opened + recovery, resumed_at);
    std::printf(
        "  breaker opened %lld ms into the pause; L2 hits back %lld ms after resume, "
        "%lld ms after the half-open time\n",
        static_cast<long long>(ms(opened - paused_at)),
        static_cast<long long>(ms(back_at - resumed_at)),
        static_cast<long long>(ms(back_at - half_open)));
  } else {
    std::printf("  L2 hits back %lld ms after resume\n",
                static_cast<long long>(ms(back_at - resumed_at)));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::chrono::seconds pause{argc > 1 ? std::atoi(argv[1]) : 5};
  const std::chrono::seconds recovery{argc > 2 ? std::atoi(argv[2]) : 30};
  std::printf("Redis paused %lld s under %d threads, L1 off, redis timeouts 200 ms; latency ms\n",
              static_cast<long long>(pause.count()), threads);
  std::printf("%-18s %9s %10s %6s %8s %9s %9s %9s\n", "mode", "calls", "fallbacks", "wrong",
              "escaped", "p50", "p99", "max");
  run(true, pause, recovery);
  run(false, pause, recovery);
  return 0;
}
