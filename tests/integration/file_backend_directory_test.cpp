// The file backend and what else lives in or around its directory: links planted at the
// directory or at entry names, a user's own files, orphaned temp files of crashed writers,
// skewed clocks, and other processes sharing the directory (issue 10).
#include <cachekit/file_backend.hpp>

#include "integration/file_backend_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <string>
#include <vector>

namespace cachekit {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace file_test;

const std::string entry_bytes_hex = "434b01000000000000000000000061";  // permanent, "a"

// A private directory (0700) holding a user's own files, each with an old mtime so the old
// eviction order (oldest first) would pick them first.
struct foreign_files {
  explicit foreign_files(const fs::path& dir) : dir(dir) {
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all);
    for (const auto& name : names) {
      write_bytes(dir / name, as_byte_view(name));
      set_mtime(dir / name, 1'000'000);
    }
    fs::create_directory(dir / "photos");
    write_bytes(dir / "photos" / "holiday.jpg", as_byte_view("jpg"));
  }
  // Every file, with the content it was given, is still there.
  void expect_untouched() const {
    for (const auto& name : names) {
      ASSERT_TRUE(fs::exists(dir / name)) << name;
      EXPECT_EQ(read_hex(dir / name), to_hex(as_byte_view(name))) << name;
    }
    EXPECT_TRUE(fs::exists(dir / "photos" / "holiday.jpg"));
  }

  fs::path dir;
  std::vector<std::string> names{
      "thesis.pdf",
      "notes.txt",
      ".bashrc",
      "0123456789abcdef0123456789abcdef.bak",    // an entry name, plus a suffix
      "0123456789ABCDEF0123456789ABCDEF",        // upper case: not a name the backend gives
      "0123456789abcdef0123456789abcdef.tmp.x",  // a temp prefix, not the temp pattern
      "report.tmp.2019.docx",                    // the old sweep took any "*.tmp.*"
  };
};

std::time_t unix_now() {
  return std::time(nullptr);
}

TEST(file_backend_directory, a_symlinked_cache_directory_is_refused_and_its_target_untouched) {
  temp_dir dir;
  const foreign_files home(dir.path() / "home");
  fs::create_directory_symlink(dir.path() / "home", dir.path() / "cachekit");

  try {
    file_backend files({.cache_dir = dir.path() / "cachekit", .max_entry_count = 100});
    // Had it opened, eviction would work through the user's files oldest first.
    for (int i = 0; i < 100; ++i) (void)files.set("k" + std::to_string(i), {}, std::nullopt);
    ADD_FAILURE() << "a symlinked cache directory was accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_configuration);
    const std::string message = e.what();
    EXPECT_NE(message.find("is a symbolic link to " + (dir.path() / "home").string()),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("Point cache_dir (CACHEKIT_FILE_CACHE_DIR) at the real directory"),
              std::string::npos)
        << message;
  }
  home.expect_untouched();
  EXPECT_EQ(entry_files(dir.path() / "home"), home.names.size() + 1);
}

// Sets the umask for one test and restores it, so the modes the backend creates are known.
struct umask_scope {
  explicit umask_scope(mode_t mask) : old(::umask(mask)) {}
  ~umask_scope() { ::umask(old); }
  umask_scope(const umask_scope&) = delete;
  umask_scope& operator=(const umask_scope&) = delete;
  mode_t old;
};

TEST(file_backend_directory, entries_other_users_can_read_get_a_warning_with_the_fix) {
  const umask_scope mask(022);
  temp_dir root;
  const fs::path dir = root.path() / "shared";
  fs::create_directory(dir);
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);  // 0755
  std::vector<failure> warnings;
  file_backend files({.cache_dir = dir,
                      .permissions = fs::perms::owner_read | fs::perms::owner_write |
                                     fs::perms::group_read | fs::perms::others_read,  // 0644
                      .on_warning = [&](const failure& f) { warnings.push_back(f); }});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].code, make_error_code(errc::invalid_configuration));
  EXPECT_EQ(warnings[0].detail,
            "file_backend cache directory " + files.directory().string() +
                " has mode 0755 and new entries get mode 0644: group and others can read every "
                "cached value. Fix: chmod 700 " +
                files.directory().string() +
                " and keep the entry permissions at 0600 (CACHEKIT_FILE_PERMISSIONS, "
                "CACHEKIT_FILE_DIR_PERMISSIONS), or encrypt with intent::secure");
  // The warning is true: a stored entry is readable by others.
  ASSERT_TRUE(files.set("k", as_byte_view("v"), std::nullopt));
  EXPECT_NE(fs::status(files.path_of("k")).permissions() & fs::perms::others_read, fs::perms::none);
}

