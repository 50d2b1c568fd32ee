#include <gtest/gtest.h>
#include <cachekit/envelope.hpp>

#include "protocol/msgpack_writer.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using detail::msgpack_writer;

byte_buffer hex(std::string_view h) {
  byte_buffer out;
  EXPECT_TRUE(from_hex(h, out)) << h;
  return out;
}

// Realistic compressible content: repeated msgpack records with varying ids.
byte_buffer records(std::size_t size) {
  byte_buffer out;
  msgpack_writer w(out);
  for (std::uint64_t id = 0; out.size() < size; ++id) {
    w.write_map_header(4);
    w.write_str("id");
    w.write_uint(id * 7919);
    w.write_str("name");
    w.write_str("user-" + std::to_string(id % 97));
    w.write_str("email");
    w.write_str("user" + std::to_string(id) + "@example.com");
    w.write_str("active");
    w.write_bool(id % 3 != 0);
  }
  out.resize(size);
  return out;
}

// An envelope with chosen fields, written field by field.
struct fields {
  byte_buffer compressed;
  std::vector<std::uint64_t> checksum;
  std::int64_t original_size = 0;
  std::string format = "msgpack";
  bool legacy = false;
};

byte_buffer build(const fields& f) {
  byte_buffer out;
  msgpack_writer w(out);
  w.write_array_header(4);
  if (f.legacy) {
    w.write_array_header(f.compressed.size());
    for (auto b : f.compressed) w.write_uint(static_cast<std::uint8_t>(b));
  } else {
    w.write_bin(f.compressed);
  }
  w.write_array_header(f.checksum.size());
  for (auto b : f.checksum) w.write_uint(b);
  w.write_int(f.original_size);
  w.write_str(f.format);
  return out;
}

std::vector<std::uint64_t> checksum_bytes(std::uint64_t c) {
  std::vector<std::uint64_t> out;
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back((c >> shift) & 0xff);
  return out;
}

constexpr std::uint64_t xxh3_empty = 0x2d06800538d394c2;
// {"a":1} as msgpack and its envelope from cachekit-py 0.24.1 (`ByteStorage("msgpack").store`).
constexpr std::string_view a1_msgpack = "81a16101";
constexpr std::string_view a1_envelope =
    "94c4054081a1610198cc84cc8c4fcc99cce3584cccc804a76d73677061636b";

// A view of `size` readable (never read) bytes without committing memory: for the size limits.
class huge_region {
 public:
  explicit huge_region(std::size_t size) : size_(size) {
    ptr_ = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  }
  ~huge_region() {
    if (ptr_ != MAP_FAILED) munmap(ptr_, size_);
  }
  huge_region(const huge_region&) = delete;
  huge_region& operator=(const huge_region&) = delete;
  [[nodiscard]] bool ok() const { return ptr_ != MAP_FAILED; }
  [[nodiscard]] byte_view view() const { return {static_cast<const std::byte*>(ptr_), size_}; }

 private:
  std::size_t size_;
  void* ptr_;
};

// ---- checksum ---------------------------------------------------------------------------------

TEST(envelope, checksum_of_empty_input_is_the_xxh3_constant) {
  EXPECT_EQ(checksum_xxh3({}), xxh3_empty);
}

TEST(envelope, checksum_matches_the_a1_vector) {
  EXPECT_EQ(checksum_xxh3(hex(a1_msgpack)), 0x848c4f99e3584cc8u);
}

// ---- encode -----------------------------------------------------------------------------------

TEST(envelope, encodes_a1_exactly_as_cachekit_py) {
  auto env = envelope::encode(hex(a1_msgpack));
  ASSERT_TRUE(env) << env.error().message();
  EXPECT_EQ(to_hex(*env), a1_envelope);
}

TEST(envelope, encodes_empty_input_as_bin_00) {
  auto env = envelope::encode({});
  ASSERT_TRUE(env);
  EXPECT_EQ(to_hex(*env), "94c40100982d06cc800538ccd3cc94ccc200a76d73677061636b");
}

