#include "server_stats.hpp"

#include "redis_admin.hpp"

#include <cachekit/file_backend.hpp>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cachekit::cli {
namespace {

std::string field(const std::map<std::string, std::string>& m, const std::string& name) {
  auto it = m.find(name);
  return it == m.end() ? "?" : it->second;
}

result<labelled_lines> redis_stats(live_backend& b) {
  auto admin = redis_admin::connect(*b.redis_url, b.timeout);
  if (!admin) return std::move(admin).error();
  auto info = admin->info();
  if (!info) return std::move(info).error();
  auto keys = admin->dbsize();
  if (!keys) return std::move(keys).error();
  labelled_lines out{
      {"redis version", field(*info, "redis_version")},
      {"uptime", field(*info, "uptime_in_seconds") + " s"},
      {"clients", field(*info, "connected_clients")},
      {"used memory", field(*info, "used_memory_human")},
      {"max memory",
       field(*info, "maxmemory_human") + " (policy " + field(*info, "maxmemory_policy") + ")"},
      {"keys", std::to_string(*keys) + " in this database (all tenants)"},
      {"hits / misses", field(*info, "keyspace_hits") + " / " + field(*info, "keyspace_misses")},
      {"evicted keys", field(*info, "evicted_keys")},
      {"expired keys", field(*info, "expired_keys")}};
  return out;
}

class socket_fd {
 public:
  explicit socket_fd(int fd) : fd_(fd) {}
  ~socket_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{.fd = fd, .events = events, .revents = 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

}  // namespace

result<std::map<std::string, std::string>> memcached_stats(const std::string& server,
                                                           std::chrono::milliseconds timeout) {
  const auto colon = server.rfind(':');
  std::string host = server.substr(0, colon);
  const std::string port = colon == std::string::npos ? "11211" : server.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return fail(errc::transient, "memcached " + server + ": host not found");
  }
  socket_fd fd(::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK, 0));
  const int rc = ::connect(fd.get(), found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (rc != 0 && errno != EINPROGRESS) {
    return fail(errc::transient, "memcached " + server + ": " + std::strerror(errno));
  }
  int so_error = 0;
  socklen_t len = sizeof so_error;
  if (!wait_for(fd.get(), POLLOUT, timeout) ||
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
    return fail(errc::transient, "memcached " + server + ": cannot connect (" +
                                     std::strerror(so_error != 0 ? so_error : ETIMEDOUT) + ")");
  }
  constexpr std::string_view request = "stats\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return fail(errc::transient, "memcached " + server + ": send failed");
  }
  std::string reply;
  while (!reply.ends_with("END\r\n")) {
    if (!wait_for(fd.get(), POLLIN, timeout)) {
      return fail(errc::timeout, "memcached " + server + ": no stats reply within the timeout");
    }
    char buf[4096];
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) return fail(errc::transient, "memcached " + server + ": connection closed");
    reply.append(buf, static_cast<std::size_t>(n));
  }
  std::map<std::string, std::string> out;
  std::string_view text(reply);
  while (!text.empty()) {
    const auto end = text.find("\r\n");
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 2);
    if (!line.starts_with("STAT ")) continue;
    line.remove_prefix(5);
    const auto space = line.find(' ');
    if (space != std::string_view::npos) out.emplace(line.substr(0, space), line.substr(space + 1));
  }
  return out;
}

result<labelled_lines> server_stats(live_backend& b) {
  if (b.redis_url) return redis_stats(b);
  labelled_lines out;
  if (!b.memcached_servers.empty()) {
    for (const auto& server : b.memcached_servers) {
      auto s = memcached_stats(server, b.timeout);
      if (!s) return std::move(s).error();
      out.emplace_back(
          server, "memcached " + field(*s, "version") + ", uptime " + field(*s, "uptime") + " s");
      out.emplace_back("  items", field(*s, "curr_items"));
      out.emplace_back("  bytes", field(*s, "bytes") + " of " + field(*s, "limit_maxbytes"));
      out.emplace_back("  hits / misses", field(*s, "get_hits") + " / " + field(*s, "get_misses"));
      out.emplace_back("  evictions", field(*s, "evictions"));
      out.emplace_back("  connections", field(*s, "curr_connections"));
    }
    return out;
  }
  // The file backend's health probe counts the directory.
  const auto h = b.store->health();
  for (const auto& [name, text] : h.details) out.emplace_back(name, text);
  return out;
}

}  // namespace cachekit::cli
