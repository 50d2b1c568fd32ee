// Reading INFO-style replies (INFO, CLUSTER INFO): "field:value\r\n" lines, with "# Section"
// headings and blank lines between them, into a health report's details.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

/// A field to copy, and the name it takes in the details.
struct info_field {
  std::string_view field;  ///< as the server spells it, e.g. "redis_version"
  std::string_view name;   ///< the detail's name, e.g. "version"
};

/// Copies the value of every `wanted` field found in `text` into `details` under its name.
/// Lines without a colon (headings, blank lines) are skipped; a field that occurs twice keeps
/// its last value.
void read_info_fields(std::string_view text, std::span<const info_field> wanted,
                      std::map<std::string, std::string>& details);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
