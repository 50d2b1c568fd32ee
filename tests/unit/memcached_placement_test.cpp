// Server placement of the memcached backend against pymemcache's HashClient, the client
// cachekit-py uses. Every expected value below was printed by pymemcache 4.0.0 itself:
//     /tmp/ckvenv/bin/python tests/unit/generate_memcached_placement_cases.py
#include "backends/memcached/rendezvous_hash.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cachekit::detail {
namespace {

struct murmur_case {
  std::string data;
  std::uint32_t seed;
  std::uint32_t expected;
};

TEST(memcached_placement, murmur3_32_matches_pymemcache) {
  const std::vector<murmur_case> cases = {
      {"", 0x00000000u, 0x00000000u},
      {"a", 0x00000000u, 0x3c2569b2u},
      {"ab", 0x00000000u, 0x9bbfd75fu},
      {"abc", 0x00000000u, 0xb3dd93fau},
      {"abcd", 0x00000000u, 0x43ed676au},
      {"abcde", 0x00000000u, 0xe89b9af6u},
      {"hello", 0x00000000u, 0x248bfa47u},
      {"hello", 0x00000001u, 0xbb4abcadu},
      {"127.0.0.1:11211-user:42", 0x00000000u, 0x16d8bf69u},
      {"The quick brown fox jumps over the lazy dog", 0x00000000u, 0x2e4ff723u},
      {"~~~~~~~", 0x9747b28cu, 0x1e558363u},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(murmur3_32(c.data, c.seed), c.expected) << '"' << c.data << '"';
  }
}

struct placement_case {
  std::string key;
  std::size_t server;
};

TEST(memcached_placement, three_servers_pick_what_pymemcache_hash_client_picks) {
  const std::vector<std::string> nodes = {"127.0.0.1:11211", "127.0.0.1:11212", "127.0.0.1:11213"};
  const std::vector<placement_case> cases = {
      {"user:42", 1},
      {"a", 2},
      {"func:app.users.get_user:args:"
       "3870b2ea5735ae639ded9450ef117768db676f037bec636503796c5b81095153:1s",
       0},
      {"myapp:ns:users:func:f:args:00:1s", 1},
      {"__cachekit_health__", 1},
      {"k0", 0},
      {"k1", 1},
      {"k2", 2},
      {"k3", 1},
      {"k4", 1},
      {"k5", 1},
      {"k6", 2},
      {"k7", 0},
      {"k8", 1},
      {"k9", 0},
      {"~", 2},
      {std::string(250, 'x'), 2},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(rendezvous_pick(nodes, c.key), c.server) << c.key;
  }
}

TEST(memcached_placement, two_servers_pick_what_pymemcache_picks) {
  const std::vector<std::string> nodes = {"10.0.0.1:11211", "10.0.0.2:11211"};
  const std::vector<placement_case> cases = {
      {"alpha", 0},   {"beta", 1}, {"gamma", 0}, {"delta", 0},
      {"epsilon", 1}, {"zeta", 0}, {"eta", 0},   {"theta", 0},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(rendezvous_pick(nodes, c.key), c.server) << c.key;
  }
}

TEST(memcached_placement, a_tie_goes_to_the_larger_node_name_in_either_order) {
  // murmur3_32("h22872:11211-tie") == murmur3_32("h180060:11211-tie") == 0x43c83315; pymemcache
  // keeps max(str(node), str(winner)), i.e. "h22872:11211", whichever comes first.
  ASSERT_EQ(murmur3_32("h22872:11211-tie"), 0x43c83315u);
  ASSERT_EQ(murmur3_32("h180060:11211-tie"), 0x43c83315u);
  const std::vector<std::string> forward = {"h22872:11211", "h180060:11211"};
  const std::vector<std::string> backward = {"h180060:11211", "h22872:11211"};
  EXPECT_EQ(rendezvous_pick(forward, "tie"), 0u);
  EXPECT_EQ(rendezvous_pick(backward, "tie"), 1u);
}

TEST(memcached_placement, a_single_server_takes_every_key) {
  const std::vector<std::string> nodes = {"127.0.0.1:11211"};
  EXPECT_EQ(rendezvous_pick(nodes, "anything"), 0u);
}

TEST(memcached_placement, long_node_names_hash_the_whole_text) {
  // Longer than the 512-byte stack buffer: the heap path must give the same score.
  const std::string long_host(600, 'h');
  const std::vector<std::string> nodes = {long_host + ":1", long_host + ":2"};
  const std::size_t pick = rendezvous_pick(nodes, "key");
  const std::uint32_t first = murmur3_32(nodes[0] + "-key");
  const std::uint32_t second = murmur3_32(nodes[1] + "-key");
  EXPECT_EQ(pick, second > first ? 1u : 0u);
}

}  // namespace
}  // namespace cachekit::detail
