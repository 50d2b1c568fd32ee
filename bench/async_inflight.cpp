// 10,000 concurrent in-flight L2 reads from one process (docs/async.md's figure): a memoized
// function with L1 off (every call reads Redis) is called 10,000 times at once through
// `memoized::async_then` (reads batched by the cache's dispatcher threads), beside the blocking
// call on a pool of 64 threads doing the same 10,000 reads (all submitted at once, so a read's
// latency includes its wait for a pool thread, as an async read's includes its wait in the
// dispatcher's queue). Reports wall time, the process's peak thread count (/proc/self/task) and
// p50 / p99 / p99.9 latency from submission to completion, and the ratios, same run, against one
// local redis-server the bench starts. A third row: the asynchronous call with an L1 (empty each
// round), whose reads also ask each entry's TTL (`get_many_with_ttl`). Not a Google Benchmark:
// one scenario, real time.
//
//     cachekit_async_inflight              # 10,000 reads, 5 rounds each, medians reported
//     cachekit_async_inflight 20000 3      # reads, rounds
#include <cachekit/cache.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/local_server.hpp"
#include "support/process_threads.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
using cachekit::testing::local_server;

constexpr std::size_t pool_threads = 64;

using cachekit::testing::process_threads;

std::string value_of(std::int64_t i) {
  return std::string(100, static_cast<char>('a' + i % 26)) + std::to_string(i);
}

struct round_outcome {
  double wall_ms = 0;
  std::size_t threads = 0;  // peak threads of the process during the round, minus before it
  std::uint64_t wrong = 0;
  std::vector<std::int64_t> latencies_ns;
};

double percentile_us(std::vector<std::int64_t> v, double p) {
  if (v.empty()) return 0;
  const auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(at), v.end());
  return static_cast<double>(v[at]) / 1000.0;
}

cachekit::cache_options reader_options(const local_server& server, bool l1 = false) {
  cachekit::cache_options o;
  o.l2 = std::make_shared<cachekit::redis_backend>(
      cachekit::redis_options{.url = server.address(), .pool_size = pool_threads});
  o.l1_enabled = l1;  // off: every read reaches Redis
  o.swr.enabled = false;
  o.fill_lock = std::nullopt;
  return o;
}

using memo = std::function<std::string(std::int64_t)>;

// `baseline`: the process's threads before the cache made any (its dispatcher threads, started
// at its first asynchronous call, are the threads this mode uses).
template <class Memo>
round_outcome async_round(const Memo& fn, int reads, std::size_t baseline) {
  round_outcome out;
  out.latencies_ns.assign(static_cast<std::size_t>(reads), 0);
  std::atomic<int> done{0};
  std::atomic<std::uint64_t> wrong{0};
  std::mutex mutex;
  std::condition_variable all_done;
  const std::size_t before = baseline;
  std::size_t peak = process_threads();
  const auto start = steady::now();
  for (int i = 0; i < reads; ++i) {
    const auto issued = steady::now();
    fn.async_then(
        [&, i, issued](cachekit::call_result<std::string> r) {
          out.latencies_ns[static_cast<std::size_t>(i)] = (steady::now() - issued).count();
          if (!r || r.value() != value_of(i)) wrong.fetch_add(1);
          if (done.fetch_add(1) + 1 == reads) {
            std::lock_guard lock(mutex);
            all_done.notify_all();
          }
        },
        std::int64_t{i});
    if (i % 1000 == 0) peak = std::max(peak, process_threads());
  }
  {
    std::unique_lock lock(mutex);
    while (!all_done.wait_for(lock, 1ms, [&] { return done.load() == reads; })) {
      peak = std::max(peak, process_threads());
    }
  }
  out.wall_ms = std::chrono::duration<double, std::milli>(steady::now() - start).count();
  out.threads = peak - before;
  out.wrong = wrong.load();
  return out;
}

template <class Memo>
round_outcome blocking_round(const Memo& fn, int reads) {
  round_outcome out;
  out.latencies_ns.assign(static_cast<std::size_t>(reads), 0);
  std::atomic<int> next{0};
  std::atomic<std::uint64_t> wrong{0};
  const std::size_t before = process_threads();
  std::size_t peak = before;
  const auto start = steady::now();  // every read is submitted now; the pool takes them in order
  std::vector<std::thread> pool;
  pool.reserve(pool_threads);
  for (std::size_t t = 0; t < pool_threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next.fetch_add(1); i < reads; i = next.fetch_add(1)) {
        if (fn(std::int64_t{i}) != value_of(i)) wrong.fetch_add(1);
        out.latencies_ns[static_cast<std::size_t>(i)] = (steady::now() - start).count();
      }
    });
  }
  peak = std::max(peak, process_threads());
  for (auto& t : pool) t.join();
  out.wall_ms = std::chrono::duration<double, std::milli>(steady::now() - start).count();
  out.threads = peak - before;
  out.wrong = wrong.load();
  return out;
}

