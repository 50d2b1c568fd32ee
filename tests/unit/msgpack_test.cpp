// The canonical MessagePack writer and the strict reader. Header bytes for each width boundary
// are those msgpack-python 1.x `packb(use_bin_type=True)` writes.
#include <gtest/gtest.h>
#include <cachekit/bytes.hpp>
#include <cachekit/value_codec.hpp>

#include "protocol/msgpack_reader.hpp"
#include "protocol/msgpack_writer.hpp"

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>

namespace cachekit {
namespace {

using detail::msgpack_reader;
using detail::msgpack_type;
using detail::msgpack_writer;

byte_buffer unhex(std::string_view hex) {
  byte_buffer out;
  EXPECT_TRUE(from_hex(hex, out)) << hex;
  return out;
}

std::string written(const std::function<void(msgpack_writer&)>& write) {
  byte_buffer out;
  msgpack_writer w(out);
  write(w);
  return to_hex(out);
}

// The first `n` hex characters of what `write` produces (headers of long items).
std::string written_head(const std::function<void(msgpack_writer&)>& write, std::size_t n) {
  return written(write).substr(0, n);
}

TEST(msgpack_writer, unsigned_integers_take_the_shortest_form_at_every_boundary) {
  const std::pair<std::uint64_t, const char*> cases[] = {
      {0, "00"},
      {0x7f, "7f"},
      {0x80, "cc80"},
      {0xff, "ccff"},
      {0x100, "cd0100"},
      {0xffff, "cdffff"},
      {0x10000, "ce00010000"},
      {0xffffffff, "ceffffffff"},
      {0x100000000, "cf0000000100000000"},
      {UINT64_MAX, "cfffffffffffffffff"},
  };
  for (const auto& [v, hex] : cases) {
    EXPECT_EQ(written([v = v](msgpack_writer& w) { w.write_uint(v); }), hex) << v;
  }
}

TEST(msgpack_writer, signed_integers_use_uint_forms_when_non_negative) {
  const std::pair<std::int64_t, const char*> cases[] = {
      {0, "00"},
      {127, "7f"},
      {128, "cc80"},
      {255, "ccff"},
      {256, "cd0100"},
      {65536, "ce00010000"},
      {INT64_MAX, "cf7fffffffffffffff"},
      {-1, "ff"},
      {-32, "e0"},
      {-33, "d0df"},
      {-128, "d080"},
      {-129, "d1ff7f"},
      {-32768, "d18000"},
      {-32769, "d2ffff7fff"},
      {INT32_MIN, "d280000000"},
      {static_cast<std::int64_t>(INT32_MIN) - 1, "d3ffffffff7fffffff"},
      {INT64_MIN, "d38000000000000000"},
  };
  for (const auto& [v, hex] : cases) {
    EXPECT_EQ(written([v = v](msgpack_writer& w) { w.write_int(v); }), hex) << v;
  }
}

TEST(msgpack_writer, floats_are_always_float64) {
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_float64(2.0); }), "cb4000000000000000");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_float64(-0.0); }), "cb8000000000000000");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_float64(1.5); }), "cb3ff8000000000000");
}

TEST(msgpack_writer, string_headers_at_every_width_boundary) {
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_str(""); }), "a0");
  EXPECT_EQ(written_head([](msgpack_writer& w) { w.write_str(std::string(31, 'x')); }, 2), "bf");
  EXPECT_EQ(written_head([](msgpack_writer& w) { w.write_str(std::string(32, 'x')); }, 4), "d920");
  EXPECT_EQ(written_head([](msgpack_writer& w) { w.write_str(std::string(255, 'x')); }, 4), "d9ff");
  EXPECT_EQ(written_head([](msgpack_writer& w) { w.write_str(std::string(256, 'x')); }, 6),
            "da0100");
  EXPECT_EQ(written_head([](msgpack_writer& w) { w.write_str(std::string(65535, 'x')); }, 6),
            "daffff");
  EXPECT_EQ(written_head([](msgpack_writer& w) { w.write_str(std::string(65536, 'x')); }, 10),
            "db00010000");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_str_header(UINT32_MAX); }), "dbffffffff");
}

