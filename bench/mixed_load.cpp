// A bounded mixed load against a real Redis (issue 11): every core calls one memoized function
// over 10k keys (zipf-like popularity, so there are L1 hits, L2 hits and misses), invalidates
// keys as it goes, and lives through a Redis kill + restart on the same port (at 1/3 of the run)
// and a SIGSTOP/SIGCONT pause (at 2/3). Every returned value is checked. Not a Google
// Benchmark, and not part of `make test`: one scenario in real time (`make bench-mixed`).
//
//     cachekit_mixed_load                   # 60 s, hardware_concurrency threads
//     cachekit_mixed_load --seconds 20 --threads 4 --keys 10000
//
// Correctness (printed with the results): f(k) returns k and the key's current version, which
// an invalidation bumps before it drops the cached entries. A returned value is correct when it
// is key k's and its version v is at most the key's version when the call returned, and either
// v is at least the version when the call started, or v was superseded no more than
// `staleness_bound` before the call started: a call that read the old version just before an
// invalidation stores it afterwards, and an L2 write sent before the pause runs when Redis
// resumes; such an entry lives at most one TTL. Anything else, or any value of another key, is
// wrong. The exit code is non-zero when a value was wrong or an exception escaped a call.
#include <cachekit/cache.hpp>
#include <cachekit/redis_backend.hpp>

#include "latency_histogram.hpp"
#include "support/local_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
using cachekit::bench::latency_histogram;
using cachekit::testing::local_server;

struct settings {
  std::chrono::seconds duration{60};
  int threads = std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  std::int64_t keys = 10000;
  std::chrono::seconds ttl{5};
  std::chrono::seconds kill_down{2};     // Redis killed, then restarted on its port
  std::chrono::seconds pause_length{3};  // Redis stopped (SIGSTOP), then continued
  std::chrono::seconds window_tail{3};   // a fault window ends this long after the fault
  std::chrono::milliseconds recovery_timeout{2000};
  double invalidate_ratio = 0.01;
  bool fill_lock = true;  // cache_options::fill_lock (cachekit-py's 30 s lease, 5 s wait)
  std::size_t l1_bytes = 512 * 1024;  // below the working set: cold keys come from L2
};

// Phases a call's latency is filed under.
enum phase : int { normal = 0, kill_window = 1, pause_window = 2, phases = 3 };
constexpr std::array<const char*, phases> phase_names = {"outside faults", "kill window",
                                                         "pause window"};

std::int64_t ns_since(steady::time_point origin) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - origin).count();
}

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

// A key's version and when each earlier version was superseded.
struct key_versions {
  std::atomic<std::uint32_t> current{0};
  std::mutex mutex;
  std::vector<std::int64_t> superseded_at_ns;  // [v]: when version v stopped being current
};

std::int64_t encode(std::int64_t key, std::uint32_t version) {
  return (key << 32) | static_cast<std::int64_t>(version);
}

// Zipf-like (s = 1) key choice: the cumulative distribution, searched per call.
class zipf_keys {
 public:
  explicit zipf_keys(std::int64_t n) : cdf_(static_cast<std::size_t>(n)) {
    double sum = 0;
    for (std::size_t i = 0; i < cdf_.size(); ++i) cdf_[i] = sum += 1.0 / static_cast<double>(i + 1);
    for (double& c : cdf_) c /= sum;
  }
  [[nodiscard]] std::int64_t pick(double uniform) const {
    return std::min<std::int64_t>(
        static_cast<std::int64_t>(std::lower_bound(cdf_.begin(), cdf_.end(), uniform) -
                                  cdf_.begin()),
        static_cast<std::int64_t>(cdf_.size()) - 1);
  }

 private:
  std::vector<double> cdf_;
};

