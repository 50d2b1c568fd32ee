// Intent presets and `cache_options::from_env`, checked against what cachekit-py 0.24.1 does
// with the same environment (config/decorator.py, config/settings.py, backends/provider.py,
// cache_handler.py). No server: backends are built but never connect.
#include "cache/env_config.hpp"

#include <cachekit/cache.hpp>
#include <cachekit/cache_options.hpp>
#include <cachekit/file_backend.hpp>
#include <cachekit/memcached_backend.hpp>
#include <cachekit/redis_backend.hpp>

#include <gtest/gtest.h>

#include <stdlib.h>  // setenv, unsetenv, mkdtemp
#include <unistd.h>

#include <array>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern char** environ;  // NOLINT: POSIX

namespace cachekit {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using env_map = std::map<std::string, std::string, std::less<>>;

constexpr std::size_t mib = std::size_t{1024} * 1024;

// Master keys: 32 random bytes each (openssl rand -hex 32), distinct. Not one byte repeated:
// CACHEKIT_MASTER_KEY refuses a key anyone could guess.
const std::string key_a = "44235e2ec7756751c7d2fb335e43be27168abd9459eb61b63721a52e0807d94d";
const std::string key_b = "a81422c3d8efd6a706121c8d99083c3100802df2e2c530185b9d4c101e235c31";
const std::string key_c = "bdd6942441c091a9198a052e036b273af44d730f8debadd738167c36eca647a9";
const std::string key_d = "89b07b95a21cb20736c97b04cc4a68d3165138be9e2fa2c105ec6a546620263a";
const std::string key_e = "541ec99d1daa4004fbdf0df87862e4c77b02982fc34c0f5e7b7a45ffb4ee2ac2";

cache_options::env_lookup lookup_in(const env_map& vars) {
  return [&vars](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

result<cache_options> from(intent i, const env_map& vars) {
  return cache_options::from_env(i, lookup_in(vars));
}

cache_options options_or_fail(intent i, const env_map& vars) {
  auto r = from(i, vars);
  if (!r) {
    ADD_FAILURE() << "from_env failed: " << r.error().message();
    return cache_options::for_intent(i);
  }
  return std::move(*r);
}

failure failure_of(intent i, const env_map& vars) {
  auto r = from(i, vars);
  if (r) {
    ADD_FAILURE() << "from_env should have failed";
    return failure{};
  }
  return r.error();
}

// A fresh private directory for the file backend, removed afterwards.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "ck-options-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// ---- presets ---------------------------------------------------------------------------------

struct preset_row {
  intent i;
  bool integrity;
  bool stats;
  ttl_seconds ttl;
};

TEST(cache_presets, each_intent_has_the_flags_and_ttl_of_cachekit_py_0_24_1) {
  const std::array<preset_row, 7> rows{{
      {intent::standard, true, true, std::nullopt},
      {intent::minimal, false, false, 300s},
      {intent::dev, true, true, 300s},
      {intent::test, false, false, 300s},
      {intent::production, true, true, 600s},
      {intent::secure, true, true, 600s},
      {intent::local, false, true, 300s},
  }};
  for (const auto& row : rows) {
    SCOPED_TRACE(std::string(to_string(row.i)));
    const auto options = cache_options::for_intent(row.i);
    EXPECT_EQ(options.preset, row.i);
    EXPECT_EQ(options.integrity_checking, row.integrity);
    EXPECT_EQ(options.collect_stats, row.stats);
    EXPECT_EQ(options.default_ttl, row.ttl);
    EXPECT_TRUE(options.l1_enabled);
    EXPECT_EQ(options.l2, nullptr);
    EXPECT_FALSE(options.encryption.has_value());
    EXPECT_EQ(options.l1_max_bytes, 100 * mib);
    EXPECT_EQ(options.max_value_bytes, 100 * mib);
    EXPECT_EQ(options.object_max_entries, 256u);
    EXPECT_EQ(options.l1_default_ttl, 300s);
  }
}

TEST(cache_presets, names_are_cachekit_py_spellings_and_parse_back) {
  EXPECT_EQ(to_string(intent::standard), "cache");
  EXPECT_EQ(to_string(intent::production), "production");
  for (auto i : {intent::standard, intent::minimal, intent::dev, intent::test, intent::production,
                 intent::secure, intent::local}) {
    auto parsed = parse_intent(to_string(i));
    ASSERT_TRUE(parsed.has_value()) << to_string(i);
    EXPECT_EQ(*parsed, i);
  }
  auto standard = parse_intent("standard");
  ASSERT_TRUE(standard.has_value());
  EXPECT_EQ(*standard, intent::standard);
}

TEST(cache_presets, parse_intent_rejects_unknown_names_listing_the_valid_ones) {
  auto r = parse_intent("Production");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::invalid_configuration);
  EXPECT_NE(r.error().detail.find("minimal, dev, test, production, secure, local, io"),
            std::string::npos)
      << r.error().detail;
}

TEST(cache_presets, parse_intent_reads_io) {
  auto r = parse_intent("io");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*r, intent::io);
  EXPECT_EQ(to_string(intent::io), "io");
}

// intent-presets.md: io is an hour, L1 and SWR on, the reliability stack on, no encryption.
TEST(cache_presets, io_is_the_protocols_managed_backend_preset) {
  const auto io = cache_options::for_intent(intent::io);
  EXPECT_EQ(io.preset, intent::io);
  EXPECT_EQ(io.default_ttl, std::chrono::seconds{3600});
  EXPECT_TRUE(io.l1_enabled);
  EXPECT_TRUE(io.swr.enabled);
  EXPECT_TRUE(io.integrity_checking);
  EXPECT_TRUE(io.collect_stats);
  EXPECT_TRUE(io.reliability.circuit_breaker.has_value());
  EXPECT_TRUE(io.reliability.backpressure.has_value());
  EXPECT_FALSE(io.encryption.has_value());
  EXPECT_EQ(io.l2, nullptr);
}

TEST(cache_presets, an_io_cache_without_its_backend_refuses_to_start) {
  try {
    cache c(cache_options::for_intent(intent::io));
    FAIL() << "an io cache with no L2 started";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_configuration);
    EXPECT_NE(std::string(e.what()).find("io_cache_options"), std::string::npos) << e.what();
  }
}

