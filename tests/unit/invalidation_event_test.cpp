// cachekit-py's key registry names and invalidation events (coherence/invalidation_event.hpp):
// BLAKE3 against its reference vectors, events byte for byte against cachekit-py 0.24.1's
// encode_event, and the decoder's refusals of what cachekit-py's decode_event refuses.
#include "coherence/invalidation_event.hpp"
#include "protocol/blake3.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cachekit::detail {
namespace {

std::string counting_bytes(std::size_t n) {  // the BLAKE3 test vectors' input: i mod 251
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<char>(i % 251);
  return s;
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

result<invalidation_event> decode(std::string_view hex) {
  const std::string bytes = from_hex(hex);
  return decode_invalidation_event(as_byte_view(bytes));
}

TEST(blake3, matches_the_reference_for_one_block_one_chunk_and_a_tree) {
  EXPECT_EQ(blake3_hex("", 32), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
  EXPECT_EQ(blake3_hex("abc", 32),
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85");
  EXPECT_EQ(blake3_hex(counting_bytes(1025), 32),
            "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444");
  EXPECT_EQ(blake3_hex(counting_bytes(3072), 32),
            "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2");
  EXPECT_EQ(blake3_hex("", 8), "af1349b9f5f9a1a6");
}

TEST(registry_id, names_the_set_as_cachekit_py_does) {
  // From cachekit-py 0.24.1: @cache(namespace="users") on cli_demo.get_user.
  EXPECT_EQ(registry_id("cli_demo.get_user", "users"), "ck:reg:users:e8b3d4c62bfb144a");
  EXPECT_EQ(registry_id("cli_demo.get_user", std::nullopt), "ck:reg::e8b3d4c62bfb144a");
}

TEST(invalidation_event, encodes_as_cachekit_py_encode_event) {
  // cachekit.invalidation.encode_event(...).hex() from the pinned wheel.
  EXPECT_EQ(
      encode_invalidation_event("ck:reg:users:e8b3d4c62bfb144a", "ns:users:func:m.f:args:ab:1s"),
      from_hex("82a172bd636b3a7265673a75736572733a65386233643463363262666231343461a16bbc6e"
               "733a75736572733a66756e633a6d2e663a617267733a61623a3173"));
  EXPECT_EQ(encode_invalidation_event("ck:reg::00ff", std::nullopt),
            from_hex("81a172ac636b3a7265673a3a30306666"));
  // A key over 1024 bytes widens the event to the whole function; an id over it cannot go.
  EXPECT_EQ(encode_invalidation_event("ck:reg::00ff", std::string(1025, 'x')),
            from_hex("81a172ac636b3a7265673a3a30306666"));
  EXPECT_EQ(encode_invalidation_event(std::string(1025, 'r'), std::nullopt), std::nullopt);
}

TEST(invalidation_event, round_trips_and_reads_what_cachekit_py_accepts) {
  const auto event = encode_invalidation_event("ck:reg:ns:00ff", "ns:ns:func:m.f:args:ab:1s");
  ASSERT_TRUE(event);
  auto back = decode_invalidation_event(as_byte_view(*event));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->registry, "ck:reg:ns:00ff");
  EXPECT_EQ(back->key, "ns:ns:func:m.f:args:ab:1s");
  // Extra scalar fields are ignored, as by decode_event: {'r','k','x':1,'y':None}, {'r','z':1.5}.
  auto extra = decode("84a172a161a16ba162a17801a179c0");
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->registry, "a");
  EXPECT_EQ(extra->key, "b");
  auto whole = decode("82a172a161a17acb3ff8000000000000");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->key, std::nullopt);
}

TEST(invalidation_event, refuses_what_cachekit_py_refuses) {
  for (const char* bad : {
           "9101",                              // an array
           "81a172c40161",                      // r as bin
           "81a16ba161",                        // no r
           "82a172a161a16b01",                  // k not a string
           "82a172a161a17891",                  // a container value
           "81a172a16100",                      // trailing bytes
           "81a172da0401",                      // a 1025-byte field (cut short too)
           "85a13001a13101a13201a13301a13401",  // 5 entries
           "",                                  // nothing
           "82a172",                            // cut short
           "81a172a2c328",                      // not UTF-8
       }) {
    EXPECT_FALSE(decode(bad)) << bad;
  }
  std::string huge = from_hex("81a172da0400") + std::string(4096, 'a');
  EXPECT_EQ(decode_invalidation_event(as_byte_view(huge)).error().code,
            make_error_code(errc::length_limit));
}

}  // namespace
}  // namespace cachekit::detail
