// The Redis Cluster hash slot of a key: CRC16-XMODEM (polynomial 0x1021, initial value 0) of
// the key, or of its hash tag, modulo 16384. The hash tag is the text between the first `{`
// and the first `}` after it, when that text is not empty; keys with the same tag share a
// slot, which is what lets cachekit-py's registry set `{prefix}{registry}` and the keys it
// names be routed (they do not share a tag, so a drain is several routed steps, not one
// script).
//
// Thread-safe: stateless.
#pragma once

#include <cstdint>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Slots in a Redis Cluster.
inline constexpr std::uint16_t cluster_slot_count = 16384;

// CRC16-XMODEM of `bytes` (check value: "123456789" ⇒ 0x31C3).
[[nodiscard]] std::uint16_t crc16_xmodem(std::string_view bytes) noexcept;

// The part of `key` that is hashed: its hash tag when it has a non-empty one, else `key`.
[[nodiscard]] std::string_view cluster_hash_part(std::string_view key) noexcept;

// The slot of `key`, 0 to 16383.
[[nodiscard]] std::uint16_t cluster_slot(std::string_view key) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
