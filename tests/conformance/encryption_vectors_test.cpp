// The shared encryption vectors, encryption.json (fixture version 1.5.0): AES-256-GCM sealing
// with HKDF-SHA256 tenant keys and the v0x03 AAD (9 vectors); the rotation keyring (2 entries,
// 2 sealed values, 4 configurations); 10 ciphertexts presented under an AAD other than the one
// they were sealed with; 6 decrypted containers a reader must not unwrap as anything but its
// configured container; the default tenant; and master-key input (2 accepted keys, 11 hex and
// 5 raw keys refused).
#include <cachekit/cache_options.hpp>
#include <cachekit/encryption.hpp>
#include <cachekit/envelope.hpp>
#include <cachekit/storage_format.hpp>
#include <cachekit/value_codec.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "conformance/vector_file.hpp"
#include "protocol/big_endian.hpp"
#include "protocol/crypto/aes_gcm.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cachekit {
namespace {

std::filesystem::path vectors_file() {
  return test::vector_path("encryption.json");
}

std::optional<nlohmann::json> load() {
  return test::load_vector_file<nlohmann::json>("encryption.json");
}

byte_buffer hex(const std::string& h) {
  return test::hex_bytes(h);
}

std::string text(const nlohmann::json& v, const char* name) {
  return v.at(name).get<std::string>();
}

// The AAD fields a row names (original_type only when the row has one).
byte_buffer aad_of(const nlohmann::json& v, std::string_view tenant) {
  const std::string cache_key = text(v, "cache_key");
  const std::string format = text(v, "format");
  std::optional<std::string> original_type;
  if (v.contains("original_type")) original_type = text(v, "original_type");
  return encode_aad({.tenant_id = tenant,
                     .cache_key = cache_key,
                     .format = format,
                     .compressed = v.at("compressed").get<bool>(),
                     .original_type = original_type
                                          ? std::optional<std::string_view>(*original_type)
                                          : std::nullopt});
}

aes_gcm_encryptor encryptor_for(const std::string& master_hex, std::string_view tenant) {
  const auto keys = derive_tenant_keys(hex(master_hex), tenant);
  EXPECT_TRUE(keys) << keys.error().message();
  return aes_gcm_encryptor::create(keys->encryption.view()).value();
}

// Seals `plaintext` with the nonce at the front of `expected` and compares the bytes, then opens
// `expected` and compares the plaintext.
void expect_sealed_and_opened(aes_gcm_encryptor& encryptor, const nlohmann::json& v,
                              const byte_buffer& aad) {
  const byte_buffer plaintext = hex(text(v, "plaintext_hex"));
  const byte_buffer expected = hex(text(v, "ciphertext_hex"));
  ASSERT_GE(expected.size(), aes_gcm_overhead);
  const auto sealed = detail::aes_gcm_test_access::encrypt_with_nonce_for_testing(
      encryptor,
      std::span<const std::byte, aes_gcm_nonce_size>(expected.data(), aes_gcm_nonce_size),
      plaintext, aad);
  ASSERT_TRUE(sealed) << sealed.error().message();
  EXPECT_EQ(to_hex(*sealed), text(v, "ciphertext_hex"));
  const auto opened = encryptor.decrypt(expected, aad);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(to_hex(*opened), text(v, "plaintext_hex"));
}

TEST(encryption_vectors, the_main_key_derives_the_pinned_fingerprint_and_seals_all_9_vectors) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  EXPECT_EQ((*doc)["version"], "1.5.0");
  EXPECT_EQ((*doc)["nonce_size"].get<std::size_t>(), aes_gcm_nonce_size);
  EXPECT_EQ((*doc)["tag_size"].get<std::size_t>(), aes_gcm_tag_size);
  const std::string master = text(*doc, "master_key_hex");
  const std::string tenant = text(*doc, "tenant_id");
  const auto keys = derive_tenant_keys(hex(master), tenant).value();
  EXPECT_EQ(key_fingerprint(keys.encryption.view()), text(*doc, "derived_key_fingerprint_hex"));

