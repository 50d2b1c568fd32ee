// The file backend on a full disk: a real one, a 1 MiB tmpfs mounted in a user and mount
// namespace of a forked child (no root needed where unprivileged user namespaces are allowed;
// the test skips where they are not). A write that meets ENOSPC must evict the backend's own
// oldest entries and succeed on its retry, far below max_size_mb.
#include <cachekit/file_backend.hpp>

#include "integration/file_backend_support.hpp"
#include "support/forked_child.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace cachekit {
namespace {

namespace fs = std::filesystem;
using namespace file_test;

constexpr int unavailable = 77;  // the child could not make its namespace or mount

bool write_text(const char* path, const std::string& text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// In the child: become root of a new user namespace (mapped to our uid) with its own mount
// namespace, and mount a `size` tmpfs on `dir`. False when the kernel or policy forbids it.
bool mount_small_tmpfs(const fs::path& dir, const std::string& size) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return false;
  if (!write_text("/proc/self/setgroups", "deny") ||
      !write_text("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
      !write_text("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
    return false;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  const std::string options = "size=" + size + ",mode=0700";
  return ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
}

void report(int fd, const std::string& text) {
  (void)!::write(fd, text.data(), text.size());
}

TEST(file_backend_full_disk, a_full_disk_evicts_the_oldest_entries_and_the_write_succeeds) {
  temp_dir mount_point;
  testing::forked_child child([&](int out) {
    if (!mount_small_tmpfs(mount_point.path(), "1m")) return unavailable;
    // max_size_mb (1000) is far above the disk (1 MiB): only the disk can be full.
    file_backend files({.cache_dir = mount_point.path() / "cache", .max_size_mb = 1000});
    const byte_buffer value(60 * 1024, std::byte{0x42});  // 15 pages with its header
    constexpr int writes = 40;                            // ~2.3 MiB through a 1 MiB disk
    for (int i = 0; i < writes; ++i) {
      if (auto stored = files.set("k" + std::to_string(i), value, std::nullopt); !stored) {
        report(out, "write " + std::to_string(i) + " failed: " + stored.error().message());
        return 1;
      }
    }
    // The last write is there, and older entries made room for it. Which older ones went is
    // not checked: file times tick with the kernel's coarse clock (a few ms), so entries
    // written within one tick tie on age, and any of them may be the one evicted.
    const std::string last = "k" + std::to_string(writes - 1);
    if (auto got = files.get(last); !got || !*got || **got != value) {
      report(out, "the last entry written, " + last + ", is missing");
      return 2;
    }
    int kept = 0;
    for (int i = 0; i < writes; ++i) {
      if (auto got = files.get("k" + std::to_string(i)); got && *got) ++kept;
    }
    if (kept >= writes) {
      report(out, "all " + std::to_string(kept) + " entries are still there: nothing was evicted");
      return 3;
    }
    return 0;
  });
  const auto outcome = child.finish(std::chrono::seconds(60));
  if (outcome.exit_code == unavailable) {
    GTEST_SKIP() << "no unprivileged user and mount namespaces here (unshare/mount refused), so "
                    "no small tmpfs to fill";
  }
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

}  // namespace
}  // namespace cachekit
