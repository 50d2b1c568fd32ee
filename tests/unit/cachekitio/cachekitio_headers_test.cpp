// The pure parts of the cachekit.io backend: the freshness headers against the protocol's
// freshness-headers.json (each `value` handed over as the bytes an HTTP stack delivers: one
// byte per character U+0000-U+00FF), Retry-After, the SSRF rules on the API URL, the bearer-token
// rule on the API key, and cachekitio_options::from_env.
#include "backends/cachekitio/api_url.hpp"
#include "backends/cachekitio/freshness_headers.hpp"

#include <cachekit/cachekitio_backend.hpp>
#include <cachekit/error.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <optional>
#include <string>

#include "conformance/vector_file.hpp"

namespace cachekit {
namespace {

using detail::check_api_key;
using detail::check_api_url;
using detail::is_private_host;
using detail::is_stale_freshness;
using detail::parse_fresh_for;
using detail::parse_retry_after;

// A vector's `value` as header bytes: each UTF-8 decoded character U+0000-U+00FF is one byte.
std::optional<std::string> header_bytes(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  const std::string utf8 = value.get<std::string>();
  std::string bytes;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      bytes += static_cast<char>(c);
    } else {  // two-byte sequences only: the contract keeps every character below U+0100
      const auto next = static_cast<unsigned char>(utf8[++i]);
      bytes += static_cast<char>(((c & 0x1F) << 6) | (next & 0x3F));
    }
  }
  return bytes;
}

TEST(CachekitioFreshnessVectors, FreshnessLabel) {
  auto vectors = test::load_vector_file<nlohmann::json>("freshness-headers.json");
  if (!vectors) GTEST_SKIP() << "freshness-headers.json not found";
  int rows = 0;
  for (const auto& row : (*vectors)["freshness_vectors"]) {
    const auto bytes = header_bytes(row["value"]);
    const std::optional<std::string_view> view =
        bytes ? std::optional<std::string_view>(*bytes) : std::nullopt;
    EXPECT_EQ(is_stale_freshness(view), row["stale"].get<bool>()) << row["name"];
    ++rows;
  }
  EXPECT_GE(rows, 9);
}

TEST(CachekitioFreshnessVectors, FreshFor) {
  auto vectors = test::load_vector_file<nlohmann::json>("freshness-headers.json");
  if (!vectors) GTEST_SKIP() << "freshness-headers.json not found";
  int rows = 0;
  for (const auto& row : (*vectors)["fresh_for_vectors"]) {
    const auto bytes = header_bytes(row["value"]);
    const std::optional<std::string_view> view =
        bytes ? std::optional<std::string_view>(*bytes) : std::nullopt;
    const auto got = parse_fresh_for(view);
    if (row["fresh_for"].is_null()) {
      EXPECT_FALSE(got.has_value()) << row["name"];
    } else {
      ASSERT_TRUE(got.has_value()) << row["name"];
      EXPECT_EQ(*got, row["fresh_for"].get<long long>()) << row["name"];
    }
    ++rows;
  }
  EXPECT_GE(rows, 20);
}

TEST(CachekitioRetryAfter, DeltaSecondsWithinTheBound) {
  EXPECT_EQ(parse_retry_after("1", 2), 1);
  EXPECT_EQ(parse_retry_after("007", 60), 7);
  EXPECT_EQ(parse_retry_after(" 2 ", 2), 2);
  EXPECT_EQ(parse_retry_after("0", 2), 0);
  EXPECT_FALSE(parse_retry_after("3", 2));
  EXPECT_FALSE(parse_retry_after("61", 60));
  EXPECT_FALSE(parse_retry_after("1.5", 60));
  EXPECT_FALSE(parse_retry_after("-1", 60));
  EXPECT_FALSE(parse_retry_after("+1", 60));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 60));
  EXPECT_FALSE(parse_retry_after("", 60));
  EXPECT_FALSE(parse_retry_after(std::nullopt, 60));
  EXPECT_FALSE(parse_retry_after(std::string(40, '9'), 60));
  EXPECT_EQ(parse_retry_after(std::string(40, '0') + "5", 60), 5);
}

TEST(CachekitioApiUrl, PrivateHostsInEverySpelling) {
  for (const char* host : {"127.0.0.1",
                           "127.1",
                           "2130706433",
                           "0x7f.1",
                           "0177.0.0.1",
                           "10.1.2.3",
                           "172.16.0.1",
                           "172.31.255.255",
                           "192.168.1.1",
                           "169.254.169.254",
                           "0.0.0.0",
                           "::1",
                           "[::1]",
                           "::",
                           "fe80::1",
                           "fe80::1%eth0",
                           "fc00::1",
                           "fd12::1",
                           "::ffff:127.0.0.1",
                           "::ffff:10.0.0.1",
                           "localhost",
                           "LOCALHOST",
                           "localhost.",
                           "api.localhost"}) {
    EXPECT_TRUE(is_private_host(host)) << host;
  }
  for (const char* host : {"api.cachekit.io", "8.8.8.8", "172.32.0.1", "2001:db8::1",
                           "api.cachekit.test", "localhost.example.com"}) {
    EXPECT_FALSE(is_private_host(host)) << host;
  }
}

