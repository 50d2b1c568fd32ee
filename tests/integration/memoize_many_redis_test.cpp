// Batch calls against a real Redis: memoized::many and cache::get_many / set_many pay one
// get_many_with_ttl and one set_many per batch (counted at the backend seam by a wrapper, and
// on the server by INFO commandstats: one GET and one PTTL per key, one SET per miss, one SADD
// per batch; on a cluster, per master), tracked writes land in cachekit-py's key registry format
// (tenant-scoped layout), with encryption and in interop mode.
#include <cachekit/backend_wrapper.hpp>
#include <cachekit/cache.hpp>
#include <cachekit/redis_backend.hpp>

#include "backends/redis/cluster_slot.hpp"
#include "coherence/invalidation_event.hpp"
#include "support/local_server.hpp"
#include "support/raw_redis.hpp"
#include "support/redis_cluster_nodes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::local_server;
using testing::raw_redis;

constexpr std::string_view secure_key =
    "a8f06af41a1f4ccb936082fdbe129b93fd8d9b7db027d9f3ea40c3b5e5480416";

// Counts the operations that reach the backend (each is one round trip on Redis).
class counting_backend final : public backend_wrapper {
 public:
  using backend_wrapper::backend_wrapper;
  std::atomic<int> reads{0};         // get, get_with_ttl
  std::atomic<int> writes{0};        // set, set_tracked
  std::atomic<int> batch_reads{0};   // get_many_with_ttl
  std::atomic<int> batch_writes{0};  // set_many

  result<std::optional<byte_buffer>> get(std::string_view key) override {
    ++reads;
    return backend_wrapper::get(key);
  }
  result<std::optional<timed_value>> get_with_ttl(std::string_view key) override {
    ++reads;
    return backend_wrapper::get_with_ttl(key);
  }
  result<void> set(std::string_view key, byte_view value, ttl_seconds ttl) override {
    ++writes;
    return backend_wrapper::set(key, value, ttl);
  }
  result<bool> set_tracked(std::string_view key, byte_view value, ttl_seconds ttl,
                           std::string_view registry) override {
    ++writes;
    return backend_wrapper::set_tracked(key, value, ttl, registry);
  }
  result<std::vector<std::optional<timed_value>>> get_many_with_ttl(
      std::span<const std::string_view> keys) override {
    ++batch_reads;
    return backend_wrapper::get_many_with_ttl(keys);
  }
  result<void> set_many(std::span<const write_request> requests) override {
    ++batch_writes;
    return backend_wrapper::set_many(requests);
  }
};

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  for (auto n = from; n < to; ++n) out.push_back(n);
  return out;
}

class memoize_many_redis_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = local_server::start_redis().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    raw().integer({"FLUSHALL"});
    raw().command({"CONFIG", "RESETSTAT"});
  }
  static raw_redis& raw() {
    static raw_redis client(server_->port());
    return client;
  }
  cache make_cache(redis_key_layout layout, bool l1, bool encrypted = false) {
    counter = std::make_shared<counting_backend>(std::make_shared<redis_backend>(
        redis_options{.url = server_->address(), .key_layout = layout}));
    cache_options options = cache_options::for_intent(intent::production);
    options.l2 = counter;
    options.l1_enabled = l1;
    options.swr.enabled = false;
    options.fill_lock = std::nullopt;
    if (encrypted) {
      options.encryption = encryption_options{.keys = keyring::from_hex(secure_key).value()};
    }
    return cache(std::move(options));
  }

  static local_server* server_;
  std::shared_ptr<counting_backend> counter;
  std::atomic<int> calls{0};
};

local_server* memoize_many_redis_test::server_ = nullptr;

