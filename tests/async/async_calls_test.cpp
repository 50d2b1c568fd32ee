// Asynchronous calls (memoized::async / async_then, cache::get_async / set_async) over an
// in-process L2: which layer answers, single-flight, the breaker, the queue bound, shutdown
// with work pending, exceptions, and the threads used. Backends that hold a batch at a gate let
// a test act while reads are in flight; waits are bounded (a hang fails), never timed.
#include "support/call_gate.hpp"
#include "support/process_threads.hpp"

#include <gtest/gtest.h>
#include <cachekit/backend_wrapper.hpp>
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

constexpr auto generous = testing::call_gate::generous;  // a hang bound, not a timing assertion

using cachekit::testing::process_threads;

// An in-process L2 whose batched reads wait at a gate while it is closed, counting batches.
class gated_backend final : public backend_wrapper {
 public:
  gated_backend() : backend_wrapper(std::make_shared<memory_backend>()) {}
  void close() { gate_.close(); }
  void open() { gate_.open(); }
  // Waits until `n` batches have arrived at the gate (or passed it).
  bool wait_batches(std::size_t n) { return gate_.wait_arrivals(static_cast<int>(n)); }
  std::size_t batches() { return static_cast<std::size_t>(gate_.arrivals()); }
  std::size_t keys_read() {
    std::lock_guard lock(mutex_);
    return keys_;
  }
  std::size_t largest_batch() {
    std::lock_guard lock(mutex_);
    return largest_;
  }
  // Batched reads fail with `code` from now on (nullopt: they succeed again).
  void fail_with(std::optional<errc> code) {
    std::lock_guard lock(mutex_);
    failing_ = code;
  }
  result<std::vector<std::optional<timed_value>>> get_many_with_ttl(
      std::span<const std::string_view> keys) override {
    if (auto code = pass(keys.size())) return fail(*code, "scripted failure");
    return backend_wrapper::get_many_with_ttl(keys);
  }
  result<std::vector<std::optional<byte_buffer>>> get_many(
      std::span<const std::string_view> keys) override {
    if (auto code = pass(keys.size())) return fail(*code, "scripted failure");
    return backend_wrapper::get_many(keys);
  }

 private:
  // One batch: counted, then held at the gate while it is closed.
  std::optional<errc> pass(std::size_t n) {
    {
      std::lock_guard lock(mutex_);
      keys_ += n;
      largest_ = std::max(largest_, n);
    }
    gate_.pass();
    std::lock_guard lock(mutex_);
    return failing_;
  }
  testing::call_gate gate_;
  std::mutex mutex_;
  std::size_t keys_ = 0;
  std::size_t largest_ = 0;
  std::optional<errc> failing_;
};

cache_options options_over(std::shared_ptr<backend> l2, bool l1 = true) {
  cache_options o;
  o.l2 = std::move(l2);
  o.l1_enabled = l1;
  o.swr.enabled = false;
  o.fill_lock = std::nullopt;
  return o;
}

template <class T>
bool ready(const std::future<T>& f) {
  return f.wait_for(0s) == std::future_status::ready;
}

TEST(async_calls, l1_hit_completes_on_the_callers_thread_from_l1) {
  cache c(options_over(std::make_shared<memory_backend>()));
  std::atomic<int> runs{0};
  auto twice = c.memoize("tests.async.l1", [&](std::int64_t x) {
    ++runs;
    return x * 2;
  });
  ASSERT_EQ(twice(21), 42);
  auto f = twice.async(21);
  EXPECT_TRUE(ready(f)) << "an L1 hit is answered before async returns";
  EXPECT_EQ(f.get(), 42);
  std::optional<call_source> source;
  std::thread::id on;
  twice.async_then(
      [&](call_result<std::int64_t> r) {
        source = r.source();
        on = std::this_thread::get_id();
        EXPECT_EQ(r.value(), 42);
      },
      21);
  EXPECT_EQ(source, call_source::l1);
  EXPECT_EQ(on, std::this_thread::get_id());
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(twice.info().hits, 2u);
}

