#include <cachekit/file_backend.hpp>

#include "backends/file/cache_directory.hpp"
#include "backends/file/directory_scan.hpp"
#include "backends/file/entry_exposure.hpp"
#include "backends/file/entry_names.hpp"
#include "backends/file/eviction_order.hpp"
#include "backends/file/file_entry.hpp"
#include "backends/file/unique_fd.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {

namespace fs = std::filesystem;

namespace {

using wall_clock = std::chrono::system_clock;
using detail::unique_fd;

constexpr std::string_view health_key = "__health_check__";
constexpr std::string_view health_value = "health_check_data";
// cachekit-py's RECONCILE_INTERVAL_SECONDS.
constexpr auto reconcile_interval = std::chrono::seconds{30};
// Other processes sharing the directory move its real totals without this one's counters
// seeing it, so the counters are also rebuilt from a scan once this process alone has added
// this share of either limit since the last scan: the limits then hold for the directory, give
// or take this share per process, instead of per process.
constexpr double drift_share = 0.05;
// cachekit-py's EVICTION_TRIGGER_THRESHOLD and EVICTION_TARGET_THRESHOLD.
constexpr double eviction_trigger = 0.9;
constexpr double eviction_target = 0.7;
constexpr std::uint64_t mib = std::uint64_t{1024} * 1024;
constexpr std::size_t stripe_count = 64;
constexpr auto max_lock_timeout = std::chrono::seconds{30};

std::string describe(int code) {
  return std::generic_category().message(code);
}

// cachekit-py's `_classify_os_error`; its "unknown" class is treated as retryable, as
// cachekit-rs does. One departure, in the callers: a new file the directory refuses (EACCES on
// creating a temp file) is classed as on the directory, so permanent. cachekit-py classes it as
// on a file (transient), so a cache directory made read-only (chmod 0500) counts against its
// circuit breaker, which opens and then skips the reads that still work as well.
errc classify(int code, bool is_directory) {
  switch (code) {
    case ENOSPC: return errc::transient;  // disk full may clear up
    case EACCES: return is_directory ? errc::backend_permanent : errc::transient;
    case EROFS:
    case ELOOP: return errc::backend_permanent;
    case ETIMEDOUT: return errc::timeout;
    default: return errc::transient;
  }
}

failure os_failure(std::string_view what, const std::string& path, int code,
                   bool is_directory = false) {
  return fail(classify(code, is_directory), std::string(what) + " " + path + ": " + describe(code));
}

// Reads up to `out.size()` bytes at `offset`, looping over short reads; stops early only at
// end of file. Returns 0 or an errno value; `done` counts the bytes read.
int read_fully(int fd, std::span<std::byte> out, off_t offset, std::size_t& done) {
  done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

// Writes all of `data` at `offset`, looping over short writes. Returns 0 or an errno value.
int write_fully(int fd, byte_view data, off_t offset) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;  // no progress: never report a truncated write as success
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

// Takes `operation` (LOCK_SH or LOCK_EX) on `fd`, polling a non-blocking flock until `wait`
// has passed. Returns 0, EWOULDBLOCK when the lock stayed held, or another errno value.
int lock_file(int fd, int operation, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  auto pause = std::chrono::microseconds{50};
  for (;;) {
    if (::flock(fd, operation | LOCK_NB) == 0) return 0;
    const int code = errno;
    if (code == EINTR) continue;
    if (code != EWOULDBLOCK) return code;
    if (std::chrono::steady_clock::now() >= deadline) return EWOULDBLOCK;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds{5000});
  }
}

std::string octal(fs::perms mode) {
  char text[8];
  std::snprintf(text, sizeof text, "0%03o", static_cast<unsigned>(mode));
  return text;
}

bool is_usable_temp_dir(const std::string& dir) {
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
         ::access(dir.c_str(), W_OK | X_OK) == 0;
}

}  // namespace

fs::path default_file_cache_dir() {
  std::vector<std::string> candidates;
  for (const char* name : {"TMPDIR", "TEMP", "TMP"}) {
    const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read-only use
    if (value != nullptr && *value != '\0') candidates.emplace_back(value);
  }
  for (const char* dir : {"/tmp", "/var/tmp", "/usr/tmp"}) candidates.emplace_back(dir);
  for (const auto& candidate : candidates) {
    std::error_code ec;
    const fs::path absolute = fs::absolute(candidate, ec).lexically_normal();
    if (!ec && is_usable_temp_dir(absolute.string())) return absolute / "cachekit";
  }
  std::error_code ec;
  return fs::current_path(ec) / "cachekit";
}

