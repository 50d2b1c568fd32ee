#include <cachekit/file_backend.hpp>

#include "backends/file/file_entry.hpp"
#include "protocol/blake2b.hpp"

#include <dirent.h>
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
#include <mutex>
#include <shared_mutex>
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

constexpr std::string_view temp_marker = ".tmp.";
constexpr std::string_view health_key = "__health_check__";
constexpr std::string_view health_value = "health_check_data";
// cachekit-py's TEMP_FILE_MAX_AGE_SECONDS and RECONCILE_INTERVAL_SECONDS.
constexpr auto orphan_age = std::chrono::seconds{60};
constexpr auto reconcile_interval = std::chrono::seconds{30};
// cachekit-py's EVICTION_TRIGGER_THRESHOLD and EVICTION_TARGET_THRESHOLD.
constexpr double eviction_trigger = 0.9;
constexpr double eviction_target = 0.7;
constexpr std::uint64_t mib = 1024 * 1024;
constexpr std::size_t stripe_count = 64;
constexpr auto max_lock_timeout = std::chrono::seconds{30};

// An owned file descriptor; closing it also drops any flock taken through it.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

class unique_dir {
 public:
  explicit unique_dir(DIR* dir) noexcept : dir_(dir) {}
  unique_dir(const unique_dir&) = delete;
  unique_dir& operator=(const unique_dir&) = delete;
  ~unique_dir() {
    if (dir_ != nullptr) ::closedir(dir_);
  }
  [[nodiscard]] DIR* get() const noexcept { return dir_; }

 private:
  DIR* dir_;
};

std::string describe(int code) {
  return std::generic_category().message(code);
}

