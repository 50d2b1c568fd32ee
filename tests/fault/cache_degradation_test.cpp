// A cached call never fails because of the cache: L2 servers that are down at start-up, stop
// mid-run, or hang (SIGSTOP) only make calls run uncached, and the cache recovers when they come
// back. Real servers, real faults.
#include <cachekit/cache.hpp>
#include <cachekit/memcached_backend.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/local_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::local_server;

std::shared_ptr<redis_backend> quick_redis(const local_server& server) {
  return std::make_shared<redis_backend>(
      redis_options{.url = server.address(), .connect_timeout = 300ms, .command_timeout = 300ms});
}

struct counted {
  std::atomic<int> calls{0};
  auto fn() {
    return [this](std::int64_t x) {
      ++calls;
      return x * 3;
    };
  }
};

TEST(cache_degradation, redis_down_at_start_then_back_is_used_again) {
  auto server = local_server::start_redis();
  server->stop();
  auto l2 = quick_redis(*server);
  counted f;
  cache c({.l2 = l2, .l1_enabled = false});
  auto triple = c.memoize("fault.triple", f.fn());
  EXPECT_EQ(triple(1), 3);
  EXPECT_EQ(triple(1), 3);
  EXPECT_EQ(f.calls, 2);  // no L1 and no L2: every call runs, none fails
  EXPECT_GE(c.stats().l2_errors, 2u);

  server->restart();
  EXPECT_EQ(triple(2), 6);  // the pool reconnects; this result is stored
  cache fresh({.l2 = quick_redis(*server), .l1_enabled = false});
  auto again = fresh.memoize("fault.triple", f.fn());
  EXPECT_EQ(again(2), 6);
  EXPECT_EQ(again.info().l2_hits, 1u);
  EXPECT_EQ(f.calls, 3);
}

TEST(cache_degradation, hung_redis_costs_a_timeout_not_a_failure) {
  auto server = local_server::start_redis();
  counted f;
  std::atomic<int> faults{0};
  cache c({.l2 = quick_redis(*server), .l1_enabled = false, .on_error = [&](const failure& why) {
             if (why.code == make_error_code(errc::timeout)) ++faults;
           }});
  auto triple = c.memoize("fault.hung", f.fn());
  EXPECT_EQ(triple(5), 15);
  server->pause();
  EXPECT_EQ(triple(6), 18);  // read and write both time out; the caller still gets its value
  server->resume();
  EXPECT_EQ(f.calls, 2);
  EXPECT_GE(faults.load(), 1);
  EXPECT_EQ(triple(5), 15);  // stored before the hang, served after it
  EXPECT_EQ(triple.info().l2_hits, 1u);
}

TEST(cache_degradation, l1_keeps_serving_while_redis_is_gone) {
  auto server = local_server::start_redis();
  counted f;
  cache c({.l2 = quick_redis(*server)});
  auto triple = c.memoize("fault.l1", f.fn());
  EXPECT_EQ(triple(7), 21);
  server->stop();
  EXPECT_EQ(triple(7), 21);
  EXPECT_EQ(triple(8), 24);
  EXPECT_EQ(triple(8), 24);  // computed while L2 was gone, still kept in L1
  EXPECT_EQ(f.calls, 2);
  EXPECT_EQ(triple.info().l1_hits, 2u);
}

TEST(cache_degradation, memcached_stopped_mid_run_only_costs_recomputation) {
  auto server = local_server::start_memcached();
  counted f;
  cache c({.l2 = std::make_shared<memcached_backend>(memcached_options{
               .servers = {server->address()}, .connect_timeout = 300ms, .timeout = 300ms}),
           .l1_enabled = false});
  auto triple = c.memoize("fault.mc", f.fn());
  EXPECT_EQ(triple(1), 3);
  EXPECT_EQ(triple(1), 3);
  EXPECT_EQ(triple.info().l2_hits, 1u);
  server->stop();
  EXPECT_EQ(triple(1), 3);
  EXPECT_EQ(f.calls, 2);
  EXPECT_GE(c.stats().l2_errors, 1u);
}

}  // namespace
}  // namespace cachekit
