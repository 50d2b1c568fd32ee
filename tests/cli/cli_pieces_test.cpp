// The CLI's own pieces: the registry name and
// invalidation event, bench percentiles, and the trailing-newline rule of `decode`.
#include "backend_from_flags.hpp"
#include "bench_command.hpp"
#include "cli_io.hpp"
#include "key_registry.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace cachekit::cli {
namespace {

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

#if CACHEKIT_CLI_HAS_IO
// cachekit.io from `--url https://...` or CACHEKIT_API_KEY; the key only ever from the
// environment, and never repeated in an error. (Built, not contacted: no request is sent.)
TEST(cli_backend_from_flags, cachekit_io_from_the_url_or_the_environment) {
  const std::string key = "ck_live_cli0123456789";
  std::map<std::string, std::string, std::less<>> vars;
  const env_reader env = [&](std::string_view n) -> std::optional<std::string> {
    auto it = vars.find(n);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  backend_flags flags;
  flags.url = "https://api.cachekit.io";
  auto missing = backend_from_flags(flags, env);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().detail.find("set CACHEKIT_API_KEY"), std::string::npos)
      << missing.error().detail;

  vars["CACHEKIT_API_KEY"] = key;
  auto by_url = backend_from_flags(flags, env);
  ASSERT_TRUE(by_url.has_value()) << by_url.error().message();
  EXPECT_EQ(by_url->store->type(), "cachekitio");
  EXPECT_EQ(by_url->description.find(key), std::string::npos);

  flags.url = "http://api.cachekit.io";  // plain HTTP would send the key in clear text
  auto plain = backend_from_flags(flags, env);
  ASSERT_FALSE(plain.has_value());
  EXPECT_EQ(plain.code(), errc::invalid_configuration);
  EXPECT_EQ(plain.error().message().find(key), std::string::npos);

  flags.url.reset();
  auto from_env = backend_from_flags(flags, env);
  ASSERT_TRUE(from_env.has_value()) << from_env.error().message();
  EXPECT_EQ(from_env->store->type(), "cachekitio");
}
#endif

TEST(cli_key_registry, names_the_set_as_cachekit_py_does) {
  // From cachekit-py 0.24.1: @cache(namespace="users") on cli_demo.get_user.
  EXPECT_EQ(registry_id("cli_demo.get_user", "users"), "ck:reg:users:e8b3d4c62bfb144a");
  EXPECT_EQ(registry_id("cli_demo.get_user", std::nullopt), "ck:reg::e8b3d4c62bfb144a");
  EXPECT_EQ(function_key_prefix("cli_demo.get_user", "users").value(),
            "ns:users:func:cli_demo.get_user:args:");
  EXPECT_EQ(function_key_prefix("my app.f", std::nullopt).value(), "func:my_app.f:args:");
}

TEST(cli_key_registry, invalidation_event_is_cachekit_py_encode_event_bytes) {
  EXPECT_EQ(hex(invalidation_event("ck:reg:users:e8b3d4c62bfb144a")),
            "81a172bd636b3a7265673a75736572733a65386233643463363262666231343461");
  const std::string long_id = "ck:reg:" + std::string(40, 'n') + ":e8b3d4c62bfb144a";
  EXPECT_EQ(hex(invalidation_event(long_id)).substr(0, 10), "81a172d940");
}

TEST(cli_bench, percentile_is_the_nearest_rank) {
  std::vector<std::chrono::nanoseconds> s;
  for (int i = 1; i <= 100; ++i) s.emplace_back(i);
  EXPECT_EQ(percentile(s, 50).count(), 50);
  EXPECT_EQ(percentile(s, 99).count(), 99);
  EXPECT_EQ(percentile(s, 100).count(), 100);
  EXPECT_EQ(percentile({}, 50).count(), 0);
  EXPECT_EQ(percentile({std::chrono::nanoseconds(7)}, 90).count(), 7);
}

TEST(cli_io, strips_one_trailing_newline_or_crlf_only) {
  EXPECT_EQ(as_string_view(*without_trailing_newline(as_byte_view("ab\n"))), "ab");
  EXPECT_EQ(as_string_view(*without_trailing_newline(as_byte_view("ab\r\n"))), "ab");
  EXPECT_EQ(as_string_view(*without_trailing_newline(as_byte_view("ab\n\n"))), "ab\n");
  EXPECT_FALSE(without_trailing_newline(as_byte_view("ab")));
  EXPECT_FALSE(without_trailing_newline(as_byte_view("")));
}

}  // namespace
}  // namespace cachekit::cli