// cachekit-py's `_classify_os_error`; its "unknown" class is treated as retryable, as
// cachekit-rs does.
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

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
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
  // One entry file as a directory scan saw it.
  struct scanned_entry {
    std::string name;
    std::int64_t mtime = 0;            // ns; 0 when the stat failed
    std::optional<std::int64_t> size;  // nullopt when the stat failed
    ino_t inode = 0;
  };

  explicit state(file_backend_options opts) : options(std::move(opts)) {
    validate();
    open_directory();
    remove_orphaned_temp_files();
    std::lock_guard commit(commit_mutex);
    (void)reconcile();
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

  void open_directory() {
    const fs::path& requested = options.cache_dir;
    const auto refuse = [&](const std::string& why) {
      throw error(errc::invalid_configuration,
                  "file_backend cache directory " + requested.string() + ": " + why);
    };
    if (requested.empty()) refuse("the path is empty; set cache_dir or CACHEKIT_FILE_CACHE_DIR");

    struct stat st {};
    if (::stat(requested.c_str(), &st) != 0) {
      // Missing: create the parents with default modes and the directory itself with
      // dir_permissions, as Python's mkdir(parents=True, mode=dir_permissions) does.
      std::error_code ec;
      const fs::path parent = requested.parent_path();
      if (!parent.empty()) fs::create_directories(parent, ec);
      if (ec) refuse("cannot create its parent: " + ec.message());
      if (::mkdir(requested.c_str(), static_cast<mode_t>(options.dir_permissions)) != 0 &&
          errno != EEXIST) {
        const int code = errno;
        refuse("cannot create it: " + describe(code) +
               "; create it (mode 0700) or point cache_dir at a writable place");
      }
    }

    char* resolved = ::realpath(requested.c_str(), nullptr);
    if (resolved == nullptr) {
      const int code = errno;
      refuse("cannot resolve it: " + describe(code));
    }
    directory = resolved;
    std::free(resolved);  // NOLINT(cppcoreguidelines-no-malloc): realpath allocates with malloc
    dir = directory.string();

    if (::stat(dir.c_str(), &st) != 0) {
      const int code = errno;
      refuse("cannot stat " + dir + ": " + describe(code));
    }
    if (!S_ISDIR(st.st_mode)) refuse(dir + " exists and is not a directory; choose another path");
    const uid_t euid = ::geteuid();
    if (st.st_uid != euid) {
      refuse(dir + " is owned by uid " + std::to_string(st.st_uid) + ", not by this process (uid " +
             std::to_string(euid) +
             "); another user could read or plant cache entries. Use a "
             "directory you own (chown " +
             std::to_string(euid) + " " + dir +
             ") or set CACHEKIT_FILE_CACHE_DIR to a private path");
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "0%03o", static_cast<unsigned>(st.st_mode & 0777));
      refuse(dir + " has mode " + std::string(mode) +
             ": group or others can write it and so plant or swap cache entries. Fix: chmod 700 " +
             dir + " (or go-w), or set CACHEKIT_FILE_CACHE_DIR to a private directory");
    }
  }

  // Deletes `*.tmp.*` files older than 60 s: writes that crashed between create and rename.
  // Best effort, like cachekit-py: failures are ignored. Symlinks are never touched.
  void remove_orphaned_temp_files() {
    unique_dir handle(::opendir(dir.c_str()));
    if (handle.get() == nullptr) return;
    const auto now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now().time_since_epoch()).count();
    const std::int64_t max_age_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(orphan_age).count();
    while (const dirent* item = ::readdir(handle.get())) {
      const std::string_view name = item->d_name;
      if (name.find(temp_marker) == std::string_view::npos) continue;
      struct stat st {};
      if (::fstatat(::dirfd(handle.get()), item->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (!S_ISREG(st.st_mode)) continue;
      if (now_ns - mtime_ns(st) > max_age_ns) {
        (void)::unlinkat(::dirfd(handle.get()), item->d_name, 0);
      }
    }
  }

  // ---- paths and locks -----------------------------------------------------------------

  wall_clock::time_point now() const { return options.clock ? options.clock() : wall_clock::now(); }

  static std::string name_of(std::string_view key) {
    std::array<std::byte, 16> digest;
    detail::blake2b(as_byte_view(key), digest);
    std::string name(32, '\0');
    detail::append_hex_lower(digest, name.data());
    return name;
  }

  std::string path_of_name(std::string_view name) const {
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
    if (!old_size) ++entry_count;
    entry_bytes += new_size - old_size.value_or(0);
  }

  void note_removed(std::int64_t size) {
    std::lock_guard guard(counters_mutex);
    --entry_count;
    entry_bytes -= size;
  }

  // The size of the regular file at `path` (not following a symlink), or nullopt.
  static std::optional<std::int64_t> regular_file_size(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    return static_cast<std::int64_t>(st.st_size);
  }

  // Unlinks `path` only while it is still the file `fd` has open: a fresh entry another
  // process renamed into place after we judged the old one corrupt or expired survives.
  void unlink_if_same_inode(int fd, const std::string& path) {
    struct stat open_stat {};
    struct stat path_stat {};
    if (::fstat(fd, &open_stat) != 0 || ::lstat(path.c_str(), &path_stat) != 0) return;
    if (open_stat.st_dev != path_stat.st_dev || open_stat.st_ino != path_stat.st_ino) return;
    if (::unlink(path.c_str()) == 0 && S_ISREG(path_stat.st_mode)) {
      note_removed(static_cast<std::int64_t>(path_stat.st_size));
    }
  }

  // Every entry file: skips hidden files, temp files, and whatever is not a regular file.
  // nullopt when the directory cannot be read. An entry whose stat fails (not ENOENT) is kept
  // with unknown size and mtime 0, so a partial scan never undercounts and eviction tries it
  // first (cachekit-py's `_scan_entries`).
  std::optional<std::vector<scanned_entry>> scan() const {
    unique_dir handle(::opendir(dir.c_str()));
    if (handle.get() == nullptr) return std::nullopt;
    std::vector<scanned_entry> entries;
    for (;;) {
      errno = 0;
      const dirent* item = ::readdir(handle.get());
      if (item == nullptr) {
        if (errno != 0) return std::nullopt;
        break;
      }
      const std::string_view name = item->d_name;
      if (name.starts_with('.') || name.find(temp_marker) != std::string_view::npos) continue;
      struct stat st {};
      if (::fstatat(::dirfd(handle.get()), item->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // deleted mid-scan
        entries.push_back({.name = std::string(name), .mtime = 0, .size = std::nullopt});
        continue;
      }
      if (!S_ISREG(st.st_mode)) continue;
      entries.push_back({.name = std::string(name),
                         .mtime = mtime_ns(st),
                         .size = static_cast<std::int64_t>(st.st_size),
                         .inode = st.st_ino});
    }
    return entries;
  }

  // Resets the counters from a fresh scan (caller holds commit_mutex). A failed scan leaves
  // them as they were; a scan with an unknown size marks them stale so the next write rescans.
  std::optional<std::vector<scanned_entry>> reconcile() {
    auto entries = scan();
    if (!entries) return std::nullopt;
    std::int64_t bytes = 0;
    bool complete = true;
    for (const auto& e : *entries) {
      bytes += e.size.value_or(0);
      complete = complete && e.size.has_value();
    }
    std::lock_guard guard(counters_mutex);
    entry_count = static_cast<std::int64_t>(entries->size());
    entry_bytes = bytes;
    reconciled_at = complete ? std::optional{std::chrono::steady_clock::now()} : std::nullopt;
    return entries;
  }

  bool over_eviction_trigger() {
    std::lock_guard guard(counters_mutex);
    return static_cast<double>(entry_bytes) >
               static_cast<double>(options.max_size_mb * mib) * eviction_trigger ||
           static_cast<double>(entry_count) >
               static_cast<double>(options.max_entry_count) * eviction_trigger;
  }

  // Refuses a new entry while max_entry_count entries exist (overwrites always pass). A count at
  // the cap is confirmed by a rescan first (caller holds commit_mutex).
  result<void> check_entry_capacity(std::optional<std::int64_t> old_size) {
    if (old_size) return {};
    const auto cap = static_cast<std::int64_t>(options.max_entry_count);
    const auto count = [&] {
      std::lock_guard guard(counters_mutex);
      return entry_count;
    };
    if (count() < cap) return {};
    (void)reconcile();
    const std::int64_t confirmed = count();
    if (confirmed < cap) return {};
    return fail(errc::backend_permanent,
                "cache directory " + dir + " holds " + std::to_string(confirmed) +
                    " entries, its max_entry_count (" + std::to_string(cap) +
                    "): new keys are refused until entries expire or are deleted; raise "
                    "max_entry_count (CACHEKIT_FILE_MAX_ENTRY_COUNT) or delete entries");
  }

  // cachekit-py's `_maybe_evict` (caller holds commit_mutex): past 90% of the size or count
  // bound, deletes the oldest-mtime entries until both are at or below 70%, never `keep` (the
  // entry just written: writes in the same mtime tick would otherwise tie with it).
  void maybe_evict(std::string_view keep) {
    bool stale = false;
    {
      std::lock_guard guard(counters_mutex);
      stale =
          !reconciled_at || std::chrono::steady_clock::now() - *reconciled_at >= reconcile_interval;
    }
    if (!stale && !over_eviction_trigger()) return;
    auto entries = reconcile();
    if (!entries || !over_eviction_trigger()) return;

    const double target_bytes = static_cast<double>(options.max_size_mb * mib) * eviction_target;
    const auto target_count =
        static_cast<std::int64_t>(static_cast<double>(options.max_entry_count) * eviction_target);
    std::stable_sort(entries->begin(), entries->end(),
                     [](const auto& a, const auto& b) { return a.mtime < b.mtime; });
    for (const auto& victim : *entries) {
      {
        std::lock_guard guard(counters_mutex);
        if (static_cast<double>(entry_bytes) <= target_bytes && entry_count <= target_count) break;
      }
      if (victim.name == keep) continue;
      const std::string path = path_of_name(victim.name);
      std::unique_lock stripe(stripe_for(victim.name));
      // Only the file the scan saw: one renamed over it since (by another process) is fresh.
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0) continue;
      if (victim.size && st.st_ino != victim.inode) continue;
      if (::unlink(path.c_str()) != 0) continue;
      note_removed(victim.size.value_or(0));
    }
  }

  // ---- reading -------------------------------------------------------------------------

  struct live_entry {
    unique_fd fd;
    detail::file_header header;
    std::int64_t size = 0;
  };

  // Opens the entry file at `path`, locks it (shared, or exclusive for `writable`), and checks
  // its header. nullopt — a miss — when absent, a symlink, not a regular file, corrupt or expired
  // (both deleted), or carrying an unknown transform (left alone). Caller holds the stripe.
  result<std::optional<live_entry>> open_live(const std::string& path, bool writable,
                                              std::string_view operation) {
    const int flags = (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    unique_fd fd(::open(path.c_str(), flags));
    if (!fd.valid()) {
      const int code = errno;
      if (code == ENOENT || code == ELOOP) return std::optional<live_entry>{};  // ELOOP: symlink
      return os_failure(std::string(operation) + ": cannot open", path, code);
    }
    const int locked = lock_file(fd.get(), writable ? LOCK_EX : LOCK_SH, options.lock_timeout);
    if (locked == EWOULDBLOCK) {
      return fail(errc::timeout, std::string(operation) + ": another process held the lock of " +
                                     path + " for more than " +
                                     std::to_string(options.lock_timeout.count()) + " ms");
    }
    if (locked != 0) return os_failure(std::string(operation) + ": cannot lock", path, locked);

    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      const int code = errno;
      return os_failure(std::string(operation) + ": cannot stat", path, code);
    }
    if (!S_ISREG(st.st_mode)) return std::optional<live_entry>{};

    detail::file_header_bytes raw{};
    std::size_t got = 0;
    if (const int code = read_fully(fd.get(), raw, 0, got); code != 0) {
      return os_failure(std::string(operation) + ": cannot read", path, code);
    }
    auto header = detail::parse_file_header(byte_view(raw).first(got));
    if (!header) {
      unlink_if_same_inode(fd.get(), path);
      return std::optional<live_entry>{};
    }
    if (header->has_unknown_transform()) return std::optional<live_entry>{};
    if (detail::file_entry_expired(header->expiry, now())) {
      unlink_if_same_inode(fd.get(), path);
      return std::optional<live_entry>{};
    }
    return std::optional<live_entry>{
        live_entry{std::move(fd), *header, static_cast<std::int64_t>(st.st_size)}};
  }

  // ---- writing -------------------------------------------------------------------------

  std::string temp_path_for(const std::string& path) {
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(wall_clock::now().time_since_epoch())
            .count();
    // cachekit-py's `{name}.tmp.{pid}.{time_ns}`, plus a sequence number: two threads may read
    // the same nanosecond.
    return path + std::string(temp_marker) + std::to_string(::getpid()) + "." + std::to_string(ns) +
           "." + std::to_string(temp_sequence.fetch_add(1, std::memory_order_relaxed));
  }

  // Writes and fsyncs the temp file. Returns its size.
  result<std::int64_t> write_temp(const std::string& temp_path, byte_view header, byte_view value) {
    unique_fd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        static_cast<mode_t>(options.permissions)));
    if (!fd.valid()) {
      const int code = errno;
      return os_failure("set: cannot create", temp_path, code);
    }
    // A fresh, uniquely named file: if someone holds its lock, fail at once as cachekit-py does.
    if (const int code = lock_file(fd.get(), LOCK_EX, std::chrono::milliseconds{0}); code != 0) {
      if (code == EWOULDBLOCK) {
        return fail(errc::timeout, "set: another process holds the lock of " + temp_path);
      }
      return os_failure("set: cannot lock", temp_path, code);
    }
    if (const int code = write_fully(fd.get(), header, 0); code != 0) {
      return os_failure("set: cannot write", temp_path, code);
    }
    if (const int code = write_fully(fd.get(), value, static_cast<off_t>(header.size()));
        code != 0) {
      return os_failure("set: cannot write", temp_path, code);
    }
    if (::fsync(fd.get()) != 0) {
      const int code = errno;
      return os_failure("set: cannot fsync", temp_path, code);
    }
    return static_cast<std::int64_t>(header.size() + value.size());
  }

  file_backend_options options;
  fs::path directory;
  std::string dir;  // directory as a string, for building paths

  std::array<std::shared_mutex, stripe_count> stripes;
  // Serializes the capacity check + rename of a write and every eviction (cachekit-py's
  // process lock around `_commit`). Lock order: commit_mutex, then a stripe, then
  // counters_mutex.
  std::mutex commit_mutex;
  std::mutex counters_mutex;
  std::int64_t entry_count = 0;  // guarded by counters_mutex
  std::int64_t entry_bytes = 0;  // guarded by counters_mutex
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
  return state_->directory / state::name_of(key);
}

