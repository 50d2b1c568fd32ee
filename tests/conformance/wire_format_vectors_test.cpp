// The shared ByteStorage envelope vectors (wire-format.json, fixture version 1.1.0): 6 legacy
// int-array envelopes from cachekit-core 0.2.0 and their 6 bin twins. Every one decodes to its
// input; re-encoding is byte-equal except `large_compressible` and its twin, where liblz4 and
// lz4_flex emit different (both valid) LZ4 blocks.
#include <cachekit/envelope.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>

namespace cachekit {
namespace {

std::filesystem::path vectors_dir() {
  return CACHEKIT_SHARED_VECTORS_DIR;
}

std::optional<nlohmann::json> load() {
  std::ifstream in(vectors_dir() / "wire-format.json");
  if (!in) return std::nullopt;
  return nlohmann::json::parse(in);
}

byte_buffer hex(const std::string& h) {
  byte_buffer out;
  EXPECT_TRUE(from_hex(h, out)) << h;
  return out;
}

bool lz4_encoders_differ(const std::string& name) {
  return name == "large_compressible" || name == "large_compressible_bin";
}

TEST(wire_format_vectors, limits_match_the_fixture) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_dir();
  EXPECT_EQ((*doc)["limits"]["max_uncompressed_size"].get<std::size_t>(),
            envelope::max_uncompressed_size);
  EXPECT_EQ((*doc)["limits"]["max_compressed_size"].get<std::size_t>(),
            envelope::max_compressed_size);
  EXPECT_EQ((*doc)["limits"]["max_compression_ratio"].get<std::uint64_t>(),
            envelope::max_compression_ratio);
}

TEST(wire_format_vectors, every_vector_decodes_to_its_input) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_dir();
  const auto& vectors = (*doc)["vectors"];
  ASSERT_EQ(vectors.size(), 12u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const byte_buffer env = hex(v["envelope_hex"].get<std::string>());
    ASSERT_EQ(env.size(), v["envelope_size"].get<std::size_t>());
    auto back = envelope::decode(env);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(to_hex(back->data), v["input_hex"].get<std::string>());
    EXPECT_EQ(back->data.size(), v["input_size"].get<std::size_t>());
    EXPECT_EQ(back->format, v["format"].get<std::string>());
  }
}

TEST(wire_format_vectors, re_encoding_is_byte_equal_where_liblz4_agrees_with_lz4_flex) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_dir();
  std::set<std::string> byte_equal;
  for (const auto& v : (*doc)["vectors"]) {
    const auto name = v["name"].get<std::string>();
    SCOPED_TRACE(name);
    const bool bin = v.contains("envelope_encoding") && v["envelope_encoding"] == "bin";
    const envelope::encode_options options{.encoding =
                                               bin ? envelope::payload_encoding::bin
                                                   : envelope::payload_encoding::legacy_int_array};
    auto env = envelope::encode(hex(v["input_hex"].get<std::string>()),
                                v["format"].get<std::string>(), options);
    ASSERT_TRUE(env) << env.error().message();
    if (lz4_encoders_differ(name)) {
      // A different block, but a valid envelope of the same input.
      EXPECT_NE(to_hex(*env), v["envelope_hex"].get<std::string>());
      auto back = envelope::decode(*env);
      ASSERT_TRUE(back) << back.error().message();
      EXPECT_EQ(to_hex(back->data), v["input_hex"].get<std::string>());
      continue;
    }
    EXPECT_EQ(to_hex(*env), v["envelope_hex"].get<std::string>());
    byte_equal.insert(name);
  }
  EXPECT_EQ(byte_equal.size(), 10u);
}

}  // namespace
}  // namespace cachekit
