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

// What a TLS redis-server loads (start_redis_tls).
struct redis_tls_files {
  std::filesystem::path cert;  // --tls-cert-file
  std::filesystem::path key;   // --tls-key-file
  std::filesystem::path ca;    // --tls-ca-cert-file: the CA that client certificates need
  bool auth_clients = false;   // --tls-auth-clients yes|no
};

class local_server {
 public:
  // redis-server with no persistence, listening on 127.0.0.1:<free port>.
  static std::unique_ptr<local_server> start_redis(std::vector<std::string> extra_args = {});
  // redis-server as start_redis, but accepting TLS only (--port 0 --tls-port <free port>).
  static std::unique_ptr<local_server> start_redis_tls(const redis_tls_files& files,
                                                       std::vector<std::string> extra_args = {});
  // memcached listening on 127.0.0.1:<free port>.
  static std::unique_ptr<local_server> start_memcached(std::vector<std::string> extra_args = {});

  ~local_server();
  local_server(const local_server&) = delete;
  local_server& operator=(const local_server&) = delete;

  [[nodiscard]] int port() const noexcept { return port_; }
  [[nodiscard]] std::string host() const { return "127.0.0.1"; }
  // "redis://127.0.0.1:PORT/0", "rediss://127.0.0.1:PORT/0" (TLS) or "127.0.0.1:PORT".
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
  bool tls_ = false;
  int pid_ = -1;
  std::filesystem::path work_dir_;
};

// A loopback TCP port that was free a moment ago.
int find_free_port();

}  // namespace cachekit::testing
