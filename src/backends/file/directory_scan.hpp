// One pass over the file backend's directory, through its descriptor: the entry files and the
// temp files, by the names the backend gives them (entry_names.hpp). Anything else there (a
// user's own files, symlinks, subdirectories, hidden files) is not listed, so it is never
// counted, evicted nor swept.
//
// Thread-safe: each call opens its own directory stream.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

struct scanned_file {
  std::string name;
  std::int64_t mtime_ns = 0;         // 0 when the stat failed
  std::optional<std::int64_t> size;  // nullopt when the stat failed
  ino_t inode = 0;
};

struct directory_listing {
  // Regular files named as entries. One whose stat failed (not ENOENT) is kept with unknown
  // size and mtime 0, so a partial scan never undercounts and eviction tries it first
  // (cachekit-py's `_scan_entries`).
  std::vector<scanned_file> entries;
  // Regular files named as temp files (writes in flight, or orphans of crashed writers).
  std::vector<scanned_file> temps;
};

// Lists the directory open as `dir_fd` (never following a symlink). nullopt when it cannot
// be read.
[[nodiscard]] std::optional<directory_listing> scan_cache_directory(int dir_fd);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
