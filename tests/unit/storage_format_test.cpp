#include <gtest/gtest.h>
#include <cachekit/envelope.hpp>
#include <cachekit/storage_format.hpp>

#include <string>

namespace cachekit {
namespace {

byte_buffer hex(std::string_view h) {
  byte_buffer out;
  EXPECT_TRUE(from_hex(h, out)) << h;
  return out;
}

// {"a": 1} as msgpack, and the frames cachekit-py 0.24.1 writes for it (docs/protocol-compat.md).
const byte_buffer a1 = hex("81a16101");
constexpr std::string_view frame_a1_integrity_on =
    "434b030000007d7b2273223a202264656661756c74222c20226d223a207b22666f726d6174223a20226d7367"
    "7061636b222c2022656e636f64696e67223a20227574662d38222c2022636f6d70726573736564223a2074727"
    "5652c20226f726967696e616c5f74797065223a20226d73677061636b227d2c202276223a2022322e30227d94"
    "c4054081a1610198cc84cc8c4fcc99cce3584cccc804a76d73677061636b";
constexpr std::string_view frame_a1_integrity_off =
    "434b030000007e7b2273223a202264656661756c74222c20226d223a207b22666f726d6174223a20226d7367"
    "7061636b222c2022656e636f64696e67223a20227574662d38222c2022636f6d70726573736564223a2066616"
    "c73652c20226f726967696e616c5f74797065223a20226d73677061636b227d2c202276223a2022322e30227d"
    "81a16101";

const std::string master_hex(64, '6');  // 0x66 * 32
const std::string old_master_hex = std::string(32, '6') + std::string(32, '7');

tenant_keyring tenant_of(const std::string& current, std::vector<std::string_view> previous = {},
                         std::string_view tenant = "default") {
  return keyring::from_hex(current, previous).value().for_tenant(tenant).value();
}

storage_format encrypted(storage_mode mode, tenant_keyring keys, bool integrity = true) {
  return storage_format(
      {.mode = mode, .integrity_checking = integrity, .encryption = std::move(keys)});
}

TEST(storage_format, frame_with_integrity_matches_cachekit_py_bytes) {
  storage_format fmt({.mode = storage_mode::frame, .key_binding = false});
  auto stored = fmt.seal(a1, "any");
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_EQ(to_hex(*stored), frame_a1_integrity_on);
  auto opened = fmt.open(*stored, "any");
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->msgpack, a1);
}

TEST(storage_format, frame_without_integrity_matches_cachekit_py_bytes) {
  storage_format fmt(
      {.mode = storage_mode::frame, .integrity_checking = false, .key_binding = false});
  auto stored = fmt.seal(a1, "any");
  ASSERT_TRUE(stored);
  EXPECT_EQ(to_hex(*stored), frame_a1_integrity_off);
  auto opened = fmt.open(hex(frame_a1_integrity_off), "any");
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->msgpack, a1);
}

TEST(storage_format, reader_follows_the_header_for_integrity) {
  storage_format no_integrity({.mode = storage_mode::frame, .integrity_checking = false});
  auto opened = no_integrity.open(hex(frame_a1_integrity_on), "k");
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->msgpack, a1);
}

TEST(storage_format, flipped_payload_byte_is_corrupt_data) {
  storage_format fmt({.mode = storage_mode::frame});
  auto stored = hex(frame_a1_integrity_on);
  stored[stored.size() - 12] ^= std::byte{0x01};  // inside the checksum array
  auto opened = fmt.open(stored, "k");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), errc_group::corrupt_data);
}

TEST(storage_format, encrypted_frame_round_trips_and_names_its_layers) {
  auto fmt = encrypted(storage_mode::frame, tenant_of(master_hex));
  auto stored = fmt.seal(a1, "t:default:ns:x:func:m.f:args:00:1s");
  ASSERT_TRUE(stored);
  auto opened = fmt.open(*stored, "t:default:ns:x:func:m.f:args:00:1s", true);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->msgpack, a1);
  ASSERT_EQ(opened->layers.size(), 3u);
  EXPECT_NE(opened->layers[1].find("AES-256-GCM"), std::string::npos);
}

TEST(storage_format, encrypted_frame_is_bound_to_its_cache_key) {
  auto fmt = encrypted(storage_mode::frame, tenant_of(master_hex));
  auto stored = fmt.seal(a1, "key-a");
  ASSERT_TRUE(stored);
  auto opened = fmt.open(*stored, "key-b");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), errc::authentication_failed);
}

TEST(storage_format, tampered_ciphertext_fails_authentication) {
  auto fmt = encrypted(storage_mode::frame, tenant_of(master_hex), false);
  auto stored = fmt.seal(a1, "k").value();
  stored.back() ^= std::byte{0x80};
  auto opened = fmt.open(stored, "k");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), errc::authentication_failed);
}

// After decryption the reader's integrity setting picks the container, not the header's
// `compressed` (which the writer chose and the AAD merely binds).
TEST(storage_format, encrypted_entries_are_read_with_the_readers_integrity_setting) {
  const auto with_integrity = encrypted(storage_mode::frame, tenant_of(master_hex), true);
  const auto without_integrity = encrypted(storage_mode::frame, tenant_of(master_hex), false);
  const auto enveloped = with_integrity.seal(a1, "k").value();
  const auto bare = without_integrity.seal(a1, "k").value();
  EXPECT_EQ(with_integrity.open(enveloped, "k").value().msgpack, a1);
  EXPECT_EQ(without_integrity.open(bare, "k").value().msgpack, a1);
  // Integrity off, header compressed: refused as cachekit-py's integrity-off reader does.
  EXPECT_EQ(without_integrity.open(enveloped, "k").code(), errc::serializer_mismatch);
  // Integrity on, plain MessagePack after decryption: not an envelope.
  const auto plain = with_integrity.open(bare, "k");
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.code(), errc_group::corrupt_data);
}

