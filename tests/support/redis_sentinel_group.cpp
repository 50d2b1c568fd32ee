#include "support/redis_sentinel_group.hpp"

#include <hiredis/hiredis.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

namespace cachekit::testing {
namespace {

using namespace std::chrono_literals;

struct reply_deleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

// One command on a fresh connection to 127.0.0.1:port; null when it cannot be sent or answered.
// `password`: AUTH first (the sentinels of a group made with a sentinel password).
reply_ptr command(int port, const std::vector<std::string>& argv,
                  const std::string& password = {}) {
  timeval timeout{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeout);
  if (c == nullptr) return nullptr;
  if (c->err != 0) {
    redisFree(c);
    return nullptr;
  }
  redisSetTimeout(c, timeout);
  if (!password.empty()) {
    auto* auth = static_cast<redisReply*>(redisCommand(c, "AUTH %s", password.c_str()));
    const bool ok = auth != nullptr && auth->type != REDIS_REPLY_ERROR;
    if (auth != nullptr) freeReplyObject(auth);
    if (!ok) {
      redisFree(c);
      return nullptr;
    }
  }
  std::vector<const char*> args;
  std::vector<std::size_t> lengths;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lengths.data()));
  redisFree(c);
  return reply_ptr(raw);
}

std::string text(const redisReply& r) {
  return std::string(r.str, r.len);
}

// The value of `field` in a flat field/value array (SENTINEL replicas' entries).
std::string field(const redisReply& entry, std::string_view name) {
  if (entry.type != REDIS_REPLY_ARRAY) return {};
  for (std::size_t i = 0; i + 1 < entry.elements; i += 2) {
    if (entry.element[i]->type == REDIS_REPLY_STRING && text(*entry.element[i]) == name) {
      return text(*entry.element[i + 1]);
    }
  }
  return {};
}

int master_port_from(int sentinel_port, const std::string& password) {
  auto r =
      command(sentinel_port, {"SENTINEL", "get-master-addr-by-name", redis_sentinel_group::service},
              password);
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return -1;
  return std::stoi(text(*r->element[1]));
}

std::filesystem::path make_dir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "cachekit-sentinel-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp");
  }
  return pattern;
}

bool ready(const std::vector<int>& sentinels, int running, const std::string& password) {
  int agreed = -1;
  for (int port : sentinels) {
    const int master = master_port_from(port, password);
    if (master < 0 || (agreed >= 0 && master != agreed)) return false;
    agreed = master;
    auto state = command(port, {"SENTINEL", "master", redis_sentinel_group::service}, password);
    if (!state || field(*state, "flags") != "master") return false;  // no s_down, no failover
    auto replicas =
        command(port, {"SENTINEL", "replicas", redis_sentinel_group::service}, password);
    if (!replicas || replicas->type != REDIS_REPLY_ARRAY) return false;
    bool healthy = false;
    for (std::size_t i = 0; i < replicas->elements; ++i) {
      const auto& entry = *replicas->element[i];
      if (field(entry, "flags") == "slave" && field(entry, "master-link-status") == "ok") {
        healthy = true;
      }
    }
    if (!healthy) return false;
    auto others = command(port, {"SENTINEL", "sentinels", redis_sentinel_group::service}, password);
    if (!others || others->type != REDIS_REPLY_ARRAY) return false;
    int known = 0;
    for (std::size_t i = 0; i < others->elements; ++i) {
      if (field(*others->element[i], "flags") == "sentinel") ++known;
    }
    if (known < running - 1) return false;
  }
  if (agreed < 0) return false;
  // The master itself agrees it is one, with an online replica.
  auto role = command(agreed, {"ROLE"});
  return role && role->type == REDIS_REPLY_ARRAY && role->elements == 3 &&
         text(*role->element[0]) == "master" && role->element[2]->type == REDIS_REPLY_ARRAY &&
         role->element[2]->elements >= 1;
}

}  // namespace

redis_sentinel_group::redis_sentinel_group(std::string sentinel_password)
    : sentinel_password_(std::move(sentinel_password)) {
  first_ = local_server::start_redis();
  second_ = local_server::start_redis({"--replicaof", "127.0.0.1", std::to_string(first_->port())});
  for (std::size_t i = 0; i < 3; ++i) {
    sentinel_ports_.push_back(find_free_port());
    sentinel_pids_.push_back(-1);
    sentinel_dirs_.push_back(make_dir());
    std::ofstream conf(sentinel_dirs_[i] / "sentinel.conf");
    conf << "port " << sentinel_ports_[i] << "\n"
         << "bind 127.0.0.1\n"
         << "daemonize no\n"
         << "protected-mode no\n"
         << "dir " << sentinel_dirs_[i].string() << "\n"
         << "logfile " << (sentinel_dirs_[i] / "sentinel.log").string() << "\n"
         << "sentinel resolve-hostnames no\n"
         << "sentinel monitor " << service << " 127.0.0.1 " << first_->port() << " 2\n"
         << "sentinel down-after-milliseconds " << service << " 1000\n"
         << "sentinel failover-timeout " << service << " 5000\n"
         << "sentinel parallel-syncs " << service << " 1\n";
    if (!sentinel_password_.empty()) {
      // Clients and the other sentinels alike log in with it.
      conf << "requirepass " << sentinel_password_ << "\n"
           << "sentinel sentinel-pass " << sentinel_password_ << "\n";
    }
  }
  try {
    for (std::size_t i = 0; i < 3; ++i) launch_sentinel(i);
    wait_ready();
  } catch (...) {
    for (std::size_t i = 0; i < 3; ++i) stop_sentinel(i);
    throw;
  }
}

