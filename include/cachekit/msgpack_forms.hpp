/// @file
/// The MessagePack forms where cachekit's choice is not the only valid one, decided once for
/// every writer: the dynamic-value encoders (`value_codec.hpp`) and the typed packer
/// (`typed_packer.hpp`) both write through these, so a typed result and the same data as a
/// `cachekit::value` are the same bytes, which are msgpack-python's bytes.
///
/// - A floating-point number is always a float64 (`cb` + 8 big-endian IEEE-754 bytes), whatever
///   its value: `3.0`, `-0.0` and `2^63` stay floats, as a Python `float` does. (msgpack-cxx
///   writes a whole-number double as an integer and a `float` as a float32; Python would read
///   `3`, `0` and an int.) A C++ `float` is widened exactly to double first.
///
/// Thread safety: pure functions; thread-safe.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace cachekit {
inline namespace v0 {
namespace detail {

/// The 9 bytes every floating-point number is stored as.
[[nodiscard]] constexpr std::array<std::byte, 9> float64_form(double d) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(d);
  std::array<std::byte, 9> out{};
  out[0] = std::byte{0xcb};
  for (int i = 0; i < 8; ++i) out[1 + i] = static_cast<std::byte>(bits >> (56 - 8 * i));
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
