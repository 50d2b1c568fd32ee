// Logging: the process-wide sink (first L2 error, unknown CACHEKIT_* variables) and the
// log_observer view (levels, redacted keys, rate limit).
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/logging.hpp>
#include <cachekit/memory_backend.hpp>

#include "cache/env_config.hpp"
#include "support/faulty_backend.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

struct captured {
  log_level level;
  std::string event;
  std::string message;
};

// Collects records; restores the default process-wide sink when it goes.
struct log_capture {
  std::mutex mutex;
  std::vector<captured> records;
  log_sink sink() {
    return [this](const log_record& r) {
      std::lock_guard lock(mutex);
      records.push_back({r.level, std::string(r.event), std::string(r.message)});
    };
  }
  std::size_t count(std::string_view event) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& r : records) n += r.event == event ? 1 : 0;
    return n;
  }
};

struct process_sink_guard {
  explicit process_sink_guard(log_sink sink) { set_log_sink(std::move(sink)); }
  ~process_sink_guard() { set_log_sink(stderr_log_sink()); }
};

cache_options failing_l2_options(const std::shared_ptr<testing::faulty_backend>& l2,
                                 const monotonic_clock& clock) {
  cache_options options = cache_options::for_intent(intent::production);
  options.l2 = l2;
  options.l1_enabled = false;
  options.clock = &clock;
  return options;
}

TEST(logging_test, the_first_l2_error_is_logged_once_with_its_fix_by_default) {
  log_capture logs;
  process_sink_guard guard(logs.sink());
  auto l2 = std::make_shared<testing::faulty_backend>();
  manual_clock clock;
  cache c(failing_l2_options(l2, clock));
  auto twice = c.memoize("tests.logging.twice", [](std::int64_t n) { return n * 2; });
  l2->fail_with(errc::backend_authentication);
  for (std::int64_t n = 0; n < 20; ++n) ASSERT_EQ(twice(n), n * 2);
  ASSERT_EQ(logs.count("first_l2_error"), 1u);
  ASSERT_EQ(logs.records.size(), 1u) << "nothing else without a log_observer";
  const captured& r = logs.records[0];
  EXPECT_EQ(r.level, log_level::warning);
  EXPECT_NE(r.message.find("password"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("runs without it"), std::string::npos) << r.message;
  EXPECT_GT(c.stats().l2_errors, 1u);
}

TEST(logging_test, a_server_that_is_not_there_is_logged_with_where_to_look) {
  log_capture logs;
  process_sink_guard guard(logs.sink());
  auto l2 = std::make_shared<testing::faulty_backend>();
  manual_clock clock;
  cache c(failing_l2_options(l2, clock));
  l2->fail_with(errc::transient);
  (void)c.get<std::string>("k");
  ASSERT_EQ(logs.count("first_l2_error"), 1u);
  EXPECT_NE(logs.records[0].message.find("REDIS_URL"), std::string::npos);
}

TEST(logging_test, the_default_sink_writes_one_stderr_line_per_warning_and_can_be_silenced) {
  set_log_sink(stderr_log_sink());
  ::testing::internal::CaptureStderr();
  emit_log(log_level::warning, "first_l2_error", "two\nlines become one");
  emit_log(log_level::info, "breaker_closed", "below the default sink's level");
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "cachekit: warning: first_l2_error: two lines become one\n");

  set_log_sink(nullptr);
  ::testing::internal::CaptureStderr();
  emit_log(log_level::error, "first_l2_error", "silenced");
  out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "");
  set_log_sink(stderr_log_sink());
}

TEST(logging_test, a_throwing_sink_does_not_fail_the_call) {
  process_sink_guard guard([](const log_record&) { throw std::runtime_error("sink bug"); });
  auto l2 = std::make_shared<testing::faulty_backend>();
  manual_clock clock;
  cache c(failing_l2_options(l2, clock));
  auto twice = c.memoize("tests.logging.throwing_sink", [](std::int64_t n) { return n * 2; });
  l2->fail_with(errc::transient);
  EXPECT_EQ(twice(4), 8);
}

TEST(logging_test, log_observer_shows_keys_only_as_digests) {
  log_capture logs;
  auto l2 = std::make_shared<memory_backend>();
  cache_options options = cache_options::for_intent(intent::production);
  options.l2 = l2;
  options.observers.push_back(std::make_shared<log_observer>(log_options{.sink = logs.sink()}));
  cache c(std::move(options));
  const std::string key = "ns:tenant-acme:user-4711@example.com";
  ASSERT_TRUE(l2->set(key, as_byte_view("not a frame"), 60s));
  auto got = c.get<std::string>("user-4711@example.com", {.ns = "tenant-acme"});
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
  ASSERT_EQ(logs.records.size(), 1u);
  const captured& r = logs.records[0];
  EXPECT_EQ(r.event, "corrupt_entries");
  EXPECT_EQ(r.level, log_level::warning);
  EXPECT_NE(r.message.find("key=" + redact_key(key)), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find("user-4711"), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find("not a frame"), std::string::npos) << "never the stored bytes";
}