  auto encryptor = encryptor_for(master, tenant);
  const auto ring = keyring::from_hex(master).value().for_tenant(tenant).value();
  const auto& vectors = (*doc)["vectors"];
  ASSERT_EQ(vectors.size(), 9u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(text(v, "name"));
    const byte_buffer aad = aad_of(v, tenant);
    EXPECT_EQ(to_hex(aad), text(v, "aad_hex"));
    expect_sealed_and_opened(encryptor, v, aad);
    const auto by_ring = ring.decrypt_by_fingerprint(text(*doc, "derived_key_fingerprint_hex"),
                                                     hex(text(v, "ciphertext_hex")), aad);
    ASSERT_TRUE(by_ring) << by_ring.error().message();
    EXPECT_EQ(to_hex(*by_ring), text(v, "plaintext_hex"));
  }
}

TEST(encryption_vectors, a_keyring_opens_each_entry_with_the_key_it_names) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& ring_doc = (*doc)["keyring"];
  const std::string tenant = text(ring_doc, "tenant_id");
  std::map<std::string, std::string> master_of;  // entry id -> master key hex
  std::map<std::string, std::string> fingerprint_of;
  ASSERT_EQ(ring_doc["entries"].size(), 2u);
  for (const auto& e : ring_doc["entries"]) {
    SCOPED_TRACE(text(e, "id"));
    const auto keys = derive_tenant_keys(hex(text(e, "master_key_hex")), tenant).value();
    EXPECT_EQ(key_fingerprint(keys.encryption.view()), text(e, "derived_key_fingerprint_hex"));
    master_of[text(e, "id")] = text(e, "master_key_hex");
    fingerprint_of[text(e, "id")] = text(e, "derived_key_fingerprint_hex");
  }
  // Current k2, previous k1: both entries open, by fingerprint and by trying each key.
  const std::string_view previous[] = {master_of["k1"]};
  const auto rotated =
      keyring::from_hex(master_of["k2"], previous).value().for_tenant(tenant).value();
  ASSERT_EQ(ring_doc["vectors"].size(), 2u);
  for (const auto& v : ring_doc["vectors"]) {
    SCOPED_TRACE(text(v, "name"));
    const byte_buffer aad = aad_of(v, tenant);
    EXPECT_EQ(to_hex(aad), text(v, "aad_hex"));
    const std::string id = text(v, "encrypted_with");
    EXPECT_EQ(text(v, "key_fingerprint_hex"), fingerprint_of[id]);
    auto encryptor = encryptor_for(master_of[id], tenant);
    expect_sealed_and_opened(encryptor, v, aad);
    const byte_buffer sealed = hex(text(v, "ciphertext_hex"));
    const auto by_fingerprint =
        rotated.decrypt_by_fingerprint(text(v, "key_fingerprint_hex"), sealed, aad);
    ASSERT_TRUE(by_fingerprint) << by_fingerprint.error().message();
    EXPECT_EQ(to_hex(*by_fingerprint), text(v, "plaintext_hex"));
    const auto sequential = rotated.decrypt_sequential(sealed, aad);
    ASSERT_TRUE(sequential) << sequential.error().message();
    EXPECT_EQ(to_hex(*sequential), text(v, "plaintext_hex"));
    // A keyring without that key names no key for it.
    const std::string other = id == "k1" ? "k2" : "k1";
    const auto without = keyring::from_hex(master_of[other]).value().for_tenant(tenant).value();
    EXPECT_EQ(without.decrypt_by_fingerprint(text(v, "key_fingerprint_hex"), sealed, aad).code(),
              errc::unknown_key_fingerprint);
    EXPECT_EQ(without.decrypt_sequential(sealed, aad).code(), errc::authentication_failed);
  }
}

TEST(encryption_vectors, keyring_configurations_are_accepted_or_refused_when_loaded) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["keyring"]["configuration"]["vectors"];
  ASSERT_EQ(vectors.size(), 4u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(text(v, "name"));
    std::vector<std::string> keys;
    for (const auto& k : v["decrypt_only_master_keys_hex"]) keys.push_back(k.get<std::string>());
    const std::vector<std::string_view> previous(keys.begin(), keys.end());
    const auto ring = keyring::from_hex(text(v, "current_master_key_hex"), previous);
    if (text(v, "verdict") == "accept") {
      ASSERT_TRUE(ring) << ring.error().message();
      EXPECT_EQ(ring->previous_key_count(), previous.size());
    } else {
      ASSERT_EQ(text(v, "verdict"), "reject");
      ASSERT_FALSE(ring);
      EXPECT_EQ(ring.code(), errc_group::fix_config) << ring.error().message();
    }
  }
}

