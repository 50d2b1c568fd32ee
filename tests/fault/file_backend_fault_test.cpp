// The file backend's faults seen through `cachekit::cache`: a cache directory that stops taking
// writes (a read-only mount, or a directory chmod 0500) must cost memoized calls nothing but
// the stores. Every call returns the right value, nothing escapes, each failed write is counted
// as an L2 error, and entries written before the fault are still served from L2.
//
// Real faults in a forked child: a tmpfs remounted read-only inside the child's own user and
// mount namespaces (root or not), and a chmod 0500 directory used by a non-root user (the child
// drops to `nobody` when the test runs as root, for whom a mode restricts nothing). Each skips
// with its reason where the system refuses the setup.
#include <cachekit/cache.hpp>
#include <cachekit/file_backend.hpp>

#include "support/forked_child.hpp"
#include "support/private_namespaces.hpp"

#include <gtest/gtest.h>

#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

namespace cachekit {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::namespaces_unavailable;

constexpr int entries = 20;  // written before the fault; as many new keys after it

class scratch_dir {
 public:
  scratch_dir() {
    std::string pattern = (fs::temp_directory_path() / "cachekit-file-fault-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~scratch_dir() {
    std::error_code ec;
    for (const auto& p : fs::recursive_directory_iterator(path_, ec)) {
      fs::permissions(p.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

void report(int fd, const std::string& text) {
  (void)testing::write_all(fd, text.data(), text.size());
}

// In the child: fills `cache_dir` through a memoized function, calls `break_writes`, then
// calls the function for the old keys and as many new ones, twice over, interleaved. Returns 0
// when every expectation holds, `namespaces_unavailable` when `break_writes` could not, and
// another code (with what went wrong written to `out`) otherwise.
int exercise(int out, const fs::path& cache_dir, const std::function<bool()>& break_writes) {
  auto files = std::make_shared<file_backend>(file_backend_options{.cache_dir = cache_dir});
  std::atomic<int> calls{0};
  auto times_seven = [&calls](std::int64_t x) {
    ++calls;
    return x * 7;
  };
  std::string last_error;
  {
    cache writer({.l2 = files, .l1_enabled = false, .on_error = [&](const failure& why) {
                    last_error = why.message();
                  }});
    auto fill = writer.memoize("fault.file", times_seven);
    for (int i = 0; i < entries; ++i) (void)fill(i);
    if (writer.stats().l2_errors != 0) {
      report(out, "writes failed before the fault: " + last_error);
      return 1;
    }
  }
  if (!break_writes()) return namespaces_unavailable;

  std::atomic<int> reported{0};
  cache c({.l2 = files, .l1_enabled = false, .on_error = [&](const failure& why) {
             ++reported;
             last_error = why.message();
           }});
  auto f = c.memoize("fault.file", times_seven);
  calls = 0;
  int wrong = 0;
  int escaped = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < 2 * entries; ++i) {
      const std::int64_t key = i % 2 == 0 ? i / 2 : entries + i / 2;  // old, new, old, new...
      try {
        if (f(key) != key * 7) ++wrong;
      } catch (...) {
        ++escaped;
      }
    }
  }
  const auto stats = c.stats();
  const auto info = f.info();
  const std::string summary =
      "wrong " + std::to_string(wrong) + ", escaped " + std::to_string(escaped) + ", calls " +
      std::to_string(calls.load()) + ", l2_hits " + std::to_string(info.l2_hits) + ", l2_errors " +
      std::to_string(stats.l2_errors) + ", l2_skipped " + std::to_string(stats.l2_skipped) +
      ", reported " + std::to_string(reported.load()) + "; last error: " + last_error;
  report(out, summary);
  if (wrong != 0 || escaped != 0) return 2;
  // Only the new keys ran (each on both passes: its store failed), the old ones were L2 hits.
  if (calls != 2 * entries || info.l2_hits != 2u * entries) return 3;
  // One failed write per call that ran; nothing skipped (the breaker does not count a refusal
  // the backend classes as permanent), and the failures were reported (at most once a second
  // per class, so at least once).
  if (stats.l2_errors != 2u * entries || stats.l2_skipped != 0 || reported < 1) return 4;
  return 0;
}

void expect_passed(const testing::child_outcome& outcome, const char* skip_reason) {
  if (outcome.exit_code == namespaces_unavailable) GTEST_SKIP() << skip_reason;
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  std::cout << "[ outcome ] " << outcome.output << "\n";
}

TEST(file_backend_fault, a_read_only_cache_directory_serves_reads_and_counts_failed_writes) {
  scratch_dir mount_point;
  testing::forked_child child([&](int out) {
    if (!testing::enter_private_namespaces(/*with_network=*/false)) return namespaces_unavailable;
    if (::mount("tmpfs", mount_point.path().c_str(), "tmpfs", 0, "size=4m,mode=0700") != 0) {
      return namespaces_unavailable;
    }
    return exercise(out, mount_point.path() / "cache", [&] {
      // The backend's open directory handle is read-only, so the remount is not busy.
      return ::mount("tmpfs", mount_point.path().c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY,
                     "size=4m,mode=0700") == 0;
    });
  });
  expect_passed(child.finish(60s),
                "no unprivileged user and mount namespaces here (unshare or mount refused), so "
                "no tmpfs to remount read-only");
}

TEST(file_backend_fault, a_cache_directory_chmod_0500_serves_reads_and_counts_failed_writes) {
  scratch_dir scratch;
  constexpr uid_t nobody = 65534;
  if (::geteuid() == 0 && ::chown(scratch.path().c_str(), nobody, nobody) != 0) {
    GTEST_SKIP() << "running as root and cannot hand the scratch directory to nobody";
  }
  testing::forked_child child([&](int out) {
    // Root ignores modes: become nobody, who does not.
    if (::geteuid() == 0 &&
        (::setgroups(0, nullptr) != 0 || ::setresgid(nobody, nobody, nobody) != 0 ||
         ::setresuid(nobody, nobody, nobody) != 0)) {
      return namespaces_unavailable;
    }
    const fs::path dir = scratch.path() / "cache";
    return exercise(out, dir, [&] {
      if (::chmod(dir.c_str(), 0500) != 0) return false;
      // A mode that restricts nothing (a capability survived) is no test.
      const fs::path probe = dir / "probe";
      if (::mkdir(probe.c_str(), 0700) == 0) return false;
      return true;
    });
  });
  expect_passed(child.finish(60s),
                "cannot make a directory that refuses writes to this process (chmod 0500 as a "
                "user without CAP_DAC_OVERRIDE)");
}

}  // namespace
}  // namespace cachekit
