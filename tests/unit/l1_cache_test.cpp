// The L1 caches' contract: exact hits, misses, evictions and expirations on a manual clock.
#include <cachekit/error.hpp>
#include <cachekit/l1_cache.hpp>
#include <cachekit/monotonic_clock.hpp>
#include <cachekit/object_cache.hpp>

#include <gtest/gtest.h>

#if defined(__GLIBC__)
#include <malloc.h>  // mallinfo2, for the overhead measurement
#endif

#include <bit>
#include <chrono>
#include <cstddef>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cachekit::byte_buffer;
using cachekit::l1_cache;
using cachekit::l1_options;
using cachekit::manual_clock;
using cachekit::object_cache;

byte_buffer bytes_of(std::size_t size, char fill = 'x') {
  return byte_buffer(size, static_cast<std::byte>(fill));
}

std::string key_of(int i) {
  return "key:" + std::to_string(i);
}

// One shard, so that eviction order is exactly the policy's; a large byte budget unless given.
l1_options one_shard(manual_clock& clock, std::optional<std::size_t> max_entries = std::nullopt,
                     std::size_t max_bytes = std::size_t{64} << 20) {
  return {.max_bytes = max_bytes, .max_entries = max_entries, .shards = 1, .clock = &clock};
}

std::string text_of(const cachekit::l1_value& value) {
  return std::string(cachekit::as_string_view(value.bytes()));
}

TEST(l1_cache, get_returns_the_bytes_put_and_counts_hits_and_misses) {
  manual_clock clock;
  l1_cache cache(one_shard(clock));
  EXPECT_TRUE(cache.put("a", cachekit::as_byte_view("hello")));

  auto hit = cache.get("a");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(text_of(*hit), "hello");
  EXPECT_FALSE(cache.get("b").has_value());

  const cachekit::l1_stats stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.evictions, 0u);
  EXPECT_EQ(stats.expirations, 0u);
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_EQ(stats.bytes, 1 + 5 + cachekit::l1_entry_overhead);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.size_bytes(), 1 + 5 + cachekit::l1_entry_overhead);
}

TEST(l1_cache, visit_shows_the_live_bytes_and_its_expiry_and_counts_like_get) {
  manual_clock clock;
  l1_cache cache(one_shard(clock));
  EXPECT_TRUE(cache.put("a", cachekit::as_byte_view("hello"), std::chrono::seconds{10}));
  std::string seen;
  cachekit::monotonic_clock::time_point expiry{};
  EXPECT_TRUE(
      cache.visit("a", [&](cachekit::byte_view v, cachekit::monotonic_clock::time_point at) {
        seen.assign(reinterpret_cast<const char*>(v.data()), v.size());
        expiry = at;
      }));
  EXPECT_EQ(seen, "hello");
  EXPECT_EQ(expiry, clock.now() + std::chrono::seconds{10});
  EXPECT_FALSE(cache.visit("b", [](cachekit::byte_view, auto) { FAIL() << "no value for b"; }));
  clock.advance(std::chrono::seconds{10});
  EXPECT_FALSE(cache.visit("a", [](cachekit::byte_view, auto) { FAIL() << "a has expired"; }));
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 2u);
}

TEST(l1_cache, entry_is_served_until_just_before_its_ttl_and_missed_from_it_on) {
  manual_clock clock;
  l1_cache cache(one_shard(clock));
  cache.put("k", bytes_of(10), 10s);

  clock.advance(10s - 1ns);
  EXPECT_TRUE(cache.get("k").has_value());
  EXPECT_EQ(cache.ttl("k"), std::chrono::nanoseconds{1});

  clock.advance(1ns);
  EXPECT_FALSE(cache.get("k").has_value());
  EXPECT_EQ(cache.ttl("k"), std::nullopt);
  const auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.expirations, 1u);
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(cache.size_bytes(), 0u);
}

TEST(l1_cache, put_without_ttl_uses_the_default_of_300_seconds) {
  manual_clock clock;
  l1_cache cache({.clock = &clock});
  cache.put("k", bytes_of(1));
  EXPECT_EQ(cache.ttl("k"), std::chrono::seconds{300});
  clock.advance(300s);
  EXPECT_FALSE(cache.get("k").has_value());
}

TEST(l1_cache, put_without_ttl_uses_the_configured_default) {
  manual_clock clock;
  l1_cache cache({.default_ttl = 5s, .clock = &clock});
  cache.put("k", bytes_of(1), std::nullopt);
  clock.advance(4s);
  EXPECT_EQ(cache.ttl("k"), std::chrono::seconds{1});
  clock.advance(1s);
  EXPECT_FALSE(cache.contains("k"));
}

