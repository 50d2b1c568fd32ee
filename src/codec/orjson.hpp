// JSON as cachekit-py's OrjsonSerializer writes and reads it (orjson 3.x with OPT_SORT_KEYS),
// transcoded from and to the standard-profile MessagePack the typed codecs produce, so the
// storage layer can offer `serializer_kind::json` without a second codec per type.
//
// Writing: compact, object keys sorted by their UTF-8 bytes (what orjson's OPT_SORT_KEYS
// does), strings escaped as orjson escapes them (only `"`, `\` and controls below 0x20; the
// five short escapes, else \u00XX in lowercase hex), floats in orjson's shortest round-trip form
// (`1.0`, `0.00001`, `1e-6`, `1e+16`, `1.5e+16`), temporal sentinels as their ISO-8601 text.
//
// Reading: RFC 8259 as orjson accepts it (no BOM, no NaN, no comments, whitespace around
// values), integers in [-2^63, 2^64) as integers and larger ones as floats (as orjson), nesting
// at most 1024 deep (orjson's limit), every string valid UTF-8, the decoded MessagePack no larger
// than the given bound. An object with a key twice is refused (orjson keeps the last; cachekit-py
// never writes one).
//
// Thread safety: stateless functions; thread-safe.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/result.hpp>

#include <cstddef>
#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Deepest JSON nesting orjson.loads accepts (1025 fails).
inline constexpr std::size_t orjson_max_depth = 1024;

// The JSON OrjsonSerializer writes for the data of one standard-profile MessagePack document.
// Errors: errc::unsupported_type for binary, extension types, NaN/±infinity, map keys that are
// not strings, a UTC offset with seconds, an aware time of day (orjson refuses or changes each);
// errc::invalid_argument for a key present twice; decode errors of `decode_standard_value`.
result<std::string> standard_to_orjson(byte_view msgpack);

// Appends `v` (finite) as orjson writes a float.
void append_orjson_float(std::string& out, double v);

// What reading a JSON document may cost.
struct json_read_limits {
  std::size_t max_depth = orjson_max_depth;
  // Largest MessagePack output; a document that would decode to more is errc::length_limit.
  std::size_t max_output_bytes = std::size_t{100} << 20;
};

// One JSON document as MessagePack: null, bool, integers (shortest forms), floats (float64),
// strings, arrays and maps. Containers are written with 32-bit count headers (`dd`/`df`): the
// counts are known only at their ends. Errors (corrupt-data group): errc::malformed for anything
// orjson.loads refuses and for a repeated object key, errc::length_limit for nesting or output
// above `limits`.
result<byte_buffer> orjson_to_standard(byte_view json, const json_read_limits& limits = {});

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