TEST(envelope, encodes_empty_input_in_the_legacy_int_array_form) {
  auto env =
      envelope::encode({}, "msgpack", {.encoding = envelope::payload_encoding::legacy_int_array});
  ASSERT_TRUE(env);
  EXPECT_EQ(to_hex(*env), "949100982d06cc800538ccd3cc94ccc200a76d73677061636b");
}

TEST(envelope, writes_inputs_under_13_bytes_as_one_literal_run) {
  for (std::size_t n = 0; n < 13; ++n) {
    byte_buffer data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::byte>(0xf0 + i);
    auto env = envelope::encode(data);
    ASSERT_TRUE(env);
    // 94 c4 <n+1> <token n<<4> <data...>
    ASSERT_GE(env->size(), 4 + n);
    EXPECT_EQ((*env)[1], std::byte{0xc4});
    EXPECT_EQ(static_cast<std::size_t>((*env)[2]), n + 1);
    EXPECT_EQ(static_cast<std::size_t>((*env)[3]), n << 4);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), env->begin() + 4));
    auto back = envelope::decode(*env);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->data, data);
  }
}

TEST(envelope, writes_the_format_string_given) {
  auto env = envelope::encode(hex("01"), "dataframe");
  ASSERT_TRUE(env);
  auto back = envelope::decode(*env);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->format, "dataframe");
  EXPECT_EQ(to_hex(*env).substr(to_hex(*env).size() - 20),
            "a9" + to_hex(as_byte_view("dataframe")));
}

TEST(envelope, encode_rejects_a_format_that_is_not_utf8) {
  auto env = envelope::encode(hex("01"), "\xff");
  ASSERT_FALSE(env);
  EXPECT_EQ(env.code(), errc::invalid_argument);
}

TEST(envelope, encode_rejects_input_above_512_mib) {
  huge_region region(envelope::max_uncompressed_size + 1);
  ASSERT_TRUE(region.ok());
  auto env = envelope::encode(region.view());
  ASSERT_FALSE(env);
  EXPECT_EQ(env.code(), errc::input_too_large);
  EXPECT_NE(env.error().detail.find("536870913"), std::string::npos) << env.error().detail;
}

TEST(envelope, encode_into_appends_after_existing_bytes) {
  byte_buffer out = hex("cafe");
  ASSERT_TRUE(envelope::encode_into(out, hex(a1_msgpack)));
  EXPECT_EQ(to_hex(out), "cafe" + std::string(a1_envelope));
}

TEST(envelope, encode_into_leaves_the_buffer_unchanged_on_failure) {
  byte_buffer out = hex("cafe");
  EXPECT_FALSE(envelope::encode_into(out, hex("00"), "\xc3"));
  EXPECT_EQ(to_hex(out), "cafe");
}

TEST(envelope, uses_bin16_when_a_large_input_compresses_below_64_kib) {
  // The bound of 64 KiB input exceeds 65535, so the block is written behind a bin32 header
  // and moved down to bin16.
  const byte_buffer data = records(64 * 1024);
  auto env = envelope::encode(data);
  ASSERT_TRUE(env);
  EXPECT_EQ((*env)[1], std::byte{0xc5});
  auto back = envelope::decode(*env);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->data, data);
}

TEST(envelope, encoded_size_bound_covers_every_size) {
  for (std::size_t n : {0u, 1u, 12u, 13u, 100u, 255u, 256u, 4096u, 65535u, 65536u, 70000u}) {
    byte_buffer data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::byte>((i * 2654435761u) >> 13);
    auto env = envelope::encode(data, "msgpack");
    ASSERT_TRUE(env);
    EXPECT_LE(env->size(), envelope::encoded_size_bound(n, "msgpack")) << n;
  }
}

TEST(envelope, output_does_not_depend_on_what_the_thread_compressed_before) {
  // The per-thread LZ4 stream is cleared before every block: a reused table changes the output.
  const byte_buffer small = records(700);
  const byte_buffer first = envelope::encode(small).value();
  ASSERT_TRUE(envelope::encode(records(200000)));
  ASSERT_TRUE(envelope::encode(records(5000)));
  EXPECT_EQ(envelope::encode(small).value(), first);
  byte_buffer other_thread;
  std::thread([&] { other_thread = envelope::encode(small).value(); }).join();
  EXPECT_EQ(other_thread, first);
}

