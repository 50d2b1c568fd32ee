#include <gtest/gtest.h>
#include <cachekit/circuit_breaker.hpp>

#include "support/faulty_backend.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

const std::error_code refused = make_error_code(errc::transient);

// Fails the breaker `n` times with a counted failure, each on its own admitted call.
void fail_times(circuit_breaker& breaker, std::size_t n, std::error_code code = refused) {
  for (std::size_t i = 0; i < n; ++i) {
    auto permit = breaker.admit();
    ASSERT_TRUE(permit.has_value());
    breaker.record(*permit, code);
  }
}

TEST(circuit_breaker, opens_after_five_failures_within_the_window_and_fails_fast) {
  manual_clock clock;
  circuit_breaker breaker({}, clock);
  fail_times(breaker, 4);
  EXPECT_EQ(breaker.state(), circuit_state::closed);
  fail_times(breaker, 1);
  EXPECT_EQ(breaker.state(), circuit_state::open);
  EXPECT_FALSE(breaker.admit().has_value());
  EXPECT_EQ(breaker.stats().rejected, 1u);
  EXPECT_EQ(breaker.stats().opened, 1u);
}

TEST(circuit_breaker, failures_older_than_the_window_stop_counting) {
  manual_clock clock;
  circuit_breaker breaker({}, clock);
  fail_times(breaker, 4);
  clock.advance(61s);
  fail_times(breaker, 4);
  EXPECT_EQ(breaker.state(), circuit_state::closed);
  fail_times(breaker, 1);
  EXPECT_EQ(breaker.state(), circuit_state::open);
}

TEST(circuit_breaker, successes_do_not_reset_the_failure_count) {
  manual_clock clock;
  circuit_breaker breaker({}, clock);
  fail_times(breaker, 4);
  for (int i = 0; i < 100; ++i) breaker.record(*breaker.admit(), std::nullopt);
  fail_times(breaker, 1);
  EXPECT_EQ(breaker.state(), circuit_state::open);
}

TEST(circuit_breaker, only_backend_failures_count) {
  manual_clock clock;
  circuit_breaker breaker({}, clock);
  fail_times(breaker, 10, make_error_code(errc::backend_permanent));
  fail_times(breaker, 10, make_error_code(errc::value_too_large));
  fail_times(breaker, 10, make_error_code(errc::backpressure));
  EXPECT_EQ(breaker.state(), circuit_state::closed);
  fail_times(breaker, 2, make_error_code(errc::timeout));
  fail_times(breaker, 2, make_error_code(errc::backend_authentication));
  fail_times(breaker, 1, refused);
  EXPECT_EQ(breaker.state(), circuit_state::open);
}

TEST(circuit_breaker, half_opens_after_the_recovery_timeout_and_closes_after_three_successes) {
  manual_clock clock;
  circuit_breaker breaker({}, clock);
  fail_times(breaker, 5);
  clock.advance(29s);
  EXPECT_FALSE(breaker.admit().has_value());
  clock.advance(1s);
  std::vector<circuit_breaker::permit> probes;
  for (int i = 0; i < 3; ++i) {
    auto p = breaker.admit();
    ASSERT_TRUE(p.has_value()) << "probe " << i;
    probes.push_back(*p);
  }
  EXPECT_EQ(breaker.state(), circuit_state::half_open);
  EXPECT_FALSE(breaker.admit().has_value()) << "only three probes per cycle";
  for (const auto& p : probes) breaker.record(p, std::nullopt);
  EXPECT_EQ(breaker.state(), circuit_state::closed);
  EXPECT_TRUE(breaker.admit().has_value());
}

TEST(circuit_breaker, a_failed_probe_reopens_for_another_recovery_timeout) {
  manual_clock clock;
  circuit_breaker breaker({}, clock);
  fail_times(breaker, 5);
  clock.advance(30s);
  auto probe = breaker.admit();
  ASSERT_TRUE(probe.has_value());
  breaker.record(*probe, refused);
  EXPECT_EQ(breaker.state(), circuit_state::open);
  clock.advance(29s);
  EXPECT_FALSE(breaker.admit().has_value());
  clock.advance(1s);
  EXPECT_TRUE(breaker.admit().has_value());
  EXPECT_EQ(breaker.stats().opened, 2u);
}

TEST(circuit_breaker, late_outcomes_of_calls_admitted_earlier_change_nothing) {
  manual_clock clock;
  circuit_breaker breaker({}, clock);
  auto early = breaker.admit();  // admitted while closed, reports after the breaker opened
  ASSERT_TRUE(early.has_value());
  fail_times(breaker, 5);
  clock.advance(30s);
  auto probe = breaker.admit();
  ASSERT_TRUE(probe.has_value());
  breaker.record(*early, refused);  // not this cycle's probe: must not reopen
  EXPECT_EQ(breaker.state(), circuit_state::half_open);
  breaker.record(*early, std::nullopt);  // nor count as a probe success
  breaker.record(*probe, std::nullopt);
  EXPECT_EQ(breaker.state(), circuit_state::half_open);
}

