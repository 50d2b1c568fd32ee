// Pieces shared by the standard and interop value profiles: UTF-8 validation, the temporal
// sentinel names, Python's dict-key equality, and the limits both profiles enforce.
//
// Stateless; thread-safe.
#pragma once

#include "protocol/utf8_check.hpp"

#include <cachekit/result.hpp>
#include <cachekit/value.hpp>

#include <cstddef>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Deepest container nesting msgpack-python packs and cachekit-py's `unpackb_bounded` reads
// (a temporal sentinel map counts as a level).
inline constexpr std::size_t max_value_nesting = 1024;

// Sentinel map keys written for temporal values (cachekit-py `_standard_default`).
inline constexpr std::string_view datetime_marker = "__datetime__";
inline constexpr std::string_view date_marker = "__date__";
inline constexpr std::string_view time_marker = "__time__";
inline constexpr std::string_view sentinel_value_key = "value";

// Python `==` between two decoded dict keys (None, bool, int, float, str, bytes): numbers compare
// by value across bool/int/float (`1 == 1.0 == True`), str never equals bytes, NaN equals nothing.
// Other kinds compare structurally.
[[nodiscard]] bool python_keys_equal(const value& a, const value& b) noexcept;
// A hash consistent with `python_keys_equal`.
[[nodiscard]] std::size_t python_key_hash(const value& key) noexcept;

// Checks that a temporal value can be written as Python text (year 1..9999, offset strictly
// inside ±24h, time of day inside [0, 24h)). Errors: errc::invalid_argument.
result<void> check_temporal(const value& v);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