TEST(storage_format, encrypting_reader_refuses_plaintext_entries) {
  auto fmt = encrypted(storage_mode::frame, tenant_of(master_hex));
  auto opened = fmt.open(hex(frame_a1_integrity_on), "k");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), errc::plaintext_downgrade);
  EXPECT_EQ(opened.code(), errc_group::security);
}

TEST(storage_format, plaintext_reader_cannot_read_encrypted_entries) {
  auto stored = encrypted(storage_mode::frame, tenant_of(master_hex)).seal(a1, "k").value();
  storage_format plain({.mode = storage_mode::frame});
  auto opened = plain.open(stored, "k");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), errc_group::security);
}

TEST(storage_format, another_tenant_never_decrypts) {
  auto stored =
      encrypted(storage_mode::frame, tenant_of(master_hex, {}, "tenant-a")).seal(a1, "k").value();
  auto opened =
      encrypted(storage_mode::frame, tenant_of(master_hex, {}, "tenant-b")).open(stored, "k");
  ASSERT_FALSE(opened);
  // Its own code (security group), so a multi-tenant cache can leave the entry in place.
  EXPECT_EQ(opened.code(), errc::tenant_mismatch);
  EXPECT_EQ(opened.code(), errc_group::security);
}

TEST(storage_format, reader_given_the_keyring_follows_the_header_tenant_like_cachekit_py) {
  auto stored =
      encrypted(storage_mode::frame, tenant_of(master_hex, {}, "tenant-a")).seal(a1, "k").value();
  const auto ring = keyring::from_hex(master_hex).value();
  storage_format reader({.mode = storage_mode::frame,
                         .encryption = ring.for_tenant("tenant-b").value(),
                         .header_tenants = &ring});
  auto opened = reader.open(stored, "k");
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->msgpack, a1);
  // Still bound to the key and to the master key.
  EXPECT_EQ(reader.open(stored, "other").code(), errc::authentication_failed);
  const auto other_ring = keyring::from_hex(old_master_hex).value();
  storage_format stranger({.mode = storage_mode::frame,
                           .encryption = other_ring.for_tenant("tenant-b").value(),
                           .header_tenants = &other_ring});
  EXPECT_EQ(stranger.open(stored, "k").code(), errc_group::security);  // unknown key fingerprint
}

TEST(storage_format, rotated_key_still_reads_entries_of_the_previous_key) {
  auto old_entry = encrypted(storage_mode::frame, tenant_of(old_master_hex)).seal(a1, "k").value();
  auto rotated = encrypted(storage_mode::frame, tenant_of(master_hex, {old_master_hex}));
  auto opened = rotated.open(old_entry, "k");
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->msgpack, a1);
  // Without the previous key the fingerprint is unknown.
  auto unrotated = encrypted(storage_mode::frame, tenant_of(master_hex));
  auto refused = unrotated.open(old_entry, "k");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.code(), errc::unknown_key_fingerprint);
}

TEST(storage_format, interop_plain_is_the_msgpack_itself) {
  storage_format fmt({.mode = storage_mode::interop});
  auto stored = fmt.seal(a1, "users:get:00").value();
  EXPECT_EQ(stored, a1);
  auto opened = fmt.open(stored, "users:get:00");
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->msgpack, a1);
}

TEST(storage_format, interop_refuses_ck_frames) {
  storage_format fmt({.mode = storage_mode::interop});
  auto opened = fmt.open(hex(frame_a1_integrity_on), "k");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), errc::serializer_mismatch);
}

TEST(storage_format, interop_encrypted_rotation_tries_keys_in_turn) {
  auto old_entry =
      encrypted(storage_mode::interop, tenant_of(old_master_hex)).seal(a1, "users:get:00").value();
  EXPECT_EQ(old_entry.size(), a1.size() + aes_gcm_overhead);
  auto rotated = encrypted(storage_mode::interop, tenant_of(master_hex, {old_master_hex}));
  auto opened = rotated.open(old_entry, "users:get:00");
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->msgpack, a1);
}

TEST(storage_format, frame_of_a_foreign_serializer_is_a_mismatch) {
  // An orjson frame from cachekit-py: this reader decodes only the default serializer.
  const std::string header =
      R"({"s": "orjson", "m": {"format": "orjson", "encoding": "utf-8", "compressed": false, )"
      R"("original_type": "orjson"}, "v": "2.0"})";
  byte_buffer stored = hex("434b03");
  const auto n = static_cast<std::uint32_t>(header.size());
  for (int shift = 24; shift >= 0; shift -= 8) stored.push_back(std::byte((n >> shift) & 0xff));
  for (char c : header) stored.push_back(std::byte(c));
  stored.push_back(std::byte{'1'});
  auto opened = storage_format({}).open(stored, "k");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), errc::serializer_mismatch);
}

}  // namespace
}  // namespace cachekit
