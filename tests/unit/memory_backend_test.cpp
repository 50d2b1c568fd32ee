#include <gtest/gtest.h>
#include <cachekit/memory_backend.hpp>
#include <cachekit/monotonic_clock.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

byte_buffer bytes_of(std::string_view text) {
  return to_byte_buffer(text);
}

std::optional<std::string> get_text(memory_backend& store, std::string_view key) {
  auto got = store.get(key);
  EXPECT_TRUE(got.has_value()) << got.error().message();
  if (!got || !*got) return std::nullopt;
  return std::string(as_string_view(**got));
}

TEST(memory_backend, get_returns_the_stored_bytes_and_nullopt_on_a_miss) {
  memory_backend store;
  EXPECT_EQ(get_text(store, "k"), std::nullopt);
  ASSERT_TRUE(store.set("k", bytes_of("v1"), std::nullopt));
  EXPECT_EQ(get_text(store, "k"), "v1");
  ASSERT_TRUE(store.set("k", bytes_of("second"), std::nullopt));
  EXPECT_EQ(get_text(store, "k"), "second");
  EXPECT_EQ(store.entry_count(), 1u);
  EXPECT_EQ(store.byte_count(), 1u + 6u);
  EXPECT_EQ(store.type(), "memory");
}

TEST(memory_backend, entry_expires_exactly_at_its_ttl) {
  manual_clock clock;
  memory_backend store({.clock = &clock});
  ASSERT_TRUE(store.set("k", bytes_of("v"), 10s));
  clock.advance(10s - 1ns);
  EXPECT_EQ(get_text(store, "k"), "v");
  EXPECT_TRUE(store.exists("k").value());
  clock.advance(1ns);
  EXPECT_FALSE(store.exists("k").value());
  EXPECT_EQ(get_text(store, "k"), std::nullopt);
  EXPECT_EQ(store.entry_count(), 0u);  // the lazy expiry removed it
}

TEST(memory_backend, nullopt_ttl_never_expires) {
  manual_clock clock;
  memory_backend store({.clock = &clock});
  ASSERT_TRUE(store.set("none", bytes_of("a"), std::nullopt));
  clock.advance(24h * 365 * 50);
  EXPECT_EQ(get_text(store, "none"), "a");
  EXPECT_EQ(store.ttl("none").value().ttl, std::nullopt);
}

TEST(memory_backend, ttl_of_zero_or_less_removes_the_entry) {
  memory_backend store;
  ASSERT_TRUE(store.set("k", bytes_of("v"), std::nullopt));
  ASSERT_TRUE(store.set("k", bytes_of("w"), 0s));
  ASSERT_TRUE(store.set("j", bytes_of("w"), -1s));
  EXPECT_EQ(store.entry_count(), 0u);
  ASSERT_TRUE(store.set("k", bytes_of("v"), 10s));
  EXPECT_TRUE(store.touch("k", -5s).value());
  EXPECT_FALSE(store.touch("k", 0s).value());
  EXPECT_EQ(store.entry_count(), 0u);
}

TEST(memory_backend, huge_ttl_saturates_instead_of_overflowing) {
  manual_clock clock;
  memory_backend store({.clock = &clock});
  ASSERT_TRUE(store.set("k", bytes_of("v"), std::chrono::seconds::max()));
  clock.advance(24h * 365 * 100);
  EXPECT_EQ(get_text(store, "k"), "v");
}

TEST(memory_backend, ttl_reports_seconds_left_rounded_like_redis) {
  manual_clock clock;
  memory_backend store({.clock = &clock});
  EXPECT_FALSE(store.ttl("missing").value().exists);

  ASSERT_TRUE(store.set("k", bytes_of("v"), 10s));
  auto t = store.ttl("k").value();
  EXPECT_TRUE(t.exists);
  EXPECT_EQ(t.ttl, 10s);
  clock.advance(2400ms);
  EXPECT_EQ(store.ttl("k").value().ttl, 8s);  // 7.6 s rounds to 8
  clock.advance(200ms);
  EXPECT_EQ(store.ttl("k").value().ttl, 7s);  // 7.4 s rounds to 7

  ASSERT_TRUE(store.set("forever", bytes_of("v"), std::nullopt));
  auto f = store.ttl("forever").value();
  EXPECT_TRUE(f.exists);
  EXPECT_EQ(f.ttl, std::nullopt);

  clock.advance(8s);
  EXPECT_FALSE(store.ttl("k").value().exists);
}

TEST(memory_backend, touch_sets_a_new_ttl_on_live_entries_only) {
  manual_clock clock;
  memory_backend store({.clock = &clock});
  EXPECT_FALSE(store.touch("missing", 10s).value());

  ASSERT_TRUE(store.set("k", bytes_of("v"), 5s));
  clock.advance(4s);
  EXPECT_TRUE(store.touch("k", 5s).value());
  clock.advance(4s);
  EXPECT_EQ(get_text(store, "k"), "v");  // 8 s after the set, alive thanks to touch
  EXPECT_TRUE(store.touch("k", std::nullopt).value());
  clock.advance(24h);
  EXPECT_EQ(get_text(store, "k"), "v");
  EXPECT_EQ(store.ttl("k").value().ttl, std::nullopt);

  ASSERT_TRUE(store.set("short", bytes_of("v"), 1s));
  clock.advance(1s);
  EXPECT_FALSE(store.touch("short", 10s).value());  // already expired
}

