#include <gtest/gtest.h>
#include <cachekit/retry_backend.hpp>

#include "support/faulty_backend.hpp"

#include <chrono>
#include <memory>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

TEST(retry_backend, retries_a_transient_failure_and_succeeds) {
  manual_clock clock;
  auto faulty = std::make_shared<testing::faulty_backend>();
  retry_backend retried(faulty, {}, clock);
  faulty->fail_next(2, errc::transient);
  EXPECT_TRUE(retried.set("k", as_byte_view("v"), std::nullopt).has_value());
  EXPECT_EQ(faulty->calls(), 3u);
  EXPECT_EQ(retried.retries(), 2u);
}

TEST(retry_backend, gives_up_after_max_attempts_with_the_last_failure) {
  manual_clock clock;
  auto faulty = std::make_shared<testing::faulty_backend>();
  retry_backend retried(faulty, {.max_attempts = 3}, clock);
  faulty->fail_with(errc::transient);
  EXPECT_EQ(retried.get("k").code(), make_error_code(errc::transient));
  EXPECT_EQ(faulty->calls(), 3u);
}

TEST(retry_backend, backs_off_exponentially_with_jitter_within_the_cap) {
  manual_clock clock;
  auto faulty = std::make_shared<testing::faulty_backend>();
  retry_backend retried(
      faulty, {.max_attempts = 6, .base_delay = 10ms, .max_delay = 40ms, .budget = 10s}, clock);
  faulty->fail_with(errc::transient);
  const auto started = clock.now();
  (void)retried.get("k");
  // Five back-offs, each at most min(40, 10 * 2^n) ms: 10 + 20 + 40 + 40 + 40.
  EXPECT_LE(clock.now() - started, 150ms);
  EXPECT_EQ(faulty->calls(), 6u);
}

TEST(retry_backend, starts_no_attempt_past_the_budget) {
  manual_clock clock;
  auto faulty = std::make_shared<testing::faulty_backend>();
  retry_backend retried(
      faulty, {.max_attempts = 100, .base_delay = 100ms, .max_delay = 100ms, .budget = 250ms},
      clock);
  faulty->fail_with(errc::transient);
  const auto started = clock.now();
  (void)retried.get("k");
  EXPECT_LE(clock.now() - started, 250ms);
  EXPECT_LT(faulty->calls(), 100u);
}

TEST(retry_backend, does_not_retry_timeouts_or_permanent_failures_unless_asked) {
  manual_clock clock;
  auto faulty = std::make_shared<testing::faulty_backend>();
  retry_backend retried(faulty, {}, clock);
  faulty->fail_with(errc::timeout);
  (void)retried.get("k");
  EXPECT_EQ(faulty->calls(), 1u);
  faulty->fail_with(errc::backend_permanent);
  (void)retried.set("k", as_byte_view("v"), std::nullopt);
  EXPECT_EQ(faulty->calls(), 2u);

  retry_backend eager(faulty, {.retry_timeouts = true}, clock);
  faulty->fail_with(errc::timeout);
  (void)eager.get("k");
  EXPECT_EQ(faulty->calls(), 5u);
}

TEST(retry_backend, never_retries_taking_a_lock) {
  manual_clock clock;
  auto faulty = std::make_shared<testing::faulty_backend>();
  retry_backend retried(faulty, {}, clock);
  faulty->fail_with(errc::transient);
  (void)retried.try_lock("k", 1s);
  EXPECT_EQ(faulty->calls(), 1u);
}

TEST(retry_backend, refuses_zero_attempts) {
  EXPECT_THROW(retry_backend(std::make_shared<testing::faulty_backend>(), {.max_attempts = 0}),
               error);
}

}  // namespace
}  // namespace cachekit
