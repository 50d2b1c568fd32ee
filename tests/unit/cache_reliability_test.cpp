// The reliability layer as a cache composes it around its L2: a backend that fails costs a few
// operations and one report, then nothing while the breaker is open, and L2 serves again by
// itself once it recovers. Every call returns the right value throughout.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>

#include "support/faulty_backend.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

struct cache_reliability_test : ::testing::Test {
  std::shared_ptr<testing::faulty_backend> l2 = std::make_shared<testing::faulty_backend>();
  manual_clock clock;
  std::mutex reports_mutex;
  std::vector<failure> reports;
  std::atomic<int> calls{0};

  cache make_cache(intent preset = intent::production) {
    cache_options options = cache_options::for_intent(preset);
    options.l2 = l2;
    options.l1_enabled = false;  // every call reaches L2
    options.clock = &clock;
    options.on_error = [this](const failure& f) {
      std::lock_guard lock(reports_mutex);
      reports.push_back(f);
    };
    return cache(std::move(options));
  }
  std::size_t report_count() {
    std::lock_guard lock(reports_mutex);
    return reports.size();
  }
  auto doubling() {
    return [this](std::int64_t n) {
      ++calls;
      return n * 2;
    };
  }
};

TEST_F(cache_reliability_test, a_failing_l2_is_skipped_after_five_failures_and_reported_once) {
  auto c = make_cache();
  auto twice = c.memoize("tests.reliability.twice", doubling());
  l2->fail_with(errc::transient);
  for (std::int64_t n = 0; n < 200; ++n) ASSERT_EQ(twice(n), n * 2);
  EXPECT_EQ(calls, 200);
  // GET failed (with retries) until the breaker opened, then nothing reached the backend.
  EXPECT_LE(l2->calls(), 5u * 3u) << "retries included";
  const cache_stats stats = c.stats();
  EXPECT_EQ(stats.l2_errors, 5u);
  // Reads skipped while open (a call whose read failed writes L1 only).
  EXPECT_GE(stats.l2_skipped, 190u);
  // One report of the first failure and one of the opening; the rest are counted only.
  EXPECT_LE(report_count(), 3u);
  bool opened_reported = false;
  for (const auto& r : reports) opened_reported |= r.code == make_error_code(errc::circuit_open);
  EXPECT_TRUE(opened_reported);
  const backend_health health = c.health();
  EXPECT_EQ(health.details.at("circuit_breaker"), "open");
  EXPECT_EQ(health.details.at("l2_errors"), "5");
  EXPECT_NE(health.details.at("last_l2_error").find("scripted failure"), std::string::npos);
  EXPECT_EQ(health.details.at("backpressure_in_flight"), "0");
}

TEST_F(cache_reliability_test, l2_serves_again_by_itself_after_it_recovers) {
  auto c = make_cache();
  auto twice = c.memoize("tests.reliability.twice", doubling());
  l2->fail_with(errc::transient);
  for (std::int64_t n = 0; n < 20; ++n) ASSERT_EQ(twice(n), n * 2);
  l2->fail_with(std::nullopt);
  clock.advance(30s);
  // Probes succeed (misses, then writes), the breaker closes, and entries are L2 hits again.
  for (std::int64_t n = 100; n < 105; ++n) ASSERT_EQ(twice(n), n * 2);
  EXPECT_EQ(c.health().details.at("circuit_breaker"), "closed");
  const int before = calls;
  for (std::int64_t n = 100; n < 105; ++n) ASSERT_EQ(twice(n), n * 2);
  EXPECT_EQ(calls, before) << "served from L2";
  EXPECT_EQ(twice.info().l2_hits, 5u);
}

TEST_F(cache_reliability_test, failures_of_one_class_are_reported_at_most_once_per_second) {
  cache_options options = cache_options::for_intent(intent::production);
  options.reliability.circuit_breaker = std::nullopt;  // every operation reaches the backend
  options.reliability.retry = std::nullopt;
  options.l2 = l2;
  options.l1_enabled = false;
  options.clock = &clock;
  options.on_error = [this](const failure& f) {
    std::lock_guard lock(reports_mutex);
    reports.push_back(f);
  };
  cache c(std::move(options));
  auto twice = c.memoize("tests.reliability.twice", doubling());
  l2->fail_with(errc::transient);
  for (std::int64_t n = 0; n < 50; ++n) ASSERT_EQ(twice(n), n * 2);
  EXPECT_EQ(report_count(), 1u);
  EXPECT_EQ(c.stats().l2_errors, 50u) << "every failure is still counted (reads; no writes after)";
  clock.advance(1s);
  ASSERT_EQ(twice(1000), 2000);
  ASSERT_EQ(report_count(), 2u);
  EXPECT_NE(reports.back().detail.find("49 more like it"), std::string::npos)
      << reports.back().detail;
}

TEST_F(cache_reliability_test, a_call_whose_l2_read_failed_does_not_also_write_l2) {
  auto c = make_cache(intent::test);  // no layers: every operation reaches the backend
  auto twice = c.memoize("tests.reliability.twice", doubling());
  l2->fail_with(errc::timeout);
  for (std::int64_t n = 0; n < 10; ++n) ASSERT_EQ(twice(n), n * 2);
  EXPECT_EQ(l2->calls(), 10u) << "one failed read per call, no write and no fill lock";
  l2->fail_with(std::nullopt);
  ASSERT_EQ(twice(100), 200);
  EXPECT_EQ(twice.info().l1_hits, 0u);
  EXPECT_GE(l2->calls(), 13u) << "a healthy miss reads, takes the fill lock and writes";
}

TEST_F(cache_reliability_test, the_test_preset_wraps_nothing) {
  auto c = make_cache(intent::test);
  EXPECT_EQ(c.options().l2.get(), l2.get());
  auto production = make_cache(intent::production);
  EXPECT_NE(production.options().l2.get(), l2.get());
}

}  // namespace
}  // namespace cachekit
