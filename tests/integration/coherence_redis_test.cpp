// One cache, many processes, against a real Redis: cachekit-py 0.24.1's key registry (written
// in the SET's round trip, drained by invalidate_all), its invalidation events (published by
// invalidate / invalidate_all, heard by a listener that drops L1 copies), and Redis key
// tracking. Each `cache` object stands for a process (its own engine, L1 and listener); the
// live checks (tests/live) repeat the cross-process parts with the pinned cachekit-py.
// Waits are bounded polls (a hang bound, not a timing assertion).
#include <cachekit/cache.hpp>
#include <cachekit/redis_backend.hpp>

#include "coherence/invalidation_event.hpp"
#include "support/forked_child.hpp"
#include "support/local_server.hpp"
#include "support/raw_redis.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::local_server;
using testing::raw_redis;

constexpr auto bound = 10s;

bool eventually(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

class coherence_redis_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = local_server::start_redis().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { raw().integer({"FLUSHALL"}); }

  static raw_redis& raw() {
    static raw_redis client(server_->port());
    return client;
  }
  static std::shared_ptr<redis_backend> client(redis_key_layout layout) {
    return std::make_shared<redis_backend>(
        redis_options{.url = server_->address(), .key_layout = layout});
  }
  // A "process": its own cache over the shared Redis.
  static cache process(l1_coherence mode,
                       redis_key_layout layout = redis_key_layout::tenant_scoped) {
    cache_options options = cache_options::for_intent(intent::production);
    options.l2 = client(layout);
    options.coherence = mode;
    options.swr.enabled = false;
    options.fill_lock = std::nullopt;
    return cache(std::move(options));
  }
  static bool subscribed(const cache& c) { return c.stats().listener_subscriptions > 0; }

  static local_server* server_;
  // The data behind the memoized function: a test changes it, then invalidates.
  std::atomic<int> version_{1};
};

local_server* coherence_redis_test::server_ = nullptr;

TEST_F(coherence_redis_test, every_write_records_its_key_in_cachekit_py_registry) {
  cache c = process(l1_coherence::ttl_only);
  auto get_user =
      c.memoize("app.users.get_user", [](int id) { return id * 10; }, {.ttl = 60s, .ns = "users"});
  EXPECT_EQ(get_user(1), 10);
  EXPECT_EQ(get_user(2), 20);
  const std::string set = "t:default:" + detail::registry_id("app.users.get_user", "users");
  auto members = raw().strings({"SMEMBERS", set});
  std::sort(members.begin(), members.end());
  std::vector<std::string> expected = {*get_user.key(1), *get_user.key(2)};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(members, expected);  // raw keys: the drain puts the tenant prefix in front
  const long long ttl = raw().integer({"TTL", set});
  EXPECT_GT(ttl, 604000);  // 7 days, renewed by each write
  EXPECT_LE(ttl, 604800);
}

TEST_F(coherence_redis_test, the_plain_layout_keeps_no_registry_as_cachekit_py_redis_backend) {
  cache c = process(l1_coherence::ttl_only, redis_key_layout::plain);
  auto f = c.memoize("app.f", [](int id) { return id; }, {.ttl = 60s});
  EXPECT_EQ(f(1), 1);
  EXPECT_EQ(raw().integer({"EXISTS", detail::registry_id("app.f", std::nullopt)}), 0);
  // invalidate_all still reaches every process's entries, by the prefix walk.
  cache other = process(l1_coherence::ttl_only, redis_key_layout::plain);
  auto same = other.memoize("app.f", [](int id) { return id; }, {.ttl = 60s});
  EXPECT_TRUE(same.invalidate_all());
  EXPECT_EQ(raw().integer({"EXISTS", *f.key(1)}), 0);
}

TEST_F(coherence_redis_test, invalidate_all_drains_what_every_process_wrote) {
  cache a = process(l1_coherence::ttl_only);
  cache b = process(l1_coherence::ttl_only);
  auto fa = a.memoize("app.report", [](int id) { return id; }, {.ttl = 60s});
  auto fb = b.memoize("app.report", [](int id) { return id; }, {.ttl = 60s});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fa(i), i);
  for (int i = 5; i < 8; ++i) EXPECT_EQ(fb(i), i);
  EXPECT_EQ(raw().integer({"DBSIZE"}), 9);  // 8 entries + 1 registry set
  EXPECT_TRUE(fb.invalidate_all());
  EXPECT_EQ(raw().integer({"DBSIZE"}), 0);
  // The direct form, for a process that never memoized the function.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(fa(i + 100), i + 100);
  cache c = process(l1_coherence::ttl_only);
  auto gone = c.invalidate_function("app.report");
  ASSERT_TRUE(gone) << gone.error().message();
  EXPECT_EQ(*gone, 3u);
  EXPECT_EQ(raw().integer({"DBSIZE"}), 0);
}

