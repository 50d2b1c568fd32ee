// Owning wrappers of a POSIX file descriptor and a directory stream, for the file backend.
//
// Thread-compatible: one owner at a time; moving transfers ownership.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {

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
  // Gives up ownership without closing (for fdopendir, which takes the descriptor over).
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// An owned directory stream (closedir also closes the descriptor it was opened from).
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

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
