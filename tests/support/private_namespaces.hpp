// For a forked test child (support/forked_child.hpp): become root of a new user namespace with
// its own mount (and optionally network) namespace, so the child can mount, bind-mount files
// over /etc and bind port 53 without privileges and without touching the host. Where the
// kernel or policy refuses unprivileged user namespaces these return false and the test skips.
//
// Not thread-safe: call in a single-threaded child, before it starts threads (unshare of a
// user namespace fails in a multithreaded process).
#pragma once

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace cachekit::testing {

// The exit code of a child that could not set up its namespaces: the parent skips the test.
inline constexpr int namespaces_unavailable = 77;

inline bool write_text_file(const char* path, const std::string& text, int flags = O_WRONLY) {
  const int fd = ::open(path, flags | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// unshare(user + mount [+ network]), map our uid and gid to root inside, and make every mount
// private so nothing the child mounts is seen outside. With a network namespace, its loopback
// interface is brought up (it starts down).
inline bool enter_private_namespaces(bool with_network) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  const int flags = CLONE_NEWUSER | CLONE_NEWNS | (with_network ? CLONE_NEWNET : 0);
  if (::unshare(flags) != 0) return false;
  if (!write_text_file("/proc/self/setgroups", "deny") ||
      !write_text_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
      !write_text_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
    return false;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  if (!with_network) return true;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool up = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  up = up && ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  ::close(fd);
  return up;
}

// Writes `text` to a new file `scratch` and bind-mounts it over `target` (e.g. /etc/resolv.conf)
// in this mount namespace.
inline bool bind_text_over(const std::string& scratch, const char* target,
                           const std::string& text) {
  if (!write_text_file(scratch.c_str(), text, O_WRONLY | O_CREAT | O_TRUNC)) return false;
  return ::mount(scratch.c_str(), target, nullptr, MS_BIND, nullptr) == 0;
}

}  // namespace cachekit::testing
