// Feeds arbitrary bytes to AES-256-GCM decryption (the encryptor and both keyring lookups) with
// fixed keys and AAD. Ciphertexts come from a shared backend, so they are untrusted input: every
// input must end in a value or a clean error, and the paths must agree with each other.
//
// The key setup is the interop vector's (master 0x61 * 32, tenant "cross-sdk-test"), so the seed
// fuzz/seeds/decrypt_fuzz/interop_vector_ciphertext is a real ciphertext and the success paths
// are reached too.
#include "support/allocation_budget.hpp"

#include <cachekit/encryption.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace cachekit;

struct fixture {
  keyring ring;
  tenant_keyring tenant;
  aes_gcm_encryptor encryptor;
  byte_buffer aad;
  std::string previous_fingerprint;
};

fixture make_fixture() {
  // The vector's master key is 32 bytes of 0x61 ('a'). The keyring holds it as the last of two
  // previous keys, so the sequential search has to fall through two wrong keys to reach it.
  const std::string vector_master(32, 'a');
  std::vector<secret_bytes> previous;
  previous.push_back(parse_master_key(std::string(64, '6')).value());
  previous.emplace_back(as_byte_view(vector_master));
  keyring ring =
      keyring::create(parse_master_key(std::string(64, 'b')).value(), std::move(previous)).value();
  tenant_keyring tenant = ring.for_tenant("cross-sdk-test").value();
  std::string fingerprint(tenant.fingerprints().back());

  auto keys = derive_tenant_keys(as_byte_view(vector_master), "cross-sdk-test").value();
  aes_gcm_encryptor encryptor = aes_gcm_encryptor::create(keys.encryption.view()).value();
  byte_buffer aad = encode_aad(
      {.tenant_id = "cross-sdk-test",
       .cache_key =
           "users:get_user:61598716255080080f6456eb065c2e51badfaa4320b0efe97469c29cffee8875"});
  return {std::move(ring), std::move(tenant), std::move(encryptor), std::move(aad),
          std::move(fingerprint)};
}

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Memory amplification bound: decryption allocates the plaintext, a little less than the input, a
  // few times.
  const cachekit_fuzz::allocation_budget budget(size, 8);
  static fixture f = make_fixture();
  const byte_view input(reinterpret_cast<const std::byte*>(data), size);

  auto direct = f.encryptor.decrypt(input, f.aad);
  if (size < aes_gcm_overhead) {
    check(direct.code() == errc::invalid_ciphertext);
  } else if (direct) {
    check(direct->size() == size - aes_gcm_overhead);
  } else {
    check(direct.code() == errc::authentication_failed);
  }

  auto sequential = f.tenant.decrypt_sequential(input, f.aad);
  check(sequential.code() == direct.code());
  if (direct) check(*sequential == *direct);

  auto by_fingerprint = f.tenant.decrypt_by_fingerprint(f.previous_fingerprint, input, f.aad);
  check(by_fingerprint.code() == direct.code());

  if (size >= aes_gcm_overhead) {
    byte_buffer out(size - aes_gcm_overhead);
    auto into = f.encryptor.decrypt_to(out, input, f.aad);
    check(into.code() == direct.code());
    if (direct) check(out == *direct);
  }
  return 0;
}
