// Stale-while-revalidate (cache_options::swr) and fail-safe stale (serve_stale_for) of memoized
// functions, over an in-process L2 and a manual clock: when a refresh is queued, what it
// stores, its back-off, who wins against it, and when an expired value may be served.
// Refreshes run on the cache's thread; tests wait for them with `wait_for_refreshes` (a bound
// on a hang, never a timing assertion) and hold them at a gate where a race is staged.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>

#include "support/faulty_backend.hpp"
#include "swr_fixture.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

constexpr auto generous = testing::call_gate::generous;  // a hang bound, not a timing assertion

using swr_test = testing::swr_fixture;
using testing::call_gate;

// ---- stale-while-revalidate --------------------------------------------------------------

TEST_F(swr_test, destroying_the_cache_waits_for_a_running_refresh_and_drops_none_halfway) {
  std::atomic<bool> refresh_returned{false};
  std::optional<cache> c(make_cache());
  auto f = c->memoize("m.swr.shutdown",
                      [&](std::int64_t id) {
                        const int n = ++calls;
                        held.pass();
                        if (n > 1) refresh_returned = true;
                        return "v" + std::to_string(n) + "-" + std::to_string(id);
                      },
                      {.ttl = 100s});
  EXPECT_EQ(f(1), "v1-1");
  clock.advance(56s);
  held.close();
  EXPECT_EQ(f(1), "v1-1");
  ASSERT_TRUE(held.wait_arrivals(2));  // the refresh runs, held at the gate
  std::thread opener([&] {
    std::this_thread::sleep_for(50ms);
    held.open();
  });
  c.reset();  // returns only once the running refresh has ended: no thread outlives the cache
  EXPECT_TRUE(refresh_returned.load());
  opener.join();
  // The memoized function still works without its cache object, and refreshes no more.
  clock.advance(56s);
  EXPECT_EQ(f(1), "v2-1");
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(swr_test, hit_before_the_threshold_queues_no_refresh) {
  auto c = make_cache();
  auto f = c.memoize("m.swr", versioned(), {.ttl = 100s});
  EXPECT_EQ(f(1), "v1-1");
  clock.advance(44s);  // below 0.5 x 0.9 of 100 s whatever the jitter draws
  for (int i = 0; i < 20; ++i) EXPECT_EQ(f(1), "v1-1");
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(f.info().refreshes, 0u);
}

TEST_F(swr_test, hit_past_the_threshold_serves_the_cached_value_and_refreshes_once) {
  auto c = make_cache();
  auto f = c.memoize("m.swr", versioned(), {.ttl = 100s});
  EXPECT_EQ(f(1), "v1-1");
  clock.advance(56s);  // above 0.5 x 1.1 of 100 s whatever the jitter draws
  held.close();
  EXPECT_EQ(f(1), "v1-1");  // served at once; the refresh waits at the gate
  ASSERT_TRUE(held.wait_arrivals(2));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(f(1), "v1-1");  // the claim is held: no second one
  held.open();
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 2);
  // The refresh stored its value in L1 (served without a call) and in L2.
  EXPECT_EQ(f(1), "v2-1");
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(in_l2(f.key(1).value()), "v2-1");
  const cache_info info = f.info();
  EXPECT_EQ(info.refreshes, 1u);
  EXPECT_EQ(info.refresh_failures, 0u);
  EXPECT_EQ(info.misses, 1u);  // a refresh is not a call
  EXPECT_EQ(info.l1_hits, 52u);
}

TEST_F(swr_test, refreshed_entry_starts_a_new_lifetime) {
  auto c = make_cache();
  auto f = c.memoize("m.swr", versioned(), {.ttl = 100s});
  (void)f(1);
  clock.advance(56s);
  (void)f(1);
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  ASSERT_EQ(calls.load(), 2);
  clock.advance(44s);  // 100 s after the first write: the refreshed copy is 44 s old
  EXPECT_EQ(f(1), "v2-1");
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 2);
  clock.advance(12s);  // 56 s old: refreshed again
  EXPECT_EQ(f(1), "v2-1");
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(f(1), "v3-1");
}

TEST_F(swr_test, failed_refresh_backs_off_for_the_retry_interval) {
  auto c = make_cache();  // retry_interval 10 s
  auto f = c.memoize("m.swr", versioned(), {.ttl = 100s});
  (void)f(1);
  clock.advance(56s);
  throwing = true;
  EXPECT_EQ(f(1), "v1-1");  // the refresh throws in the background; the caller never sees it
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(f.info().refresh_failures, 1u);
  clock.advance(9s);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(f(1), "v1-1");
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 2);  // backing off
  clock.advance(1s);           // 10 s after the failure
  throwing = false;
  EXPECT_EQ(f(1), "v1-1");
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(f(1), "v3-1");
  EXPECT_EQ(f.info().refreshes, 1u);
}

