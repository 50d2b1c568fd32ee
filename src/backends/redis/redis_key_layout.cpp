#include "backends/redis/redis_key_layout.hpp"

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// urllib.parse's _ALWAYS_SAFE: letters, digits and `_.-~` (RFC 3986 unreserved).
bool always_safe(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '~';
}

}  // namespace

std::string url_quote(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (always_safe(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0x0F]);
    }
  }
  return out;
}

std::string tenant_key_prefix(std::string_view tenant) {
  return "t:" + url_quote(tenant) + ":";
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