TEST(file_backend_directory, private_directories_and_private_entries_give_no_warning) {
  const umask_scope mask(022);
  temp_dir root;
  int warnings = 0;
  const auto count = [&](const failure&) { ++warnings; };
  // The defaults: a 0700 directory, 0600 entries.
  file_backend private_files({.cache_dir = root.path() / "private", .on_warning = count});
  // A searchable 0755 directory, but 0600 entries: names are visible, contents are not.
  const fs::path listed = root.path() / "listed";
  fs::create_directory(listed);
  fs::permissions(listed, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  file_backend listed_files({.cache_dir = listed, .on_warning = count});
  // 0644 entries in a 0700 directory: nobody else can reach them.
  file_backend closed_files({.cache_dir = root.path() / "closed",
                             .permissions = fs::perms::owner_read | fs::perms::owner_write |
                                            fs::perms::group_read | fs::perms::others_read,
                             .on_warning = count});
  EXPECT_EQ(warnings, 0);
}

TEST(file_backend_directory, a_directory_in_use_keeps_every_foreign_file_through_eviction) {
  temp_dir dir;
  const foreign_files home(dir.path() / "home");
  // A stale temp symlink, and a stale temp of a crashed writer, which is the backend's own.
  const fs::path orphan = home.dir / "0123456789abcdef0123456789abcdef.tmp.99.1";
  write_bytes(orphan, hex_bytes("00"));
  set_mtime(orphan, unix_now() - 600);

  file_backend files({.cache_dir = home.dir, .max_entry_count = 100});
  EXPECT_FALSE(fs::exists(orphan));
  home.expect_untouched();

  // Foreign files count toward no limit: 90 entries do not pass 90% of 100.
  for (int i = 0; i < 90; ++i) {
    ASSERT_TRUE(files.set("k" + std::to_string(i), to_byte_buffer("v"), std::nullopt));
  }
  for (int i = 0; i < 90; ++i) ASSERT_TRUE(files.exists("k" + std::to_string(i)).value()) << i;
  // Forced eviction, over and over: only entries go.
  for (int i = 90; i < 400; ++i) {
    ASSERT_TRUE(files.set("k" + std::to_string(i), to_byte_buffer("v"), std::nullopt));
  }
  home.expect_untouched();
  EXPECT_LE(entry_files(home.dir), home.names.size() + 1 + 100);
  EXPECT_TRUE(files.exists("k399").value());
  EXPECT_TRUE(files.health().healthy);
}

TEST(file_backend_directory, entry_names_linked_outside_are_never_read_nor_deleted_through) {
  temp_dir dir;
  const fs::path secret = dir.path() / "secret";
  write_bytes(secret, hex_bytes(entry_bytes_hex));  // a valid entry, if it were followed
  set_mtime(secret, 1'000'000);
  file_backend files({.cache_dir = dir.path() / "cache", .max_entry_count = 100});
  const fs::path link = files.path_of("k");
  const fs::path temp_link = files.directory() / "0123456789abcdef0123456789abcdef.tmp.1.2";
  fs::create_symlink(secret, link);
  fs::create_symlink(secret, temp_link);
  set_mtime(link, 1'000'000);
  set_mtime(temp_link, 1'000'000);

  EXPECT_EQ(files.get("k").value(), std::nullopt);
  EXPECT_FALSE(files.exists("k").value());
  EXPECT_FALSE(files.ttl("k").value().exists);
  EXPECT_FALSE(files.touch("k", 5s).value());
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(files.set("other" + std::to_string(i), to_byte_buffer("v"), std::nullopt));
  }
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_TRUE(fs::is_symlink(temp_link));
  EXPECT_TRUE(files.erase("k").value());  // the link itself goes, as cachekit-py's unlink
  EXPECT_FALSE(fs::is_symlink(link));
  ASSERT_TRUE(fs::exists(secret));
  EXPECT_EQ(read_hex(secret), entry_bytes_hex);
}

TEST(file_backend_directory, temp_files_count_toward_the_size_limit) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path(), .max_size_mb = 2, .max_value_mb = 1});
  const byte_buffer value(300 * 1024);  // 307,214 bytes a file
  ASSERT_TRUE(files.set("v0", value, std::nullopt));
  ASSERT_TRUE(files.set("v1", value, std::nullopt));
  set_mtime(files.path_of("v0"), unix_now() - 20);
  set_mtime(files.path_of("v1"), unix_now() - 10);
  // A write in flight elsewhere (young, so not an orphan yet): 1,200,000 bytes of disk.
  const fs::path in_flight =
      files.directory() / (files.path_of("x").filename().string() + ".tmp.4242.1");
  write_bytes(in_flight, byte_buffer(1'200'000));

  // 3 entries + the temp = 2,121,642 bytes, over 90% of 2 MiB; down to 70% (1,468,006) takes
  // v0 and v1 (v2, just written, is kept).
  ASSERT_TRUE(files.set("v2", value, std::nullopt));
  EXPECT_FALSE(files.exists("v0").value());
  EXPECT_FALSE(files.exists("v1").value());
  EXPECT_TRUE(files.exists("v2").value());
  EXPECT_TRUE(fs::exists(in_flight));
}

