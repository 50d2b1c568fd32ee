#include "backends/redis/redis_cluster_ops.hpp"

#include "backends/redis/cluster_slot.hpp"
#include "backends/redis/redis_error.hpp"
#include "backends/redis/redis_info_fields.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// cachekit-py's drain: 10,000 members a step, 1,000 steps at most (redis_backend.cpp).
constexpr std::string_view drain_chunk = "10000";
constexpr std::size_t drain_chunk_size = 10000;
constexpr int max_drain_steps = 1000;
constexpr std::string_view scan_batch = "1000";

failure unexpected(std::string_view operation, const redisReply& reply) {
  return fail(errc::backend_permanent, "redis " + std::string(operation) +
                                           " on a cluster: unexpected reply type " +
                                           std::to_string(reply.type));
}

// Argument lists of one command per slot, for `keys` (wire keys) after `command`.
struct per_slot {
  std::vector<std::vector<std::string_view>> argv;
  std::vector<std::vector<std::size_t>> indices;  // positions in `keys`, per command
  std::vector<routed_command> commands;
};

per_slot group_by_slot(std::string_view command, std::span<const std::string_view> keys) {
  per_slot out;
  std::map<std::uint16_t, std::size_t> at;  // slot ⇒ its command
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto slot = cluster_slot(keys[i]);
    auto [it, fresh] = at.try_emplace(slot, out.argv.size());
    if (fresh) {
      out.argv.push_back({command});
      out.indices.emplace_back();
    }
    out.argv[it->second].push_back(keys[i]);
    out.indices[it->second].push_back(i);
  }
  // Built after the vectors stop growing: the spans point into them.
  out.commands.resize(out.argv.size());
  for (const auto& [slot, index] : at) out.commands[index] = {slot, out.argv[index]};
  return out;
}

// UNLINKs `keys` (one command per slot); how many existed.
result<std::size_t> unlink_all(redis_cluster_router& router, std::string_view operation,
                               std::span<const std::string_view> keys) {
  if (keys.empty()) return std::size_t{0};
  const auto groups = group_by_slot("UNLINK", keys);
  auto replies = router.run_each(operation, groups.commands);
  if (!replies) return std::move(replies).error();
  std::size_t gone = 0;
  for (const auto& r : *replies) {
    if (r->type != REDIS_REPLY_INTEGER) return unexpected(operation, *r);
    gone += static_cast<std::size_t>(std::max<long long>(r->integer, 0));
  }
  return gone;
}

}  // namespace

result<std::vector<std::optional<byte_buffer>>> get_many_cluster(
    redis_cluster_router& router, const redis_key_layout_rules& layout,
    std::span<const std::string_view> keys) {
  using many = std::vector<std::optional<byte_buffer>>;
  std::vector<std::string> scratch;
  std::vector<std::string_view> wire;
  wire.reserve(keys.size());
  if (layout.is_plain()) {
    wire.assign(keys.begin(), keys.end());
  } else {
    scratch.reserve(keys.size());
    for (auto key : keys) scratch.push_back(layout.wire_key(key));
    wire.assign(scratch.begin(), scratch.end());
  }
  const auto groups = group_by_slot("MGET", wire);
  auto replies = router.run_each("MGET", groups.commands);
  if (!replies) return std::move(replies).error();
  many out(keys.size());
  for (std::size_t g = 0; g < replies->size(); ++g) {
    const redisReply& r = *(*replies)[g];
    const auto& indices = groups.indices[g];
    if (r.type != REDIS_REPLY_ARRAY || r.elements != indices.size()) return unexpected("MGET", r);
    for (std::size_t i = 0; i < r.elements; ++i) {
      const redisReply& item = *r.element[i];
      if (item.type != REDIS_REPLY_STRING) continue;
      const auto* begin = reinterpret_cast<const std::byte*>(item.str);
      out[indices[i]].emplace(begin, begin + item.len);
    }
  }
  return out;
}

result<std::size_t> erase_prefix_cluster(redis_cluster_router& router, const std::string& pattern) {
  auto masters = router.masters("SCAN");
  if (!masters) return std::move(masters).error();
  std::size_t removed = 0;
  for (redis_pool* pool : *masters) {
    std::string cursor = "0";
    do {
      std::vector<std::string> batch;
      {  // the lease goes back before the UNLINKs, which may need this node's pool
        auto connection = pool->acquire("SCAN");
        if (!connection) return std::move(connection).error();
        const std::array<std::string_view, 6> scan = {"SCAN",  cursor,  "MATCH",
                                                      pattern, "COUNT", scan_batch};
        auto reply = (*connection)->run("SCAN", scan);
        if (!reply) return std::move(reply).error();
        const redisReply& r = **reply;
        if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 ||
            r.element[0]->type != REDIS_REPLY_STRING || r.element[1]->type != REDIS_REPLY_ARRAY) {
          return unexpected("SCAN", r);
        }
        cursor.assign(r.element[0]->str, r.element[0]->len);
        const redisReply& keys = *r.element[1];
        for (std::size_t i = 0; i < keys.elements; ++i) {
          if (keys.element[i]->type != REDIS_REPLY_STRING) continue;
          std::string key(keys.element[i]->str, keys.element[i]->len);
          // A fill lock is another caller's, not a cached entry: its holder releases it.
          if (!std::string_view(key).ends_with(":lock")) batch.push_back(std::move(key));
        }
      }
      const std::vector<std::string_view> views(batch.begin(), batch.end());
      auto gone = unlink_all(router, "UNLINK", views);
      if (!gone) return std::move(gone).error();
      removed += *gone;
    } while (cursor != "0");
  }
  return removed;
}