// ---- backend selection -----------------------------------------------------------------------

TEST(cache_options_from_env, nothing_set_is_l1_only_with_the_preset_values) {
  for (auto i : {intent::standard, intent::minimal, intent::dev, intent::test, intent::production,
                 intent::local}) {
    SCOPED_TRACE(std::string(to_string(i)));
    const auto options = options_or_fail(i, {});
    EXPECT_EQ(options.l2, nullptr);
    EXPECT_FALSE(options.encryption.has_value());
    EXPECT_EQ(options.preset, i);
    EXPECT_EQ(options.default_ttl, cache_options::for_intent(i).default_ttl);
    EXPECT_EQ(options.integrity_checking, cache_options::for_intent(i).integrity_checking);
  }
}

TEST(cache_options_from_env, cachekit_redis_url_gives_tenant_scoped_redis) {
  const auto options =
      options_or_fail(intent::production, {{"CACHEKIT_REDIS_URL", "redis://127.0.0.1:1/0"}});
  ASSERT_NE(options.l2, nullptr);
  EXPECT_EQ(options.l2->type(), "redis");
  EXPECT_EQ(options.l2->key_prefix(), "t:default:");
  EXPECT_EQ(options.default_ttl, 600s);
}

TEST(cache_options_from_env, redis_url_is_the_fallback_and_never_conflicts) {
  const auto redis = options_or_fail(intent::standard, {{"REDIS_URL", "redis://127.0.0.1:1/0"}});
  ASSERT_NE(redis.l2, nullptr);
  EXPECT_EQ(redis.l2->type(), "redis");
  EXPECT_EQ(redis.l2->key_prefix(), "t:default:");

  const auto memcached =
      options_or_fail(intent::standard, {{"REDIS_URL", "redis://127.0.0.1:1/0"},
                                         {"CACHEKIT_MEMCACHED_SERVERS", R"(["127.0.0.1:1"])"}});
  ASSERT_NE(memcached.l2, nullptr);
  EXPECT_EQ(memcached.l2->type(), "memcached");
}

TEST(cache_options_from_env, redis_options_default_to_pool_50_and_200_ms_timeouts) {
  const env_map vars;
  auto options = detail::redis_options_from_env(lookup_in(vars), "redis://cache:6379/0");
  ASSERT_TRUE(options.has_value()) << options.error().message();
  EXPECT_EQ(options->url, "redis://cache:6379/0");
  EXPECT_EQ(options->pool_size, 50u);
  EXPECT_EQ(options->connect_timeout, 200ms);
  EXPECT_EQ(options->command_timeout, 200ms);
  EXPECT_EQ(options->key_layout, redis_key_layout::tenant_scoped);
  EXPECT_EQ(options->tenant, "default");
}

TEST(cache_options_from_env, redis_tuning_variables_set_pool_and_fractional_timeouts) {
  const env_map vars{{"CACHEKIT_CONNECTION_POOL_SIZE", "12"},
                     {"CACHEKIT_SOCKET_TIMEOUT", "0.25"},
                     {"CACHEKIT_SOCKET_CONNECT_TIMEOUT", "1.5"}};
  auto options = detail::redis_options_from_env(lookup_in(vars), "redis://cache");
  ASSERT_TRUE(options.has_value()) << options.error().message();
  EXPECT_EQ(options->pool_size, 12u);
  EXPECT_EQ(options->command_timeout, 250ms);
  EXPECT_EQ(options->connect_timeout, 1500ms);
}

TEST(cache_options_from_env, memcached_servers_select_memcached_with_its_variables) {
  const auto options = options_or_fail(
      intent::dev, {{"CACHEKIT_MEMCACHED_SERVERS", R"(["127.0.0.1:1", "127.0.0.1:2"])"},
                    {"CACHEKIT_MEMCACHED_KEY_PREFIX", "app:"}});
  ASSERT_NE(options.l2, nullptr);
  EXPECT_EQ(options.l2->type(), "memcached");
  EXPECT_EQ(options.l2->key_prefix(), "app:");

  const env_map vars{{"CACHEKIT_MEMCACHED_CONNECT_TIMEOUT", "0.1"},
                     {"CACHEKIT_MEMCACHED_TIMEOUT", "30"},
                     {"CACHEKIT_MEMCACHED_MAX_POOL_SIZE", "100"},
                     {"CACHEKIT_MEMCACHED_RETRY_ATTEMPTS", "0"},
                     {"CACHEKIT_MEMCACHED_MAX_ITEM_SIZE_BYTES", "0"}};
  auto read = detail::memcached_options_from_env(lookup_in(vars), R"(["10.0.0.5:11211"])");
  ASSERT_TRUE(read.has_value()) << read.error().message();
  EXPECT_EQ(read->servers, std::vector<std::string>{"10.0.0.5:11211"});
  EXPECT_EQ(read->connect_timeout, 100ms);
  EXPECT_EQ(read->timeout, 30000ms);
  EXPECT_EQ(read->pool_size, 100u);
  EXPECT_EQ(read->retry_attempts, 0);
  EXPECT_EQ(read->max_item_size, 0u);
  EXPECT_EQ(read->key_prefix, "");
}

// Except the timeouts: 200 ms connect and reply, as for Redis (cachekit-py: 2 s and 1 s).
TEST(cache_options_from_env, memcached_defaults_are_cachekit_py_defaults_but_200ms_timeouts) {
  const env_map vars;
  auto read = detail::memcached_options_from_env(lookup_in(vars), R"(["127.0.0.1:11211"])");
  ASSERT_TRUE(read.has_value()) << read.error().message();
  EXPECT_EQ(read->connect_timeout, 200ms);
  EXPECT_EQ(read->timeout, 200ms);
  EXPECT_EQ(read->pool_size, 10u);
  EXPECT_EQ(read->retry_attempts, 2);
  EXPECT_EQ(read->max_item_size, 1024u * 1024u);
}

