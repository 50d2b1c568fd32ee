// BLAKE3 (the default hash mode, 32-byte output), written from the BLAKE3 specification for the
// key registry: cachekit-py names a function's key registry set with the first
// 8 bytes of BLAKE3(`module.qualname`), and Debian 12 packages no C BLAKE3 library.
// Portable and unoptimised (a few hundred MB/s is far more than a name needs). Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

/// BLAKE3-256 of `data`.
[[nodiscard]] std::array<std::uint8_t, 32> blake3_256(std::string_view data);

/// The first `bytes` bytes (at most 32) of BLAKE3(`data`) as lowercase hex: cachekit-py's
/// `blake3_hash(data, digest_size=bytes)`.
///     blake3_hex("", 4) == "af1349b9"
[[nodiscard]] std::string blake3_hex(std::string_view data, std::size_t bytes);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
