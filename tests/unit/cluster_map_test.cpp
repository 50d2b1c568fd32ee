// Reading Redis Cluster's slot map from CLUSTER SHARDS and CLUSTER SLOTS replies, as hiredis
// parses them from RESP2 bytes shaped like Redis 7.0's answers. No server: the SLOTS fallback
// and the failover shapes (a failed master beside its promoted replica) cannot be had from the
// local Redis 7 on demand.
#include "backends/redis/cluster_map.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cachekit::detail {
namespace {

// RESP2 text builders.
std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
std::string integer(long long v) {
  return ":" + std::to_string(v) + "\r\n";
}
std::string array(std::initializer_list<std::string> items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (const auto& i : items) out += i;
  return out;
}

std::string shard_node(std::string_view ip, long long port, std::string_view role,
                       std::string_view health) {
  return array({bulk("id"), bulk("0123"), bulk("port"), integer(port), bulk("ip"), bulk(ip),
                bulk("endpoint"), bulk(ip), bulk("role"), bulk(role), bulk("replication-offset"),
                integer(42), bulk("health"), bulk(health)});
}

struct reply_deleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};

std::unique_ptr<redisReply, reply_deleter> parse_resp(const std::string& text) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, text.data(), text.size());
  void* reply = nullptr;
  const int status = redisReaderGetReply(reader, &reply);
  redisReaderFree(reader);
  EXPECT_EQ(status, REDIS_OK);
  EXPECT_NE(reply, nullptr);
  return std::unique_ptr<redisReply, reply_deleter>(static_cast<redisReply*>(reply));
}

TEST(cluster_map, shards_give_each_range_its_master) {
  const auto reply = parse_resp(array(
      {array({bulk("slots"), array({integer(0), integer(5460)}), bulk("nodes"),
              array({shard_node("10.0.0.1", 7000, "master", "online"),
                     shard_node("10.0.0.4", 7003, "replica", "online")})}),
       array({bulk("slots"), array({integer(5461), integer(10922), integer(16000), integer(16383)}),
              bulk("nodes"),
              array({shard_node("10.0.0.5", 7004, "replica", "online"),
                     shard_node("10.0.0.2", 7001, "master", "online")})})}));
  std::vector<cluster_slot_range> ranges;
  ASSERT_TRUE(parse_cluster_shards(*reply, "seed", false, ranges));
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges[0].first, 0);
  EXPECT_EQ(ranges[0].last, 5460);
  EXPECT_EQ(ranges[0].host, "10.0.0.1");
  EXPECT_EQ(ranges[0].port, 7000);
  EXPECT_EQ(ranges[1].first, 5461);
  EXPECT_EQ(ranges[1].last, 10922);
  EXPECT_EQ(ranges[1].host, "10.0.0.2");
  EXPECT_EQ(ranges[2].first, 16000);
  EXPECT_EQ(ranges[2].port, 7001);
}

TEST(cluster_map, a_failed_master_yields_to_its_healthy_promoted_replica) {
  for (const bool failed_first : {true, false}) {
    const auto failed = shard_node("10.0.0.1", 7000, "master", "fail");
    const auto promoted = shard_node("10.0.0.4", 7003, "master", "online");
    const auto reply = parse_resp(
        array({array({bulk("slots"), array({integer(0), integer(100)}), bulk("nodes"),
                      failed_first ? array({failed, promoted}) : array({promoted, failed})})}));
    std::vector<cluster_slot_range> ranges;
    ASSERT_TRUE(parse_cluster_shards(*reply, "seed", false, ranges));
    ASSERT_EQ(ranges.size(), 1u);
    EXPECT_EQ(ranges[0].port, 7003) << "failed master listed first: " << failed_first;
  }
}

