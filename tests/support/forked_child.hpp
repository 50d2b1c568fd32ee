// Runs a piece of a test in a forked child process and collects what it wrote to a pipe, its
// exit status, and whether it had to be killed for overrunning its time. Used by the fork
// safety tests: a child that deadlocks on a lock its parent held must fail the test, not hang it.
//
// Not thread-safe: start and finish children from the test's main thread.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

// A sanitizer runtime whose own locks a fork can leave held: TSan cannot follow a process that
// forks while it has threads (its runtime always has one), and GCC 12's AddressSanitizer
// allocator takes no lock around fork, so a child may wait forever on an allocator lock that a
// parent thread held (seen: the child blocked in SizeClassAllocator64::GetFromAllocator). Tests
// that fork while other threads run skip under either; the release build runs them.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED 1
#endif
#endif
#ifndef CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED
#define CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED 0
#endif

namespace cachekit::testing {

struct child_outcome {
  bool timed_out = false;  // killed with SIGKILL at the deadline
  int exit_code = -1;      // the child's exit status, or -1 when it did not exit normally
  std::string output;      // everything the child wrote to its pipe
};

class forked_child {
 public:
  // Forks; the child runs `body(fd)` (fd: the write end of the pipe) and `_exit`s with its
  // result, without running the parent's atexit handlers or static destructors.
  explicit forked_child(const std::function<int(int)>& body) {
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    pid_ = ::fork();
    if (pid_ < 0) std::abort();
    if (pid_ == 0) {
      ::close(fds[0]);
      int code = 99;
      try {
        code = body(fds[1]);
      } catch (...) {
        code = 98;
      }
      ::close(fds[1]);
      ::_exit(code);
    }
    ::close(fds[1]);
    read_fd_ = fds[0];
  }
  forked_child(const forked_child&) = delete;
  forked_child& operator=(const forked_child&) = delete;
  ~forked_child() {
    if (pid_ > 0) (void)finish(std::chrono::milliseconds(0));
  }

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  // Reads the pipe until the child exits or `timeout` passes; then kills it (SIGKILL).
  child_outcome finish(std::chrono::milliseconds timeout) {
    child_outcome out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool eof = false;
    int status = 0;
    bool reaped = false;
    while (!reaped || !eof) {
      if (!eof) {
        pollfd pfd{read_fd_, POLLIN, 0};
        if (::poll(&pfd, 1, 10) > 0) {
          char buffer[65536];
          const ssize_t n = ::read(read_fd_, buffer, sizeof buffer);
          if (n > 0) {
            out.output.append(buffer, static_cast<std::size_t>(n));
          } else if (n == 0 || errno != EINTR) {
            eof = true;
          }
        }
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (!reaped && ::waitpid(pid_, &status, WNOHANG) == pid_) reaped = true;
      if (std::chrono::steady_clock::now() >= deadline && !(reaped && eof)) {
        if (!reaped) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          out.timed_out = true;
        }
        break;
      }
    }
    ::close(read_fd_);
    pid_ = -1;
    if (!out.timed_out && WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
    return out;
  }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
};

// Writes all of `data` to `fd` (a child's pipe); false on error.
inline bool write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace cachekit::testing
