#include <gtest/gtest.h>
#include <cachekit/envelope.hpp>
#include <cachekit/frame.hpp>

#include <string>

namespace cachekit {
namespace {

byte_buffer hex(std::string_view h) {
  byte_buffer out;
  EXPECT_TRUE(from_hex(h, out)) << h;
  return out;
}

byte_buffer text(std::string_view s) {
  return to_byte_buffer(s);
}

// Bytes cachekit-py 0.24.1 stores for {"a": 1} with `CacheSerializationHandler()` (default
// serializer, integrity checking on): 7-byte prefix, 125-byte header, 31-byte envelope.
constexpr std::string_view py_a1_integrity_on =
    "434b030000007d"
    "7b2273223a202264656661756c74222c20226d223a207b22666f726d6174223a20226d73677061636b222c2022"
    "656e636f64696e67223a20227574662d38222c2022636f6d70726573736564223a20747275652c20226f726967"
    "696e616c5f74797065223a20226d73677061636b227d2c202276223a2022322e30227d"
    "94c4054081a1610198cc84cc8c4fcc99cce3584cccc804a76d73677061636b";

// The same with `enable_integrity_checking=False`: 126-byte header, plain msgpack (137 bytes).
constexpr std::string_view py_a1_integrity_off =
    "434b030000007e"
    "7b2273223a202264656661756c74222c20226d223a207b22666f726d6174223a20226d73677061636b222c2022"
    "656e636f64696e67223a20227574662d38222c2022636f6d70726573736564223a2066616c73652c20226f7269"
    "67696e616c5f74797065223a20226d73677061636b227d2c202276223a2022322e30227d"
    "81a16101";

// `SerializationWrapper.wrap_prefix` of an encrypted default-serializer header (0.24.1).
constexpr std::string_view py_encrypted_prefix =
    "434b0300000123"
    "7b2273223a202264656661756c74222c20226d223a207b22666f726d6174223a20226d73677061636b222c2022"
    "656e636f64696e67223a20227574662d38222c2022636f6d70726573736564223a20747275652c20226f726967"
    "696e616c5f74797065223a20226d73677061636b222c2022656e63727970746564223a20747275652c20227465"
    "6e616e745f6964223a202231323365343536372d653839622d313264332d613435362d34323636313431373430"
    "3030222c2022656e6372797074696f6e5f616c676f726974686d223a20224145532d3235362d47434d222c2022"
    "6b65795f66696e6765727072696e74223a20223566373961383861393631643035333537643239643434326237"
    "326365343838227d2c202276223a2022322e30227d";

// `wrap_prefix({"format": "arrow", ... "compressed": False ...}, "arrow", align=64, offset=22)`:
// the one padded frame cachekit-py writes (uncompressed plaintext Arrow), 43 trailing spaces.
constexpr std::string_view py_arrow_aligned_prefix =
    "434b03000000a3"
    "7b2273223a20226172726f77222c20226d223a207b22666f726d6174223a20226172726f77222c2022656e636f"
    "64696e67223a20227574662d38222c2022636f6d70726573736564223a2066616c73652c20226f726967696e61"
    "6c5f74797065223a20226172726f77227d2c202276223a2022322e30227d"
    "20202020202020202020202020202020202020202020202020202020202020202020202020202020202020";

// `wrap_prefix({... "original_type": None}, "My\"Ser\\\x01\n\tä😀")`: Python's escaping.
constexpr std::string_view py_escaped_prefix =
    "434b030000008a"
    "7b2273223a20224d795c225365725c5c5c75303030315c6e5c74c3a4f09f9880222c20226d223a207b22666f72"
    "6d6174223a20226d73677061636b222c2022656e636f64696e67223a20227574662d38222c2022636f6d707265"
    "73736564223a20747275652c20226f726967696e616c5f74797065223a206e756c6c7d2c202276223a2022322e"
    "30227d";

frame::metadata encrypted_metadata() {
  frame::metadata m = frame::standard_metadata({});
  m.encrypted = true;
  m.tenant_id = "123e4567-e89b-12d3-a456-426614174000";
  m.encryption_algorithm = std::string(frame::aes_256_gcm);
  m.key_fingerprint = "5f79a88a961d05357d29d442b72ce488";
  return m;
}

byte_buffer frame_with_header(std::string_view json, std::string_view payload = "") {
  byte_buffer out = hex("434b03");
  const auto n = static_cast<std::uint32_t>(json.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::byte>(n >> shift));
  out.insert(out.end(), as_byte_view(json).begin(), as_byte_view(json).end());
  out.insert(out.end(), as_byte_view(payload).begin(), as_byte_view(payload).end());
  return out;
}

// ---- writing ----------------------------------------------------------------------------------

TEST(frame, standard_value_with_integrity_matches_cachekit_py_0_24_1) {
  auto stored = frame::encode_standard(hex("81a16101"));
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_EQ(stored->size(), 163u);
  EXPECT_EQ(to_hex(*stored), py_a1_integrity_on);
}

TEST(frame, standard_value_without_integrity_matches_cachekit_py_0_24_1) {
  auto stored = frame::encode_standard(hex("81a16101"), {.integrity_checking = false});
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->size(), 137u);
  EXPECT_EQ(to_hex(*stored), py_a1_integrity_off);
}

TEST(frame, standard_header_is_the_125_byte_python_json) {
  auto p = frame::prefix::make({.serializer = "default", .metadata = frame::standard_metadata({})});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header_json(),
            R"({"s": "default", "m": {"format": "msgpack", "encoding": "utf-8", "compressed": )"
            R"(true, "original_type": "msgpack"}, "v": "2.0"})");
  EXPECT_EQ(p->header_json().size(), 125u);
  EXPECT_EQ(to_hex(p->bytes().first(7)), "434b030000007d");
}