TEST(CachekitioApiUrl, AcceptsTheAllowlistAndSplitsThePath) {
  auto prod = check_api_url("https://api.cachekit.io", false);
  ASSERT_TRUE(prod) << prod.error().detail;
  EXPECT_EQ(prod->origin, "https://api.cachekit.io");
  EXPECT_EQ(prod->path, "");
  auto staging = check_api_url("https://API.staging.cachekit.io/base/", false);
  ASSERT_TRUE(staging);
  EXPECT_EQ(staging->host, "api.staging.cachekit.io");
  EXPECT_EQ(staging->path, "/base");
  auto custom = check_api_url("https://api.cachekit.test:8443", true);
  ASSERT_TRUE(custom);
  EXPECT_EQ(custom->origin, "https://api.cachekit.test:8443");
}

TEST(CachekitioApiUrl, RefusesWhatTheSsrfRulesForbid) {
  const auto refused = [](std::string_view url, bool custom) {
    auto r = check_api_url(url, custom);
    EXPECT_FALSE(r) << url;
    if (!r) {
      EXPECT_EQ(r.error().code, make_error_code(errc::invalid_configuration));
      EXPECT_EQ(r.error().detail.find("secret"), std::string::npos);
    }
    return r ? std::string{} : r.error().detail;
  };
  EXPECT_NE(refused("http://api.cachekit.io", false).find("HTTPS"), std::string::npos);
  EXPECT_NE(refused("https://evil.example.com", false).find("allowlist"), std::string::npos);
  EXPECT_NE(refused("https://127.0.0.1:8443", true).find("private"), std::string::npos);
  EXPECT_NE(refused("https://localhost", true).find("private"), std::string::npos);
  EXPECT_NE(refused("https://[::1]:443", true).find("private"), std::string::npos);
  EXPECT_NE(refused("https://169.254.169.254", true).find("private"), std::string::npos);
  // Credentials are refused without being quoted.
  const std::string creds = refused("https://user:secret@api.cachekit.io", false);
  EXPECT_NE(creds.find("credentials"), std::string::npos);
  EXPECT_EQ(creds.find("secret@"), std::string::npos);
  refused("https://api.cachekit.io\\@evil.com", false);
  refused("api.cachekit.io", false);
  refused("https://", false);
  refused("https://api.cachekit.io:99999999", false);
  refused("https://api.cachekit.io?x=1", false);
}

TEST(CachekitioApiKey, BearerTokenRule) {
  EXPECT_TRUE(check_api_key("ck_live_abc123"));
  EXPECT_TRUE(check_api_key("ck_sdk_A-Z.~+/=="));
  const std::string secret = "ck_live_supersecret";
  for (const std::string& bad : std::vector<std::string>{
           std::string{}, secret + "\n", secret + " ", "\xEF\xBB\xBF" + secret,
           std::string("ck_live_\xC3\xA9"), std::string("=abc"), std::string("ab=c")}) {
    auto r = check_api_key(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, make_error_code(errc::invalid_configuration));
    EXPECT_EQ(r.error().detail.find("supersecret"), std::string::npos);
  }
  EXPECT_NE(check_api_key("").error().detail.find("CACHEKIT_API_KEY"), std::string::npos);
}

TEST(CachekitioOptions, CreateRefusesWithAFix) {
  cachekitio_options o;
  auto missing = cachekitio_backend::create(o);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().detail.find("API key"), std::string::npos);
  o.api_key = "ck_live_x";
  o.api_url = "https://api.cachekit.test";
  auto not_allowed = cachekitio_backend::create(o);
  ASSERT_FALSE(not_allowed);
  EXPECT_NE(not_allowed.error().detail.find("allow_custom_host"), std::string::npos);
  o.allow_custom_host = true;
  EXPECT_TRUE(cachekitio_backend::create(o));
  o.connection_pool_size = 0;
  EXPECT_FALSE(cachekitio_backend::create(o));
  auto as_backend = make_cachekitio_backend(cachekitio_options{.api_key = "ck_live_x"});
  ASSERT_TRUE(as_backend);
  EXPECT_EQ((*as_backend)->type(), "cachekitio");
  EXPECT_EQ((*as_backend)->key_prefix(), "");
}

class env_guard {
 public:
  env_guard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~env_guard() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(CachekitioOptions, FromEnv) {
  env_guard key("CACHEKIT_API_KEY", "ck_api_fromenv");
  env_guard url("CACHEKIT_API_URL", "https://api.staging.cachekit.io");
  env_guard custom("CACHEKIT_ALLOW_CUSTOM_HOST", "TRUE");
  env_guard timeout("CACHEKIT_TIMEOUT", "0.25");
  env_guard retries("CACHEKIT_MAX_RETRIES", "0");
  env_guard pool("CACHEKIT_CONNECTION_POOL_SIZE", "4");
  auto o = cachekitio_options::from_env();
  ASSERT_TRUE(o) << o.error().detail;
  EXPECT_EQ(o->api_key, "ck_api_fromenv");
  EXPECT_EQ(o->api_url, "https://api.staging.cachekit.io");
  EXPECT_TRUE(o->allow_custom_host);
  EXPECT_EQ(o->timeout, std::chrono::milliseconds{250});
  EXPECT_EQ(o->max_retries, 0);
  EXPECT_EQ(o->connection_pool_size, 4U);
  {
    env_guard bad("CACHEKIT_TIMEOUT", "soon");
    auto refused = cachekitio_options::from_env();
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().detail.find("CACHEKIT_TIMEOUT"), std::string::npos);
  }
  {
    env_guard bad("CACHEKIT_ALLOW_CUSTOM_HOST", "maybe");
    EXPECT_FALSE(cachekitio_options::from_env());
  }
  {
    env_guard bad("CACHEKIT_CONNECTION_POOL_SIZE", "0");
    EXPECT_FALSE(cachekitio_options::from_env());
  }
}

}  // namespace
}  // namespace cachekit
