// Redis Cluster's pure pieces: the hash slot of a key (CRC16-XMODEM mod 16384 with hash tags)
// and the `redis+cluster://` URL. No server.
#include "backends/redis/cluster_slot.hpp"
#include "backends/redis/redis_url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cachekit::detail {
namespace {

TEST(cluster_slot, crc16_matches_the_xmodem_check_value) {
  EXPECT_EQ(crc16_xmodem("123456789"), 0x31C3);
  EXPECT_EQ(crc16_xmodem(""), 0);
}

TEST(cluster_slot, slots_match_what_redis_cluster_keyslot_answers) {
  // Values from `CLUSTER KEYSLOT` on Redis 7.0.
  EXPECT_EQ(cluster_slot("foo"), 12182);
  EXPECT_EQ(cluster_slot("bar"), 5061);
  EXPECT_EQ(cluster_slot("hello"), 866);
  EXPECT_EQ(cluster_slot(""), 0);
}

TEST(cluster_slot, a_hash_tag_alone_decides_the_slot) {
  EXPECT_EQ(cluster_slot("{user1000}.following"), cluster_slot("user1000"));
  EXPECT_EQ(cluster_slot("{user1000}.followers"), cluster_slot("{user1000}.following"));
  EXPECT_EQ(cluster_hash_part("a{b}c{d}"), "b");             // the first tag only
  EXPECT_EQ(cluster_hash_part("foo{}{bar}"), "foo{}{bar}");  // an empty tag: the whole key
  EXPECT_EQ(cluster_hash_part("foo{{bar}}zap"), "{bar");     // up to the first '}' after '{'
  EXPECT_EQ(cluster_hash_part("foo{bar"), "foo{bar");        // no '}': the whole key
}

TEST(cluster_slot, slots_stay_below_16384_for_binary_keys) {
  std::string key;
  for (int i = 0; i < 256; ++i) {
    key.push_back(static_cast<char>(i));
    EXPECT_LT(cluster_slot(key), cluster_slot_count);
  }
}

TEST(redis_cluster_url, seeds_credentials_and_the_first_seed_as_host) {
  auto ep = parse_redis_url("redis+cluster://alice:s%40cret@10.0.0.1:7000,10.0.0.2:7001,[::1]/0");
  ASSERT_TRUE(ep.has_value()) << ep.error().message();
  EXPECT_TRUE(ep->cluster);
  ASSERT_EQ(ep->seeds.size(), 3u);
  EXPECT_EQ(ep->seeds[0].host, "10.0.0.1");
  EXPECT_EQ(ep->seeds[0].port, 7000);
  EXPECT_EQ(ep->seeds[1].host, "10.0.0.2");
  EXPECT_EQ(ep->seeds[1].port, 7001);
  EXPECT_EQ(ep->seeds[2].host, "::1");
  EXPECT_EQ(ep->seeds[2].port, 6379);
  EXPECT_EQ(ep->host, "10.0.0.1");
  EXPECT_EQ(ep->port, 7000);
  EXPECT_EQ(ep->user, "alice");
  EXPECT_EQ(ep->password, "s@cret");
  EXPECT_EQ(ep->db, 0);
  EXPECT_EQ(ep->describe(), "cluster 10.0.0.1:7000,10.0.0.2:7001,[::1]:6379");
}

TEST(redis_cluster_url, a_single_seed_without_path_is_enough) {
  auto ep = parse_redis_url("redis+cluster://127.0.0.1:30001");
  ASSERT_TRUE(ep.has_value()) << ep.error().message();
  EXPECT_TRUE(ep->cluster);
  ASSERT_EQ(ep->seeds.size(), 1u);
  EXPECT_FALSE(ep->has_password);
}

TEST(redis_cluster_url, plain_redis_urls_are_not_cluster_urls) {
  auto ep = parse_redis_url("redis://127.0.0.1:6379/0");
  ASSERT_TRUE(ep.has_value());
  EXPECT_FALSE(ep->cluster);
  EXPECT_TRUE(ep->seeds.empty());
}

TEST(redis_cluster_url, a_database_other_than_0_is_refused_with_the_fix) {
  for (const char* url : {"redis+cluster://h:7000/1", "redis+cluster://h:7000?db=2"}) {
    auto ep = parse_redis_url(url);
    ASSERT_FALSE(ep.has_value()) << url;
    EXPECT_EQ(ep.error().code, errc::invalid_configuration);
    EXPECT_NE(ep.error().detail.find("only database 0"), std::string::npos) << ep.error().detail;
  }
}

TEST(redis_cluster_url, an_empty_seed_or_bad_port_is_refused) {
  for (const char* url : {"redis+cluster://", "redis+cluster://h:7000,,h2:7001",
                          "redis+cluster://h:7000,", "redis+cluster://h:notaport"}) {
    auto ep = parse_redis_url(url);
    ASSERT_FALSE(ep.has_value()) << url;
    EXPECT_EQ(ep.error().code, errc::invalid_configuration) << url;
  }
}

TEST(redis_cluster_url, tls_cluster_is_refused_for_now) {
  auto ep = parse_redis_url("rediss+cluster://h:7000");
  ASSERT_FALSE(ep.has_value());
  EXPECT_EQ(ep.error().code, errc::invalid_configuration);
  EXPECT_NE(ep.error().detail.find("rediss+cluster://"), std::string::npos);
}

TEST(redis_cluster_url, errors_never_repeat_the_password) {
  auto ep = parse_redis_url("redis+cluster://u:hunter2@h:7000/hunter2");
  ASSERT_FALSE(ep.has_value());
  EXPECT_EQ(ep.error().detail.find("hunter2"), std::string::npos) << ep.error().detail;
}

}  // namespace
}  // namespace cachekit::detail