TEST_F(memoize_many_redis_test, a_batch_is_one_pipelined_read_and_one_write_with_its_registry) {
  cache c = make_cache(redis_key_layout::tenant_scoped, false);
  auto twice = c.memoize("app.batch.twice",
                         [this](std::int64_t n) {
                           ++calls;
                           return n * 2;
                         },
                         {.ttl = 60s, .ns = "batch"});
  for (std::int64_t n = 0; n < 45; ++n) ASSERT_EQ(twice(n), n * 2);  // 90 % of the batch stored
  counter->reads = 0;
  counter->writes = 0;
  raw().command({"CONFIG", "RESETSTAT"});
  calls = 0;

  const auto results = twice.many(range(0, 50));
  EXPECT_EQ(counter->batch_reads, 1);
  EXPECT_EQ(counter->batch_writes, 1);
  EXPECT_EQ(counter->reads, 0);
  EXPECT_EQ(counter->writes, 0);
  EXPECT_EQ(calls, 5);
  for (std::int64_t n = 0; n < 50; ++n) {
    ASSERT_EQ(results[n].value(), n * 2);
    EXPECT_EQ(results[n].source(), n < 45 ? call_source::l2 : call_source::function);
  }
  auto stats = raw().command_calls();
  EXPECT_EQ(stats["get"], 50);
  EXPECT_EQ(stats["pttl"], 50);
  EXPECT_EQ(stats["set"], 5);
  EXPECT_EQ(stats["sadd"], 1);
  EXPECT_EQ(stats["expire"], 1);

  // cachekit-py's registry: every key written, raw (the drain adds the tenant prefix), 7 days.
  const std::string set = "t:default:" + detail::registry_id("app.batch.twice", "batch");
  auto members = raw().strings({"SMEMBERS", set});
  std::sort(members.begin(), members.end());
  std::vector<std::string> expected;
  for (std::int64_t n = 0; n < 50; ++n) expected.push_back(*twice.key(n));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(members, expected);
  EXPECT_GT(raw().integer({"TTL", set}), 604000);
  // The entries carry the function's TTL.
  const long long ttl = raw().integer({"TTL", *twice.stored_key(47)});
  EXPECT_GT(ttl, 55);
  EXPECT_LE(ttl, 60);
  // And invalidate_all drains what the batch recorded.
  EXPECT_TRUE(twice.invalidate_all());
  EXPECT_EQ(raw().integer({"DBSIZE"}), 0);
}

TEST_F(memoize_many_redis_test, the_plain_layout_writes_no_registry) {
  cache c = make_cache(redis_key_layout::plain, true);
  auto twice = c.memoize("app.batch.plain", [](std::int64_t n) { return n * 2; });
  const auto results = twice.many(range(0, 10));
  for (std::int64_t n = 0; n < 10; ++n) EXPECT_EQ(results[n].value(), n * 2);
  auto stats = raw().command_calls();
  EXPECT_EQ(stats["set"], 10);
  EXPECT_EQ(stats.count("sadd"), 0u);
  EXPECT_EQ(raw().integer({"DBSIZE"}), 10);
  // With L1 on, the next batch is served by L1 alone.
  const auto reads = counter->batch_reads.load();
  for (const auto& r : twice.many(range(0, 10))) EXPECT_EQ(r.source(), call_source::l1);
  EXPECT_EQ(counter->batch_reads, reads);
}

TEST_F(memoize_many_redis_test, encrypted_tenant_scoped_batches_are_read_by_single_calls) {
  cache c = make_cache(redis_key_layout::tenant_scoped, false, true);
  auto greet = c.memoize("app.batch.greet", [this](std::int64_t id, const std::string& lang) {
    ++calls;
    return lang + "-" + std::to_string(id);
  });
  using args = std::tuple<std::int64_t, std::string>;
  const std::vector<args> batch = {{1, "en"}, {2, "fr"}, {3, "de"}};
  const auto results = greet.many(batch);
  EXPECT_EQ(results[2].value(), "de-3");
  const std::string stored = raw().command({"GET", *greet.stored_key(2, "fr")});
  ASSERT_FALSE(stored.empty());
  EXPECT_EQ(stored.find("fr-2"), std::string::npos);  // sealed
  calls = 0;
  EXPECT_EQ(greet(2, "fr"), "fr-2");  // the AAD binds the tenant-prefixed key: it opens
  for (const auto& r : greet.many(batch)) EXPECT_EQ(r.source(), call_source::l2);
  EXPECT_EQ(calls, 0);
}

TEST_F(memoize_many_redis_test, interop_batches_share_entries_with_single_calls) {
  cache c = make_cache(redis_key_layout::plain, false);
  auto f = c.memoize_interop("users", "get", [this](std::int64_t id) {
    ++calls;
    return id + 100;
  });
  EXPECT_EQ(f(2), 102);
  calls = 0;
  const auto results = f.many(range(1, 4));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(results[1].source(), call_source::l2);
  EXPECT_EQ(results[2].value(), 103);
  EXPECT_EQ(f(3), 103);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(counter->batch_reads, 1);
}

