#include "protocol/crypto/hkdf.hpp"

#include "protocol/crypto/evp_handles.hpp"

#include <cachekit/secret_bytes.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::size_t sha256_size = 32;

// Fetched once: an implicit fetch per call costs more than the HMAC itself (research/limits.md).
// Never freed; it lives as long as the process, like OpenSSL's own method store.
EVP_MAC* hmac_method() noexcept {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
  return mac;
}

// One HMAC-SHA256 context per thread, reused: a fresh context per derivation costs ~35 % more
// (1.3 us vs 0.95 us per domain key, measured). After each derivation the context is re-keyed
// with zeros (`forget_key`), so no PRK-derived state stays in the thread's memory between calls.
class hmac_sha256 {
 public:
  hmac_sha256() noexcept {
    if (EVP_MAC* mac = hmac_method()) ctx_.reset(EVP_MAC_CTX_new(mac));
  }
  [[nodiscard]] bool ok() const noexcept { return ctx_ != nullptr; }

  // Starts a MAC under `key`; the digest is named only on the first call (it is kept after).
  [[nodiscard]] bool init(byte_view key) noexcept {
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_end(), OSSL_PARAM_construct_end()};
    if (!digest_set_) {
      params[0] =
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
    }
    // HMAC treats an empty key as a block of zeros; OpenSSL wants a non-null pointer for it.
    static const unsigned char empty_key = 0;
    const auto* key_data =
        key.empty() ? &empty_key : reinterpret_cast<const unsigned char*>(key.data());
    if (EVP_MAC_init(ctx_.get(), key_data, key.size(), params) != 1) return false;
    digest_set_ = true;
    return true;
  }
  [[nodiscard]] bool update(byte_view data) noexcept {
    return data.empty() ||
           EVP_MAC_update(ctx_.get(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
  }
  void forget_key() noexcept {
    static constexpr std::array<std::byte, sha256_size> zeros{};
    if (digest_set_) (void)init(zeros);
  }
  [[nodiscard]] bool final(std::span<std::byte, sha256_size> out) noexcept {
    std::size_t written = 0;
    return EVP_MAC_final(ctx_.get(), reinterpret_cast<unsigned char*>(out.data()), &written,
                         out.size()) == 1 &&
           written == sha256_size;
  }

 private:
  evp_mac_ctx_ptr ctx_;
  bool digest_set_ = false;
};

bool hkdf_into(hmac_sha256& mac, byte_view ikm, byte_view salt, byte_view info,
               std::span<std::byte> out) noexcept {
  // Extract: PRK = HMAC(salt, IKM).
  std::array<std::byte, sha256_size> prk{};
  std::array<std::byte, sha256_size> block{};
  bool ok = mac.init(salt) && mac.update(ikm) && mac.final(prk);

  // Expand: T(i) = HMAC(PRK, T(i-1) || info || i), out = T(1) || T(2) || ... truncated.
  std::size_t written = 0;
  for (std::uint8_t i = 1; ok && written < out.size(); ++i) {
    const std::byte counter{i};
    ok = mac.init(prk) && (i == 1 || mac.update(block)) && mac.update(info) &&
         mac.update({&counter, 1}) && mac.final(block);
    if (ok) {
      const std::size_t n = std::min(sha256_size, out.size() - written);
      std::copy_n(block.begin(), n, out.begin() + static_cast<std::ptrdiff_t>(written));
      written += n;
    }
  }
  secure_wipe(prk);
  secure_wipe(block);
  return ok;
}

}  // namespace

bool hkdf_sha256(byte_view ikm, byte_view salt, byte_view info, std::span<std::byte> out) noexcept {
  if (!out.empty() && out.size() <= hkdf_sha256_max_output) {
    thread_local hmac_sha256 mac;
    const bool ok = mac.ok() && hkdf_into(mac, ikm, salt, info, out);
    mac.forget_key();
    if (ok) return true;
  }
  secure_wipe(out);
  return false;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