TEST(frame, default_frames_are_never_padded_whatever_the_payload_size) {
  for (std::size_t n : {0u, 1u, 100u, 5000u, 100000u}) {
    byte_buffer msgpack(n, std::byte{0x01});
    for (bool integrity : {true, false}) {
      auto stored = frame::encode_standard(msgpack, {.integrity_checking = integrity});
      ASSERT_TRUE(stored);
      auto f = frame::decode(*stored);
      ASSERT_TRUE(f);
      EXPECT_EQ(f->header_len(), integrity ? 125u : 126u);
    }
  }
}

TEST(frame, encrypted_header_matches_cachekit_py) {
  auto p = frame::prefix::make({.serializer = "default", .metadata = encrypted_metadata()});
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(to_hex(p->bytes()), py_encrypted_prefix);
  EXPECT_EQ(p->header_json().size(), 291u);
}

TEST(frame, aligned_arrow_prefix_matches_cachekit_py_padding) {
  frame::metadata m{.format = "arrow", .compressed = false, .original_type = "arrow"};
  auto p = frame::prefix::make({.serializer = "arrow", .metadata = m}, {.align = 64, .offset = 22});
  ASSERT_TRUE(p);
  EXPECT_EQ(to_hex(p->bytes()), py_arrow_aligned_prefix);
  EXPECT_EQ((22 + p->bytes().size()) % 64, 0u);
  // Same for the class-name tag, which is longer: fewer spaces, same total.
  auto q = frame::prefix::make({.serializer = "ArrowSerializer", .metadata = m},
                               {.align = 64, .offset = 22});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->bytes().size(), 170u);
}

TEST(frame, alignment_of_one_never_pads) {
  auto p = frame::prefix::make({.serializer = "default", .metadata = frame::standard_metadata({})},
                               {.align = 1, .offset = 5});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header_json().size(), 125u);
}

TEST(frame, escapes_strings_as_python_json_dumps) {
  frame::metadata m{.format = "msgpack", .compressed = true};
  auto p = frame::prefix::make(
      {.serializer = "My\"Ser\\\x01\n\t\xc3\xa4\xf0\x9f\x98\x80", .metadata = m});
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(to_hex(p->bytes()), py_escaped_prefix);
  auto back = frame::decode(p->wrap({}));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->header().serializer, "My\"Ser\\\x01\n\t\xc3\xa4\xf0\x9f\x98\x80");
}

TEST(frame, writer_canonicalizes_serializer_aliases) {
  auto p = frame::prefix::make({.serializer = "std", .metadata = frame::standard_metadata({})});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header().serializer, "default");
  EXPECT_EQ(frame::canonical_serializer_name("standard"), "default");
  EXPECT_EQ(frame::canonical_serializer_name("pythonic"), "auto");
  EXPECT_EQ(frame::canonical_serializer_name("orjson"), "orjson");
}

