#include <gtest/gtest.h>
#include <cachekit/file_backend.hpp>

#include "integration/file_backend_support.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace file_test;
using wall_time = std::chrono::system_clock::time_point;

// The time cachekit-py's clock was fixed at when it wrote the cross-check cases, and the time
// they are read back (tests/live/file_backend_check.py: NOW and LATER).
const wall_time written_at{std::chrono::milliseconds{1'700'000'000'750}};
const wall_time read_at{std::chrono::milliseconds{1'700'000'010'250}};

struct cross_check_case {
  std::string key;
  byte_buffer value;
  ttl_seconds ttl;
  std::string file;            // the file name cachekit-py chose
  std::string python_written;  // the file's bytes, hex
  ttl_seconds ttl_at_read;     // what ttl() reports at `read_at`
};

byte_buffer hex(std::string_view h) {
  byte_buffer out;
  EXPECT_TRUE(from_hex(h, out)) << h;
  return out;
}

byte_buffer pattern(std::size_t size) {
  byte_buffer out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>(i % 251);
  return out;
}

// Produced by cachekit-py 0.24.1's FileBackend with time.time() fixed at 1700000000.75:
//     .venv/bin/python tests/live/file_backend_check.py generate /tmp/fresh-dir
// (keep the keys, values and TTLs in sync with CASES there).
std::vector<cross_check_case> cross_check_cases() {
  return {
      {"ns:app:func:m.f:args:abc:v1", to_byte_buffer("hello from python"), std::nullopt,
       "bcb35ae6f64fa65b2770ab3af631b1ce",
       "434b01000000000000000000000068656c6c6f2066726f6d20707974686f6e", std::nullopt},
      {"user:42", hex("00017f80feff"), 60s, "fdd48118d77004ffecb66c1b1e69dc3c",
       "434b01000000000000006553f13c00017f80feff", 49s},
      // cachekit-py writes this case with ttl=0, its "no expiry"; C++ spells that nullopt (a
      // C++ TTL of 0 s means already expired: backend.hpp).
      {"cl\u00e9:\u65e5\u672c:\U0001f642",
       {},
       std::nullopt,
       "cfdd6f190a263258eb7a0386914e4171",
       "434b010000000000000000000000",
       std::nullopt},
      {"max-ttl", to_byte_buffer("x"), 315'360'000s, "9fc2b74cd0550726e5effd940e029ac8",
       "434b0100000000000000781ff40078", 315'359'989s},
      {"pattern", pattern(300), 3600s, "07248e155a32e58252a1cadfdfe64c2c",
       "434b01000000000000006553ff10" + to_hex(pattern(300)), 3589s},
  };
}

// A wall clock the test sets by hand.
class fake_wall_clock {
 public:
  explicit fake_wall_clock(wall_time start) : now_(start) {}
  void set(wall_time t) { now_.store(t); }
  std::function<wall_time()> function() {
    return [this] { return now_.load(); };
  }

 private:
  std::atomic<wall_time> now_;
};

std::error_code construction_error(file_backend_options options, std::string* message = nullptr) {
  try {
    file_backend files(std::move(options));
  } catch (const error& e) {
    if (message != nullptr) *message = e.what();
    return e.code();
  }
  return {};
}

TEST(file_backend, writes_the_python_cross_check_cases) {
  // With CACHEKIT_FILE_CHECK_DIR set, the entries stay there for
  //     python tests/live/file_backend_check.py read "$CACHEKIT_FILE_CHECK_DIR"
  temp_dir scratch;
  const char* export_dir = std::getenv("CACHEKIT_FILE_CHECK_DIR");
  const fs::path dir = export_dir != nullptr ? fs::path(export_dir) : scratch.path() / "cache";
  fake_wall_clock clock(written_at);
  file_backend files({.cache_dir = dir, .clock = clock.function()});
  for (const auto& c : cross_check_cases()) {
    ASSERT_TRUE(files.set(c.key, c.value, c.ttl)) << c.key;
    EXPECT_EQ(files.path_of(c.key).filename(), c.file) << c.key;
    EXPECT_EQ(read_hex(files.directory() / c.file), c.python_written) << c.key;
  }
}