TEST(cache_options_from_env, memcached_servers_must_be_a_json_list_of_strings) {
  for (std::string_view bad : {"127.0.0.1:11211", "[]", R"(["a:1", 5])", "{}", "null"}) {
    SCOPED_TRACE(std::string(bad));
    const auto f = failure_of(intent::standard, {{"CACHEKIT_MEMCACHED_SERVERS", std::string(bad)}});
    EXPECT_EQ(f.code, errc::invalid_configuration);
    EXPECT_EQ(f.detail.rfind("CACHEKIT_MEMCACHED_SERVERS must be a JSON list", 0), 0u) << f.detail;
  }
}

TEST(cache_options_from_env, the_listener_variables_choose_the_l1_coherence) {
  EXPECT_EQ(options_or_fail(intent::standard, {}).coherence, l1_coherence::ttl_only);
  EXPECT_EQ(options_or_fail(intent::standard, {{"CACHEKIT_INVALIDATION_LISTENER_ENABLED", "true"}})
                .coherence,
            l1_coherence::invalidation_events);
  EXPECT_EQ(options_or_fail(intent::standard, {{"CACHEKIT_INVALIDATION_LISTENER_ENABLED", "off"}})
                .coherence,
            l1_coherence::ttl_only);
  // Ours wins over cachekit-py's when both are set.
  EXPECT_EQ(options_or_fail(intent::standard, {{"CACHEKIT_INVALIDATION_LISTENER_ENABLED", "true"},
                                               {"CACHEKIT_L1_COHERENCE", "tracking"}})
                .coherence,
            l1_coherence::redis_tracking);
  EXPECT_EQ(options_or_fail(intent::standard, {{"CACHEKIT_L1_COHERENCE", "events"}}).coherence,
            l1_coherence::invalidation_events);
  const auto f = failure_of(intent::standard, {{"CACHEKIT_L1_COHERENCE", "always"}});
  EXPECT_EQ(f.code, errc::invalid_configuration);
  EXPECT_EQ(f.detail.rfind("CACHEKIT_L1_COHERENCE must be ttl", 0), 0u) << f.detail;
}

TEST(cache_options_from_env, empty_memcached_servers_is_not_a_selector) {
  const auto options = options_or_fail(intent::standard, {{"CACHEKIT_MEMCACHED_SERVERS", ""}});
  EXPECT_EQ(options.l2, nullptr);
}

TEST(cache_options_from_env, a_memcached_entry_the_backend_refuses_names_the_variables) {
  const auto f =
      failure_of(intent::standard, {{"CACHEKIT_MEMCACHED_SERVERS", R"(["no-port-here"])"}});
  EXPECT_EQ(f.code, errc::invalid_configuration);
  EXPECT_EQ(f.detail.rfind("CACHEKIT_MEMCACHED_*: ", 0), 0u) << f.detail;
}

TEST(cache_options_from_env, memcached_ranges_are_cachekit_py_ranges) {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"CACHEKIT_MEMCACHED_MAX_POOL_SIZE", "101"},
      {"CACHEKIT_MEMCACHED_MAX_POOL_SIZE", "0"},
      {"CACHEKIT_MEMCACHED_TIMEOUT", "0.05"},
      {"CACHEKIT_MEMCACHED_CONNECT_TIMEOUT", "31"},
      {"CACHEKIT_MEMCACHED_RETRY_ATTEMPTS", "11"},
      {"CACHEKIT_MEMCACHED_MAX_ITEM_SIZE_BYTES", "-1"}};
  for (const auto& [var, value] : bad) {
    SCOPED_TRACE(var + "=" + value);
    const auto f = failure_of(intent::standard,
                              {{"CACHEKIT_MEMCACHED_SERVERS", R"(["127.0.0.1:1"])"}, {var, value}});
    EXPECT_EQ(f.code, errc::invalid_configuration);
    EXPECT_EQ(f.detail.rfind(var + " must be a", 0), 0u) << f.detail;
  }
}

TEST(cache_options_from_env, file_cache_dir_selects_the_file_backend) {
  temp_dir dir;
  const auto options = options_or_fail(
      intent::test,
      {{"CACHEKIT_FILE_CACHE_DIR", dir.path().string()}, {"CACHEKIT_FILE_MAX_SIZE_MB", "200"}});
  ASSERT_NE(options.l2, nullptr);
  EXPECT_EQ(options.l2->type(), "file");
  const auto* files = dynamic_cast<const file_backend*>(options.l2.get());
  ASSERT_NE(files, nullptr);
  EXPECT_EQ(files->directory(), fs::canonical(dir.path()));
}

TEST(cache_options_from_env, file_variables_are_read_as_cachekit_py_reads_them) {
  const env_map vars{
      {"CACHEKIT_FILE_MAX_SIZE_MB", "2048"},    {"CACHEKIT_FILE_MAX_VALUE_MB", "200"},
      {"CACHEKIT_FILE_MAX_ENTRY_COUNT", "500"}, {"CACHEKIT_FILE_LOCK_TIMEOUT_SECONDS", "1.0"},
      {"CACHEKIT_FILE_PERMISSIONS", "384"},     {"CACHEKIT_FILE_DIR_PERMISSIONS", "448"}};
  auto read = detail::file_options_from_env(lookup_in(vars), "/srv/cache");
  ASSERT_TRUE(read.has_value()) << read.error().message();
  EXPECT_EQ(read->cache_dir, fs::path("/srv/cache"));
  EXPECT_EQ(read->max_size_mb, 2048u);
  EXPECT_EQ(read->max_value_mb, 200u);
  EXPECT_EQ(read->max_entry_count, 500u);
  EXPECT_EQ(read->permissions, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(read->dir_permissions, fs::perms::owner_all);
}

TEST(cache_options_from_env, file_permissions_are_decimal_and_octal_spellings_are_refused) {
  const env_map vars{{"CACHEKIT_FILE_PERMISSIONS", "600"}};
  auto read = detail::file_options_from_env(lookup_in(vars), "/srv/cache");
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.code(), errc::invalid_configuration);
  EXPECT_NE(read.error().detail.find("384 for 0600"), std::string::npos) << read.error().detail;
}

