// memoized::many over an in-process L2 that counts what reaches it (faulty_backend over a
// memory_backend): one L2 read and one L2 write per batch, answers in input order with their
// own outcomes and sources, duplicates run once, L1 hits mixed in, corrupt entries evicted,
// an L2 outage (breaker open) runs every call, encryption, interop mode, object mode.
#include "support/faulty_backend.hpp"

#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/observer.hpp>
#include <cachekit/tenant_scope.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view secure_key =
    "a8f06af41a1f4ccb936082fdbe129b93fd8d9b7db027d9f3ea40c3b5e5480416";

struct memoize_many_test : ::testing::Test {
  std::shared_ptr<testing::faulty_backend> l2 = std::make_shared<testing::faulty_backend>();
  manual_clock clock;
  std::atomic<int> calls{0};

  cache make_cache(cache_options options = {}) {
    options.l2 = l2;
    options.clock = &clock;
    return cache(std::move(options));
  }
  // Doubles `n`; throws for negative numbers.
  auto doubling() {
    return [this](std::int64_t n) {
      ++calls;
      if (n < 0) throw std::invalid_argument("negative: " + std::to_string(n));
      return n * 2;
    };
  }
};

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  for (auto n = from; n < to; ++n) out.push_back(n);
  return out;
}

TEST_F(memoize_many_test, a_cold_batch_runs_each_call_once_with_one_l2_read_and_one_write) {
  auto c = make_cache({.l1_enabled = false});
  auto twice = c.memoize("tests.many.twice", doubling());
  const auto before = l2->calls();
  const auto results = twice.many(range(0, 100));
  EXPECT_EQ(l2->calls() - before, 2u) << "one get_many_with_ttl, one set_many";
  ASSERT_EQ(results.size(), 100u);
  for (std::int64_t n = 0; n < 100; ++n) {
    ASSERT_TRUE(results[n]) << n;
    EXPECT_EQ(results[n].value(), n * 2);
    EXPECT_EQ(results[n].source(), call_source::function);
  }
  EXPECT_EQ(calls, 100);
  EXPECT_EQ(twice.info().misses, 100u);

  // Every result is in L2: a second batch is one read and no write, all L2 hits.
  const auto again = twice.many(range(0, 100));
  EXPECT_EQ(l2->calls() - before, 3u);
  EXPECT_EQ(calls, 100);
  for (std::int64_t n = 0; n < 100; ++n) {
    EXPECT_EQ(again[n].value(), n * 2);
    EXPECT_EQ(again[n].source(), call_source::l2);
  }
  EXPECT_EQ(twice.info().l2_hits, 100u);
  // And single calls read what the batch wrote.
  EXPECT_EQ(twice(7), 14);
  EXPECT_EQ(calls, 100);
}

TEST_F(memoize_many_test, answers_keep_input_order_with_l1_hits_l2_hits_and_misses_mixed) {
  {
    auto writer = make_cache({.l1_enabled = false});
    auto twice = writer.memoize("tests.many.mixed", doubling());
    EXPECT_EQ(twice(1), 2);  // in L2
    EXPECT_EQ(twice(2), 4);
  }
  auto c = make_cache({.l1_enabled = true});  // an empty L1
  auto twice = c.memoize("tests.many.mixed", doubling());
  EXPECT_EQ(twice(1), 2);  // an L2 hit, now in L1 too; 2 is in L2 only
  calls = 0;
  const auto before = l2->calls();
  const std::vector<std::int64_t> args = {3, 1, 2, 4};
  const auto results = twice.many(args);
  EXPECT_EQ(l2->calls() - before, 2u);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].value(), 6);
  EXPECT_EQ(results[0].source(), call_source::function);
  EXPECT_EQ(results[1].value(), 2);
  EXPECT_EQ(results[1].source(), call_source::l1);
  EXPECT_EQ(results[2].value(), 4);
  EXPECT_EQ(results[2].source(), call_source::l2);
  EXPECT_EQ(results[3].value(), 8);
  EXPECT_EQ(calls, 2);
  // L2 hits were backfilled into L1: all four are L1 hits now, with no L2 round trip.
  const auto hot = twice.many(args);
  EXPECT_EQ(l2->calls() - before, 2u);
  for (const auto& r : hot) EXPECT_EQ(r.source(), call_source::l1);
}

