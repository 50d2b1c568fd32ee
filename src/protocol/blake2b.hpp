// Unkeyed BLAKE2b (RFC 7693) over libsodium's crypto_generichash, the digest behind every
// cachekit key: BLAKE2b-256 of the argument pre-image, of over-long default keys, and the
// 2-byte digest of an unknown serializer name. OpenSSL 3.0 cannot produce BLAKE2b-256
// (research/limits.md), so libsodium it is.
//
// Thread-safe: stateless.
#pragma once

#include <cachekit/bytes.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <string>

// Spelled out: the public headers' detail lives in v0, and `namespace cachekit::detail` would
// land in v0::detail or not depending on which header a translation unit included first.
namespace cachekit {
inline namespace v0 {
namespace detail {

using blake2b_256_digest = std::array<std::byte, 32>;

// BLAKE2b with a 32-byte digest (Python: hashlib.blake2b(data, digest_size=32)).
blake2b_256_digest blake2b_256(byte_view input) noexcept;

// BLAKE2b with a digest of out.size() bytes, 1..64 (hashlib.blake2b(digest_size=n)). The digest
// size is part of BLAKE2b's parameter block, so a short digest is not a truncated long one.
void blake2b(byte_view input, std::span<std::byte> out) noexcept;

// Lowercase hex of BLAKE2b-256 (64 characters).
std::string blake2b_256_hex(byte_view input);

// Writes the 2 * bytes.size() lowercase hex digits of `bytes` to `out`.
void append_hex_lower(byte_view bytes, char* out) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
