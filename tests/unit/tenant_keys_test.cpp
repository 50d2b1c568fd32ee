#include <gtest/gtest.h>

#include <cachekit/encryption.hpp>

#include "unit/encryption_vectors.hpp"

#include <string>

namespace cachekit {
namespace {

using test::bytes_from_hex;

TEST(tenant_keys, encryption_key_fingerprint_matches_the_cross_sdk_vector) {
  const byte_buffer master = bytes_from_hex(test::vector_master_key_hex);
  auto keys = derive_tenant_keys(master, test::vector_tenant);
  ASSERT_TRUE(keys) << keys.error().message();
  EXPECT_EQ(key_fingerprint(keys->encryption.view()), test::vector_fingerprint);
}

TEST(tenant_keys, fingerprint_matches_the_shared_vector_file) {
  auto vectors = test::load_interop_vectors();
  if (!vectors) GTEST_SKIP() << "interop-mode.json not found under " CACHEKIT_SHARED_VECTORS_DIR;
  for (const auto& v : vectors->at("encryption_vectors")) {
    const byte_buffer master = bytes_from_hex(v.at("master_key_hex").get<std::string>());
    auto keys = derive_tenant_keys(master, v.at("tenant_id").get<std::string>());
    ASSERT_TRUE(keys);
    EXPECT_EQ(key_fingerprint(keys->encryption.view()),
              v.at("derived_key_fingerprint_hex").get<std::string>())
        << v.at("name");
  }
}

TEST(tenant_keys, are_the_three_domain_keys) {
  const byte_buffer master(32, std::byte{0x61});
  auto keys = derive_tenant_keys(master, "tenant-a");
  ASSERT_TRUE(keys);
  for (auto [domain, key] : {std::pair{"encryption", keys->encryption.view()},
                             std::pair{"authentication", keys->authentication.view()},
                             std::pair{"cache_keys", keys->cache_keys.view()}}) {
    auto expected = derive_domain_key(master, domain, as_byte_view("tenant-a"));
    ASSERT_TRUE(expected);
    EXPECT_TRUE(expected->equals(key)) << domain;
    EXPECT_EQ(key.size(), 32u);
  }
  EXPECT_FALSE(keys->encryption.equals(keys->authentication.view()));
  EXPECT_FALSE(keys->encryption.equals(keys->cache_keys.view()));
}

TEST(tenant_keys, differ_per_tenant_and_repeat_per_tenant) {
  const byte_buffer master(32, std::byte{0x61});
  auto a1 = derive_tenant_keys(master, "tenant-a");
  auto a2 = derive_tenant_keys(master, "tenant-a");
  auto b = derive_tenant_keys(master, "tenant-b");
  ASSERT_TRUE(a1 && a2 && b);
  EXPECT_TRUE(a1->encryption.equals(a2->encryption.view()));
  EXPECT_FALSE(a1->encryption.equals(b->encryption.view()));
}

TEST(tenant_keys, reject_an_empty_tenant_and_a_short_master_key) {
  EXPECT_EQ(derive_tenant_keys(byte_buffer(32, std::byte{1}), "").code(), errc::invalid_argument);
  EXPECT_EQ(derive_tenant_keys(byte_buffer(16, std::byte{1}), "t").code(),
            errc::invalid_master_key);
}

// Expected values: python3 -c "import hashlib; print(hashlib.sha256(b'key_fingerprint_v1' + key)
// .hexdigest()[:32])".
TEST(key_fingerprint, is_32_lowercase_hex_of_labelled_sha256) {
  EXPECT_EQ(key_fingerprint({}), "a02802b037dc79af0654520ff40947aa");
  EXPECT_EQ(key_fingerprint(byte_buffer(32, std::byte{1})), "94c57bacd12088cfcbdf6a455ca4aab1");
}

}  // namespace
}  // namespace cachekit