TEST_F(memoize_many_test, an_l1_only_batch_makes_no_l2_round_trip) {
  auto c = make_cache({.l1_enabled = true});
  auto twice = c.memoize("tests.many.l1", doubling());
  (void)twice.many(range(0, 10));
  const auto before = l2->calls();
  const auto results = twice.many(range(0, 10));
  EXPECT_EQ(l2->calls(), before);
  EXPECT_EQ(twice.info().l1_hits, 10u);
}

TEST_F(memoize_many_test, an_exception_fails_only_its_own_call_and_is_not_stored) {
  auto c = make_cache({.l1_enabled = false});
  auto twice = c.memoize("tests.many.throws", doubling());
  const std::vector<std::int64_t> args = {1, -1, 2, -2};
  const auto results = twice.many(args);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].value(), 2);
  EXPECT_EQ(results[2].value(), 4);
  for (std::size_t i : {1u, 3u}) {
    EXPECT_FALSE(results[i]);
    ASSERT_NE(results[i].error(), nullptr);
    EXPECT_THROW((void)results[i].value(), std::invalid_argument);
    EXPECT_EQ(results[i].source(), call_source::function);
  }
  EXPECT_TRUE(l2->exists(twice.stored_key(1).value()).value());
  EXPECT_FALSE(l2->exists(twice.stored_key(-1).value()).value());
  // Thrown again next time: nothing was cached for it.
  calls = 0;
  EXPECT_THROW((void)twice(-1), std::invalid_argument);
  EXPECT_EQ(calls, 1);
}

TEST_F(memoize_many_test, duplicates_in_a_batch_run_the_function_once) {
  auto c = make_cache({.l1_enabled = false});
  auto twice = c.memoize("tests.many.duplicates", doubling());
  const std::vector<std::int64_t> args = {5, 5, 6, 5, -3, -3};
  const auto results = twice.many(args);
  EXPECT_EQ(calls, 3);  // 5, 6 and -3 once each
  EXPECT_EQ(results[0].source(), call_source::function);
  EXPECT_EQ(results[1].source(), call_source::l1);
  EXPECT_EQ(results[3].source(), call_source::l1);
  for (std::size_t i : {0u, 1u, 3u}) EXPECT_EQ(results[i].value(), 10);
  EXPECT_EQ(results[2].value(), 12);
  EXPECT_THROW((void)results[4].value(), std::invalid_argument);
  EXPECT_THROW((void)results[5].value(), std::invalid_argument);
  EXPECT_EQ(twice.info().misses, 3u);
}

TEST_F(memoize_many_test, a_key_another_caller_is_filling_is_waited_for_not_run_again) {
  auto c = make_cache({.l1_enabled = false});
  std::atomic<bool> entered{false};
  std::atomic<bool> release{false};
  auto slow = c.memoize("tests.many.flight", [&](std::int64_t n) {
    ++calls;
    if (n == 1) {
      entered = true;
      while (!release) std::this_thread::sleep_for(1ms);
    }
    return n * 2;
  });
  std::thread single([&] { EXPECT_EQ(slow(1), 2); });
  while (!entered) std::this_thread::sleep_for(1ms);
  std::thread opener([&] {
    std::this_thread::sleep_for(50ms);
    release = true;
  });
  const std::vector<std::int64_t> args = {1, 2};
  const auto results = slow.many(args);
  single.join();
  opener.join();
  EXPECT_EQ(results[0].value(), 2);
  EXPECT_EQ(results[1].value(), 4);
  EXPECT_EQ(calls, 2);  // 1 ran once (the single caller's), 2 once
}

