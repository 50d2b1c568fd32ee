#include "backends/file/cache_directory.hpp"

#include <cachekit/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

namespace fs = std::filesystem;

std::string describe(int code) {
  return std::generic_category().message(code);
}

std::string octal(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "0%03o", mode & 0777U);
  return text;
}

// The target of the symlink `name` in `parent_fd`, for the error message; empty if unreadable.
std::string link_target(int parent_fd, const std::string& name) {
  std::string target(4096, '\0');
  const ssize_t n = ::readlinkat(parent_fd, name.c_str(), target.data(), target.size());
  if (n <= 0) return {};
  target.resize(static_cast<std::size_t>(n));
  return target;
}

}  // namespace

cache_directory open_cache_directory(const fs::path& requested, fs::perms dir_permissions) {
  const auto refuse = [&](const std::string& why) {
    throw error(errc::invalid_configuration,
                "file_backend cache directory " + requested.string() + ": " + why);
  };
  if (requested.empty()) refuse("the path is empty; set cache_dir or CACHEKIT_FILE_CACHE_DIR");

  std::error_code ec;
  fs::path absolute = fs::absolute(requested, ec).lexically_normal();
  if (ec) refuse("cannot make it absolute: " + ec.message());
  if (!absolute.has_filename()) absolute = absolute.parent_path();  // a trailing '/'
  const std::string name = absolute.filename().string();
  const fs::path parent = absolute.parent_path();
  if (name.empty() || name == "." || name == ".." || parent == absolute) {
    refuse("it must name a directory below the root; set cache_dir to a private directory");
  }

  // Missing parents get default modes, as Python's mkdir(parents=True, mode=...) gives them.
  fs::create_directories(parent, ec);
  if (ec) refuse("cannot create its parent " + parent.string() + ": " + ec.message());
  unique_fd parent_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd.valid()) {
    const int code = errno;
    refuse("cannot open its parent " + parent.string() + ": " + describe(code));
  }
  char* resolved = ::realpath(parent.c_str(), nullptr);
  if (resolved == nullptr) {
    const int code = errno;
    refuse("cannot resolve its parent " + parent.string() + ": " + describe(code));
  }
  const fs::path real = fs::path(resolved) / name;
  std::free(resolved);  // NOLINT(cppcoreguidelines-no-malloc): realpath allocates with malloc
  const std::string dir = real.string();

  if (::mkdirat(parent_fd.get(), name.c_str(), static_cast<mode_t>(dir_permissions)) != 0 &&
      errno != EEXIST) {
    const int code = errno;
    refuse("cannot create it: " + describe(code) +
           "; create it (mode 0700) or point cache_dir at a writable place");
  }

  // O_NOFOLLOW: the backend deletes files in this directory (eviction, the temp sweep), so a
  // symlink here, which anyone who can write the parent (a shared /tmp) may have planted, would
  // aim those deletes at whatever directory it names.
  unique_fd fd(
      ::openat(parent_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    const int code = errno;
    struct stat link {};
    if (::fstatat(parent_fd.get(), name.c_str(), &link, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(link.st_mode)) {
      const std::string target = link_target(parent_fd.get(), name);
      refuse(dir + " is a symbolic link" + (target.empty() ? "" : " to " + target) +
             "; the backend deletes files in its directory, so it never follows a link (another "
             "user may have planted it). Point cache_dir (CACHEKIT_FILE_CACHE_DIR) at the real "
             "directory, or remove the link");
    }
    if (code == ENOTDIR) refuse(dir + " exists and is not a directory; choose another path");
    refuse("cannot open " + dir + ": " + describe(code));
  }

  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    const int code = errno;
    refuse("cannot stat " + dir + ": " + describe(code));
  }
  if (!S_ISDIR(st.st_mode)) refuse(dir + " exists and is not a directory; choose another path");
  const uid_t euid = ::geteuid();
  if (st.st_uid != euid) {
    refuse(dir + " is owned by uid " + std::to_string(st.st_uid) + ", not by this process (uid " +
           std::to_string(euid) +
           "); another user could read or plant cache entries. Use a directory you own (chown " +
           std::to_string(euid) + " " + dir + ") or set CACHEKIT_FILE_CACHE_DIR to a private path");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    refuse(dir + " has mode " + octal(st.st_mode) +
           ": group or others can write it and so plant or swap cache entries. Fix: chmod 700 " +
           dir + " (or go-w), or set CACHEKIT_FILE_CACHE_DIR to a private directory");
  }
  return cache_directory{std::move(fd), real};
}

bool cache_directory_deleted(int dir_fd) noexcept {
  struct stat st {};
  return ::fstat(dir_fd, &st) == 0 && st.st_nlink == 0;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