result<std::optional<byte_buffer>> file_backend::get(std::string_view key) {
  auto entry = get_with_ttl(key);
  if (!entry) return std::move(entry).error();
  if (!*entry) return std::optional<byte_buffer>{};
  return std::optional<byte_buffer>{std::move((*entry)->value)};
}

result<std::optional<timed_value>> file_backend::get_with_ttl(std::string_view key) {
  const std::string name = state::name_of(key);
  const std::string path = state_->path_of_name(name);
  std::shared_lock stripe(state_->stripe_for(name));
  auto opened = state_->open_live(path, /*writable=*/false, "get");
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
    return os_failure("get: cannot read", path, code);
  }
  if (got < payload_size) {
    // The file shrank under us (truncated in place): corrupt, like a short header.
    state_->unlink_if_same_inode(entry.fd.get(), path);
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
  const std::uint64_t max_value_bytes = state_->options.max_value_mb * mib;
  if (value.size() > max_value_bytes) {
    return fail(errc::backend_permanent,
                "value of " + std::to_string(value.size()) + " bytes exceeds max_value_mb (" +
                    std::to_string(state_->options.max_value_mb) + " MiB)");
  }
  auto expiry = detail::file_expiry_for(ttl, state_->now());
  if (!expiry) return std::move(expiry).error();

  const std::string name = state::name_of(key);
  const std::string path = state_->path_of_name(name);
  {
    // Checked before writing so a refused entry never costs a temp file.
    std::lock_guard commit(state_->commit_mutex);
    if (auto room = state_->check_entry_capacity(state::regular_file_size(path)); !room) {
      return room;
    }
  }

  const std::string temp_path = state_->temp_path_for(path);
  const auto header = detail::encode_file_header(*expiry);
  auto written = state_->write_temp(temp_path, header, value);
  if (!written) {
    (void)::unlink(temp_path.c_str());
    return std::move(written).error();
  }

  // Commit: the check again (concurrent new-key writers may all have passed the first one),
  // the rename, the counters, and eviction, all under the commit lock.
  std::lock_guard commit(state_->commit_mutex);
  {
    std::unique_lock stripe(state_->stripe_for(name));
    const auto old_size = state::regular_file_size(path);
    if (auto room = state_->check_entry_capacity(old_size); !room) {
      (void)::unlink(temp_path.c_str());
      return room;
    }
    if (::rename(temp_path.c_str(), path.c_str()) != 0) {
      const int code = errno;
      (void)::unlink(temp_path.c_str());
      return os_failure("set: cannot rename into", path, code);
    }
    state_->note_write(old_size, *written);
  }
  state_->maybe_evict(name);
  return {};
}

