// Stampede protection: 64 threads missing one cold key run the function once (single-flight),
// the function's exception reaches every waiter and nothing is cached, and 4 processes sharing
// a real Redis run it once (the distributed fill lock, `{key}:lock` as cachekit-py takes it).
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/forked_child.hpp"
#include "support/local_server.hpp"

#include <gtest/gtest.h>

#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::local_server;

TEST(cache_stampede, sixty_four_threads_on_one_cold_key_run_the_function_once) {
  cache c({.l2 = std::make_shared<memory_backend>()});
  std::atomic<int> runs{0};
  auto slow_square = c.memoize("tests.stampede.square", [&](std::int64_t x) {
    ++runs;
    std::this_thread::sleep_for(100ms);  // every thread arrives while it runs
    return x * x;
  });
  std::atomic<int> right{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 64; ++i) {
    threads.emplace_back([&] {
      if (slow_square(12) == 144) ++right;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(right.load(), 64);
  EXPECT_EQ(runs.load(), 1);
}

TEST(cache_stampede, object_mode_runs_the_function_once_for_sixty_four_threads) {
  cache c(cache_options::for_intent(intent::local));
  std::atomic<int> runs{0};
  std::atomic<int> started{0};
  auto slow_square = c.memoize("tests.stampede.object_square", [&](std::int64_t x) {
    ++runs;
    while (started.load() < 64) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);  // the last arrivals reach the flight
    return std::vector<std::int64_t>{x * x};
  });
  std::atomic<int> right{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 64; ++i) {
    threads.emplace_back([&] {
      ++started;
      if (slow_square(12) == std::vector<std::int64_t>{144}) ++right;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(right.load(), 64);
  EXPECT_EQ(runs.load(), 1);
  const cache_info info = slow_square.info();
  EXPECT_EQ(info.misses, 1u);
  EXPECT_EQ(info.hits, 63u) << "waiters count as hits, as in bytes mode";
}

TEST(cache_stampede, the_functions_exception_reaches_every_waiter_and_nothing_is_cached) {
  cache c({.l2 = std::make_shared<memory_backend>()});
  std::atomic<int> runs{0};
  std::atomic<bool> fail{true};
  auto flaky = c.memoize("tests.stampede.flaky", [&](std::int64_t x) {
    ++runs;
    std::this_thread::sleep_for(100ms);
    if (fail.load()) throw std::runtime_error("upstream down");
    return x;
  });
  std::atomic<int> thrown{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      try {
        (void)flaky(1);
      } catch (const std::runtime_error&) {
        ++thrown;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(thrown.load(), 16);
  EXPECT_EQ(runs.load(), 1);
  fail = false;
  EXPECT_EQ(flaky(1), 1) << "the failure was not cached";
  EXPECT_EQ(runs.load(), 2);
}

TEST(cache_stampede, four_processes_sharing_redis_run_the_function_once) {
  if (CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED) {
    GTEST_SKIP() << "forks under a sanitizer that cannot follow it";
  }
  auto server = local_server::start_redis();
  // Counted across processes in shared memory; the start time lines the children up.
  auto* shared = static_cast<std::atomic<int>*>(::mmap(nullptr, sizeof(std::atomic<int>) * 2,
                                                       PROT_READ | PROT_WRITE,
                                                       MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(shared, MAP_FAILED);
  new (&shared[0]) std::atomic<int>(0);  // runs of the function
  new (&shared[1]) std::atomic<int>(0);  // children ready
  const std::string url = server->address();
  std::vector<std::unique_ptr<testing::forked_child>> children;
  for (int i = 0; i < 4; ++i) {
    children.push_back(std::make_unique<testing::forked_child>([&](int) {
      cache c({.l2 = std::make_shared<redis_backend>(redis_options{.url = url})});
      auto slow = c.memoize("tests.stampede.processes", [&](std::int64_t x) {
        shared[0].fetch_add(1);
        std::this_thread::sleep_for(500ms);  // the others poll for its result meanwhile
        return x + 1;
      });
      shared[1].fetch_add(1);
      while (shared[1].load() < 4) std::this_thread::yield();
      return slow(41) == 42 ? 0 : 1;
    }));
  }
  for (auto& child : children) {
    const auto outcome = child->finish(30s);
    EXPECT_FALSE(outcome.timed_out);
    EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  }
  EXPECT_EQ(shared[0].load(), 1) << "the fill lock let one process run it";
  ::munmap(shared, sizeof(std::atomic<int>) * 2);
}

}  // namespace
}  // namespace cachekit
