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
  /// Deepest array/map nesting accepted (hostile input cannot exhaust the stack).
  std::size_t max_depth = 512;
};

/// Encodes `v` as cachekit-py's StandardSerializer would.
/// Errors: errc::unsupported_type for sets and UUIDs (convert a UUID to its string first),
/// errc::invalid_argument for a string that is not UTF-8.
CACHEKIT_EXPORT result<byte_buffer> encode_standard_value(const value& v);

/// Decodes exactly one MessagePack document (trailing bytes are errc::trailing_bytes).
/// Strings must be UTF-8 (errc::malformed otherwise); map keys must be str or bin (as
/// msgpack-python's strict_map_key); extension types are errc::unsupported_type.
CACHEKIT_EXPORT result<value> decode_standard_value(byte_view bytes,
                                                    const value_decode_options& options = {});

/// Encodes `v` in the canonical interop value profile.
/// Errors: errc::unsupported_type for sets, UUIDs and non-string map keys;
/// errc::invalid_argument for non-UTF-8 strings.
CACHEKIT_EXPORT result<byte_buffer> encode_interop_value(const value& v);

/// Decodes an interop value: exactly one document, map keys must be strings, sentinel maps
/// revived (a trailing `Z` in their text means `+00:00`). Bytes starting with `CK` are
/// refused (errc::serializer_mismatch): they are a cachekit-py default-mode frame.
CACHEKIT_EXPORT result<value> decode_interop_value(byte_view bytes,
                                                   const value_decode_options& options = {});

}  // namespace v0
}  // namespace cachekit
