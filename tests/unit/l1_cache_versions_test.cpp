// The L1's support for stale-while-revalidate and fail-safe stale: write stamps
// (`written_at`), replacing only a given write, refresh claims, and expired entries kept for
// `keep_expired_for` within the budget.
#include <gtest/gtest.h>
#include <cachekit/bytes.hpp>
#include <cachekit/error.hpp>
#include <cachekit/l1_cache.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace {

using namespace std::chrono_literals;
using cachekit::byte_buffer;
using cachekit::l1_cache;
using cachekit::l1_options;
using cachekit::l1_visited;
using cachekit::manual_clock;
using time_point = cachekit::monotonic_clock::time_point;

byte_buffer bytes_of(std::size_t size, char fill = 'x') {
  return byte_buffer(size, static_cast<std::byte>(fill));
}

std::string text_of(cachekit::byte_view bytes) {
  return std::string(cachekit::as_string_view(bytes));
}

l1_options kept(manual_clock& clock, std::optional<std::chrono::seconds> keep,
                std::size_t max_bytes = std::size_t{64} << 20) {
  return {.max_bytes = max_bytes, .keep_expired_for = keep, .shards = 1, .clock = &clock};
}

std::optional<time_point> written_at(l1_cache& cache, std::string_view key) {
  std::optional<time_point> at;
  cache.visit_kept(key, [&](const l1_visited& e) { at = e.written_at(); });
  return at;
}

TEST(l1_versions, every_write_of_a_key_gets_its_own_stamp_even_within_one_tick) {
  manual_clock clock;
  l1_cache cache(kept(clock, std::nullopt));
  cache.put("k", bytes_of(1), 10s);
  const auto first = written_at(cache, "k");
  cache.put("k", bytes_of(1), 10s);  // same instant on the manual clock
  const auto second = written_at(cache, "k");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, clock.now());
  EXPECT_GT(*second, *first);
  clock.advance(1s);
  cache.put("k", bytes_of(1), 10s);
  EXPECT_EQ(written_at(cache, "k"), clock.now());
}

TEST(l1_versions, replace_if_written_at_stores_only_over_that_write) {
  manual_clock clock;
  l1_cache cache(kept(clock, std::nullopt));
  cache.put("k", bytes_of(3, 'a'), 10s);
  const time_point from = *written_at(cache, "k");
  clock.advance(4s);
  const auto landed = cache.replace_if_written_at("k", bytes_of(3, 'b'), 10s, from);
  ASSERT_TRUE(landed);
  EXPECT_EQ(*landed, clock.now());
  EXPECT_EQ(text_of(cache.get("k")->bytes()), "bbb");
  EXPECT_EQ(cache.ttl("k"), std::chrono::seconds{10});  // a new lifetime
  // The old stamp no longer names the entry.
  EXPECT_FALSE(cache.replace_if_written_at("k", bytes_of(3, 'c'), 10s, from));
  EXPECT_EQ(text_of(cache.get("k")->bytes()), "bbb");
}

