#include <gtest/gtest.h>

#include <cachekit/encryption.hpp>

#include "protocol/crypto/master_key.hpp"

#include <openssl/rand.h>

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

bool looks_random(std::string_view hex) {
  return detail::check_looks_random(parse_master_key(hex).value().view(), "k").has_value();
}

TEST(check_looks_random, refuses_repeated_bytes_patterns_and_counting_sequences) {
  EXPECT_FALSE(looks_random(std::string(64, '1')));  // 0x11 * 32
  EXPECT_FALSE(looks_random(std::string(64, 'a')));  // 0xaa * 32
  std::string sixty_one;
  for (int i = 0; i < 32; ++i) sixty_one += "61";  // the vectors' 'a' * 32 as bytes
  EXPECT_FALSE(looks_random(sixty_one));
  EXPECT_FALSE(looks_random(std::string(32, '0') + std::string(32, 'f')));  // 2 distinct bytes
  // A 16-byte random-looking half, twice: 16 distinct values, caught as a repetition.
  const std::string half = "8f3a91c40b7de265f1a8039c4e7b2d56";
  EXPECT_FALSE(looks_random(half + half));
  EXPECT_FALSE(looks_random("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"));
  EXPECT_FALSE(looks_random("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0"));
  EXPECT_FALSE(looks_random(std::string(128, '7')));  // long keys too
  const auto refused = detail::check_looks_random(parse_master_key(std::string(64, '1'))->view(),
                                                  "CACHEKIT_MASTER_KEY");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.code(), errc::invalid_master_key);
  EXPECT_EQ(refused.error().detail,
            "CACHEKIT_MASTER_KEY is not random (one byte or a short pattern repeated, or a "
            "counting sequence): anyone can guess it; use a random key; " +
                std::string(fix));
}

TEST(check_looks_random, accepts_the_vectors_spread_key_and_random_keys) {
  // encryption.json master_key_input's accept row: 32 distinct bytes.
  EXPECT_TRUE(looks_random("007f80ffa55ac33c1ee12dd24bb469968778f00f01102332455467768998abba"));
  // What openssl rand -hex 32 gives: none of 20000 is refused (each would be with p < 2^-83).
  for (int i = 0; i < 20000; ++i) {
    unsigned char key[32];
    ASSERT_EQ(RAND_bytes(key, sizeof key), 1);
    const byte_view view(reinterpret_cast<const std::byte*>(key), sizeof key);
    ASSERT_TRUE(detail::check_looks_random(view, "k")) << to_hex(view);
  }
}

TEST(keyring, still_loads_patterned_keys_for_the_protocol_vectors) {
  // The keyring is protocol level: the shared vectors seal under 0x61 * 32 and rotate through
  // 0x11 * 32. What refuses such keys is the cache, from_env and the CLI.
  EXPECT_TRUE(keyring::from_hex(std::string(64, 'a')));
  const keyring ring = keyring::from_hex(std::string(64, '1')).value();
  EXPECT_FALSE(detail::keyring_access::check_sealing_key(ring, "k"));
}

TEST(keyring, generates_random_master_keys_a_cache_accepts) {
  const std::string first = keyring::generate_master_key_hex();
  const std::string second = keyring::generate_master_key_hex();
  EXPECT_EQ(first.size(), 64u);
  EXPECT_NE(first, second);
  const keyring ring = keyring::from_hex(first).value();
  EXPECT_TRUE(detail::keyring_access::check_sealing_key(ring, "generated"));
}

}  // namespace
}  // namespace cachekit