TEST(cache_options_from_env, file_backend_range_errors_name_the_variable) {
  temp_dir dir;
  const auto f = failure_of(intent::standard, {{"CACHEKIT_FILE_CACHE_DIR", dir.path().string()},
                                               {"CACHEKIT_FILE_MAX_VALUE_MB", "600"}});
  EXPECT_EQ(f.code, errc::invalid_configuration);
  EXPECT_EQ(f.detail.rfind("CACHEKIT_FILE_*: ", 0), 0u) << f.detail;
  EXPECT_NE(f.detail.find("CACHEKIT_FILE_MAX_VALUE_MB"), std::string::npos) << f.detail;
}

// This binary does not link the optional cachekit::io component.
TEST(cache_options_from_env, api_key_without_the_io_component_says_how_to_link_it) {
  const std::string api_key = "ck_live_0123456789abcdef";
  const auto f = failure_of(intent::production, {{"CACHEKIT_API_KEY", api_key}});
  EXPECT_EQ(f.code, errc::not_supported);
  EXPECT_NE(f.detail.find("optional component cachekit::io: link it"), std::string::npos)
      << f.detail;
  EXPECT_NE(f.detail.find("unset CACHEKIT_API_KEY"), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find("CACHEKIT_REDIS_URL"), std::string::npos) << f.detail;
  EXPECT_EQ(f.message().find(api_key), std::string::npos);
}

TEST(cache_options_from_env, io_needs_an_api_key_and_reads_no_other_selector) {
  const auto f = failure_of(intent::io, {{"CACHEKIT_REDIS_URL", "redis://127.0.0.1:1"}});
  EXPECT_EQ(f.code, errc::invalid_configuration);
  EXPECT_NE(f.detail.find("set CACHEKIT_API_KEY"), std::string::npos) << f.detail;
  const auto g = failure_of(intent::io, {{"CACHEKIT_API_KEY", "ck_live_0123456789abcdef"}});
  EXPECT_EQ(g.code, errc::not_supported);
  EXPECT_EQ(g.message().find("ck_live_0123456789abcdef"), std::string::npos) << g.message();
}

TEST(cache_options_from_env, io_refuses_a_master_key_it_was_not_asked_to_use) {
  const auto f = failure_of(intent::io, {{"CACHEKIT_API_KEY", "ck_live_0123456789abcdef"},
                                         {"CACHEKIT_MASTER_KEY", std::string(64, 'a')}});
  EXPECT_EQ(f.code, errc::invalid_configuration);
  EXPECT_NE(f.detail.find("does not encrypt"), std::string::npos) << f.detail;
}

TEST(cache_options_from_env, every_pair_of_selectors_is_a_conflict_naming_both) {
  temp_dir dir;
  const std::vector<std::pair<std::string, std::string>> selectors{
      {"CACHEKIT_API_KEY", "ck_live_secret_api_key"},
      {"CACHEKIT_REDIS_URL", "redis://:redispass@127.0.0.1:1/0"},
      {"CACHEKIT_MEMCACHED_SERVERS", R"(["127.0.0.1:1"])"},
      {"CACHEKIT_FILE_CACHE_DIR", dir.path().string()}};
  for (std::size_t a = 0; a < selectors.size(); ++a) {
    for (std::size_t b = a + 1; b < selectors.size(); ++b) {
      SCOPED_TRACE(selectors[a].first + " + " + selectors[b].first);
      const auto f = failure_of(intent::standard, {selectors[a], selectors[b]});
      EXPECT_EQ(f.code, errc::invalid_configuration);
      // Listed in cachekit-py's selector order.
      EXPECT_NE(f.detail.find("ambiguous: " + selectors[a].first + " and " + selectors[b].first +
                              " are set"),
                std::string::npos)
          << f.detail;
      EXPECT_NE(f.detail.find("Unset all but one of them"), std::string::npos) << f.detail;
      EXPECT_EQ(f.message().find("ck_live_secret_api_key"), std::string::npos);
      EXPECT_EQ(f.message().find("redispass"), std::string::npos);
    }
  }
  const auto three = failure_of(intent::standard, {selectors[1], selectors[2], selectors[3]});
  EXPECT_NE(three.detail.find("CACHEKIT_REDIS_URL, CACHEKIT_MEMCACHED_SERVERS and "
                              "CACHEKIT_FILE_CACHE_DIR are set"),
            std::string::npos)
      << three.detail;
}

TEST(cache_options_from_env, local_reads_nothing_at_all) {
  // @cache.local returns before cachekit-py loads any setting or backend.
  const auto options = options_or_fail(intent::local, {{"CACHEKIT_API_KEY", "k"},
                                                       {"CACHEKIT_REDIS_URL", "redis://x"},
                                                       {"CACHEKIT_MASTER_KEY", key_a},
                                                       {"CACHEKIT_L1_MAX_SIZE_MB", "zero"}});
  EXPECT_EQ(options.preset, intent::local);
  EXPECT_EQ(options.l2, nullptr);
  EXPECT_FALSE(options.encryption.has_value());
  EXPECT_EQ(options.l1_max_bytes, 100 * mib);
  EXPECT_EQ(options.default_ttl, 300s);
}

// ---- encryption ------------------------------------------------------------------------------

TEST(cache_options_from_env, secure_with_a_master_key_encrypts_for_tenant_default) {
  const auto options = options_or_fail(
      intent::secure, {{"CACHEKIT_MASTER_KEY", key_a}, {"REDIS_URL", "redis://127.0.0.1:1"}});
  ASSERT_TRUE(options.encryption.has_value());
  EXPECT_EQ(options.encryption->tenant, "default");
  EXPECT_EQ(options.encryption->keys.previous_key_count(), 0u);
  EXPECT_TRUE(options.integrity_checking);
  EXPECT_EQ(options.default_ttl, 600s);
  ASSERT_NE(options.l2, nullptr);
  EXPECT_EQ(options.l2->key_prefix(), "t:default:");
}