TEST_F(memoize_many_redis_test, typed_get_many_and_set_many_are_one_round_trip_each) {
  cache c = make_cache(redis_key_layout::tenant_scoped, true);
  const std::vector<std::pair<std::string_view, std::string>> items = {
      {"a", "alpha"}, {"b", "beta"}, {"c", "gamma"}};
  ASSERT_TRUE(c.set_many<std::string>(items, {.ttl = 30s, .ns = "typed"}));
  EXPECT_EQ(counter->batch_writes, 1);
  EXPECT_EQ(counter->writes, 0);
  EXPECT_EQ(raw().command({"GET", "t:default:ns:typed:zzz"}), "(nil)");
  EXPECT_EQ(raw().integer({"EXISTS", "t:default:ns:typed:b"}), 1);

  // L1 holds them: no round trip.
  const std::vector<std::string_view> keys = {"c", "missing", "a"};
  auto values = c.get_many<std::string>(keys, {.ns = "typed"});
  ASSERT_TRUE(values) << values.error().message();
  EXPECT_EQ(*values, (std::vector<std::optional<std::string>>{"gamma", std::nullopt, "alpha"}));
  EXPECT_EQ(counter->batch_reads, 1);  // "missing" was not in L1

  // Another process (a fresh cache) reads them from L2 in one round trip.
  cache other = make_cache(redis_key_layout::tenant_scoped, true);
  auto read = other.get_many<std::string>(keys, {.ns = "typed"});
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, *values);
  EXPECT_EQ(counter->batch_reads, 1);
  EXPECT_EQ(counter->reads, 0);
}

// On a Redis Cluster (one ctest entry with the other *cluster* suites): one batch read and one
// batch write at the seam, each a pipeline per master; every key's GET and PTTL on its own
// master, the registry's SADD once on the registry's master.
TEST(memoize_many_redis_cluster, a_batch_reads_and_writes_each_master_in_one_pipeline) {
  auto& cluster = testing::shared_redis_cluster();
  cluster.flush_all();
  const auto masters = cluster.master_ports();
  for (int port : masters) (void)cluster.command(port, {"CONFIG", "RESETSTAT"});
  auto counter = std::make_shared<counting_backend>(std::make_shared<redis_backend>(
      redis_options{.url = cluster.url(), .key_layout = redis_key_layout::tenant_scoped}));
  cache_options options = cache_options::for_intent(intent::production);
  options.l2 = counter;
  options.l1_enabled = false;
  options.swr.enabled = false;
  options.fill_lock = std::nullopt;
  cache c(std::move(options));
  auto twice = c.memoize("app.batch.cluster", [](std::int64_t n) { return n * 2; }, {.ttl = 60s});
  const auto results = twice.many(range(0, 60));
  for (std::int64_t n = 0; n < 60; ++n) ASSERT_EQ(results[n].value(), n * 2);
  EXPECT_EQ(counter->batch_reads, 1);
  EXPECT_EQ(counter->batch_writes, 1);
  EXPECT_EQ(counter->reads + counter->writes, 0);

  // GETs per master: exactly the keys whose slots it serves.
  std::map<int, long long> expected_gets;
  for (std::int64_t n = 0; n < 60; ++n) {
    ++expected_gets[cluster.port_of_slot(detail::cluster_slot(*twice.stored_key(n)))];
  }
  const std::string registry =
      "t:default:" + detail::registry_id("app.batch.cluster", std::nullopt);
  const int registry_port = cluster.port_of_slot(detail::cluster_slot(registry));
  for (int port : masters) {
    const auto info = cluster.command(port, {"INFO", "commandstats"});
    const std::string text(info->str, info->len);
    const auto calls = [&](const std::string& command) -> long long {
      const auto at = text.find("cmdstat_" + command + ":calls=");
      if (at == std::string::npos) return 0;
      return std::stoll(text.substr(at + command.size() + 15));
    };
    EXPECT_EQ(calls("get"), expected_gets[port]) << port;
    EXPECT_EQ(calls("set"), expected_gets[port]) << port;
    EXPECT_EQ(calls("sadd"), port == registry_port ? 1 : 0) << port;
  }
  EXPECT_EQ(cluster.command(registry_port, {"SCARD", registry})->integer, 60);
  // A second batch: all L2 hits, one read.
  for (const auto& r : twice.many(range(0, 60))) EXPECT_EQ(r.source(), call_source::l2);
  EXPECT_EQ(counter->batch_reads, 2);
  EXPECT_EQ(counter->batch_writes, 1);
}

}  // namespace
}  // namespace cachekit
