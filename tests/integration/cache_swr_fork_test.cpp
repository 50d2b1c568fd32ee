// Stale-while-revalidate across fork(): a child of a process whose refresh thread is busy
// (holding a refresh claim) refreshes on a thread of its own, and never waits for the parent's
// thread, which does not exist in the child.
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>

#include "support/forked_child.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::forked_child;

TEST(cache_swr_fork, child_refreshes_on_its_own_thread_while_the_parents_refresh_is_held) {
  if (CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED) {
    GTEST_SKIP() << "the sanitizer runtime is not fork-safe while other threads run "
                    "(tests/support/forked_child.hpp)";
  }
  manual_clock clock;
  // L2 TTLs on the same clock as L1's.
  auto l2 = std::make_shared<memory_backend>(memory_backend_options{.clock = &clock});
  cache c({.l2 = l2, .clock = &clock});
  std::atomic<int> calls{0};
  std::atomic<bool> hold{false};
  std::mutex mutex;
  std::condition_variable released;
  std::atomic<bool> held{false};
  auto f = c.memoize("tests.swr.fork",
                     [&](std::int64_t id) {
                       const int n = ++calls;
                       if (hold.load()) {
                         std::unique_lock lock(mutex);
                         held = true;
                         released.notify_all();
                         released.wait_for(lock, 30s, [&] { return !hold.load(); });
                       }
                       return "v" + std::to_string(n) + "-" + std::to_string(id);
                     },
                     {.ttl = 100s});
  ASSERT_EQ(f(1), "v1-1");
  clock.advance(56s);
  hold = true;
  ASSERT_EQ(f(1), "v1-1");  // the parent's refresh starts and is held
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(released.wait_for(lock, 30s, [&] { return held.load(); }));
  }
  forked_child child([&](int) {
    hold = false;                  // the child's copy: its own refresh is not held
    if (f(1) != "v1-1") return 1;  // served at once; the claim inherited was released
    if (!c.wait_for_refreshes(20s)) return 2;
    const std::string now = f(1);
    return now == "v3-1" ? 0 : 3;  // the parent's held call was the second
  });
  const auto outcome = child.finish(30s);
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  {
    std::lock_guard lock(mutex);
    hold = false;
  }
  released.notify_all();
  ASSERT_TRUE(c.wait_for_refreshes(30s));
  EXPECT_EQ(f(1), "v2-1");
}

}  // namespace
}  // namespace cachekit
