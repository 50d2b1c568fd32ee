// The server-side stale grace: an L2 that serves an entry past its TTL labelled stale
// (timed_value::stale; cachekit.io inside the X-CacheKit-Stale-TTL window). A memoized call
// gets the stale value at once, never copied to L1, and one background call per key and
// process replaces it in L1 and L2; blocking, batch and asynchronous calls alike, with or
// without an L1. The label is put on a memory_backend's answers by a wrapper (the real server
// is in tests/integration/cachekitio_backend_test.cpp); refreshes are held at a gate where a
// race is staged and waited for with `wait_for_refreshes` (a bound on a hang, not a timing
// assertion).
#include <gtest/gtest.h>
#include <cachekit/backend_wrapper.hpp>
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>

#include "support/forked_child.hpp"
#include "swr_fixture.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
constexpr auto generous = testing::call_gate::generous;

// A memory_backend whose hits are labelled stale while `label_stale(true)`, as cachekit.io
// labels an entry inside its grace window: no time left, `stale` set.
class stale_labelling_backend final : public backend_wrapper {
 public:
  explicit stale_labelling_backend(std::shared_ptr<backend> inner)
      : backend_wrapper(std::move(inner)) {}
  void label_stale(bool on) { labelling_.store(on); }
  // From now on try_lock answers not_supported, as a backend without locks.
  void refuse_locks() { refusing_locks_.store(true); }
  [[nodiscard]] int timed_reads() const { return timed_reads_.load(); }

  result<std::optional<timed_value>> get_with_ttl(std::string_view key) override {
    ++timed_reads_;
    auto got = backend_wrapper::get_with_ttl(key);
    if (got && *got) label(**got);
    return got;
  }
  result<std::vector<std::optional<timed_value>>> get_many_with_ttl(
      std::span<const std::string_view> keys) override {
    ++timed_reads_;
    auto got = backend_wrapper::get_many_with_ttl(keys);
    if (got) {
      for (auto& entry : *got) {
        if (entry) label(*entry);
      }
    }
    return got;
  }
  [[nodiscard]] bool labels_stale_entries() const noexcept override { return true; }
  result<std::optional<lock_token>> try_lock(std::string_view key,
                                             std::chrono::milliseconds timeout) override {
    if (refusing_locks_.load()) return fail(errc::not_supported, "no locks here");
    return backend_wrapper::try_lock(key, timeout);
  }

 private:
  void label(timed_value& entry) const {
    if (!labelling_.load()) return;
    entry.remaining = ttl_seconds{0s};
    entry.stale = true;
  }
  std::atomic<bool> labelling_{false};
  std::atomic<bool> refusing_locks_{false};
  std::atomic<int> timed_reads_{0};
};

// The SWR fixture, with its L2 seen through the labelling wrapper (`in_l2` reads it unlabelled).
struct stale_l2_test : testing::swr_fixture {
  std::shared_ptr<stale_labelling_backend> labelled = std::make_shared<stale_labelling_backend>(l2);

  cache make_cache(cache_options options = {}) {
    if (!options.l2) options.l2 = labelled;
    return swr_fixture::make_cache(std::move(options));
  }
  // Writes `id`'s entry as another process would, so the reader under test starts with an
  // empty L1 and finds it in L2 only.
  void written_elsewhere(std::int64_t id) {
    cache writer = make_cache({.l1_enabled = false});
    auto w = writer.memoize("m.stale", versioned(), {.ttl = 100s});
    (void)w(id);
  }
};

TEST_F(stale_l2_test, a_stale_hit_is_served_at_once_and_its_key_refreshed_once) {
  written_elsewhere(1);
  auto c = make_cache();
  auto f = c.memoize("m.stale", versioned(), {.ttl = 100s});
  labelled->label_stale(true);
  held.close();
  EXPECT_EQ(f(1), "v1-1");  // served at once; the refresh waits at the gate
  ASSERT_TRUE(held.wait_arrivals(2));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(f(1), "v1-1");  // never copied to L1; no second refresh
  labelled->label_stale(false);
  held.open();
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 2);
  const int reads = labelled->timed_reads();
  EXPECT_EQ(f(1), "v2-1");  // the refresh's value, from L1
  EXPECT_EQ(labelled->timed_reads(), reads);
  EXPECT_EQ(in_l2(f.key(1).value()), "v2-1");
  const cache_info info = f.info();
  EXPECT_EQ(info.l2_hits, 21U);
  EXPECT_EQ(info.l1_hits, 1U);
  EXPECT_EQ(info.misses, 0U);  // a refresh is not a call
  EXPECT_EQ(info.refreshes, 1U);
  EXPECT_EQ(info.refresh_failures, 0U);
}

TEST_F(stale_l2_test, without_an_l1_the_label_is_still_read_and_the_entry_refreshed) {
  written_elsewhere(1);
  auto c = make_cache({.l1_enabled = false});
  auto f = c.memoize("m.stale", versioned(), {.ttl = 100s});
  labelled->label_stale(true);
  EXPECT_EQ(f(1), "v1-1");
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(in_l2(f.key(1).value()), "v2-1");
  labelled->label_stale(false);  // fresh now: read without starting another refresh
  EXPECT_EQ(f(1), "v2-1");
  EXPECT_EQ(f.info().refreshes, 1U);
}

TEST_F(stale_l2_test, swr_off_serves_the_stale_entry_and_refreshes_nothing) {
  written_elsewhere(1);
  cache_options options;
  options.swr.enabled = false;
  auto c = make_cache(std::move(options));
  auto f = c.memoize("m.stale", versioned(), {.ttl = 100s});
  labelled->label_stale(true);
  EXPECT_EQ(f(1), "v1-1");
  EXPECT_EQ(f(1), "v1-1");
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(f.info().refreshes, 0U);
}

