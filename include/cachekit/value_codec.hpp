/// @file
/// Encoding profiles that turn a `value` into MessagePack bytes and back.
///
/// - *Standard* profile: what cachekit-py's StandardSerializer writes in default ("frame")
///   mode — msgpack with maps in insertion order, float64 floats, shortest integer/str/bin
///   forms, datetime/date/time as sentinel maps. Sets and UUIDs are rejected, as in Python.
/// - *Interop* profile: the cross-SDK value profile — canonical msgpack (map keys must be
///   strings, emitted in code-point order), float64 floats, sentinel maps for temporal values;
///   reads exactly one document and refuses CK-framed bytes.
///
/// Decoders take untrusted bytes: every length is checked against the input, nesting is
/// bounded, and failure is a `result` error, never a crash.
///
/// Thread safety: stateless functions; thread-safe.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/export.hpp>
#include <cachekit/result.hpp>
#include <cachekit/value.hpp>

#include <cstddef>

namespace cachekit {
inline namespace v0 {

/// Options for decoding stored values.
struct value_decode_options {
  /// Turn `{"__datetime__": true, "value": ...}` (and `__date__`, `__time__`) maps back into
  /// `datetime`/`date`/`time_of_day` values, as cachekit-py's readers do.
  bool revive_temporal_sentinels = true;
  /// Deepest array/map nesting accepted (a sentinel map counts as a level). 1024 is what
  /// msgpack-python packs and cachekit-py's bounded reader accepts. Decoding itself is
  /// iterative, but a `value` is destroyed recursively: keep the limit in the thousands.
  std::size_t max_depth = 1024;
};

/// Encodes `v` as cachekit-py's StandardSerializer would (byte for byte what
/// `msgpack.packb(obj, use_bin_type=True)` writes for the same data).
/// Errors: errc::unsupported_type for sets and UUIDs (convert a UUID to its string first),
/// errc::invalid_argument for a string that is not UTF-8, a temporal value Python cannot hold
/// (year outside 1..9999, offset not strictly inside ±24h) or nesting deeper than 1024,
/// errc::value_too_large for a string/binary/array/map above 2^32-1 elements.
///
///     auto bytes = cachekit::encode_standard_value(cachekit::value_map{{"a", 1}});  // 81 a1 61 01
CACHEKIT_EXPORT result<byte_buffer> encode_standard_value(const value& v);

/// Decodes exactly one MessagePack document (trailing bytes are errc::trailing_bytes).
/// Strings must be UTF-8 (errc::malformed otherwise); map keys must be str or bin (as
/// msgpack-python's strict_map_key); an extension item becomes a `value_ext` (msgpack-python's
/// ExtType), which `encode_standard_value` writes back. Maps are built
/// as Python dicts: a repeated key keeps its first position and takes the last value. With
/// `revive_temporal_sentinels`, a map of exactly two entries whose marker is truthy becomes a
/// temporal value; its `value` missing or nil, or text Python's `fromisoformat` refuses, is
/// errc::malformed. Truncated input is errc::truncated or errc::length_limit (a declared length
/// beyond the input); nesting beyond `max_depth` is errc::length_limit.
CACHEKIT_EXPORT result<value> decode_standard_value(byte_view bytes,
                                                    const value_decode_options& options = {});

/// Encodes `v` in the canonical interop value profile.
/// Errors: errc::unsupported_type for sets, UUIDs, extension items and non-string map keys;
/// errc::invalid_argument for non-UTF-8 strings, NaN/Infinity, a key present twice, and the
/// temporal/nesting limits of `encode_standard_value`.
CACHEKIT_EXPORT result<byte_buffer> encode_interop_value(const value& v);

/// Rewrites one standard-profile MessagePack document (what `encode_standard_value` or a typed
/// `codec<T>` writes) in the canonical interop profile: the bytes `encode_interop_value` writes
/// for the same data (maps in key order, the same refusals). This is how typed results are
/// stored in interop mode, so the interop rules live in one encoder.
/// Errors: those of `encode_interop_value`; errc::unsupported_type for a map key that is neither
/// str nor bin; decode errors of `decode_standard_value` for bytes that are not one document.
CACHEKIT_EXPORT result<byte_buffer> standard_to_interop(byte_view standard_msgpack);

/// Decodes an interop value as cachekit-py 0.24.1's `decode_interop_value`: exactly one
/// document; map keys may be any hashable scalar (str, bin, int, float, bool, nil — not arrays
/// or maps), at most 32 per map that are neither str nor bin; sentinel maps revived when the
/// marker is exactly `true` and `value` is a string (a trailing `Z`/`z` means `+00:00`),
/// whatever else the map holds. Bytes starting with `CK` are refused
/// (errc::serializer_mismatch): they are a cachekit-py default-mode frame.
CACHEKIT_EXPORT result<value> decode_interop_value(byte_view bytes,
                                                   const value_decode_options& options = {});

}  // namespace v0
}  // namespace cachekit
