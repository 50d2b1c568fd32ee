// cachekit-py 0.24.1's cross-process invalidation events and key registry names
// (invalidation.py, decorators/wrapper.py), shared byte for byte with Python processes.
//
// - A memoized function's registry id is `ck:reg:{namespace or ""}:{h}`, h = the first 16 hex
//   digits of BLAKE3(function name). It names the function's Redis set of written keys (under the
//   backend's key prefix) and the function in events.
// - An event is the MessagePack map {"r": registry id, "k": cache key}, "k" absent when every key
//   of the function was invalidated, published on `invalidation_channel`. A key over 1024 UTF-8
//   bytes is announced as the whole function; a registry id over it cannot be announced.
//
// The decoder reads untrusted bytes (any client allowed to PUBLISH sends them): the size is
// bounded before anything is read, and only a map of at most 4 string-keyed entries whose
// values are scalars or strings of at most 1024 bytes is accepted, as cachekit-py's unpacker
// limits allow. Thread-safe: pure functions.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/result.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

inline constexpr std::string_view invalidation_channel = "cachekit:py:invalidate:v1";
// Caps of cachekit-py's invalidation.py: a field, and a whole event.
inline constexpr std::size_t max_event_field_bytes = 1024;
inline constexpr std::size_t max_event_bytes = 4096;

// `ck:reg:{ns}:{blake3_16(function)}`; `ns` nullopt gives the empty segment (cachekit-py's
// namespace=None), which differs from "default".
[[nodiscard]] std::string registry_id(std::string_view function,
                                      const std::optional<std::string>& ns);

// The event for `key` of `registry` (nullopt: every key). nullopt when the registry id is over
// the field cap: no receiver would accept it.
[[nodiscard]] std::optional<std::string> encode_invalidation_event(
    std::string_view registry, std::optional<std::string_view> key);

struct invalidation_event {
  std::string registry;
  std::optional<std::string> key;  // nullopt: every key of the function
};

// Decodes an event. Errors: errc::malformed, errc::length_limit or errc::truncated with what was
// wrong (never the sender's text).
[[nodiscard]] result<invalidation_event> decode_invalidation_event(byte_view bytes);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