result<bool> file_backend::erase(std::string_view key) {
  const std::string name = state::name_of(key);
  const std::string path = state_->path_of_name(name);
  std::unique_lock stripe(state_->stripe_for(name));
  const auto size = state::regular_file_size(path);
  if (::unlink(path.c_str()) != 0) {
    const int code = errno;
    if (code == ENOENT) return false;
    return os_failure("erase: cannot delete", path, code);
  }
  if (size) state_->note_removed(*size);
  return true;
}

result<bool> file_backend::exists(std::string_view key) {
  const std::string name = state::name_of(key);
  const std::string path = state_->path_of_name(name);
  std::shared_lock stripe(state_->stripe_for(name));
  auto opened = state_->open_live(path, /*writable=*/false, "exists");
  if (!opened) return std::move(opened).error();
  return opened->has_value();
}

result<remaining_ttl> file_backend::ttl(std::string_view key) {
  const std::string name = state::name_of(key);
  const std::string path = state_->path_of_name(name);
  std::shared_lock stripe(state_->stripe_for(name));
  auto opened = state_->open_live(path, /*writable=*/false, "ttl");
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
  auto expiry = detail::file_expiry_for(ttl, state_->now());
  if (!expiry) return std::move(expiry).error();
  const std::string name = state::name_of(key);
  const std::string path = state_->path_of_name(name);
  std::unique_lock stripe(state_->stripe_for(name));
  auto opened = state_->open_live(path, /*writable=*/true, "touch");
  if (!opened) return std::move(opened).error();
  if (!*opened) return false;
  // Only the 8-byte expiry field changes: a torn write on power loss gives a wrong expiry,
  // never a corrupt payload (cachekit-py makes the same trade).
  const auto header = detail::encode_file_header(*expiry);
  const int fd = (*opened)->fd.get();
  if (const int code = write_fully(fd, byte_view(header).subspan(6), 6); code != 0) {
    return os_failure("touch: cannot write", path, code);
  }
  if (::fsync(fd) != 0) {
    const int code = errno;
    return os_failure("touch: cannot fsync", path, code);
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

  const auto entries = state_->scan();
  if (!entries) return finish(false, "cannot list " + state_->dir);
  std::int64_t bytes = 0;
  for (const auto& e : *entries) bytes += e.size.value_or(0);
  char size_mb[32];
  std::snprintf(size_mb, sizeof size_mb, "%.6f", static_cast<double>(bytes) / mib);
  report.details["cache_size_mb"] = size_mb;
  report.details["file_count"] = std::to_string(entries->size());
  report.details["max_size_mb"] = std::to_string(state_->options.max_size_mb);
  report.details["max_entry_count"] = std::to_string(state_->options.max_entry_count);
  return finish(true, {});
}

}  // namespace v0
}  // namespace cachekit