TEST(cache_options_from_env, encryption_fail_closed_is_read_for_secure) {
  const auto open = options_or_fail(
      intent::secure, {{"CACHEKIT_MASTER_KEY", key_a}, {"REDIS_URL", "redis://127.0.0.1:1"}});
  ASSERT_TRUE(open.encryption.has_value());
  EXPECT_FALSE(open.encryption->fail_closed);
  const auto closed =
      options_or_fail(intent::secure, {{"CACHEKIT_MASTER_KEY", key_a},
                                       {"REDIS_URL", "redis://127.0.0.1:1"},
                                       {"CACHEKIT_ENCRYPTION_FAIL_CLOSED", "true"}});
  ASSERT_TRUE(closed.encryption.has_value());
  EXPECT_TRUE(closed.encryption->fail_closed);
}

TEST(cache_options_from_env, secure_with_nothing_configured_gets_redis_at_localhost) {
  // Encrypted decorators cannot be L1-only; cachekit-py resolves Redis at its default URL.
  const auto options = options_or_fail(intent::secure, {{"CACHEKIT_MASTER_KEY", key_a}});
  ASSERT_NE(options.l2, nullptr);
  EXPECT_EQ(options.l2->type(), "redis");
  EXPECT_EQ(options.l2->key_prefix(), "t:default:");
  const env_map none;
  EXPECT_EQ(detail::redis_options_from_env(lookup_in(none), "redis://localhost:6379")->pool_size,
            50u);
}

TEST(cache_options_from_env, previous_keys_are_comma_separated_with_blanks_ignored) {
  const auto options = options_or_fail(
      intent::secure, {{"CACHEKIT_MASTER_KEY", key_a},
                       {"CACHEKIT_PREVIOUS_MASTER_KEYS", " " + key_b + " ,, " + key_c + ", "}});
  ASSERT_TRUE(options.encryption.has_value());
  EXPECT_EQ(options.encryption->keys.previous_key_count(), 2u);

  const auto three = options_or_fail(
      intent::secure, {{"CACHEKIT_MASTER_KEY", key_a},
                       {"CACHEKIT_PREVIOUS_MASTER_KEYS", key_b + "," + key_c + "," + key_d}});
  ASSERT_TRUE(three.encryption.has_value());
  EXPECT_EQ(three.encryption->keys.previous_key_count(), 3u);

  const auto blank = options_or_fail(
      intent::secure, {{"CACHEKIT_MASTER_KEY", key_a}, {"CACHEKIT_PREVIOUS_MASTER_KEYS", " , "}});
  ASSERT_TRUE(blank.encryption.has_value());
  EXPECT_EQ(blank.encryption->keys.previous_key_count(), 0u);
}

TEST(cache_options_from_env, secure_without_a_master_key_says_how_to_make_one) {
  for (const env_map& vars : {env_map{}, env_map{{"CACHEKIT_MASTER_KEY", ""}}}) {
    const auto f = failure_of(intent::secure, vars);
    EXPECT_EQ(f.code, errc::invalid_master_key);
    EXPECT_NE(f.detail.find("needs CACHEKIT_MASTER_KEY"), std::string::npos) << f.detail;
    EXPECT_NE(f.detail.find("openssl rand -hex 32"), std::string::npos) << f.detail;
  }
}

TEST(cache_options_from_env, a_short_master_key_is_refused_without_repeating_it) {
  const std::string short_key(62, 'a');  // 31 bytes
  const auto f = failure_of(intent::secure, {{"CACHEKIT_MASTER_KEY", short_key}});
  EXPECT_EQ(f.code, errc::invalid_master_key);
  EXPECT_EQ(f.detail.rfind("CACHEKIT_MASTER_KEY is 31 bytes; at least 32", 0), 0u) << f.detail;
  EXPECT_NE(f.detail.find("openssl rand -hex 32"), std::string::npos) << f.detail;
  EXPECT_EQ(f.message().find(short_key.substr(0, 16)), std::string::npos);
}

TEST(cache_options_from_env, a_patterned_master_key_is_refused_with_how_to_make_one) {
  // One byte repeated (the protocol vectors' 0x61 * 32 and 0x11 * 32), a short pattern
  // repeated, a counting sequence: each is 32 bytes of valid hex that anyone could guess.
  const std::string patterned[] = {
      std::string(64, 'a'), std::string(64, '1'),
      "deadbeef"
      "deadbeef"
      "deadbeef"
      "deadbeef"
      "deadbeef"
      "deadbeef"
      "deadbeef"
      "deadbeef",
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      "0011223344556677"
      "0011223344556677"
      "0011223344556677"
      "0011223344556677"};
  for (const auto& key : patterned) {
    const auto f = failure_of(intent::secure, {{"CACHEKIT_MASTER_KEY", key}});
    EXPECT_EQ(f.code, errc::invalid_master_key) << key;
    EXPECT_EQ(f.detail.rfind("CACHEKIT_MASTER_KEY is not random", 0), 0u) << f.detail;
    EXPECT_NE(f.detail.find("openssl rand -hex 32"), std::string::npos) << f.detail;
    EXPECT_EQ(f.message().find(key.substr(0, 16)), std::string::npos);
  }
}

TEST(cache_options_from_env, patterned_previous_keys_still_open_old_entries) {
  // A previous key never seals; the shared keyring vectors load 0x11 * 32 and 0x22 * 32 as
  // decrypt-only keys, so they are not refused.
  auto options =
      from(intent::secure,
           {{"CACHEKIT_MASTER_KEY", key_a},
            {"CACHEKIT_PREVIOUS_MASTER_KEYS", std::string(64, '1') + "," + std::string(64, '2')}});
  ASSERT_TRUE(options) << options.error().detail;
  EXPECT_EQ(options->encryption->keys.previous_key_count(), 2u);
}

