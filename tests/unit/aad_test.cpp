#include <gtest/gtest.h>

#include <cachekit/encryption.hpp>

#include "unit/encryption_vectors.hpp"

#include <string>

namespace cachekit {
namespace {

TEST(encode_aad, interop_four_components_match_the_cross_sdk_vector) {
  const byte_buffer aad =
      encode_aad({.tenant_id = test::vector_tenant, .cache_key = test::vector_cache_key});
  EXPECT_EQ(to_hex(aad), test::vector_aad_hex);
}

TEST(encode_aad, matches_every_aad_vector_in_the_shared_file) {
  auto vectors = test::load_interop_vectors();
  if (!vectors) GTEST_SKIP() << "interop-mode.json not found under " CACHEKIT_SHARED_VECTORS_DIR;
  for (const char* section : {"aad_vectors", "encryption_vectors"}) {
    for (const auto& v : vectors->at(section)) {
      const auto tenant = v.at("tenant_id").get<std::string>();
      const auto key = v.at("cache_key").get<std::string>();
      const auto format = v.at("format").get<std::string>();
      aad_fields fields{.tenant_id = tenant,
                        .cache_key = key,
                        .format = format,
                        .compressed = v.at("compressed").get<bool>()};
      std::string original_type;
      if (v.contains("original_type")) {
        original_type = v.at("original_type").get<std::string>();
        fields.original_type = original_type;
      }
      EXPECT_EQ(to_hex(encode_aad(fields)), v.at("aad_hex").get<std::string>()) << v.at("name");
    }
  }
}

TEST(encode_aad, frame_mode_binds_five_components_with_python_true) {
  const byte_buffer aad = encode_aad({.tenant_id = "t",
                                      .cache_key = "k",
                                      .format = "msgpack",
                                      .compressed = true,
                                      .original_type = "msgpack"});
  EXPECT_EQ(to_hex(aad),
            "03"
            "00000001"
            "74"  // "t"
            "00000001"
            "6b"  // "k"
            "00000007"
            "6d73677061636b"  // "msgpack"
            "00000004"
            "54727565"  // "True"
            "00000007"
            "6d73677061636b");  // "msgpack"
}

TEST(encode_aad, empty_components_are_zero_length_not_omitted) {
  const byte_buffer aad = encode_aad({.tenant_id = "", .cache_key = "", .format = ""});
  EXPECT_EQ(to_hex(aad),
            "03"
            "00000000"
            "00000000"
            "00000000"
            "00000005"
            "46616c7365");
}

TEST(encode_aad, empty_original_type_is_omitted_like_cachekit_py) {
  EXPECT_EQ(encode_aad({.tenant_id = "t", .cache_key = "k", .original_type = ""}),
            encode_aad({.tenant_id = "t", .cache_key = "k"}));
}

TEST(encode_aad, length_prefixes_keep_field_boundaries_apart) {
  EXPECT_NE(encode_aad({.tenant_id = "ab", .cache_key = "c"}),
            encode_aad({.tenant_id = "a", .cache_key = "bc"}));
}

}  // namespace
}  // namespace cachekit
