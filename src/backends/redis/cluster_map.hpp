// Reading Redis Cluster's slot map: the replies of `CLUSTER SHARDS` (Redis 7) and
// `CLUSTER SLOTS` (older servers) turned into slot ranges and the master serving each.
//
// Thread-safe: stateless.
#pragma once

#include <hiredis/hiredis.h>

#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Slots `first` to `last` (inclusive) and the master serving them.
struct cluster_slot_range {
  long long first = 0;
  long long last = 0;
  std::string host;
  int port = 0;
};

// CLUSTER SHARDS (RESP2 flat maps): each shard's ranges with its master: the node whose role
// is "master", preferring one whose health is not "fail" (a failed master and its promoted
// replica can both say "master" for a while). A shard without a master adds nothing. The
// node's "endpoint" is used, its "ip" when the endpoint is empty or "?", `fallback_host` (the
// node asked) when both are. The port is the node's "port", or with `tls` its "tls-port" when
// it has one (a cluster with `tls-cluster yes` lists its plain-text port as "port" and its TLS
// port as "tls-port", and a TLS-only node has no "port" at all). False when the reply is not
// shaped as documented.
[[nodiscard]] bool parse_cluster_shards(const redisReply& reply, std::string_view fallback_host,
                                        bool tls, std::vector<cluster_slot_range>& out);

// CLUSTER SLOTS: `[first, last, [ip, port, id...], replicas...]` per range; the first node is
// the master. False when the reply is not shaped so.
[[nodiscard]] bool parse_cluster_slots(const redisReply& reply, std::string_view fallback_host,
                                       std::vector<cluster_slot_range>& out);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