redis_sentinel_group::~redis_sentinel_group() {
  for (std::size_t i = 0; i < sentinel_pids_.size(); ++i) stop_sentinel(i);
  std::error_code ignored;
  for (const auto& dir : sentinel_dirs_) std::filesystem::remove_all(dir, ignored);
}

void redis_sentinel_group::launch_sentinel(std::size_t index) {
  const std::string conf = (sentinel_dirs_[index] / "sentinel.conf").string();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    ::execlp("redis-server", "redis-server", conf.c_str(), "--sentinel", nullptr);
    std::_Exit(127);
  }
  sentinel_pids_[index] = pid;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto pong = command(sentinel_ports_[index], {"PING"}); pong) return;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      sentinel_pids_[index] = -1;
      throw std::runtime_error("redis-server --sentinel exited at start; see " +
                               (sentinel_dirs_[index] / "sentinel.log").string());
    }
    std::this_thread::sleep_for(10ms);
  }
  throw std::runtime_error("sentinel did not answer within 10 s");
}

void redis_sentinel_group::stop_sentinel(std::size_t index) {
  const int pid = sentinel_pids_[index];
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  sentinel_pids_[index] = -1;
}

void redis_sentinel_group::restart_sentinel(std::size_t index) {
  stop_sentinel(index);
  launch_sentinel(index);
}

std::string redis_sentinel_group::url(const std::string& service_name,
                                      const std::string& suffix) const {
  std::string out = "redis+sentinel://";
  for (std::size_t i = 0; i < sentinel_ports_.size(); ++i) {
    if (i > 0) out += ",";
    out += "127.0.0.1:" + std::to_string(sentinel_ports_[i]);
  }
  return out + "/" + service_name + suffix;
}

int redis_sentinel_group::master_port() const {
  for (std::size_t i = 0; i < sentinel_ports_.size(); ++i) {
    if (sentinel_pids_[i] <= 0) continue;
    if (const int port = master_port_from(sentinel_ports_[i], sentinel_password_); port > 0) {
      return port;
    }
  }
  return -1;
}

local_server* redis_sentinel_group::server_on(int port) const {
  if (first_->port() == port) return first_.get();
  if (second_->port() == port) return second_.get();
  return nullptr;
}

local_server* redis_sentinel_group::other_than(int port) const {
  return first_->port() == port ? second_.get() : first_.get();
}

void redis_sentinel_group::wait_ready(std::chrono::seconds limit) const {
  std::vector<int> running;
  for (std::size_t i = 0; i < sentinel_ports_.size(); ++i) {
    if (sentinel_pids_[i] > 0) running.push_back(sentinel_ports_[i]);
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready(running, static_cast<int>(running.size()), sentinel_password_)) return;
    std::this_thread::sleep_for(100ms);
  }
  throw std::runtime_error(
      "sentinel group not ready (master, replica, sentinels agreeing) within " +
      std::to_string(limit.count()) + " s");
}

int redis_sentinel_group::wait_for_new_master(int old_port, std::chrono::seconds limit) const {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int agreed = -1;
    bool all = true;
    for (std::size_t i = 0; i < sentinel_ports_.size(); ++i) {
      if (sentinel_pids_[i] <= 0) continue;
      const int port = master_port_from(sentinel_ports_[i], sentinel_password_);
      if (port < 0 || port == old_port || (agreed >= 0 && port != agreed)) all = false;
      agreed = port;
    }
    if (all && agreed > 0) return agreed;
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error("the sentinels did not name a new master within " +
                           std::to_string(limit.count()) + " s");
}

void redis_sentinel_group::on_data_servers(const std::vector<std::string>& argv) const {
  for (const local_server* server : {first_.get(), second_.get()}) {
    auto r = command(server->port(), argv);
    if (!r || r->type == REDIS_REPLY_ERROR) {
      throw std::runtime_error(argv.front() + " refused on port " + std::to_string(server->port()));
    }
  }
}

void redis_sentinel_group::flush_master() const {
  auto r = command(master_port(), {"FLUSHALL"});
  if (!r || r->type == REDIS_REPLY_ERROR) throw std::runtime_error("FLUSHALL on the master failed");
}

void redis_sentinel_group::force_failover() const {
  for (std::size_t i = 0; i < sentinel_ports_.size(); ++i) {
    if (sentinel_pids_[i] <= 0) continue;
    auto r = command(sentinel_ports_[i], {"SENTINEL", "FAILOVER", service}, sentinel_password_);
    if (!r) continue;
    if (r->type == REDIS_REPLY_ERROR) throw std::runtime_error("SENTINEL FAILOVER: " + text(*r));
    return;
  }
  throw std::runtime_error("SENTINEL FAILOVER: no sentinel answered");
}

}  // namespace cachekit::testing
