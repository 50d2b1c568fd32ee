// The on-disk entry of the file backend, shared with cachekit-py's FileBackend (0.24.1,
// `backends/file/backend.py`) and cachekit-rs: a 14-byte header, then the stored bytes.
//
//     [0:2]  "CK"                 magic
//     [2]    0x01                 format version
//     [3]    0x00                 reserved
//     [4:6]  u16 big-endian       flags (0: no transform)
//     [6:14] u64 big-endian       expiry, unix seconds; 0 = never expires
//     [14:]  payload
//
// The bytes come from a shared directory, so they are untrusted: parsing never reads past the
// input and reports what is wrong instead of guessing (fuzzed by fuzz/file_entry_fuzz.cpp).
//
// Thread-safe: stateless.
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/bytes.hpp>
#include <cachekit/result.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace cachekit {
inline namespace v0 {
namespace detail {

inline constexpr std::size_t file_header_size = 14;
inline constexpr std::uint8_t file_format_version = 1;
// cachekit-py's MAX_TTL_SECONDS (10 * 365 days): TTLs above it are refused.
inline constexpr std::int64_t file_max_ttl_seconds = 315'360'000;

struct file_header {
  std::uint8_t reserved = 0;
  std::uint16_t flags = 0;
  std::uint64_t expiry = 0;  // unix seconds; 0 = never expires

  // A nonzero reserved byte or flags word announces a payload transform this reader does not
  // implement. cachekit-py reads such an entry as a miss and leaves the file alone: returning
  // the transformed bytes as plaintext is what must never happen.
  [[nodiscard]] bool has_unknown_transform() const noexcept { return reserved != 0 || flags != 0; }
};

struct file_entry {
  file_header header;
  byte_view payload;  // the bytes after the header (a view into the parsed input)
};

using file_header_bytes = std::array<std::byte, file_header_size>;

// The header cachekit-py writes: version 1, reserved and flags zero.
[[nodiscard]] file_header_bytes encode_file_header(std::uint64_t expiry) noexcept;

// Parses the first 14 bytes of `bytes` (anything after them is ignored).
// Errors: errc::truncated (fewer than 14 bytes), errc::malformed (magic is not "CK"),
// errc::unsupported_version (version byte is not 1). All three mean "corrupt: unlink, miss".
[[nodiscard]] result<file_header> parse_file_header(byte_view bytes);

// Parses a whole entry file: the header, and the rest as the payload. Same errors.
[[nodiscard]] result<file_entry> parse_file_entry(byte_view file_bytes);

// The expiry field for a write at wall-clock time `now` with time to live `ttl`, as
// cachekit-py's `_expiry_from_ttl`: nullopt or 0 s => 0 (never); otherwise
// int(now + ttl) in unix seconds. Errors: errc::backend_permanent for a negative TTL, one above
// 10 years, or a clock before 1970 (no representable expiry).
[[nodiscard]] result<std::uint64_t> file_expiry_for(ttl_seconds ttl,
                                                    std::chrono::system_clock::time_point now);

// Whether an entry with expiry field `expiry` has expired at `now` (cachekit-py:
// `expiry > 0 and time.time() >= expiry`, compared at full clock precision).
[[nodiscard]] bool file_entry_expired(std::uint64_t expiry,
                                      std::chrono::system_clock::time_point now) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