TEST_F(swr_test, retry_interval_zero_refreshes_again_on_the_next_hit) {
  cache_options options;
  options.swr.retry_interval = 0ms;
  auto c = make_cache(std::move(options));
  auto f = c.memoize("m.swr", versioned(), {.ttl = 100s});
  (void)f(1);
  clock.advance(56s);
  throwing = true;
  (void)f(1);
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  (void)f(1);
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(f.info().refresh_failures, 2u);
}

TEST_F(swr_test, invalidate_during_the_refresh_wins) {
  auto c = make_cache();
  auto f = c.memoize("m.swr", versioned(), {.ttl = 100s});
  const std::string key = f.key(1).value();
  (void)f(1);
  clock.advance(56s);
  held.close();
  (void)f(1);
  ASSERT_TRUE(held.wait_arrivals(2));  // the refresh is running
  f.invalidate(1);
  held.open();
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  // Neither layer holds the refresh's result.
  EXPECT_EQ(in_l2(key), std::nullopt);
  EXPECT_EQ(f(1), "v3-1");  // a miss: the function runs again
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(f.info().refreshes, 0u);
}

TEST_F(swr_test, clear_during_the_refresh_wins) {
  auto c = make_cache();
  auto f = c.memoize("m.swr", versioned(), {.ttl = 100s});
  const std::string key = f.key(1).value();
  (void)f(1);
  clock.advance(56s);
  held.close();
  (void)f(1);
  ASSERT_TRUE(held.wait_arrivals(2));
  f.clear();
  held.open();
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(in_l2(key), std::nullopt);
  EXPECT_EQ(f(1), "v3-1");
}

TEST_F(swr_test, newer_write_during_the_refresh_wins) {
  auto c = make_cache();
  auto f = c.memoize("m.swr", versioned(), {.ttl = 100s});
  // The same function name and key space, another single-flight table: its store of the key is
  // a newer write that the refresh of `f` does not wait for.
  auto writer = c.memoize("m.swr", [](std::int64_t id) { return "newer-" + std::to_string(id); },
                          {.ttl = 100s});
  const std::string key = f.key(1).value();
  (void)f(1);
  clock.advance(56s);
  held.close();
  (void)f(1);
  ASSERT_TRUE(held.wait_arrivals(2));
  writer.invalidate(1);
  EXPECT_EQ(writer(1), "newer-1");  // stored in L1 and L2 while the refresh runs
  held.open();
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(f(1), "newer-1");
  EXPECT_EQ(in_l2(key), "newer-1");
  EXPECT_EQ(calls.load(), 2);
}

// A backend whose set() of one key waits at a gate: stages a write that lands in L1, then an
// invalidation that completes, then the L2 write.
class held_set_backend final : public backend_wrapper {
 public:
  explicit held_set_backend(std::shared_ptr<backend> inner, call_gate& g)
      : backend_wrapper(std::move(inner)), gate_(g) {}
  std::atomic<bool> hold{false};
  result<void> set(std::string_view key, byte_view value, ttl_seconds ttl) override {
    if (hold.exchange(false)) gate_.pass();
    return backend_wrapper::set(key, value, ttl);
  }

 private:
  call_gate& gate_;
};

TEST_F(swr_test, invalidate_between_the_refresh_l1_and_l2_writes_erases_the_l2_write) {
  call_gate at_set;
  auto holding = std::make_shared<held_set_backend>(l2, at_set);
  cache_options options;
  options.l2 = holding;
  options.reliability = {
      .backpressure = std::nullopt, .circuit_breaker = std::nullopt, .retry = std::nullopt};
  auto c = make_cache(std::move(options));
  auto f = c.memoize("m.swr", versioned(), {.ttl = 100s});
  const std::string key = f.key(1).value();
  (void)f(1);
  clock.advance(56s);
  at_set.close();
  holding->hold = true;
  (void)f(1);
  ASSERT_TRUE(at_set.wait_arrivals(1));  // the refresh landed in L1 and waits to write L2
  EXPECT_EQ(f(1), "v2-1");               // the refreshed L1 copy
  f.invalidate(1);                       // L1 and L2 erased, before the refresh's L2 write
  at_set.open();
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(in_l2(key), std::nullopt);  // the refresh saw the invalidation and undid its write
  EXPECT_EQ(f(1), "v3-1");
}

