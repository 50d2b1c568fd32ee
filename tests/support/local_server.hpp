// Starts a real redis-server or memcached on a free loopback port for the duration of a test
// binary, and stops it. Integration tests talk to these, never to mocks.
//
// Not thread-safe: create servers from the main thread (a gtest Environment or a fixture's
// SetUpTestSuite).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace cachekit::testing {

class local_server {
 public:
  // redis-server with no persistence, listening on 127.0.0.1:<free port>.
  static std::unique_ptr<local_server> start_redis(std::vector<std::string> extra_args = {});
  // memcached listening on 127.0.0.1:<free port>.
  static std::unique_ptr<local_server> start_memcached(std::vector<std::string> extra_args = {});

  ~local_server();
  local_server(const local_server&) = delete;
  local_server& operator=(const local_server&) = delete;

  [[nodiscard]] int port() const noexcept { return port_; }
  [[nodiscard]] std::string host() const { return "127.0.0.1"; }
  // "redis://127.0.0.1:PORT/0" or "127.0.0.1:PORT".
  [[nodiscard]] std::string address() const;

  // SIGSTOP / SIGCONT: a server that accepts connections but never answers (timeouts).
  void pause();
  void resume();
  // Stops the server (as a crash would); `restart()` starts it again on the same port.
  void stop();
  void restart();

 private:
  local_server(std::string program, std::vector<std::string> args, int port, bool is_redis);
  void launch();

  std::string program_;
  std::vector<std::string> args_;
  int port_;
  bool is_redis_;
  int pid_ = -1;
  std::filesystem::path work_dir_;
};

// A loopback TCP port that was free a moment ago.
int find_free_port();

}  // namespace cachekit::testing
