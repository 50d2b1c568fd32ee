// The L1 caches: cost of a hit and of a put, against a bare std::unordered_map behind a lock in
// the same run, on 1 and 2 threads (report the 2/1 throughput ratio, items_per_second); and
// the hit-rate simulation that chose the eviction policy (l1_hit_rate/*: S3-FIFO as shipped
// against an LRU baseline that lives only here). docs/l1-eviction.md has the tables and the
// commands.
#include <cachekit/l1_cache.hpp>
#include <cachekit/monotonic_clock.hpp>
#include <cachekit/object_cache.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using namespace std::chrono_literals;

// ---- throughput --------------------------------------------------------------------------------

constexpr std::size_t key_count = 10000;
constexpr std::size_t order_mask = (1u << 16) - 1;

// Keys shaped like cachekit-py default keys (~100 characters).
std::vector<std::string> make_keys() {
  std::mt19937_64 random(1);
  std::vector<std::string> keys;
  keys.reserve(key_count);
  for (std::size_t i = 0; i < key_count; ++i) {
    char hex[65];
    for (int j = 0; j < 64; j += 16) {
      std::snprintf(hex + j, 17, "%016llx", static_cast<unsigned long long>(random()));
    }
    keys.push_back("ns:bench:func:app.users.get_user:args:" + std::string(hex, 64) + ":1s");
  }
  return keys;
}

// The same keys and values in the L1 and in the bare maps; reads in a fixed random order.
struct hit_fixture {
  explicit hit_fixture(std::size_t value_size) : keys(make_keys()), order(order_mask + 1) {
    std::mt19937 random(2);
    std::uniform_int_distribution<std::size_t> pick(0, key_count - 1);
    for (auto& i : order) i = pick(random);
    const cachekit::byte_buffer value(value_size, std::byte{0x5a});
    for (const auto& key : keys) {
      cache.put(key, value, 1h);
      objects.put(key, value, 1h);
      map.emplace(key, value);
    }
    for (const auto& key : keys) {
      if (!cache.contains(key) || !objects.contains(key)) std::abort();  // every read must hit
    }
  }
  std::vector<std::string> keys;
  std::vector<std::size_t> order;
  cachekit::l1_cache cache{{.max_bytes = std::size_t{256} << 20}};
  // Room for every key in every shard: the keys spread unevenly over the shards.
  cachekit::object_cache<cachekit::byte_buffer> objects{{.max_entries = 4 * key_count}};
  std::unordered_map<std::string, cachekit::byte_buffer> map;
  std::mutex mutex;
  std::shared_mutex shared_mutex;
};

hit_fixture& fixture(std::int64_t value_size) {
  static hit_fixture small(64);
  static hit_fixture large(1024);
  return value_size == 64 ? small : large;
}

const std::string& next_key(const hit_fixture& f, std::size_t& i) {
  return f.keys[f.order[i++ & order_mask]];
}

void l1_get_hit(benchmark::State& state) {
  auto& f = fixture(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto hit = f.cache.get(next_key(f, i));
    benchmark::DoNotOptimize(hit->data());
  }
  state.SetItemsProcessed(state.iterations());
}

