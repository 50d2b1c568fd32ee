// The shared ByteStorage envelope vectors, next/wire-format.json (fixture version 1.4.0): 9
// legacy int-array envelopes (6 from cachekit-core 0.2.0, 3 width boundaries) and their 9 bin
// twins; 4 constructed envelopes too large to pin as hex (bin16/bin32/array32 boundaries and a
// compressed size whose 1000x product overflows 32 bits); 14 reject vectors, each with the
// Retrieve Flow step that must refuse it; 2 envelopes whose payload the decode bounds refuse;
// 3 temporal sentinel payloads. The old wire-format.json's 12 vectors are among the 18 here.
#include <cachekit/codec.hpp>
#include <cachekit/envelope.hpp>
#include <cachekit/value_codec.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conformance/vector_file.hpp"
#include "protocol/msgpack_bounds.hpp"

// The largest single allocation this thread asks for while a watch is set: the reject vectors
// require that refusing a lying envelope never allocates for its declared original_size
// (spec/wire-format.md, reject vectors). Replacing the global operator new affects this whole
// test binary; it only forwards to malloc.
namespace {
thread_local std::size_t* largest_allocation = nullptr;
}  // namespace

void* operator new(std::size_t n) {
  if (largest_allocation != nullptr && n > *largest_allocation) *largest_allocation = n;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace cachekit {
namespace {

// Records the largest allocation made on this thread during its lifetime.
class allocation_watch {
 public:
  allocation_watch() { largest_allocation = &largest_; }
  ~allocation_watch() { largest_allocation = nullptr; }
  allocation_watch(const allocation_watch&) = delete;
  allocation_watch& operator=(const allocation_watch&) = delete;
  [[nodiscard]] std::size_t largest() const noexcept { return largest_; }

 private:
  std::size_t largest_ = 0;
};

std::filesystem::path vectors_file() {
  return test::vector_path("next/wire-format.json");
}

std::optional<nlohmann::json> load() {
  return test::load_vector_file<nlohmann::json>("next/wire-format.json");
}

byte_buffer hex(const std::string& h) {
  return test::hex_bytes(h);
}

// A constructed vector's list of {hex, count} segments, each repeated and concatenated.
byte_buffer construct(const nlohmann::json& segments) {
  byte_buffer out;
  for (const auto& segment : segments) {
    const byte_buffer piece = hex(segment.at("hex").get<std::string>());
    for (std::size_t i = 0; i < segment.at("count").get<std::size_t>(); ++i) {
      out.insert(out.end(), piece.begin(), piece.end());
    }
  }
  return out;
}

bool lz4_encoders_differ(const std::string& name) {
  return name == "large_compressible" || name == "large_compressible_bin";
}

bool is_bin(const nlohmann::json& v) {
  return v.contains("envelope_encoding") && v["envelope_encoding"] == "bin";
}

TEST(wire_format_vectors, limits_match_the_fixture) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  EXPECT_EQ((*doc)["version"], "1.4.0");
  EXPECT_EQ((*doc)["limits"]["max_uncompressed_size"].get<std::size_t>(),
            envelope::max_uncompressed_size);
  EXPECT_EQ((*doc)["limits"]["max_compressed_size"].get<std::size_t>(),
            envelope::max_compressed_size);
  EXPECT_EQ((*doc)["limits"]["max_compression_ratio"].get<std::uint64_t>(),
            envelope::max_compression_ratio);
}

TEST(wire_format_vectors, every_vector_decodes_to_its_input) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["vectors"];
  ASSERT_EQ(vectors.size(), 18u);
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
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  std::set<std::string> byte_equal;
  for (const auto& v : (*doc)["vectors"]) {
    const auto name = v["name"].get<std::string>();
    SCOPED_TRACE(name);
    const envelope::encode_options options{
        .encoding = is_bin(v) ? envelope::payload_encoding::bin
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
  EXPECT_EQ(byte_equal.size(), 16u);
}

TEST(wire_format_vectors, every_constructed_envelope_decodes_to_its_constructed_input) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["constructed_vectors"];
  ASSERT_EQ(vectors.size(), 4u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const byte_buffer env = construct(v["envelope_construction"]);
    const byte_buffer input = construct(v["input_construction"]);
    ASSERT_EQ(env.size(), v["envelope_size"].get<std::size_t>());
    ASSERT_EQ(input.size(), v["original_size"].get<std::size_t>());
    EXPECT_EQ(checksum_xxh3(input), std::stoull(v["checksum_hex"].get<std::string>(), nullptr, 16));
    auto back = envelope::decode(env);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_TRUE(back->data == input);
    EXPECT_EQ(back->format, v["format"].get<std::string>());
  }
}

// The errors a reject vector may end in, from the Retrieve Flow step (spec/wire-format.md) the
// vector names and, at step 2, the check it names.
std::set<errc> errors_of_step(const nlohmann::json& v) {
  const int step = v["reject_step"].get<int>();
  const std::string check = v.value("reject_check", "");
  switch (step) {
    case 2:
      // The pre-scan's own error for decode_bounds; a typed-decode error otherwise.
      if (check == "decode_bounds") return {errc::length_limit};
      return {errc::malformed, errc::truncated, errc::trailing_bytes};
    case 4:
      // The size cap, or a range-checked decode of original_size into its uint32 at step 2
      // (the vector allows either; never a length or checksum error).
      return {errc::input_too_large, errc::malformed};
    case 5: return {errc::decompression_bomb};  // ratio bound, and the empty block
    case 6: return {errc::decompression_failed, errc::size_mismatch};  // or step 9's length check
    case 8: return {errc::checksum_mismatch};
    default: ADD_FAILURE() << "a reject step this test does not know: " << step; return {};
  }
}

TEST(wire_format_vectors, every_reject_vector_is_refused_at_its_step) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["reject_vectors"];
  ASSERT_EQ(vectors.size(), 14u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const byte_buffer env = hex(v["envelope_hex"].get<std::string>());
    ASSERT_EQ(env.size(), v["envelope_size"].get<std::size_t>());
    std::size_t largest = 0;
    const auto back = [&] {
      const allocation_watch watch;
      auto r = envelope::decode(env);
      largest = watch.largest();
      return r;
    }();
    ASSERT_FALSE(back) << "accepted " << back->data.size() << " bytes";
    // Refused without allocating for what it claims (a length mismatch may decode first). The
    // error message alone allocates, so a watch that saw nothing would be watching nothing.
    EXPECT_GT(largest, 0U);
    EXPECT_LT(largest, std::max<std::uint64_t>(v["original_size"].get<std::uint64_t>(), 4096))
        << "allocated " << largest << " bytes";
    const auto allowed = errors_of_step(v);
    EXPECT_TRUE(allowed.contains(static_cast<errc>(back.code().value())))
        << "step " << v["reject_step"] << ": " << back.error().message();
    EXPECT_EQ(back.code(), errc_group::corrupt_data);
  }
}

TEST(wire_format_vectors,
     an_accepted_envelope_whose_payload_overclaims_is_refused_by_the_pre_scan) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["payload_reject_vectors"];
  ASSERT_EQ(vectors.size(), 2u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const byte_buffer env = hex(v["envelope_hex"].get<std::string>());
    ASSERT_EQ(env.size(), v["envelope_size"].get<std::size_t>());
    const auto back = envelope::decode(env);
    ASSERT_TRUE(back) << back.error().message();
    ASSERT_EQ(to_hex(back->data), v["input_hex"].get<std::string>());
    // The read path's next step: the payload's decode, dynamic or typed, refuses it with the
    // pre-scan's error before materialising anything.
    const auto bounds = detail::check_msgpack_bounds(back->data, 1024);
    ASSERT_FALSE(bounds);
    EXPECT_EQ(bounds.error().code, make_error_code(errc::length_limit));
    const auto dynamic = decode_standard_value(back->data);
    ASSERT_FALSE(dynamic);
    EXPECT_EQ(dynamic.code(), errc::length_limit) << dynamic.error().message();
    const auto interop = decode_interop_value(back->data);
    ASSERT_FALSE(interop);
    EXPECT_EQ(interop.code(), errc::length_limit) << interop.error().message();
    const auto typed = codec<std::vector<std::vector<int>>>::decode(back->data);
    ASSERT_FALSE(typed);
    EXPECT_EQ(typed.code(), errc::length_limit) << typed.error().message();
  }
}