TEST_F(memoize_many_test, an_open_breaker_runs_every_call_and_writes_l1_only) {
  cache_options options = cache_options::for_intent(intent::production);
  options.l1_enabled = true;
  auto c = make_cache(std::move(options));
  auto twice = c.memoize("tests.many.breaker", doubling());
  l2->fail_with(errc::transient);
  for (std::int64_t n = 1000; n < 1010; ++n) (void)twice(n);  // opens the breaker
  ASSERT_EQ(c.health().details.at("circuit_breaker"), "open");
  calls = 0;
  const auto before = l2->calls();
  const auto results = twice.many(range(0, 20));
  EXPECT_EQ(l2->calls(), before) << "the open breaker answers without the backend";
  EXPECT_EQ(calls, 20);
  for (std::int64_t n = 0; n < 20; ++n) {
    EXPECT_EQ(results[n].value(), n * 2);
    EXPECT_EQ(results[n].source(), call_source::function);
  }
  // Kept in L1: the next batch is served there.
  const auto again = twice.many(range(0, 20));
  EXPECT_EQ(calls, 20);
  for (const auto& r : again) EXPECT_EQ(r.source(), call_source::l1);
}

TEST_F(memoize_many_test, a_failing_l2_read_runs_every_call) {
  auto c = make_cache({.l1_enabled = false});
  auto twice = c.memoize("tests.many.failing", doubling());
  l2->fail_next(1, errc::timeout);  // the batch's one read
  const auto results = twice.many(range(0, 5));
  EXPECT_EQ(calls, 5);
  for (std::int64_t n = 0; n < 5; ++n) EXPECT_EQ(results[n].value(), n * 2);
  EXPECT_GE(c.stats().l2_errors, 1u);
}

TEST_F(memoize_many_test, a_corrupt_entry_is_evicted_counted_and_its_call_runs) {
  auto c = make_cache({.l1_enabled = false});
  auto twice = c.memoize("tests.many.corrupt", doubling());
  (void)twice.many(range(0, 3));
  const std::string stored = twice.stored_key(1).value();
  ASSERT_TRUE(l2->set(stored, as_byte_view("not a frame"), std::nullopt));
  calls = 0;
  const auto results = twice.many(range(0, 3));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(results[1].value(), 2);
  EXPECT_EQ(results[1].source(), call_source::function);
  EXPECT_EQ(results[0].source(), call_source::l2);
  EXPECT_EQ(c.stats().corrupt_entries, 1u);
  // Stored again by the batch's write: the next read opens it.
  EXPECT_EQ(twice.many(range(1, 2))[0].source(), call_source::l2);
}

TEST_F(memoize_many_test, tuples_of_several_parameters_and_encryption) {
  cache_options options;
  options.l1_enabled = false;
  options.encryption = encryption_options{.keys = keyring::from_hex(secure_key).value()};
  auto c = make_cache(std::move(options));
  auto greet = c.memoize("tests.many.greet", [this](std::int64_t id, const std::string& lang) {
    ++calls;
    return lang + "-" + std::to_string(id);
  });
  using args = std::tuple<std::int64_t, std::string>;
  const std::vector<args> batch = {{1, "en"}, {2, "fr"}, {1, "fr"}};
  const auto results = greet.many(batch);
  EXPECT_EQ(results[0].value(), "en-1");
  EXPECT_EQ(results[1].value(), "fr-2");
  EXPECT_EQ(results[2].value(), "fr-1");
  // Sealed: the stored bytes do not contain the plaintext, and single calls open them.
  const auto raw = l2->get(greet.stored_key(1, "en").value()).value();
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(std::string(as_string_view(*raw)).find("en-1"), std::string::npos);
  calls = 0;
  EXPECT_EQ(greet(2, "fr"), "fr-2");
  const auto again = greet.many(batch);
  EXPECT_EQ(calls, 0);
  for (const auto& r : again) EXPECT_EQ(r.source(), call_source::l2);
}