result<bool> set_tracked_cluster(redis_cluster_router& router, std::string_view wire_key,
                                 std::string_view registry_key,
                                 std::span<const std::string_view> set_argv,
                                 std::span<const std::string_view> sadd,
                                 std::span<const std::string_view> expire) {
  auto stored = router.run("SET", cluster_slot(wire_key), set_argv);
  if (!stored) return std::move(stored).error();
  if ((*stored)->type != REDIS_REPLY_STATUS) return unexpected("SET", **stored);
  std::array<redis_reply_ptr, 2> replies;
  const std::array<std::span<const std::string_view>, 2> commands = {sadd, expire};
  auto sent = router.execute("SADD", cluster_slot(registry_key), commands, replies);
  if (!sent) return std::move(sent).error();
  return replies[0]->type == REDIS_REPLY_INTEGER && replies[1]->type == REDIS_REPLY_INTEGER;
}

result<std::size_t> drain_registry_cluster(redis_cluster_router& router,
                                           std::string_view registry_key, std::string_view prefix) {
  const auto registry_slot = cluster_slot(registry_key);
  const std::array<std::string_view, 3> take = {"SRANDMEMBER", registry_key, drain_chunk};
  std::size_t drained = 0;
  for (int step = 0; step < max_drain_steps; ++step) {
    auto taken = router.run("SRANDMEMBER (registry drain)", registry_slot, take);
    if (!taken) return std::move(taken).error();
    const redisReply& members = **taken;
    if (members.type != REDIS_REPLY_ARRAY) return unexpected("SRANDMEMBER", members);
    if (members.elements == 0) break;
    // The keys are `{prefix}{member}`: a member cannot name a key outside this backend's.
    std::vector<std::string> keys;
    std::vector<std::string_view> srem = {"SREM", registry_key};
    keys.reserve(members.elements);
    for (std::size_t i = 0; i < members.elements; ++i) {
      const redisReply& m = *members.element[i];
      if (m.type != REDIS_REPLY_STRING) return unexpected("SRANDMEMBER", m);
      keys.push_back(std::string(prefix).append(m.str, m.len));
      srem.emplace_back(m.str, m.len);
    }
    // Keys first: when an UNLINK fails nothing leaves the set, and the next drain repeats it.
    const std::vector<std::string_view> views(keys.begin(), keys.end());
    auto gone = unlink_all(router, "UNLINK (registry drain)", views);
    if (!gone) return std::move(gone).error();
    auto removed = router.run("SREM (registry drain)", registry_slot, srem);
    if (!removed) return std::move(removed).error();
    drained += members.elements;
    if (members.elements < drain_chunk_size) break;
  }
  return drained;
}

backend_health cluster_health(redis_cluster_router& router, backend_health health) {
  auto report = [&](const failure& f) {
    health.details["error"] = f.message();
    health.details["error_type"] = f.code.message();
    return health;
  };
  auto masters = router.masters("PING");
  if (!masters) return report(masters.error());
  std::chrono::microseconds slowest{0};
  for (redis_pool* pool : *masters) {
    auto connection = pool->acquire("PING");
    if (!connection) return report(connection.error());
    const auto start = std::chrono::steady_clock::now();
    const std::array<std::string_view, 1> ping = {"PING"};
    if (auto r = (*connection)->run("PING", ping); !r) return report(r.error());
    slowest = std::max(slowest, std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::steady_clock::now() - start));
  }
  auto connection = masters->front()->acquire("INFO");
  if (!connection) return report(connection.error());
  // INFO and CLUSTER INFO are both "field:value\r\n" lines.
  const std::array<std::string_view, 1> info = {"INFO"};
  const std::array<std::string_view, 2> cluster_info = {"CLUSTER", "INFO"};
  const std::array<info_field, 4> wanted = {{{"redis_version", "version"},
                                             {"used_memory_human", "used_memory_human"},
                                             {"connected_clients", "connected_clients"},
                                             {"cluster_state", "cluster_state"}}};
  for (const auto& argv :
       {std::span<const std::string_view>(info), std::span<const std::string_view>(cluster_info)}) {
    auto r = (*connection)->run(argv.size() == 1 ? "INFO" : "CLUSTER INFO", argv);
    if (!r) return report(r.error());
    if ((*r)->type != REDIS_REPLY_STRING && (*r)->type != REDIS_REPLY_STATUS) {
      return report(unexpected("INFO", **r));
    }
    read_info_fields(std::string_view((*r)->str, (*r)->len), wanted, health.details);
  }
  health.details["masters"] = std::to_string(masters->size());
  if (health.details["cluster_state"] != "ok") {
    health.details["error"] = "redis cluster_state is '" + health.details["cluster_state"] +
                              "' (CLUSTER INFO); some slots have no reachable master";
    health.details["error_type"] = make_error_code(errc::transient).message();
    return health;
  }
  health.healthy = true;
  health.latency = slowest;
  return health;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
