// Setting a cache up against a real redis-server: failing fast on a misconfigured L2
// (cache_options::verify_l2_on_start), one base configuration for two caches, the key as Redis
// holds it (memoized::stored_key), and interop mode from the environment
// (CACHEKIT_REDIS_KEY_LAYOUT=plain).
#include "support/local_server.hpp"

#include <cachekit/cachekit.hpp>

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

namespace cachekit {
namespace {

using testing::local_server;

static_assert(std::is_copy_constructible_v<cache_options>, "one base configuration, many caches");
static_assert(std::is_copy_assignable_v<cache_options>);

cache_options redis_options_for(const std::string& url,
                                redis_key_layout layout = redis_key_layout::plain) {
  cache_options options = cache_options::for_intent(intent::test);
  options.l2 = std::make_shared<redis_backend>(redis_options{.url = url, .key_layout = layout});
  options.verify_l2_on_start = true;
  return options;
}

// GET through a separate raw connection, as `redis-cli GET` would.
std::optional<std::string> raw_get(const local_server& server, const std::string& key) {
  redisContext* c = redisConnect(server.host().c_str(), server.port());
  if (c == nullptr || c->err) {
    if (c != nullptr) redisFree(c);
    return std::nullopt;
  }
  auto* reply = static_cast<redisReply*>(redisCommand(c, "GET %b", key.data(), key.size()));
  std::optional<std::string> value;
  if (reply != nullptr && reply->type == REDIS_REPLY_STRING) value.emplace(reply->str, reply->len);
  if (reply != nullptr) freeReplyObject(reply);
  redisFree(c);
  return value;
}

TEST(cache_setup, verify_l2_on_start_accepts_a_working_redis) {
  auto server = local_server::start_redis();
  EXPECT_NO_THROW(cache c(redis_options_for(server->address())));
}

TEST(cache_setup, verify_l2_on_start_refuses_a_wrong_password_and_says_how_to_fix_it) {
  auto server = local_server::start_redis({"--requirepass", "right-secret-4417"});
  const std::string url =
      "redis://:wrong-secret@127.0.0.1:" + std::to_string(server->port()) + "/0";
  try {
    cache c(redis_options_for(url));
    FAIL() << "a wrong password must fail the construction";
  } catch (const error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.code(), errc::backend_authentication) << what;
    EXPECT_NE(what.find("password"), std::string::npos) << what;
    EXPECT_EQ(what.find("wrong-secret"), std::string::npos) << "repeats the password: " << what;
    EXPECT_NE(what.find("verify_l2_on_start"), std::string::npos) << what;
  }
}

TEST(cache_setup, verify_l2_on_start_refuses_a_bad_db_index) {
  auto server = local_server::start_redis();
  const std::string url = "redis://127.0.0.1:" + std::to_string(server->port()) + "/99";
  EXPECT_THROW(cache c(redis_options_for(url)), error);
}

TEST(cache_setup, verify_l2_on_start_refuses_a_server_that_is_not_running) {
  auto server = local_server::start_redis();
  const std::string url = server->address();
  server->stop();
  try {
    cache c(redis_options_for(url));
    FAIL() << "a stopped server must fail the construction";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc_group::retry) << e.what();
    EXPECT_NE(std::string(e.what()).find("server runs"), std::string::npos) << e.what();
  }
}

TEST(cache_setup, without_verification_a_misconfigured_l2_still_starts) {
  auto server = local_server::start_redis({"--requirepass", "right-secret-4417"});
  cache_options options =
      redis_options_for("redis://:wrong@127.0.0.1:" + std::to_string(server->port()) + "/0");
  options.verify_l2_on_start = false;
  cache c(std::move(options));
  auto f = c.memoize("tests.setup.unverified", [](int x) { return x + 1; });
  EXPECT_EQ(f(1), 2);  // the function still answers
  EXPECT_GT(c.stats().l2_errors, 0u);
}

TEST(cache_setup, one_base_configuration_serves_two_caches) {
  auto server = local_server::start_redis();
  cache_options base = redis_options_for(server->address());
  base.encryption = encryption_options{
      .keys = keyring::from_hex(keyring::generate_master_key_hex()).value(), .tenant = "t1"};
  base.preset = intent::secure;
  cache writer(base);
  cache reader(base);  // a copy: same backend, same keys
  auto store = writer.memoize("tests.setup.shared", [](int x) { return x * 10; });
  int calls = 0;
  auto load = reader.memoize("tests.setup.shared", [&calls](int x) {
    ++calls;
    return x * 10;
  });
  EXPECT_EQ(store(4), 40);
  EXPECT_EQ(load(4), 40);
  EXPECT_EQ(calls, 0) << "the second cache reads what the first wrote, decrypting with the "
                         "copied keyring";
}

TEST(cache_setup, stored_key_is_what_redis_holds) {
  auto server = local_server::start_redis();
  cache c(redis_options_for(server->address(), redis_key_layout::tenant_scoped));
  auto f = c.memoize("tests.setup.stored", [](int x) { return x; });
  (void)f(7);
  const std::string key = f.key(7).value();
  const std::string stored = f.stored_key(7).value();
  EXPECT_EQ(stored, "t:default:" + key);
  EXPECT_FALSE(raw_get(*server, key).has_value());
  EXPECT_TRUE(raw_get(*server, stored).has_value());
}

TEST(cache_setup, interop_mode_from_the_environment_with_the_plain_layout) {
  auto server = local_server::start_redis();
  std::map<std::string, std::string, std::less<>> vars{{"REDIS_URL", server->address()},
                                                       {"CACHEKIT_REDIS_KEY_LAYOUT", "plain"}};
  auto lookup = [&vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  auto options = cache_options::from_env(intent::standard, lookup);
  ASSERT_TRUE(options) << options.error().message();
  ASSERT_EQ((*options).l2->key_prefix(), "");
  cache c(std::move(*options));
  auto f = c.memoize_interop("tests", "double_it", [](int x) { return 2 * x; });
  EXPECT_EQ(f(21), 42);
  EXPECT_TRUE(raw_get(*server, f.key(21).value()).has_value()) << "stored under the bare key";

  vars.erase("CACHEKIT_REDIS_KEY_LAYOUT");  // the default: tenant-scoped, as cachekit-py
  auto scoped = cache_options::from_env(intent::standard, lookup);
  ASSERT_TRUE(scoped);
  EXPECT_EQ((*scoped).l2->key_prefix(), "t:default:");
}

}  // namespace
}  // namespace cachekit
