// Finds the Redis master of a `redis+sentinel://` URL and follows it across failovers.
//
// Discovery asks the sentinels in turn `SENTINEL get-master-addr-by-name <service>`, each on a
// fresh connection bounded by connect_timeout / command_timeout; the first that answers with an
// address wins and moves to the front of the list (as redis-py's Sentinel does), so a sentinel
// that is down costs its timeout once, not on every discovery. One discovery runs at a time:
// threads that need the master meanwhile wait for its answer instead of asking again.
//
// The address is kept until something says it is stale: `report_unusable` (redis_connection
// calls it on a connect failure, a ROLE that is not "master", a READONLY reply, or a connection
// lost mid-command) or a `+switch-master <service> ...` message, which a background thread
// (redis_switch_listener) hears on one sentinel. Each change of master bumps `generation()`;
// connections remember the generation they were opened under and the pool drops those of an
// older one, so no idle connection to a former master is reused. While a master is down and
// the sentinels still name it, every call would report it and ask again: after a report, the
// sentinels are asked at most once per 100 ms (`rediscovery_interval`), and the address they
// gave last is handed out meanwhile (a connect to it fails fast, or works if it is back).
//
// Failures of `locate`: no sentinel reachable ⇒ errc::transient (or errc::timeout when the
// last one tried timed out), naming the service and the sentinels tried; sentinels reachable
// but none knows the service ⇒ errc::backend_permanent (a sentinel knows every service of its
// `sentinel monitor` lines from the start, even before the master answers, so an unknown name
// is a typo or a wrong sentinel set: retrying will not help); a sentinel that refuses the
// sentinel credentials ⇒ errc::backend_authentication.
//
// Fork: the known address, the locks and the listener thread live in a per-process record
// (process/per_process.hpp). A forked child starts with no known master, asks the sentinels
// itself, and starts its own listener; the parent's thread does not exist there and is never
// joined or used.
//
// Thread-safe.
#pragma once

#include "backends/redis/redis_connection.hpp"
#include "backends/redis/redis_url.hpp"
#include "process/per_process.hpp"

#include <cachekit/redis_backend.hpp>
#include <cachekit/result.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

class redis_switch_listener;

inline constexpr std::chrono::milliseconds rediscovery_interval{100};

class redis_master_locator {
 public:
  struct master {
    std::string host;
    int port = 0;
    std::uint64_t generation = 0;  // the locator's generation when this address was adopted
  };

  // `settings` is the sentinel part of a redis+sentinel:// endpoint; the timeouts bound each
  // connect to and each command on a sentinel. `listen` false: no +switch-master thread (tests
  // that show what the other triggers do on their own).
  redis_master_locator(redis_sentinel_settings settings, std::chrono::milliseconds connect_timeout,
                       std::chrono::milliseconds command_timeout, bool listen = true);
  ~redis_master_locator();
  redis_master_locator(const redis_master_locator&) = delete;
  redis_master_locator& operator=(const redis_master_locator&) = delete;

  // The master's address: the known one, or a discovery's (failures in the file comment).
  // `operation` names the command that needs it, in messages.
  [[nodiscard]] result<master> locate(std::string_view operation);

  // The master handed out under `generation` did not work as a master: connections opened
  // before are dropped (the generation moves on), and `locate` asks the sentinels again once
  // `rediscovery_interval` has passed since the last discovery. Ignored when the master has
  // changed or been reported since.
  void report_unusable(std::uint64_t generation) noexcept;

  // A `+switch-master` said the master is now host:port (the listener thread calls this).
  void adopt(std::string host, int port);

  // Bumped at every change of master (and every report_unusable that was not ignored).
  [[nodiscard]] std::uint64_t generation() const noexcept {
    return generation_.load(std::memory_order_acquire);
  }

  [[nodiscard]] redis_sentinel_stats stats() const;
  [[nodiscard]] const redis_sentinel_settings& settings() const noexcept { return settings_; }
  // Connect settings of each sentinel, in the URL's order (credentials: the sentinel_* ones).
  [[nodiscard]] const std::vector<redis_connect_settings>& sentinels() const noexcept {
    return sentinel_connects_;
  }
  // The sentinels' indexes, the one that answered last first.
  [[nodiscard]] std::vector<std::size_t> sentinel_order();

 private:
  struct process_state {
    process_state();
    ~process_state();
    std::mutex mutex;
    std::optional<master> known;  // guarded by mutex
    bool suspect = false;         // guarded by mutex; `known` was reported unusable
    std::chrono::steady_clock::time_point last_discovery{};  // guarded by mutex
    std::vector<std::size_t> order;  // guarded by mutex; empty until first used
    std::string last_address;        // guarded by mutex; "host:port" last adopted, for stats
    std::mutex discovery;            // held by the one discovery running
    std::once_flag listener_started;
    std::unique_ptr<redis_switch_listener> listener;  // last: its thread uses the above
  };

  result<master> discover(process_state& state, std::string_view operation);
  std::vector<std::size_t> order_of(process_state& state);
  void ensure_listener(process_state& state);

  const redis_sentinel_settings settings_;
  const std::vector<redis_connect_settings> sentinel_connects_;
  const bool listen_;
  std::atomic<std::uint64_t> generation_{1};
  std::atomic<std::uint64_t> discoveries_{0};
  std::atomic<std::uint64_t> master_changes_{0};
  std::atomic<std::uint64_t> switch_messages_{0};
  std::atomic<std::uint64_t> unusable_reports_{0};
  per_process<process_state> state_;  // last: its listener thread uses everything above
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
