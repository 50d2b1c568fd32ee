#include "support/redis_cluster_nodes.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace cachekit::testing {
namespace {

detail::redis_connect_settings settings_for(int port) {
  detail::redis_connect_settings settings;
  settings.endpoint.host = "127.0.0.1";
  settings.endpoint.port = port;
  settings.where = settings.endpoint.describe();
  settings.connect_timeout = std::chrono::milliseconds(1000);
  settings.command_timeout = std::chrono::milliseconds(5000);
  return settings;
}

// `redis-cli --cluster create` with its output discarded; its exit status.
int run_redis_cli(std::vector<std::string> args) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    std::vector<char*> argv;
    std::string program = "redis-cli";
    argv.push_back(program.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("redis-cli", argv.data());
    std::_Exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string text_of(const redisReply& reply) {
  return std::string(reply.str == nullptr ? "" : reply.str, reply.str == nullptr ? 0 : reply.len);
}

}  // namespace

// A node whose cluster bus port (its port + 10000) is a valid port too; a node that could not
// start (its bus port taken) is tried again on another port.
std::unique_ptr<local_server> start_node() {
  for (int attempt = 0;; ++attempt) {
    try {
      auto server = local_server::start_redis({"--cluster-enabled", "yes", "--cluster-config-file",
                                               "nodes.conf", "--cluster-node-timeout", "1000",
                                               "--logfile", "node.log"});
      if (server->port() + 10000 <= 65535) return server;
    } catch (const std::runtime_error&) {
      if (attempt >= 20) throw;
    }
  }
}

std::unique_ptr<redis_cluster_nodes> redis_cluster_nodes::start() {
  for (int attempt = 1;; ++attempt) {
    std::unique_ptr<redis_cluster_nodes> cluster(new redis_cluster_nodes());
    for (int i = 0; i < 6; ++i) {
      cluster->servers_.push_back(start_node());
      cluster->alive_.push_back(true);
    }
    std::vector<std::string> args = {"--cluster", "create"};
    for (const auto& s : cluster->servers_) {
      args.push_back("127.0.0.1:" + std::to_string(s->port()));
    }
    args.insert(args.end(), {"--cluster-replicas", "1", "--cluster-yes"});
    const int code = run_redis_cli(args);
    if (code == 0) {
      cluster->wait_until_ok();
      return cluster;
    }
    // A bus port another process took between our start and the create: six new nodes.
    if (attempt == 3) {
      throw std::runtime_error("redis-cli --cluster create exited with " + std::to_string(code) +
                               " three times (is redis-cli installed? run "
                               "scripts/install-deps.sh)");
    }
  }
}

redis_cluster_nodes::~redis_cluster_nodes() = default;

std::string redis_cluster_nodes::url() const {
  std::string out = "redis+cluster://";
  for (std::size_t i = 0; i < 3; ++i) {
    if (i > 0) out += ',';
    out += "127.0.0.1:" + std::to_string(servers_[i]->port());
  }
  return out;
}

std::vector<int> redis_cluster_nodes::ports() const {
  std::vector<int> out;
  for (const auto& s : servers_) out.push_back(s->port());
  return out;
}

local_server& redis_cluster_nodes::server_at(int port) {
  for (auto& s : servers_) {
    if (s->port() == port) return *s;
  }
  throw std::runtime_error("no cluster node on port " + std::to_string(port));
}

detail::redis_reply_ptr redis_cluster_nodes::command(int port,
                                                     const std::vector<std::string>& argv) {
  const auto settings = settings_for(port);
  auto connection = detail::redis_connection::open(settings, argv.front());
  if (!connection) throw std::runtime_error(connection.error().message());
  const std::vector<std::string_view> views(argv.begin(), argv.end());
  auto reply = (*connection)->run(argv.front(), views);
  if (!reply) throw std::runtime_error(reply.error().message());
  return std::move(*reply);
}

std::vector<int> redis_cluster_nodes::master_ports() {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    if (!alive_[i]) continue;
    // CLUSTER NODES: "<id> <ip:port@cport> <flags> ..." per line.
    const auto nodes = text_of(*command(servers_[i]->port(), {"CLUSTER", "NODES"}));
    std::vector<int> out;
    std::istringstream lines(nodes);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream fields(line);
      std::string id, address, flags;
      fields >> id >> address >> flags;
      if (flags.find("master") == std::string::npos || flags.find("fail") != std::string::npos) {
        continue;
      }
      const auto colon = address.find(':');
      out.push_back(std::stoi(address.substr(colon + 1, address.find('@') - colon - 1)));
    }
    return out;
  }
  throw std::runtime_error("every cluster node is down");
}

int redis_cluster_nodes::port_of_slot(std::uint16_t slot) {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    if (!alive_[i]) continue;
    const auto slots = command(servers_[i]->port(), {"CLUSTER", "SLOTS"});
    for (std::size_t r = 0; r < slots->elements; ++r) {
      const redisReply& range = *slots->element[r];
      if (range.element[0]->integer <= slot && slot <= range.element[1]->integer) {
        return static_cast<int>(range.element[2]->element[1]->integer);
      }
    }
    throw std::runtime_error("no master serves slot " + std::to_string(slot));
  }
  throw std::runtime_error("every cluster node is down");
}

std::string redis_cluster_nodes::node_id(int port) {
  return text_of(*command(port, {"CLUSTER", "MYID"}));
}

void redis_cluster_nodes::flush_all() {
  for (const int port : master_ports()) (void)command(port, {"FLUSHALL"});
}

void redis_cluster_nodes::kill(int port) {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i]->port() == port) {
      servers_[i]->stop();
      alive_[i] = false;
    }
  }
}

void redis_cluster_nodes::restart(int port) {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i]->port() == port) {
      servers_[i]->restart();
      alive_[i] = true;
    }
  }
  wait_until_ok();
}

void redis_cluster_nodes::wait_until_ok(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    bool all_ok = true;
    for (std::size_t i = 0; i < servers_.size() && all_ok; ++i) {
      if (!alive_[i]) continue;
      try {
        last = text_of(*command(servers_[i]->port(), {"CLUSTER", "INFO"}));
      } catch (const std::exception& e) {
        last = e.what();
        all_ok = false;
        break;
      }
      all_ok = last.find("cluster_state:ok") != std::string::npos &&
               last.find("cluster_slots_ok:16384") != std::string::npos;
      if (!all_ok) break;
      // A replica that has not synced yet cannot take over (cluster-replica-validity-factor):
      // the failover test needs every replica's link up.
      last = text_of(*command(servers_[i]->port(), {"INFO", "replication"}));
      all_ok = last.find("role:slave") == std::string::npos ||
               last.find("master_link_status:up") != std::string::npos;
    }
    if (all_ok) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("redis cluster did not reach cluster_state:ok in time; last: " + last);
}

redis_cluster_nodes& shared_redis_cluster() {
  static const std::unique_ptr<redis_cluster_nodes> cluster = redis_cluster_nodes::start();
  return *cluster;
}

}  // namespace cachekit::testing
