// UTF-8 text from code points, for generators of valid strings in property tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cachekit::testing {

// The UTF-8 encoding of `code_points` (each at most U+10FFFF; surrogates are the caller's
// business).
inline std::string utf8_of(const std::vector<std::uint32_t>& code_points) {
  std::string out;
  for (const std::uint32_t cp : code_points) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  return out;
}

}  // namespace cachekit::testing