TEST_F(swr_test, a_process_takes_another_processs_refresh_from_l2_instead_of_calling) {
  // Two caches (two processes) sharing one L2 whose TTLs run on the test's clock.
  auto shared = std::make_shared<memory_backend>(memory_backend_options{.clock = &clock});
  auto a = make_cache({.l2 = shared});
  auto b = make_cache({.l2 = shared});
  auto fa = a.memoize("m.shared", versioned(), {.ttl = 100s});
  auto fb = b.memoize("m.shared", versioned(), {.ttl = 100s});
  EXPECT_EQ(fa(1), "v1-1");
  EXPECT_EQ(fb(1), "v1-1");  // an L2 hit, copied to b's L1
  clock.advance(56s);
  EXPECT_EQ(fa(1), "v1-1");
  ASSERT_TRUE(a.wait_for_refreshes(generous));
  ASSERT_EQ(calls.load(), 2);  // a refreshed: L2 holds v2 for another 100 s
  EXPECT_EQ(fb(1), "v1-1");    // b's copy is past the threshold too
  ASSERT_TRUE(b.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 2);  // b took a's value from L2
  EXPECT_EQ(fb(1), "v2-1");
  EXPECT_EQ(fb.info().refreshes, 1u);
  EXPECT_EQ(fb.info().misses, 0u);
}

TEST_F(swr_test, the_l2_entry_the_copy_came_from_is_not_taken_as_a_refresh) {
  auto c = make_cache();
  auto f = c.memoize("m.swr", versioned(), {.ttl = 100s});
  (void)f(1);  // L1 and L2 written together
  clock.advance(56s);
  (void)f(1);
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 2);  // L2 held the same write, no fresher: the function ran
}

