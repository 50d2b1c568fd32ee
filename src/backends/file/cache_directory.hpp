// Opening the file backend's directory safely: one descriptor, opened without following a
// symlink at the final component, checked for type, owner and mode through that descriptor.
//
// Every later operation on entries goes through this descriptor with *at() calls, so a path
// swapped after the checks (a symlink planted at the default `<TMPDIR>/cachekit`, a directory
// renamed into its place) can never redirect eviction or the temp sweep to someone else's
// files.
//
// Thread-safe: stateless (each call opens its own descriptor).
#pragma once

#include "backends/file/unique_fd.hpp"

#include <filesystem>

namespace cachekit {
inline namespace v0 {
namespace detail {

struct cache_directory {
  unique_fd fd;                // O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
  std::filesystem::path path;  // the real path of its parent, then its own name
};

// Opens `requested`, creating it first when absent: missing parents with default modes, the
// directory itself with `dir_permissions` (the umask applies, as in cachekit-py). Symlinks in
// the parent path are followed (macOS's /tmp is one); the final component never is.
//
// Throws `cachekit::error` with `errc::invalid_configuration`, the message saying what is wrong
// and how to fix it, when: the path is empty or the root; it cannot be created or opened; it
// is a symlink; it is not a directory; it is owned by another user than the effective uid; or
// group or others can write it.
[[nodiscard]] cache_directory open_cache_directory(const std::filesystem::path& requested,
                                                   std::filesystem::perms dir_permissions);

// Whether the directory open as `dir_fd` has been deleted (its link count is 0): files can no
// longer be created in it, and the backend must open the path afresh.
[[nodiscard]] bool cache_directory_deleted(int dir_fd) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
