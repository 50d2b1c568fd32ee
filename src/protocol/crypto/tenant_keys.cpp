// cachekit's key schedule: per-domain, per-tenant keys derived from the master key with
// HKDF-SHA256, and the fingerprints that name them in CK frames.
#include "protocol/crypto/hkdf.hpp"
#include "protocol/crypto/master_key.hpp"

#include <cachekit/encryption.hpp>

#include <sodium.h>

#include <array>
#include <cstdint>
#include <string>

namespace cachekit {
inline namespace v0 {
namespace {

constexpr std::string_view salt_prefix = "cachekit_v1_";
constexpr std::size_t max_domain_size = 255;
constexpr std::size_t max_tenant_salt_size = 1024;

void append(byte_buffer& out, byte_view bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

}  // namespace

result<secret_bytes> derive_domain_key(byte_view master_key, std::string_view domain,
                                       byte_view tenant_salt) {
  if (master_key.size() < min_master_key_size) {
    return detail::master_key_too_short("the master key", master_key.size());
  }
  if (domain.empty() || domain.size() > max_domain_size) {
    return fail(errc::invalid_argument, "key derivation domain must be 1 to 255 bytes, got " +
                                            std::to_string(domain.size()));
  }
  if (tenant_salt.empty() || tenant_salt.size() > max_tenant_salt_size) {
    return fail(errc::invalid_argument,
                "tenant id must be 1 to 1024 bytes, got " + std::to_string(tenant_salt.size()));
  }

  // salt = "cachekit_v1_" || u8(len domain) || domain || u16be(len tenant) || tenant
  byte_buffer salt;
  salt.reserve(salt_prefix.size() + 1 + domain.size() + 2 + tenant_salt.size());
  append(salt, as_byte_view(salt_prefix));
  salt.push_back(static_cast<std::byte>(domain.size()));
  append(salt, as_byte_view(domain));
  salt.push_back(static_cast<std::byte>(tenant_salt.size() >> 8));
  salt.push_back(static_cast<std::byte>(tenant_salt.size() & 0xFF));
  append(salt, tenant_salt);

  secret_bytes key(aes_gcm_key_size);
  if (!detail::hkdf_sha256(master_key, salt, as_byte_view(domain), key.writable())) {
    return fail(errc::invalid_configuration,
                "OpenSSL could not compute HMAC-SHA256 for key derivation; check that the "
                "OpenSSL default provider is available");
  }
  return key;
}

result<tenant_keys> derive_tenant_keys(byte_view master_key, std::string_view tenant_id) {
  const byte_view tenant = as_byte_view(tenant_id);
  auto encryption = derive_domain_key(master_key, "encryption", tenant);
  if (!encryption) return std::move(encryption).error();
  auto authentication = derive_domain_key(master_key, "authentication", tenant);
  if (!authentication) return std::move(authentication).error();
  auto cache_keys = derive_domain_key(master_key, "cache_keys", tenant);
  if (!cache_keys) return std::move(cache_keys).error();
  return tenant_keys{.encryption = std::move(*encryption),
                     .authentication = std::move(*authentication),
                     .cache_keys = std::move(*cache_keys)};
}

std::string key_fingerprint(byte_view key) {
  // libsodium's SHA-256 cannot fail, so neither can this; it runs once per derived key.
  static constexpr std::string_view label = "key_fingerprint_v1";
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(label.data()),
                            label.size());
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  std::array<std::byte, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256_final(&state, reinterpret_cast<unsigned char*>(digest.data()));
  // The hash state has absorbed the key: wipe it like the key itself.
  secure_wipe({reinterpret_cast<std::byte*>(&state), sizeof(state)});
  return to_hex(byte_view(digest).first(16));
}

}  // namespace v0
}  // namespace cachekit