TEST(file_backend, reads_entries_cachekit_py_wrote) {
  temp_dir dir;
  for (const auto& c : cross_check_cases()) write_bytes(dir.path() / c.file, hex(c.python_written));
  fake_wall_clock clock(read_at);
  file_backend files({.cache_dir = dir.path(), .clock = clock.function()});
  for (const auto& c : cross_check_cases()) {
    auto got = files.get(c.key);
    ASSERT_TRUE(got) << got.error().message();
    ASSERT_TRUE(got->has_value()) << c.key;
    EXPECT_EQ(**got, c.value) << c.key;
    auto left = files.ttl(c.key).value();
    EXPECT_TRUE(left.exists) << c.key;
    EXPECT_EQ(left.ttl, c.ttl_at_read) << c.key;
  }
}

TEST(file_backend, names_files_by_blake2b_128_of_the_key_under_the_real_path) {
  temp_dir dir;
  fs::create_directory(dir.path() / "real");
  fs::permissions(dir.path() / "real", fs::perms::owner_all);
  // A symlink above the cache directory is resolved (macOS's /tmp is one); only the cache
  // directory itself must not be a link.
  fs::create_directory_symlink(dir.path() / "real", dir.path() / "link");
  file_backend files({.cache_dir = dir.path() / "link" / "cache"});
  EXPECT_EQ(files.directory(), fs::canonical(dir.path() / "real") / "cache");
  EXPECT_EQ(files.path_of("ns:app:func:m.f:args:abc:v1"),
            files.directory() / "bcb35ae6f64fa65b2770ab3af631b1ce");
  EXPECT_EQ(files.type(), "file");
}

TEST(file_backend, creates_the_directory_0700_and_files_0600) {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  temp_dir dir;
  const fs::path nested = dir.path() / "a" / "b" / "cache";
  file_backend files({.cache_dir = nested});
  EXPECT_EQ(mode_of(nested), 0700u & ~mask);
  ASSERT_TRUE(files.set("k", to_byte_buffer("v"), std::nullopt));
  EXPECT_EQ(mode_of(files.path_of("k")), 0600u & ~mask);
  EXPECT_EQ(entry_files(nested), 1u);  // no temp file left behind
}

TEST(file_backend, entry_expires_at_its_expiry_second) {
  temp_dir dir;
  fake_wall_clock clock(wall_time{1000500ms});
  file_backend files({.cache_dir = dir.path(), .clock = clock.function()});
  ASSERT_TRUE(files.set("k", to_byte_buffer("v"), 10s));
  EXPECT_EQ(read_hex(files.path_of("k")),
            "434b0100000000000000000003f2"
            "76");  // 1010

  clock.set(wall_time{1009999ms});
  EXPECT_TRUE(files.exists("k").value());
  EXPECT_EQ(files.get("k").value(), to_byte_buffer("v"));
  auto left = files.ttl("k").value();
  EXPECT_TRUE(left.exists);
  EXPECT_EQ(left.ttl, 0s);  // int(0.001)

  clock.set(wall_time{1010s});
  EXPECT_EQ(files.get("k").value(), std::nullopt);
  EXPECT_FALSE(fs::exists(files.path_of("k")));  // the expired file is deleted
}

TEST(file_backend, get_with_ttl_reads_the_value_and_its_lifetime_in_one_open) {
  temp_dir dir;
  fake_wall_clock clock(wall_time{1000500ms});
  file_backend files({.cache_dir = dir.path(), .clock = clock.function()});
  ASSERT_TRUE(files.set("k", to_byte_buffer("v"), 10s));
  ASSERT_TRUE(files.set("forever", to_byte_buffer("w"), std::nullopt));
  clock.set(wall_time{1003000ms});
  auto timed = files.get_with_ttl("k").value();
  ASSERT_TRUE(timed.has_value());
  EXPECT_EQ(timed->value, to_byte_buffer("v"));
  EXPECT_EQ(timed->remaining, std::optional<ttl_seconds>(7s));  // expiry 1010, now 1003
  auto permanent = files.get_with_ttl("forever").value();
  ASSERT_TRUE(permanent.has_value());
  EXPECT_EQ(permanent->remaining, std::optional<ttl_seconds>(ttl_seconds{}));
  EXPECT_FALSE(files.get_with_ttl("absent").value().has_value());
}

