#include <gtest/gtest.h>

#include <cachekit/encryption.hpp>

#include "unit/encryption_vectors.hpp"

#include <array>
#include <cctype>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using test::bytes_from_hex;

const std::string key_a(64, 'a');
const std::string key_b(64, 'b');
const std::string key_c(64, 'c');
const std::string key_d(64, 'd');
const std::string key_e(64, 'e');

keyring ring(std::string_view current, std::vector<std::string_view> previous = {}) {
  auto r = keyring::from_hex(current, previous);
  EXPECT_TRUE(r) << r.error().message();
  return std::move(r).value();
}

tenant_keyring tenant(const keyring& r, std::string_view id) {
  return r.for_tenant(id).value();
}

TEST(keyring, current_fingerprint_matches_the_cross_sdk_vector) {
  const keyring r = ring(test::vector_master_key_hex);
  EXPECT_EQ(tenant(r, test::vector_tenant).current_fingerprint(), test::vector_fingerprint);
  EXPECT_EQ(r.previous_key_count(), 0u);
}

TEST(keyring, opens_the_cross_sdk_ciphertext_sequentially_and_by_fingerprint) {
  const keyring r = ring(key_b, {test::vector_master_key_hex});
  const tenant_keyring t = tenant(r, test::vector_tenant);
  const byte_buffer sealed = bytes_from_hex(test::vector_ciphertext_hex);
  const byte_buffer aad = bytes_from_hex(test::vector_aad_hex);
  auto sequential = t.decrypt_sequential(sealed, aad);
  ASSERT_TRUE(sequential) << sequential.error().message();
  EXPECT_EQ(to_hex(*sequential), test::vector_plaintext_hex);
  auto by_fingerprint = t.decrypt_by_fingerprint(test::vector_fingerprint, sealed, aad);
  ASSERT_TRUE(by_fingerprint);
  EXPECT_EQ(to_hex(*by_fingerprint), test::vector_plaintext_hex);
}

TEST(keyring, fingerprints_list_current_first_then_previous_in_order) {
  const keyring r = ring(key_a, {key_b, key_c});
  const tenant_keyring t = tenant(r, "t");
  const auto expect = [](const std::string& hex) {
    return key_fingerprint(derive_tenant_keys(bytes_from_hex(hex), "t").value().encryption.view());
  };
  const std::vector<std::string_view> fps = t.fingerprints();
  ASSERT_EQ(fps.size(), 3u);
  EXPECT_EQ(fps[0], expect(key_a));
  EXPECT_EQ(fps[1], expect(key_b));
  EXPECT_EQ(fps[2], expect(key_c));
  EXPECT_EQ(t.current_fingerprint(), fps[0]);
  EXPECT_EQ(t.tenant_id(), "t");
}

TEST(keyring, rotation_reads_old_entries_by_fingerprint) {
  const keyring before = ring(key_a);
  tenant_keyring old_tenant = tenant(before, "t");
  const byte_buffer aad = encode_aad({.tenant_id = "t", .cache_key = "k"});
  const byte_buffer sealed = old_tenant.encrypt(to_byte_buffer("v1"), aad).value();
  const std::string written_fp(old_tenant.current_fingerprint());

  const keyring after = ring(key_b, {key_a});
  tenant_keyring new_tenant = tenant(after, "t");
  auto opened = new_tenant.decrypt_by_fingerprint(written_fp, sealed, aad);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(*opened, to_byte_buffer("v1"));

  // New writes use the new current key, which the old keyring does not know.
  const byte_buffer fresh = new_tenant.encrypt(to_byte_buffer("v2"), aad).value();
  EXPECT_TRUE(new_tenant.decrypt_by_fingerprint(new_tenant.current_fingerprint(), fresh, aad));
  EXPECT_EQ(old_tenant.decrypt_sequential(fresh, aad).code(), errc::authentication_failed);
}

TEST(keyring, rotation_reads_old_entries_sequentially) {
  const keyring before = ring(key_a);
  const byte_buffer sealed = tenant(before, "t").encrypt(to_byte_buffer("v1"), {}).value();
  const keyring after = ring(key_c, {key_b, key_a});
  auto opened = tenant(after, "t").decrypt_sequential(sealed, {});
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(*opened, to_byte_buffer("v1"));
}