TEST(cache_options_from_env, a_master_key_that_is_not_hex_is_refused_without_repeating_it) {
  const std::string bad = "zz" + key_a.substr(2);
  const auto f = failure_of(intent::secure, {{"CACHEKIT_MASTER_KEY", bad}});
  EXPECT_EQ(f.code, errc::invalid_master_key);
  EXPECT_NE(f.detail.find("CACHEKIT_MASTER_KEY is not hex: character 1 of 64"), std::string::npos)
      << f.detail;
  EXPECT_EQ(f.message().find(bad), std::string::npos);
  EXPECT_EQ(f.message().find("zz"), std::string::npos);
}

TEST(cache_options_from_env, more_than_three_previous_keys_are_refused_not_truncated) {
  // Refused at settings load, whatever the intent (CachekitConfig.validate_previous_master_keys).
  for (auto i : {intent::secure, intent::standard}) {
    env_map vars{
        {"CACHEKIT_PREVIOUS_MASTER_KEYS", key_b + "," + key_c + "," + key_d + "," + key_e}};
    if (i == intent::secure) vars.emplace("CACHEKIT_MASTER_KEY", key_a);
    const auto f = failure_of(i, vars);
    EXPECT_EQ(f.code, errc::invalid_configuration);
    EXPECT_EQ(f.detail.rfind("CACHEKIT_PREVIOUS_MASTER_KEYS lists 4 keys; at most 3", 0), 0u)
        << f.detail;
    for (const auto& key : {key_a, key_b, key_c, key_d, key_e}) {
      EXPECT_EQ(f.message().find(key), std::string::npos);
    }
  }
}

TEST(cache_options_from_env, the_current_key_among_the_previous_ones_is_refused) {
  std::string upper = key_a;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const auto f = failure_of(
      intent::secure,
      {{"CACHEKIT_MASTER_KEY", key_a}, {"CACHEKIT_PREVIOUS_MASTER_KEYS", key_b + "," + upper}});
  EXPECT_EQ(f.code, errc::invalid_configuration);
  EXPECT_NE(f.detail.find("CACHEKIT_MASTER_KEY also appears in CACHEKIT_PREVIOUS_MASTER_KEYS "
                          "(entry #2)"),
            std::string::npos)
      << f.detail;
  EXPECT_EQ(f.message().find(key_a), std::string::npos);
  EXPECT_EQ(f.message().find(upper), std::string::npos);
  EXPECT_EQ(f.message().find(key_b), std::string::npos);
}

TEST(cache_options_from_env, a_bad_previous_key_names_its_position) {
  const std::string short_key(40, 'c');
  const auto f =
      failure_of(intent::standard, {{"CACHEKIT_PREVIOUS_MASTER_KEYS", key_b + "," + short_key}});
  EXPECT_EQ(f.code, errc::invalid_master_key);
  EXPECT_EQ(f.detail.rfind("CACHEKIT_PREVIOUS_MASTER_KEYS entry #2 is 20 bytes", 0), 0u)
      << f.detail;
  EXPECT_EQ(f.message().find(short_key), std::string::npos);
  EXPECT_EQ(f.message().find(key_b), std::string::npos);
}

TEST(cache_options_from_env, a_master_key_without_encryption_intent_is_an_error) {
  for (auto i :
       {intent::standard, intent::minimal, intent::dev, intent::test, intent::production}) {
    SCOPED_TRACE(std::string(to_string(i)));
    const auto f = failure_of(i, {{"CACHEKIT_MASTER_KEY", key_a}});
    EXPECT_EQ(f.code, errc::invalid_configuration);
    EXPECT_EQ(f.detail.rfind("CACHEKIT_MASTER_KEY is set but intent::", 0), 0u) << f.detail;
    EXPECT_NE(f.detail.find("Use intent::secure to encrypt, or unset CACHEKIT_MASTER_KEY"),
              std::string::npos)
        << f.detail;
    EXPECT_EQ(f.message().find(key_a), std::string::npos);
  }
  EXPECT_NE(failure_of(intent::standard, {{"CACHEKIT_MASTER_KEY", key_a}})
                .detail.find("intent::standard does not encrypt"),
            std::string::npos);
  // Previous keys alone state nothing and are accepted (cachekit-py only validates them).
  EXPECT_TRUE(from(intent::production, {{"CACHEKIT_PREVIOUS_MASTER_KEYS", key_b}}).has_value());
}

TEST(cache_options_from_env, deployment_uuid_becomes_the_canonical_tenant) {
  const auto options = options_or_fail(
      intent::secure, {{"CACHEKIT_MASTER_KEY", key_a},
                       {"CACHEKIT_DEPLOYMENT_UUID", "{6F1C2B7E-3D4A-4C5B-9E8F-0A1B2C3D4E5F}"}});
  ASSERT_TRUE(options.encryption.has_value());
  EXPECT_EQ(options.encryption->tenant, "6f1c2b7e-3d4a-4c5b-9e8f-0a1b2c3d4e5f");
  // The Redis tenant stays "default": cachekit-py's shared backend does not use the UUID.
  EXPECT_EQ(options.l2->key_prefix(), "t:default:");

  const auto unset = options_or_fail(
      intent::secure, {{"CACHEKIT_MASTER_KEY", key_a}, {"CACHEKIT_DEPLOYMENT_UUID", ""}});
  EXPECT_EQ(unset.encryption->tenant, "default");
}

TEST(cache_options_from_env, an_invalid_deployment_uuid_is_refused_for_every_intent_but_local) {
  for (auto i : {intent::standard, intent::secure}) {
    env_map vars{{"CACHEKIT_DEPLOYMENT_UUID", key_b}};
    if (i == intent::secure) vars.emplace("CACHEKIT_MASTER_KEY", key_a);
    const auto f = failure_of(i, vars);
    EXPECT_EQ(f.code, errc::invalid_configuration);
    EXPECT_EQ(f.detail.rfind("CACHEKIT_DEPLOYMENT_UUID must be a UUID", 0), 0u) << f.detail;
    EXPECT_EQ(f.message().find(key_b), std::string::npos);
  }
  EXPECT_TRUE(from(intent::local, {{"CACHEKIT_DEPLOYMENT_UUID", "nope"}}).has_value());
}

