#include "support/local_server.hpp"

#include <gtest/gtest.h>

namespace cachekit::testing {
namespace {

TEST(local_server, redis_and_memcached_start_on_distinct_free_ports) {
  auto redis = local_server::start_redis();
  auto memcached = local_server::start_memcached();
  EXPECT_NE(redis->port(), memcached->port());
  EXPECT_EQ(redis->address(), "redis://127.0.0.1:" + std::to_string(redis->port()) + "/0");
  EXPECT_EQ(memcached->address(), "127.0.0.1:" + std::to_string(memcached->port()));
}

TEST(local_server, restart_keeps_the_port) {
  auto redis = local_server::start_redis();
  const int port = redis->port();
  redis->restart();
  EXPECT_EQ(redis->port(), port);
}

}  // namespace
}  // namespace cachekit::testing