struct file_backend::state {
  // The directory descriptor every operation goes through. Shared, because a vanished
  // directory is reopened while other threads may still hold the old one.
  using dir_handle = std::shared_ptr<const unique_fd>;

  explicit state(file_backend_options opts) : options(std::move(opts)) {
    validate();
    auto opened = detail::open_cache_directory(options.cache_dir, options.dir_permissions);
    directory = std::move(opened.path);
    dir = directory.string();
    opened_dir = std::make_shared<const unique_fd>(std::move(opened.fd));
    warn_if_entries_exposed();
    std::lock_guard commit(commit_mutex);
    (void)reconcile();
  }

  // Once, at construction: entries other users can read get a warning, not a refusal.
  void warn_if_entries_exposed() const {
    struct stat st {};
    if (::fstat(opened_dir->get(), &st) != 0) return;
    // Without a readable umask, assume the common 022: it keeps group/other read bits.
    auto text = detail::entry_exposure(dir, st.st_mode, options.permissions,
                                       detail::current_umask().value_or(022));
    if (!text) return;
    const failure warning{make_error_code(errc::invalid_configuration), std::move(*text)};
    if (options.on_warning) {
      options.on_warning(warning);
    } else {
      std::fprintf(stderr, "cachekit: warning: %s\n", warning.detail.c_str());
    }
  }

  // ---- configuration -------------------------------------------------------------------

  void validate() const {
    const auto refuse = [](const std::string& message) {
      throw error(errc::invalid_configuration, message);
    };
    if (options.max_size_mb < 1 || options.max_size_mb > 1'000'000) {
      refuse(
          "file_backend max_size_mb (CACHEKIT_FILE_MAX_SIZE_MB) must be between 1 and "
          "1000000, got " +
          std::to_string(options.max_size_mb));
    }
    if (options.max_value_mb < 1 || static_cast<double>(options.max_value_mb) >
                                        static_cast<double>(options.max_size_mb) * 0.5) {
      refuse(
          "file_backend max_value_mb (CACHEKIT_FILE_MAX_VALUE_MB) must be between 1 and 50% "
          "of max_size_mb (" +
          std::to_string(options.max_size_mb) + "), got " + std::to_string(options.max_value_mb) +
          "; raise max_size_mb or lower max_value_mb");
    }
    if (options.max_entry_count < 100 || options.max_entry_count > 1'000'000) {
      refuse(
          "file_backend max_entry_count (CACHEKIT_FILE_MAX_ENTRY_COUNT) must be between 100 "
          "and 1000000, got " +
          std::to_string(options.max_entry_count));
    }
    if (options.lock_timeout < std::chrono::milliseconds{0} ||
        options.lock_timeout > max_lock_timeout) {
      refuse("file_backend lock_timeout must be between 0 and 30 s, got " +
             std::to_string(options.lock_timeout.count()) + " ms");
    }
    if ((options.permissions & ~fs::perms::all) != fs::perms::none) {
      refuse("file_backend permissions " + octal(options.permissions & fs::perms::mask) +
             " may only hold read/write/execute bits (0600 is the default)");
    }
    constexpr auto shared_write = fs::perms::group_write | fs::perms::others_write;
    if ((options.dir_permissions & ~fs::perms::all) != fs::perms::none ||
        (options.dir_permissions & fs::perms::owner_all) != fs::perms::owner_all ||
        (options.dir_permissions & shared_write) != fs::perms::none) {
      refuse("file_backend dir_permissions " + octal(options.dir_permissions & fs::perms::mask) +
             " must give the owner rwx and nobody else write permission (0700 is the default): "
             "a directory others can write lets them plant or swap cache entries");
    }
  }

  // ---- the directory handle ------------------------------------------------------------

  dir_handle current_dir() const {
    std::lock_guard guard(dir_mutex);
    return opened_dir;
  }