TEST(l1_cache, overwrite_replaces_the_value_and_restarts_the_ttl) {
  manual_clock clock;
  l1_cache cache(one_shard(clock));
  cache.put("k", cachekit::as_byte_view("old"), 10s);
  clock.advance(8s);
  cache.put("k", cachekit::as_byte_view("newer"), 10s);
  clock.advance(8s);
  auto hit = cache.get("k");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(text_of(*hit), "newer");
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.size_bytes(), 1 + 5 + cachekit::l1_entry_overhead);
}

TEST(l1_cache, huge_ttl_saturates_instead_of_overflowing) {
  manual_clock clock;
  l1_cache cache(one_shard(clock));
  cache.put("k", bytes_of(1), cachekit::monotonic_clock::duration::max());
  clock.advance(std::chrono::hours{24 * 365 * 100});
  EXPECT_TRUE(cache.get("k").has_value());
}

TEST(l1_cache, non_positive_ttl_is_not_stored_and_drops_the_older_copy) {
  manual_clock clock;
  l1_cache cache(one_shard(clock));
  cache.put("k", bytes_of(1), 10s);
  EXPECT_FALSE(cache.put("k", bytes_of(1), 0s));
  EXPECT_FALSE(cache.contains("k"));
  EXPECT_FALSE(cache.put("k", bytes_of(1), -1s));
  EXPECT_EQ(cache.stats().rejections, 2u);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(l1_cache, value_above_an_eighth_of_the_budget_is_not_cached_and_drops_the_older_copy) {
  manual_clock clock;
  l1_cache cache(one_shard(clock, std::nullopt, 4096));
  ASSERT_EQ(cache.max_entry_bytes(), 512u);
  const std::size_t largest_value = 512 - 1 - cachekit::l1_entry_overhead;

  EXPECT_TRUE(cache.put("k", bytes_of(100)));
  EXPECT_FALSE(cache.put("k", bytes_of(largest_value + 1)));
  EXPECT_FALSE(cache.get("k").has_value());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.size_bytes(), 0u);
  EXPECT_EQ(cache.stats().rejections, 1u);

  EXPECT_TRUE(cache.put("k", bytes_of(largest_value)));
  EXPECT_EQ(cache.size_bytes(), 512u);
}

TEST(l1_cache, value_larger_than_the_whole_budget_is_not_cached) {
  manual_clock clock;
  l1_cache cache(one_shard(clock, std::nullopt, 4096));
  cache.put("k", bytes_of(10));
  EXPECT_FALSE(cache.put("k", bytes_of(5000)));
  EXPECT_FALSE(cache.contains("k"));
  EXPECT_EQ(cache.size_bytes(), 0u);
}

TEST(l1_cache, largest_entry_is_also_bounded_by_one_shard) {
  // 64 shards of 1 MiB: a shard is smaller than an eighth of the budget (8 MiB).
  l1_cache cache({.max_bytes = std::size_t{64} << 20, .shards = 64});
  EXPECT_EQ(cache.max_entry_bytes(), std::size_t{1} << 20);
  // 4 shards of 2 MiB: an eighth (1 MiB) is the smaller bound.
  l1_cache fewer({.max_bytes = std::size_t{8} << 20, .shards = 4});
  EXPECT_EQ(fewer.max_entry_bytes(), std::size_t{1} << 20);
  EXPECT_TRUE(fewer.put("k", bytes_of((std::size_t{1} << 20) - 1 - cachekit::l1_entry_overhead)));
  EXPECT_FALSE(fewer.put("k", bytes_of(std::size_t{1} << 20)));
}

TEST(l1_cache, byte_budget_is_never_exceeded) {
  for (std::size_t shards : {1u, 4u}) {
    manual_clock clock;
    const std::size_t budget = 64 * 1024;
    l1_cache cache({.max_bytes = budget, .shards = shards, .clock = &clock});
    std::mt19937 random(7);
    std::uniform_int_distribution<std::size_t> size(0, 3000);
    std::uint64_t stored = 0;
    for (int i = 0; i < 5000; ++i) {
      stored += cache.put(key_of(i), bytes_of(size(random))) ? 1 : 0;
      ASSERT_LE(cache.size_bytes(), budget) << "after put " << i;
    }
    const auto stats = cache.stats();
    EXPECT_EQ(stats.bytes, cache.size_bytes());
    EXPECT_EQ(stats.entries + stats.evictions, stored);
    EXPECT_GT(stats.evictions, 0u);
  }
}

