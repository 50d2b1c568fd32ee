// The protocol's decode-bounds vectors (decode-bounds.json, fixture version 1.2.0): every decoder
// of untrusted MessagePack (the dynamic value decoders of both profiles, typed decoding through
// msgpack-cxx, and the bounds pre-check itself) refuses the 19 reject vectors with an error and
// accepts the 3 accept vectors. The reject vectors are amplifiers: a few KB that ask an eager
// decoder for hundreds of MB.
#include <cachekit/codec.hpp>
#include <cachekit/value_codec.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "protocol/msgpack_bounds.hpp"

namespace cachekit {
namespace {

struct bounds_vector {
  std::string name;
  byte_buffer input;
  std::size_t nesting_depth = 0;
  std::vector<std::string> reject_reasons;  // empty for accept vectors

  bool rejected_for(std::string_view reason) const {
    return std::find(reject_reasons.begin(), reject_reasons.end(), reason) != reject_reasons.end();
  }
};

byte_buffer build(const nlohmann::json& construction) {
  byte_buffer repeat;
  byte_buffer suffix;
  EXPECT_TRUE(from_hex(construction.at("repeat_hex").get<std::string>(), repeat));
  EXPECT_TRUE(from_hex(construction.at("suffix_hex").get<std::string>(), suffix));
  byte_buffer out;
  for (int i = 0; i < construction.at("count").get<int>(); ++i) {
    out.insert(out.end(), repeat.begin(), repeat.end());
  }
  out.insert(out.end(), suffix.begin(), suffix.end());
  return out;
}

std::filesystem::path vectors_file() {
  return std::filesystem::path(CACHEKIT_SHARED_VECTORS_DIR) / "decode-bounds.json";
}

std::vector<bounds_vector> load(const char* group) {
  std::ifstream in(vectors_file());
  const auto doc = nlohmann::json::parse(in);
  std::vector<bounds_vector> out;
  for (const auto& v : doc.at(group)) {
    bounds_vector b{v.at("name").get<std::string>(), build(v.at("construction")),
                    v.at("nesting_depth").get<std::size_t>(),
                    v.value("reject_reasons", std::vector<std::string>{})};
    EXPECT_EQ(b.input.size(), v.at("input_len").get<std::size_t>()) << b.name;
    EXPECT_EQ(to_hex(b.input), v.at("input_hex").get<std::string>()) << b.name;
    out.push_back(std::move(b));
  }
  return out;
}

// Typed decoding as the cache does it: msgpack-cxx over the bounded unpack.
bool typed_unpack_accepts(byte_view input) {
  try {
    const detail::unpacked_document document(input);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

TEST(decode_bounds_vectors, every_reject_vector_is_refused_by_every_decoder) {
  if (!std::filesystem::exists(vectors_file()))
    GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto vectors = load("reject_vectors");
  EXPECT_EQ(vectors.size(), 19U);
  for (const auto& v : vectors) {
    EXPECT_FALSE(detail::check_msgpack_bounds(v.input, 1024)) << v.name;
    EXPECT_FALSE(decode_standard_value(v.input)) << v.name;
    EXPECT_FALSE(decode_interop_value(v.input)) << v.name;
    EXPECT_FALSE(typed_unpack_accepts(v.input)) << v.name;
    EXPECT_FALSE(codec<std::vector<std::vector<int>>>::decode(v.input)) << v.name;
  }
}

TEST(decode_bounds_vectors, every_accept_vector_is_accepted) {
  if (!std::filesystem::exists(vectors_file()))
    GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto vectors = load("accept_vectors");
  EXPECT_EQ(vectors.size(), 3U);
  for (const auto& v : vectors) {
    EXPECT_TRUE(detail::check_msgpack_bounds(v.input, 1024)) << v.name;
    EXPECT_TRUE(detail::check_msgpack_bounds(v.input, 32)) << v.name;
    EXPECT_TRUE(decode_standard_value(v.input)) << v.name;
    EXPECT_TRUE(typed_unpack_accepts(v.input)) << v.name;
  }
}

// Each reject vector fails the rule its reasons name, in the pre-scan, before anything is
// materialised: 'depth' vectors pass once the bound admits their depth (unless they overclaim
// too), 'overclaim' ones fail whatever the depth bound, 'incomplete' ones end early.
TEST(decode_bounds_vectors, each_reject_vector_fails_the_rule_it_breaks) {
  if (!std::filesystem::exists(vectors_file()))
    GTEST_SKIP() << "no shared vectors at " << vectors_file();
  for (const auto& v : load("reject_vectors")) {
    SCOPED_TRACE(v.name);
    ASSERT_FALSE(v.reject_reasons.empty());
    const auto at_1024 = detail::check_msgpack_bounds(v.input, 1024);
    ASSERT_FALSE(at_1024);
    const auto unbounded_depth = detail::check_msgpack_bounds(v.input, SIZE_MAX);
    if (v.rejected_for("overclaim")) {
      EXPECT_EQ(at_1024.error().code, make_error_code(errc::length_limit));
      ASSERT_FALSE(unbounded_depth);
      EXPECT_EQ(unbounded_depth.error().code, make_error_code(errc::length_limit));
    } else if (v.rejected_for("depth")) {
      EXPECT_GT(v.nesting_depth, 1024U);
      EXPECT_EQ(at_1024.error().code, make_error_code(errc::length_limit));
      EXPECT_TRUE(detail::check_msgpack_bounds(v.input, v.nesting_depth));
    } else {
      ASSERT_TRUE(v.rejected_for("incomplete"));
      EXPECT_EQ(at_1024.error().code, make_error_code(errc::truncated));
    }
    // The dynamic decoders check the same budget as they go (each header against the input
    // still unread, less what open containers still owe) and refuse before reserving.
    for (const auto& dynamic : {decode_standard_value(v.input), decode_interop_value(v.input)}) {
      ASSERT_FALSE(dynamic);
      EXPECT_TRUE(dynamic.code() == errc::length_limit || dynamic.code() == errc::truncated)
          << dynamic.error().message();
    }
  }
}

TEST(decode_bounds_vectors, each_accept_vector_needs_exactly_its_nesting_depth) {
  if (!std::filesystem::exists(vectors_file()))
    GTEST_SKIP() << "no shared vectors at " << vectors_file();
  for (const auto& v : load("accept_vectors")) {
    SCOPED_TRACE(v.name);
    EXPECT_TRUE(detail::check_msgpack_bounds(v.input, v.nesting_depth));
    const auto shallower = detail::check_msgpack_bounds(v.input, v.nesting_depth - 1);
    ASSERT_FALSE(shallower);
    EXPECT_EQ(shallower.error().code, make_error_code(errc::length_limit));
  }
}

TEST(decode_bounds, depth_limit_is_exact) {
  byte_buffer nested(32, std::byte{0x91});
  nested.push_back(std::byte{0xc0});
  EXPECT_TRUE(detail::check_msgpack_bounds(nested, 32));
  const auto deeper = detail::check_msgpack_bounds(nested, 31);
  ASSERT_FALSE(deeper);
  EXPECT_EQ(deeper.error().code, make_error_code(errc::length_limit));
}

TEST(decode_bounds, scalars_strings_and_ext_are_walked_exactly) {
  // [1, -1, 1.5, "ab", bin "x", fixext1, {"k": nil}, uint64]
  byte_buffer doc;
  ASSERT_TRUE(
      from_hex("9801ffcb3ff8000000000000a26162c40178d4010781a16bc0cf0000000000000001", doc));
  EXPECT_TRUE(detail::check_msgpack_bounds(doc, 1024));
  doc.push_back(std::byte{0});
  EXPECT_EQ(detail::check_msgpack_bounds(doc, 1024).error().code,
            make_error_code(errc::trailing_bytes));
  doc.resize(doc.size() - 2);
  EXPECT_EQ(detail::check_msgpack_bounds(doc, 1024).error().code, make_error_code(errc::truncated));
}

}  // namespace
}  // namespace cachekit
