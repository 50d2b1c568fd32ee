#include "protocol/crypto/hkdf.hpp"

#include <gtest/gtest.h>

#include <cachekit/encryption.hpp>

#include "unit/encryption_vectors.hpp"

#include <string>

namespace cachekit {
namespace {

using test::bytes_from_hex;

std::string hkdf_hex(byte_view ikm, byte_view salt, byte_view info, std::size_t length) {
  byte_buffer out(length);
  EXPECT_TRUE(detail::hkdf_sha256(ikm, salt, info, out));
  return to_hex(out);
}

TEST(hkdf, rfc5869_test_case_1) {
  const byte_buffer ikm = bytes_from_hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  const byte_buffer salt = bytes_from_hex("000102030405060708090a0b0c");
  const byte_buffer info = bytes_from_hex("f0f1f2f3f4f5f6f7f8f9");
  EXPECT_EQ(hkdf_hex(ikm, salt, info, 42),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(hkdf, rfc5869_test_case_3_empty_salt_and_info) {
  const byte_buffer ikm = bytes_from_hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  EXPECT_EQ(hkdf_hex(ikm, {}, {}, 42),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(hkdf, output_is_a_prefix_of_a_longer_output) {
  const byte_buffer ikm(32, std::byte{0x61});
  const std::string long_hex = hkdf_hex(ikm, as_byte_view("salt"), as_byte_view("info"), 100);
  EXPECT_EQ(hkdf_hex(ikm, as_byte_view("salt"), as_byte_view("info"), 32), long_hex.substr(0, 64));
}

TEST(hkdf, rejects_empty_and_oversized_outputs_and_zeroes_them) {
  const byte_buffer ikm(32, std::byte{0x61});
  byte_buffer empty;
  EXPECT_FALSE(detail::hkdf_sha256(ikm, {}, {}, empty));
  byte_buffer too_long(detail::hkdf_sha256_max_output + 1, std::byte{0xAA});
  EXPECT_FALSE(detail::hkdf_sha256(ikm, {}, {}, too_long));
  EXPECT_EQ(too_long, byte_buffer(too_long.size()));
  byte_buffer longest(detail::hkdf_sha256_max_output);
  EXPECT_TRUE(detail::hkdf_sha256(ikm, {}, {}, longest));
}

// The salt layout, rebuilt by hand: "cachekit_v1_" || u8 len || domain || u16be len || tenant.
TEST(derive_domain_key, is_hkdf_over_the_length_prefixed_salt_with_the_domain_as_info) {
  const byte_buffer master(32, std::byte{0x61});
  std::string salt = "cachekit_v1_";
  salt += static_cast<char>(10);
  salt += "encryption";
  salt += '\0';
  salt += static_cast<char>(14);
  salt += "cross-sdk-test";
  auto key = derive_domain_key(master, "encryption", as_byte_view("cross-sdk-test"));
  ASSERT_TRUE(key) << key.error().message();
  EXPECT_EQ(to_hex(key->view()),
            hkdf_hex(master, as_byte_view(salt), as_byte_view("encryption"), 32));
}

TEST(derive_domain_key, tenant_length_is_big_endian_u16) {
  const byte_buffer master(32, std::byte{0x61});
  const std::string tenant(300, 't');  // 0x012c: both length bytes matter
  std::string salt = "cachekit_v1_";
  salt += static_cast<char>(1);
  salt += "d";
  salt += static_cast<char>(0x01);
  salt += static_cast<char>(0x2c);
  salt += tenant;
  auto key = derive_domain_key(master, "d", as_byte_view(tenant));
  ASSERT_TRUE(key);
  EXPECT_EQ(to_hex(key->view()), hkdf_hex(master, as_byte_view(salt), as_byte_view("d"), 32));
}

TEST(derive_domain_key, accepts_the_limits_and_rejects_beyond_them) {
  const byte_buffer master(32, std::byte{0x61});
  const std::string domain_255(255, 'd');
  const std::string domain_256(256, 'd');
  const std::string tenant_1024(1024, 't');
  const std::string tenant_1025(1025, 't');
  EXPECT_TRUE(derive_domain_key(master, domain_255, as_byte_view("t")));
  EXPECT_TRUE(derive_domain_key(master, "d", as_byte_view(tenant_1024)));
  EXPECT_EQ(derive_domain_key(master, "", as_byte_view("t")).code(), errc::invalid_argument);
  EXPECT_EQ(derive_domain_key(master, domain_256, as_byte_view("t")).code(),
            errc::invalid_argument);
  EXPECT_EQ(derive_domain_key(master, "d", {}).code(), errc::invalid_argument);
  EXPECT_EQ(derive_domain_key(master, "d", as_byte_view(tenant_1025)).code(),
            errc::invalid_argument);
}

TEST(derive_domain_key, rejects_master_keys_under_32_bytes_with_the_fix) {
  const byte_buffer master(31, std::byte{0x61});
  auto key = derive_domain_key(master, "encryption", as_byte_view("t"));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.code(), errc::invalid_master_key);
  EXPECT_NE(key.error().detail.find("31 bytes"), std::string::npos);
  EXPECT_NE(key.error().detail.find("generate one with: openssl rand -hex 32"), std::string::npos);
  EXPECT_TRUE(derive_domain_key(byte_buffer(32, std::byte{0x61}), "encryption", as_byte_view("t")));
}

}  // namespace
}  // namespace cachekit