struct summary {
  double wall_ms, p50, p99, p999;
  std::size_t threads;
  std::uint64_t wrong;
};

summary median_of(std::vector<round_outcome>& rounds) {
  auto med = [&](auto get) {
    std::vector<double> v;
    for (auto& r : rounds) v.push_back(get(r));
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  summary s{};
  s.wall_ms = med([](round_outcome& r) { return r.wall_ms; });
  s.p50 = med([](round_outcome& r) { return percentile_us(r.latencies_ns, 0.50); });
  s.p99 = med([](round_outcome& r) { return percentile_us(r.latencies_ns, 0.99); });
  s.p999 = med([](round_outcome& r) { return percentile_us(r.latencies_ns, 0.999); });
  for (auto& r : rounds) {
    s.threads = std::max(s.threads, r.threads);
    s.wrong += r.wrong;
  }
  return s;
}

void print(const char* name, const summary& s) {
  std::printf("%-28s %10.1f %8zu %10.0f %10.0f %10.0f %6llu\n", name, s.wall_ms, s.threads, s.p50,
              s.p99, s.p999, static_cast<unsigned long long>(s.wrong));
}

}  // namespace

int main(int argc, char** argv) {
  const int reads = argc > 1 ? std::atoi(argv[1]) : 10'000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  if (reads <= 0 || rounds <= 0) {
    std::fprintf(stderr, "usage: cachekit_async_inflight [reads > 0] [rounds > 0]\n");
    return 2;
  }
  auto server = local_server::start_redis();
  {
    cachekit::cache writer(reader_options(*server));
    auto fill = writer.memoize("bench.async_inflight.value", value_of);
    for (int i = 0; i < reads; ++i) (void)fill(std::int64_t{i});
  }
  std::atomic<int> runs{0};
  auto counted = [&runs](std::int64_t i) {
    runs.fetch_add(1);
    return value_of(i);
  };
  cachekit::cache async_cache(reader_options(*server));
  auto async_fn = async_cache.memoize("bench.async_inflight.value", counted);
  cachekit::cache blocking_cache(reader_options(*server));
  auto blocking_fn = blocking_cache.memoize("bench.async_inflight.value", counted);
  // One warm-up round each: connections opened, dispatcher threads started.
  const std::size_t async_baseline = process_threads();
  (void)async_round(async_fn, reads, async_baseline);
  (void)blocking_round(blocking_fn, reads);
  std::vector<round_outcome> async_rounds;
  std::vector<round_outcome> blocking_rounds;
  std::vector<round_outcome> ttl_rounds;
  for (int r = 0; r < rounds; ++r) {  // interleaved, so drift hits both alike
    async_rounds.push_back(async_round(async_fn, reads, async_baseline));
    blocking_rounds.push_back(blocking_round(blocking_fn, reads));
    // With an L1 (a fresh, empty one each round) reads ask each entry's TTL too:
    // get_many_with_ttl, which redis_backend answers key by key until it pipelines them.
    const std::size_t baseline = process_threads();
    cachekit::cache with_l1(reader_options(*server, true));
    auto l1_fn = with_l1.memoize("bench.async_inflight.value", counted);
    ttl_rounds.push_back(async_round(l1_fn, reads, baseline));
  }
  const summary a = median_of(async_rounds);
  const summary b = median_of(blocking_rounds);
  const summary t = median_of(ttl_rounds);
  std::printf(
      "%d concurrent L2 reads (L1 off, one local redis-server, 100-byte values), median "
      "of %d rounds; latency from submission to completion\n",
      reads, rounds);
  std::printf("%-28s %10s %8s %10s %10s %10s %6s\n", "mode", "wall_ms", "threads", "p50_us",
              "p99_us", "p99.9_us", "wrong");
  print("async (2 dispatchers, 256)", a);
  print("blocking, 64-thread pool", b);
  print("async, L1 on (with TTLs)", t);
  std::printf(
      "ratios blocking/async: wall %.2fx, threads %.1fx, p50 %.2fx, p99 %.2fx, "
      "p99.9 %.2fx\n",
      b.wall_ms / a.wall_ms,
      static_cast<double>(b.threads) / static_cast<double>(std::max<std::size_t>(a.threads, 1)),
      b.p50 / a.p50, b.p99 / a.p99, b.p999 / a.p999);
  std::printf("function runs during the rounds (must be 0: every read is an L2 hit): %d\n",
              runs.load());
  return a.wrong + b.wrong == 0 && runs.load() == 0 ? 0 : 1;
}
