// Server selection compatible with pymemcache's HashClient (the client cachekit-py's
// MemcachedBackend uses): RendezvousHash (highest random weight) over MurmurHash3_x86_32 with
// seed 0, scoring each node by murmur3_32(node + "-" + key).
//
// pymemcache 4.0.0, pymemcache/client/rendezvous.py:
//     for node in self.nodes:
//         score = self.hash_function(f"{node}-{key}")
//         if score > high_score: (high_score, winner) = (score, node)
//         elif score == high_score: (high_score, winner) = (score, max(str(node), str(winner)))
// Its pure-Python murmur3_32 equals the reference MurmurHash3_x86_32 for byte strings: the
// unmasked intermediate products only ever leak into bits above 32 that every right shift masks
// off and the result drops. It hashes characters (ord), which are bytes for the printable-ASCII
// keys and node names this backend accepts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// MurmurHash3_x86_32 of `data`.
[[nodiscard]] std::uint32_t murmur3_32(std::string_view data, std::uint32_t seed = 0) noexcept;

// The index in `nodes` (pymemcache node names, "host:port") that pymemcache's RendezvousHash
// picks for `key` (the key as sent, prefix included). `nodes` must not be empty.
[[nodiscard]] std::size_t rendezvous_pick(std::span<const std::string> nodes, std::string_view key);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