TEST(async_calls, l2_hit_is_read_by_the_dispatcher_and_backfills_l1) {
  auto l2 = std::make_shared<gated_backend>();
  cache writer(options_over(l2));
  auto w = writer.memoize("tests.async.l2", [](std::int64_t x) { return std::to_string(x); });
  ASSERT_EQ(w(7), "7");  // stored in L2 by another cache
  cache reader(options_over(l2));
  std::atomic<int> runs{0};
  auto r = reader.memoize("tests.async.l2", [&](std::int64_t x) {
    ++runs;
    return std::to_string(x);
  });
  std::promise<call_source> source;
  std::promise<std::thread::id> thread;
  r.async_then(
      [&](call_result<std::string> got) {
        EXPECT_EQ(got.value(), "7");
        thread.set_value(std::this_thread::get_id());
        source.set_value(got.source());
      },
      7);
  auto s = source.get_future();
  ASSERT_EQ(s.wait_for(generous), std::future_status::ready);
  EXPECT_EQ(s.get(), call_source::l2);
  EXPECT_NE(thread.get_future().get(), std::this_thread::get_id()) << "completed by a dispatcher";
  EXPECT_EQ(runs.load(), 0);
  EXPECT_GE(l2->batches(), 1u);
  // Backfilled: the next call is an L1 hit answered at once.
  auto again = r.async(7);
  EXPECT_TRUE(ready(again));
  EXPECT_EQ(again.get(), "7");
  const cache_info info = r.info();
  EXPECT_EQ(info.l2_hits, 1u);
  EXPECT_EQ(info.misses, 0u);
}

TEST(async_calls, a_thousand_async_calls_of_one_key_run_the_function_once) {
  auto l2 = std::make_shared<gated_backend>();
  cache c(options_over(l2));
  std::atomic<int> runs{0};
  auto slow = c.memoize("tests.async.flight", [&](std::int64_t x) {
    ++runs;
    return x + 1;
  });
  l2->close();  // the first call's L2 read waits; the others attach to its flight
  std::vector<std::future<std::int64_t>> futures;
  futures.reserve(1000);
  for (int i = 0; i < 1000; ++i) futures.push_back(slow.async(41));
  ASSERT_TRUE(l2->wait_batches(1));
  for (auto& f : futures) EXPECT_FALSE(ready(f));
  l2->open();
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(generous), std::future_status::ready);
    EXPECT_EQ(f.get(), 42);
  }
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(l2->keys_read(), 1u) << "one L2 read for the whole flight";
  const cache_info info = slow.info();
  EXPECT_EQ(info.misses, 1u);
  EXPECT_EQ(info.hits, 999u) << "callers served by the flight count as L1 hits";
  // The result was stored: a fresh process (cache) reads it from L2 once the write lands.
  cache other(options_over(l2));
  auto peer = other.memoize("tests.async.flight", [](std::int64_t) -> std::int64_t {
    throw std::runtime_error("must not run: L2 holds the value");
  });
  const auto until = std::chrono::steady_clock::now() + generous;
  while (std::chrono::steady_clock::now() < until &&
         !(l2->exists(*peer.key(41)) && *l2->exists(*peer.key(41)))) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(peer(41), 42);
}

TEST(async_calls, distinct_keys_are_read_in_batches) {
  auto l2 = std::make_shared<gated_backend>();
  cache writer(options_over(l2));
  auto w = writer.memoize("tests.async.batch", [](std::int64_t x) { return x; });
  for (int i = 0; i < 300; ++i) ASSERT_EQ(w(i), i);
  auto o = options_over(l2);
  o.async.threads = 1;
  o.async.batch = 100;
  cache reader(o);
  auto r = reader.memoize("tests.async.batch", [](std::int64_t) -> std::int64_t {
    throw std::runtime_error("must not run");
  });
  l2->close();
  // The first read holds the only dispatcher thread at the gate; the rest queue up behind it.
  std::vector<std::future<std::int64_t>> futures;
  futures.push_back(r.async(0));
  ASSERT_TRUE(l2->wait_batches(1));
  for (int i = 1; i < 300; ++i) futures.push_back(r.async(i));
  l2->open();
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(futures[i].wait_for(generous), std::future_status::ready);
    EXPECT_EQ(futures[i].get(), i);
  }
  EXPECT_EQ(l2->largest_batch(), 100u);
  EXPECT_EQ(l2->batches(), 4u) << "1 read, then 299 queued reads in batches of 100";
}

