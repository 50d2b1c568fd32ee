#include "backends/file/entry_exposure.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

std::string octal(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "0%03o", mode & 0777U);
  return text;
}

}  // namespace

std::optional<std::string> entry_exposure(const std::string& dir, mode_t dir_mode,
                                          std::filesystem::perms file_permissions, mode_t umask) {
  const auto file_mode = static_cast<mode_t>(file_permissions) & ~umask & 0777U;
  const bool group = (dir_mode & S_IXGRP) != 0 && (file_mode & S_IRGRP) != 0;
  const bool others = (dir_mode & S_IXOTH) != 0 && (file_mode & S_IROTH) != 0;
  if (!group && !others) return std::nullopt;
  const std::string who = group && others ? "group and others" : group ? "group" : "others";
  return "file_backend cache directory " + dir + " has mode " + octal(dir_mode) +
         " and new entries get mode " + octal(file_mode) + ": " + who +
         " can read every cached value. Fix: chmod 700 " + dir +
         " and keep the entry permissions at 0600 (CACHEKIT_FILE_PERMISSIONS, "
         "CACHEKIT_FILE_DIR_PERMISSIONS), or encrypt with intent::secure";
}

std::optional<mode_t> current_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0) {
      unsigned value = 0;
      if (std::sscanf(line.c_str() + 6, "%o", &value) == 1) return static_cast<mode_t>(value);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
