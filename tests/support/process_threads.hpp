// How many threads this process has now (Linux: the entries of /proc/self/task), for tests and
// benches that bound the threads a feature uses by counting them, not by timing.
#pragma once

#include <cstddef>
#include <filesystem>

namespace cachekit::testing {

inline std::size_t process_threads() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

}  // namespace cachekit::testing