TEST(async_calls, the_functions_exception_reaches_the_future_and_nothing_is_stored) {
  auto l2 = std::make_shared<memory_backend>();
  cache c(options_over(l2));
  std::atomic<int> runs{0};
  auto failing = c.memoize("tests.async.throws", [&](std::int64_t) -> std::int64_t {
    ++runs;
    throw std::runtime_error("boom");
  });
  auto f = failing.async(1);
  ASSERT_EQ(f.wait_for(generous), std::future_status::ready);
  EXPECT_THROW(f.get(), std::runtime_error);
  std::promise<std::exception_ptr> error;
  failing.async_then([&](call_result<std::int64_t> r) { error.set_value(r.error()); }, 1);
  auto e = error.get_future();
  ASSERT_EQ(e.wait_for(generous), std::future_status::ready);
  EXPECT_NE(e.get(), nullptr);
  EXPECT_EQ(runs.load(), 2) << "a failure is not cached";
  EXPECT_FALSE(l2->exists(*failing.key(1)).value());
}

TEST(async_calls, an_open_breaker_means_the_function_runs_never_a_failed_call) {
  auto l2 = std::make_shared<gated_backend>();
  auto o = options_over(l2);
  o.reliability.retry = std::nullopt;
  o.reliability.circuit_breaker = circuit_breaker_options{.failure_threshold = 1};
  cache c(o);
  auto plus = c.memoize("tests.async.breaker", [](std::int64_t x) { return x + 100; });
  l2->fail_with(errc::transient);
  for (int i = 0; i < 20; ++i) {
    auto f = plus.async(i);
    ASSERT_EQ(f.wait_for(generous), std::future_status::ready);
    EXPECT_EQ(f.get(), i + 100);
  }
  const cache_stats s = c.stats();
  EXPECT_GE(s.l2_errors, 1u);
  EXPECT_GE(s.l2_skipped, 1u) << "the breaker opened and later reads skipped L2";
  EXPECT_EQ(plus.info().misses, 20u);
}

TEST(async_calls, beyond_max_pending_calls_still_complete_without_l2) {
  auto l2 = std::make_shared<gated_backend>();
  auto o = options_over(l2);
  o.async.threads = 1;
  o.async.batch = 1;
  o.async.max_pending = 4;
  cache c(o);
  std::atomic<int> runs{0};
  auto f = c.memoize("tests.async.bound", [&](std::int64_t x) {
    ++runs;
    return x;
  });
  l2->close();
  std::vector<std::future<std::int64_t>> futures;
  futures.push_back(f.async(0));
  ASSERT_TRUE(l2->wait_batches(1));  // read 0 holds the dispatcher; 4 more fit in the queue
  for (int i = 1; i < 10; ++i) futures.push_back(f.async(i));
  // Calls 5..9 were refused by the queue: they ran the function without L2.
  for (int i = 5; i < 10; ++i) {
    ASSERT_EQ(futures[i].wait_for(generous), std::future_status::ready);
    EXPECT_EQ(futures[i].get(), i);
  }
  EXPECT_EQ(c.stats().l2_shed, 5u);
  l2->open();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(futures[i].wait_for(generous), std::future_status::ready);
    EXPECT_EQ(futures[i].get(), i);
  }
  EXPECT_EQ(runs.load(), 10);
}

TEST(async_calls, destroying_the_cache_breaks_queued_calls_and_finishes_running_ones) {
  auto l2 = std::make_shared<gated_backend>();
  auto o = options_over(l2);
  o.async.threads = 1;
  o.async.batch = 1;
  auto c = std::make_unique<cache>(o);
  auto f = c->memoize("tests.async.shutdown", [](std::int64_t x) { return x; });
  l2->close();
  std::vector<std::future<std::int64_t>> futures;
  futures.push_back(f.async(0));
  ASSERT_TRUE(l2->wait_batches(1));
  for (int i = 1; i < 5; ++i) futures.push_back(f.async(i));
  auto typed = c->get_async<std::int64_t>("queued");
  // The destructor drops the queued work at once, then waits for the read held at the gate.
  std::thread destroyer([&] { c.reset(); });
  for (int i = 1; i < 5; ++i) {
    ASSERT_EQ(futures[i].wait_for(generous), std::future_status::ready);
    try {
      (void)futures[i].get();
      ADD_FAILURE() << "a dropped call must not get a value";
    } catch (const std::future_error& e) {
      EXPECT_EQ(e.code(), std::future_errc::broken_promise);
    }
  }
  ASSERT_EQ(typed.wait_for(generous), std::future_status::ready);
  EXPECT_THROW((void)typed.get(), std::future_error);
  l2->open();
  destroyer.join();
  ASSERT_EQ(futures[0].wait_for(generous), std::future_status::ready);
  EXPECT_EQ(futures[0].get(), 0) << "the read in flight completed";
  // The function outlives its cache: later calls run on the caller's thread.
  auto late = f.async(9);
  EXPECT_TRUE(ready(late));
  EXPECT_EQ(late.get(), 9);
}