TEST(l1_versions, replace_if_written_at_does_not_resurrect_an_erased_or_cleared_key) {
  manual_clock clock;
  l1_cache cache(kept(clock, std::nullopt));
  cache.put("k", bytes_of(1), 10s);
  const time_point from = *written_at(cache, "k");
  cache.erase("k");
  EXPECT_FALSE(cache.replace_if_written_at("k", bytes_of(1), 10s, from));
  EXPECT_FALSE(cache.contains("k"));
  cache.put("k", bytes_of(1), 10s);
  const time_point again = *written_at(cache, "k");
  cache.clear();
  EXPECT_FALSE(cache.replace_if_written_at("k", bytes_of(1), 10s, again));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(l1_versions, a_refresh_is_claimed_once_until_it_ends) {
  manual_clock clock;
  l1_cache cache(kept(clock, std::nullopt));
  cache.put("k", bytes_of(1), 100s);
  auto claim = [&] {
    bool claimed = false;
    cache.visit_timed("k", [&](const l1_visited& e) { claimed = e.claim_refresh(clock.now()); });
    return claimed;
  };
  EXPECT_TRUE(claim());
  EXPECT_FALSE(claim());
  const time_point from = *written_at(cache, "k");
  EXPECT_TRUE(cache.end_refresh("k", from, std::nullopt));
  EXPECT_TRUE(claim());
  // A failure: no claim for 10 s.
  EXPECT_TRUE(cache.end_refresh("k", from, clock.now() + 10s));
  clock.advance(9999ms);
  EXPECT_FALSE(claim());
  clock.advance(1ms);
  EXPECT_TRUE(claim());
  // A newer write starts unclaimed, and ending the old write's claim changes nothing.
  cache.put("k", bytes_of(1), 100s);
  EXPECT_FALSE(cache.end_refresh("k", from, std::nullopt));
  EXPECT_TRUE(claim());
}

TEST(l1_versions, expired_entries_are_kept_for_the_window_but_never_hits) {
  manual_clock clock;
  l1_cache cache(kept(clock, 60s));
  cache.put("k", bytes_of(2, 'v'), 10s);
  clock.advance(10s);
  EXPECT_FALSE(cache.get("k"));  // a miss...
  EXPECT_FALSE(cache.contains("k"));
  std::optional<std::string> seen;
  std::optional<time_point> expires;
  EXPECT_TRUE(cache.visit_kept("k", [&](const l1_visited& e) {
    seen = text_of(e.bytes());
    expires = e.expires_at();
  }));  // ...still readable as kept
  EXPECT_EQ(seen, "vv");
  EXPECT_LE(*expires, clock.now());
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.sweep_expired(), 0u);
  clock.advance(59s);
  EXPECT_TRUE(cache.visit_kept("k", [](const l1_visited&) {}));
  clock.advance(1s);  // 60 s past expiry
  EXPECT_FALSE(cache.visit_kept("k", [](const l1_visited&) {}));
  EXPECT_FALSE(cache.get("k"));  // and the read removes it
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.stats().expirations, 1u);
}

TEST(l1_versions, without_a_window_expired_entries_are_not_kept) {
  manual_clock clock;
  l1_cache cache(kept(clock, std::nullopt));
  cache.put("k", bytes_of(1), 10s);
  clock.advance(10s);
  EXPECT_FALSE(cache.visit_kept("k", [](const l1_visited&) {}));
  EXPECT_FALSE(cache.get("k"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(l1_versions, sweep_removes_kept_entries_only_after_the_window) {
  manual_clock clock;
  l1_cache cache(kept(clock, 30s));
  for (int i = 0; i < 10; ++i) cache.put("k" + std::to_string(i), bytes_of(4), 5s);
  clock.advance(20s);
  EXPECT_EQ(cache.sweep_expired(), 0u);
  clock.advance(15s);
  EXPECT_EQ(cache.sweep_expired(), 10u);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(l1_versions, kept_entries_count_toward_the_budget_and_are_evicted_first) {
  manual_clock clock;
  const std::size_t entry = 2 + 100 + cachekit::l1_entry_overhead;
  l1_cache cache(kept(clock, 3600s, 10 * entry));
  for (int i = 0; i < 10; ++i) cache.put("e" + std::to_string(i), bytes_of(100), 10s);
  EXPECT_EQ(cache.size_bytes(), 10 * entry);
  clock.advance(11s);  // all ten expired, all kept
  EXPECT_EQ(cache.size_bytes(), 10 * entry);
  for (int i = 0; i < 10; ++i) cache.put("f" + std::to_string(i), bytes_of(100), 10s);
  EXPECT_LE(cache.size_bytes(), 10 * entry);  // the budget holds
  EXPECT_EQ(cache.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(cache.contains("f" + std::to_string(i))) << i;
  EXPECT_EQ(cache.stats().expirations, 10u);
  EXPECT_EQ(cache.stats().evictions, 0u);
}

TEST(l1_versions, keep_window_must_be_positive) {
  manual_clock clock;
  EXPECT_THROW(l1_cache(kept(clock, 0s)), cachekit::error);
}

}  // namespace
