#include "protocol/key_text.hpp"

#include <cstdint>
#include <cstring>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

bool is_continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

}  // namespace

std::size_t utf8_code_points(std::string_view text) noexcept {
  std::size_t count = 0;
  for (char ch : text) {
    if (!is_continuation(static_cast<unsigned char>(ch))) ++count;
  }
  return count;
}

std::size_t utf8_prefix_bytes(std::string_view text, std::size_t count) noexcept {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_continuation(static_cast<unsigned char>(text[i]))) {
      if (seen == count) return i;
      ++seen;
    }
  }
  return text.size();
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
