#include "protocol/untrusted_text.hpp"

namespace cachekit {
inline namespace v0 {
namespace detail {

std::string quote_untrusted(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  const std::string_view shown = text.substr(0, max_quoted_chars);
  std::string out;
  out.reserve(shown.size() + 16);
  for (const char ch : shown) {
    const auto byte = static_cast<unsigned char>(ch);
    if (ch == '\\' || ch == '"') {
      out += '\\';
      out += ch;
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += ch;
    } else {
      out += "\\x";
      out += hex[byte >> 4];
      out += hex[byte & 0x0f];
    }
  }
  if (shown.size() < text.size()) {
    out += "... (" + std::to_string(text.size()) + " bytes)";
  }
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
