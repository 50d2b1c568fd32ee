// The protocol's decode bounds for untrusted MessagePack (shared/protocol vectors
// decode-bounds.json), checked in one pass that allocates nothing, before any decoder
// materialises the document:
// - nesting depth at most `max_depth` (the protocol allows 32..1024);
// - declared slots (array elements, 2 per map pair, str/bin/ext bytes) summed over the whole
//   document at most input_len - 1, in 64-bit checked arithmetic: an eager decoder may then
//   reserve per declared slot and still be bounded by the input size;
// - the root item complete at the end of the input, with nothing after it;
// - at most `max_items` items in all (scalars, strings, containers): a decoded item costs a
//   decoder tens of bytes however small its encoding, so a caller bounds decoded memory too.
//
// Thread-safe (pure function).
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/result.hpp>

#include <cstddef>
#include <cstdint>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Errors: errc::length_limit (too deep, more items than `max_items`, or declares more than the
// input can back),
// errc::truncated (the document ends early), errc::trailing_bytes, errc::malformed (0xc1).
result<void> check_msgpack_bounds(byte_view document, std::size_t max_depth,
                                  std::size_t max_items = SIZE_MAX);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
