#include "backends/file/directory_scan.hpp"

#include "backends/file/entry_names.hpp"
#include "backends/file/unique_fd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace cachekit {
inline namespace v0 {
namespace detail {

std::optional<directory_listing> scan_cache_directory(int dir_fd) {
  // A fresh open file description of the same directory rather than a dup: a dup shares the
  // read offset, so two threads scanning at once would each see part of the listing.
  unique_fd own(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!own.valid()) return std::nullopt;
  unique_dir handle(::fdopendir(own.get()));
  if (handle.get() == nullptr) return std::nullopt;
  (void)own.release();  // the stream owns it now

  directory_listing listing;
  for (;;) {
    errno = 0;
    const dirent* item = ::readdir(handle.get());
    if (item == nullptr) {
      if (errno != 0) return std::nullopt;
      break;
    }
    const std::string_view name = item->d_name;
    const bool entry = is_file_entry_name(name);
    if (!entry && !is_file_temp_name(name)) continue;  // not ours: never touched
    auto& into = entry ? listing.entries : listing.temps;
    struct stat st {};
    if (::fstatat(dir_fd, item->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT || !entry) continue;  // deleted mid-scan; a temp we cannot judge
      into.push_back({.name = std::string(name), .mtime_ns = 0, .size = std::nullopt});
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    into.push_back({.name = std::string(name),
                    .mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                                st.st_mtim.tv_nsec,
                    .size = static_cast<std::int64_t>(st.st_size),
                    .inode = st.st_ino});
  }
  return listing;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
