// HKDF-SHA256 (RFC 5869) written over OpenSSL's HMAC. cachekit derives its domain keys with it
// (tenant_keys.cpp); it is its own unit so the RFC test vectors can exercise it with lengths
// and inputs the protocol never uses.
#pragma once

#include <cachekit/bytes.hpp>

#include <cstddef>
#include <span>

namespace cachekit {
inline namespace v0 {
namespace detail {

/// The longest output HKDF-SHA256 can produce (255 blocks of 32 bytes).
inline constexpr std::size_t hkdf_sha256_max_output = std::size_t{255} * 32;

/// Fills `out` with HKDF-SHA256(ikm, salt, info, L = out.size()). Returns false when `out` is
/// empty or longer than `hkdf_sha256_max_output`, or when OpenSSL cannot compute HMAC-SHA256
/// (no provider, out of memory); `out` is then zeroed. Intermediate keys are wiped.
[[nodiscard]] bool hkdf_sha256(byte_view ikm, byte_view salt, byte_view info,
                               std::span<std::byte> out) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
