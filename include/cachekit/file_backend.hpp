/// @file
/// `file_backend`: a byte store in a local directory, byte-compatible with cachekit-py's
/// `FileBackend` (0.24.1), so a C++ and a Python process can share one directory.
///
/// On disk, each entry is one file named by the 32 lowercase hex digits of
/// BLAKE2b-128(key as UTF-8) under the directory's real path, holding a 14-byte header and the
/// value:
///
///     "CK" | 0x01 (version) | 0x00 (reserved) | u16be flags (0) | u64be expiry (unix s, 0 = never)
///
/// Writes go to `{name}.tmp.{pid}.{ns}.{seq}` (created exclusively, mode `permissions`,
/// exclusive `flock`, fsync) and are renamed into place, so a reader sees the old value or the
/// new one, never a mix. Reads take a shared `flock`. A file that is short or has a bad magic
/// or version is deleted and reads as a miss; so is an expired one. A nonzero reserved byte or
/// flags word reads as a miss and the file is left alone (a transform this reader lacks).
///
/// The directory is opened once, refusing a symlink at its final component, and every
/// operation goes through that one handle (`openat`, `renameat`, `unlinkat`), never following a
/// symlink at an entry either. Only files with the backend's own names (32 lowercase hex digits,
/// and the `{name}.tmp.{pid}.{ns}[.{seq}]` temp files) are counted, evicted or swept: anything
/// else in the directory (a user's files, when the path names a directory in use) is left alone.
/// A directory deleted while in use is recreated by the next write.
///
/// Limits are cachekit-py's: a value above `max_value_mb` is refused (`errc::backend_permanent`).
/// After each write, once the files exceed 90% of `max_size_mb` (temp files included) or of
/// `max_entry_count`, the oldest-written files (by mtime) are deleted until both are at or below
/// 70%. Where cachekit-py refuses a new key while `max_entry_count` entries exist, this backend
/// evicts the same way and stores it. The counters are rebuilt from a directory scan every 30 s
/// and whenever this process has added 5% of either limit since the last scan, so the limits
/// hold for the directory (shared by other processes), give or take 5% per process. Temp files
/// of crashed writers (unlocked, and more than 60 s from the real clock) are deleted on each
/// scan. On a full disk a write evicts the oldest entries to make room and retries once.
/// File times are compared with the real wall clock, never the injected `clock`; an mtime more
/// than 60 s in the future (written before the clock was stepped back) counts as the oldest.
///
///     cachekit::file_backend files({.cache_dir = "/var/cache/myapp"});
///     (void)files.set("user:42", bytes, std::chrono::minutes{10});
///     auto hit = files.get("user:42").value();   // std::optional<byte_buffer>
///
/// Thread safety: thread-safe; one instance serves all threads, and other processes (C++ or
/// Python) may use the same directory at the same time.
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/export.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

