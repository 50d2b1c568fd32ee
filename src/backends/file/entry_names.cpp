#include "backends/file/entry_names.hpp"

#include "protocol/blake2b.hpp"

#include <array>
#include <cstddef>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::string_view temp_marker = ".tmp.";

bool is_decimal(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string file_entry_name(std::string_view key) {
  std::array<std::byte, 16> digest;
  blake2b(as_byte_view(key), digest);
  std::string name(file_entry_name_size, '\0');
  append_hex_lower(digest, name.data());
  return name;
}

bool is_file_entry_name(std::string_view name) noexcept {
  if (name.size() != file_entry_name_size) return false;
  for (const char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_file_temp_name(std::string_view name) noexcept {
  if (name.size() <= file_entry_name_size + temp_marker.size()) return false;
  if (!is_file_entry_name(name.substr(0, file_entry_name_size))) return false;
  if (name.substr(file_entry_name_size, temp_marker.size()) != temp_marker) return false;
  std::string_view rest = name.substr(file_entry_name_size + temp_marker.size());
  int numbers = 0;
  for (;;) {
    const auto dot = rest.find('.');
    if (!is_decimal(rest.substr(0, dot))) return false;
    ++numbers;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return numbers == 2 || numbers == 3;
}

std::string file_temp_name(std::string_view entry_name, long pid, std::int64_t ns,
                           std::uint64_t sequence) {
  std::string name(entry_name);
  name.append(temp_marker)
      .append(std::to_string(pid))
      .append(".")
      .append(std::to_string(ns))
      .append(".")
      .append(std::to_string(sequence));
  return name;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