TEST(msgpack_writer, binary_headers_at_every_width_boundary) {
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_bin({}); }), "c400");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_bin_header(255); }), "c4ff");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_bin_header(256); }), "c50100");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_bin_header(65535); }), "c5ffff");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_bin_header(65536); }), "c600010000");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_bin_header(UINT32_MAX); }), "c6ffffffff");
}

TEST(msgpack_writer, array_and_map_headers_at_every_width_boundary) {
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_array_header(0); }), "90");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_array_header(15); }), "9f");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_array_header(16); }), "dc0010");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_array_header(65535); }), "dcffff");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_array_header(65536); }), "dd00010000");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_map_header(0); }), "80");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_map_header(15); }), "8f");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_map_header(16); }), "de0010");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_map_header(65535); }), "deffff");
  EXPECT_EQ(written([](msgpack_writer& w) { w.write_map_header(65536); }), "df00010000");
}

TEST(msgpack_reader, reads_each_type_back) {
  const auto bytes = unhex(
      "c0c3"
      "cf8000000000000000"
      "d38000000000000000"
      "1c"
      "ca3fc00000"
      "cb4000000000000000"
      "a161"
      "c40100");
  msgpack_reader r(bytes);
  EXPECT_TRUE(r.read_nil());
  EXPECT_EQ(*r.read_bool(), true);
  auto u = r.read_int();
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->is_unsigned_large);
  EXPECT_EQ(u->u, 0x8000000000000000ULL);
  auto i = r.read_int();
  ASSERT_TRUE(i);
  EXPECT_EQ(i->i, INT64_MIN);
  EXPECT_EQ(r.read_int()->i, 28);
  EXPECT_EQ(*r.read_float(), 1.5);  // float32
  EXPECT_EQ(*r.read_float(), 2.0);
  EXPECT_EQ(*r.read_str(), "a");
  EXPECT_EQ(r.read_bin()->size(), 1u);
  EXPECT_TRUE(r.at_end());
}

TEST(msgpack_reader, type_mismatch_is_reported_not_skipped) {
  const auto bytes = unhex("a161");
  msgpack_reader r(bytes);
  const auto n = r.read_int();
  ASSERT_FALSE(n);
  EXPECT_EQ(n.code(), errc::type_mismatch);
  EXPECT_EQ(r.position(), 0u);
}

// A document touching every kind of item, including multi-byte headers.
const char* const k_document =
    "86a3696e74cd0100a3737472d9207878787878787878787878787878787878787878787878787878787878787878"
    "a362696ec50003010203a3617272dc00100102030405060708090a0b0c0d0e0f10a3666c74cb3ff8000000000000"
    "a36d6170de0001a16b92c0c3";

TEST(msgpack_reader, the_reference_document_decodes) {
  const auto bytes = unhex(k_document);
  auto v = decode_standard_value(bytes);
  ASSERT_TRUE(v) << v.error().message();
  ASSERT_NE(v->find("map"), nullptr);
  msgpack_reader r(bytes);
  EXPECT_TRUE(r.skip());
  EXPECT_TRUE(r.at_end());
}

TEST(msgpack_reader, every_strict_prefix_of_a_document_is_an_error) {
  const auto bytes = unhex(k_document);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const byte_view prefix(bytes.data(), n);
    for (const auto& r : {decode_standard_value(prefix), decode_interop_value(prefix)}) {
      ASSERT_FALSE(r) << "prefix of " << n << " bytes decoded";
      EXPECT_TRUE(r.code() == errc::truncated || r.code() == errc::length_limit)
          << n << ": " << r.error().message();
      EXPECT_EQ(r.code(), errc_group::corrupt_data);
    }
    msgpack_reader reader(prefix);
    const auto skipped = reader.skip();
    EXPECT_FALSE(skipped) << n;
  }
}

TEST(msgpack_reader, trailing_bytes_are_refused) {
  const auto bytes = unhex("c0c0");
  for (const auto& r : {decode_standard_value(bytes), decode_interop_value(bytes)}) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.code(), errc::trailing_bytes);
  }
}

TEST(msgpack_reader, byte_c1_is_malformed_wherever_it_appears) {
  for (const char* hex : {"c1", "91c1", "81a161c1", "81c1c0"}) {
    const auto bytes = unhex(hex);
    const auto r = decode_standard_value(bytes);
    ASSERT_FALSE(r) << hex;
    EXPECT_EQ(r.code(), errc::malformed) << hex;
    msgpack_reader reader(bytes);
    EXPECT_EQ(reader.skip().code(), errc::malformed) << hex;
  }
}

