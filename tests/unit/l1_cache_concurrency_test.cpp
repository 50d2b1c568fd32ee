// The L1 caches under concurrent use: 8 threads mixing reads, writes and removals for ~0.5 s.
// Run under ThreadSanitizer and AddressSanitizer builds as well (see docs/l1-eviction.md).
#include <cachekit/l1_cache.hpp>
#include <cachekit/monotonic_clock.hpp>
#include <cachekit/object_cache.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;

constexpr int thread_count = 8;
constexpr auto run_time = 500ms;
constexpr int key_space = 4000;

std::byte fill_of(int key_id) {
  return static_cast<std::byte>(key_id % 251);
}

// Each key's value is filled with a byte derived from the key, so a read can tell whether it
// got the bytes of its own key, whole.
bool holds_bytes_of(const cachekit::l1_value& value, int key_id) {
  for (std::byte b : value.bytes()) {
    if (b != fill_of(key_id)) return false;
  }
  return true;
}

TEST(l1_cache_concurrency, mixed_operations_keep_the_budget_and_the_values_intact) {
  cachekit::manual_clock clock;
  const std::size_t budget = 512 * 1024;
  const std::size_t max_entries = 3000;
  cachekit::l1_cache cache(
      {.max_bytes = budget, .max_entries = max_entries, .shards = 8, .clock = &clock});

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> gets{0};
  std::atomic<std::uint64_t> wrong_values{0};
  std::atomic<std::uint64_t> over_budget{0};

  auto worker = [&](int id) {
    std::mt19937 random(static_cast<unsigned>(id));
    std::uniform_int_distribution<int> key_dist(0, key_space - 1);
    std::uniform_int_distribution<int> op_dist(0, 99);
    std::uniform_int_distribution<std::size_t> size_dist(0, 600);
    // Handles kept while other threads overwrite, evict and clear their entries.
    std::vector<std::pair<int, cachekit::l1_value>> held;
    std::uint64_t my_gets = 0;
    for (std::uint64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
      // Skewed keys: half the operations go to 2% of the keys.
      const int key_id = op_dist(random) < 50 ? key_dist(random) % 80 : key_dist(random);
      const std::string key = "k:" + std::to_string(key_id);
      const int op = op_dist(random);
      if (op < 70) {
        ++my_gets;
        if (auto hit = cache.get(key)) {
          if (!holds_bytes_of(*hit, key_id)) wrong_values.fetch_add(1);
          if (held.size() < 64) held.emplace_back(key_id, *hit);
        }
      } else if (op < 93) {
        const std::size_t size = op == 92 ? 20000 : size_dist(random);
        cache.put(key, cachekit::byte_buffer(size, fill_of(key_id)),
                  std::chrono::milliseconds{1 + op_dist(random) * 10});
      } else if (op < 98) {
        cache.erase(key);
      } else if (op == 98) {
        (void)cache.ttl(key);
      } else if (id == 0 && n % 50 == 0) {
        cache.sweep_expired();
        cache.erase_prefix("k:1");
        if (n % 5000 == 0) cache.clear();
      }
      if (n % 256 == 0) {
        for (const auto& [held_id, value] : held) {
          if (!holds_bytes_of(value, held_id)) wrong_values.fetch_add(1);
        }
        held.clear();
      }
    }
    gets.fetch_add(my_gets);
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < thread_count; ++i) threads.emplace_back(worker, i);
  std::thread ticker([&] {  // time moves, so entries expire while others read them
    while (!stop.load()) {
      clock.advance(1ms);
      if (cache.size_bytes() > budget || cache.size() > max_entries) over_budget.fetch_add(1);
      std::this_thread::yield();
    }
  });
  std::this_thread::sleep_for(run_time);
  stop.store(true);
  for (auto& t : threads) t.join();
  ticker.join();

  const cachekit::l1_stats stats = cache.stats();
  std::printf("gets %llu hits %llu evictions %llu expirations %llu entries %zu\n",
              static_cast<unsigned long long>(gets.load()),
              static_cast<unsigned long long>(stats.hits),
              static_cast<unsigned long long>(stats.evictions),
              static_cast<unsigned long long>(stats.expirations), stats.entries);
  EXPECT_EQ(wrong_values.load(), 0u);
  EXPECT_EQ(over_budget.load(), 0u);
  EXPECT_EQ(stats.hits + stats.misses, gets.load());
  EXPECT_GT(stats.hits, 0u);
  EXPECT_GT(stats.evictions + stats.expirations, 0u);
  EXPECT_LE(stats.bytes, budget);
  EXPECT_LE(stats.entries, max_entries);
  EXPECT_EQ(stats.bytes, cache.size_bytes());
  EXPECT_EQ(stats.entries, cache.size());
  // Quiescent: every entry left is charged exactly once.
  const std::size_t swept = cache.sweep_expired();
  EXPECT_EQ(cache.size(), stats.entries - swept);
}

TEST(l1_cache_concurrency, object_cache_shares_objects_safely_across_threads) {
  cachekit::object_cache<std::string> cache({.max_entries = 512});
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> wrong{0};
  auto worker = [&](int id) {
    std::mt19937 random(static_cast<unsigned>(id));
    std::uniform_int_distribution<int> key_dist(0, 2000);
    std::uniform_int_distribution<int> op_dist(0, 9);
    while (!stop.load(std::memory_order_relaxed)) {
      const int key_id = key_dist(random);
      const std::string key = "o:" + std::to_string(key_id);
      const int op = op_dist(random);
      if (op < 3) {
        cache.put(key, std::to_string(key_id));
      } else if (op == 3) {
        cache.erase(key);
      } else if (auto value = cache.get(key); value && *value != std::to_string(key_id)) {
        wrong.fetch_add(1);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < thread_count; ++i) threads.emplace_back(worker, i);
  std::this_thread::sleep_for(run_time / 2);
  stop.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_LE(cache.size(), 512u);
}

}  // namespace