TEST(keyring, encrypt_to_seals_after_a_header_with_the_current_key) {
  const keyring r = ring(key_b, {key_a});
  tenant_keyring t = tenant(r, "t");
  const byte_buffer plaintext = to_byte_buffer("value");
  byte_buffer frame(3 + plaintext.size() + aes_gcm_overhead, std::byte{0xCC});
  ASSERT_TRUE(t.encrypt_to(std::span(frame).subspan(3), plaintext, {}));
  EXPECT_EQ(frame[0], std::byte{0xCC});  // the header is untouched
  auto opened = t.decrypt_by_fingerprint(t.current_fingerprint(), byte_view(frame).subspan(3), {});
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(*opened, plaintext);
  EXPECT_EQ(t.encrypt_to(frame, plaintext, {}).code(), errc::invalid_argument);
}

TEST(keyring, fingerprint_lookup_accepts_uppercase_hex) {
  const keyring r = ring(key_a);
  tenant_keyring t = tenant(r, "t");
  const byte_buffer sealed = t.encrypt(to_byte_buffer("v"), {}).value();
  std::string upper(t.current_fingerprint());
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(t.decrypt_by_fingerprint(upper, sealed, {}));
}

TEST(keyring, by_fingerprint_tries_only_the_named_key) {
  const keyring writer = ring(key_a);
  const byte_buffer sealed = tenant(writer, "t").encrypt(to_byte_buffer("v"), {}).value();
  const keyring reader = ring(key_b, {key_a});
  const tenant_keyring t = tenant(reader, "t");
  // Naming the current key (which did not write it) fails; the previous key is not tried.
  auto opened = t.decrypt_by_fingerprint(t.current_fingerprint(), sealed, {});
  EXPECT_EQ(opened.code(), errc::authentication_failed);
}

TEST(keyring, unknown_fingerprint_is_reported_without_trying) {
  const keyring writer = ring(key_a);
  tenant_keyring w = tenant(writer, "t");
  const byte_buffer sealed = w.encrypt(to_byte_buffer("v"), {}).value();
  const keyring reader = ring(key_b, {key_c});
  const tenant_keyring t = tenant(reader, "t");
  auto opened = t.decrypt_by_fingerprint(w.current_fingerprint(), sealed, {});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), errc::unknown_key_fingerprint);
  EXPECT_NE(opened.error().detail.find(std::string(w.current_fingerprint())), std::string::npos);
  EXPECT_EQ(t.decrypt_by_fingerprint("not-a-fingerprint", sealed, {}).code(),
            errc::unknown_key_fingerprint);
  EXPECT_EQ(t.decrypt_sequential(sealed, {}).code(), errc::authentication_failed);
}

TEST(keyring, invalid_ciphertext_stops_the_sequential_search) {
  const keyring r = ring(key_a, {key_b});
  auto opened = tenant(r, "t").decrypt_sequential(byte_buffer(10), {});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), errc::invalid_ciphertext);
}

TEST(keyring, another_tenant_cannot_open_the_entry) {
  const keyring r = ring(key_a, {key_b});
  const byte_buffer aad = encode_aad({.tenant_id = "alice", .cache_key = "k"});
  const byte_buffer sealed = tenant(r, "alice").encrypt(to_byte_buffer("secret"), aad).value();
  const tenant_keyring bob = tenant(r, "bob");
  EXPECT_EQ(bob.decrypt_sequential(sealed, aad).code(), errc::authentication_failed);
  EXPECT_EQ(bob.decrypt_by_fingerprint(bob.current_fingerprint(), sealed, aad).code(),
            errc::authentication_failed);
}

TEST(keyring, accepts_three_previous_keys_and_rejects_four) {
  EXPECT_TRUE(keyring::from_hex(key_a, std::vector<std::string_view>{key_b, key_c, key_d}));
  std::vector<std::string_view> four = {key_b, key_c, key_d, key_e};
  auto r = keyring::from_hex(key_a, four);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::invalid_configuration);
  EXPECT_NE(r.error().detail.find("4 previous master keys"), std::string::npos);

  std::vector<secret_bytes> keys;
  for (const auto& hex : four) keys.push_back(parse_master_key(hex).value());
  EXPECT_EQ(keyring::create(parse_master_key(key_a).value(), std::move(keys)).code(),
            errc::invalid_configuration);
}