TEST(file_backend, ttl_reports_missing_permanent_and_truncated_seconds) {
  temp_dir dir;
  fake_wall_clock clock(wall_time{2000s});
  file_backend files({.cache_dir = dir.path(), .clock = clock.function()});
  EXPECT_FALSE(files.ttl("missing").value().exists);
  ASSERT_TRUE(files.set("forever", to_byte_buffer("v"), std::nullopt));
  auto forever = files.ttl("forever").value();
  EXPECT_TRUE(forever.exists);
  EXPECT_EQ(forever.ttl, std::nullopt);
  ASSERT_TRUE(files.set("k", to_byte_buffer("v"), 100s));
  clock.set(wall_time{2000s + 30700ms});
  EXPECT_EQ(files.ttl("k").value().ttl, 69s);  // int(69.3)
  clock.set(wall_time{2100s});
  EXPECT_FALSE(files.ttl("k").value().exists);
  EXPECT_FALSE(fs::exists(files.path_of("k")));
}

TEST(file_backend, ttl_above_ten_years_is_a_permanent_error) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path()});
  auto stored = files.set("k", to_byte_buffer("v"), 315'360'001s);
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.code(), errc::backend_permanent);
  EXPECT_TRUE(files.set("k", to_byte_buffer("v"), 315'360'000s));
  EXPECT_EQ(files.touch("k", 315'360'001s).code(), errc::backend_permanent);
  EXPECT_EQ(entry_files(dir.path()), 1u);
}

TEST(file_backend, ttl_of_zero_or_less_deletes_the_entry_file) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path()});
  ASSERT_TRUE(files.set("k", to_byte_buffer("v"), std::nullopt));
  ASSERT_TRUE(files.set("k", to_byte_buffer("w"), -1s));
  EXPECT_FALSE(fs::exists(files.path_of("k")));
  ASSERT_TRUE(files.set("k", to_byte_buffer("v"), 60s));
  EXPECT_TRUE(files.touch("k", 0s).value());
  EXPECT_FALSE(fs::exists(files.path_of("k")));
  EXPECT_FALSE(files.touch("k", -1s).value());
  EXPECT_EQ(entry_files(dir.path()), 0u);
}

TEST(file_backend, corrupt_files_read_as_a_miss_and_are_deleted) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path()});
  const std::vector<std::string> corrupt = {
      "",                                // empty
      "434b0100000000",                  // shorter than the header
      "434b01000000000000000000",        // 12 bytes
      "585801000000000000000000000061",  // bad magic
      "434b02000000000000000000000061",  // version 2
      "434b00000000000000000000000061",  // version 0
  };
  using operation = std::function<void(const std::string&)>;
  const std::vector<std::pair<const char*, operation>> operations = {
      {"get", [&](const std::string& k) { EXPECT_EQ(files.get(k).value(), std::nullopt); }},
      {"exists", [&](const std::string& k) { EXPECT_FALSE(files.exists(k).value()); }},
      {"ttl", [&](const std::string& k) { EXPECT_FALSE(files.ttl(k).value().exists); }},
      {"touch", [&](const std::string& k) { EXPECT_FALSE(files.touch(k, 10s).value()); }},
  };
  for (const auto& [name, run] : operations) {
    for (const auto& bytes : corrupt) {
      const std::string key = std::string(name) + ":" + bytes;
      write_bytes(files.path_of(key), hex(bytes));
      run(key);
      EXPECT_FALSE(fs::exists(files.path_of(key))) << name << " " << bytes;
    }
  }
}

