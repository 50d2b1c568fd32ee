/// @file
/// `serializer_kind`: which of cachekit-py 0.24.1's serializers a memoized function's entries
/// are written and read with, so a C++ function shares entries with a Python function decorated
/// `@cache(serializer="...")` of the same name. The serializer is part of the key (its code ends
/// default keys: `…:1s`, `…:1o`, `…:1a`) and of the frame header ("s"), so entries of different
/// serializers never answer for each other.
///
/// What each kind stores after the CK frame header:
/// - `standard`: cachekit-py "default", key code `s`: the ByteStorage envelope of the
///   MessagePack, or the MessagePack itself with integrity off;
/// - `json`: cachekit-py "orjson", key code `o`: the xxHash3-64 of the JSON (8 bytes, big
///   endian) then the JSON, or the JSON itself with integrity off;
/// - `auto_detect`: cachekit-py "auto", key code `a`: as `standard`, with markers for Python
///   types (below).
///
/// `json` writes the bytes cachekit-py's OrjsonSerializer writes for the same data: compact
/// JSON with object keys sorted (orjson `OPT_SORT_KEYS`), orjson's float and string forms, and
/// `datetime`/`date`/`time_of_day` as their ISO-8601 text. What JSON cannot carry is refused when
/// the value is stored (a counted uncacheable call: the result is returned, not stored): bytes,
/// NaN and ±infinity (orjson writes them as `null`, which would read back as another value),
/// map keys that are not strings, a key present twice, UTC offsets with seconds. JSON has no
/// temporal type: the text comes back as a string, which `datetime`, `date` and `time_of_day`
/// results accept. Reading bounds nesting at 1024 (orjson's limit) and the decoded size by
/// `cache_options::max_value_bytes`; a corrupt or hostile entry is a counted corrupt entry.
///
/// `auto_detect` reads what cachekit-py's AutoSerializer writes for data C++ can hold: its tuple
/// and set markers read as arrays (into `std::vector`, `std::tuple`, `std::set` ...), its UUID
/// marker as the UUID's text, datetimes as `standard` does. Python-only payloads (NumPy arrays,
/// pandas DataFrames and Series, Arrow tables) are a miss counted in
/// `cache_stats::python_only_entries` (errc::python_only_value) that leaves the entry in place.
/// It writes what `standard` writes, tagged "auto" (the same bytes AutoSerializer writes for
/// those values), and refuses a map that holds one of AutoSerializer's markers set to `true`
/// (`__tuple__`, `__set__`, `__uuid__`, `__ndarray__`), which Python would read as another type.
///
/// Neither `json` nor `auto_detect` combines with encryption or interop mode in this release
/// (a configuration error when the function is memoized). cachekit-py's `"arrow"` serializer is
/// not offered: see docs/serializers.md.
///
/// Thread safety: stateless functions; thread-safe.
#pragma once

#include <cachekit/export.hpp>
#include <cachekit/result.hpp>

#include <cstdint>
#include <string_view>

namespace cachekit {
inline namespace v0 {

/// A cachekit-py serializer this SDK reads and writes (table above).
enum class serializer_kind : std::uint8_t {
  standard,     ///< cachekit-py "default" (StandardSerializer): MessagePack
  json,         ///< cachekit-py "orjson" (OrjsonSerializer): JSON text
  auto_detect,  ///< cachekit-py "auto" (AutoSerializer): MessagePack with Python type markers
};

/// The name cachekit-py records in the frame header and keys the serializer code by:
/// "default", "orjson" or "auto".
[[nodiscard]] CACHEKIT_EXPORT std::string_view serializer_name(serializer_kind kind) noexcept;

/// Parses a serializer name as cachekit-py's `serializer=` takes it ("default", "std",
/// "standard", "orjson", "auto", "pythonic"), plus "json" for `json`.
/// Errors: errc::not_supported for "arrow" (see docs/serializers.md);
/// errc::invalid_configuration listing the valid names otherwise.
[[nodiscard]] CACHEKIT_EXPORT result<serializer_kind> parse_serializer(std::string_view name);

}  // namespace v0
}  // namespace cachekit
