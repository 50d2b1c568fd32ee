/// @file
/// A cache key as the `{key}` path segment of the CachekitIO HTTP API (`/v1/cache/{key}`,
/// `/v1/cache/{key}/ttl`, `/v1/cache/{key}/lock`; spec/saas-api.md, "Cache-Key Path Encoding").
/// The key is caller-controlled, so its placement in the path is a security boundary: left raw,
/// a `/`, `?`, `#` or dot segment moves the request, with its bearer token, to another route.
///
/// The encoding is Python's `urllib.parse.quote(key, safe="")`, the protocol's reference form:
/// the key's UTF-8 bytes with every byte outside the unreserved set `A-Z a-z 0-9 - . _ ~`
/// written as `%HH` (uppercase hex). Keys that no encoding can carry to the key validator — the
/// empty key, `.`, `..` (dot segments URL parsers remove) and `health`, `ttl`, `lock` (route
/// tokens) — are refused before any URL is built.
///
///     auto segment = cachekit::cache_key_path_segment("ns:users:func:f:args:ab:1s").value();
///     // "ns%3Ausers%3Afunc%3Af%3Aargs%3Aab%3A1s"
///     std::string url = base + "/v1/cache/" + segment;
///
/// Thread safety: a pure function; thread-safe.
#pragma once

#include <cachekit/export.hpp>
#include <cachekit/result.hpp>

#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {

/// The percent-encoded path segment of `key` (see the file comment): never contains `/`, `?`,
/// `#` or a raw byte outside the unreserved set, and decodes (once) back to `key`.
/// Errors: errc::invalid_key when `key` is empty or exactly `.`, `..`, `health`, `ttl` or
/// `lock` (the message says why), or is not valid UTF-8 (the server decodes the segment as
/// UTF-8 and would refuse it).
[[nodiscard]] CACHEKIT_EXPORT result<std::string> cache_key_path_segment(std::string_view key);

}  // namespace v0
}  // namespace cachekit
