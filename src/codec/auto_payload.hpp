// cachekit-py AutoSerializer's MessagePack and the standard profile the typed codecs read and
// write. AutoSerializer packs with `strict_types=True` and a `default` hook that turns Python
// types MessagePack lacks into marker maps ({"__tuple__": true, "value": [...]}, "__set__",
// "__uuid__", "__ndarray__", and the datetime sentinels), revived on read when the marker is
// exactly `true`, in any map of any size, innermost first.
//
// Thread safety: stateless functions; thread-safe.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/result.hpp>

#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Whether an AutoSerializer payload (after the frame, before any envelope) is a Python-only
// format: NumPy's NUMPY_RAW or Arrow IPC, bare or behind an 8-byte checksum.
bool is_python_only_payload(byte_view payload) noexcept;

// Whether a frame header's `original_type` (or envelope format) names a Python-only value:
// "numpy", "arrow", "dataframe", "series".
bool is_python_only_format(std::string_view format) noexcept;

// One AutoSerializer MessagePack document rewritten in the standard profile: tuple and set
// markers become their arrays, UUID markers the UUID's text, datetime/date/time markers the
// standard sentinel maps. Errors: errc::python_only_value for an `__ndarray__` marker;
// errc::malformed for a marker whose "value" is missing or of the wrong kind (AutoSerializer's
// reader raises on those too); decode errors of `decode_standard_value`.
result<byte_buffer> auto_to_standard(byte_view msgpack);

// Whether cachekit-py's AutoSerializer reads standard-profile `msgpack` back as the same data.
// Errors: errc::unsupported_type for a map holding "__tuple__", "__set__", "__uuid__" or
// "__ndarray__" set to true (Python would revive it as another type); with
// `integrity_checking` off, errc::unsupported_type for a top-level 4-element array shaped like a
// ByteStorage envelope, which AutoSerializer's integrity-off reader refuses.
result<void> check_auto_writable(byte_view msgpack, bool integrity_checking);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
