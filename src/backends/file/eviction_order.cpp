#include "backends/file/eviction_order.hpp"

#include <algorithm>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::int64_t tolerance_ns =
    std::chrono::duration_cast<std::chrono::nanoseconds>(file_time_tolerance).count();

}  // namespace

bool file_temp_is_stale(std::int64_t mtime_ns, std::int64_t now_ns) noexcept {
  return now_ns - mtime_ns > tolerance_ns || mtime_ns - now_ns > tolerance_ns;
}

void sort_oldest_first(std::vector<scanned_file>& entries, std::int64_t now_ns) {
  const auto age_key = [now_ns](const scanned_file& file) {
    return file.mtime_ns - now_ns > tolerance_ns ? std::int64_t{0} : file.mtime_ns;
  };
  std::stable_sort(
      entries.begin(), entries.end(),
      [&](const scanned_file& a, const scanned_file& b) { return age_key(a) < age_key(b); });
}

std::int64_t wall_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
