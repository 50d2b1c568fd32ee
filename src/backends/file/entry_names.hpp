// The names the file backend gives its files, and the test that a directory entry is one of
// them. The backend counts, evicts and sweeps only files with these names: a cache directory
// may hold anything else (a user's files, when CACHEKIT_FILE_CACHE_DIR names a directory in
// use), and those must never be touched.
//
//   entry: 32 lowercase hex digits, BLAKE2b-128 of the key (cachekit-py's `_key_to_path`)
//   temp:  {entry}.tmp.{pid}.{ns}        cachekit-py's `_generate_temp_path`
//          {entry}.tmp.{pid}.{ns}.{seq}  this library (two threads may read the same ns)
//
// Thread-safe: stateless.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

inline constexpr std::size_t file_entry_name_size = 32;

// The entry file name of `key`: hex(BLAKE2b-128(key as UTF-8)).
[[nodiscard]] std::string file_entry_name(std::string_view key);

// Whether `name` is exactly 32 lowercase hex digits.
[[nodiscard]] bool is_file_entry_name(std::string_view name) noexcept;

// Whether `name` is a temp file of cachekit-py's or this library's pattern (above): an entry
// name, ".tmp.", then two or three dot-separated decimal numbers.
[[nodiscard]] bool is_file_temp_name(std::string_view name) noexcept;

// This library's temp name for a write of `entry_name` by process `pid` at `ns` (wall clock,
// nanoseconds since 1970), with the per-process sequence number `sequence`.
[[nodiscard]] std::string file_temp_name(std::string_view entry_name, long pid, std::int64_t ns,
                                         std::uint64_t sequence);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