TEST(frame, make_rejects_what_cachekit_py_cannot_read) {
  const frame::metadata ok = frame::standard_metadata({});
  EXPECT_EQ(frame::prefix::make({.serializer = "", .metadata = ok}).code(), errc::invalid_argument);
  EXPECT_EQ(frame::prefix::make({.serializer = "default", .metadata = {.format = "pickle"}}).code(),
            errc::invalid_argument);
  EXPECT_EQ(frame::prefix::make({.serializer = "\xff", .metadata = ok}).code(),
            errc::invalid_argument);
  frame::metadata enc = encrypted_metadata();
  enc.key_fingerprint.reset();
  EXPECT_EQ(frame::prefix::make({.serializer = "default", .metadata = enc}).code(),
            errc::invalid_argument);
  EXPECT_EQ(frame::prefix::make({.serializer = "default", .metadata = ok}, {.align = 0}).code(),
            errc::invalid_argument);
}

TEST(frame, wrap_and_append_to_give_the_same_bytes) {
  auto p = frame::prefix::make({.serializer = "default", .metadata = frame::standard_metadata({})});
  ASSERT_TRUE(p);
  byte_buffer appended;
  p->append_to(appended);
  appended.push_back(std::byte{0x2a});
  EXPECT_EQ(p->wrap(hex("2a")), appended);
}

// ---- reading ----------------------------------------------------------------------------------

TEST(frame, decodes_the_python_frame_and_views_the_payload) {
  const byte_buffer stored = hex(py_a1_integrity_on);
  auto f = frame::decode(stored);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->kind(), frame::container::v3);
  EXPECT_EQ(f->header().serializer, "default");
  EXPECT_EQ(f->header().metadata, frame::standard_metadata({}));
  EXPECT_EQ(f->header_len(), 125u);
  EXPECT_EQ(f->payload().data(), stored.data() + 132);  // a view, not a copy
  EXPECT_EQ(to_hex(f->payload()), "94c4054081a1610198cc84cc8c4fcc99cce3584cccc804a76d73677061636b");
}

TEST(frame, decodes_encrypted_metadata) {
  byte_buffer stored = hex(py_encrypted_prefix);
  stored.push_back(std::byte{0x99});
  auto f = frame::decode(stored);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->header().metadata, encrypted_metadata());
  EXPECT_EQ(to_hex(f->payload()), "99");
}

TEST(frame, decodes_a_padded_header) {
  byte_buffer stored = hex(py_arrow_aligned_prefix);
  stored.push_back(std::byte{0x01});
  auto f = frame::decode(stored);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->header().serializer, "arrow");
  EXPECT_EQ(f->header().metadata.format, "arrow");
  EXPECT_FALSE(f->header().metadata.compressed);
  EXPECT_EQ(to_hex(f->payload()), "01");
}

TEST(frame, reader_canonicalizes_serializer_aliases) {
  auto f = frame::decode(frame_with_header(R"({"s": "pythonic", "m": {"format": "msgpack"}})"));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->header().serializer, "auto");
  auto g = frame::decode(frame_with_header(R"({"s": "std", "m": {"format": "msgpack"}})"));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->header().serializer, "default");
}

TEST(frame, keeps_the_serializer_name_as_recorded) {
  auto f = frame::decode(frame_with_header(R"({"s": "std", "m": {"format": "msgpack"}})"));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->header().serializer, "default");
  EXPECT_EQ(f->recorded_serializer(), "std");
}

TEST(frame, decode_standard_rejects_an_alias_as_cachekit_py_0_24_1_does) {
  auto env = envelope::encode(hex("81a16101")).value();
  const std::string json =
      R"({"s": "std", "m": {"format": "msgpack", "encoding": "utf-8", "compressed": true}})";
  byte_buffer stored = frame_with_header(json);
  stored.insert(stored.end(), env.begin(), env.end());
  auto r = frame::decode_standard(stored);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::serializer_mismatch);
  EXPECT_EQ(r.error().detail,
            "entry was written by serializer 'std'; this reader expects 'default'");
}

TEST(frame, missing_optional_metadata_takes_python_defaults) {
  const byte_buffer stored =
      frame_with_header(R"({"s": "default", "m": {"format": "orjson"}})", "x");
  auto f = frame::decode(stored);  // the payload views `stored`: keep it alive
  ASSERT_TRUE(f);
  const frame::metadata& m = f->header().metadata;
  EXPECT_EQ(m.format, "orjson");
  EXPECT_EQ(m.encoding, "utf-8");
  EXPECT_FALSE(m.compressed);
  EXPECT_FALSE(m.original_type);
  EXPECT_FALSE(m.encrypted);
  EXPECT_EQ(to_hex(f->payload()), "78");
}

TEST(frame, ignores_unknown_keys_and_surrounding_whitespace) {
  auto f = frame::decode(
      frame_with_header(" {\"x\": [1, 2], \"s\": \"default\", \"m\": {\"format\": \"msgpack\", "
                        "\"extra\": {}}, \"v\": \"9\"} \n"));
  ASSERT_TRUE(f) << f.error().message();
}