TEST(circuit_breaker, a_cycle_whose_probes_never_report_starts_over_after_the_timeout) {
  manual_clock clock;
  circuit_breaker breaker({}, clock);
  fail_times(breaker, 5);
  clock.advance(30s);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(breaker.admit().has_value());  // callers vanish
  EXPECT_FALSE(breaker.admit().has_value());
  clock.advance(30s);
  auto fresh = breaker.admit();
  ASSERT_TRUE(fresh.has_value()) << "a spent, silent cycle must not refuse forever";
  for (int i = 0; i < 2; ++i) breaker.record(*breaker.admit(), std::nullopt);
  breaker.record(*fresh, std::nullopt);
  EXPECT_EQ(breaker.state(), circuit_state::closed);
}

TEST(circuit_breaker, reports_every_transition_in_order) {
  manual_clock clock;
  std::mutex m;
  std::vector<std::pair<circuit_state, circuit_state>> seen;
  circuit_breaker breaker({.half_open_requests = 1, .success_threshold = 1}, clock,
                          [&](circuit_state from, circuit_state to) {
                            std::lock_guard lock(m);
                            seen.emplace_back(from, to);
                          });
  fail_times(breaker, 5);
  clock.advance(30s);
  breaker.record(*breaker.admit(), std::nullopt);
  const std::vector<std::pair<circuit_state, circuit_state>> expected{
      {circuit_state::closed, circuit_state::open},
      {circuit_state::open, circuit_state::half_open},
      {circuit_state::half_open, circuit_state::closed}};
  EXPECT_EQ(seen, expected);
}

TEST(circuit_breaker, refuses_options_that_could_never_recover) {
  EXPECT_THROW(circuit_breaker({.failure_threshold = 0}), error);
  EXPECT_THROW(circuit_breaker({.half_open_requests = 2, .success_threshold = 3}), error);
  EXPECT_THROW(circuit_breaker({.recovery_timeout = 0ms}), error);
  EXPECT_THROW(circuit_breaker({.failure_window = 0ms}), error);
}

TEST(circuit_breaker, many_threads_open_it_once_and_it_stays_consistent) {
  manual_clock clock;
  circuit_breaker breaker({}, clock);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (auto p = breaker.admit()) breaker.record(*p, refused);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(breaker.state(), circuit_state::open);
  EXPECT_EQ(breaker.stats().opened, 1u);
}

TEST(circuit_breaker_backend, fails_fast_while_open_without_reaching_the_backend) {
  manual_clock clock;
  auto faulty = std::make_shared<testing::faulty_backend>();
  circuit_breaker_backend guarded(faulty, {}, clock);
  faulty->fail_with(errc::transient);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(guarded.get("k").code(), make_error_code(errc::transient));
  const std::size_t reached = faulty->calls();
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(guarded.get("k").code(), make_error_code(errc::circuit_open));
    EXPECT_EQ(guarded.set("k", as_byte_view("v"), std::nullopt).code(),
              make_error_code(errc::circuit_open));
  }
  EXPECT_EQ(faulty->calls(), reached);
  EXPECT_EQ(guarded.health().details.at("circuit_breaker"), "open");

  // The backend recovers; after the timeout the probes succeed and traffic flows again.
  faulty->fail_with(std::nullopt);
  clock.advance(30s);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(guarded.get("k").has_value());
  EXPECT_EQ(guarded.breaker().state(), circuit_state::closed);
  EXPECT_TRUE(guarded.set("k", as_byte_view("v"), std::nullopt).has_value());
  auto got = guarded.get("k");
  ASSERT_TRUE(got.has_value() && got->has_value());
}

TEST(circuit_breaker_backend, a_lock_release_passes_while_half_open_probes_are_taken) {
  manual_clock clock;
  auto faulty = std::make_shared<testing::faulty_backend>();
  circuit_breaker_backend guarded(faulty, {}, clock);
  faulty->fail_with(errc::transient);
  for (int i = 0; i < 5; ++i) (void)guarded.get("k");
  ASSERT_EQ(guarded.breaker().state(), circuit_state::open);
  faulty->fail_with(std::nullopt);
  clock.advance(30s);
  // Three slow probes take every half-open slot.
  faulty->delay(300ms);
  const std::size_t before = faulty->calls();
  std::vector<std::thread> probes;
  for (int i = 0; i < 3; ++i) probes.emplace_back([&] { (void)guarded.get("k"); });
  while (faulty->calls() < before + 3) std::this_thread::yield();
  EXPECT_EQ(guarded.get("other").code(), make_error_code(errc::circuit_open));
  // A fill that took its lock before must still be able to release it.
  auto released = guarded.release_lock(lock_token{.key = "k:lock", .value = "token"});
  EXPECT_TRUE(released.has_value()) << released.error().message();
  EXPECT_EQ(faulty->calls(), before + 4);
  for (auto& p : probes) p.join();
  EXPECT_EQ(guarded.breaker().state(), circuit_state::closed);
}

TEST(circuit_breaker_backend, a_miss_and_a_rejected_value_are_not_failures) {
  manual_clock clock;
  auto faulty = std::make_shared<testing::faulty_backend>();
  circuit_breaker_backend guarded(faulty, {}, clock);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(guarded.get("absent").has_value());
  faulty->fail_with(errc::backend_permanent);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(guarded.set("k", as_byte_view("v"), std::nullopt));
  EXPECT_EQ(guarded.breaker().state(), circuit_state::closed);
}

}  // namespace
}  // namespace cachekit