TEST(async_calls, a_slow_backend_costs_the_dispatcher_threads_not_a_thread_per_call) {
  auto l2 = std::make_shared<gated_backend>();
  cache writer(options_over(l2));
  auto w = writer.memoize("tests.async.threads", [](std::int64_t x) { return x; });
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(w(i), i);
  auto o = options_over(l2, false);
  o.async.threads = 2;
  cache reader(o);
  auto r = reader.memoize("tests.async.threads", [](std::int64_t) -> std::int64_t {
    throw std::runtime_error("must not run");
  });
  const std::size_t before = process_threads();
  l2->close();
  std::vector<std::future<std::int64_t>> futures;
  for (int i = 0; i < 2000; ++i) futures.push_back(r.async(i));
  ASSERT_TRUE(l2->wait_batches(2));  // both dispatchers hold a batch; the rest wait queued
  const std::size_t during = process_threads();
  EXPECT_LE(during, before + 2) << "2,000 reads in flight on the 2 dispatcher threads";
  l2->open();
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(futures[i].wait_for(generous), std::future_status::ready);
    EXPECT_EQ(futures[i].get(), i);
  }
}

TEST(async_calls, typed_set_async_then_get_async) {
  auto l2 = std::make_shared<memory_backend>();
  cache c(options_over(l2));
  auto written = c.set_async("greeting", std::string("hello"), {.ttl = 60s, .ns = "demo"});
  ASSERT_EQ(written.wait_for(generous), std::future_status::ready);
  EXPECT_TRUE(written.get().has_value());
  cache other(options_over(l2));  // L1 empty: read from L2
  auto got = other.get_async<std::string>("greeting", {.ns = "demo"});
  ASSERT_EQ(got.wait_for(generous), std::future_status::ready);
  auto value = got.get();
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->value_or(""), "hello");
  auto missing = other.get_async<std::string>("absent");
  ASSERT_EQ(missing.wait_for(generous), std::future_status::ready);
  auto none = missing.get();
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
}

TEST(async_calls, a_corrupt_l2_entry_is_a_counted_evicted_miss) {
  auto l2 = std::make_shared<memory_backend>();
  ASSERT_TRUE(l2->set("broken", as_byte_view("not a cachekit entry"), std::nullopt));
  cache c(options_over(l2));
  auto got = c.get_async<std::string>("broken");
  ASSERT_EQ(got.wait_for(generous), std::future_status::ready);
  auto value = got.get();
  ASSERT_TRUE(value.has_value());
  EXPECT_FALSE(value->has_value());
  EXPECT_EQ(c.stats().corrupt_entries, 1u);
  EXPECT_FALSE(l2->exists("broken").value()) << "evicted";
}

TEST(async_calls, a_corrupt_memoized_entry_is_evicted_counted_and_the_function_runs) {
  auto l2 = std::make_shared<memory_backend>();
  cache c(options_over(l2));
  std::atomic<int> runs{0};
  auto f = c.memoize("tests.async.corrupt", [&](std::int64_t x) {
    ++runs;
    return x - 1;
  });
  const std::string key = *f.key(10);
  ASSERT_TRUE(l2->set(key, as_byte_view("garbage, not a frame"), std::nullopt));
  std::promise<call_source> source;
  f.async_then(
      [&](call_result<std::int64_t> r) {
        EXPECT_EQ(r.value(), 9);
        source.set_value(r.source());
      },
      10);
  auto s = source.get_future();
  ASSERT_EQ(s.wait_for(generous), std::future_status::ready);
  EXPECT_EQ(s.get(), call_source::function);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(c.stats().corrupt_entries, 1u);
  const cache_info info = f.info();
  EXPECT_EQ(info.misses, 1u);
  EXPECT_EQ(info.l2_hits, 0u);
}

TEST(async_calls, zero_async_settings_are_refused_with_the_field_named) {
  auto o = options_over(std::make_shared<memory_backend>());
  o.async.threads = 0;
  try {
    cache c(o);
    ADD_FAILURE() << "async.threads = 0 must be refused";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_configuration));
    EXPECT_NE(std::string(e.what()).find("cache_options.async.threads"), std::string::npos);
  }
}

}  // namespace
}  // namespace cachekit