TEST_F(swr_test, eight_threads_hitting_stale_keys_refresh_each_key_exactly_once) {
  constexpr int keys = 64;
  cache_options options;
  options.swr.max_pending = 2 * keys;  // no hit finds the queue full
  auto c = make_cache(std::move(options));
  std::array<std::atomic<int>, keys> runs{};
  auto f = c.memoize("m.swr.many",
                     [&](std::int64_t id) {
                       ++runs[static_cast<std::size_t>(id)];
                       return std::to_string(id);
                     },
                     {.ttl = 100s});
  for (std::int64_t k = 0; k < keys; ++k) (void)f(k);
  clock.advance(56s);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (std::int64_t k = 0; k < keys; ++k) {
          const std::int64_t key = (k + t * 8) % keys;
          if (f(key) != std::to_string(key)) ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(wrong.load(), 0);
  for (std::size_t k = 0; k < keys; ++k) EXPECT_EQ(runs[k].load(), 2) << k;
  EXPECT_EQ(f.info().refreshes, static_cast<std::uint64_t>(keys));
}

TEST_F(swr_test, swr_off_queues_no_refresh) {
  cache_options options;
  options.swr.enabled = false;
  auto c = make_cache(std::move(options));
  auto f = c.memoize("m.swr", versioned(), {.ttl = 100s});
  (void)f(1);
  clock.advance(90s);
  EXPECT_EQ(f(1), "v1-1");
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(swr_test, presets_switch_swr_as_cachekit_py) {
  EXPECT_TRUE(cache_options::for_intent(intent::standard).swr.enabled);
  EXPECT_TRUE(cache_options::for_intent(intent::dev).swr.enabled);
  EXPECT_TRUE(cache_options::for_intent(intent::production).swr.enabled);
  EXPECT_TRUE(cache_options::for_intent(intent::secure).swr.enabled);
  EXPECT_FALSE(cache_options::for_intent(intent::minimal).swr.enabled);
  EXPECT_FALSE(cache_options::for_intent(intent::test).swr.enabled);
  const cache_options defaults;
  EXPECT_EQ(defaults.swr.threshold_ratio, 0.5);
  EXPECT_EQ(defaults.swr.retry_interval, 10s);
  EXPECT_EQ(defaults.serve_stale_for, std::nullopt);
}

TEST_F(swr_test, invalid_swr_options_are_refused_with_the_fix) {
  for (double ratio : {0.0, -0.5, 1.5, std::nan("")}) {
    cache_options options;
    options.swr.threshold_ratio = ratio;
    EXPECT_THROW((void)make_cache(std::move(options)), error) << ratio;
  }
  cache_options negative;
  negative.swr.retry_interval = -1ms;
  EXPECT_THROW((void)make_cache(std::move(negative)), error);
  cache_options no_stale;
  no_stale.serve_stale_for = 0s;
  EXPECT_THROW((void)make_cache(std::move(no_stale)), error);
}

// ---- which functions can refresh -----------------------------------------------------------

std::string by_view(std::string_view s) {
  return std::string(s);
}

static_assert(detail::refreshable_parameter_v<std::int64_t>);
static_assert(detail::refreshable_parameter_v<const std::string&>);
static_assert(detail::refreshable_parameter_v<std::vector<std::string>>);
static_assert(!detail::refreshable_parameter_v<std::string_view>);
static_assert(!detail::refreshable_parameter_v<const char*>);
static_assert(!detail::refreshable_parameter_v<std::span<const std::byte>>);
static_assert(!detail::refreshable_parameter_v<std::string&>);
static_assert(!detail::refreshable_parameter_v<std::vector<std::string_view>>);
static_assert(!detail::refreshable_parameter_v<std::unique_ptr<int>>);

TEST_F(swr_test, functions_whose_arguments_cannot_be_copied_do_not_refresh) {
  auto c = make_cache();
  std::atomic<int> view_calls{0};
  auto f = c.memoize("m.view",
                     [&](std::string_view s) {
                       ++view_calls;
                       return by_view(s);
                     },
                     {.ttl = 100s});
  EXPECT_EQ(f("abc"), "abc");
  clock.advance(90s);
  EXPECT_EQ(f("abc"), "abc");  // a hit, and no refresh
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(view_calls.load(), 1);
}

// ---- fail-safe stale ------------------------------------------------------------------------

struct stale_test : swr_test {
  std::shared_ptr<testing::faulty_backend> faulty = std::make_shared<testing::faulty_backend>();
  cache make_stale_cache() {
    cache_options options;
    options.l2 = faulty;
    options.reliability.retry = std::nullopt;  // retry back-off would move the manual clock
    options.swr.enabled = false;
    options.serve_stale_for = 60s;
    return make_cache(std::move(options));
  }
};

TEST_F(stale_test, l2_down_and_function_throwing_serves_the_expired_copy_within_the_window) {
  auto c = make_stale_cache();
  auto f = c.memoize("m.stale", versioned(), {.ttl = 10s});
  EXPECT_EQ(f(1), "v1-1");
  faulty->fail_with(errc::transient);
  throwing = true;
  clock.advance(10s + 59s);  // expired 59 s ago
  EXPECT_EQ(f(1), "v1-1");
  EXPECT_EQ(c.stats().stale_served, 1u);
  const cache_info info = f.info();
  EXPECT_EQ(info.stale_served, 1u);
  EXPECT_EQ(info.misses, 2u);  // the call ran the function, which threw
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(stale_test, expired_copy_is_not_served_past_the_window) {
  auto c = make_stale_cache();
  auto f = c.memoize("m.stale", versioned(), {.ttl = 10s});
  (void)f(1);
  faulty->fail_with(errc::transient);
  throwing = true;
  clock.advance(10s + 60s);  // expired exactly 60 s ago: no longer kept
  EXPECT_THROW((void)f(1), std::runtime_error);
  EXPECT_EQ(c.stats().stale_served, 0u);
  EXPECT_EQ(f.info().stale_served, 0u);
}

TEST_F(stale_test, a_working_function_wins_over_the_expired_copy) {
  auto c = make_stale_cache();
  auto f = c.memoize("m.stale", versioned(), {.ttl = 10s});
  (void)f(1);
  faulty->fail_with(errc::transient);
  clock.advance(30s);
  EXPECT_EQ(f(1), "v2-1");
  EXPECT_EQ(c.stats().stale_served, 0u);
}

TEST_F(stale_test, expired_copy_is_not_written_back_to_l2) {
  auto c = make_stale_cache();
  auto f = c.memoize("m.stale", versioned(), {.ttl = 10s});
  const std::string key = f.key(1).value();
  (void)f(1);
  // L2 loses the entry (expired or deleted by another process), then fails.
  ASSERT_TRUE(faulty->erase(key).value());
  faulty->fail_with(errc::transient);
  throwing = true;
  clock.advance(20s);
  EXPECT_EQ(f(1), "v1-1");
  faulty->fail_with(std::nullopt);
  EXPECT_EQ(faulty->get(key).value(), std::nullopt);
  // Neither is it served as a hit once L2 answers: the function runs (and throws here, so the
  // kept copy is served again, counted again).
  EXPECT_EQ(f(1), "v1-1");
  EXPECT_EQ(c.stats().stale_served, 2u);
  EXPECT_EQ(faulty->get(key).value(), std::nullopt);
}

TEST_F(stale_test, invalidate_drops_the_kept_copy) {
  auto c = make_stale_cache();
  auto f = c.memoize("m.stale", versioned(), {.ttl = 10s});
  (void)f(1);
  clock.advance(20s);
  f.invalidate(1);
  throwing = true;
  EXPECT_THROW((void)f(1), std::runtime_error);
}

TEST_F(stale_test, without_a_window_the_exception_reaches_the_caller) {
  cache_options options;
  options.l2 = faulty;
  options.reliability.retry = std::nullopt;
  auto c = make_cache(std::move(options));
  auto f = c.memoize("m.stale", versioned(), {.ttl = 10s});
  (void)f(1);
  faulty->fail_with(errc::transient);
  throwing = true;
  clock.advance(11s);
  EXPECT_THROW((void)f(1), std::runtime_error);
}

}  // namespace
}  // namespace cachekit
