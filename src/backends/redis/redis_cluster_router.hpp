// Routes commands to the masters of a Redis Cluster: the slot map (16384 slots ⇒ master),
// one redis_pool per master, and the redirects a cluster answers with.
//
// The map is read from `CLUSTER SHARDS` (Redis 7; `CLUSTER SLOTS` on servers that do not know
// it), lazily: on the first command, after a connection error or a MOVED (at most every
// `min_refresh_interval`), and every `refresh_period` while commands run. No timer thread.
// A refresh asks the known masters, then the seed nodes, until one answers.
//
// Redirects, at most `max_redirects` per command: `MOVED slot host:port` updates that slot,
// asks for a full refresh and retries on the new node; `ASK slot host:port` sends `ASKING`
// and the command pipelined to the target, map unchanged; `TRYAGAIN` / `CLUSTERDOWN` wait a
// short backoff (doubling from 5 ms) and retry while the operation's command_timeout lasts,
// then fail with errc::transient.
//
// Thread-safe and lock-free: the slot map is 16384 atomics, and the nodes an append-only array
// of atomics (at most `max_nodes`; a node lives as long as the router). Fork-safe: there is no
// lock a parent's thread could hold at the fork, the pools are fork-safe, and the refresh guard
// records the fork generation of its holder, so a child never waits on a refresh its parent was
// running.
#pragma once

#include "backends/redis/redis_connection.hpp"
#include "backends/redis/redis_pool.hpp"

#include <cachekit/redis_backend.hpp>
#include <cachekit/result.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

// One command of a batch that run_each sends, with the slot its keys are in.
struct routed_command {
  std::uint16_t slot = 0;
  std::span<const std::string_view> argv;
};

class redis_cluster_router {
 public:
  static constexpr int max_redirects = 5;
  static constexpr std::chrono::milliseconds min_refresh_interval{100};
  static constexpr std::chrono::seconds refresh_period{10};
  // Nodes (masters and seeds) one router can address; Redis suggests clusters of 1,000 at most.
  static constexpr std::size_t max_nodes = 1024;

  // `base` holds the seeds (endpoint.seeds), credentials and timeouts; each master's pool gets
  // a copy with its host and port, and `pool_size` connections at most. Connects to nothing.
  redis_cluster_router(redis_connect_settings base, std::size_t pool_size);
  ~redis_cluster_router();
  redis_cluster_router(const redis_cluster_router&) = delete;
  redis_cluster_router& operator=(const redis_cluster_router&) = delete;

  // Sends `commands` (all for keys in `slot`) pipelined to the slot's master, following
  // redirects, and puts their replies in `replies` (same size). Error replies other than the
  // redirects are left in `replies` for the caller to check.
  [[nodiscard]] result<void> execute(std::string_view operation, std::uint16_t slot,
                                     std::span<const std::span<const std::string_view>> commands,
                                     std::span<redis_reply_ptr> replies);

  // One command; an error reply becomes its classified failure.
  [[nodiscard]] result<redis_reply_ptr> run(std::string_view operation, std::uint16_t slot,
                                            std::span<const std::string_view> argv);

  // Commands for several slots: pipelined per master (one round trip per node), a redirected
  // one rerun alone through execute. The replies, in input order; the first failure (an error
  // reply included) fails the whole batch.
  [[nodiscard]] result<std::vector<redis_reply_ptr>> run_each(
      std::string_view operation, std::span<const routed_command> commands);

  // The pools of the masters in the current map (refreshing it first when it is empty).
  [[nodiscard]] result<std::vector<redis_pool*>> masters(std::string_view operation);

  // Counters and the number of masters in the map.
  [[nodiscard]] redis_cluster_stats stats() const;
  // The pools' counters, summed over every node.
  [[nodiscard]] redis_pool_stats pool_stats() const;

 private:
  struct node {
    node(std::string h, int p, redis_connect_settings settings, std::size_t capacity);
    std::string host;
    int port;
    redis_pool pool;
  };

  // The node at host:port, created (with its pool) when new; a failure past max_nodes.
  result<node*> node_at(std::string_view host, int port);
  // The slot's master, after a lazy refresh when one is due; a failure when no node serves it.
  result<node*> master_of(std::string_view operation, std::uint16_t slot);
  // Refreshes when due and no other thread is at it; the failure when it tried and failed.
  std::optional<failure> refresh_if_due(std::string_view operation);
  result<void> refresh(std::string_view operation);
  result<void> refresh_from(node& source, std::string_view operation);
  void want_refresh() noexcept { refresh_wanted_.store(true, std::memory_order_relaxed); }

  const redis_connect_settings base_;
  const std::size_t pool_size_;

  std::array<std::atomic<node*>, 16384> slots_{};
  std::array<std::atomic<node*>, max_nodes>
      nodes_{};  // owned; filled from the front, never removed

  std::atomic<bool> refresh_wanted_{true};
  std::atomic<std::int64_t> last_refresh_ns_{0};  // steady_clock; 0: never
  std::atomic<std::uint64_t> refresher_{0};       // fork generation + 1 of the holder; 0: free

  std::atomic<std::uint64_t> moved_{0};
  std::atomic<std::uint64_t> ask_{0};
  std::atomic<std::uint64_t> refreshes_{0};
  std::atomic<std::uint64_t> retries_{0};
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
