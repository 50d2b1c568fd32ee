// UTF-8 text rules shared by the key generators: validation (Python strings are sequences of
// code points, so only well-formed UTF-8 has a Python equivalent) and code-point counting
// (Python's len() and slicing, which the 250-character default-key rule uses).
//
// Thread-safe: stateless.
#pragma once

#include "protocol/utf8_check.hpp"

#include <cstddef>
#include <string_view>

// Spelled out: the public headers' detail lives in v0, and `namespace cachekit::detail` would
// land in v0::detail or not depending on which header a translation unit included first.
namespace cachekit {
inline namespace v0 {
namespace detail {

// Number of code points in well-formed UTF-8 `text` (Python's len()).
std::size_t utf8_code_points(std::string_view text) noexcept;

// Byte length of the first `count` code points of well-formed UTF-8 `text` (Python's
// text[:count]); the whole text when it has fewer.
std::size_t utf8_prefix_bytes(std::string_view text, std::size_t count) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