TEST(file_backend, unknown_transform_reads_as_a_miss_and_the_file_is_kept) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path()});
  for (const char* bytes : {"434b01000001000000000000000061", "434b01010000000000000000000061"}) {
    const std::string key = bytes;
    write_bytes(files.path_of(key), hex(bytes));
    EXPECT_EQ(files.get(key).value(), std::nullopt);
    EXPECT_FALSE(files.exists(key).value());
    EXPECT_FALSE(files.ttl(key).value().exists);
    EXPECT_FALSE(files.touch(key, 10s).value());
    EXPECT_EQ(read_hex(files.path_of(key)), bytes);  // untouched
    EXPECT_TRUE(files.erase(key).value());
  }
}

TEST(file_backend, a_symlink_at_the_entry_path_is_a_miss) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path()});
  const fs::path target = dir.path() / "elsewhere";
  write_bytes(target, hex("434b01000000000000000000000061"));
  fs::create_symlink(target, files.path_of("k"));
  EXPECT_EQ(files.get("k").value(), std::nullopt);
  EXPECT_FALSE(files.exists("k").value());
  EXPECT_FALSE(files.touch("k", 5s).value());
  EXPECT_EQ(read_hex(target), "434b01000000000000000000000061");
}

TEST(file_backend, touch_rewrites_only_the_expiry_in_place) {
  temp_dir dir;
  fake_wall_clock clock(wall_time{5000s});
  file_backend files({.cache_dir = dir.path(), .clock = clock.function()});
  EXPECT_FALSE(files.touch("missing", 10s).value());
  ASSERT_TRUE(files.set("k", to_byte_buffer("payload"), 60s));  // expiry 5060
  struct stat before {};
  ASSERT_EQ(::stat(files.path_of("k").c_str(), &before), 0);

  clock.set(wall_time{5010s});
  EXPECT_TRUE(files.touch("k", 120s).value());  // expiry 5130 = 0x140a
  EXPECT_EQ(read_hex(files.path_of("k")),
            "434b01000000000000000000140a" + to_hex(to_byte_buffer("payload")));
  struct stat after {};
  ASSERT_EQ(::stat(files.path_of("k").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);  // rewritten in place, not replaced

  EXPECT_TRUE(files.touch("k", std::nullopt).value());
  EXPECT_EQ(read_hex(files.path_of("k")).substr(0, 28), "434b010000000000000000000000");
  clock.set(wall_time{9'000'000s});
  EXPECT_EQ(files.get("k").value(), to_byte_buffer("payload"));

  ASSERT_TRUE(files.set("short", to_byte_buffer("v"), 1s));
  clock.set(wall_time{9'000'001s});
  EXPECT_FALSE(files.touch("short", 100s).value());  // expired: absent, and deleted
  EXPECT_FALSE(fs::exists(files.path_of("short")));
}

TEST(file_backend, erase_reports_whether_a_file_existed) {
  temp_dir dir;
  fake_wall_clock clock(wall_time{100s});
  file_backend files({.cache_dir = dir.path(), .clock = clock.function()});
  EXPECT_FALSE(files.erase("k").value());
  ASSERT_TRUE(files.set("k", to_byte_buffer("v"), 1s));
  clock.set(wall_time{200s});
  EXPECT_TRUE(files.erase("k").value());  // expired but present, as cachekit-py answers
  EXPECT_FALSE(files.erase("k").value());
}

TEST(file_backend, value_above_max_value_mb_is_refused) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path(), .max_size_mb = 2, .max_value_mb = 1});
  auto refused = files.set("big", byte_buffer((1u << 20) + 1), std::nullopt);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.code(), errc::backend_permanent);
  EXPECT_EQ(entry_files(dir.path()), 0u);
  EXPECT_TRUE(files.set("max", byte_buffer(1u << 20), std::nullopt));
}

TEST(file_backend, count_above_90_percent_evicts_oldest_mtime_down_to_70_percent) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path(), .max_entry_count = 100});
  for (int i = 0; i < 90; ++i) {
    ASSERT_TRUE(files.set("key" + std::to_string(i), to_byte_buffer("v"), std::nullopt));
  }
  EXPECT_EQ(entry_files(dir.path()), 90u);  // 90 is not above 90%
  for (int i = 0; i < 90; ++i) set_mtime(files.path_of("key" + std::to_string(i)), 1'000'000 + i);

  ASSERT_TRUE(files.set("newest", to_byte_buffer("v"), std::nullopt));  // 91 > 90
  EXPECT_EQ(entry_files(dir.path()), 70u);
  for (int i = 0; i < 21; ++i) EXPECT_FALSE(files.exists("key" + std::to_string(i)).value()) << i;
  for (int i = 21; i < 90; ++i) EXPECT_TRUE(files.exists("key" + std::to_string(i)).value()) << i;
  EXPECT_TRUE(files.exists("newest").value());
}