TEST(cache_options_from_env, canonical_uuid_accepts_what_python_uuid_accepts) {
  const std::string canonical = "12345678-1234-5678-1234-567812345678";
  for (std::string_view text :
       {"12345678-1234-5678-1234-567812345678", "12345678123456781234567812345678",
        "{12345678-1234-5678-1234-567812345678}", "{{12345678123456781234567812345678}}",
        "urn:uuid:12345678-1234-5678-1234-567812345678", "1234-5678123456781234567812345678"}) {
    EXPECT_EQ(detail::canonical_uuid(text), canonical) << text;
  }
  EXPECT_EQ(detail::canonical_uuid("ABCDEF00-0000-0000-0000-000000000000"),
            "abcdef00-0000-0000-0000-000000000000");
  for (std::string_view text :
       {"", "default", "1234567812345678123456781234567", "123456781234567812345678123456789",
        "URN:UUID:12345678-1234-5678-1234-567812345678", "g2345678123456781234567812345678",
        " 2345678123456781234567812345678"}) {
    EXPECT_EQ(detail::canonical_uuid(text), std::nullopt) << text;
  }
}

// ---- numbers and booleans --------------------------------------------------------------------

TEST(cache_options_from_env, l1_and_value_limits_are_read_in_pydantic_forms) {
  const auto options = options_or_fail(
      intent::standard, {{"CACHEKIT_L1_MAX_SIZE_MB", " 7 "}, {"CACHEKIT_MAX_VALUE_SIZE", "1_000"}});
  EXPECT_EQ(options.l1_max_bytes, 7 * mib);
  EXPECT_EQ(options.max_value_bytes, 1000u);
  EXPECT_EQ(options_or_fail(intent::standard, {{"CACHEKIT_L1_MAX_SIZE_MB", "+8.00"}}).l1_max_bytes,
            8 * mib);
}

TEST(cache_options_from_env, bad_numbers_name_the_variable_and_the_accepted_form) {
  for (std::string_view bad : {"", "abc", "0", "-1", "1.5", "0x10", "1e3", "42.", "1__0"}) {
    SCOPED_TRACE(std::string(bad));
    const auto f = failure_of(intent::standard, {{"CACHEKIT_L1_MAX_SIZE_MB", std::string(bad)}});
    EXPECT_EQ(f.code, errc::invalid_configuration);
    EXPECT_EQ(f.detail,
              "CACHEKIT_L1_MAX_SIZE_MB must be a whole number from 1 to 17592186044415 "
              "(megabytes of L1; cachekit-py's default is 100)");
  }
  const auto value = failure_of(intent::standard, {{"CACHEKIT_MAX_VALUE_SIZE", "big"}});
  EXPECT_EQ(value.detail,
            "CACHEKIT_MAX_VALUE_SIZE must be a whole number of at least 1 (bytes; cachekit-py's "
            "default is 104857600 (100 MiB))");
}

TEST(cache_options_from_env, bad_timeouts_name_the_variable_and_the_accepted_form) {
  for (std::string_view bad : {"0", "-1", "nan", "inf", "five", "", "3000000"}) {
    SCOPED_TRACE(std::string(bad));
    const auto f = failure_of(intent::standard, {{"CACHEKIT_REDIS_URL", "redis://127.0.0.1:1"},
                                                 {"CACHEKIT_SOCKET_TIMEOUT", std::string(bad)}});
    EXPECT_EQ(f.code, errc::invalid_configuration);
    EXPECT_EQ(f.detail,
              "CACHEKIT_SOCKET_TIMEOUT must be a number greater than 0 and at most 2147483 "
              "(seconds, e.g. 0.2 or 1; 0.2 when unset, where cachekit-py waits 5.0)");
  }
  // Redis variables are read only when Redis is the backend, as RedisBackendConfig is.
  EXPECT_TRUE(from(intent::standard, {{"CACHEKIT_SOCKET_TIMEOUT", "zero"}}).has_value());
}

TEST(cache_options_from_env, a_tiny_timeout_rounds_up_to_one_millisecond) {
  const env_map vars{{"CACHEKIT_SOCKET_TIMEOUT", "1e-5"}};
  auto options = detail::redis_options_from_env(lookup_in(vars), "redis://cache");
  ASSERT_TRUE(options.has_value()) << options.error().message();
  EXPECT_EQ(options->command_timeout, 1ms);
}

TEST(cache_options_from_env, booleans_accept_pydantic_spellings_only) {
  for (std::string_view good : {"true", "False", "YES", "n", "1", "0", "on", "Off", "t"}) {
    EXPECT_TRUE(from(intent::standard, {{"CACHEKIT_ENCRYPTION_FAIL_CLOSED", std::string(good)}})
                    .has_value())
        << good;
  }
  for (std::string_view bad : {"maybe", "2", "", " true"}) {
    SCOPED_TRACE(std::string(bad));
    const auto f =
        failure_of(intent::standard, {{"CACHEKIT_ENCRYPTION_FAIL_CLOSED", std::string(bad)}});
    EXPECT_EQ(f.code, errc::invalid_configuration);
    EXPECT_EQ(f.detail.rfind("CACHEKIT_ENCRYPTION_FAIL_CLOSED must be a boolean: true, false", 0),
              0u)
        << f.detail;
  }
}