TEST(msgpack_reader, absurd_declared_lengths_fail_before_allocating) {
  // A map32 claiming 1.5 billion pairs, an array32 of 4 billion, str32/bin32 of 4 GiB.
  for (const char* hex : {"df5c68f5df", "ddffffffff", "dbffffffff41", "c6ffffffff00", "dc0007c0c0",
                          "de0003c0c0c0c0"}) {
    const auto bytes = unhex(hex);
    const auto r = decode_standard_value(bytes);
    ASSERT_FALSE(r) << hex;
    EXPECT_EQ(r.code(), errc::length_limit) << hex << ": " << r.error().message();
    msgpack_reader reader(bytes);
    EXPECT_EQ(reader.skip().code(), errc::length_limit) << hex;
  }
}

TEST(msgpack_reader, nested_headers_cannot_together_claim_more_than_the_input) {
  // Each array16 header claims 2000 elements; each alone fits the remaining bytes, together
  // they do not (the bomb cachekit-py's bounded reader also refuses).
  std::string hex;
  for (int i = 0; i < 5000; ++i) hex += "dc07d0";
  const auto bytes = unhex(hex);
  const auto r = decode_standard_value(bytes);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::length_limit);
}

TEST(msgpack_reader, deep_nesting_is_an_error_not_a_crash) {
  std::string hex;
  for (int i = 0; i < 200000; ++i) hex += "91";
  hex += "c0";
  const auto bytes = unhex(hex);
  const auto r = decode_standard_value(bytes);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::length_limit);
  msgpack_reader reader(bytes);
  EXPECT_TRUE(reader.skip());
}

TEST(msgpack_reader, a_raised_depth_limit_is_honoured) {
  std::string hex;
  for (int i = 0; i < 2000; ++i) hex += "91";
  hex += "c0";
  EXPECT_FALSE(decode_interop_value(unhex(hex)));
  EXPECT_TRUE(decode_interop_value(unhex(hex), {.max_depth = 2000}));
}

TEST(msgpack_reader, nesting_limit_is_1024_like_cachekit_py) {
  std::string ok;
  for (int i = 0; i < 1023; ++i) ok += "91";
  const std::string deepest_ok = ok + "90";       // 1024 containers
  const std::string too_deep = ok + "91" + "90";  // 1025 containers
  EXPECT_TRUE(decode_standard_value(unhex(deepest_ok)));
  const auto r = decode_standard_value(unhex(too_deep));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::length_limit);
  EXPECT_FALSE(decode_standard_value(unhex(deepest_ok), {.max_depth = 10}));
}

// As msgpack-python's ExtType: read by both profiles, written back by the standard one,
// refused by the interop encoder.
TEST(msgpack_reader, extension_items_read_as_value_ext_and_write_back) {
  // {read, written}: the writer takes the shortest form, as msgpack-python's packb does.
  const std::pair<const char*, const char*> cases[] = {{"d40102", "d40102"},
                                                       {"d6ff00000000", "d6ff00000000"},
                                                       {"c70100ff", "d400ff"},
                                                       {"91d50100ff", "91d50100ff"},
                                                       {"c70307010203", "c70307010203"}};
  for (const auto& [hex, written] : cases) {
    const auto r = decode_standard_value(unhex(hex));
    ASSERT_TRUE(r) << hex << ": " << r.error().message();
    EXPECT_EQ(to_hex(encode_standard_value(*r).value()), written);
    EXPECT_TRUE(decode_interop_value(unhex(hex))) << hex;
    EXPECT_EQ(encode_interop_value(*r).code(), errc::unsupported_type) << hex;
  }
  const auto one = decode_standard_value(unhex("d4012a")).value();
  ASSERT_NE(one.get_if<value_ext>(), nullptr);
  EXPECT_EQ(one.get_if<value_ext>()->type, 1);
  EXPECT_EQ(to_hex(one.get_if<value_ext>()->data), "2a");
  // A payload longer than the input is cut short, never allocated.
  EXPECT_FALSE(decode_standard_value(unhex("c9ffffffff01")));
}

TEST(msgpack_reader, empty_input_is_truncated) {
  const auto r = decode_standard_value({});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::truncated);
}

}  // namespace
}  // namespace cachekit
