// Big-endian loads and stores for the wire formats (msgpack, CK frame, AAD, nonces).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace cachekit {
inline namespace v0 {
namespace detail {

template <typename U>
constexpr U byte_swap_if_little(U v) noexcept {
  static_assert(std::is_unsigned_v<U>);
  if constexpr (std::endian::native == std::endian::big || sizeof(U) == 1) {
    return v;
  } else if constexpr (sizeof(U) == 2) {
    return static_cast<U>(__builtin_bswap16(v));
  } else if constexpr (sizeof(U) == 4) {
    return static_cast<U>(__builtin_bswap32(v));
  } else {
    return static_cast<U>(__builtin_bswap64(v));
  }
}

template <typename U>
inline void store_be(std::byte* out, U v) noexcept {
  v = byte_swap_if_little(v);
  std::memcpy(out, &v, sizeof(U));
}

template <typename U>
inline U load_be(const std::byte* in) noexcept {
  U v;
  std::memcpy(&v, in, sizeof(U));
  return byte_swap_if_little(v);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