namespace cachekit {
inline namespace v0 {

/// cachekit-py's default directory: `<temp dir>/cachekit`, where the temp dir is the first of
/// `$TMPDIR`, `$TEMP`, `$TMP`, `/tmp`, `/var/tmp`, `/usr/tmp` that is a writable directory
/// (the order of Python's `tempfile.gettempdir()`), else the current directory.
[[nodiscard]] CACHEKIT_EXPORT std::filesystem::path default_file_cache_dir();

/// Options of `file_backend`. Each field mirrors a cachekit-py setting (`CACHEKIT_FILE_*`) with
/// the same default and range.
struct file_backend_options {
  /// CACHEKIT_FILE_CACHE_DIR: the directory of the entries; created (with missing parents)
  /// when absent. It must not itself be a symlink (links above it are resolved).
  std::filesystem::path cache_dir = default_file_cache_dir();
  /// CACHEKIT_FILE_MAX_SIZE_MB: total size of the entry files (headers included) that
  /// eviction keeps under; 1 to 1,000,000.
  std::size_t max_size_mb = 1024;
  /// CACHEKIT_FILE_MAX_VALUE_MB: largest value stored; 1 to 50% of max_size_mb.
  std::size_t max_value_mb = 100;
  /// CACHEKIT_FILE_MAX_ENTRY_COUNT: most entry files; 100 to 1,000,000.
  std::size_t max_entry_count = 10'000;
  /// CACHEKIT_FILE_PERMISSIONS: mode of new entry files (the umask applies, as in Python).
  std::filesystem::perms permissions =
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;  // 0600
  /// CACHEKIT_FILE_DIR_PERMISSIONS: mode of a directory this backend creates (umask applies).
  /// Group or other write permission is refused: see `file_backend::file_backend`.
  std::filesystem::perms dir_permissions = std::filesystem::perms::owner_all;  // 0700
  /// How long a read waits for another process's exclusive lock on an entry (held only while
  /// it rewrites the expiry in place) before failing with `errc::timeout`; 0 to 30 s.
  /// cachekit-py (whose CACHEKIT_FILE_LOCK_TIMEOUT_SECONDS has no effect) fails at once, as 0
  /// does here.
  std::chrono::milliseconds lock_timeout{100};
  /// The wall clock of expiry timestamps. Empty: `std::chrono::system_clock::now`. Called from
  /// every thread that uses the backend; must be thread-safe. Wall time, not a
  /// `monotonic_clock` like the other backends': the timestamp is written into the entry and read
  /// by other processes (cachekit-py's included, as `time.time()`) and after reboots, where a
  /// monotonic reading means nothing.
  std::function<std::chrono::system_clock::time_point()> clock;
  /// Called once, from the constructor, when other users can read the entries: the directory
  /// lets group or others search it and `permissions` (after the umask) lets them read the
  /// files (e.g. CACHEKIT_FILE_PERMISSIONS=0644 in a 0755 directory). The `failure` is
  /// `errc::invalid_configuration` with what is exposed and the fix (chmod 700, entries 0600,
  /// or `intent::secure`). Not refused, as cachekit-py accepts these settings. nullptr: the
  /// message goes to stderr as one line, "cachekit: warning: ...". Must not throw.
  std::function<void(const failure&)> on_warning = nullptr;
};

/// A `backend` over a local directory. See the file comment.
class CACHEKIT_EXPORT file_backend final : public backend {
 public:
  /// Opens (creating it, mode `dir_permissions`, if absent) the directory, counts its entries
  /// and removes the temp files that crashed writers left behind (older than 60 s).
  ///
  /// Throws `cachekit::error` with `errc::invalid_configuration` when an option is out of
  /// range, the directory cannot be created or is not a directory, or it is unsafe: a symlink
  /// (the backend deletes files in its directory; a link planted at the default
  /// `<TMPDIR>/cachekit` would aim that at another directory), owned by another user than this
  /// process's effective user, or writable by group or others (anyone could then plant or swap
  /// entries). The message says how to fix it.
  explicit file_backend(file_backend_options options = {});
  ~file_backend() override;
  file_backend(const file_backend&) = delete;
  file_backend& operator=(const file_backend&) = delete;

  /// The value, or nullopt when absent, expired, corrupt (the file is deleted) or carrying an
  /// unknown transform. Fails with `errc::timeout` when another process holds the entry's lock
  /// longer than `lock_timeout`, `errc::transient` or `errc::backend_permanent` on I/O errors.
  [[nodiscard]] result<std::optional<byte_buffer>> get(std::string_view key) override;

  /// Writes `value` atomically. `ttl` nullopt: no expiry; zero or less: already expired, so
  /// the key's file is deleted and nothing written (backend.hpp; cachekit-py writes 0 s as no
  /// expiry and refuses a negative TTL). A new key while `max_entry_count` entries exist first
  /// evicts the oldest entries. A deleted directory is recreated, and a full disk makes room by
  /// eviction, each with one retry. Fails with `errc::backend_permanent` for a TTL above 10
  /// years, a value above `max_value_mb`, a directory at `max_entry_count` whose entries cannot
  /// be deleted, or a deleted directory that cannot be recreated safely (its path is now a
  /// symlink); `errc::transient` when the disk stays full.
  [[nodiscard]] result<void> set(std::string_view key, byte_view value, ttl_seconds ttl) override;

  /// Deletes the entry's file; true when there was one (expired or not, as cachekit-py).
  [[nodiscard]] result<bool> erase(std::string_view key) override;

  /// Whether a live entry exists (reads the header only; corrupt or expired files are deleted).
  [[nodiscard]] result<bool> exists(std::string_view key) override;

  /// `exists` false when absent, expired, corrupt or of an unknown transform; `ttl` nullopt
  /// when the entry never expires; else int(expiry - now) seconds (truncated, so 0 in the last
  /// second).
  [[nodiscard]] result<remaining_ttl> ttl(std::string_view key) override;
  /// The value and its remaining lifetime from one open of the entry's file.
  [[nodiscard]] result<std::optional<timed_value>> get_with_ttl(std::string_view key) override;

  /// Rewrites the expiry field (bytes 6..14) in place and fsyncs; the value is not rewritten.
  /// `ttl` nullopt makes the entry permanent; zero or less deletes it. Returns whether a live
  /// entry existed. Fails as `set` does for a TTL above 10 years.
  [[nodiscard]] result<bool> touch(std::string_view key, ttl_seconds ttl) override;

  /// Writes, reads back and deletes `__health_check__` (as cachekit-py), then counts the
  /// entries. Details: "cache_dir", "cache_size_mb", "file_count", "max_size_mb",
  /// "max_entry_count", or "error" when unhealthy.
  [[nodiscard]] backend_health health() override;

  /// "file".
  [[nodiscard]] std::string_view type() const noexcept override { return "file"; }

  /// The directory in use: its parent's real path (symlinks resolved once, at construction),
  /// then its name.
  [[nodiscard]] const std::filesystem::path& directory() const noexcept;

  /// The file that holds `key`: `directory() / hex(BLAKE2b-128(key))`.
  ///     path_of("ns:app:func:m.f:args:abc:v1").filename() == "bcb35ae6f64fa65b2770ab3af631b1ce"
  [[nodiscard]] std::filesystem::path path_of(std::string_view key) const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace v0
}  // namespace cachekit
