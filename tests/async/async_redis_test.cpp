// Asynchronous calls against a real redis-server (tests/support/local_server): 10,000 reads in
// flight at once complete with the right values on a bounded number of threads (the thread
// count is asserted, never a time), batched writes land, and a forked child's asynchronous
// calls run on dispatcher threads of its own.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/forked_child.hpp"
#include "support/local_server.hpp"
#include "support/process_threads.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::local_server;

constexpr auto generous = 60s;  // a bound on a hang, not a timing assertion
constexpr int in_flight = 10'000;

using cachekit::testing::process_threads;

cache_options redis_options_for(const local_server& server, bool l1) {
  cache_options o;
  o.l2 = std::make_shared<redis_backend>(redis_options{.url = server.address()});
  o.l1_enabled = l1;
  o.swr.enabled = false;
  return o;
}

TEST(async_redis, ten_thousand_reads_in_flight_complete_on_the_dispatcher_threads) {
  auto server = local_server::start_redis();
  {
    // Fill L2 through asynchronous misses: the function pool runs them, writes are batched.
    cache writer(redis_options_for(*server, true));
    auto square = writer.memoize("tests.async_redis.square",
                                 [](std::int64_t x) { return std::to_string(x * x); });
    std::vector<std::future<std::string>> filled;
    filled.reserve(in_flight);
    for (int i = 0; i < in_flight; ++i) filled.push_back(square.async(i));
    for (int i = 0; i < in_flight; ++i) {
      ASSERT_EQ(filled[i].wait_for(generous), std::future_status::ready);
      ASSERT_EQ(filled[i].get(), std::to_string(std::int64_t{i} * i));
    }
    EXPECT_EQ(square.info().misses, static_cast<std::uint64_t>(in_flight));
  }                                            // the writer's destructor flushes its queued writes
  auto o = redis_options_for(*server, false);  // L1 off: every read goes to Redis
  cache reader(o);
  std::atomic<int> runs{0};
  auto square = reader.memoize("tests.async_redis.square", [&](std::int64_t x) {
    ++runs;
    return std::to_string(x * x);
  });
  const std::size_t before = process_threads();
  std::size_t peak = before;
  std::vector<std::future<std::string>> reads;
  reads.reserve(in_flight);
  for (int i = 0; i < in_flight; ++i) {
    reads.push_back(square.async(i));
    if (i % 500 == 0) peak = std::max(peak, process_threads());
  }
  peak = std::max(peak, process_threads());
  for (int i = 0; i < in_flight; ++i) {
    ASSERT_EQ(reads[i].wait_for(generous), std::future_status::ready);
    ASSERT_EQ(reads[i].get(), std::to_string(std::int64_t{i} * i));
  }
  peak = std::max(peak, process_threads());
  EXPECT_LE(peak, before + o.async.threads + o.async.function_threads)
      << "10,000 reads in flight held at most the dispatcher and function-pool threads";
  const cache_info info = square.info();
  EXPECT_EQ(info.l2_hits, static_cast<std::uint64_t>(in_flight));
  EXPECT_EQ(info.misses, 0u);
  EXPECT_EQ(runs.load(), 0);
}

TEST(async_redis, typed_set_async_and_get_async_round_trip_in_batches) {
  auto server = local_server::start_redis();
  cache c(redis_options_for(*server, false));
  std::vector<std::future<result<void>>> writes;
  for (int i = 0; i < 2000; ++i) {
    writes.push_back(c.set_async("k" + std::to_string(i), std::int64_t{i}, {.ttl = 60s}));
  }
  for (auto& w : writes) {
    ASSERT_EQ(w.wait_for(generous), std::future_status::ready);
    ASSERT_TRUE(w.get().has_value());
  }
  std::vector<std::future<result<std::optional<std::int64_t>>>> reads;
  for (int i = 0; i < 2000; ++i)
    reads.push_back(c.get_async<std::int64_t>("k" + std::to_string(i)));
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(reads[i].wait_for(generous), std::future_status::ready);
    auto got = reads[i].get();
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(*got, std::optional<std::int64_t>(i));
  }
  auto remaining = c.ttl("k1");
  ASSERT_TRUE(remaining.has_value());
  EXPECT_TRUE(remaining->exists);
}

TEST(async_redis, a_forked_child_runs_async_calls_on_threads_of_its_own) {
  if (CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED) {
    GTEST_SKIP() << "forks under a sanitizer that cannot follow it";
  }
  auto server = local_server::start_redis();
  cache c(redis_options_for(*server, true));
  auto twice = c.memoize("tests.async_redis.fork", [](std::int64_t x) { return x * 2; });
  // The parent's dispatcher and pool threads are running when it forks.
  ASSERT_EQ(twice.async(1).get(), 2);
  testing::forked_child child([&](int) {
    for (int i = 2; i < 200; ++i) {
      auto f = twice.async(i);
      if (f.wait_for(generous) != std::future_status::ready || f.get() != i * 2) return 1;
    }
    auto typed = c.get_async<std::int64_t>("absent");
    if (typed.wait_for(generous) != std::future_status::ready) return 2;
    return 0;
  });
  const auto outcome = child.finish(generous);
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 0);
  // The parent's own threads still serve it.
  EXPECT_EQ(twice.async(500).get(), 1000);
}

}  // namespace
}  // namespace cachekit
