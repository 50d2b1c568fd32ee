// The CLI's own pieces: BLAKE3 (for cachekit-py's key registry names), the registry name and
// invalidation event, bench percentiles, and the trailing-newline rule of `decode`.
#include "bench_command.hpp"
#include "blake3_digest.hpp"
#include "cli_io.hpp"
#include "key_registry.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cachekit::cli {
namespace {

std::string counting_bytes(std::size_t n) {  // the BLAKE3 test vectors' input: i mod 251
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<char>(i % 251);
  return s;
}

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

TEST(cli_blake3, matches_the_reference_for_one_block_one_chunk_and_a_tree) {
  EXPECT_EQ(blake3_hex("", 32), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
  EXPECT_EQ(blake3_hex("abc", 32),
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85");
  EXPECT_EQ(blake3_hex(counting_bytes(1025), 32),
            "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444");
  EXPECT_EQ(blake3_hex(counting_bytes(3072), 32),
            "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2");
  EXPECT_EQ(blake3_hex("", 8), "af1349b9f5f9a1a6");
}

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