TEST(keyring, rejects_the_current_key_among_the_previous_compared_as_bytes) {
  std::string upper_a(64, 'A');
  auto r = keyring::from_hex(key_a, std::vector<std::string_view>{key_b, upper_a});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::invalid_configuration);
  EXPECT_EQ(r.error().detail,
            "the current master key is also previous master key #2; rotation only moves forward: "
            "remove it from the previous keys");
}

TEST(keyring, names_the_bad_key_without_showing_it) {
  auto short_previous = keyring::from_hex(key_a, std::vector<std::string_view>{key_b, "abcd"});
  ASSERT_FALSE(short_previous);
  EXPECT_EQ(short_previous.code(), errc::invalid_master_key);
  EXPECT_EQ(short_previous.error().detail,
            "previous master key #2 is 2 bytes; at least 32 bytes (64 hex characters) are "
            "required; generate one with: openssl rand -hex 32");

  const std::string not_hex = std::string(63, 'a') + "x";
  auto bad_current = keyring::from_hex(not_hex);
  ASSERT_FALSE(bad_current);
  EXPECT_EQ(bad_current.code(), errc::invalid_master_key);
  EXPECT_EQ(bad_current.error().detail.rfind("the current master key is not hex", 0), 0u);
  EXPECT_EQ(bad_current.error().detail.find("aaaa"), std::string::npos);

  EXPECT_EQ(keyring::create(secret_bytes(byte_buffer(16))).code(), errc::invalid_master_key);
}

TEST(keyring, rejects_an_empty_or_oversized_tenant) {
  const keyring r = ring(key_a);
  EXPECT_EQ(r.for_tenant("").code(), errc::invalid_argument);
  EXPECT_EQ(r.for_tenant(std::string(1025, 't')).code(), errc::invalid_argument);
  EXPECT_TRUE(r.for_tenant(std::string(1024, 't')));
}

TEST(keyring, derives_once_per_tenant_and_handles_share_the_nonce_sequence) {
  const keyring r = ring(key_a);
  tenant_keyring first = tenant(r, "t");
  tenant_keyring second = tenant(r, "t");
  const byte_buffer s1 = first.encrypt({}, {}).value();
  const byte_buffer s2 = second.encrypt({}, {}).value();
  // Same instance id (one encryptor), consecutive counters.
  EXPECT_TRUE(std::equal(s1.begin(), s1.begin() + 8, s2.begin()));
  EXPECT_EQ(s1[11], std::byte{0});
  EXPECT_EQ(s2[11], std::byte{1});
}

TEST(keyring, concurrent_first_use_of_a_tenant_derives_once) {
  const keyring r = ring(key_a, {key_b});
  constexpr int threads = 4;
  std::array<byte_buffer, threads> sealed;
  {
    std::vector<std::jthread> workers;
    for (int i = 0; i < threads; ++i) {
      workers.emplace_back([&, i] { sealed[i] = tenant(r, "shared").encrypt({}, {}).value(); });
    }
  }
  for (int i = 1; i < threads; ++i) {
    EXPECT_TRUE(std::equal(sealed[0].begin(), sealed[0].begin() + 8, sealed[i].begin()));
  }
}

TEST(keyring, tenant_handle_outlives_the_keyring) {
  std::optional<tenant_keyring> handle;
  {
    const keyring r = ring(key_a);
    handle = tenant(r, "t");
  }
  const byte_buffer sealed = handle->encrypt(to_byte_buffer("v"), {}).value();
  EXPECT_EQ(handle->decrypt_sequential(sealed, {}).value(), to_byte_buffer("v"));
}

}  // namespace
}  // namespace cachekit

namespace cachekit {
namespace {

TEST(keyring, refuses_an_all_zero_master_key) {
  const std::string zeros(64, '0');
  auto current = keyring::from_hex(zeros);
  ASSERT_FALSE(current);
  EXPECT_EQ(current.code(), errc::invalid_master_key);
  EXPECT_NE(current.error().detail.find("openssl rand -hex 32"), std::string::npos);
  const std::string_view previous[] = {zeros};
  auto rotated = keyring::from_hex(std::string(64, 'a'), previous);
  ASSERT_FALSE(rotated);
  EXPECT_NE(rotated.error().detail.find("previous master key #1"), std::string::npos);
}

}  // namespace
}  // namespace cachekit
