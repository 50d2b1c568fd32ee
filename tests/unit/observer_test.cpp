// The one observer: every layer reports its events to `cache_options::observers`, and the
// built-in views (stats(), info(), on_error) say the same as before with or without observers.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>
#include <cachekit/observer.hpp>

#include "support/faulty_backend.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

struct recorded_operation {
  cache_op operation;
  cache_layer layer;
  op_outcome outcome;
  std::string ns;
  std::chrono::nanoseconds latency;
  std::size_t bytes;
  std::optional<error_class> error_kind;
};

// Every event, in order.
class recording_observer final : public observer {
 public:
  explicit recording_observer(bool timed = false) : timed_(timed) {}
  bool wants_latency() const noexcept override { return timed_; }
  void on_operation(const operation_event& e) override {
    std::lock_guard lock(mutex_);
    operations.push_back(
        {e.operation, e.layer, e.outcome, std::string(e.ns), e.latency, e.bytes, e.error_kind});
  }
  void on_fault(const fault_event& e) override {
    std::lock_guard lock(mutex_);
    faults.push_back({e.kind, e.layer, e.what.code, std::string(e.key)});
  }
  void on_breaker(const breaker_event& e) override {
    std::lock_guard lock(mutex_);
    breakers.push_back(e);
  }
  struct recorded_fault {
    fault_kind kind;
    cache_layer layer;
    std::error_code code;
    std::string key;
  };
  std::vector<recorded_operation> operations;
  std::vector<recorded_fault> faults;
  std::vector<breaker_event> breakers;
  std::size_t count(cache_layer layer, op_outcome outcome) const {
    std::size_t n = 0;
    for (const auto& o : operations) n += o.layer == layer && o.outcome == outcome ? 1 : 0;
    return n;
  }

 private:
  bool timed_;
  std::mutex mutex_;
};

class throwing_observer final : public observer {
 public:
  void on_operation(const operation_event&) override { throw std::runtime_error("observer bug"); }
  void on_fault(const fault_event&) override { throw std::runtime_error("observer bug"); }
};

cache_options options_with(std::shared_ptr<backend> l2,
                           std::vector<std::shared_ptr<observer>> obs) {
  cache_options options = cache_options::for_intent(intent::production);
  options.l2 = std::move(l2);
  options.observers = std::move(obs);
  options.swr.enabled = false;
  return options;
}

TEST(observer_test, a_memoized_call_reports_l2_miss_function_miss_store_then_l1_hit) {
  auto seen = std::make_shared<recording_observer>();
  cache c(options_with(std::make_shared<memory_backend>(), {seen}));
  auto twice =
      c.memoize("tests.observer.twice", [](std::int64_t n) { return n * 2; }, {.ns = "users"});
  EXPECT_EQ(twice(21), 42);
  ASSERT_EQ(seen->operations.size(), 3u);
  EXPECT_EQ(seen->operations[0].layer, cache_layer::l2);
  EXPECT_EQ(seen->operations[0].outcome, op_outcome::miss);
  EXPECT_EQ(seen->operations[1].layer, cache_layer::function);
  EXPECT_EQ(seen->operations[1].outcome, op_outcome::miss);
  EXPECT_EQ(seen->operations[2].operation, cache_op::set);
  EXPECT_EQ(seen->operations[2].layer, cache_layer::l2);
  EXPECT_EQ(seen->operations[2].outcome, op_outcome::stored);
  EXPECT_GT(seen->operations[2].bytes, 0u);
  for (const auto& o : seen->operations) EXPECT_EQ(o.ns, "users");

  EXPECT_EQ(twice(21), 42);
  ASSERT_EQ(seen->operations.size(), 4u);
  EXPECT_EQ(seen->operations[3].operation, cache_op::get);
  EXPECT_EQ(seen->operations[3].layer, cache_layer::l1);
  EXPECT_EQ(seen->operations[3].outcome, op_outcome::hit);
  EXPECT_EQ(seen->operations[3].bytes, seen->operations[2].bytes) << "the stored entry";
  EXPECT_LT(seen->operations[3].latency.count(), 0) << "no observer asked for latency";

  // The built-in view agrees.
  const cache_info info = twice.info();
  EXPECT_EQ(info.l1_hits, 1u);
  EXPECT_EQ(info.misses, 1u);
}

