#include "backends/redis/redis_info_fields.hpp"

namespace cachekit {
inline namespace v0 {
namespace detail {

void read_info_fields(std::string_view text, std::span<const info_field> wanted,
                      std::map<std::string, std::string>& details) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    for (const auto& [field, name] : wanted) {
      if (line.substr(0, colon) == field) {
        details[std::string(name)] = std::string(line.substr(colon + 1));
      }
    }
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
