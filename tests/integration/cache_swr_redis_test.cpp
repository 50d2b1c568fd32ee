// Stale-while-revalidate and fail-safe stale against a real Redis, read back the way a
// cachekit-py service sharing it reads: a client of its own, no L1, the same key layout
// (tenant-scoped, as cachekit-py's zero-config Redis). What it must see: a refresh's new value,
// and never a stale value served by the C++ process, whether Redis was paused, recovered, or
// never down. L1 time runs on a manual clock; Redis keeps real time (the entry TTLs here are
// far longer than a test).
#include <cachekit/cache.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/local_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::local_server;

constexpr auto generous = 30s;  // a bound on a hang, not a timing assertion

class swr_redis_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = local_server::start_redis().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  std::shared_ptr<redis_backend> client() const {
    return std::make_shared<redis_backend>(
        redis_options{.url = server_->address(), .key_layout = redis_key_layout::tenant_scoped});
  }
  cache make_cache(bool swr, std::optional<std::chrono::seconds> stale) {
    cache_options options = cache_options::for_intent(intent::production);
    options.l2 = client();
    options.clock = &clock_;
    options.swr.enabled = swr;
    options.serve_stale_for = stale;
    options.reliability.retry = std::nullopt;  // retry back-off would move the manual clock
    return cache(std::move(options));
  }
  // What the Python side reads under `key`: the value, or nullopt when Redis holds none.
  std::optional<std::string> python_reads(const std::string& key) {
    cache reader({.l2 = client(), .l1_enabled = false});
    auto got = reader.get<std::string>(key);
    EXPECT_TRUE(got.has_value()) << got.error().message();
    return got ? *got : std::nullopt;
  }
  std::optional<byte_buffer> raw_entry(const std::string& key) {
    auto got = client()->get(key);
    EXPECT_TRUE(got.has_value());
    return got ? *got : std::nullopt;
  }
  auto versioned() {
    return [this](std::int64_t id) {
      const int n = ++calls_;
      if (throwing_.load()) throw std::runtime_error("upstream down");
      return "v" + std::to_string(n) + "-" + std::to_string(id);
    };
  }

  static local_server* server_;
  manual_clock clock_;
  std::atomic<int> calls_{0};
  std::atomic<bool> throwing_{false};
};

local_server* swr_redis_test::server_ = nullptr;

TEST_F(swr_redis_test, refresh_stores_the_new_value_where_python_reads_it) {
  auto c = make_cache(true, std::nullopt);
  auto f = c.memoize("tests.swr.refresh", versioned(), {.ttl = 600s});
  const std::string key = f.key(1).value();
  EXPECT_EQ(f(1), "v1-1");
  EXPECT_EQ(python_reads(key), "v1-1");
  clock_.advance(331s);  // past 0.5 x 1.1 of 600 s
  // Redis runs on real time: age its entry by the same 331 s, as a real deployment's would be.
  ASSERT_TRUE(client()->touch(key, 269s).value());
  EXPECT_EQ(f(1), "v1-1");
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(python_reads(key), "v2-1");
  EXPECT_EQ(f(1), "v2-1");
  EXPECT_EQ(calls_.load(), 2);
}

TEST_F(swr_redis_test, stale_value_served_while_redis_is_paused_never_reaches_redis) {
  auto c = make_cache(false, 300s);
  auto f = c.memoize("tests.swr.paused", versioned(), {.ttl = 10s});
  const std::string key = f.key(1).value();
  EXPECT_EQ(f(1), "v1-1");
  // Redis drops the entry (its TTL ran out, or a Python service invalidated it).
  ASSERT_TRUE(client()->erase(key).value());
  clock_.advance(11s);  // the L1 copy expired 1 s ago: kept for the window
  throwing_ = true;
  server_->pause();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(f(1), "v1-1");  // timeouts, then the breaker opens
  server_->resume();
  EXPECT_EQ(c.stats().stale_served, 8u);
  EXPECT_GT(c.stats().l2_errors + c.stats().l2_skipped, 0u);
  EXPECT_EQ(python_reads(key), std::nullopt);  // nothing was written back
  EXPECT_EQ(raw_entry(key), std::nullopt);
}

TEST_F(swr_redis_test, stale_value_never_overwrites_nor_extends_a_newer_python_entry) {
  auto c = make_cache(false, 300s);
  auto f = c.memoize("tests.swr.python", versioned(), {.ttl = 3600s});
  const std::string key = f.key(2).value();
  EXPECT_EQ(f(2), "v1-2");
  // A Python service writes a newer value with a shorter TTL; this process's L1 still holds
  // v1-2, which then expires (kept for the window).
  cache python({.l2 = client(), .l1_enabled = false});
  ASSERT_TRUE(python.set(key, std::string("python-2"), {.ttl = 100s}).has_value());
  clock_.advance(3601s);
  throwing_ = true;
  server_->pause();
  EXPECT_EQ(f(2), "v1-2");  // served stale to this caller only
  server_->resume();
  EXPECT_EQ(c.stats().stale_served, 1u);
  EXPECT_EQ(python_reads(key), "python-2");
  auto timed = client()->get_with_ttl(key);
  ASSERT_TRUE(timed && *timed && (*timed)->remaining && *(*timed)->remaining);
  EXPECT_LE(**(*timed)->remaining, 100s);  // not re-set with the function's 3600 s
}

}  // namespace
}  // namespace cachekit