TEST(observer_test, another_process_entry_is_an_l2_hit_with_its_size_and_latency_when_asked) {
  auto shared_l2 = std::make_shared<memory_backend>();
  cache writer(options_with(shared_l2, {}));
  auto w =
      writer.memoize("tests.observer.text", [](std::int64_t n) { return std::string(n, 'x'); });
  EXPECT_EQ(w(100), std::string(100, 'x'));

  auto seen = std::make_shared<recording_observer>(true);
  cache reader(options_with(shared_l2, {seen}));
  auto r = reader.memoize("tests.observer.text", [](std::int64_t) { return std::string("wrong"); });
  EXPECT_EQ(r(100), std::string(100, 'x'));
  ASSERT_EQ(seen->operations.size(), 1u);
  EXPECT_EQ(seen->operations[0].layer, cache_layer::l2);
  EXPECT_EQ(seen->operations[0].outcome, op_outcome::hit);
  EXPECT_EQ(seen->operations[0].ns, "");
  EXPECT_GT(seen->operations[0].bytes, 100u) << "the stored frame, header included";
  EXPECT_GE(seen->operations[0].latency.count(), 0);
  EXPECT_EQ(r(100), std::string(100, 'x'));
  ASSERT_EQ(seen->operations.size(), 2u);
  EXPECT_EQ(seen->operations[1].layer, cache_layer::l1);
  EXPECT_GE(seen->operations[1].latency.count(), 0);
  EXPECT_EQ(r.info().l2_hits, 1u);
}

TEST(observer_test, typed_get_and_set_report_with_their_namespace) {
  auto seen = std::make_shared<recording_observer>();
  cache c(options_with(std::make_shared<memory_backend>(), {seen}));
  ASSERT_TRUE(c.set("greeting", std::string("hello"), {.ttl = 60s, .ns = "demo"}));
  auto got = c.get<std::string>("greeting", {.ns = "demo"});
  ASSERT_TRUE(got && *got);
  ASSERT_EQ(seen->operations.size(), 2u);
  EXPECT_EQ(seen->operations[0].operation, cache_op::set);
  EXPECT_EQ(seen->operations[0].ns, "demo");
  EXPECT_EQ(seen->operations[1].layer, cache_layer::l1);
  EXPECT_EQ(seen->operations[1].ns, "demo");
  ASSERT_TRUE(c.erase("greeting", {.ns = "demo"}));
  ASSERT_EQ(seen->operations.size(), 3u);
  EXPECT_EQ(seen->operations[2].operation, cache_op::erase);
  EXPECT_EQ(seen->operations[2].outcome, op_outcome::stored);
}

TEST(observer_test, a_failing_l2_reports_failures_then_skips_and_the_breaker_changes) {
  auto l2 = std::make_shared<testing::faulty_backend>();
  auto seen = std::make_shared<recording_observer>();
  std::vector<failure> reports;
  manual_clock clock;
  {
    cache_options options = options_with(l2, {seen});
    options.l1_enabled = false;
    options.clock = &clock;
    options.on_error = [&](const failure& f) { reports.push_back(f); };
    cache c(std::move(options));
    ASSERT_EQ(seen->breakers.size(), 1u) << "the breaker's birth";
    EXPECT_FALSE(seen->breakers[0].from.has_value());
    EXPECT_EQ(seen->breakers[0].to, circuit_state::closed);

    auto twice = c.memoize("tests.observer.failing", [](std::int64_t n) { return n * 2; });
    l2->fail_with(errc::transient);
    for (std::int64_t n = 0; n < 50; ++n) ASSERT_EQ(twice(n), n * 2);

    const cache_stats stats = c.stats();
    // Each counted fault was told to the observer once, with its kind.
    std::size_t errors = 0, skipped = 0;
    for (const auto& f : seen->faults) {
      errors += f.kind == fault_kind::l2_error ? 1 : 0;
      skipped += f.kind == fault_kind::l2_skipped ? 1 : 0;
    }
    EXPECT_EQ(errors, stats.l2_errors);
    EXPECT_EQ(skipped, stats.l2_skipped);
    EXPECT_GT(skipped, 0u);
    EXPECT_EQ(seen->count(cache_layer::l2, op_outcome::skipped), stats.l2_skipped);
    EXPECT_EQ(seen->count(cache_layer::l2, op_outcome::failed), stats.l2_errors);
    EXPECT_EQ(seen->count(cache_layer::function, op_outcome::miss), 50u);
    for (const auto& o : seen->operations) {
      if (o.outcome == op_outcome::failed) EXPECT_EQ(o.error_kind, error_class::transient);
      if (o.outcome == op_outcome::skipped) EXPECT_EQ(o.error_kind, error_class::overload);
    }
    ASSERT_EQ(seen->breakers.size(), 2u);
    EXPECT_EQ(seen->breakers[1].from, circuit_state::closed);
    EXPECT_EQ(seen->breakers[1].to, circuit_state::open);
    // on_error is a throttled view: one L2 report, one for the opening.
    EXPECT_EQ(reports.size(), 2u);
  }
  ASSERT_EQ(seen->breakers.size(), 3u) << "the breaker's end with its cache";
  EXPECT_EQ(seen->breakers[2].from, circuit_state::open);
  EXPECT_FALSE(seen->breakers[2].to.has_value());
}