TEST(wire_format_vectors, temporal_sentinel_payloads_revive_as_temporal_values) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["temporal_sentinel_vectors"];
  ASSERT_EQ(vectors.size(), 3u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const auto revived = decode_standard_value(hex(v["payload_hex"].get<std::string>()));
    ASSERT_TRUE(revived) << revived.error().message();
    const std::string type = v["revives_to"]["type"].get<std::string>();
    const std::string iso = v["revives_to"]["iso"].get<std::string>();
    if (type == "datetime") {
      const auto* t = revived->get_if<datetime>();
      ASSERT_NE(t, nullptr) << "not revived";
      EXPECT_EQ(t->to_isoformat(), iso);
      EXPECT_EQ(*t, datetime::parse_isoformat(iso).value());
    } else if (type == "date") {
      const auto* d = revived->get_if<date>();
      ASSERT_NE(d, nullptr) << "not revived";
      EXPECT_EQ(d->to_isoformat(), iso);
    } else if (type == "time") {
      const auto* t = revived->get_if<time_of_day>();
      ASSERT_NE(t, nullptr) << "not revived";
      EXPECT_EQ(t->to_isoformat(), iso);
    } else {
      ADD_FAILURE() << "a temporal type this test does not know: " << type;
    }
  }
}

}  // namespace
}  // namespace cachekit