TEST_F(memoize_many_test, interop_mode_batches_read_what_single_calls_wrote) {
  auto c = make_cache({.l1_enabled = false});
  auto f = c.memoize_interop("users", "get", doubling());
  EXPECT_EQ(f(4), 8);
  calls = 0;
  const auto before = l2->calls();
  const auto results = f.many(range(3, 6));
  EXPECT_EQ(l2->calls() - before, 2u);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(results[1].source(), call_source::l2);
  EXPECT_EQ(results[1].value(), 8);
  EXPECT_EQ(results[0].value(), 6);
  EXPECT_EQ(f(5), 10);
  EXPECT_EQ(calls, 2);
}

TEST_F(memoize_many_test, parallelism_runs_misses_concurrently_with_the_same_answers) {
  auto c = make_cache({.l1_enabled = false});
  std::mutex m;
  std::set<std::thread::id> threads;
  auto slow = c.memoize("tests.many.parallel", [&](std::int64_t n) {
    {
      std::lock_guard lock(m);
      threads.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(5ms);
    return n + 1;
  });
  const auto results = slow.many(range(0, 16), {.parallelism = 4});
  for (std::int64_t n = 0; n < 16; ++n) EXPECT_EQ(results[n].value(), n + 1);
  EXPECT_GT(threads.size(), 1u);
  EXPECT_LE(threads.size(), 4u);
}

TEST_F(memoize_many_test, object_mode_loops_single_calls) {
  auto c = cache(cache_options::for_intent(intent::local));
  auto twice = c.memoize("tests.many.objects", doubling());
  EXPECT_EQ(twice(1), 2);
  const std::vector<std::int64_t> args = {1, 2, -1};
  const auto results = twice.many(args);
  EXPECT_EQ(results[0].source(), call_source::l1);
  EXPECT_EQ(results[1].source(), call_source::function);
  EXPECT_EQ(results[1].value(), 4);
  EXPECT_THROW((void)results[2].value(), std::invalid_argument);
}

TEST_F(memoize_many_test, an_empty_batch_is_empty_and_costs_nothing) {
  auto c = make_cache();
  auto twice = c.memoize("tests.many.empty", doubling());
  const auto before = l2->calls();
  EXPECT_TRUE(twice.many(std::vector<std::int64_t>{}).empty());
  EXPECT_EQ(l2->calls(), before);
}

TEST_F(memoize_many_test, an_l1_hit_past_the_refresh_threshold_is_refreshed_in_the_background) {
  auto c = make_cache({.l1_enabled = true});
  auto twice = c.memoize("tests.many.swr", doubling(), {.ttl = 100s});
  (void)twice.many(range(0, 3));
  clock.advance(56s);  // above 0.5 x 1.1 of 100 s whatever the jitter draws
  const auto results = twice.many(range(0, 3));
  for (const auto& r : results) EXPECT_EQ(r.source(), call_source::l1);
  ASSERT_TRUE(c.wait_for_refreshes(30s));
  // Each copy refreshed once (here from L2, whose entries are younger: no function call).
  EXPECT_EQ(twice.info().refreshes, 3u);
}

TEST_F(memoize_many_test, a_throwing_call_serves_its_expired_copy_within_serve_stale_for) {
  cache_options options;
  options.reliability.retry = std::nullopt;  // retry back-off would move the manual clock
  options.swr.enabled = false;
  options.serve_stale_for = 60s;
  auto c = make_cache(std::move(options));
  std::atomic<bool> throwing{false};
  auto f = c.memoize("tests.many.stale",
                     [&](std::int64_t n) {
                       if (throwing) throw std::runtime_error("upstream down");
                       return n + 1;
                     },
                     {.ttl = 10s});
  (void)f.many(range(0, 2));
  l2->fail_with(errc::transient);
  throwing = true;
  clock.advance(10s + 59s);
  const std::vector<std::int64_t> args = {0, 1, 7};
  const auto results = f.many(args);
  EXPECT_EQ(results[0].value(), 1);
  EXPECT_EQ(results[0].source(), call_source::stale);
  EXPECT_EQ(results[1].value(), 2);
  EXPECT_THROW((void)results[2].value(), std::runtime_error);  // never cached: no copy
  EXPECT_EQ(c.stats().stale_served, 2u);
}

TEST_F(memoize_many_test, helper_threads_run_the_function_in_the_callers_tenant) {
  const std::string tenant = "6f1c2a3b-0000-4000-8000-00000000000a";
  cache_options options = cache_options::for_intent(intent::secure);
  options.encryption = encryption_options{
      .keys = keyring::from_hex("5cf9905fe95b6033a093c02a288b86c1389300cda4aea69c330676c9d6839a2c")
                  .value(),
      .multi_tenant = true};
  auto c = make_cache(std::move(options));
  auto whose = c.memoize("tests.many.tenant", [this](std::int64_t n) {
    ++calls;
    return std::string(tenant_scope::current().value_or("none")) + "/" + std::to_string(n);
  });
  tenant_scope scope(tenant);
  const auto results = whose.many(range(0, 8), {.parallelism = 4});
  for (std::int64_t n = 0; n < 8; ++n) {
    EXPECT_EQ(results[n].value(), tenant + "/" + std::to_string(n));
  }
  // Sealed for the tenant: its single calls open them.
  EXPECT_EQ(whose(3), tenant + "/3");
  EXPECT_EQ(calls, 8);
}

// The (operation, layer, outcome) of every event, sorted: what observers were told.
class event_log final : public observer {
 public:
  void on_operation(const operation_event& e) override {
    std::lock_guard lock(mutex_);
    events_.emplace_back(static_cast<int>(e.operation), static_cast<int>(e.layer),
                         static_cast<int>(e.outcome));
  }
  std::vector<std::tuple<int, int, int>> sorted() {
    std::lock_guard lock(mutex_);
    auto out = events_;
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<std::tuple<int, int, int>> events_;
};

TEST_F(memoize_many_test, observers_and_counters_hear_a_batch_as_they_hear_single_calls) {
  {  // keys 0..4 in L2
    auto writer = make_cache({.l1_enabled = false});
    auto twice = writer.memoize("tests.many.observed", doubling());
    for (std::int64_t n = 0; n < 5; ++n) (void)twice(n);
  }
  const auto run = [&](bool batch) {
    auto log = std::make_shared<event_log>();
    cache_options options;
    options.l1_enabled = true;
    options.observers = {log};
    auto c = make_cache(std::move(options));
    auto twice = c.memoize("tests.many.observed", doubling());
    for (int round = 0; round < 2; ++round) {  // L2 hits and misses, then L1 hits
      if (batch) {
        (void)twice.many(range(0, 10));
      } else {
        for (std::int64_t n = 0; n < 10; ++n) (void)twice(n);
      }
    }
    const cache_info info = twice.info();
    return std::tuple(log->sorted(), info.hits, info.misses, info.l1_hits, info.l2_hits);
  };
  const auto single = run(false);
  // The single run wrote 5..9 to L2; the batch run must find the same state: rewrite it.
  l2->fail_with(std::nullopt);
  for (std::int64_t n = 5; n < 10; ++n) {
    auto reader = make_cache({.l1_enabled = false});
    auto twice = reader.memoize("tests.many.observed", doubling());
    (void)l2->erase(twice.stored_key(n).value());
  }
  const auto batch = run(true);
  EXPECT_EQ(std::get<0>(batch), std::get<0>(single));
  EXPECT_EQ(std::get<1>(batch), std::get<1>(single));
  EXPECT_EQ(std::get<2>(batch), std::get<2>(single));
  EXPECT_EQ(std::get<3>(batch), std::get<3>(single));
  EXPECT_EQ(std::get<4>(batch), std::get<4>(single));
  EXPECT_EQ(std::get<2>(batch), 5u);
  EXPECT_EQ(std::get<3>(batch), 10u);
  EXPECT_EQ(std::get<4>(batch), 5u);
}

TEST_F(memoize_many_test, an_l1_only_cache_batches_too) {
  cache c({.l1_enabled = true, .clock = &clock});
  auto twice = c.memoize("tests.many.l1_only", doubling());
  const std::vector<std::int64_t> args = {1, 2, 1};
  const auto first = twice.many(args);
  EXPECT_EQ(first[0].source(), call_source::function);
  EXPECT_EQ(first[2].source(), call_source::l1);  // the duplicate shares the run
  for (const auto& r : twice.many(args)) EXPECT_EQ(r.source(), call_source::l1);
  EXPECT_EQ(calls, 2);
}

TEST_F(memoize_many_test, a_function_of_no_parameters_batches_as_one_key) {
  auto c = make_cache({.l1_enabled = false});
  auto answer = c.memoize("tests.many.none", [this] {
    ++calls;
    return 42;
  });
  const std::vector<std::tuple<>> calls_made(3);
  const auto results = answer.many(calls_made);
  for (const auto& r : results) EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(calls, 1);
}

// ---- cache::get_many / set_many ------------------------------------------------------------

TEST_F(memoize_many_test, typed_set_many_and_get_many_are_one_l2_operation_each) {
  auto c = make_cache({.l1_enabled = true});
  const std::vector<std::pair<std::string_view, std::int64_t>> items = {{"a", 1}, {"b", 2}};
  auto before = l2->calls();
  ASSERT_TRUE(c.set_many<std::int64_t>(items, {.ttl = 30s, .ns = "n"}));
  EXPECT_EQ(l2->calls() - before, 1u);
  EXPECT_TRUE(l2->exists("ns:n:a").value());

  const std::vector<std::string_view> keys = {"b", "x", "a", "b"};
  before = l2->calls();
  auto values = c.get_many<std::int64_t>(keys, {.ns = "n"});
  ASSERT_TRUE(values) << values.error().message();
  EXPECT_EQ(*values, (std::vector<std::optional<std::int64_t>>{2, std::nullopt, 1, 2}));
  EXPECT_EQ(l2->calls() - before, 1u);  // "x" missed L1: one read for it

  // A fresh cache (empty L1) reads all of them in one operation too, and single gets agree.
  auto other = make_cache({.l1_enabled = true});
  before = l2->calls();
  EXPECT_EQ(other.get_many<std::int64_t>(keys, {.ns = "n"}).value(), *values);
  EXPECT_EQ(l2->calls() - before, 1u);
  EXPECT_EQ(other.get<std::int64_t>("a", {.ns = "n"}).value(), 1);
}

TEST_F(memoize_many_test, typed_get_many_evicts_what_does_not_decode_and_returns_l2_errors) {
  auto c = make_cache({.l1_enabled = false});
  const std::vector<std::pair<std::string_view, std::string>> items = {{"s", "text"}};
  ASSERT_TRUE(c.set_many<std::string>(items));
  const std::vector<std::string_view> keys = {"s"};
  auto as_int = c.get_many<std::int64_t>(keys);
  ASSERT_TRUE(as_int);
  EXPECT_EQ((*as_int)[0], std::nullopt);
  EXPECT_FALSE(l2->exists("s").value());  // evicted
  EXPECT_EQ(c.stats().corrupt_entries, 1u);

  l2->fail_with(errc::transient);
  EXPECT_EQ(c.get_many<std::int64_t>(keys).code(), errc::transient);
  const std::vector<std::pair<std::string_view, std::int64_t>> more = {{"k", 1}};
  EXPECT_EQ(c.set_many<std::int64_t>(more).code(), errc::transient);
}

}  // namespace
}  // namespace cachekit