TEST(file_backend_directory, orphaned_temp_files_are_reclaimed_while_the_backend_runs) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path(), .max_entry_count = 100});
  const std::string prefix = files.path_of("x").string();
  const fs::path python_orphan = prefix + ".tmp.123.456";  // cachekit-py's pattern
  const fs::path own_orphan = prefix + ".tmp.123.456.7";   // this library's
  const fs::path young = prefix + ".tmp.123.999.1";
  const fs::path locked = prefix + ".tmp.124.456.2";  // old, but its writer holds the lock
  for (const auto& temp : {python_orphan, own_orphan, young, locked}) {
    write_bytes(temp, byte_buffer(1000));
    set_mtime(temp, unix_now() - 120);
  }
  set_mtime(young, unix_now() - 10);
  const int writer = ::open(locked.c_str(), O_RDONLY);
  ASSERT_GE(writer, 0);
  ASSERT_EQ(::flock(writer, LOCK_EX), 0);

  // No restart: a few writes later (5% of max_entry_count) the backend rescans and sweeps.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(files.set("k" + std::to_string(i), to_byte_buffer("v"), std::nullopt));
  }
  EXPECT_FALSE(fs::exists(python_orphan));
  EXPECT_FALSE(fs::exists(own_orphan));
  EXPECT_TRUE(fs::exists(young));
  EXPECT_TRUE(fs::exists(locked));
  ::close(writer);
}

TEST(file_backend_directory, the_temp_sweep_judges_file_times_by_the_real_clock) {
  temp_dir dir;
  const fs::path live = dir.path() / "0123456789abcdef0123456789abcdef.tmp.1.2.3";
  const fs::path orphan = dir.path() / "0123456789abcdef0123456789abcdef.tmp.1.2.4";
  write_bytes(live, byte_buffer(10));
  write_bytes(orphan, byte_buffer(10));
  set_mtime(live, unix_now() - 10);
  set_mtime(orphan, unix_now() - 120);
  for (const auto skew : {1h, -1h}) {
    const auto skewed = [skew] { return std::chrono::system_clock::now() + skew; };
    file_backend files({.cache_dir = dir.path(), .clock = skewed});
    EXPECT_TRUE(fs::exists(live)) << skew.count();
  }
  EXPECT_FALSE(fs::exists(orphan));
}

TEST(file_backend_directory, entries_with_future_mtimes_are_evicted_first) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path(), .max_entry_count = 100});
  const auto key = [](int i) { return "key" + std::to_string(i); };
  for (int i = 0; i < 90; ++i) ASSERT_TRUE(files.set(key(i), to_byte_buffer("v"), std::nullopt));
  for (int i = 0; i < 90; ++i) set_mtime(files.path_of(key(i)), unix_now() - 10'000 + i);
  // Written before the clock was stepped back a day: the oldest, though their mtimes say newest.
  for (int i = 85; i < 90; ++i) set_mtime(files.path_of(key(i)), unix_now() + 86'400);

  ASSERT_TRUE(files.set("newest", to_byte_buffer("v"), std::nullopt));  // 91 > 90: evict 21
  EXPECT_EQ(entry_files(dir.path()), 70u);
  for (int i = 85; i < 90; ++i) EXPECT_FALSE(files.exists(key(i)).value()) << i;
  for (int i = 0; i < 16; ++i) EXPECT_FALSE(files.exists(key(i)).value()) << i;
  for (int i = 16; i < 85; ++i) EXPECT_TRUE(files.exists(key(i)).value()) << i;
  EXPECT_TRUE(files.exists("newest").value());
}

TEST(file_backend_directory, two_backends_sharing_a_directory_keep_its_entry_limit) {
  temp_dir dir;
  // Two instances count like two processes: each sees only its own writes between scans.
  file_backend a({.cache_dir = dir.path(), .max_entry_count = 100});
  file_backend b({.cache_dir = dir.path(), .max_entry_count = 100});
  std::size_t most = 0;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(a.set("a" + std::to_string(i), to_byte_buffer("v"), std::nullopt));
    ASSERT_TRUE(b.set("b" + std::to_string(i), to_byte_buffer("v"), std::nullopt));
    most = std::max(most, entry_files(dir.path()));
  }
  EXPECT_LE(most, 100u);
}

}  // namespace
}  // namespace cachekit