void l1_get_hit_copy_out(benchmark::State& state) {
  auto& f = fixture(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    cachekit::byte_buffer copy = f.cache.get(next_key(f, i))->to_buffer();
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void l1_object_get_hit(benchmark::State& state) {
  auto& f = fixture(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto hit = f.objects.get(next_key(f, i));
    benchmark::DoNotOptimize(hit->data());
  }
  state.SetItemsProcessed(state.iterations());
}

void l1_get_miss(benchmark::State& state) {
  auto& f = fixture(64);
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    std::string key = next_key(f, i);
    key[key.size() - 3] = 'X';  // same length, absent
    benchmark::DoNotOptimize(f.cache.get(key));
  }
  state.SetItemsProcessed(state.iterations());
}

// The floor: the same lookup in a std::unordered_map under one std::mutex, value not copied.
void map_mutex_find(benchmark::State& state) {
  auto& f = fixture(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    std::lock_guard lock(f.mutex);
    auto it = f.map.find(next_key(f, i));
    benchmark::DoNotOptimize(it->second.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// The same, copying the value out (what a map cache must do to release the lock safely).
void map_mutex_find_copy_out(benchmark::State& state) {
  auto& f = fixture(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    cachekit::byte_buffer copy;
    {
      std::lock_guard lock(f.mutex);
      copy = f.map.find(next_key(f, i))->second;
    }
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void map_shared_mutex_find(benchmark::State& state) {
  auto& f = fixture(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    std::shared_lock lock(f.shared_mutex);
    auto it = f.map.find(next_key(f, i));
    benchmark::DoNotOptimize(it->second.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// No lock at all (the map is only read here): the machine's own ceiling for how well this
// access pattern scales from 1 to 2 threads.
void map_unlocked_find(benchmark::State& state) {
  auto& f = fixture(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto it = f.map.find(next_key(f, i));
    benchmark::DoNotOptimize(it->second.data());
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(l1_get_hit)->Arg(64)->Arg(1024)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(map_mutex_find)->Arg(64)->Arg(1024)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(map_shared_mutex_find)->Arg(64)->Arg(1024)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(map_unlocked_find)->Arg(64)->Arg(1024)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(l1_get_hit_copy_out)->Arg(64)->Arg(1024)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(map_mutex_find_copy_out)->Arg(64)->Arg(1024)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(l1_object_get_hit)->Arg(64)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(l1_get_miss)->Threads(1)->Threads(2)->UseRealTime();

// Overwrites of present keys (no eviction): the allocation and copy of the value, then one
// exclusive lock.
void l1_put_overwrite(benchmark::State& state) {
  auto& f = fixture(state.range(0));
  const cachekit::byte_buffer value(static_cast<std::size_t>(state.range(0)), std::byte{0x33});
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) f.cache.put(next_key(f, i), value, 1h);
  state.SetItemsProcessed(state.iterations());
}

void map_mutex_put_overwrite(benchmark::State& state) {
  auto& f = fixture(state.range(0));
  const cachekit::byte_buffer value(static_cast<std::size_t>(state.range(0)), std::byte{0x33});
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    std::lock_guard lock(f.mutex);
    f.map.insert_or_assign(next_key(f, i), value);
  }
  state.SetItemsProcessed(state.iterations());
}

// Puts into a full cache (1000 entries for 10000 keys): nearly every put evicts.
void l1_put_evicting(benchmark::State& state) {
  static const std::vector<std::string> keys = make_keys();
  static cachekit::l1_cache cache({.max_bytes = std::size_t{1} << 30, .max_entries = 1000});
  const cachekit::byte_buffer value(static_cast<std::size_t>(state.range(0)), std::byte{0x33});
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) cache.put(keys[i++ % key_count], value, 1h);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(l1_put_overwrite)->Arg(64)->Arg(1024)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(map_mutex_put_overwrite)->Arg(64)->Arg(1024)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(l1_put_evicting)->Arg(64)->Threads(1)->Threads(2)->UseRealTime();

// ---- hit-rate simulation -----------------------------------------------------------------------

constexpr std::uint64_t universe = 100000;  // distinct keys of the Zipf part
constexpr std::size_t requests = 2000000;

// Request streams of key ids. Ids >= universe are one-time keys (scans).
std::vector<std::uint64_t> zipf_trace(double s, std::uint64_t seed) {
  std::vector<double> cdf(universe);
  double sum = 0;
  for (std::uint64_t k = 0; k < universe; ++k) {
    sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
    cdf[k] = sum;
  }
  // Popularity ranks map to shuffled ids, so hot keys are not neighbours.
  std::vector<std::uint64_t> id_of_rank(universe);
  std::iota(id_of_rank.begin(), id_of_rank.end(), 0);
  std::mt19937_64 random(seed);
  std::shuffle(id_of_rank.begin(), id_of_rank.end(), random);
  std::uniform_real_distribution<double> uniform(0, sum);
  std::vector<std::uint64_t> trace(requests);
  for (auto& id : trace) {
    const auto rank = std::lower_bound(cdf.begin(), cdf.end(), uniform(random)) - cdf.begin();
    id = id_of_rank[static_cast<std::size_t>(rank)];
  }
  return trace;
}

// Zipf(0.9) with sequential scans of one-time keys: every 40 000 requests, a scan of 10 000
// keys never seen before (20% of all requests).
std::vector<std::uint64_t> scan_polluted_trace() {
  const std::vector<std::uint64_t> zipf = zipf_trace(0.9, 5);
  std::vector<std::uint64_t> trace;
  trace.reserve(requests + requests / 4);
  std::uint64_t next_scan_key = universe;
  for (std::size_t i = 0; i < zipf.size(); ++i) {
    if (i % 40000 == 0 && i > 0) {
      for (int j = 0; j < 10000; ++j) trace.push_back(next_scan_key++);
    }
    trace.push_back(zipf[i]);
  }
  return trace;
}

// Zipf(0.9) whose hot set moves: the popularity ranks are reshuffled every 500 000 requests.
std::vector<std::uint64_t> shifting_trace() {
  std::vector<std::uint64_t> trace;
  for (std::uint64_t phase = 0; phase < 4; ++phase) {
    const auto part = zipf_trace(0.9, 100 + phase);
    trace.insert(trace.end(), part.begin(), part.begin() + requests / 4);
  }
  return trace;
}

const std::vector<std::uint64_t>& trace_named(const std::string& name) {
  static std::map<std::string, std::vector<std::uint64_t>> traces;
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  auto it = traces.find(name);
  if (it == traces.end()) {
    if (name == "zipf0.9") it = traces.emplace(name, zipf_trace(0.9, 3)).first;
    if (name == "zipf1.1") it = traces.emplace(name, zipf_trace(1.1, 4)).first;
    if (name == "zipf0.9+scans") it = traces.emplace(name, scan_polluted_trace()).first;
    if (name == "zipf0.9-shifting") it = traces.emplace(name, shifting_trace()).first;
  }
  return it->second;
}

// The baseline: exact LRU (a list in recency order plus an index), bench-only.
class lru_cache {
 public:
  explicit lru_cache(std::size_t capacity) : capacity_(capacity) { index_.reserve(capacity * 2); }
  bool access(std::uint64_t id) {
    if (auto it = index_.find(id); it != index_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return true;
    }
    if (index_.size() == capacity_) {
      index_.erase(order_.back());
      order_.pop_back();
    }
    order_.push_front(id);
    index_.emplace(id, order_.begin());
    return false;
  }

 private:
  std::size_t capacity_;
  std::list<std::uint64_t> order_;
  std::unordered_map<std::uint64_t, std::list<std::uint64_t>::iterator> index_;
};

std::string key_text(std::uint64_t id) {
  return "k:" + std::to_string(id);
}

// Runs the trace through a cache-aside loop (get; on a miss, put) and reports the hit rate.
template <typename Access>
void replay(benchmark::State& state, const std::vector<std::uint64_t>& trace, Access access) {
  std::uint64_t hits = 0;
  for (auto _ : state) {
    hits = 0;
    for (const std::uint64_t id : trace) hits += access(id) ? 1 : 0;
  }
  state.counters["hit_rate_%"] =
      100.0 * static_cast<double>(hits) / static_cast<double>(trace.size());
  state.counters["requests"] = static_cast<double>(trace.size());
}

void hit_rate_lru(benchmark::State& state, const std::string& trace_name, std::size_t capacity) {
  const auto& trace = trace_named(trace_name);
  lru_cache lru(capacity);
  replay(state, trace, [&lru](std::uint64_t id) { return lru.access(id); });
}

// The shipped l1_cache (S3-FIFO), bounded by entries, on a manual clock (nothing expires).
void hit_rate_l1(benchmark::State& state, const std::string& trace_name, std::size_t capacity,
                 std::optional<std::size_t> shards) {
  const auto& trace = trace_named(trace_name);
  static cachekit::manual_clock clock;
  cachekit::l1_cache cache({.max_bytes = std::size_t{1} << 40,
                            .max_entries = capacity,
                            .default_ttl = 24h,
                            .shards = shards,
                            .clock = &clock});
  const std::byte value[1] = {std::byte{1}};
  replay(state, trace, [&](std::uint64_t id) {
    const std::string key = key_text(id);
    if (cache.get(key)) return true;
    cache.put(key, value);
    return false;
  });
  state.counters["shards"] = static_cast<double>(cache.shard_count());
}

// The engine with other S3-FIFO settings, to show why the shipped ones were chosen.
void hit_rate_s3fifo_variant(benchmark::State& state, const std::string& trace_name,
                             std::size_t capacity, double small_fraction,
                             std::uint8_t promote_threshold) {
  const auto& trace = trace_named(trace_name);
  static cachekit::manual_clock clock;
  cachekit::detail::l1_core core({.max_charge = std::size_t{1} << 40,
                                  .max_entries = capacity,
                                  .default_ttl = 24h,
                                  .shards = 1,
                                  .clock = &clock,
                                  .small_fraction = small_fraction,
                                  .promote_threshold = promote_threshold});
  const std::byte value[1] = {std::byte{1}};
  replay(state, trace, [&](std::uint64_t id) {
    const std::string key = key_text(id);
    if (core.visit(key, [](const cachekit::detail::l1_entry&) {})) return true;
    core.put_bytes(key, value, std::nullopt);
    return false;
  });
}

[[maybe_unused]] const bool hit_rate_registered = [] {
  const char* traces[] = {"zipf0.9", "zipf1.1", "zipf0.9+scans", "zipf0.9-shifting"};
  const std::pair<const char*, std::size_t> sizes[] = {{"1%", universe / 100},
                                                       {"10%", universe / 10}};
  for (const char* trace : traces) {
    for (const auto& [size_name, capacity] : sizes) {
      const std::string suffix = std::string(trace) + "/" + size_name;
      benchmark::RegisterBenchmark(("l1_hit_rate/" + suffix + "/lru").c_str(), hit_rate_lru,
                                   std::string(trace), capacity)
          ->Iterations(1)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("l1_hit_rate/" + suffix + "/s3fifo_1shard").c_str(),
                                   hit_rate_l1, std::string(trace), capacity,
                                   std::optional<std::size_t>{1})
          ->Iterations(1)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("l1_hit_rate/" + suffix + "/s3fifo_auto_shards").c_str(),
                                   hit_rate_l1, std::string(trace), capacity,
                                   std::optional<std::size_t>{})
          ->Iterations(1)
          ->Unit(benchmark::kMillisecond);
      for (const auto& [fraction, threshold] :
           {std::pair{0.10, 2}, std::pair{0.05, 1}, std::pair{0.20, 1}}) {
        char name[96];
        std::snprintf(name, sizeof name, "l1_tuning/%s/small%.2f_promote%d", suffix.c_str(),
                      fraction, threshold);
        benchmark::RegisterBenchmark(name, hit_rate_s3fifo_variant, std::string(trace), capacity,
                                     fraction, static_cast<std::uint8_t>(threshold))
            ->Iterations(1)
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  return true;
}();

}  // namespace