TEST(file_backend, size_above_90_percent_evicts_oldest_mtime_down_to_70_percent) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path(), .max_size_mb = 2, .max_value_mb = 1});
  const byte_buffer value(600 * 1024);  // 3 files: 1,843,242 bytes, under 90% of 2 MiB
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(files.set("v" + std::to_string(i), value, std::nullopt));
  for (int i = 0; i < 3; ++i) set_mtime(files.path_of("v" + std::to_string(i)), 1'000'000 + i);
  EXPECT_EQ(entry_files(dir.path()), 3u);
  // The 4th passes 90%; dropping v0 leaves 1,843,242 (> 70%), dropping v1 too leaves 1,228,828.
  ASSERT_TRUE(files.set("v3", value, std::nullopt));
  EXPECT_EQ(entry_files(dir.path()), 2u);
  EXPECT_FALSE(files.exists("v0").value());
  EXPECT_FALSE(files.exists("v1").value());
  EXPECT_TRUE(files.exists("v2").value());
  EXPECT_TRUE(files.exists("v3").value());
}

TEST(file_backend, a_directory_at_max_entry_count_evicts_for_a_new_key_instead_of_refusing) {
  temp_dir dir;
  // 101 entries written by someone else before this backend starts: over the limit already.
  const auto planted = [&](int i) {
    char name[33];
    std::snprintf(name, sizeof name, "%032x", i);
    return dir.path() / name;
  };
  for (int i = 0; i < 101; ++i) {
    write_bytes(planted(i), hex("434b01000000000000000000000061"));
    set_mtime(planted(i), 1'000'000 + i);
  }
  file_backend files({.cache_dir = dir.path(), .max_entry_count = 100});
  ASSERT_TRUE(files.set("new", to_byte_buffer("v"), std::nullopt));
  // The oldest 31 went (down to 70% of the limit), then the new entry went in.
  EXPECT_EQ(entry_files(dir.path()), 71u);
  EXPECT_TRUE(files.exists("new").value());
  for (int i = 0; i < 31; ++i) EXPECT_FALSE(fs::exists(planted(i))) << i;
  for (int i = 31; i < 101; ++i) EXPECT_TRUE(fs::exists(planted(i))) << i;
  // And the next new keys go in with no eviction and no refusal.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(files.set("more" + std::to_string(i), to_byte_buffer("v"), std::nullopt));
  }
  EXPECT_EQ(entry_files(dir.path()), 81u);
}

TEST(file_backend, start_removes_temp_files_older_than_60_seconds) {
  temp_dir dir;
  const auto now = std::time(nullptr);
  const fs::path old_temp = dir.path() / "bcb35ae6f64fa65b2770ab3af631b1ce.tmp.123.456";
  const fs::path fresh_temp = dir.path() / "bcb35ae6f64fa65b2770ab3af631b1ce.tmp.123.789";
  const fs::path old_entry = dir.path() / "0123456789abcdef0123456789abcdef";
  const fs::path old_target = dir.path() / "target";
  const fs::path old_link = dir.path() / "x.tmp.1.2";
  write_bytes(old_temp, hex("434b"));
  write_bytes(fresh_temp, hex("434b"));
  write_bytes(old_entry, hex("434b01000000000000000000000061"));
  write_bytes(old_target, hex("00"));
  fs::create_symlink(old_target, old_link);
  set_mtime(old_temp, now - 120);
  set_mtime(fresh_temp, now - 30);
  set_mtime(old_entry, now - 120);
  set_mtime(old_link, now - 120);

  file_backend files({.cache_dir = dir.path()});
  EXPECT_FALSE(fs::exists(old_temp));
  EXPECT_TRUE(fs::exists(fresh_temp));
  EXPECT_TRUE(fs::exists(old_entry));
  EXPECT_TRUE(fs::is_symlink(old_link));  // symlinks are never followed nor removed
  EXPECT_TRUE(fs::exists(old_target));
}

