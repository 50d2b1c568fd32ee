// A real Redis Cluster for a test binary: six redis-server processes on free loopback ports
// (three masters, a replica each), made a cluster with `redis-cli --cluster create`, and
// stopped (SIGKILL, by PID) when destroyed. A master can be killed to force a failover, and
// any node asked any command, for the slot-migration tests.
//
// `shared_redis_cluster()` starts one cluster the first time a test asks for it and keeps it
// for the rest of the process, so a binary pays the start-up (a few seconds) once.
//
// Not thread-safe: use from the test's main thread (the backends under test are what the
// tests' worker threads touch).
#pragma once

#include "support/local_server.hpp"

#include "backends/redis/redis_connection.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cachekit::testing {

class redis_cluster_nodes {
 public:
  // Starts 6 nodes (`--cluster-enabled yes --cluster-node-timeout 1000`, no persistence) and
  // creates the cluster; returns when every node reports `cluster_state:ok`. Throws
  // std::runtime_error when it cannot (redis-server / redis-cli missing, no agreement in 30 s).
  static std::unique_ptr<redis_cluster_nodes> start();

  ~redis_cluster_nodes();
  redis_cluster_nodes(const redis_cluster_nodes&) = delete;
  redis_cluster_nodes& operator=(const redis_cluster_nodes&) = delete;

  // `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3` (the first three nodes as seeds).
  [[nodiscard]] std::string url() const;
  // Every node's port, killed ones included.
  [[nodiscard]] std::vector<int> ports() const;
  // The ports of the nodes that are masters now, as the first live node sees it.
  [[nodiscard]] std::vector<int> master_ports();
  // The port of the master serving `slot` now.
  [[nodiscard]] int port_of_slot(std::uint16_t slot);
  // The node's cluster ID (CLUSTER MYID).
  [[nodiscard]] std::string node_id(int port);

  // Runs one command on the node at `port`. Throws std::runtime_error on an I/O failure or an
  // error reply (the message names the command and the reply).
  detail::redis_reply_ptr command(int port, const std::vector<std::string>& argv);

  // FLUSHALL on every live master.
  void flush_all();
  // SIGKILL to the node at `port` (a crash: no failover is announced).
  void kill(int port);
  // Starts a killed node again on its port with its nodes.conf (it rejoins, as a replica when
  // its slots were taken over), then waits for cluster_state:ok everywhere.
  void restart(int port);
  // Waits until every live node reports cluster_state:ok and every live replica's link to its
  // master is up (synced, so it can take over); throws after `limit`.
  void wait_until_ok(std::chrono::milliseconds limit = std::chrono::seconds(30));

 private:
  redis_cluster_nodes() = default;
  local_server& server_at(int port);

  std::vector<std::unique_ptr<local_server>> servers_;
  std::vector<bool> alive_;
};

// The process's cluster, started on first use.
redis_cluster_nodes& shared_redis_cluster();

}  // namespace cachekit::testing