// xorshift64*: a thread's own cheap random source.
struct rng {
  std::uint64_t state;
  double uniform() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return static_cast<double>((state * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
  }
};

struct worker_outcome {
  std::uint64_t calls = 0;
  std::uint64_t invalidations = 0;
  std::uint64_t wrong = 0;
  std::uint64_t stale_allowed = 0;  // older than the call's start version, within the bound
  std::int64_t max_staleness_ns = 0;
  std::uint64_t escaped = 0;
  std::array<latency_histogram, phases> latency;
  struct slow_call {
    std::int64_t started_ns, took_ns, key;
    int phase;
  };
  std::vector<slow_call> slow;  // calls above one second, the first 32 of each thread
  std::uint64_t slow_calls = 0;
};

// Written by the fault thread, read by the L2 monitor.
struct fault_record {
  const char* what = "";
  std::atomic<std::int64_t> start_ns{0}, end_ns{0};  // fault applied / lifted
  std::atomic<std::int64_t> l2_back_ns{-1};          // first L2 hit after the fault was lifted
};

settings parse(int argc, char** argv) {
  settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const long n = std::atol(argv[i + 1]);
    if (std::strcmp(argv[i], "--seconds") == 0 && n > 0) {
      s.duration = std::chrono::seconds(n);
    } else if (std::strcmp(argv[i], "--threads") == 0 && n > 0) {
      s.threads = static_cast<int>(std::max(2L, n));
    } else if (std::strcmp(argv[i], "--keys") == 0 && n > 0) {
      s.keys = n;
    } else if (std::strcmp(argv[i], "--fill-lock") == 0) {
      s.fill_lock = std::strcmp(argv[i + 1], "off") != 0;
    } else {
      std::fprintf(
          stderr,
          "usage: %s [--seconds N (60)] [--threads N] [--keys N (10000)] [--fill-lock on|off]\n",
          argv[0]);
      std::exit(2);
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const settings cfg = parse(argc, argv);
  const auto staleness_bound = cfg.ttl + cfg.pause_length + 5s;
  auto server = local_server::start_redis();

  const auto origin = steady::now();
  std::mutex openings_mutex;
  std::vector<std::int64_t> openings_ns;  // reported by on_error when the breaker opens
  cachekit::cache_options options =
      cachekit::cache_options::for_intent(cachekit::intent::production);
  options.l2 = std::make_shared<cachekit::redis_backend>(cachekit::redis_options{
      .url = server->address(), .pool_size = static_cast<std::size_t>(cfg.threads)});
  options.l1_max_bytes = cfg.l1_bytes;
  if (!cfg.fill_lock) options.fill_lock = std::nullopt;
  options.reliability.circuit_breaker->recovery_timeout = cfg.recovery_timeout;
  options.on_error = [&](const cachekit::failure& f) {
    if (f.code == cachekit::errc::circuit_open) {
      std::lock_guard lock(openings_mutex);
      openings_ns.push_back(ns_since(origin));
    }
  };
  cachekit::cache cache(std::move(options));

  std::vector<key_versions> versions(static_cast<std::size_t>(cfg.keys));
  std::atomic<std::uint64_t> runs{0};
  auto f = cache.memoize("bench.mixed_load.versioned",
                         [&](std::int64_t k) {
                           runs.fetch_add(1, std::memory_order_relaxed);
                           return encode(k, versions[static_cast<std::size_t>(k)].current.load());
                         },
                         {.ttl = cfg.ttl});
  const zipf_keys zipf(cfg.keys);

  std::atomic<bool> stop{false};
  std::atomic<int> current_phase{normal};
  std::array<fault_record, 2> faults;
  faults[0].what = "kill + restart";
  faults[1].what = "pause";

  // L2 hits, sampled every 10 ms: when they come back after each fault.
  std::thread l2_monitor([&] {
    std::uint64_t last = f.info().l2_hits;
    while (!stop.load()) {
      std::this_thread::sleep_for(10ms);
      const std::uint64_t now_hits = f.info().l2_hits;
      const std::int64_t t = ns_since(origin);
      for (auto& fault : faults) {
        if (fault.end_ns != 0 && fault.l2_back_ns < 0 && t > fault.end_ns && now_hits > last) {
          fault.l2_back_ns = t;
        }
      }
      last = now_hits;
    }
  });
  // The breaker's state, from cache.health() every 100 ms.
  std::vector<std::pair<std::int64_t, std::string>> breaker_states;
  std::thread health_monitor([&] {
    std::string last;
    while (!stop.load()) {
      const auto report = cache.health();
      const auto it = report.details.find("circuit_breaker");
      const std::string state = it == report.details.end() ? "?" : it->second;
      if (state != last) {
        breaker_states.emplace_back(ns_since(origin), state);
        last = state;
      }
      std::this_thread::sleep_for(100ms);
    }
  });
  // The faults: a kill at 1/3 of the run, a pause at 2/3.
  std::thread faulter([&] {
    auto at = [&](double fraction) {
      std::this_thread::sleep_until(
          origin + std::chrono::duration_cast<steady::duration>(cfg.duration * fraction));
    };
    at(1.0 / 3);
    current_phase = kill_window;
    faults[0].start_ns = ns_since(origin);
    server->stop();
    std::this_thread::sleep_for(cfg.kill_down);
    server->restart();
    faults[0].end_ns = ns_since(origin);
    std::this_thread::sleep_for(cfg.window_tail);
    current_phase = normal;
    at(2.0 / 3);
    current_phase = pause_window;
    faults[1].start_ns = ns_since(origin);
    server->pause();
    std::this_thread::sleep_for(cfg.pause_length);
    server->resume();
    faults[1].end_ns = ns_since(origin);
    std::this_thread::sleep_for(cfg.window_tail);
    current_phase = normal;
  });

  std::mutex merge;
  worker_outcome total;
  std::vector<std::thread> workers;
  for (int t = 0; t < cfg.threads; ++t) {
    workers.emplace_back([&, t] {
      worker_outcome mine;
      rng random{0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(t + 1)};
      while (!stop.load(std::memory_order_relaxed)) {
        const std::int64_t k = zipf.pick(random.uniform());
        key_versions& kv = versions[static_cast<std::size_t>(k)];
        if (random.uniform() < cfg.invalidate_ratio) {
          {
            std::lock_guard lock(kv.mutex);
            kv.superseded_at_ns.push_back(ns_since(origin));
            kv.current.fetch_add(1);
          }
          f.invalidate(k);
          ++mine.invalidations;
          continue;
        }
        const int ph = current_phase.load(std::memory_order_relaxed);
        const auto started = steady::now();
        const std::int64_t started_ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(started - origin).count();
        const std::uint32_t start_version = kv.current.load();
        try {
          const std::int64_t got = f(k);
          const std::uint32_t end_version = kv.current.load();
          const auto v = static_cast<std::uint32_t>(got & 0xffffffff);
          if ((got >> 32) != k || v > end_version) {
            ++mine.wrong;
          } else if (v < start_version) {
            std::int64_t superseded;
            {
              std::lock_guard lock(kv.mutex);
              superseded = kv.superseded_at_ns[v];
            }
            const std::int64_t staleness = started_ns - superseded;
            if (staleness > std::chrono::nanoseconds(staleness_bound).count()) {
              ++mine.wrong;
            } else {
              ++mine.stale_allowed;
              mine.max_staleness_ns = std::max(mine.max_staleness_ns, staleness);
            }
          }
        } catch (...) {
          ++mine.escaped;
        }
        const auto took = steady::now() - started;
        mine.latency[static_cast<std::size_t>(ph)].record(took);
        if (took > 1s) {
          ++mine.slow_calls;
          if (mine.slow.size() < 32) {
            mine.slow.push_back({started_ns,
                                 std::chrono::duration_cast<std::chrono::nanoseconds>(took).count(),
                                 k, ph});
          }
        }
        ++mine.calls;
      }
      std::lock_guard lock(merge);
      total.calls += mine.calls;
      total.invalidations += mine.invalidations;
      total.wrong += mine.wrong;
      total.stale_allowed += mine.stale_allowed;
      total.max_staleness_ns = std::max(total.max_staleness_ns, mine.max_staleness_ns);
      total.escaped += mine.escaped;
      total.slow_calls += mine.slow_calls;
      total.slow.insert(total.slow.end(), mine.slow.begin(), mine.slow.end());
      for (std::size_t p = 0; p < phases; ++p) total.latency[p].merge(mine.latency[p]);
    });
  }
  std::this_thread::sleep_until(origin + cfg.duration);
  stop = true;
  for (auto& w : workers) w.join();
  faulter.join();
  l2_monitor.join();
  health_monitor.join();
  const double elapsed_s = static_cast<double>(ns_since(origin)) / 1e9;
  // Every fill has ended, so a fill lock still in Redis was orphaned: its release was refused
  // or failed, or its SET NX ran after the caller gave up on it (a paused server).
  std::size_t orphaned_locks = 0;
  {
    cachekit::redis_backend raw(cachekit::redis_options{.url = server->address()});
    for (std::int64_t k = 0; k < cfg.keys; ++k) {
      const auto held = raw.exists(f.key(k).value() + ":lock");
      if (held && *held) ++orphaned_locks;
    }
  }

  const cachekit::cache_info info = f.info();
  const cachekit::cache_stats stats = cache.stats();
  std::printf(
      "mixed load: %d threads, %.1f s, %lld keys (zipf s=1), ttl %lld s, L1 %zu KiB, "
      "invalidate %.1f%% of operations, breaker recovery %lld ms, fill lock %s\n",
      cfg.threads, elapsed_s, static_cast<long long>(cfg.keys),
      static_cast<long long>(cfg.ttl.count()), cfg.l1_bytes / 1024, cfg.invalidate_ratio * 100,
      static_cast<long long>(cfg.recovery_timeout.count()), cfg.fill_lock ? "on" : "off");
  std::printf(
      "correct value: key k's, version <= the key's version at return, and >= its version at\n"
      "  the call's start or superseded at most %lld s (ttl + pause + 5 s) before the start\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::seconds>(staleness_bound).count()));
  const auto u = [](std::uint64_t n) { return static_cast<unsigned long long>(n); };
  const double calls = static_cast<double>(std::max<std::uint64_t>(info.hits + info.misses, 1));
  std::printf("calls %llu (%.0f/s)  invalidations %llu\n", u(total.calls),
              static_cast<double>(total.calls) / elapsed_s, u(total.invalidations));
  std::printf("  L1 hits %llu (%.1f%%)  L2 hits %llu (%.1f%%)  misses %llu (%.1f%%)\n",
              u(info.l1_hits), 100.0 * static_cast<double>(info.l1_hits) / calls, u(info.l2_hits),
              100.0 * static_cast<double>(info.l2_hits) / calls, u(info.misses),
              100.0 * static_cast<double>(info.misses) / calls);
  std::printf(
      "  wrong values %llu  escaped exceptions %llu  stale within bound %llu (max %.0f ms "
      "after its version was superseded)\n",
      u(total.wrong), u(total.escaped), u(total.stale_allowed), ms(total.max_staleness_ns));
  std::printf("  l2 errors %llu  skipped (breaker open) %llu  shed %llu  corrupt entries %llu\n",
              u(stats.l2_errors), u(stats.l2_skipped), u(stats.l2_shed), u(stats.corrupt_entries));
  std::printf("latency ms        %10s %9s %9s %9s\n", "calls", "p50", "p99", "max");
  latency_histogram overall;
  for (const auto& h : total.latency) overall.merge(h);
  const auto print_latency = [](const char* name, const latency_histogram& h) {
    std::printf("  %-15s %10llu %9.3f %9.3f %9.1f\n", name,
                static_cast<unsigned long long>(h.count()), h.percentile_ms(0.50),
                h.percentile_ms(0.99), h.max_ms());
  };
  print_latency("overall", overall);
  for (std::size_t p = 0; p < phases; ++p) print_latency(phase_names[p], total.latency[p]);
  std::printf("  (a fault window runs from the fault until %lld s after it is lifted)\n",
              static_cast<long long>(cfg.window_tail.count()));
  std::sort(total.slow.begin(), total.slow.end(),
            [](const auto& a, const auto& b) { return a.started_ns < b.started_ns; });
  std::printf("calls above 1 s: %llu", u(total.slow_calls));
  for (std::size_t i = 0; i < total.slow.size() && i < 12; ++i) {
    const auto& c = total.slow[i];
    std::printf("%s key %lld at %.2f s took %.0f ms (%s)", i == 0 ? ";" : ",",
                static_cast<long long>(c.key), static_cast<double>(c.started_ns) / 1e9,
                ms(c.took_ns), phase_names[static_cast<std::size_t>(c.phase)]);
  }
  std::printf("\n");
  for (const auto& fault : faults) {
    if (fault.end_ns == 0) continue;
    std::printf("%-15s at %.1f s for %.1f s; L2 hits back %s\n", fault.what,
                static_cast<double>(fault.start_ns) / 1e9, ms(fault.end_ns - fault.start_ns) / 1000,
                fault.l2_back_ns < 0
                    ? "never"
                    : (std::to_string(static_cast<long long>(ms(fault.l2_back_ns - fault.end_ns))) +
                       " ms after it was lifted")
                          .c_str());
  }
  std::printf("fill locks left in Redis after the run (orphaned, 30 s lease): %zu\n",
              orphaned_locks);
  std::printf("breaker: opened %zu times (on_error); states seen (health, 100 ms):",
              openings_ns.size());
  for (const auto& [t, state] : breaker_states) {
    std::printf(" %.1fs %s", static_cast<double>(t) / 1e9, state.c_str());
  }
  std::printf("\n");
  const bool ok = total.wrong == 0 && total.escaped == 0;
  std::printf("%s\n", ok ? "OK: no wrong value, no escaped exception"
                         : "FAILED: wrong values or escaped exceptions (see above)");
  return ok ? 0 : 1;
}
