// The commands of redis_backend's batch operations (get_many_with_ttl, set_many), built once
// and sent either down one pipelined connection (a single server) or grouped per master (a
// cluster, redis_cluster_router::run_each), and the parsing of their replies, which both paths
// share. include/cachekit/redis_backend.hpp documents what is sent.
//
// Thread-compatible: a batch is built, sent and read by one thread.
#pragma once

#include "backends/redis/redis_connection.hpp"
#include "backends/redis/redis_key_layout.hpp"

#include <cachekit/backend.hpp>

#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Commands in send order; every argument view points into `storage_` or the caller's data.
class redis_batch {
 public:
  // GET then PTTL per key (wire keys made from `keys` with `layout`).
  static redis_batch reads_with_ttl(const redis_key_layout_rules& layout,
                                    std::span<const std::string_view> keys);
  // Per write: SET [EX] (DEL for a TTL of zero or less, backend.hpp), and when it names a
  // registry and the layout keeps one: SADD {prefix}{registry} key and EXPIRE of the registry
  // (cachekit-py's track_key). The writes' views must outlive the batch.
  static redis_batch writes(const redis_key_layout_rules& layout,
                            std::span<const write_request> writes);

  [[nodiscard]] std::size_t size() const noexcept { return argv_.size(); }
  [[nodiscard]] std::span<const std::string_view> argv(std::size_t i) const { return argv_[i]; }
  [[nodiscard]] std::string_view name(std::size_t i) const { return argv_[i][0]; }
  // The key whose slot routes command `i` on a cluster.
  [[nodiscard]] std::string_view routing_key(std::size_t i) const { return argv_[i][1]; }
  // Whether command `i` records a key in a registry (its refusal only loses the record).
  [[nodiscard]] bool is_registry(std::size_t i) const { return registry_[i]; }

 private:
  std::string_view keep(std::string text);
  void add(std::vector<std::string_view> argv, bool registry = false);

  std::deque<std::string> storage_;  // a deque: growing it moves no string the views point at
  std::vector<std::vector<std::string_view>> argv_;
  std::vector<bool> registry_;
};

// Appends every command of `batch` to `connection`, then reads every reply (so the connection
// stays in step even when one reply is an error). An I/O failure ends the read (the connection
// is then broken and the pool drops it).
[[nodiscard]] result<std::vector<redis_reply_ptr>> send_pipelined(redis_connection& connection,
                                                                  const redis_batch& batch);

// The answers of `reads_with_ttl` (a GET and a PTTL reply per key), in key order. An error
// reply fails the whole read with its classified failure (`where` names the server).
[[nodiscard]] result<std::vector<std::optional<timed_value>>> timed_values_from(
    std::span<const redis_reply_ptr> replies, std::string_view where);

// The outcome of `writes`: the first refused SET or DEL fails it; a refused SADD or EXPIRE of
// a registry does not (the entry is stored, as set_tracked).
[[nodiscard]] result<void> writes_outcome(const redis_batch& batch,
                                          std::span<const redis_reply_ptr> replies,
                                          std::string_view where);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