// An ACL user without @scripting cannot run the drain script; the prefix walk then removes
// the same entries, so the call succeeds and announces it (the drain's refusal is still
// counted as an L2 error).
TEST_F(coherence_redis_test, a_refused_drain_is_made_up_by_the_walk_and_still_announced) {
  raw().strings({"ACL", "SETUSER", "noscript", "on", ">pw", "~*", "&*", "+@all", "-@scripting"});
  const auto users = raw().strings({"ACL", "USERS"});
  ASSERT_NE(std::find(users.begin(), users.end(), "noscript"), users.end());
  cache reader = process(l1_coherence::invalidation_events);
  cache_options options = cache_options::for_intent(intent::production);
  options.l2 = std::make_shared<redis_backend>(
      redis_options{.url = "redis://noscript:pw@127.0.0.1:" + std::to_string(server_->port()),
                    .key_layout = redis_key_layout::tenant_scoped});
  options.swr.enabled = false;
  options.fill_lock = std::nullopt;
  cache writer(std::move(options));
  ASSERT_TRUE(eventually([&] { return subscribed(reader); }));
  auto fr = reader.memoize("app.acl", [this](int id) { return id * 100 + version_.load(); },
                           {.ttl = 3600s});
  auto fw = writer.memoize("app.acl", [this](int id) { return id * 100 + version_.load(); },
                           {.ttl = 3600s});
  EXPECT_EQ(fw(1), 101);
  EXPECT_EQ(fr(1), 101);  // copied into the reader's L1
  version_ = 2;
  const auto errors_before = writer.stats().l2_errors;
  EXPECT_TRUE(fw.invalidate_all());
  EXPECT_EQ(raw().integer({"EXISTS", "t:default:" + *fw.key(1)}), 0);
  EXPECT_EQ(writer.stats().l2_errors, errors_before + 1);  // the refused EVAL
  EXPECT_TRUE(eventually([&] { return fr(1) == 102; }));   // the event reached the reader
  raw().integer({"ACL", "DELUSER", "noscript"});
}

TEST_F(coherence_redis_test, a_registry_member_cannot_reach_outside_the_tenant_prefix) {
  raw().integer({"SET", "outside", "keep"});
  raw().integer({"SET", "t:other:x", "keep"});
  const std::string set = "t:default:" + detail::registry_id("app.g", std::nullopt);
  raw().integer({"SADD", set, "../outside", "t:other:x"});
  cache c = process(l1_coherence::ttl_only);
  auto g = c.memoize("app.g", [](int id) { return id; });
  EXPECT_TRUE(g.invalidate_all());
  EXPECT_EQ(raw().integer({"EXISTS", "outside"}), 1);
  EXPECT_EQ(raw().integer({"EXISTS", "t:other:x"}), 1);
  EXPECT_EQ(raw().integer({"EXISTS", set}), 0);
}

TEST_F(coherence_redis_test, an_event_drops_the_copy_another_process_holds) {
  cache a = process(l1_coherence::invalidation_events);
  cache b = process(l1_coherence::invalidation_events);
  ASSERT_TRUE(eventually([&] { return subscribed(a) && subscribed(b); }));
  auto fa =
      a.memoize("app.price", [this](int id) { return id * 100 + version_.load(); }, {.ttl = 3600s});
  auto fb =
      b.memoize("app.price", [this](int id) { return id * 100 + version_.load(); }, {.ttl = 3600s});
  EXPECT_EQ(fa(1), 101);
  EXPECT_EQ(fa(1), 101);  // an L1 hit in "process" a
  EXPECT_EQ(fa.info().l1_hits, 1u);
  version_ = 2;
  fb.invalidate(1);  // b deletes the entry and announces it
  EXPECT_TRUE(eventually([&] { return fa(1) == 102; }));
  // And for every key of the function.
  EXPECT_EQ(fa(2), 202);
  version_ = 3;
  EXPECT_TRUE(fb.invalidate_all());
  EXPECT_TRUE(eventually([&] { return fa(2) == 203 && fa(1) == 103; }));
}

TEST_F(coherence_redis_test, ttl_only_keeps_serving_its_copy_until_the_ttl) {
  cache a = process(l1_coherence::ttl_only);
  cache b = process(l1_coherence::invalidation_events);
  auto fa = a.memoize("app.price", [this](int id) { return id + version_.load(); }, {.ttl = 3600s});
  auto fb = b.memoize("app.price", [this](int id) { return id + version_.load(); }, {.ttl = 3600s});
  EXPECT_EQ(fa(1), 2);
  version_ = 5;
  fb.invalidate(1);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(fa(1), 2);  // what the mode promises: the copy lives its TTL
}

