// Percent-encoding of a cache key as one URL path segment, as urllib.parse.quote(key, safe="").
#include <cachekit/path_segment.hpp>

#include "protocol/utf8_check.hpp"

#include <array>
#include <string>

namespace cachekit {
inline namespace v0 {
namespace {

// RFC 3986 §2.3 unreserved: the only bytes sent raw. The sub-delims `! * ' ( )` that
// encodeURIComponent leaves raw are encoded, as the reference encoder does (the protocol allows
// either form for all five together; one form keeps the wire bytes of every SDK equal).
bool unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Why a key cannot be a segment at all (spec/saas-api.md rule 2), or nullptr.
const char* reserved_reason(std::string_view key) noexcept {
  if (key.empty()) {
    return "an empty key is an empty path segment, which addresses no entry";
  }
  if (key == "." || key == "..") {
    return "a key of only dots is a dot segment, which URL parsers remove before routing";
  }
  if (key == "health" || key == "ttl" || key == "lock") {
    return "the key is a route token of /v1/cache/ (the health endpoint or a sub-resource)";
  }
  return nullptr;
}

}  // namespace

result<std::string> cache_key_path_segment(std::string_view key) {
  if (const char* reason = reserved_reason(key)) {
    return fail(errc::invalid_key, "cache key \"" + std::string(key) +
                                       "\" cannot be sent as a URL path segment: " + reason +
                                       "; choose another key");
  }
  if (const auto bad = detail::utf8_invalid_offset(key); bad != key.size()) {
    return fail(errc::invalid_key, "cache key is not valid UTF-8 (invalid byte at offset " +
                                       std::to_string(bad) +
                                       "); the server decodes the path segment as UTF-8");
  }
  static constexpr std::array<char, 16> digits = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                  '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};
  std::string out;
  out.reserve(key.size() * 3);
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0x0f]);
    }
  }
  return out;
}

}  // namespace v0
}  // namespace cachekit