TEST(l1_cache, entry_bound_is_never_exceeded) {
  manual_clock clock;
  l1_cache cache({.max_entries = 100, .shards = 4, .clock = &clock});
  for (int i = 0; i < 1000; ++i) {
    cache.put(key_of(i), bytes_of(8));
    ASSERT_LE(cache.size(), 100u);
  }
  EXPECT_EQ(cache.stats().evictions, 1000u - cache.size());
}

TEST(l1_cache, eviction_takes_the_oldest_unread_key_and_keeps_a_read_one) {
  manual_clock clock;
  l1_cache cache(one_shard(clock, 10));
  for (int i = 0; i < 10; ++i) cache.put(key_of(i), bytes_of(8));
  ASSERT_TRUE(cache.get(key_of(0)).has_value());

  cache.put(key_of(10), bytes_of(8));
  EXPECT_TRUE(cache.contains(key_of(0)));   // read once: moved to the main queue
  EXPECT_FALSE(cache.contains(key_of(1)));  // oldest never read: evicted
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_EQ(cache.size(), 10u);
}

TEST(l1_cache, key_evicted_recently_comes_back_into_the_main_queue) {
  manual_clock clock;
  l1_cache cache(one_shard(clock, 10));
  for (int i = 0; i < 11; ++i) cache.put(key_of(i), bytes_of(8));  // evicts key 0 (ghost)
  ASSERT_FALSE(cache.contains(key_of(0)));

  cache.put(key_of(0), bytes_of(8));  // remembered: straight to main, evicts key 1
  EXPECT_FALSE(cache.contains(key_of(1)));
  // The small queue keeps absorbing new keys while key 0 waits in the main queue.
  for (int i = 11; i < 30; ++i) cache.put(key_of(i), bytes_of(8));
  EXPECT_TRUE(cache.contains(key_of(0)));
  EXPECT_EQ(cache.stats().evictions, 21u);
}

TEST(l1_cache, keys_read_before_a_scan_survive_it) {
  manual_clock clock;
  l1_cache cache(one_shard(clock, 100));
  for (int i = 0; i < 20; ++i) cache.put("hot:" + std::to_string(i), bytes_of(8));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(cache.get("hot:" + std::to_string(i)).has_value());
  for (int i = 0; i < 1000; ++i) cache.put("scan:" + std::to_string(i), bytes_of(8));

  for (int i = 0; i < 20; ++i) EXPECT_TRUE(cache.contains("hot:" + std::to_string(i))) << i;
  const auto stats = cache.stats();
  EXPECT_EQ(stats.evictions, 920u);
  EXPECT_EQ(stats.entries, 100u);
  EXPECT_EQ(stats.hits, 20u);
}

TEST(l1_cache, eviction_removes_an_expired_entry_as_an_expiration) {
  manual_clock clock;
  l1_cache cache(one_shard(clock, 2));
  cache.put("a", bytes_of(1), 1s);
  cache.put("b", bytes_of(1), 100s);
  clock.advance(2s);
  cache.put("c", bytes_of(1), 100s);
  const auto stats = cache.stats();
  EXPECT_EQ(stats.expirations, 1u);
  EXPECT_EQ(stats.evictions, 0u);
  EXPECT_TRUE(cache.contains("b"));
  EXPECT_TRUE(cache.contains("c"));
}

TEST(l1_cache, erase_removes_one_key_and_says_whether_it_was_there) {
  manual_clock clock;
  l1_cache cache(one_shard(clock));
  cache.put("a", bytes_of(3));
  cache.put("b", bytes_of(3));
  EXPECT_TRUE(cache.erase("a"));
  EXPECT_FALSE(cache.erase("a"));
  EXPECT_FALSE(cache.contains("a"));
  EXPECT_TRUE(cache.contains("b"));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.size_bytes(), 1 + 3 + cachekit::l1_entry_overhead);
}

