// A real Redis Sentinel setup on loopback for the tests: one master, one replica
// (`--replicaof`), and three sentinels (`redis-server <conf> --sentinel`, quorum 2,
// down-after-milliseconds 1000, failover-timeout 5000) monitoring the master as "mymaster".
// Each sentinel's configuration is written to a temporary directory of its own (sentinel
// rewrites it). Every process is stopped by its PID in the destructor.
//
// After a failover the replica is the master: ask `master_port()` (the sentinels' answer) and
// `server_on(port)` rather than assuming which is which.
//
// Not thread-safe: drive it from the test's main thread.
#pragma once

#include "support/local_server.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace cachekit::testing {

class redis_sentinel_group {
 public:
  static constexpr const char* service = "mymaster";

  // Starts everything and waits until `wait_ready()`. With `sentinel_password`, the sentinels
  // require it (`requirepass`, and `sentinel sentinel-pass` among themselves); the master and
  // replica have none.
  explicit redis_sentinel_group(std::string sentinel_password = {});
  ~redis_sentinel_group();
  redis_sentinel_group(const redis_sentinel_group&) = delete;
  redis_sentinel_group& operator=(const redis_sentinel_group&) = delete;

  // "redis+sentinel://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/<service_name>" plus `suffix`
  // ("/2", "?db=1", ...).
  [[nodiscard]] std::string url(const std::string& service_name = service,
                                const std::string& suffix = {}) const;
  [[nodiscard]] const std::vector<int>& sentinel_ports() const noexcept { return sentinel_ports_; }

  // The master's port as the first answering sentinel reports it; -1 when none answers.
  [[nodiscard]] int master_port() const;
  // The redis-server (master or replica) listening on `port`; null for another port.
  [[nodiscard]] local_server* server_on(int port) const;
  // The data server that is not on `port`.
  [[nodiscard]] local_server* other_than(int port) const;

  // Waits (up to `limit`) until every running sentinel names the same master, that master has
  // an online replica, and every running sentinel lists that replica as healthy and knows the
  // other running sentinels: a failover can then succeed. Throws on timeout.
  void wait_ready(std::chrono::seconds limit = std::chrono::seconds(60)) const;
  // Waits until every running sentinel names a master other than `old_port`; returns the new
  // port. Throws on timeout.
  int wait_for_new_master(int old_port,
                          std::chrono::seconds limit = std::chrono::seconds(60)) const;

  // Runs `argv` on the master and the replica (ACL SETUSER: ACLs are not replicated); throws
  // when either refuses it.
  void on_data_servers(const std::vector<std::string>& argv) const;

  // FLUSHALL on the master (the replica follows).
  void flush_master() const;

  // `SENTINEL FAILOVER mymaster` on the first running sentinel; throws when refused.
  void force_failover() const;

  // Stops (SIGKILL) / restarts sentinel `index` (0-based, same port and configuration).
  void stop_sentinel(std::size_t index);
  void restart_sentinel(std::size_t index);

 private:
  void launch_sentinel(std::size_t index);

  std::unique_ptr<local_server> first_;   // the first master
  std::unique_ptr<local_server> second_;  // the first replica
  std::vector<int> sentinel_ports_;
  std::vector<int> sentinel_pids_;
  std::vector<std::filesystem::path> sentinel_dirs_;
  std::string sentinel_password_;
};

}  // namespace cachekit::testing