TEST(observer_test, a_corrupt_entry_is_one_fault_with_its_layer_and_key) {
  auto l2 = std::make_shared<memory_backend>();
  auto seen = std::make_shared<recording_observer>();
  cache c(options_with(l2, {seen}));
  const std::string planted = "\x01\x02 not a frame";
  ASSERT_TRUE(l2->set("ns:demo:k", as_byte_view(planted), 60s));
  auto got = c.get<std::string>("k", {.ns = "demo"});
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
  ASSERT_EQ(seen->faults.size(), 1u);
  EXPECT_EQ(seen->faults[0].kind, fault_kind::corrupt_entry);
  EXPECT_EQ(seen->faults[0].layer, cache_layer::l2);
  EXPECT_EQ(seen->faults[0].key, "ns:demo:k");
  EXPECT_EQ(c.stats().corrupt_entries, 1u);
}

TEST(observer_test, a_throwing_observer_neither_fails_the_call_nor_silences_the_next) {
  auto seen = std::make_shared<recording_observer>();
  cache c(options_with(std::make_shared<memory_backend>(),
                       {std::make_shared<throwing_observer>(), nullptr, seen}));
  auto twice = c.memoize("tests.observer.throwing", [](std::int64_t n) { return n * 2; });
  EXPECT_EQ(twice(1), 2);
  EXPECT_EQ(twice(1), 2);
  EXPECT_EQ(seen->operations.size(), 4u);
}

TEST(observer_test, object_mode_reports_hits_and_misses) {
  auto seen = std::make_shared<recording_observer>();
  cache_options options = cache_options::for_intent(intent::local);
  options.observers = {seen};
  cache c(std::move(options));
  auto twice = c.memoize("tests.observer.local", [](std::int64_t n) { return n * 2; });
  EXPECT_EQ(twice(3), 6);
  EXPECT_EQ(twice(3), 6);
  EXPECT_EQ(seen->count(cache_layer::function, op_outcome::miss), 1u);
  EXPECT_EQ(seen->count(cache_layer::l1, op_outcome::hit), 1u);
}

TEST(observer_test, concurrent_hits_are_each_reported_once) {
  class counting final : public observer {
   public:
    std::atomic<std::uint64_t> l1_hits{0};
    void on_operation(const operation_event& e) override {
      if (e.layer == cache_layer::l1 && e.outcome == op_outcome::hit) ++l1_hits;
    }
  };
  auto seen = std::make_shared<counting>();
  cache c(options_with(nullptr, {seen}));
  auto twice = c.memoize("tests.observer.concurrent", [](std::int64_t n) { return n * 2; });
  for (std::int64_t n = 0; n < 16; ++n) ASSERT_EQ(twice(n), n * 2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (std::int64_t i = 0; i < 2000; ++i) (void)twice(i % 16);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen->l1_hits.load(), 8000u);
  EXPECT_EQ(twice.info().l1_hits, 8000u);
}

TEST(observer_test, redact_key_is_cachekit_py_redact_cache_key) {
  // hashlib.blake2b(key.encode(), digest_size=8).hexdigest(), as cachekit.hash_utils does.
  EXPECT_EQ(redact_key("hello"), "<redacted:a7b6eda801e5347d>");
  EXPECT_EQ(redact_key("ns:users:myapp.get_user:0s:abc"), "<redacted:e4d536d31cdf7439>");
}

}  // namespace
}  // namespace cachekit