TEST(l1_cache, erase_removes_an_expired_entry_too) {
  manual_clock clock;
  l1_cache cache(one_shard(clock));
  cache.put("a", bytes_of(3), 1s);
  clock.advance(1s);
  EXPECT_TRUE(cache.erase("a"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(l1_cache, erase_prefix_removes_a_namespace_across_shards) {
  manual_clock clock;
  l1_cache cache({.shards = 4, .clock = &clock});
  for (int i = 0; i < 50; ++i) {
    cache.put("ns:users:" + std::to_string(i), bytes_of(4));
    cache.put("ns:orders:" + std::to_string(i), bytes_of(4));
  }
  EXPECT_EQ(cache.erase_prefix("ns:users:"), 50u);
  EXPECT_EQ(cache.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(cache.contains("ns:users:" + std::to_string(i)));
    EXPECT_TRUE(cache.contains("ns:orders:" + std::to_string(i)));
  }
  EXPECT_EQ(cache.erase_prefix("nothing:"), 0u);
}

TEST(l1_cache, clear_removes_everything_and_keeps_the_counters) {
  manual_clock clock;
  l1_cache cache({.shards = 4, .clock = &clock});
  for (int i = 0; i < 20; ++i) cache.put(key_of(i), bytes_of(4));
  ASSERT_TRUE(cache.get(key_of(3)).has_value());
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.size_bytes(), 0u);
  EXPECT_FALSE(cache.get(key_of(3)).has_value());
  const auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_TRUE(cache.put(key_of(3), bytes_of(4)));
  EXPECT_TRUE(cache.contains(key_of(3)));
}

TEST(l1_cache, sweep_expired_removes_only_expired_entries) {
  manual_clock clock;
  l1_cache cache({.shards = 4, .clock = &clock});
  for (int i = 0; i < 30; ++i) cache.put(key_of(i), bytes_of(4), i < 10 ? 5s : 50s);
  clock.advance(5s);
  EXPECT_EQ(cache.size(), 30u);  // lazy: nothing removed yet
  EXPECT_EQ(cache.sweep_expired(), 10u);
  EXPECT_EQ(cache.size(), 20u);
  EXPECT_EQ(cache.stats().expirations, 10u);
  EXPECT_EQ(cache.sweep_expired(), 0u);
}

TEST(l1_cache, contains_and_ttl_count_nothing) {
  manual_clock clock;
  l1_cache cache(one_shard(clock));
  cache.put("a", bytes_of(1), 10s);
  EXPECT_TRUE(cache.contains("a"));
  EXPECT_FALSE(cache.contains("b"));
  EXPECT_EQ(cache.ttl("a"), std::chrono::seconds{10});
  EXPECT_EQ(cache.ttl("b"), std::nullopt);
  const auto stats = cache.stats();
  EXPECT_EQ(stats.hits + stats.misses, 0u);
}

TEST(l1_cache, value_handle_outlives_overwrite_eviction_and_clear) {
  manual_clock clock;
  l1_cache cache(one_shard(clock, 1));
  cache.put("a", cachekit::as_byte_view("first"));
  auto first = cache.get("a");
  cache.put("a", cachekit::as_byte_view("second"));  // overwrite
  auto second = cache.get("a");
  cache.put("b", cachekit::as_byte_view("third"));  // evicts "a"
  ASSERT_FALSE(cache.contains("a"));
  auto third = cache.get("b");
  cache.clear();

  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(text_of(*first), "first");
  EXPECT_EQ(text_of(*second), "second");
  EXPECT_EQ(text_of(*third), "third");
  cachekit::l1_value copy = *third;  // copying shares the bytes
  EXPECT_EQ(copy.data(), third->data());
  EXPECT_EQ(copy.to_buffer(), cachekit::to_byte_buffer("third"));
}

TEST(l1_cache, value_handle_reports_its_expiry) {
  manual_clock clock;
  l1_cache cache(one_shard(clock));
  cache.put("a", bytes_of(1), 42s);
  EXPECT_EQ(cache.get("a")->expires_at(), clock.now() + 42s);
}

TEST(l1_cache, empty_key_and_empty_value_are_cacheable) {
  manual_clock clock;
  l1_cache cache(one_shard(clock));
  EXPECT_TRUE(cache.put("", cachekit::byte_view{}));
  auto hit = cache.get("");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->size(), 0u);
  EXPECT_EQ(cache.size_bytes(), cachekit::l1_entry_overhead);
}

TEST(l1_cache, many_keys_survive_table_growth_and_removal) {
  manual_clock clock;
  l1_cache cache(one_shard(clock));
  for (int i = 0; i < 5000; ++i) cache.put(key_of(i), cachekit::as_byte_view(key_of(i)));
  for (int i = 0; i < 5000; i += 2) ASSERT_TRUE(cache.erase(key_of(i)));
  for (int i = 0; i < 5000; ++i) {
    auto hit = cache.get(key_of(i));
    ASSERT_EQ(hit.has_value(), i % 2 == 1) << i;
    if (hit) EXPECT_EQ(text_of(*hit), key_of(i));
  }
}

void expect_config_error(const l1_options& options, const std::string& fragment) {
  try {
    l1_cache cache(options);
    ADD_FAILURE() << "no error for " << fragment;
  } catch (const cachekit::error& e) {
    EXPECT_EQ(e.code(), cachekit::errc::invalid_configuration);
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(l1_cache, rejects_impossible_options_naming_the_field) {
  expect_config_error({.max_bytes = 0}, "l1_options.max_bytes must be positive");
  expect_config_error({.max_entries = 0}, "l1_options.max_entries must be positive");
  expect_config_error({.default_ttl = 0s}, "l1_options.default_ttl must be positive");
  expect_config_error({.shards = 3}, "l1_options.shards must be a power of two");
  expect_config_error({.shards = 512}, "l1_options.shards must be a power of two");
  expect_config_error({.shards = 0}, "l1_options.shards must be a power of two");
  expect_config_error({.max_entries = 2, .shards = 4}, "exceeds max_entries");
  expect_config_error({.clock = nullptr}, "l1_options.clock must not be null");
}

TEST(l1_cache, automatic_sharding_keeps_a_shard_at_one_mib_or_more) {
  EXPECT_EQ(l1_cache({.max_bytes = std::size_t{1} << 20}).shard_count(), 1u);
  EXPECT_EQ(l1_cache({.max_bytes = std::size_t{3} << 20}).shard_count(),
            std::min<std::size_t>(2, std::bit_ceil(2 * std::thread::hardware_concurrency())));
  const std::size_t shards = l1_cache().shard_count();
  EXPECT_TRUE(std::has_single_bit(shards));
  EXPECT_EQ(shards,
            std::min<std::size_t>(64, std::bit_ceil(2 * std::thread::hardware_concurrency())));
  EXPECT_EQ(l1_cache({.max_entries = 100}).shard_count(), 1u);  // fewer than 64 entries a shard
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CACHEKIT_L1_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CACHEKIT_L1_SANITIZED 1
#endif
#endif

// The documented overhead must cover what a full cache really allocates per entry beyond its
// key and value: entry header, allocator rounding, table slots and the ghost's records.
TEST(l1_cache, entry_overhead_estimate_covers_the_measured_heap_use) {
#if defined(CACHEKIT_L1_SANITIZED) || !defined(__GLIBC__)
  GTEST_SKIP() << "needs glibc's mallinfo2 and no sanitizer allocator";
#else
  constexpr int entries = 20000;
  constexpr std::size_t value_size = 100;
  const std::string prefix = "ns:bench:func:module.function:args:";
  // In-use heap bytes plus mmap()ed blocks (glibc serves large arrays, like the index, by mmap).
  auto heap_in_use = [] {
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
  };
  const std::size_t before = heap_in_use();
  {
    l1_cache cache({.max_entries = entries, .shards = 1});
    // Twice the capacity: the cache is full and the ghost remembers evicted keys.
    for (int i = 0; i < 2 * entries; ++i)
      cache.put(prefix + std::to_string(i), bytes_of(value_size));
    ASSERT_EQ(cache.size(), std::size_t{entries});
    const std::size_t used = heap_in_use() - before;
    const double key_and_value = static_cast<double>(prefix.size() + 5 + value_size);
    const double overhead = static_cast<double>(used) / entries - key_and_value;
    RecordProperty("measured_overhead_bytes", std::to_string(overhead));
    std::printf("measured L1 overhead per entry: %.1f bytes (estimate %zu)\n", overhead,
                cachekit::l1_entry_overhead);
    EXPECT_LE(overhead, static_cast<double>(cachekit::l1_entry_overhead));
    EXPECT_GE(overhead, static_cast<double>(cachekit::l1_entry_overhead) * 0.6);
  }
#endif
}

// ---- object_cache ---------------------------------------------------------------------------

struct user {
  int id = 0;
  std::string name;
};

TEST(object_cache, get_returns_the_stored_object_itself) {
  manual_clock clock;
  object_cache<user> cache({.clock = &clock});
  auto ada = std::make_shared<const user>(user{42, "Ada"});
  EXPECT_TRUE(cache.put("user:42", ada));
  std::shared_ptr<const user> hit = cache.get("user:42");
  EXPECT_EQ(hit.get(), ada.get());
  EXPECT_EQ(cache.get("user:7"), nullptr);
  const auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.entries, 1u);
}

TEST(object_cache, visit_lends_the_object_without_sharing_ownership) {
  object_cache<user> cache;
  auto ada = std::make_shared<const user>(user{42, "Ada"});
  cache.put("user:42", ada);
  const user* lent = nullptr;
  EXPECT_TRUE(cache.visit("user:42", [&](const user& u) { lent = &u; }));
  EXPECT_EQ(lent, ada.get());
  EXPECT_EQ(ada.use_count(), 2);  // ours and the cache's: the visit took no reference
  EXPECT_FALSE(cache.visit("user:7", [](const user&) { FAIL() << "no user 7"; }));
  EXPECT_FALSE(cache.put("user:0", std::shared_ptr<const user>()));  // null is never held
  EXPECT_FALSE(cache.visit("user:0", [](const user&) { FAIL() << "nothing stored"; }));
}

TEST(object_cache, put_by_value_moves_the_object_in) {
  object_cache<user> cache;
  cache.put("user:1", user{1, "Grace"});
  ASSERT_NE(cache.get("user:1"), nullptr);
  EXPECT_EQ(cache.get("user:1")->name, "Grace");
}

TEST(object_cache, default_bound_is_256_entries_like_cache_local) {
  object_cache<int> cache;
  for (int i = 0; i < 1000; ++i) cache.put(key_of(i), i);
  EXPECT_EQ(cache.size(), 256u);
  EXPECT_EQ(cache.stats().evictions, 1000u - 256u);
}

TEST(object_cache, expires_like_the_byte_cache) {
  manual_clock clock;
  object_cache<int> cache({.default_ttl = 300s, .clock = &clock});
  cache.put("a", 1);
  cache.put("b", 2, 10s);
  clock.advance(10s);
  EXPECT_EQ(cache.get("b"), nullptr);
  EXPECT_EQ(cache.ttl("a"), std::chrono::seconds{290});
  clock.advance(290s);
  EXPECT_EQ(cache.get("a"), nullptr);
  EXPECT_EQ(cache.stats().expirations, 2u);
}

TEST(object_cache, weight_bound_uses_the_weigher) {
  manual_clock clock;
  object_cache<std::string> cache({.max_entries = 1000,
                                   .max_weight = 100,
                                   .weigher = [](const std::string& s) { return s.size(); },
                                   .shards = 1,
                                   .clock = &clock});
  for (int i = 0; i < 20; ++i) cache.put(key_of(i), std::string(10, 'x'));
  EXPECT_EQ(cache.size(), 10u);
  EXPECT_EQ(cache.weight(), 100u);
  EXPECT_FALSE(cache.put("big", std::string(101, 'x')));
  EXPECT_EQ(cache.max_entry_weight(), 100u);
}

TEST(object_cache, empty_pointer_is_not_stored_and_drops_the_older_value) {
  object_cache<int> cache;
  cache.put("a", 1);
  EXPECT_FALSE(cache.put("a", std::shared_ptr<const int>{}));
  EXPECT_EQ(cache.get("a"), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(object_cache, object_outlives_its_eviction_while_held) {
  object_cache<std::string> cache({.max_entries = 1, .shards = 1});
  cache.put("a", std::string("alpha"));
  auto held = cache.get("a");
  cache.put("b", std::string("beta"));
  EXPECT_EQ(cache.get("a"), nullptr);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(*held, "alpha");
  EXPECT_EQ(held.use_count(), 1);  // the cache released its reference
}

TEST(object_cache, erase_clear_and_prefix_work_as_in_the_byte_cache) {
  object_cache<int> cache({.max_entries = 1000});
  for (int i = 0; i < 10; ++i) cache.put("a:" + std::to_string(i), i);
  for (int i = 0; i < 10; ++i) cache.put("b:" + std::to_string(i), i);
  EXPECT_TRUE(cache.erase("a:0"));
  EXPECT_EQ(cache.erase_prefix("a:"), 9u);
  EXPECT_EQ(cache.size(), 10u);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
}

TEST(object_cache, rejects_a_weight_bound_without_a_weigher_and_the_reverse) {
  using options = cachekit::object_cache_options<int>;
  EXPECT_THROW(object_cache<int>(options{.max_weight = 10}), cachekit::error);
  EXPECT_THROW(object_cache<int>(options{.weigher = [](const int&) { return std::size_t{1}; }}),
               cachekit::error);
  try {
    object_cache<int> cache(options{.max_entries = 0});
    ADD_FAILURE();
  } catch (const cachekit::error& e) {
    EXPECT_NE(std::string(e.what()).find("object_cache_options.max_entries must be positive"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