TEST(memory_backend, erase_reports_whether_a_live_entry_existed) {
  manual_clock clock;
  memory_backend store({.clock = &clock});
  EXPECT_FALSE(store.erase("k").value());
  ASSERT_TRUE(store.set("k", bytes_of("v"), std::nullopt));
  EXPECT_TRUE(store.erase("k").value());
  EXPECT_FALSE(store.erase("k").value());
  ASSERT_TRUE(store.set("e", bytes_of("v"), 1s));
  clock.advance(2s);
  EXPECT_FALSE(store.erase("e").value());
  EXPECT_EQ(store.entry_count(), 0u);
  EXPECT_EQ(store.byte_count(), 0u);
}

TEST(memory_backend, writes_sweep_expired_entries_nobody_reads) {
  manual_clock clock;
  memory_backend store({.shards = 1, .sweep_limit = 8, .clock = &clock});
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store.set("old" + std::to_string(i), bytes_of("v"), 1s));
  }
  clock.advance(5s);
  ASSERT_TRUE(store.set("new1", bytes_of("v"), std::nullopt));  // sweeps 8
  EXPECT_EQ(store.entry_count(), 21u - 8u);
  ASSERT_TRUE(store.set("new2", bytes_of("v"), std::nullopt));
  ASSERT_TRUE(store.set("new3", bytes_of("v"), std::nullopt));
  EXPECT_EQ(store.entry_count(), 3u);  // only the live ones remain
}

TEST(memory_backend, max_entries_evicts_the_oldest_written) {
  memory_backend store({.max_entries = 3});
  for (const char* key : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(store.set(key, bytes_of("v"), std::nullopt));
  }
  EXPECT_EQ(store.entry_count(), 3u);
  EXPECT_FALSE(store.exists("a").value());
  ASSERT_TRUE(store.set("b", bytes_of("rewritten"), std::nullopt));  // b is now the newest
  ASSERT_TRUE(store.set("e", bytes_of("v"), std::nullopt));
  EXPECT_FALSE(store.exists("c").value());
  EXPECT_TRUE(store.exists("b").value());
  EXPECT_TRUE(store.exists("d").value());
  EXPECT_TRUE(store.exists("e").value());
  EXPECT_EQ(store.health().details.at("evictions"), "2");
}

TEST(memory_backend, max_bytes_evicts_until_the_bound_holds) {
  memory_backend store({.max_bytes = 100});
  const byte_buffer thirty(30, std::byte{'x'});
  for (const char* key : {"a", "b", "c"}) ASSERT_TRUE(store.set(key, thirty, std::nullopt));
  EXPECT_EQ(store.byte_count(), 93u);
  ASSERT_TRUE(store.set("d", thirty, std::nullopt));  // 124 > 100: a goes
  EXPECT_EQ(store.byte_count(), 93u);
  EXPECT_FALSE(store.exists("a").value());
  const byte_buffer big(80, std::byte{'y'});
  ASSERT_TRUE(store.set("big", big, std::nullopt));  // needs three evictions
  EXPECT_EQ(store.entry_count(), 1u);
  EXPECT_EQ(store.byte_count(), 83u);
  EXPECT_TRUE(store.exists("big").value());
}

TEST(memory_backend, a_value_above_max_bytes_is_refused) {
  memory_backend store({.max_bytes = 16});
  ASSERT_TRUE(store.set("k", bytes_of("small"), std::nullopt));
  auto r = store.set("k", byte_buffer(16, std::byte{0}), std::nullopt);  // 1 + 16 > 16
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::backend_permanent);
  EXPECT_EQ(get_text(store, "k"), "small");
}

TEST(memory_backend, invalid_options_throw_at_construction) {
  const auto code_of = [](memory_backend_options options) {
    try {
      memory_backend store(std::move(options));
    } catch (const error& e) {
      return e.code();
    }
    return std::error_code{};
  };
  EXPECT_EQ(code_of({.max_entries = 0}), errc::invalid_configuration);
  EXPECT_EQ(code_of({.max_bytes = 0}), errc::invalid_configuration);
  EXPECT_EQ(code_of({.shards = 0}), errc::invalid_configuration);
  EXPECT_EQ(code_of({.shards = 4096}), errc::invalid_configuration);
  EXPECT_EQ(code_of({.shards = 3}), std::error_code{});  // rounded up to 4
}