TEST(envelope, round_trips_one_mib_of_records) {
  const byte_buffer data = records(1 << 20);
  auto env = envelope::encode(data);
  ASSERT_TRUE(env);
  EXPECT_EQ((*env)[1], std::byte{0xc6});
  EXPECT_LT(env->size(), data.size() / 2);
  auto back = envelope::decode(*env);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->data, data);
  EXPECT_EQ(back->format, "msgpack");
}

TEST(envelope, legacy_form_round_trips) {
  const byte_buffer data = records(3000);
  auto env =
      envelope::encode(data, "msgpack", {.encoding = envelope::payload_encoding::legacy_int_array});
  ASSERT_TRUE(env);
  EXPECT_EQ((*env)[1], std::byte{0xdc});
  auto back = envelope::decode(*env);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->data, data);
}

// ---- decode: accepted forms -------------------------------------------------------------------

TEST(envelope, decodes_a1) {
  auto back = envelope::decode(hex(a1_envelope));
  ASSERT_TRUE(back);
  EXPECT_EQ(to_hex(back->data), a1_msgpack);
  EXPECT_EQ(back->format, "msgpack");
}

TEST(envelope, decodes_zero_length_input) {
  auto back = envelope::decode(hex("94c40100982d06cc800538ccd3cc94ccc200a76d73677061636b"));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->data.empty());
}

TEST(envelope, accepts_wider_than_shortest_integer_and_array_forms) {
  // dc 0004 outer array, bin16 payload, checksum byte 0x84 as uint16, original_size as uint64.
  auto back = envelope::decode(hex(
      "dc0004c500054081a1610198cd0084cc8c4fcc99cce3584cccc8cf0000000000000004a76d73677061636b"));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(to_hex(back->data), a1_msgpack);
}

// ---- decode: limits, in cachekit-core's order ------------------------------------------------

// The protocol allows 1000:1, but no valid LZ4 block expands more than 255:1, so a reader refuses
// a larger claim before allocating for it (issue: a 537 KB envelope asked for 512 MiB).
TEST(envelope, rejects_ratio_above_what_lz4_can_produce) {
  auto env = build(
      {.compressed = hex("00"), .checksum = checksum_bytes(xxh3_empty), .original_size = 256});
  auto back = envelope::decode(env);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::decompression_bomb);
  EXPECT_EQ(back.error().detail,
            "original_size 256 is more than 255x the 1 compressed bytes, more than a valid LZ4 "
            "block can produce");
}

TEST(envelope, ratio_of_exactly_255_passes_the_bomb_check) {
  // "00" decompresses to nothing: the checksum of nothing matches, the size does not.
  auto env = build(
      {.compressed = hex("00"), .checksum = checksum_bytes(xxh3_empty), .original_size = 255});
  auto back = envelope::decode(env);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::size_mismatch);
  EXPECT_EQ(back.error().detail, "decompressed 0 bytes but original_size says 255");
}

TEST(envelope, lz4_at_its_best_ratio_stays_under_the_bound) {
  const byte_buffer zeros(4 << 20, std::byte{0});
  auto env = envelope::encode(zeros);
  ASSERT_TRUE(env);
  auto back = envelope::decode(*env);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->data.size(), zeros.size());
}

TEST(envelope, refuses_original_size_above_the_readers_limit_before_allocating) {
  const byte_buffer data(2000, std::byte{7});
  auto env = envelope::encode(data);
  ASSERT_TRUE(env);
  auto back = envelope::decode(*env, {.max_original_size = 1999});
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::input_too_large);
  EXPECT_TRUE(envelope::decode(*env, {.max_original_size = 2000}));
}

TEST(envelope, rejects_empty_compressed_data_as_a_bomb) {
  auto env = build({.compressed = {}, .checksum = checksum_bytes(xxh3_empty), .original_size = 0});
  auto back = envelope::decode(env);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::decompression_bomb);
}

TEST(envelope, rejects_original_size_above_512_mib_before_the_ratio) {
  auto env = build({.compressed = hex("00"),
                    .checksum = checksum_bytes(xxh3_empty),
                    .original_size = (512 << 20) + 1});
  auto back = envelope::decode(env);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::input_too_large);
  EXPECT_NE(back.error().detail.find("536870913"), std::string::npos);
}

