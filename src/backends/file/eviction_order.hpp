// Which of the file backend's files go first, judged by file times against the real wall
// clock (never the injected expiry clock: file systems stamp mtimes with the real one).
//
// Thread-safe: stateless.
#pragma once

#include "backends/file/directory_scan.hpp"

#include <chrono>
#include <cstdint>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

// cachekit-py's TEMP_FILE_MAX_AGE_SECONDS; also how far in the future an mtime may lie before
// it is taken for a clock that was stepped back.
inline constexpr std::chrono::seconds file_time_tolerance{60};

// Whether a temp file last written at `mtime_ns` is an orphan at `now_ns` (both ns since 1970):
// more than 60 s old, or more than 60 s in the future (written before the clock was stepped
// back). A live write touches its temp file continuously, so its mtime stays near now.
[[nodiscard]] bool file_temp_is_stale(std::int64_t mtime_ns, std::int64_t now_ns) noexcept;

// Sorts `entries` oldest-written first (by mtime; stable, so ties keep scan order). An mtime
// more than 60 s after `now_ns` counts as the oldest: such a file was written before the clock
// was stepped back, and ranking it newest would keep it for ever and evict every fresher entry
// first.
void sort_oldest_first(std::vector<scanned_file>& entries, std::int64_t now_ns);

// The real wall clock, in ns since 1970.
[[nodiscard]] std::int64_t wall_now_ns() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
