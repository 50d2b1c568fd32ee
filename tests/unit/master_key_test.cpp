#include <gtest/gtest.h>

#include <cachekit/encryption.hpp>

#include <string>

namespace cachekit {
namespace {

constexpr std::string_view fix = "generate one with: openssl rand -hex 32";

TEST(parse_master_key, decodes_either_case_to_the_same_bytes) {
  const std::string lower = "00ff" + std::string(60, 'a');
  const std::string upper = "00FF" + std::string(60, 'A');
  auto a = parse_master_key(lower);
  auto b = parse_master_key(upper);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 32u);
  EXPECT_EQ(to_hex(a->view()), lower);
  EXPECT_TRUE(a->equals(b->view()));
}

TEST(parse_master_key, accepts_keys_longer_than_32_bytes) {
  auto key = parse_master_key(std::string(128, '7'));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->size(), 64u);
}

TEST(parse_master_key, rejects_an_empty_key_with_the_fix) {
  auto key = parse_master_key("");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.code(), errc::invalid_master_key);
  EXPECT_EQ(key.error().detail, "the master key is empty; " + std::string(fix));
}

TEST(parse_master_key, rejects_an_odd_length) {
  auto key = parse_master_key(std::string(63, 'a'));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.code(), errc::invalid_master_key);
  EXPECT_EQ(key.error().detail,
            "the master key has an odd number of hex characters (63); " + std::string(fix));
}

TEST(parse_master_key, rejects_non_hex_naming_the_position_but_not_the_character) {
  const std::string secretish = std::string(40, '5') + "z" + std::string(23, '5');
  auto key = parse_master_key(secretish);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.code(), errc::invalid_master_key);
  EXPECT_EQ(
      key.error().detail,
      "the master key is not hex: character 41 of 64 is not 0-9, a-f or A-F; " + std::string(fix));
  EXPECT_EQ(key.error().detail.find("55555"), std::string::npos);
}

TEST(parse_master_key, rejects_keys_under_32_bytes_with_the_fix) {
  auto key = parse_master_key(std::string(62, 'a'));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.code(), errc::invalid_master_key);
  EXPECT_EQ(key.error().detail,
            "the master key is 31 bytes; at least 32 bytes (64 hex characters) are required; " +
                std::string(fix));
}

}  // namespace
}  // namespace cachekit