TEST(envelope, original_size_of_exactly_512_mib_reaches_the_ratio_check) {
  auto env = build({.compressed = hex("00"),
                    .checksum = checksum_bytes(xxh3_empty),
                    .original_size = 512 << 20});
  auto back = envelope::decode(env);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::decompression_bomb);
}

TEST(envelope, rejects_an_envelope_above_512_mib_before_reading_it) {
  huge_region region(envelope::max_envelope_size + 1);
  ASSERT_TRUE(region.ok());
  auto back = envelope::decode(region.view());
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::input_too_large);
}

TEST(envelope, rejects_a_flipped_checksum_byte) {
  byte_buffer env = hex(a1_envelope);
  env[13] = std::byte{0x4e};  // checksum byte 2: 4f -> 4e
  auto back = envelope::decode(env);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::checksum_mismatch);
  EXPECT_EQ(back.error().detail,
            "checksum mismatch: stored 848c4e99e3584cc8, computed 848c4f99e3584cc8 over 4 "
            "decompressed bytes");
}

TEST(envelope, rejects_a_flipped_payload_byte_by_checksum) {
  byte_buffer env = hex(a1_envelope);
  env[7] = std::byte{0x02};  // literal 01 -> 02
  auto back = envelope::decode(env);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::checksum_mismatch);
}

TEST(envelope, rejects_original_size_larger_than_the_block) {
  auto env = build({.compressed = hex("4081a16101"),
                    .checksum = checksum_bytes(0x848c4f99e3584cc8),
                    .original_size = 5});
  auto back = envelope::decode(env);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::size_mismatch);
  EXPECT_EQ(back.error().detail, "decompressed 4 bytes but original_size says 5");
}

TEST(envelope, rejects_original_size_smaller_than_the_block) {
  auto env = build({.compressed = hex("4081a16101"),
                    .checksum = checksum_bytes(0x848c4f99e3584cc8),
                    .original_size = 3});
  auto back = envelope::decode(env);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::decompression_failed);
}

TEST(envelope, rejects_an_invalid_lz4_block) {
  auto env = build({.compressed = hex("ffffff"),
                    .checksum = checksum_bytes(0x848c4f99e3584cc8),
                    .original_size = 4});
  auto back = envelope::decode(env);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::decompression_failed);
}

// ---- decode: structure ------------------------------------------------------------------------

TEST(envelope, reports_truncation_at_every_prefix) {
  const byte_buffer bin_form = hex(a1_envelope);
  const byte_buffer legacy_form = build({.compressed = hex("4081a16101"),
                                         .checksum = checksum_bytes(0x848c4f99e3584cc8),
                                         .original_size = 4,
                                         .legacy = true});
  for (const byte_buffer* full : {&bin_form, &legacy_form}) {
    ASSERT_TRUE(envelope::decode(*full));
    for (std::size_t n = 0; n < full->size(); ++n) {
      auto back = envelope::decode(byte_view(*full).first(n));
      ASSERT_FALSE(back) << n;
      // A prefix whose declared lengths run past its end is the decode bounds' overclaim.
      EXPECT_TRUE(back.code() == errc::truncated || back.code() == errc::length_limit)
          << n << ": " << back.error().message();
    }
  }
}

TEST(envelope, rejects_a_trailing_byte) {
  byte_buffer env = hex(a1_envelope);
  env.push_back(std::byte{0});
  auto back = envelope::decode(env);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::trailing_bytes);
  EXPECT_EQ(back.error().detail, "1 bytes follow the envelope (it ends at offset 31)");
}

TEST(envelope, rejects_a_non_integer_in_the_legacy_array) {
  // [ [0x40, "x"], ... ]
  auto back = envelope::decode(hex("949240a178982d06cc800538ccd3cc94ccc201a76d73677061636b"));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
  EXPECT_NE(back.error().detail.find("compressed_data"), std::string::npos);
}

