#include "backends/redis/cluster_slot.hpp"

#include <array>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// Byte-at-a-time table for polynomial 0x1021, built at compile time.
constexpr std::array<std::uint16_t, 256> make_table() noexcept {
  std::array<std::uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    auto crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000U) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021U)
                                 : static_cast<std::uint16_t>(crc << 1);
    }
    table[i] = crc;
  }
  return table;
}

constexpr auto crc_table = make_table();

}  // namespace

std::uint16_t crc16_xmodem(std::string_view bytes) noexcept {
  std::uint16_t crc = 0;
  for (const char c : bytes) {
    const auto index = static_cast<std::uint8_t>((crc >> 8) ^ static_cast<std::uint8_t>(c));
    crc = static_cast<std::uint16_t>((crc << 8) ^ crc_table[index]);
  }
  return crc;
}

std::string_view cluster_hash_part(std::string_view key) noexcept {
  const auto open = key.find('{');
  if (open == std::string_view::npos) return key;
  const auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

std::uint16_t cluster_slot(std::string_view key) noexcept {
  return static_cast<std::uint16_t>(crc16_xmodem(cluster_hash_part(key)) % cluster_slot_count);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
