// Whether other users can read the file backend's entries: the directory lets a class of users
// (group, others) reach the files in it, and the files are created readable by that class.
// Entries hold cached results (plaintext unless the cache encrypts), so that is worth a warning
// at startup; it is not refused, because cachekit-py accepts the same settings
// (CACHEKIT_FILE_PERMISSIONS / CACHEKIT_FILE_DIR_PERMISSIONS) and a shared group may be meant.
//
// Thread-safe: pure functions, plus a read of /proc/self/status.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {

// The warning text (what is exposed, to whom, and how to fix it), or nullopt when neither group
// nor others can both search `dir_mode` and read entry files created with `file_permissions`
// under `umask`. `dir` names the directory in the message.
[[nodiscard]] std::optional<std::string> entry_exposure(const std::string& dir, mode_t dir_mode,
                                                        std::filesystem::perms file_permissions,
                                                        mode_t umask);

// This process's umask, read without changing it (/proc/self/status, Linux 4.7+); nullopt
// when unavailable.
[[nodiscard]] std::optional<mode_t> current_umask();

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