TEST(encryption_vectors, all_10_ciphertexts_under_another_aad_fail_authentication) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const std::string tenant = text(*doc, "tenant_id");
  const auto encryptor = encryptor_for(text(*doc, "master_key_hex"), tenant);
  std::map<std::string, nlohmann::json> sealed_rows;
  for (const auto& v : (*doc)["vectors"]) sealed_rows[text(v, "name")] = v;
  const auto& vectors = (*doc)["aad_reject_vectors"];
  ASSERT_EQ(vectors.size(), 10u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(text(v, "name"));
    const byte_buffer presented = aad_of(v, tenant);
    EXPECT_EQ(to_hex(presented), text(v, "aad_hex"));
    const auto& original = sealed_rows.at(text(v, "sealed_as"));
    EXPECT_EQ(text(v, "ciphertext_hex"), text(original, "ciphertext_hex"));
    const auto opened = encryptor.decrypt(hex(text(v, "ciphertext_hex")), presented);
    ASSERT_FALSE(opened) << "opened under the presented AAD";
    EXPECT_EQ(opened.code(), errc::authentication_failed);
    // The AAD it was sealed with opens it: only the AAD differs.
    EXPECT_TRUE(encryptor.decrypt(hex(text(v, "ciphertext_hex")), aad_of(original, tenant)));
  }
}

// cachekit-py's checksummed containers (ArrowSerializer, OrjsonSerializer with integrity
// checking): an 8-byte big-endian xxHash3-64 of the rest, then the rest. This SDK has neither
// serializer; a reader configured for one checks this first.
bool checksummed_container_holds(byte_view plaintext) {
  if (plaintext.size() < 8) return false;
  return detail::load_be<std::uint64_t>(plaintext.data()) == checksum_xxh3(plaintext.subspan(8));
}

TEST(encryption_vectors, a_decrypted_container_is_only_read_as_the_configured_one) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const std::string tenant = text(*doc, "tenant_id");
  const auto ring = keyring::from_hex(text(*doc, "master_key_hex")).value();
  const auto tenant_keys = ring.for_tenant(tenant).value();
  // This SDK's interop reader (four-part AAD, compressed False): the plain-MessagePack reader.
  const storage_format interop_reader({.mode = storage_mode::interop, .encryption = tenant_keys});
  const auto& vectors = (*doc)["decrypted_container"]["vectors"];
  ASSERT_EQ(vectors.size(), 6u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(text(v, "name"));
    const byte_buffer aad = aad_of(v, tenant);
    EXPECT_EQ(to_hex(aad), text(v, "aad_hex"));
    const byte_buffer sealed = hex(text(v, "ciphertext_hex"));
    const auto plaintext = tenant_keys.decrypt_sequential(sealed, aad);
    ASSERT_TRUE(plaintext) << plaintext.error().message();
    ASSERT_EQ(to_hex(*plaintext), text(v, "plaintext_hex"));

    const std::string reader = text(v, "reader");
    const std::string outcome = text(v, "outcome");
    if (reader == "plain_msgpack" || reader == "interop") {
      // Through the whole read: decrypt, then one MessagePack document, never unwrapped further.
      const auto opened = interop_reader.open(sealed, text(v, "cache_key"));
      const result<value> read =
          opened ? decode_interop_value(opened->msgpack) : result<value>(opened.error());
      if (outcome == "not_unwrapped") {
        // The envelope's own fields (an array of 4), not the map inside its compressed data.
        ASSERT_TRUE(read) << read.error().message();
        const auto inner = envelope::decode(*plaintext);
        ASSERT_TRUE(inner);
        EXPECT_NE(*read, decode_standard_value(inner->data).value());
        EXPECT_NE(read->get_if<value_array>(), nullptr);
      } else {
        ASSERT_EQ(outcome, "error");
        ASSERT_FALSE(read) << "read a value";
        EXPECT_EQ(read.code(), errc_group::corrupt_data) << read.error().message();
      }
    } else if (reader == "bytestorage_envelope") {
      ASSERT_EQ(outcome, "error");
      const auto unwrapped = envelope::decode(*plaintext);
      ASSERT_FALSE(unwrapped) << "unwrapped as an envelope";
      EXPECT_EQ(unwrapped.code(), errc_group::corrupt_data);
    } else if (reader == "arrow_checksummed" || reader == "orjson_checksummed") {
      ASSERT_EQ(outcome, "error");
      EXPECT_FALSE(checksummed_container_holds(*plaintext));
    } else {
      ADD_FAILURE() << "a reader this test does not know: " << reader;
    }
  }
}

