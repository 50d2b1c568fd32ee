// Tagged JSON: the text notation for `value`s used by the CLI and the protocol test vectors.
// Plain JSON maps directly (integers, strings, bools, null, arrays, objects); typed values are
// single-key objects with a `$` tag: {"$int": "18446744073709551615"}, {"$float": "2.0"},
// {"$bytes": "dead"}, {"$set": [...]}, {"$datetime": "2024-01-01T00:00:00+00:00"},
// {"$uuid": "..."}, and on output also {"$date": ...}, {"$time": ...}, and
// {"$map": [[key, value], ...]} for maps whose keys are not all strings.
//
// Floats always print as {"$float": repr} with Python's repr() text, so output compares
// exactly with what a Python script prints.
//
// Thread safety: stateless functions; thread-safe.
#pragma once

#include <cachekit/result.hpp>
#include <cachekit/value.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Parses tagged JSON text. Errors: errc::invalid_argument naming the bad part and the fix.
result<value> parse_tagged_json(std::string_view text);
// Converts an already parsed JSON document.
result<value> value_from_tagged_json(const nlohmann::ordered_json& json);

// The tagged JSON of `v`.
nlohmann::ordered_json value_to_tagged_json(const value& v);
// Compact text of `value_to_tagged_json(v)` (UTF-8, no escaping of non-ASCII).
std::string dump_tagged_json(const value& v);

// Python's repr() of a float: "2.0", "0.1", "1e+16", "1e-05", "-0.0", "nan", "inf".
std::string python_float_repr(double d);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