TEST(file_backend, refuses_a_directory_others_can_write) {
  temp_dir dir;
  for (auto mode : {fs::perms::owner_all | fs::perms::group_all | fs::perms::others_all,
                    fs::perms::owner_all | fs::perms::group_write | fs::perms::group_exec,
                    fs::perms::owner_all | fs::perms::others_write}) {
    fs::permissions(dir.path(), mode);
    std::string message;
    EXPECT_EQ(construction_error({.cache_dir = dir.path()}, &message), errc::invalid_configuration);
    EXPECT_NE(message.find("chmod 700 " + fs::canonical(dir.path()).string()), std::string::npos)
        << message;
  }
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                  fs::perms::others_read | fs::perms::group_exec |
                                  fs::perms::others_exec);
  EXPECT_EQ(construction_error({.cache_dir = dir.path()}), std::error_code{});  // 0755 is fine
}

TEST(file_backend, refuses_a_directory_owned_by_another_user) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to hand a directory to another user";
  temp_dir dir;
  const fs::path other = dir.path() / "other";
  fs::create_directory(other);
  fs::permissions(other, fs::perms::owner_all);
  ASSERT_EQ(::chown(other.c_str(), 65534, 65534), 0);
  std::string message;
  EXPECT_EQ(construction_error({.cache_dir = other}, &message), errc::invalid_configuration);
  EXPECT_NE(message.find("owned by uid 65534"), std::string::npos) << message;
}

TEST(file_backend, refuses_invalid_options) {
  temp_dir dir;
  const fs::path d = dir.path();
  EXPECT_EQ(construction_error({.cache_dir = d, .max_size_mb = 0}), errc::invalid_configuration);
  EXPECT_EQ(construction_error({.cache_dir = d, .max_size_mb = 1'000'001}),
            errc::invalid_configuration);
  EXPECT_EQ(construction_error({.cache_dir = d, .max_size_mb = 100, .max_value_mb = 51}),
            errc::invalid_configuration);
  EXPECT_EQ(construction_error({.cache_dir = d, .max_size_mb = 100, .max_value_mb = 50}),
            std::error_code{});
  EXPECT_EQ(construction_error({.cache_dir = d, .max_entry_count = 99}),
            errc::invalid_configuration);
  EXPECT_EQ(construction_error({.cache_dir = d, .max_entry_count = 1'000'001}),
            errc::invalid_configuration);
  EXPECT_EQ(construction_error(
                {.cache_dir = d, .dir_permissions = fs::perms::owner_all | fs::perms::group_all}),
            errc::invalid_configuration);
  EXPECT_EQ(construction_error({.cache_dir = d, .lock_timeout = 31s}), errc::invalid_configuration);
  write_bytes(d / "a-file", hex("00"));
  EXPECT_EQ(construction_error({.cache_dir = d / "a-file"}), errc::invalid_configuration);
}

TEST(file_backend, a_lock_held_by_another_process_times_out) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path(), .lock_timeout = 20ms});
  ASSERT_TRUE(files.set("k", to_byte_buffer("v"), std::nullopt));
  // A separate open file description contends like another process would.
  const int fd = ::open(files.path_of("k").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  auto got = files.get("k");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.code(), errc::timeout);
  EXPECT_EQ(files.exists("k").code(), errc::timeout);

  ASSERT_EQ(::flock(fd, LOCK_SH), 0);  // a shared holder does not block readers, only touch
  EXPECT_EQ(files.get("k").value(), to_byte_buffer("v"));
  EXPECT_EQ(files.touch("k", 5s).code(), errc::timeout);
  ::close(fd);
  EXPECT_TRUE(files.touch("k", 5s).value());
}