TEST(encryption_vectors, without_a_tenant_keys_and_aad_use_the_literal_default) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& section = (*doc)["default_tenant"];
  const std::string tenant = text(section, "tenant_id");
  const std::string master = text(*doc, "master_key_hex");
  // What a cache seals for when no tenant is given.
  EXPECT_EQ(tenant, encryption_options{.keys = keyring::from_hex(master).value()}.tenant);
  EXPECT_EQ(key_fingerprint(derive_tenant_keys(hex(master), tenant).value().encryption.view()),
            text(section, "derived_key_fingerprint_hex"));
  auto encryptor = encryptor_for(master, tenant);
  const storage_format reader(
      {.mode = storage_mode::interop,
       .encryption = keyring::from_hex(master).value().for_tenant(tenant).value()});
  ASSERT_EQ(section["vectors"].size(), 1u);
  for (const auto& v : section["vectors"]) {
    SCOPED_TRACE(text(v, "name"));
    const byte_buffer aad = aad_of(v, tenant);
    EXPECT_EQ(to_hex(aad), text(v, "aad_hex"));
    expect_sealed_and_opened(encryptor, v, aad);
    // Loadable as an interop-mode entry under its key.
    const auto opened = reader.open(hex(text(v, "ciphertext_hex")), text(v, "cache_key"));
    ASSERT_TRUE(opened) << opened.error().message();
    EXPECT_EQ(to_hex(opened->msgpack), text(v, "plaintext_hex"));
  }
}

TEST(encryption_vectors, master_keys_are_hex_of_at_least_32_bytes_and_raw_keys_exactly_32) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& section = (*doc)["master_key_input"];
  const std::string tenant = text(section, "tenant_id");
  ASSERT_EQ(section["accept_vectors"].size(), 2u);
  for (const auto& v : section["accept_vectors"]) {
    SCOPED_TRACE(text(v, "name"));
    const auto key = parse_master_key(text(v, "master_key_hex"));
    ASSERT_TRUE(key) << key.error().message();
    EXPECT_EQ(to_hex(key->view()), text(v, "master_key_hex"));
    const auto ring = keyring::from_hex(text(v, "master_key_hex"));
    ASSERT_TRUE(ring) << ring.error().message();
    const auto keys = ring->for_tenant(tenant).value();
    EXPECT_EQ(keys.current_fingerprint(), text(v, "derived_key_fingerprint_hex"));
    const byte_buffer aad = aad_of(v, tenant);
    EXPECT_EQ(to_hex(aad), text(v, "aad_hex"));
    auto encryptor = encryptor_for(text(v, "master_key_hex"), tenant);
    expect_sealed_and_opened(encryptor, v, aad);
    // The raw-bytes entry point takes the same 32 bytes.
    EXPECT_TRUE(keyring::create(secret_bytes(hex(text(v, "master_key_hex")))));
  }
  ASSERT_EQ(section["reject_vectors"].size(), 11u);
  for (const auto& v : section["reject_vectors"]) {
    SCOPED_TRACE(text(v, "name"));
    const std::string key_hex = text(v, "master_key_hex");
    EXPECT_EQ(parse_master_key(key_hex).code(), errc::invalid_master_key);
    EXPECT_EQ(keyring::from_hex(key_hex).code(), errc::invalid_master_key);
    // As a previous (decrypt-only) key too.
    const std::string current = text(section["accept_vectors"][0], "master_key_hex");
    const std::string_view previous[] = {key_hex};
    EXPECT_EQ(keyring::from_hex(current, previous).code(), errc::invalid_master_key);
  }
  ASSERT_EQ(section["raw_reject_vectors"].size(), 5u);
  for (const auto& v : section["raw_reject_vectors"]) {
    SCOPED_TRACE(text(v, "name"));
    const byte_buffer raw = hex(text(v, "raw_key_hex"));
    EXPECT_EQ(keyring::create(secret_bytes(raw)).code(), errc::invalid_master_key);
    const byte_buffer current = hex(text(section["accept_vectors"][0], "master_key_hex"));
    std::vector<secret_bytes> previous;
    previous.emplace_back(raw);
    EXPECT_EQ(keyring::create(secret_bytes(current), std::move(previous)).code(),
              errc::invalid_master_key);
  }
}

}  // namespace
}  // namespace cachekit
