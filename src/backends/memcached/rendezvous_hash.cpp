#include "backends/memcached/rendezvous_hash.hpp"

#include <array>
#include <cassert>
#include <cstring>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::uint32_t rotl32(std::uint32_t x, int r) noexcept {
  return (x << r) | (x >> (32 - r));
}

}  // namespace

std::uint32_t murmur3_32(std::string_view data, std::uint32_t seed) noexcept {
  constexpr std::uint32_t c1 = 0xCC9E2D51;
  constexpr std::uint32_t c2 = 0x1B873593;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t length = data.size();
  const std::size_t rounded_end = length & ~std::size_t{3};
  std::uint32_t h1 = seed;

  for (std::size_t i = 0; i < rounded_end; i += 4) {
    std::uint32_t k1 = static_cast<std::uint32_t>(bytes[i]) |
                       static_cast<std::uint32_t>(bytes[i + 1]) << 8 |
                       static_cast<std::uint32_t>(bytes[i + 2]) << 16 |
                       static_cast<std::uint32_t>(bytes[i + 3]) << 24;
    k1 *= c1;
    k1 = rotl32(k1, 15);
    k1 *= c2;
    h1 ^= k1;
    h1 = rotl32(h1, 13);
    h1 = h1 * 5 + 0xE6546B64;
  }

  std::uint32_t k1 = 0;
  switch (length & 3) {
    case 3: k1 ^= static_cast<std::uint32_t>(bytes[rounded_end + 2]) << 16; [[fallthrough]];
    case 2: k1 ^= static_cast<std::uint32_t>(bytes[rounded_end + 1]) << 8; [[fallthrough]];
    case 1:
      k1 ^= bytes[rounded_end];
      k1 *= c1;
      k1 = rotl32(k1, 15);
      k1 *= c2;
      h1 ^= k1;
      break;
    default: break;
  }

  h1 ^= static_cast<std::uint32_t>(length);
  h1 ^= h1 >> 16;
  h1 *= 0x85EBCA6B;
  h1 ^= h1 >> 13;
  h1 *= 0xC2B2AE35;
  h1 ^= h1 >> 16;
  return h1;
}

std::size_t rendezvous_pick(std::span<const std::string> nodes, std::string_view key) {
  assert(!nodes.empty());
  // Scores hash "node-key"; a stack buffer covers every realistic node name plus a 250-byte key.
  std::array<char, 512> stack_buffer;
  std::string heap_buffer;

  std::size_t winner = 0;
  std::int64_t high_score = -1;  // pymemcache starts at -1, so the first node always scores
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::string& node = nodes[i];
    const std::size_t size = node.size() + 1 + key.size();
    char* text = stack_buffer.data();
    if (size > stack_buffer.size()) {
      heap_buffer.resize(size);
      text = heap_buffer.data();
    }
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): a length-counted buffer, not a C string.
    std::memcpy(text, node.data(), node.size());
    text[node.size()] = '-';
    std::memcpy(text + node.size() + 1, key.data(), key.size());

    const std::int64_t score = murmur3_32(std::string_view(text, size));
    if (score > high_score) {
      high_score = score;
      winner = i;
    } else if (score == high_score && node > nodes[winner]) {
      // A tie goes to the larger name: max(str(node), str(winner)).
      winner = i;
    }
  }
  return winner;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
