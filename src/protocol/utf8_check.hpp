// UTF-8 validation for the text fields of the wire formats (envelope format, frame header
// strings). Rejects what Python's strict UTF-8 codec and Rust's `str::from_utf8` reject:
// overlong forms, surrogates (U+D800..U+DFFF) and code points above U+10FFFF.
//
// Thread-safe (pure function).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// The offset of the first byte that is not part of a valid UTF-8 sequence, or text.size().
inline std::size_t utf8_invalid_offset(std::string_view text) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      return i;
    }
    if (n - i < len) return i;
    if (s[i + 1] < lo || s[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return i;
    }
    i += len;
  }
  return n;
}

// True when all of `text` is well-formed UTF-8 (the one validator of the library; an ASCII
// fast path makes it cheap on keys). Defined in utf8_check.cpp.
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
