#include "backends/redis/cluster_map.hpp"

#include <optional>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

std::string_view as_text(const redisReply& r) noexcept {
  if (r.type != REDIS_REPLY_STRING && r.type != REDIS_REPLY_STATUS) return {};
  return {r.str, r.len};
}

}  // namespace

// CLUSTER SHARDS (RESP2): per shard a flat map {"slots": [start, end, ...], "nodes": [flat
// maps with "ip", "endpoint", "port", "role", "health"]}. The shard's master is the node with
// role "master", preferring one whose health is not "fail" (during a failover both may show).
bool parse_cluster_shards(const redisReply& reply, std::string_view fallback_host, bool tls,
                          std::vector<cluster_slot_range>& out) {
  if (reply.type != REDIS_REPLY_ARRAY) return false;
  for (std::size_t s = 0; s < reply.elements; ++s) {
    const redisReply& shard = *reply.element[s];
    if (shard.type != REDIS_REPLY_ARRAY) return false;
    const redisReply* slots = nullptr;
    const redisReply* nodes = nullptr;
    for (std::size_t i = 0; i + 1 < shard.elements; i += 2) {
      const auto name = as_text(*shard.element[i]);
      if (name == "slots") slots = shard.element[i + 1];
      if (name == "nodes") nodes = shard.element[i + 1];
    }
    if (slots == nullptr || nodes == nullptr || slots->type != REDIS_REPLY_ARRAY ||
        nodes->type != REDIS_REPLY_ARRAY) {
      return false;
    }
    std::optional<std::pair<std::string, int>> master;
    bool master_healthy = false;
    for (std::size_t n = 0; n < nodes->elements; ++n) {
      const redisReply& node = *nodes->element[n];
      if (node.type != REDIS_REPLY_ARRAY) return false;
      std::string_view ip, endpoint, role, health;
      long long port = 0;
      long long tls_port = 0;
      for (std::size_t i = 0; i + 1 < node.elements; i += 2) {
        const auto name = as_text(*node.element[i]);
        const redisReply& value = *node.element[i + 1];
        if (name == "ip") ip = as_text(value);
        if (name == "endpoint") endpoint = as_text(value);
        if (name == "role") role = as_text(value);
        if (name == "health") health = as_text(value);
        if (name == "port" && value.type == REDIS_REPLY_INTEGER) port = value.integer;
        if (name == "tls-port" && value.type == REDIS_REPLY_INTEGER) tls_port = value.integer;
      }
      if (tls && tls_port > 0) port = tls_port;
      if (role != "master" || port <= 0) continue;
      const bool healthy = health != "fail";
      if (master && (master_healthy || !healthy)) continue;
      std::string_view host = !endpoint.empty() && endpoint != "?" ? endpoint : ip;
      if (host.empty()) host = fallback_host;
      master.emplace(std::string(host), static_cast<int>(port));
      master_healthy = healthy;
    }
    if (!master) continue;  // a shard without a master: its slots stay as they were
    for (std::size_t i = 0; i + 1 < slots->elements; i += 2) {
      if (slots->element[i]->type != REDIS_REPLY_INTEGER ||
          slots->element[i + 1]->type != REDIS_REPLY_INTEGER) {
        return false;
      }
      out.push_back({slots->element[i]->integer, slots->element[i + 1]->integer, master->first,
                     master->second});
    }
  }
  return true;
}

// CLUSTER SLOTS: [start, end, [ip, port, id, ...] (the master), replicas...] per range.
bool parse_cluster_slots(const redisReply& reply, std::string_view fallback_host,
                         std::vector<cluster_slot_range>& out) {
  if (reply.type != REDIS_REPLY_ARRAY) return false;
  for (std::size_t i = 0; i < reply.elements; ++i) {
    const redisReply& range = *reply.element[i];
    if (range.type != REDIS_REPLY_ARRAY || range.elements < 3 ||
        range.element[0]->type != REDIS_REPLY_INTEGER ||
        range.element[1]->type != REDIS_REPLY_INTEGER ||
        range.element[2]->type != REDIS_REPLY_ARRAY || range.element[2]->elements < 2 ||
        range.element[2]->element[1]->type != REDIS_REPLY_INTEGER) {
      return false;
    }
    std::string_view host = as_text(*range.element[2]->element[0]);
    if (host.empty() || host == "?") host = fallback_host;
    out.push_back({range.element[0]->integer, range.element[1]->integer, std::string(host),
                   static_cast<int>(range.element[2]->element[1]->integer)});
  }
  return true;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