  // Opens the configured path afresh (creating it, and refusing a symlink, exactly as at
  // construction) when the directory `seen` was deleted or the path now names another one.
  // Returns the handle to use: a new one, one another thread already swapped in, or `seen`
  // itself when the directory is still in place. Fails with errc::backend_permanent (the
  // construction message) when the path can no longer be opened safely.
  result<dir_handle> reopen_if_gone(const dir_handle& seen) {
    std::lock_guard guard(dir_mutex);
    if (opened_dir != seen) return opened_dir;
    if (!detail::cache_directory_deleted(seen->get()) && still_named(seen->get())) return seen;
    try {
      auto opened = detail::open_cache_directory(options.cache_dir, options.dir_permissions);
      opened_dir = std::make_shared<const unique_fd>(std::move(opened.fd));
      return opened_dir;
    } catch (const error& e) {
      return fail(errc::backend_permanent, e.what());
    }
  }

  // Whether the configured path (as resolved at construction) still names the directory open
  // as `fd`. Only decides whether to reopen; the reopen itself does the safe checks.
  bool still_named(int fd) const {
    struct stat open_stat {};
    struct stat path_stat {};
    if (::fstat(fd, &open_stat) != 0) return true;  // cannot tell: keep what works
    if (::lstat(dir.c_str(), &path_stat) != 0) return false;
    return open_stat.st_dev == path_stat.st_dev && open_stat.st_ino == path_stat.st_ino;
  }

  // ---- names and locks -----------------------------------------------------------------

  wall_clock::time_point now() const { return options.clock ? options.clock() : wall_clock::now(); }

  // The path of `name`, for messages only: operations go through the directory descriptor.
  std::string path_text(std::string_view name) const {
    std::string path;
    path.reserve(dir.size() + 1 + name.size());
    path.append(dir).append("/").append(name);
    return path;
  }

  // In-process readers share a stripe; whatever replaces or deletes an entry file (commit,
  // erase, touch, eviction) holds it exclusively. So within this process a reader never
  // deletes a file another thread has just renamed into place, and flocks never contend
  // between our own threads (only with other processes).
  std::shared_mutex& stripe_for(std::string_view name) {
    const auto digit = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    if (name.size() >= 2 && digit(name[0]) >= 0 && digit(name[1]) >= 0) {
      return stripes[static_cast<std::size_t>(digit(name[0]) * 16 + digit(name[1])) % stripe_count];
    }
    return stripes[std::hash<std::string_view>{}(name) % stripe_count];
  }

  // ---- entry counters (cachekit-py's O(1) bookkeeping) ---------------------------------

  void note_write(std::optional<std::int64_t> old_size, std::int64_t new_size) {
    std::lock_guard guard(counters_mutex);
    if (!old_size) {
      ++entry_count;
      ++added_since_scan;
    }
    entry_bytes += new_size - old_size.value_or(0);
    written_since_scan += new_size;
  }

  void note_removed(std::int64_t size) {
    std::lock_guard guard(counters_mutex);
    --entry_count;
    entry_bytes -= size;
  }