TEST(file_backend, health_probes_a_round_trip_and_counts_entries) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path(), .max_entry_count = 500});
  ASSERT_TRUE(files.set("a", byte_buffer(1000), std::nullopt));
  ASSERT_TRUE(files.set("b", byte_buffer(2000), std::nullopt));
  auto h = files.health();
  EXPECT_TRUE(h.healthy) << h.details["error"];
  EXPECT_EQ(h.backend_type, "file");
  EXPECT_GE(h.latency.count(), 0);
  EXPECT_EQ(h.details.at("file_count"), "2");
  EXPECT_EQ(h.details.at("cache_size_mb"), "0.002888");  // 3028 bytes
  EXPECT_EQ(h.details.at("max_entry_count"), "500");
  EXPECT_EQ(h.details.at("max_size_mb"), "1024");
  EXPECT_EQ(h.details.at("cache_dir"), fs::canonical(dir.path()).string());
  EXPECT_FALSE(fs::exists(files.path_of("__health_check__")));
}

TEST(file_backend, a_deleted_directory_is_recreated_by_the_next_write) {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  temp_dir dir;
  file_backend files({.cache_dir = dir.path() / "cache"});
  ASSERT_TRUE(files.set("before", to_byte_buffer("v"), std::nullopt));
  fs::remove_all(dir.path() / "cache");
  EXPECT_EQ(files.get("before").value(), std::nullopt);

  ASSERT_TRUE(files.set("k", to_byte_buffer("v"), std::nullopt));
  EXPECT_EQ(mode_of(dir.path() / "cache"), 0700u & ~mask);
  EXPECT_TRUE(fs::exists(dir.path() / "cache" / files.path_of("k").filename()));
  EXPECT_EQ(files.get("k").value(), to_byte_buffer("v"));
  auto h = files.health();
  EXPECT_TRUE(h.healthy) << h.details["error"];
  EXPECT_EQ(h.details.at("file_count"), "1");
}

TEST(file_backend, a_deleted_directory_replaced_by_a_symlink_is_not_followed) {
  temp_dir dir;
  const fs::path victim = dir.path() / "victim";
  fs::create_directory(victim);
  fs::permissions(victim, fs::perms::owner_all);
  write_bytes(victim / "thesis.pdf", hex("2550"));
  file_backend files({.cache_dir = dir.path() / "cache"});
  fs::remove_all(dir.path() / "cache");
  fs::create_directory_symlink(victim, dir.path() / "cache");

  auto stored = files.set("k", to_byte_buffer("v"), std::nullopt);
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.code(), errc::backend_permanent);
  EXPECT_NE(stored.error().detail.find("is a symbolic link"), std::string::npos)
      << stored.error().detail;
  EXPECT_FALSE(files.health().healthy);
  EXPECT_EQ(entry_files(victim), 1u);  // nothing written into the link's target
  EXPECT_TRUE(fs::exists(victim / "thesis.pdf"));
}

TEST(file_backend, eight_threads_on_one_key_never_read_a_torn_value) {
  temp_dir dir;
  file_backend files({.cache_dir = dir.path()});
  constexpr int threads = 8;
  constexpr int rounds = 60;
  constexpr std::size_t size = 64 * 1024;
  std::atomic<int> torn{0};
  std::atomic<int> hits{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        if ((i + t) % 3 == 0) {
          // Every value is one byte repeated: a torn read would mix two writers.
          const byte_buffer value(size, static_cast<std::byte>(t * rounds + i));
          if (!files.set("shared", value, (t % 2 == 0) ? ttl_seconds{1h} : std::nullopt)) {
            ++failures;
          }
        } else if ((i + t) % 7 == 1) {
          if (!files.touch("shared", 1h)) ++failures;
        } else {
          auto got = files.get("shared");
          if (!got) {
            ++failures;
          } else if (*got) {
            ++hits;
            const auto& v = **got;
            if (v.size() != size ||
                std::count(v.begin(), v.end(), v.front()) != static_cast<std::ptrdiff_t>(size)) {
              ++torn;
            }
          }
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(hits.load(), 0);
  EXPECT_EQ(entry_files(dir.path()), 1u);  // one entry, no temp files left
}

}  // namespace
}  // namespace cachekit
