// Owning handles for the OpenSSL objects the crypto layer keeps, so every early return frees
// (and, for contexts holding keys, cleanses) them.
#pragma once

#include <openssl/evp.h>

#include <memory>

namespace cachekit {
inline namespace v0 {
namespace detail {

struct evp_cipher_ctx_deleter {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
struct evp_mac_ctx_deleter {
  void operator()(EVP_MAC_CTX* ctx) const noexcept { EVP_MAC_CTX_free(ctx); }
};
struct evp_md_ctx_deleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

using evp_cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, evp_cipher_ctx_deleter>;
using evp_mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, evp_mac_ctx_deleter>;
using evp_md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, evp_md_ctx_deleter>;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
