// The write-back after an outage: what a process computed while L2 was failing, and so kept in
// L1 only, reaches L2 once L2 answers again; a key invalidated meanwhile, or one that another
// writer filled after the outage, is left alone; the queue is bounded.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>

#include "support/faulty_backend.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

// Waits (really: the queue's thread runs on its own) until `done` holds, or 10 s.
bool eventually(const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

struct write_back_test : ::testing::Test {
  std::shared_ptr<testing::faulty_backend> l2 = std::make_shared<testing::faulty_backend>();
  manual_clock clock;
  std::atomic<int> calls{0};

  // The test preset has no reliability layers and no write-back: switched on here, retried
  // only when L2 is seen answering (the interval is an hour), so each test decides when.
  cache make_cache(intent preset = intent::test, std::size_t max_entries = 10'000) {
    cache_options options = cache_options::for_intent(preset);
    options.l2 = l2;
    options.clock = &clock;
    options.write_back = write_back_options{.max_entries = max_entries, .retry_interval = 1h};
    return cache(std::move(options));
  }
  auto tagged() {
    return [this](std::int64_t n) {
      ++calls;
      return "value " + std::to_string(n);
    };
  }
  bool in_l2(const std::string& key) {
    auto held = l2->inner().get(key);
    return held && held->has_value();
  }
};

TEST_F(write_back_test, results_computed_during_an_outage_reach_l2_when_it_answers_again) {
  auto c = make_cache();
  auto f = c.memoize("tests.write_back.f", tagged(), {.ttl = 600s});
  auto g = c.memoize("tests.write_back.g", tagged(), {.ttl = 600s});
  l2->fail_with(errc::transient);
  for (std::int64_t n = 0; n < 10; ++n) ASSERT_EQ(f(n), "value " + std::to_string(n));
  for (std::int64_t n = 0; n < 10; ++n) EXPECT_FALSE(in_l2(*f.key(n)));
  EXPECT_EQ(c.health().details.at("write_back_pending"), "10");

  l2->fail_with(std::nullopt);
  clock.advance(100s);
  ASSERT_EQ(g(1), "value 1");  // an L2 read that answers: the waiting keys go now
  ASSERT_TRUE(eventually([&] { return c.stats().written_back == 10; }))
      << "written back: " << c.stats().written_back;
  for (std::int64_t n = 0; n < 10; ++n) {
    const std::string key = *f.key(n);
    ASSERT_TRUE(in_l2(key)) << key;
    // The time the entry had left, not a fresh TTL.
    auto left = l2->inner().ttl(key);
    ASSERT_TRUE(left && left->ttl);
    EXPECT_LE(*left->ttl, 500s);
    EXPECT_GE(*left->ttl, 490s);
  }
  EXPECT_EQ(c.health().details.at("write_back_pending"), "0");

  // Another process (a cache with no L1) now hits L2 instead of recomputing.
  cache_options other = cache_options::for_intent(intent::test);
  other.l2 = l2->inner_ptr();
  other.l1_enabled = false;
  cache reader(std::move(other));
  auto f_elsewhere = reader.memoize("tests.write_back.f", tagged(), {.ttl = 600s});
  const int before = calls;
  for (std::int64_t n = 0; n < 10; ++n) EXPECT_EQ(f_elsewhere(n), "value " + std::to_string(n));
  EXPECT_EQ(calls, before) << "every call an L2 hit";
}

TEST_F(write_back_test, a_key_invalidated_during_the_outage_is_not_written_back) {
  auto c = make_cache();
  auto f = c.memoize("tests.write_back.f", tagged(), {.ttl = 600s});
  l2->fail_with(errc::timeout);
  ASSERT_EQ(f(1), "value 1");
  ASSERT_EQ(f(2), "value 2");
  f.invalidate(1);
  l2->fail_with(std::nullopt);
  ASSERT_EQ(f(3), "value 3");  // L2 answers
  ASSERT_TRUE(eventually([&] { return in_l2(*f.key(2)); }));
  EXPECT_FALSE(in_l2(*f.key(1)));
  EXPECT_EQ(c.stats().written_back, 1u);
}

TEST_F(write_back_test, an_entry_written_after_the_outage_is_never_replaced) {
  auto c = make_cache();
  auto f = c.memoize("tests.write_back.f", tagged(), {.ttl = 600s});
  l2->fail_with(errc::transient);
  ASSERT_EQ(f(1), "value 1");
  ASSERT_EQ(f(2), "value 2");
  l2->fail_with(std::nullopt);
  // Another writer stores key 1 before this process writes back (its bytes: those of 7).
  auto other_bytes = c.memoize("tests.write_back.other", tagged(), {.ttl = 600s});
  ASSERT_EQ(other_bytes(7), "value 7");  // an L2 write that answers: the write-back starts
  ASSERT_TRUE(eventually([&] { return c.health().details.at("write_back_pending") == "0"; }));
  // Whichever came first, key 2 is there, and a key L2 held is left as it was.
  EXPECT_TRUE(in_l2(*f.key(2)));
  const std::string key1 = *f.key(1);
  auto planted = l2->inner().get(*other_bytes.key(7));
  ASSERT_TRUE(planted && *planted);
  // Put another writer's entry under key 1 and record key 1 again: the write-back skips it.
  ASSERT_TRUE(l2->inner().set(key1, **planted, 600s));
  l2->fail_with(errc::transient);
  f.invalidate(1);
  ASSERT_EQ(f(1), "value 1");  // computed during a second outage: L1 only
  l2->fail_with(std::nullopt);
  ASSERT_TRUE(l2->set("tests.write_back.poke", byte_view{}, 60s));
  ASSERT_EQ(other_bytes(8), "value 8");
  ASSERT_TRUE(eventually([&] { return c.health().details.at("write_back_pending") == "0"; }));
  auto now_held = l2->inner().get(key1);
  ASSERT_TRUE(now_held && *now_held);
  EXPECT_EQ(**now_held, **planted) << "the newer entry stays";
}

TEST_F(write_back_test, the_queue_is_bounded_and_counts_what_it_drops) {
  auto c = make_cache(intent::test, /*max_entries=*/3);
  auto f = c.memoize("tests.write_back.f", tagged(), {.ttl = 600s});
  l2->fail_with(errc::transient);
  for (std::int64_t n = 0; n < 5; ++n) ASSERT_EQ(f(n), "value " + std::to_string(n));
  EXPECT_EQ(c.stats().write_backs_dropped, 2u);
  l2->fail_with(std::nullopt);
  ASSERT_EQ(f(100), "value 100");
  ASSERT_TRUE(eventually([&] { return c.stats().written_back == 3; }));
}

TEST_F(write_back_test, with_the_breaker_it_resumes_once_the_breaker_lets_l2_through) {
  auto c = make_cache(intent::production);
  auto f = c.memoize("tests.write_back.f", tagged(), {.ttl = 600s});
  l2->fail_with(errc::transient);
  for (std::int64_t n = 0; n < 20; ++n) ASSERT_EQ(f(n), "value " + std::to_string(n));
  EXPECT_EQ(c.health().details.at("circuit_breaker"), "open");
  l2->fail_with(std::nullopt);
  clock.advance(31s);  // past the breaker's recovery timeout: half-open, probes let through
  ASSERT_EQ(f(1000), "value 1000");
  ASSERT_TRUE(eventually([&] {
    (void)f(1000);  // later calls keep L2 answering while the breaker closes
    return c.stats().written_back == 20;
  })) << "written back: "
      << c.stats().written_back;
}

TEST_F(write_back_test, off_in_the_test_preset) {
  cache_options options = cache_options::for_intent(intent::test);
  EXPECT_FALSE(options.write_back.has_value());
  EXPECT_TRUE(cache_options::for_intent(intent::production).write_back.has_value());
}

}  // namespace
}  // namespace cachekit
