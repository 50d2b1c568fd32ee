// A misconfigured L2 is not silent: a wrong password, a bad database index or a server that is
// not there each give one warning line with the fix through the log sink (by default stderr),
// against a real redis-server, and every call still returns the function's value.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/logging.hpp>

#include "support/local_server.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cachekit {
namespace {

using testing::local_server;

struct misconfigured_l2_log : ::testing::Test {
  std::mutex mutex;
  std::vector<std::string> warnings;
  void SetUp() override {
    set_log_sink([this](const log_record& r) {
      std::lock_guard lock(mutex);
      if (r.event == "first_l2_error") warnings.push_back(std::string(r.message));
    });
  }
  void TearDown() override { set_log_sink(stderr_log_sink()); }

  // A cache as `cache::from_env` builds it with only REDIS_URL set, calling a function 20 times.
  void run_with(const std::string& redis_url) {
    std::map<std::string, std::string, std::less<>> vars{{"REDIS_URL", redis_url}};
    auto options = cache_options::from_env(
        intent::production, [&](std::string_view n) -> std::optional<std::string> {
          auto it = vars.find(n);
          return it == vars.end() ? std::nullopt : std::optional(it->second);
        });
    ASSERT_TRUE(options) << options.error().message();
    cache c(std::move(*options));
    auto twice = c.memoize("tests.misconfigured.twice", [](std::int64_t n) { return n * 2; });
    for (std::int64_t n = 0; n < 20; ++n) ASSERT_EQ(twice(n), n * 2);
    EXPECT_GT(c.stats().l2_errors + c.stats().l2_skipped, 1u);
  }
};

TEST_F(misconfigured_l2_log, a_wrong_password_is_one_warning_naming_the_fix_not_the_password) {
  auto server = local_server::start_redis({"--requirepass", "right-secret-7731"});
  run_with("redis://:wrong-secret-5519@127.0.0.1:" + std::to_string(server->port()) + "/0");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("password"), std::string::npos) << warnings[0];
  EXPECT_EQ(warnings[0].find("wrong-secret-5519"), std::string::npos) << warnings[0];
}

TEST_F(misconfigured_l2_log, a_database_index_the_server_lacks_is_one_warning_naming_it) {
  auto server = local_server::start_redis();
  run_with("redis://127.0.0.1:" + std::to_string(server->port()) + "/99");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("database index"), std::string::npos) << warnings[0];
}

TEST_F(misconfigured_l2_log, a_server_that_is_not_there_is_one_warning_naming_the_variables) {
  run_with("redis://127.0.0.1:" + std::to_string(testing::find_free_port()) + "/0");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("REDIS_URL"), std::string::npos) << warnings[0];
}

}  // namespace
}  // namespace cachekit