  // The size of the regular file `name` (not following a symlink), or nullopt.
  static std::optional<std::int64_t> regular_file_size(int dir_fd, const std::string& name) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(st.st_size);
  }

  // Unlinks `name` only while it is still the file `fd` has open: a fresh entry another
  // process renamed into place after we judged the old one corrupt or expired survives.
  void unlink_if_same_inode(int dir_fd, int fd, const std::string& name) {
    struct stat open_stat {};
    struct stat path_stat {};
    if (::fstat(fd, &open_stat) != 0 ||
        ::fstatat(dir_fd, name.c_str(), &path_stat, AT_SYMLINK_NOFOLLOW) != 0) {
      return;
    }
    if (open_stat.st_dev != path_stat.st_dev || open_stat.st_ino != path_stat.st_ino) return;
    if (::unlinkat(dir_fd, name.c_str(), 0) == 0 && S_ISREG(path_stat.st_mode)) {
      note_removed(static_cast<std::int64_t>(path_stat.st_size));
    }
  }

  // ---- scanning, sweeping, evicting (caller holds commit_mutex) ------------------------

  // Deletes the temp files of `temps` that are orphans (detail::file_temp_is_stale, judged by
  // the real clock) and that no writer holds locked; keeps the rest in `temps`.
  static void sweep_stale_temps(int dir_fd, std::vector<detail::scanned_file>& temps) {
    const std::int64_t now_ns = detail::wall_now_ns();
    std::erase_if(temps, [&](const detail::scanned_file& temp) {
      if (!temp.size || !detail::file_temp_is_stale(temp.mtime_ns, now_ns)) return false;
      unique_fd fd(
          ::openat(dir_fd, temp.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!fd.valid()) return errno == ENOENT;
      // A writer holds its temp file's lock while it writes: a slow write is not an orphan.
      if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return false;
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0 || st.st_ino != temp.inode) return false;
      return ::unlinkat(dir_fd, temp.name.c_str(), 0) == 0;
    });
  }

  // Rebuilds the counters from a fresh scan, after sweeping orphaned temp files, and returns
  // the listing. A vanished directory is first reopened (recreated). A failed scan leaves the
  // counters as they were; one with an unknown size marks them stale so the next write
  // rescans.
  std::optional<detail::directory_listing> reconcile() {
    auto handle = current_dir();
    if (auto reopened = reopen_if_gone(handle)) handle = *reopened;
    auto listing = detail::scan_cache_directory(handle->get());
    if (!listing) return std::nullopt;
    sweep_stale_temps(handle->get(), listing->temps);
    std::int64_t bytes = 0;
    std::int64_t temps = 0;
    bool complete = true;
    for (const auto& e : listing->entries) {
      bytes += e.size.value_or(0);
      complete = complete && e.size.has_value();
    }
    for (const auto& t : listing->temps) temps += t.size.value_or(0);
    std::lock_guard guard(counters_mutex);
    entry_count = static_cast<std::int64_t>(listing->entries.size());
    entry_bytes = bytes;
    temp_bytes = temps;
    added_since_scan = 0;
    written_since_scan = 0;
    reconciled_at = complete ? std::optional{std::chrono::steady_clock::now()} : std::nullopt;
    return listing;
  }

  double max_bytes() const { return static_cast<double>(options.max_size_mb * mib); }
  double max_count() const { return static_cast<double>(options.max_entry_count); }

  // Past 90% of either limit. Temp files count toward the size: orphans of crashed writers
  // take disk space like entries do.
  bool over_eviction_trigger() {
    std::lock_guard guard(counters_mutex);
    return static_cast<double>(entry_bytes + temp_bytes) > max_bytes() * eviction_trigger ||
           static_cast<double>(entry_count) > max_count() * eviction_trigger;
  }

  bool counters_stale() {
    std::lock_guard guard(counters_mutex);
    return !reconciled_at ||
           std::chrono::steady_clock::now() - *reconciled_at >= reconcile_interval ||
           static_cast<double>(added_since_scan) >= max_count() * drift_share ||
           static_cast<double>(written_since_scan) >= max_bytes() * drift_share;
  }

  // Deletes the oldest-written entries of `listing` (a fresh reconcile) until the bytes
  // (temp files included) are at or below `target_bytes` and the count at or below
  // `target_count`; never `keep` (the entry a write just committed). Only files the scan saw,
  // by name and inode: a file renamed over one since (by another process) is fresh.
  void evict(int dir_fd, detail::directory_listing& listing, std::string_view keep,
             double target_bytes, std::int64_t target_count) {
    detail::sort_oldest_first(listing.entries, detail::wall_now_ns());
    for (const auto& victim : listing.entries) {
      {
        std::lock_guard guard(counters_mutex);
        if (static_cast<double>(entry_bytes + temp_bytes) <= target_bytes &&
            entry_count <= target_count) {
          break;
        }
      }
      if (victim.name == keep) continue;
      std::unique_lock stripe(stripe_for(victim.name));
      struct stat st {};
      if (::fstatat(dir_fd, victim.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (!S_ISREG(st.st_mode) || (victim.size && st.st_ino != victim.inode)) continue;
      if (::unlinkat(dir_fd, victim.name.c_str(), 0) != 0) continue;
      note_removed(victim.size.value_or(0));
    }
  }

  // cachekit-py's `_maybe_evict`: past 90% of the size or count limit (by counters rebuilt
  // from a scan), deletes the oldest-mtime entries until both are at or below 70%.
  void maybe_evict(std::string_view keep) {
    if (!counters_stale() && !over_eviction_trigger()) return;
    evict_to_target(keep);
  }

  void evict_to_target(std::string_view keep) {
    auto listing = reconcile();
    if (!listing || !over_eviction_trigger()) return;
    evict(current_dir()->get(), *listing, keep, max_bytes() * eviction_target,
          static_cast<std::int64_t>(max_count() * eviction_target));
  }

  // Makes room for a new entry when the directory holds max_entry_count entries: evicts the
  // oldest down to 70% (where cachekit-py refuses the key, and keeps refusing, rescanning each
  // time, until someone deletes entries). Fails only when eviction could not get below the
  // limit (files it may not delete). Overwrites always pass.
  result<void> make_room_for_new_entry(std::optional<std::int64_t> old_size,
                                       std::string_view keep) {
    if (old_size) return {};
    const auto cap = static_cast<std::int64_t>(options.max_entry_count);
    const auto count = [&] {
      std::lock_guard guard(counters_mutex);
      return entry_count;
    };
    if (count() < cap) return {};
    auto listing = reconcile();
    if (listing && count() >= cap) {
      evict(current_dir()->get(), *listing, keep, max_bytes() * eviction_target,
            static_cast<std::int64_t>(max_count() * eviction_target));
    }
    const std::int64_t left = count();
    if (left < cap) return {};
    return fail(errc::backend_permanent,
                "cache directory " + dir + " holds " + std::to_string(left) +
                    " entries, its max_entry_count (" + std::to_string(cap) +
                    "), and eviction could not delete any of them; check the permissions of "
                    "the files in it or raise max_entry_count (CACHEKIT_FILE_MAX_ENTRY_COUNT)");
  }

  // On a full disk: sweeps orphaned temp files, then evicts the oldest entries until `needed`
  // more bytes are free. Best effort: the caller retries its write once whatever came of it.
  void free_space_for(std::int64_t needed, std::string_view keep) {
    auto listing = reconcile();
    if (!listing) return;
    std::int64_t total = 0;
    {
      std::lock_guard guard(counters_mutex);
      total = entry_bytes + temp_bytes;
    }
    evict(current_dir()->get(), *listing, keep,
          static_cast<double>(std::max<std::int64_t>(total - needed, 0)),
          std::numeric_limits<std::int64_t>::max());
  }

  // ---- reading -------------------------------------------------------------------------

  struct live_entry {
    unique_fd fd;
    detail::file_header header;
    std::int64_t size = 0;
  };

  // Opens the entry file `name`, locks it (shared, or exclusive for `writable`), and checks its
  // header. nullopt — a miss — when absent, a symlink (never followed), not a regular file,
  // corrupt or expired (both deleted), or carrying an unknown transform (left alone). Caller
  // holds the stripe.
  result<std::optional<live_entry>> open_live(int dir_fd, const std::string& name, bool writable,
                                              std::string_view operation) {
    const int flags = (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    unique_fd fd(::openat(dir_fd, name.c_str(), flags));
    if (!fd.valid()) {
      const int code = errno;
      if (code == ENOENT || code == ELOOP) return std::optional<live_entry>{};  // ELOOP: symlink
      return os_failure(std::string(operation) + ": cannot open", path_text(name), code);
    }
    const int locked = lock_file(fd.get(), writable ? LOCK_EX : LOCK_SH, options.lock_timeout);
    if (locked == EWOULDBLOCK) {
      return fail(errc::timeout, std::string(operation) + ": another process held the lock of " +
                                     path_text(name) + " for more than " +
                                     std::to_string(options.lock_timeout.count()) + " ms");
    }
    if (locked != 0) {
      return os_failure(std::string(operation) + ": cannot lock", path_text(name), locked);
    }

    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      const int code = errno;
      return os_failure(std::string(operation) + ": cannot stat", path_text(name), code);
    }
    if (!S_ISREG(st.st_mode)) return std::optional<live_entry>{};

    detail::file_header_bytes raw{};
    std::size_t got = 0;
    if (const int code = read_fully(fd.get(), raw, 0, got); code != 0) {
      return os_failure(std::string(operation) + ": cannot read", path_text(name), code);
    }
    auto header = detail::parse_file_header(byte_view(raw).first(got));
    if (!header) {
      unlink_if_same_inode(dir_fd, fd.get(), name);
      return std::optional<live_entry>{};
    }
    if (header->has_unknown_transform()) return std::optional<live_entry>{};
    if (detail::file_entry_expired(header->expiry, now())) {
      unlink_if_same_inode(dir_fd, fd.get(), name);
      return std::optional<live_entry>{};
    }
    return std::optional<live_entry>{
        live_entry{std::move(fd), *header, static_cast<std::int64_t>(st.st_size)}};
  }

  // ---- writing -------------------------------------------------------------------------

  std::string temp_name_for(std::string_view name) {
    // cachekit-py's `{name}.tmp.{pid}.{time_ns}`, plus a sequence number: two threads may read
    // the same nanosecond.
    return detail::file_temp_name(name, static_cast<long>(::getpid()), detail::wall_now_ns(),
                                  temp_sequence.fetch_add(1, std::memory_order_relaxed));
  }

  struct temp_failure {
    int code = 0;
    std::string what;
    // The directory refused the new file (creating one needs write permission on it): an
    // EACCES there will not pass by itself, unlike one on a file another process holds.
    bool on_directory = false;
  };

  // Writes and fsyncs the temp file `temp_name`; on failure removes it and returns the errno
  // value and what failed.
  std::optional<temp_failure> write_temp(int dir_fd, const std::string& temp_name, byte_view header,
                                         byte_view value) {
    unique_fd fd(::openat(dir_fd, temp_name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          static_cast<mode_t>(options.permissions)));
    if (!fd.valid()) return temp_failure{errno, "set: cannot create", /*on_directory=*/true};
    const auto failed = [&](int code, const char* what) {
      fd.reset();
      (void)::unlinkat(dir_fd, temp_name.c_str(), 0);
      return temp_failure{code, what, /*on_directory=*/false};
    };
    // A fresh, uniquely named file: if someone holds its lock, fail at once as cachekit-py does.
    if (const int code = lock_file(fd.get(), LOCK_EX, std::chrono::milliseconds{0}); code != 0) {
      return failed(code, "set: cannot lock");
    }
    if (const int code = write_fully(fd.get(), header, 0); code != 0) {
      return failed(code, "set: cannot write");
    }
    if (const int code = write_fully(fd.get(), value, static_cast<off_t>(header.size()));
        code != 0) {
      return failed(code, "set: cannot write");
    }
    if (::fsync(fd.get()) != 0) return failed(errno, "set: cannot fsync");
    return std::nullopt;
  }

  file_backend_options options;
  fs::path directory;
  std::string dir;  // directory as a string, for messages

  mutable std::mutex dir_mutex;
  dir_handle opened_dir;  // guarded by dir_mutex

  std::array<std::shared_mutex, stripe_count> stripes;
  // Serializes the capacity check + rename of a write and every scan and eviction
  // (cachekit-py's process lock around `_commit`). Lock order: commit_mutex, then a stripe,
  // then counters_mutex; dir_mutex is taken alone.
  std::mutex commit_mutex;
  std::mutex counters_mutex;
  std::int64_t entry_count = 0;         // guarded by counters_mutex
  std::int64_t entry_bytes = 0;         // guarded by counters_mutex
  std::int64_t temp_bytes = 0;          // guarded by counters_mutex; as of the last scan
  std::int64_t added_since_scan = 0;    // guarded by counters_mutex
  std::int64_t written_since_scan = 0;  // guarded by counters_mutex
  // When the counters last matched a complete scan; nullopt: stale, rescan on the next write.
  std::optional<std::chrono::steady_clock::time_point> reconciled_at;  // guarded by counters_mutex
  std::atomic<std::uint64_t> temp_sequence{0};
};

file_backend::file_backend(file_backend_options options)
    : state_(std::make_unique<state>(std::move(options))) {}

file_backend::~file_backend() = default;

const fs::path& file_backend::directory() const noexcept {
  return state_->directory;
}

fs::path file_backend::path_of(std::string_view key) const {
  return state_->directory / detail::file_entry_name(key);
}

result<std::optional<byte_buffer>> file_backend::get(std::string_view key) {
  auto entry = get_with_ttl(key);
  if (!entry) return std::move(entry).error();
  if (!*entry) return std::optional<byte_buffer>{};
  return std::optional<byte_buffer>{std::move((*entry)->value)};
}

result<std::optional<timed_value>> file_backend::get_with_ttl(std::string_view key) {
  const std::string name = detail::file_entry_name(key);
  const auto handle = state_->current_dir();
  std::shared_lock stripe(state_->stripe_for(name));
  auto opened = state_->open_live(handle->get(), name, /*writable=*/false, "get");
  if (!opened) return std::move(opened).error();
  if (!*opened) return std::optional<timed_value>{};
  auto& entry = **opened;

  const auto payload_size =
      static_cast<std::size_t>(entry.size - static_cast<std::int64_t>(detail::file_header_size));
  byte_buffer payload(payload_size);
  std::size_t got = 0;
  if (const int code =
          read_fully(entry.fd.get(), payload, static_cast<off_t>(detail::file_header_size), got);
      code != 0) {
    return os_failure("get: cannot read", state_->path_text(name), code);
  }
  if (got < payload_size) {
    // The file shrank under us (truncated in place): corrupt, like a short header.
    state_->unlink_if_same_inode(handle->get(), entry.fd.get(), name);
    return std::optional<timed_value>{};
  }
  timed_value out{std::move(payload), std::nullopt};
  // The header read with the payload: the lifetime comes with no second open.
  if (entry.header.expiry == 0) {
    out.remaining.emplace(std::nullopt);
  } else {
    const auto left = std::chrono::seconds{static_cast<std::int64_t>(entry.header.expiry)} -
                      state_->now().time_since_epoch();
    out.remaining.emplace(std::chrono::duration_cast<std::chrono::seconds>(left));
  }
  return std::optional<timed_value>{std::move(out)};
}

result<void> file_backend::set(std::string_view key, byte_view value, ttl_seconds ttl) {
  if (ttl && ttl->count() <= 0) {  // already expired (backend.hpp); cachekit-py: 0 never expires
    auto erased = erase(key);
    if (!erased) return std::move(erased).error();
    return {};
  }
  const std::uint64_t max_value_bytes = state_->options.max_value_mb * mib;
  if (value.size() > max_value_bytes) {
    return fail(errc::backend_permanent,
                "value of " + std::to_string(value.size()) + " bytes exceeds max_value_mb (" +
                    std::to_string(state_->options.max_value_mb) + " MiB)");
  }
  auto expiry = detail::file_expiry_for(ttl, state_->now());
  if (!expiry) return std::move(expiry).error();

  const std::string name = detail::file_entry_name(key);
  auto handle = state_->current_dir();
  {
    // Checked before writing so a refused entry never costs a temp file.
    std::lock_guard commit(state_->commit_mutex);
    if (auto room =
            state_->make_room_for_new_entry(state::regular_file_size(handle->get(), name), name);
        !room) {
      return room;
    }
  }

  const auto header = detail::encode_file_header(*expiry);
  const auto file_size = static_cast<std::int64_t>(header.size() + value.size());
  std::string temp_name = state_->temp_name_for(name);
  auto failed = state_->write_temp(handle->get(), temp_name, header, value);
  if (failed && failed->code == ENOENT) {
    // The directory was deleted under us: recreate it (as at construction) and write once more.
    auto reopened = state_->reopen_if_gone(handle);
    if (!reopened) return std::move(reopened).error();
    if (*reopened != handle) {
      handle = *reopened;
      failed = state_->write_temp(handle->get(), temp_name, header, value);
    }
  }
  if (failed && failed->code == ENOSPC) {
    // A full disk: make room from our own oldest entries, then write once more.
    {
      std::lock_guard commit(state_->commit_mutex);
      state_->free_space_for(file_size, name);
    }
    handle = state_->current_dir();
    failed = state_->write_temp(handle->get(), temp_name, header, value);
  }
  if (failed) {
    return os_failure(failed->what, state_->path_text(temp_name), failed->code,
                      failed->on_directory);
  }

  // Commit: room for the entry again (concurrent new-key writers may all have passed the first
  // check), the rename, the counters, and eviction, all under the commit lock.
  std::lock_guard commit(state_->commit_mutex);
  const auto discard = [&] { (void)::unlinkat(handle->get(), temp_name.c_str(), 0); };
  if (auto room =
          state_->make_room_for_new_entry(state::regular_file_size(handle->get(), name), name);
      !room) {
    discard();
    return room;
  }
  {
    std::unique_lock stripe(state_->stripe_for(name));
    const auto old_size = state::regular_file_size(handle->get(), name);
    if (::renameat(handle->get(), temp_name.c_str(), handle->get(), name.c_str()) != 0) {
      const int code = errno;
      discard();
      return os_failure("set: cannot rename into", state_->path_text(name), code);
    }
    state_->note_write(old_size, file_size);
  }
  state_->maybe_evict(name);
  return {};
}

result<bool> file_backend::erase(std::string_view key) {
  const std::string name = detail::file_entry_name(key);
  const auto handle = state_->current_dir();
  std::unique_lock stripe(state_->stripe_for(name));
  const auto size = state::regular_file_size(handle->get(), name);
  // unlinkat removes a symlink itself, never what it points to.
  if (::unlinkat(handle->get(), name.c_str(), 0) != 0) {
    const int code = errno;
    if (code == ENOENT) return false;
    return os_failure("erase: cannot delete", state_->path_text(name), code);
  }
  if (size) state_->note_removed(*size);
  return true;
}

result<bool> file_backend::exists(std::string_view key) {
  const std::string name = detail::file_entry_name(key);
  const auto handle = state_->current_dir();
  std::shared_lock stripe(state_->stripe_for(name));
  auto opened = state_->open_live(handle->get(), name, /*writable=*/false, "exists");
  if (!opened) return std::move(opened).error();
  return opened->has_value();
}

result<remaining_ttl> file_backend::ttl(std::string_view key) {
  const std::string name = detail::file_entry_name(key);
  const auto handle = state_->current_dir();
  std::shared_lock stripe(state_->stripe_for(name));
  auto opened = state_->open_live(handle->get(), name, /*writable=*/false, "ttl");
  if (!opened) return std::move(opened).error();
  if (!*opened) return remaining_ttl{};
  const std::uint64_t expiry = (*opened)->header.expiry;
  if (expiry == 0) return remaining_ttl{.exists = true, .ttl = std::nullopt};
  // Not expired, so expiry is after now; int(expiry - now) truncates toward zero.
  const auto now = state_->now().time_since_epoch();
  const auto left = std::chrono::seconds{static_cast<std::int64_t>(expiry)} - now;
  return remaining_ttl{.exists = true,
                       .ttl = std::chrono::duration_cast<std::chrono::seconds>(left)};
}

result<bool> file_backend::touch(std::string_view key, ttl_seconds ttl) {
  if (ttl && ttl->count() <= 0) {  // it expires now (backend.hpp)
    auto live = exists(key);
    if (!live) return live;
    auto erased = erase(key);
    if (!erased) return erased;
    return *live && *erased;
  }
  auto expiry = detail::file_expiry_for(ttl, state_->now());
  if (!expiry) return std::move(expiry).error();
  const std::string name = detail::file_entry_name(key);
  const auto handle = state_->current_dir();
  std::unique_lock stripe(state_->stripe_for(name));
  auto opened = state_->open_live(handle->get(), name, /*writable=*/true, "touch");
  if (!opened) return std::move(opened).error();
  if (!*opened) return false;
  // Only the 8-byte expiry field changes: a torn write on power loss gives a wrong expiry,
  // never a corrupt payload (cachekit-py makes the same trade).
  const auto header = detail::encode_file_header(*expiry);
  const int fd = (*opened)->fd.get();
  if (const int code = write_fully(fd, byte_view(header).subspan(6), 6); code != 0) {
    return os_failure("touch: cannot write", state_->path_text(name), code);
  }
  if (::fsync(fd) != 0) {
    const int code = errno;
    return os_failure("touch: cannot fsync", state_->path_text(name), code);
  }
  return true;
}

backend_health file_backend::health() {
  const auto start = std::chrono::steady_clock::now();
  backend_health report;
  report.backend_type = "file";
  report.details["cache_dir"] = state_->dir;
  const auto finish = [&](bool healthy, std::string error_text) {
    report.healthy = healthy;
    report.latency = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    if (!healthy) {
      report.details["error"] = std::move(error_text);
      report.latency = std::chrono::microseconds{-1};
    }
    return report;
  };

  // The round trip cachekit-py's health_check makes: it proves the directory is writable.
  if (auto stored = set(health_key, as_byte_view(health_value), std::chrono::seconds{60});
      !stored) {
    return finish(false, stored.error().message());
  }
  auto read_back = get(health_key);
  (void)erase(health_key);
  if (!read_back) return finish(false, read_back.error().message());
  if (!*read_back || as_string_view(**read_back) != health_value) {
    return finish(false, "round-trip verification failed");
  }

  const auto listing = detail::scan_cache_directory(state_->current_dir()->get());
  if (!listing) return finish(false, "cannot list " + state_->dir);
  std::int64_t bytes = 0;
  for (const auto& e : listing->entries) bytes += e.size.value_or(0);
  char size_mb[32];
  std::snprintf(size_mb, sizeof size_mb, "%.6f", static_cast<double>(bytes) / mib);
  report.details["cache_size_mb"] = size_mb;
  report.details["file_count"] = std::to_string(listing->entries.size());
  report.details["max_size_mb"] = std::to_string(state_->options.max_size_mb);
  report.details["max_entry_count"] = std::to_string(state_->options.max_entry_count);
  return finish(true, {});
}

}  // namespace v0
}  // namespace cachekit
