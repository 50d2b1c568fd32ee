// The shared interop-mode vectors, next/interop-mode.json (fixture version 1.3.0): 44 keys, 6
// canonical values, 32 inputs a key generator must refuse (values, reserved namespaces, segment
// grammar), and 6 + 1 documents an interop value reader must accept or refuse. The file's one
// AAD and one encryption vector are the crypto unit tests' embedded known answers
// (tests/unit/encryption_vectors.hpp), checked against this file there.
#include <cachekit/interop_key.hpp>
#include <cachekit/value_codec.hpp>

#include <gtest/gtest.h>

#include "conformance/tagged_json_test_support.hpp"
#include "conformance/vector_file.hpp"

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace cachekit {
namespace {

std::filesystem::path vectors_file() {
  return test::vector_path("next/interop-mode.json");
}

std::optional<test::tagged_json> load() {
  return test::load_vector_file<test::tagged_json>("next/interop-mode.json");
}

byte_buffer hex(const std::string& h) {
  return test::hex_bytes(h);
}

value_array args_of(const test::tagged_json& args) {
  auto v = test::value_from_tagged(args);
  EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message());
  return v ? *v->get_if<value_array>() : value_array{};
}

TEST(interop_vectors, all_44_key_vectors_reproduce) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  EXPECT_EQ((*doc)["version"], "1.3.0");
  const auto& vectors = (*doc)["key_vectors"];
  ASSERT_EQ(vectors.size(), 44u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const value_array args = args_of(v["args"]);
    const std::string ns = v["namespace"].get<std::string>();
    const std::string op = v["operation"].get<std::string>();
    EXPECT_TRUE(validate_interop_namespace(ns));
    EXPECT_TRUE(validate_interop_operation(op));

    const auto canonical = interop_canonical_args(args);
    ASSERT_TRUE(canonical.has_value()) << canonical.error().message();
    EXPECT_EQ(to_hex(*canonical), v["canonical_args_hex"].get<std::string>());

    const auto key = interop_key(ns, op, args);
    ASSERT_TRUE(key.has_value()) << key.error().message();
    EXPECT_EQ(*key, v["expected_key"].get<std::string>());
    EXPECT_EQ(*key, ns + ":" + op + ":" + v["args_hash"].get<std::string>());
  }
}

TEST(interop_vectors, all_32_error_vectors_are_refused) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["error_vectors"];
  ASSERT_EQ(vectors.size(), 32u);
  for (const auto& v : vectors) {
    const auto name = v["name"].get<std::string>();
    SCOPED_TRACE(name);
    // A segment vector names the segments; an argument vector is keyed under valid ones.
    const bool segment_error = v.contains("namespace") || v.contains("operation");
    const std::string ns = v.contains("namespace") ? v["namespace"].get<std::string>() : "t";
    const std::string op = v.contains("operation") ? v["operation"].get<std::string>() : "op";
    auto args = test::value_from_tagged(v["args"]);
    if (!args) {
      // Integers beyond [-2^63, 2^64-1] cannot even become a `value` (it holds int64 or
      // uint64): refused before hashing, whatever their depth.
      EXPECT_TRUE(name.starts_with("reject_int_")) << name;
      EXPECT_EQ(args.code(), errc::invalid_argument);
      continue;
    }
    const auto key = interop_key(ns, op, *args->get_if<value_array>());
    ASSERT_FALSE(key.has_value()) << "accepted: " << *key;
    if (segment_error) {
      EXPECT_EQ(key.code(), errc::invalid_key) << key.error().message();
      EXPECT_FALSE(validate_interop_namespace(ns) && validate_interop_operation(op));
    } else {
      EXPECT_EQ(key.code(), errc::invalid_argument) << key.error().message();
      EXPECT_FALSE(interop_canonical_args(*args->get_if<value_array>()));
    }
  }
}

TEST(interop_vectors, all_6_value_vectors_encode_canonically_and_read_back) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["value_vectors"];
  ASSERT_EQ(vectors.size(), 6u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const auto input = test::value_from_tagged(v["value"]);
    ASSERT_TRUE(input) << input.error().message();
    const std::string expected = v["canonical_msgpack_hex"].get<std::string>();
    const auto encoded = encode_interop_value(*input);
    ASSERT_TRUE(encoded) << encoded.error().message();
    EXPECT_EQ(to_hex(*encoded), expected);
    // Read back and written again, the same bytes: sentinel maps stay maps here (their revival
    // is the temporal tests' subject); maps come back in canonical key order.
    const auto back = decode_interop_value(hex(expected), {.revive_temporal_sentinels = false});
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(to_hex(encode_interop_value(*back).value()), expected);
  }
}

TEST(interop_vectors, a_reader_accepts_all_6_non_canonical_documents) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["reader_accept_vectors"];
  ASSERT_EQ(vectors.size(), 6u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const auto back = decode_interop_value(hex(v["msgpack_hex"].get<std::string>()));
    ASSERT_TRUE(back) << back.error().message();
    if (v.contains("value")) {
      const auto expected = test::value_from_tagged(v["value"]);
      ASSERT_TRUE(expected) << expected.error().message();
      EXPECT_EQ(*back, *expected);
    } else {
      // No tagged JSON carries it (a non-string key, an ext item): the standard writer gives
      // back the same document.
      EXPECT_EQ(to_hex(encode_standard_value(*back).value()), v["msgpack_hex"].get<std::string>());
    }
  }
}

TEST(interop_vectors, a_reader_refuses_the_reject_document) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["reader_reject_vectors"];
  ASSERT_EQ(vectors.size(), 1u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const auto back = decode_interop_value(hex(v["msgpack_hex"].get<std::string>()));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.code(), errc_group::corrupt_data) << back.error().message();
  }
}

}  // namespace
}  // namespace cachekit