TEST_F(stale_l2_test, a_failed_refresh_is_counted_and_the_next_stale_read_tries_again) {
  written_elsewhere(1);
  auto c = make_cache();
  auto f = c.memoize("m.stale", versioned(), {.ttl = 100s});
  labelled->label_stale(true);
  throwing = true;
  EXPECT_EQ(f(1), "v1-1");  // the caller never sees the refresh's exception
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(f.info().refresh_failures, 1U);
  EXPECT_EQ(in_l2(f.key(1).value()), "v1-1");  // nothing stored over the entry
  throwing = false;
  labelled->label_stale(true);
  EXPECT_EQ(f(1), "v1-1");  // still stale: the claim went with the failed refresh
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(f.info().refreshes, 1U);
  EXPECT_EQ(in_l2(f.key(1).value()), "v3-1");
}

TEST_F(stale_l2_test, batch_and_asynchronous_calls_refresh_their_stale_hits_too) {
  written_elsewhere(1);
  written_elsewhere(2);
  auto c = make_cache();
  auto f = c.memoize("m.stale", versioned(), {.ttl = 100s});
  labelled->label_stale(true);
  held.close();
  const auto results = f.many(std::vector<std::int64_t>{1, 2, 1});
  ASSERT_EQ(results.size(), 3U);
  EXPECT_EQ(results[0].value(), "v1-1");
  EXPECT_EQ(results[1].value(), "v2-2");
  EXPECT_EQ(results[2].value(), "v1-1");
  for (const auto& r : results) EXPECT_EQ(r.source(), call_source::l2);
  // One refresh per distinct key, none for the duplicate: one runs (held at the gate), the
  // other waits for the refresh thread (swr.workers is 1).
  ASSERT_TRUE(held.wait_arrivals(3));
  EXPECT_EQ(f.async(2).get(), "v2-2");  // its key's refresh is claimed: served stale, no third
  EXPECT_EQ(f.async(1).get(), "v1-1");
  held.open();
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 4);
  EXPECT_EQ(f.info().refreshes, 2U);

  written_elsewhere(3);
  labelled->label_stale(true);
  EXPECT_EQ(f.async(3).get(), "v5-3");
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 6);
  EXPECT_EQ(in_l2(f.key(3).value()), "v6-3");
}

TEST_F(stale_l2_test, a_function_whose_arguments_cannot_be_copied_serves_stale_without_refresh) {
  cache writer = make_cache({.l1_enabled = false});
  const auto by_name = [this](std::string_view name) {
    ++calls;
    return std::string(name) + "!";
  };
  auto w = writer.memoize("m.stale.view", by_name, {.ttl = 100s});
  EXPECT_EQ(w("a"), "a!");
  auto c = make_cache();
  auto f = c.memoize("m.stale.view", by_name, {.ttl = 100s});
  labelled->label_stale(true);
  EXPECT_EQ(f("a"), "a!");
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(stale_l2_test, a_key_another_client_is_revalidating_is_served_stale_and_not_refreshed) {
  written_elsewhere(1);
  auto c = make_cache();
  auto f = c.memoize("m.stale", versioned(), {.ttl = 100s});
  const std::string key = f.key(1).value();
  auto other = labelled->try_lock(key, 30s);  // another client's revalidation lease
  ASSERT_TRUE(other && *other);
  labelled->label_stale(true);
  EXPECT_EQ(f(1), "v1-1");
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 1);  // the lease holder recomputes, not this process
  EXPECT_EQ(f.info().refreshes, 0U);
  ASSERT_TRUE(labelled->release_lock(**other));
  EXPECT_EQ(f(1), "v1-1");  // the next stale read revalidates, and releases its own lease
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(calls.load(), 2);
  auto again = labelled->try_lock(key, 30s);
  ASSERT_TRUE(again && *again);
}

TEST_F(stale_l2_test, a_forked_child_refreshes_a_key_its_parent_was_refreshing) {
  if (CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED) {
    GTEST_SKIP() << "forks while threads run (see support/forked_child.hpp)";
  }
  written_elsewhere(1);
  // No distributed lease: the parent's lease would be in the child's copy of the in-process L2
  // (a shared L2 would make the child wait for the parent's refresh, as it should); here the
  // claim table alone decides.
  labelled->refuse_locks();
  auto c = make_cache();
  const pid_t parent = ::getpid();
  auto f = c.memoize("m.stale",
                     [&, parent](std::int64_t id) {
                       const int n = ++calls;
                       if (::getpid() == parent)
                         held.pass();  // only the parent's calls wait at the gate
                       return "v" + std::to_string(n) + "-" + std::to_string(id);
                     },
                     {.ttl = 100s});
  labelled->label_stale(true);
  held.close();
  EXPECT_EQ(f(1), "v1-1");
  ASSERT_TRUE(held.wait_arrivals(2));  // the parent's refresh holds the key's claim
  testing::forked_child child([&](int) {
    // The refreshing thread is not in this process: its claim must not stop this one's.
    if (f(1) != "v1-1") return 1;  // still stale: served
    if (!c.wait_for_refreshes(generous)) return 2;
    if (f.info().refreshes != 1) return 3;
    return f(1) == "v3-1" ? 0 : 4;  // the child's own refresh, from its L1
  });
  const auto outcome = child.finish(generous);
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  held.open();
  ASSERT_TRUE(c.wait_for_refreshes(generous));
  EXPECT_EQ(in_l2(f.key(1).value()), "v2-1");  // the parent's refresh, unaffected
}

}  // namespace
}  // namespace cachekit
