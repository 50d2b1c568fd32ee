// `rediss+cluster://`: a Redis Cluster whose nodes speak only TLS (`--port 0`, `tls-cluster
// yes`), three masters on loopback with certificates made by the test. Every node is reached
// over TLS with its certificate verified, at the TLS port the cluster announces ("tls-port" in
// CLUSTER SHARDS: a TLS-only node lists no "port").
//
// The test's name has "cluster" in it, so ctest runs it in the integration.redis_cluster entry.
#include <cachekit/error.hpp>
#include <cachekit/redis_backend.hpp>

#include "backends/redis/cluster_slot.hpp"
#include "support/local_server.hpp"
#include "support/tls_certificates.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cachekit::testing {
namespace {

using namespace std::chrono_literals;

// A TLS-only cluster node whose bus port (its port + 10000) is a valid port too.
std::unique_ptr<local_server> start_tls_node(const tls_certificates& certs) {
  for (int attempt = 0;; ++attempt) {
    try {
      auto node = local_server::start_redis_tls(
          {.cert = certs.server_cert(), .key = certs.server_key(), .ca = certs.ca_cert()},
          {"--tls-cluster", "yes", "--tls-replication", "yes", "--cluster-enabled", "yes",
           "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000"});
      if (node->port() + 10000 <= 65535) return node;
    } catch (const std::runtime_error&) {
      if (attempt >= 20) throw;
    }
  }
}

std::string bytes_text(const byte_buffer& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

TEST(redis_cluster_tls, every_master_is_reached_over_verified_tls) {
  auto certs = tls_certificates::make();
  std::vector<std::unique_ptr<local_server>> nodes;
  for (int i = 0; i < 3; ++i) nodes.push_back(start_tls_node(*certs));
  std::string create =
      "redis-cli --tls --cacert " + certs->ca_cert().string() + " --cluster create";
  std::string seeds;
  for (const auto& n : nodes) {
    create += " 127.0.0.1:" + std::to_string(n->port());
    seeds += (seeds.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(n->port());
  }
  create += " --cluster-replicas 0 --cluster-yes > /dev/null 2>&1";
  ASSERT_EQ(std::system(create.c_str()), 0) << create;

  const std::string ca = "?ssl_ca_certs=" + certs->ca_cert().string();
  redis_backend redis(redis_options{.url = "rediss+cluster://" + seeds + ca,
                                    .connect_timeout = 1000ms,
                                    .command_timeout = 1000ms});
  // The nodes agree on the slots a moment after the create returns.
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (!redis.health().healthy) {
    ASSERT_LT(std::chrono::steady_clock::now(), until) << redis.health().details["error"];
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(redis.health().details["masters"], "3");

  constexpr int keys = 300;
  std::set<std::uint16_t> slots;
  for (int i = 0; i < keys; ++i) {
    const std::string key = "tls:" + std::to_string(i);
    slots.insert(detail::cluster_slot(key));
    ASSERT_TRUE(redis.set(key, as_byte_view("v" + std::to_string(i)), 60s));
  }
  ASSERT_GT(slots.size(), 250u);  // spread over the whole slot space, so over every master
  for (int i = 0; i < keys; ++i) {
    auto got = redis.get("tls:" + std::to_string(i));
    ASSERT_TRUE(got) << got.error().message();
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(bytes_text(**got), "v" + std::to_string(i));
  }
  const std::vector<std::string_view> some = {"tls:7", "tls:150", "absent", "tls:299"};
  auto many = redis.get_many(some);
  ASSERT_TRUE(many) << many.error().message();
  ASSERT_EQ(many->size(), 4u);
  EXPECT_EQ(bytes_text(*(*many)[0]), "v7");
  EXPECT_EQ(bytes_text(*(*many)[1]), "v150");
  EXPECT_FALSE((*many)[2].has_value());
  EXPECT_EQ(bytes_text(*(*many)[3]), "v299");
  EXPECT_EQ(redis.cluster_stats().masters, 3u);

  // A client that does not trust the nodes' CA is refused at the handshake, not served.
  redis_backend untrusting(redis_options{
      .url = "rediss+cluster://" + seeds + "?ssl_ca_certs=" + certs->other_ca_cert().string(),
      .connect_timeout = 1000ms,
      .command_timeout = 1000ms});
  auto refused = untrusting.get("tls:1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(errc::backend_authentication))
      << refused.error().message();
}

}  // namespace
}  // namespace cachekit::testing