TEST(frame, rejects_an_empty_value) {
  auto f = frame::decode({});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.code(), errc::truncated);
}

TEST(frame, rejects_a_frame_shorter_than_its_prefix) {
  for (std::size_t n = 2; n < 7; ++n) {
    auto f = frame::decode(byte_view(hex(py_a1_integrity_on)).first(n));
    ASSERT_FALSE(f);
    EXPECT_EQ(f.code(), errc::truncated) << n;
  }
}

TEST(frame, rejects_another_version) {
  byte_buffer stored = hex(py_a1_integrity_on);
  stored[2] = std::byte{2};
  auto f = frame::decode(stored);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.code(), errc::unsupported_version);
  EXPECT_EQ(f.error().detail, "CK frame version 2 (this SDK reads version 3)");
}

TEST(frame, rejects_a_header_len_beyond_the_input) {
  const byte_buffer stored = hex(py_a1_integrity_on);
  for (std::size_t n = 7; n < 132; ++n) {
    auto f = frame::decode(byte_view(stored).first(n));
    ASSERT_FALSE(f);
    EXPECT_EQ(f.code(), errc::truncated) << n;
  }
  auto f = frame::decode(hex("434b03ffffffff7b7d"));
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().detail,
            "CK frame header_len 4294967295 runs past the end: only 2 bytes follow the prefix");
}

TEST(frame, rejects_bad_json) {
  auto f = frame::decode(frame_with_header(R"({"s": "default", "m": {"format": "msgpack")"));
  ASSERT_FALSE(f);
  EXPECT_EQ(f.code(), errc::malformed);
  EXPECT_EQ(f.error().detail, "frame header is not valid JSON");
}

TEST(frame, rejects_headers_cachekit_py_rejects) {
  const char* bad[] = {
      R"([1, 2])",                                                         // not an object
      R"({"m": {"format": "msgpack"}})",                                   // no serializer
      R"({"s": "", "m": {"format": "msgpack"}})",                          // empty serializer
      R"({"s": 1, "m": {"format": "msgpack"}})",                           // serializer not a str
      R"({"s": "default"})",                                               // no metadata
      R"({"s": "default", "m": null})",                                    // metadata not an object
      R"({"s": "default", "m": {}})",                                      // no format
      R"({"s": "default", "m": {"format": "pickle"}})",                    // unknown format
      R"({"s": "default", "m": {"format": "msgpack", "compressed": 1}})",  // not a bool
      R"({"s": "default", "m": {"format": "msgpack", "encoding": null}})",
      R"({"s": "default", "m": {"format": "msgpack", "tenant_id": 5}})",
  };
  for (const char* json : bad) {
    auto f = frame::decode(frame_with_header(json));
    ASSERT_FALSE(f) << json;
    EXPECT_EQ(f.code(), errc::malformed) << json;
  }
}

TEST(frame, rejects_a_header_that_is_not_utf8) {
  auto f = frame::decode(frame_with_header("{\"s\": \"d\xff\", \"m\": {\"format\": \"msgpack\"}}"));
  ASSERT_FALSE(f);
  EXPECT_EQ(f.code(), errc::malformed);
}

// ---- legacy JSON envelope ---------------------------------------------------------------------

TEST(frame, decodes_the_legacy_json_envelope) {
  // What cachekit-py wrote before the v3 frame (base64 payload inside JSON).
  auto f = frame::decode(text(
      R"({"data": "gaFhAQ==", "metadata": {"format": "msgpack", "compressed": false}, "serializer": "std"})"));
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->kind(), frame::container::legacy_json);
  EXPECT_EQ(f->header().serializer, "default");
  EXPECT_EQ(f->header().metadata.format, "msgpack");
  EXPECT_EQ(to_hex(f->payload()), "81a16101");
}

