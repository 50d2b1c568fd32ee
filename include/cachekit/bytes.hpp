/// @file
/// Byte buffers: what cachekit stores and reads. Inputs are views, outputs owning buffers.
///
/// Thread safety: value types; thread-compatible.
#pragma once

#include <cachekit/export.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {

/// An owning buffer of bytes (stored values, keys' pre-images, ciphertexts).
using byte_buffer = std::vector<std::byte>;
/// A non-owning view of bytes.
using byte_view = std::span<const std::byte>;

/// Views the characters of `text` as bytes (no copy).
inline byte_view as_byte_view(std::string_view text) noexcept {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}
/// Views the bytes as characters (no copy).
inline std::string_view as_string_view(byte_view bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
/// Copies `text` into a byte buffer.
inline byte_buffer to_byte_buffer(std::string_view text) {
  auto view = as_byte_view(text);
  return {view.begin(), view.end()};
}

/// Lowercase hex of `bytes` ("00ff...").
CACHEKIT_EXPORT std::string to_hex(byte_view bytes);
/// Parses hex (either case, even length). Returns false and leaves `out` unspecified on a
/// non-hex character or an odd length.
[[nodiscard]] CACHEKIT_EXPORT bool from_hex(std::string_view hex, byte_buffer& out);

}  // namespace v0
}  // namespace cachekit