TEST(memory_backend, try_lock_is_exclusive_until_released) {
  memory_backend store;
  auto first = store.try_lock("job", 30s).value();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->key, "job:lock");
  EXPECT_EQ(first->value.size(), 32u);
  EXPECT_TRUE(std::all_of(first->value.begin(), first->value.end(),
                          [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }));
  EXPECT_EQ(get_text(store, "job:lock"), first->value);  // an ordinary entry, as on Redis

  EXPECT_FALSE(store.try_lock("job", 30s).value().has_value());
  EXPECT_FALSE(store.release_lock({.key = "job:lock", .value = "not-the-token"}).value());
  EXPECT_TRUE(store.exists("job:lock").value());
  EXPECT_TRUE(store.release_lock(*first).value());
  EXPECT_FALSE(store.release_lock(*first).value());

  auto second = store.try_lock("job", 30s).value();
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(second->value, first->value);
}

TEST(memory_backend, lock_expires_after_its_timeout) {
  manual_clock clock;
  memory_backend store({.clock = &clock});
  auto held = store.try_lock("job", 1500ms).value();
  ASSERT_TRUE(held.has_value());
  clock.advance(1499ms);
  EXPECT_FALSE(store.try_lock("job", 1s).value().has_value());
  clock.advance(1ms);
  auto next = store.try_lock("job", 1s).value();
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(store.release_lock(*held).value());  // expired: the new holder keeps it
  EXPECT_TRUE(store.release_lock(*next).value());
}

TEST(memory_backend, held_locks_are_never_evicted) {
  memory_backend store({.max_entries = 2});
  auto held = store.try_lock("job", 30s).value();
  ASSERT_TRUE(held.has_value());
  for (const char* key : {"a", "b", "c"}) ASSERT_TRUE(store.set(key, bytes_of("v"), std::nullopt));
  EXPECT_TRUE(store.exists("job:lock").value());
  EXPECT_EQ(store.entry_count(), 2u);  // the lock and the newest entry
  EXPECT_TRUE(store.exists("c").value());
}

TEST(memory_backend, health_reports_counts) {
  memory_backend store({.max_entries = 10});
  ASSERT_TRUE(store.set("k", bytes_of("value"), std::nullopt));
  auto h = store.health();
  EXPECT_TRUE(h.healthy);
  EXPECT_EQ(h.backend_type, "memory");
  EXPECT_GE(h.latency.count(), 0);
  EXPECT_EQ(h.details.at("entries"), "1");
  EXPECT_EQ(h.details.at("bytes"), "6");
  EXPECT_EQ(h.details.at("max_entries"), "10");
  EXPECT_EQ(h.details.count("max_bytes"), 0u);
}

TEST(memory_backend, clear_removes_everything) {
  memory_backend store;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(store.set(std::to_string(i), bytes_of("v"), 1h));
  store.clear();
  EXPECT_EQ(store.entry_count(), 0u);
  EXPECT_EQ(store.byte_count(), 0u);
  EXPECT_FALSE(store.exists("7").value());
}

TEST(memory_backend, get_many_answers_in_key_order) {
  memory_backend store;
  ASSERT_TRUE(store.set("a", bytes_of("1"), std::nullopt));
  ASSERT_TRUE(store.set("c", bytes_of("3"), std::nullopt));
  const std::vector<std::string_view> keys{"a", "b", "c"};
  auto got = store.get_many(keys).value();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], bytes_of("1"));
  EXPECT_EQ(got[1], std::nullopt);
  EXPECT_EQ(got[2], bytes_of("3"));
}

TEST(memory_backend, eight_threads_never_see_torn_values_and_bounds_hold) {
  memory_backend store({.max_entries = 64, .shards = 4});
  constexpr int threads = 8;
  constexpr int rounds = 4000;
  std::atomic<int> torn{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        const std::string key = "k" + std::to_string((i * 7 + t) % 100);
        // Every value is 64 copies of one byte: a torn read would mix two.
        const byte_buffer value(64, static_cast<std::byte>((t * 31 + i) & 0xff));
        switch (i % 4) {
          case 0:
          case 1:
            if (!store.set(key, value, (i % 8 == 0) ? ttl_seconds{1h} : std::nullopt)) ++failures;
            break;
          case 2: {
            auto got = store.get(key);
            if (!got) {
              ++failures;
            } else if (*got) {
              const auto& v = **got;
              if (v.size() != 64 || std::count(v.begin(), v.end(), v.front()) != 64) ++torn;
            }
            break;
          }
          default:
            if (!store.erase(key)) ++failures;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(store.entry_count(), 64u);
  std::size_t bytes = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string key = "k" + std::to_string(i);
    if (auto got = store.get(key).value()) bytes += key.size() + got->size();
  }
  EXPECT_EQ(store.byte_count(), bytes);  // the counters agree with the contents
}

TEST(memory_backend, locks_give_mutual_exclusion_across_eight_threads) {
  memory_backend store;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> acquired{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 8; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto token = store.try_lock("resource", 60s).value();
        if (!token) continue;
        ++acquired;
        if (inside.fetch_add(1) != 0) ++overlaps;
        inside.fetch_sub(1);
        EXPECT_TRUE(store.release_lock(*token).value());
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_GT(acquired.load(), 0);
  EXPECT_FALSE(store.exists("resource:lock").value());
}

}  // namespace
}  // namespace cachekit