TEST_F(coherence_redis_test, tracking_drops_a_copy_when_any_client_changes_the_key) {
  cache a = process(l1_coherence::redis_tracking);
  ASSERT_TRUE(eventually([&] { return subscribed(a); }));
  auto fa = a.memoize("app.stock", [this](int id) { return id + version_.load(); }, {.ttl = 3600s});
  EXPECT_EQ(fa(7), 8);
  // Our own write came back as an invalidation: wait for it, then the copy is steady.
  ASSERT_TRUE(eventually([&] { return a.stats().invalidations_received > 0; }));
  EXPECT_EQ(fa(7), 8);
  version_ = 10;
  // Not a cachekit: redis-cli deleting the entry.
  EXPECT_EQ(raw().integer({"DEL", "t:default:" + *fa.key(7)}), 1);
  EXPECT_TRUE(eventually([&] { return fa(7) == 17; }));
  // A flush drops everything.
  EXPECT_EQ(fa(8), 18);
  version_ = 20;
  raw().integer({"FLUSHALL"});
  EXPECT_TRUE(eventually([&] { return fa(8) == 28; }));
}

TEST_F(coherence_redis_test, a_lost_listener_connection_empties_l1_and_resubscribes) {
  cache a = process(l1_coherence::invalidation_events);
  ASSERT_TRUE(eventually([&] { return subscribed(a); }));
  auto fa = a.memoize("app.x", [this](int id) { return id + version_.load(); }, {.ttl = 3600s});
  EXPECT_EQ(fa(1), 2);
  version_ = 7;
  // The entry changes while the listener is cut off: its event would be lost.
  EXPECT_GE(raw().integer({"CLIENT", "KILL", "TYPE", "pubsub"}), 1);
  raw().integer({"DEL", "t:default:" + *fa.key(1)});
  ASSERT_TRUE(eventually([&] { return a.stats().listener_subscriptions >= 2; }));
  EXPECT_EQ(fa(1), 8);  // the copy did not outlive the reconnection
  EXPECT_GE(a.stats().listener_failures, 1u);
}

TEST_F(coherence_redis_test, hostile_events_are_counted_and_cost_nothing_else) {
  cache a = process(l1_coherence::invalidation_events);
  ASSERT_TRUE(eventually([&] { return subscribed(a); }));
  auto fa = a.memoize("app.y", [](int id) { return id; }, {.ttl = 3600s});
  EXPECT_EQ(fa(1), 1);
  const std::string channel(detail::invalidation_channel);
  for (const std::string& junk :
       {std::string("\x91\x01", 2), std::string("\xdf\xff\xff\xff\xff", 5), std::string(70000, 'x'),
        std::string()}) {
    raw().integer({"PUBLISH", channel, junk});
  }
  ASSERT_TRUE(eventually([&] { return a.stats().invalidations_dropped == 4; }));
  EXPECT_EQ(fa(1), 1);
  EXPECT_GE(fa.info().l1_hits, 1u);  // the copy survived
}

TEST_F(coherence_redis_test, an_event_names_the_key_as_cachekit_py_does) {
  cache a = process(l1_coherence::ttl_only);
  auto f = a.memoize("app.users.get", [](int id) { return id; }, {.ttl = 60s, .ns = "users"});
  EXPECT_EQ(f(3), 3);
  // A subscriber of our own sees exactly cachekit-py's encode_event bytes.
  auto sub = client(redis_key_layout::tenant_scoped)
                 ->subscribe({.channels = {std::string(detail::invalidation_channel)}});
  ASSERT_TRUE(sub) << sub.error().message();
  f.invalidate(3);
  std::optional<pushed_message> got;
  ASSERT_TRUE(eventually([&] {
    auto m = (*sub)->next(50ms);
    if (m && *m) got = std::move(**m);
    return got.has_value();
  }));
  const auto expected =
      detail::encode_invalidation_event(detail::registry_id("app.users.get", "users"), *f.key(3));
  EXPECT_EQ(std::string(as_string_view(got->payload)), *expected);
}

TEST_F(coherence_redis_test, a_forked_child_runs_its_own_listener) {
#if CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED
  GTEST_SKIP() << "the listener thread runs at the fork (see forked_child.hpp)";
#else
  cache a = process(l1_coherence::invalidation_events);
  cache b = process(l1_coherence::ttl_only);
  ASSERT_TRUE(eventually([&] { return subscribed(a); }));
  auto fa = a.memoize("app.fork", [](int id) { return id; }, {.ttl = 3600s});
  auto fb = b.memoize("app.fork", [](int id) { return id; }, {.ttl = 3600s});
  EXPECT_EQ(fa(1), 1);
  std::atomic<bool> child_done{false};
  testing::forked_child child([&](int) {
    (void)fa(1);  // the child's first call starts its listener (the parent's is not here)
    const bool heard = eventually([&] {
      return a.stats().listener_subscriptions >= 1 && a.stats().invalidations_received >= 1;
    });
    return heard ? 0 : 1;
  });
  // Invalidations until the child has heard one, from another "process" of the parent.
  std::thread announcer([&] {
    while (!child_done.load()) {
      fb.invalidate(1);
      std::this_thread::sleep_for(20ms);
    }
  });
  const auto outcome = child.finish(bound + 5s);
  child_done = true;
  announcer.join();
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_GE(a.stats().invalidations_received, 1u);  // the parent's listener still runs
#endif
}

}  // namespace
}  // namespace cachekit