TEST(frame, legacy_base64_is_read_as_python_b64decode_reads_it) {
  struct {
    const char* data;
    const char* hex;
  } ok[] = {{"QUJD", "414243"},  {"QUI=", "4142"},     {"Q UJ\\nD", "414243"},
            {"QU*JD", "414243"}, {"QUI=QUI=", "4142"}, {"QUI=x", "4142"},
            {"QQ==", "41"},      {"====", ""},         {"", ""},
            {"QUJD=", "414243"}, {"QR==", "41"},       {"QU=I=", "4142"},
            {"Q=U=I=", "4142"},  {"QUJ=D", "4142"},    {"QU==I", "41"}};
  for (const auto& c : ok) {
    const std::string json = std::string(R"({"data": ")") + c.data +
                             R"(", "metadata": {"format": "msgpack"}, "serializer": "default"})";
    auto f = frame::decode(text(json));
    ASSERT_TRUE(f) << c.data << ": " << f.error().message();
    EXPECT_EQ(to_hex(f->payload()), c.hex) << c.data;
  }
  for (const char* bad : {"QUI", "QQ=", "Q===", "QUJDR", "QU=I"}) {
    const std::string json = std::string(R"({"data": ")") + bad +
                             R"(", "metadata": {"format": "msgpack"}, "serializer": "default"})";
    auto f = frame::decode(text(json));
    ASSERT_FALSE(f) << bad;
    EXPECT_EQ(f.code(), errc::malformed) << bad;
  }
}

TEST(frame, rejects_legacy_json_cachekit_py_rejects) {
  const char* bad[] = {
      R"({"data": "gaFhAQ==", "metadata": {"format": "msgpack"}})",  // no serializer
      R"({"data": 5, "metadata": {"format": "msgpack"}, "serializer": "default"})",  // data not str
      R"({"metadata": {"format": "msgpack"}, "serializer": "default"})",             // no data
      R"({"data": "gaFhAQ==", "serializer": "default"})",                            // no format
      R"({"data": "gaFhAQ==é", "metadata": {"format": "msgpack"}, "serializer": "default"})",
      "\xef\xbb\xbf{\"data\": \"\", \"metadata\": {\"format\": \"msgpack\"}, \"serializer\": "
      "\"d\"}",
      "not json",
      "C",
  };
  for (const char* json : bad) {
    auto f = frame::decode(text(json));
    ASSERT_FALSE(f) << json;
    EXPECT_EQ(f.code(), errc::malformed) << json;
  }
}

// ---- default serializer -----------------------------------------------------------------------

TEST(frame, decode_standard_reads_python_bytes_both_ways) {
  auto on = frame::decode_standard(hex(py_a1_integrity_on));
  ASSERT_TRUE(on) << on.error().message();
  EXPECT_EQ(to_hex(*on), "81a16101");
  auto off = frame::decode_standard(hex(py_a1_integrity_off), {.integrity_checking = false});
  ASSERT_TRUE(off) << off.error().message();
  EXPECT_EQ(to_hex(*off), "81a16101");
}

TEST(frame, integrity_off_reader_refuses_an_integrity_on_entry) {
  auto r = frame::decode_standard(hex(py_a1_integrity_on), {.integrity_checking = false});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::serializer_mismatch);
}

TEST(frame, integrity_off_reader_refuses_a_valid_envelope_even_if_the_header_says_uncompressed) {
  auto env = envelope::encode(hex("81a16101"));
  ASSERT_TRUE(env);
  auto p =
      frame::prefix::make({.serializer = "default",
                           .metadata = frame::standard_metadata({.integrity_checking = false})});
  ASSERT_TRUE(p);
  auto r = frame::decode_standard(p->wrap(*env), {.integrity_checking = false});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::serializer_mismatch);
  // A corrupted look-alike is data (the caller's msgpack decoder judges it).
  byte_buffer rotted = *env;
  rotted[13] = std::byte{0};
  EXPECT_TRUE(frame::decode_standard(p->wrap(rotted), {.integrity_checking = false}));
}

TEST(frame, integrity_on_reader_rejects_an_integrity_off_entry) {
  auto r = frame::decode_standard(hex(py_a1_integrity_off));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::malformed);
}

TEST(frame, decode_standard_rejects_another_serializer) {
  auto r = frame::decode_standard(
      frame_with_header(R"({"s": "orjson", "m": {"format": "orjson"}})", "{}"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::serializer_mismatch);
  EXPECT_EQ(r.error().detail,
            "entry was written by serializer 'orjson'; this reader expects 'default'");
}

TEST(frame, decode_standard_leaves_encrypted_entries_to_the_encryption_layer) {
  auto p = frame::prefix::make({.serializer = "default", .metadata = encrypted_metadata()});
  ASSERT_TRUE(p);
  auto r = frame::decode_standard(p->wrap(byte_buffer(40)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::serializer_mismatch);
}

TEST(frame, decode_standard_reports_envelope_corruption) {
  byte_buffer stored = hex(py_a1_integrity_on);
  stored[132 + 13] = std::byte{0x4e};  // a checksum byte of the envelope
  auto r = frame::decode_standard(stored);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::checksum_mismatch);
}

}  // namespace
}  // namespace cachekit
