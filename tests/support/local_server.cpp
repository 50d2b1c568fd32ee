#include "support/local_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace cachekit::testing {
namespace {

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::filesystem::path make_work_dir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "cachekit-server-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp");
  }
  return pattern;
}

}  // namespace

int find_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::system_error(errno, std::generic_category(), "bind to a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

local_server::local_server(std::string program, std::vector<std::string> args, int port,
                           bool is_redis)
    : program_(std::move(program)), args_(std::move(args)), port_(port), is_redis_(is_redis) {}

std::unique_ptr<local_server> local_server::start_redis(std::vector<std::string> extra_args) {
  const int port = find_free_port();
  std::vector<std::string> args = {"--port",           std::to_string(port),
                                   "--bind",           "127.0.0.1",
                                   "--save",           "",
                                   "--appendonly",     "no",
                                   "--daemonize",      "no",
                                   "--protected-mode", "no",
                                   "--loglevel",       "warning"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::unique_ptr<local_server> server(
      new local_server("redis-server", std::move(args), port, true));
  server->launch();
  return server;
}

std::unique_ptr<local_server> local_server::start_redis_tls(const redis_tls_files& files,
                                                            std::vector<std::string> extra_args) {
  const int port = find_free_port();
  std::vector<std::string> args = {"--port",
                                   "0",
                                   "--tls-port",
                                   std::to_string(port),
                                   "--tls-cert-file",
                                   files.cert.string(),
                                   "--tls-key-file",
                                   files.key.string(),
                                   "--tls-ca-cert-file",
                                   files.ca.string(),
                                   "--tls-auth-clients",
                                   files.auth_clients ? "yes" : "no",
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--protected-mode",
                                   "no",
                                   "--loglevel",
                                   "warning"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::unique_ptr<local_server> server(
      new local_server("redis-server", std::move(args), port, true));
  server->tls_ = true;
  server->launch();
  return server;
}

std::unique_ptr<local_server> local_server::start_memcached(std::vector<std::string> extra_args) {
  const int port = find_free_port();
  std::vector<std::string> args = {"-p", std::to_string(port), "-l", "127.0.0.1", "-U", "0", "-m",
                                   "64"};
  if (::geteuid() == 0) args.insert(args.end(), {"-u", "root"});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::unique_ptr<local_server> server(new local_server("memcached", std::move(args), port, false));
  server->launch();
  return server;
}

void local_server::launch() {
  if (work_dir_.empty()) work_dir_ = make_work_dir();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    if (::chdir(work_dir_.c_str()) != 0) std::_Exit(127);
    std::vector<char*> argv;
    argv.push_back(program_.data());
    for (auto& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(program_.c_str(), argv.data());
    std::_Exit(127);  // not installed: the parent reports it
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (accepts_connections(port_)) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error(program_ +
                               " exited at start (is it installed? run "
                               "scripts/install-deps.sh)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop();
  throw std::runtime_error(program_ + " did not accept connections on port " +
                           std::to_string(port_) + " within 10 s");
}

std::string local_server::address() const {
  return is_redis_
             ? (tls_ ? "rediss://127.0.0.1:" : "redis://127.0.0.1:") + std::to_string(port_) + "/0"
             : "127.0.0.1:" + std::to_string(port_);
}

void local_server::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void local_server::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void local_server::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void local_server::restart() {
  stop();
  launch();
}

local_server::~local_server() {
  stop();
  std::error_code ignored;
  if (!work_dir_.empty()) std::filesystem::remove_all(work_dir_, ignored);
}

}  // namespace cachekit::testing
