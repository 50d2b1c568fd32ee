#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cachekit/encryption.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace cachekit {
namespace {

byte_buffer to_bytes(const std::vector<std::uint8_t>& v) {
  byte_buffer out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = std::byte{v[i]};
  return out;
}

rc::Gen<std::vector<std::uint8_t>> key_bytes() {
  return rc::gen::container<std::vector<std::uint8_t>>(32, rc::gen::arbitrary<std::uint8_t>());
}

// Tenant ids as the SDKs see them: 1 to 64 printable bytes.
rc::Gen<std::string> tenant_ids() {
  return rc::gen::resize(
      64, rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::inRange<char>(0x20, 0x7f))));
}

const keyring& shared_keyring() {
  static const keyring ring =
      keyring::from_hex(std::string(64, '1'), std::vector<std::string_view>{std::string(64, '2')})
          .value();
  return ring;
}

RC_GTEST_PROP(encryption_property, encrypt_then_decrypt_returns_the_plaintext,
              (const std::vector<std::uint8_t>& payload, const std::vector<std::uint8_t>& aad)) {
  const auto key = *key_bytes();
  auto encryptor = aes_gcm_encryptor::create(to_bytes(key)).value();
  const byte_buffer plaintext = to_bytes(payload);
  const byte_buffer bound = to_bytes(aad);
  const byte_buffer sealed = encryptor.encrypt(plaintext, bound).value();
  RC_ASSERT(sealed.size() == plaintext.size() + aes_gcm_overhead);
  auto opened = encryptor.decrypt(sealed, bound);
  RC_ASSERT(opened.has_value());
  RC_ASSERT(*opened == plaintext);
}

RC_GTEST_PROP(encryption_property, any_changed_byte_fails_authentication,
              (const std::vector<std::uint8_t>& payload)) {
  auto encryptor = aes_gcm_encryptor::create(to_bytes(*key_bytes())).value();
  byte_buffer sealed = encryptor.encrypt(to_bytes(payload), {}).value();
  const auto index = *rc::gen::inRange<std::size_t>(0, sealed.size());
  const auto flip = *rc::gen::inRange<int>(1, 256);
  sealed[index] ^= std::byte(flip);
  RC_ASSERT(encryptor.decrypt(sealed, {}).code() == errc::authentication_failed);
}

RC_GTEST_PROP(encryption_property, another_tenant_never_decrypts,
              (const std::vector<std::uint8_t>& payload)) {
  const std::string writer = *tenant_ids();
  const std::string reader = *tenant_ids();
  RC_PRE(writer != reader);
  const keyring& ring = shared_keyring();
  tenant_keyring w = ring.for_tenant(writer).value();
  const tenant_keyring r = ring.for_tenant(reader).value();
  // The AAD both sides bind is the writer's: only the derived key differs.
  const byte_buffer aad = encode_aad({.tenant_id = writer, .cache_key = "k"});
  const byte_buffer sealed = w.encrypt(to_bytes(payload), aad).value();

  RC_ASSERT(r.decrypt_sequential(sealed, aad).code() == errc::authentication_failed);
  RC_ASSERT(r.decrypt_by_fingerprint(w.current_fingerprint(), sealed, aad).code() ==
            errc::unknown_key_fingerprint);
  RC_ASSERT(r.decrypt_by_fingerprint(r.current_fingerprint(), sealed, aad).code() ==
            errc::authentication_failed);
  RC_ASSERT(w.decrypt_by_fingerprint(w.current_fingerprint(), sealed, aad).has_value());
}

RC_GTEST_PROP(encryption_property, another_cache_key_in_the_aad_never_decrypts,
              (const std::string& key_a, const std::string& key_b)) {
  RC_PRE(key_a != key_b);
  tenant_keyring t = shared_keyring().for_tenant("tenant").value();
  const byte_buffer sealed =
      t.encrypt(to_byte_buffer("v"), encode_aad({.tenant_id = "tenant", .cache_key = key_a}))
          .value();
  RC_ASSERT(t.decrypt_sequential(sealed, encode_aad({.tenant_id = "tenant", .cache_key = key_b}))
                .code() == errc::authentication_failed);
}

}  // namespace
}  // namespace cachekit