TEST(envelope, rejects_a_legacy_array_value_above_255) {
  auto back = envelope::decode(hex("949240cd0100982d06cc800538ccd3cc94ccc201a76d73677061636b"));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
  EXPECT_EQ(back.error().detail, "envelope field compressed_data[1] = 256 is not a byte (0..255)");
}

TEST(envelope, rejects_a_negative_legacy_array_value) {
  auto back = envelope::decode(hex("949240ff982d06cc800538ccd3cc94ccc201a76d73677061636b"));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
}

TEST(envelope, rejects_a_checksum_array_of_7) {
  auto checksum = checksum_bytes(0x848c4f99e3584cc8);
  checksum.pop_back();
  auto back = envelope::decode(
      build({.compressed = hex("4081a16101"), .checksum = checksum, .original_size = 4}));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
  EXPECT_EQ(back.error().detail, "envelope field checksum must be an array of 8 ints, got 7");
}

TEST(envelope, rejects_a_checksum_array_of_9) {
  auto checksum = checksum_bytes(0x848c4f99e3584cc8);
  checksum.push_back(0);
  auto back = envelope::decode(
      build({.compressed = hex("4081a16101"), .checksum = checksum, .original_size = 4}));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
}

TEST(envelope, rejects_a_checksum_written_as_bin) {
  auto back = envelope::decode(hex("94c4054081a16101c408848c4f99e3584cc804a76d73677061636b"));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
  EXPECT_EQ(back.error().detail,
            "envelope field checksum must be an array of 8 ints, got bin at offset 8");
}

TEST(envelope, rejects_a_checksum_byte_above_255) {
  auto checksum = checksum_bytes(0x848c4f99e3584cc8);
  checksum[7] = 256;
  auto back = envelope::decode(
      build({.compressed = hex("4081a16101"), .checksum = checksum, .original_size = 4}));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
}

TEST(envelope, rejects_the_map_form) {
  // The spec's map layout; cachekit-py writes the positional array.
  auto back = envelope::decode(hex("81a1610a"));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
}

TEST(envelope, rejects_arrays_of_other_lengths) {
  EXPECT_EQ(envelope::decode(hex("93c4054081a1610198cc84cc8c4fcc99cce3584cccc804")).code(),
            errc::malformed);
  EXPECT_EQ(envelope::decode(hex(std::string(a1_envelope).replace(0, 2, "95") + "c0")).code(),
            errc::malformed);
}

TEST(envelope, rejects_a_negative_original_size) {
  auto back = envelope::decode(build({.compressed = hex("4081a16101"),
                                      .checksum = checksum_bytes(0x848c4f99e3584cc8),
                                      .original_size = -4}));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
  EXPECT_EQ(back.error().detail, "envelope field original_size must be a uint32, got -4");
}

TEST(envelope, rejects_an_original_size_above_uint32) {
  auto back = envelope::decode(build({.compressed = hex("4081a16101"),
                                      .checksum = checksum_bytes(0x848c4f99e3584cc8),
                                      .original_size = std::int64_t{1} << 32}));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
}

TEST(envelope, rejects_a_format_that_is_not_a_str) {
  auto back =
      envelope::decode(hex("94c4054081a1610198cc84cc8c4fcc99cce3584cccc804c4076d73677061636b"));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
}

TEST(envelope, decode_rejects_a_format_that_is_not_utf8) {
  auto back = envelope::decode(hex("94c4054081a1610198cc84cc8c4fcc99cce3584cccc804a2ff00"));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
}

TEST(envelope, rejects_compressed_data_as_a_str) {
  auto back = envelope::decode(hex("94a140982d06cc800538ccd3cc94ccc201a76d73677061636b"));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::malformed);
  EXPECT_EQ(back.error().detail,
            "envelope field compressed_data must be bin or an array of ints, got str at offset 1");
}

TEST(envelope, rejects_an_empty_input_as_truncated) {
  auto back = envelope::decode({});
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), errc::truncated);
}

TEST(envelope, errors_are_in_the_corrupt_data_group) {
  byte_buffer env = hex(a1_envelope);
  env[13] = std::byte{0};
  EXPECT_EQ(envelope::decode(env).code(), errc_group::corrupt_data);
}

}  // namespace
}  // namespace cachekit