TEST(cache_options_from_env, a_bad_redis_url_does_not_repeat_its_password) {
  const auto f = failure_of(intent::standard,
                            {{"CACHEKIT_REDIS_URL", "redis://alice:hunter2secret@cache:99999/0"}});
  EXPECT_EQ(f.code, errc::invalid_configuration);
  EXPECT_EQ(f.detail.rfind("CACHEKIT_REDIS_URL: ", 0), 0u) << f.detail;
  EXPECT_EQ(f.message().find("hunter2secret"), std::string::npos) << f.message();

  const auto tls =
      failure_of(intent::standard, {{"REDIS_URL", "rediss://:pw-in-url@cache:6380?ssl_verify=1"}});
  EXPECT_EQ(tls.code, errc::invalid_configuration);
  EXPECT_EQ(tls.detail.rfind("REDIS_URL: ", 0), 0u) << tls.detail;
  EXPECT_EQ(tls.message().find("pw-in-url"), std::string::npos) << tls.message();
}

// ---- the real environment --------------------------------------------------------------------

// A fake environment block, as `environ` holds it.
class env_block {
 public:
  env_block(std::initializer_list<std::string> entries) : entries_(entries) {
    for (const auto& e : entries_) pointers_.push_back(e.c_str());
    pointers_.push_back(nullptr);
  }
  [[nodiscard]] const char* const* get() const { return pointers_.data(); }

 private:
  std::vector<std::string> entries_;
  std::vector<const char*> pointers_;
};

TEST(cache_options_from_environ, names_match_case_insensitively) {
  const env_block block{"cachekit_redis_url=redis://127.0.0.1:1/0", "Cachekit_L1_Max_Size_MB=3",
                        "PATH=/usr/bin", "cachekit_max_value_size=4096"};
  auto options = detail::options_from_environ(intent::production, block.get());
  ASSERT_TRUE(options.has_value()) << options.error().message();
  ASSERT_NE(options->l2, nullptr);
  EXPECT_EQ(options->l2->type(), "redis");
  EXPECT_EQ(options->l1_max_bytes, 3 * mib);
  EXPECT_EQ(options->max_value_bytes, 4096u);

  const env_block fallback{"redis_url=redis://127.0.0.1:1/0"};
  auto redis = detail::options_from_environ(intent::standard, fallback.get());
  ASSERT_TRUE(redis.has_value()) << redis.error().message();
  ASSERT_NE(redis->l2, nullptr);
  EXPECT_EQ(redis->l2->key_prefix(), "t:default:");
}

TEST(cache_options_from_environ, the_later_of_two_spellings_wins) {
  const detail::env_snapshot snapshot(
      env_block{"CACHEKIT_L1_MAX_SIZE_MB=5", "cachekit_l1_max_size_mb=9", "OTHER=1", "noequals"}
          .get());
  EXPECT_EQ(snapshot.get("CACHEKIT_L1_MAX_SIZE_MB"), "9");
  EXPECT_EQ(snapshot.get("cachekit_L1_max_size_mb"), "9");
  EXPECT_EQ(snapshot.get("OTHER"), std::nullopt);  // only CACHEKIT_* and REDIS_URL are kept
  EXPECT_TRUE(snapshot.has_exact("CACHEKIT_L1_MAX_SIZE_MB"));
  EXPECT_FALSE(snapshot.has_exact("CACHEKIT_l1_MAX_SIZE_MB"));
}

TEST(cache_options_from_environ, a_lower_case_non_redis_selector_must_be_renamed) {
  // cachekit-py's DefaultBackendProvider matches selectors by exact name and would use Redis.
  temp_dir dir;
  const std::string entry = "cachekit_file_cache_dir=" + dir.path().string();
  const env_block block{entry};
  auto r = detail::options_from_environ(intent::standard, block.get());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::invalid_configuration);
  EXPECT_NE(r.error().detail.find("Rename the variable to CACHEKIT_FILE_CACHE_DIR"),
            std::string::npos)
      << r.error().detail;
}

// Sets variables in the real environment for one test and puts the old ones back after.
class scoped_environment {
 public:
  scoped_environment() {
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      const auto equals = entry.find('=');
      if (equals == std::string::npos) continue;
      std::string lower = entry.substr(0, equals);
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower.rfind("cachekit_", 0) == 0 || lower == "redis_url") {
        saved_.emplace_back(entry.substr(0, equals), entry.substr(equals + 1));
      }
    }
    for (const auto& [name, value] : saved_) ::unsetenv(name.c_str());
  }
  ~scoped_environment() {
    for (const auto& name : set_) ::unsetenv(name.c_str());
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
  }
  scoped_environment(const scoped_environment&) = delete;
  scoped_environment& operator=(const scoped_environment&) = delete;

  void set(const std::string& name, const std::string& value) {
    ::setenv(name.c_str(), value.c_str(), 1);
    set_.push_back(name);
  }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
  std::vector<std::string> set_;
};

TEST(cache_options_from_environ, from_env_reads_the_process_environment) {
  scoped_environment env;
  env.set("CACHEKIT_MASTER_KEY", key_a);
  env.set("cachekit_previous_master_keys", key_b);
  env.set("CACHEKIT_DEPLOYMENT_UUID", "12345678123456781234567812345678");
  env.set("REDIS_URL", "redis://127.0.0.1:1/0");
  env.set("CACHEKIT_L1_MAX_SIZE_MB", "2");

  auto options = cache_options::from_env(intent::secure);
  ASSERT_TRUE(options.has_value()) << options.error().message();
  EXPECT_EQ(options->preset, intent::secure);
  ASSERT_NE(options->l2, nullptr);
  EXPECT_EQ(options->l2->type(), "redis");
  EXPECT_EQ(options->l2->key_prefix(), "t:default:");
  EXPECT_EQ(options->l1_max_bytes, 2 * mib);
  ASSERT_TRUE(options->encryption.has_value());
  EXPECT_EQ(options->encryption->keys.previous_key_count(), 1u);
  EXPECT_EQ(options->encryption->tenant, "12345678-1234-5678-1234-567812345678");

  auto plain = cache_options::from_env();
  ASSERT_FALSE(plain.has_value());
  EXPECT_EQ(plain.code(), errc::invalid_configuration);
  EXPECT_EQ(plain.error().message().find(key_a), std::string::npos);
}

}  // namespace
}  // namespace cachekit
