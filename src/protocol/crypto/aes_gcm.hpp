// Test hooks of aes_gcm_encryptor. Not part of the public API: known-answer vectors need a
// chosen nonce, and nonce exhaustion cannot be reached by 2^32 real encryptions in a unit test.
#pragma once

#include <cachekit/encryption.hpp>

#include <cstdint>
#include <span>

namespace cachekit {
inline namespace v0 {
namespace detail {

struct aes_gcm_test_access {
  // Makes the next encryption use counter `next` (a test starts near 2^32 - 1).
  static void set_next_counter(aes_gcm_encryptor& encryptor, std::uint64_t next) noexcept;

  // Seals with `nonce` instead of the encryptor's own, without advancing its counter.
  // Reusing a nonce under one key destroys GCM's security: known-answer tests only.
  [[nodiscard]] static result<byte_buffer> encrypt_with_nonce_for_testing(
      aes_gcm_encryptor& encryptor, std::span<const std::byte, aes_gcm_nonce_size> nonce,
      byte_view plaintext, byte_view aad);
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