TEST(logging_test, repeated_faults_are_rate_limited_with_the_count_held_back) {
  log_capture logs;
  auto l2 = std::make_shared<testing::faulty_backend>();
  manual_clock clock;
  cache_options options = failing_l2_options(l2, clock);
  options.reliability.circuit_breaker = std::nullopt;  // every call reaches L2
  options.reliability.retry = std::nullopt;
  options.observers.push_back(std::make_shared<log_observer>(
      log_options{.rate_limit = 10s, .sink = logs.sink(), .clock = &clock}));
  cache c(std::move(options));
  l2->fail_with(errc::transient);
  for (int i = 0; i < 30; ++i) (void)c.get<std::string>("k");
  EXPECT_EQ(logs.count("l2_errors"), 1u);
  clock.advance(9s);
  (void)c.get<std::string>("k");
  EXPECT_EQ(logs.count("l2_errors"), 1u);
  clock.advance(1s);
  (void)c.get<std::string>("k");
  ASSERT_EQ(logs.count("l2_errors"), 2u);
  EXPECT_NE(logs.records.back().message.find("30 more like it"), std::string::npos)
      << logs.records.back().message;
  EXPECT_EQ(c.stats().l2_errors, 32u) << "the counters see every one";
}

TEST(logging_test, log_observer_levels_filter_and_the_breaker_opening_is_a_warning) {
  log_capture logs;
  auto l2 = std::make_shared<testing::faulty_backend>();
  manual_clock clock;
  cache_options options = failing_l2_options(l2, clock);
  options.observers.push_back(std::make_shared<log_observer>(
      log_options{.min_level = log_level::error, .sink = logs.sink(), .clock = &clock}));
  options.observers.push_back(std::make_shared<log_observer>(
      log_options{.min_level = log_level::warning, .sink = logs.sink(), .clock = &clock}));
  cache c(std::move(options));
  l2->fail_with(errc::transient);
  for (int i = 0; i < 20; ++i) (void)c.get<std::string>("k");
  EXPECT_EQ(logs.count("breaker_open"), 1u) << "from the warning-level observer only";
  EXPECT_EQ(logs.count("l2_errors"), 1u);
  EXPECT_EQ(logs.count("l2_skipped"), 0u) << "skips are debug lines";
}

TEST(logging_test, unknown_cachekit_variables_and_near_misses_of_redis_url_are_named) {
  const char* env[] = {"CACHEKIT_REDIS_ULR=redis://secret-host:6379/0",
                       "REDIS_ULR=redis://:hunter2@cache:6379/0",
                       "CACHEKIT_REDIS_URL=redis://ok:6379/0",
                       "CACHEKIT_REDIS_KEY_LAYOUT=plain",  // this SDK's own setting
                       "cachekit_l1_max_size_mb=10",
                       "CACHEKIT_SOMETHING_ELSE_ENTIRELY=1",
                       "REDIS_HOST=cache",
                       "PATH=/usr/bin",
                       nullptr};
  const auto warnings = detail::unknown_variable_warnings(env);
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0],
            "environment variable CACHEKIT_REDIS_ULR is not a cachekit setting and is ignored; "
            "did you mean CACHEKIT_REDIS_URL?");
  EXPECT_EQ(warnings[1], "environment variable REDIS_ULR is ignored; did you mean REDIS_URL?");
  EXPECT_EQ(warnings[2],
            "environment variable CACHEKIT_SOMETHING_ELSE_ENTIRELY is not a cachekit setting "
            "and is ignored");
  for (const auto& w : warnings) {
    EXPECT_EQ(w.find("secret-host"), std::string::npos);
    EXPECT_EQ(w.find("hunter2"), std::string::npos);
  }

  log_capture logs;
  process_sink_guard guard(logs.sink());
  auto options = detail::options_from_environ(intent::standard, env);
  ASSERT_TRUE(options) << options.error().message();
  EXPECT_EQ(logs.count("unknown_env"), 3u);
  EXPECT_EQ(logs.records[0].level, log_level::warning);
}

}  // namespace
}  // namespace cachekit