TEST(cluster_map, a_shard_without_a_master_adds_no_range) {
  const auto reply =
      parse_resp(array({array({bulk("slots"), array({}), bulk("nodes"),
                               array({shard_node("10.0.0.4", 7003, "replica", "online")})})}));
  std::vector<cluster_slot_range> ranges;
  ASSERT_TRUE(parse_cluster_shards(*reply, "seed", false, ranges));
  EXPECT_TRUE(ranges.empty());
}

TEST(cluster_map, malformed_shards_are_refused) {
  std::vector<cluster_slot_range> ranges;
  EXPECT_FALSE(parse_cluster_shards(*parse_resp(integer(1)), "seed", false, ranges));
  EXPECT_FALSE(parse_cluster_shards(*parse_resp(array({bulk("slots")})), "seed", false, ranges));
  EXPECT_FALSE(parse_cluster_shards(
      *parse_resp(array({array({bulk("slots"), array({bulk("0"), bulk("9")}), bulk("nodes"),
                                array({shard_node("h", 1, "master", "online")})})})),
      "seed", false, ranges));
}

// `tls-cluster yes`: a node lists its TLS port as "tls-port", and its plain-text port as "port"
// only when it has one. A TLS client takes the first; a plain one never does.
TEST(cluster_map, tls_clients_take_the_tls_port) {
  const auto node = [](std::string_view ip, std::optional<long long> port, long long tls_port) {
    std::vector<std::string> fields = {bulk("id"), bulk("0123")};
    if (port) fields.insert(fields.end(), {bulk("port"), integer(*port)});
    fields.insert(fields.end(),
                  {bulk("tls-port"), integer(tls_port), bulk("ip"), bulk(ip), bulk("endpoint"),
                   bulk(ip), bulk("role"), bulk("master"), bulk("health"), bulk("online")});
    std::string out = "*" + std::to_string(fields.size()) + "\r\n";
    for (const auto& f : fields) out += f;
    return out;
  };
  const auto both =
      parse_resp(array({array({bulk("slots"), array({integer(0), integer(16383)}), bulk("nodes"),
                               array({node("10.0.0.1", 6379, 6380)})})}));
  std::vector<cluster_slot_range> ranges;
  ASSERT_TRUE(parse_cluster_shards(*both, "seed", true, ranges));
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].port, 6380);
  ranges.clear();
  ASSERT_TRUE(parse_cluster_shards(*both, "seed", false, ranges));
  EXPECT_EQ(ranges[0].port, 6379);
  const auto tls_only =
      parse_resp(array({array({bulk("slots"), array({integer(0), integer(16383)}), bulk("nodes"),
                               array({node("10.0.0.1", std::nullopt, 6380)})})}));
  ranges.clear();
  ASSERT_TRUE(parse_cluster_shards(*tls_only, "seed", true, ranges));
  EXPECT_EQ(ranges[0].port, 6380);
  ranges.clear();  // a plain client has no port to reach this node on: the shard adds nothing
  ASSERT_TRUE(parse_cluster_shards(*tls_only, "seed", false, ranges));
  EXPECT_TRUE(ranges.empty());
}

TEST(cluster_map, slots_fallback_takes_the_first_node_as_master) {
  const auto reply = parse_resp(
      array({array({integer(0), integer(8191), array({bulk("10.0.0.1"), integer(7000), bulk("a")}),
                    array({bulk("10.0.0.4"), integer(7003), bulk("b")})}),
             array({integer(8192), integer(16383), array({bulk(""), integer(7001), bulk("c")})})}));
  std::vector<cluster_slot_range> ranges;
  ASSERT_TRUE(parse_cluster_slots(*reply, "seed.example", ranges));
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].host, "10.0.0.1");
  EXPECT_EQ(ranges[0].port, 7000);
  EXPECT_EQ(ranges[1].first, 8192);
  EXPECT_EQ(ranges[1].host, "seed.example");  // an empty address: the node that answered
  EXPECT_EQ(ranges[1].port, 7001);
  EXPECT_FALSE(parse_cluster_slots(*parse_resp(array({array({integer(0)})})), "s", ranges));
}

}  // namespace
}  // namespace cachekit::detail
