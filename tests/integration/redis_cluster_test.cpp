// redis_backend on a real Redis Cluster (support/redis_cluster_nodes: 3 masters, 3 replicas,
// one cluster per test binary): routing over every master, multi-key operations across nodes,
// the registry drain and erase_prefix, pub/sub, a slot migration under load (ASK and MOVED),
// a master killed and its replica promoted, and a forked child.
#include "support/forked_child.hpp"
#include "support/local_server.hpp"
#include "support/redis_cluster_nodes.hpp"

#include "backends/redis/cluster_slot.hpp"

#include <cachekit/redis_backend.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace cachekit::testing {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<redis_backend> make_backend(redis_key_layout layout = redis_key_layout::plain,
                                            std::size_t pool_size = 8) {
  redis_options options;
  options.url = shared_redis_cluster().url();
  options.pool_size = pool_size;
  options.connect_timeout = 500ms;
  options.command_timeout = 1000ms;
  options.key_layout = layout;
  return std::make_unique<redis_backend>(options);
}

std::string value_of(const std::optional<byte_buffer>& v) {
  return v ? std::string(as_string_view(*v)) : std::string("<miss>");
}

long long dbsize(int port) {
  return shared_redis_cluster().command(port, {"DBSIZE"})->integer;
}

class redis_cluster : public ::testing::Test {
 protected:
  void SetUp() override { shared_redis_cluster().flush_all(); }
};

TEST_F(redis_cluster, slots_agree_with_cluster_keyslot) {
  auto& cluster = shared_redis_cluster();
  for (const char* key : {"foo", "bar", "hello", "{user1000}.following", "t:default:k1", ""}) {
    const auto reply = cluster.command(cluster.ports()[0], {"CLUSTER", "KEYSLOT", key});
    EXPECT_EQ(reply->integer, detail::cluster_slot(key)) << key;
  }
}

TEST_F(redis_cluster, single_key_operations_reach_every_master) {
  auto backend = make_backend();
  constexpr int n = 600;
  for (int i = 0; i < n; ++i) {
    const std::string key = "k" + std::to_string(i);
    ASSERT_TRUE(backend->set(key, as_byte_view("v" + std::to_string(i)), 60s)) << key;
  }
  long long stored = 0;
  const auto masters = shared_redis_cluster().master_ports();
  ASSERT_EQ(masters.size(), 3u);
  for (const int port : masters) {
    const long long here = dbsize(port);
    EXPECT_GT(here, n / 6) << "master on port " << port << " holds too few of the keys";
    stored += here;
  }
  EXPECT_EQ(stored, n);
  for (int i = 0; i < n; ++i) {
    const std::string key = "k" + std::to_string(i);
    auto got = backend->get(key);
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(value_of(*got), "v" + std::to_string(i));
  }
  // The rest of the single-key operations, on keys of different masters.
  for (const std::string key : {"k1", "k2", "k3", "k4"}) {
    auto ttl = backend->ttl(key);
    ASSERT_TRUE(ttl);
    EXPECT_TRUE(ttl->exists);
    ASSERT_TRUE(ttl->ttl.has_value());
    EXPECT_LE(ttl->ttl->count(), 60);
    auto timed = backend->get_with_ttl(key);
    ASSERT_TRUE(timed && timed->has_value());
    EXPECT_EQ(as_string_view((*timed)->value), "v" + key.substr(1));
    auto touched = backend->touch(key, std::nullopt);  // PERSIST + EXISTS, one slot
    ASSERT_TRUE(touched);
    EXPECT_TRUE(*touched);
    auto persisted = backend->ttl(key);
    ASSERT_TRUE(persisted);
    EXPECT_FALSE(persisted->ttl.has_value());
    auto added = backend->set_if_absent(key, as_byte_view("other"), 60s);
    ASSERT_TRUE(added);
    EXPECT_FALSE(*added);
    auto existed = backend->exists(key);
    ASSERT_TRUE(existed);
    EXPECT_TRUE(*existed);
    auto erased = backend->erase(key);
    ASSERT_TRUE(erased);
    EXPECT_TRUE(*erased);
    auto gone = backend->get(key);
    ASSERT_TRUE(gone);
    EXPECT_FALSE(gone->has_value());
  }
  const auto stats = backend->cluster_stats();
  EXPECT_EQ(stats.masters, 3u);
  EXPECT_GE(stats.refreshes, 1u);
  EXPECT_EQ(stats.moved, 0u);
  EXPECT_EQ(stats.ask, 0u);
}

TEST_F(redis_cluster, get_many_answers_in_input_order_across_nodes) {
  auto backend = make_backend(redis_key_layout::tenant_scoped);
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) keys.push_back("m" + std::to_string(i));
  for (std::size_t i = 0; i < keys.size(); i += 2) {  // every other key stored
    ASSERT_TRUE(backend->set(keys[i], as_byte_view("value-" + keys[i]), 60s));
  }
  std::vector<std::string_view> asked(keys.rbegin(), keys.rend());  // reversed order
  asked.push_back(asked.front());                                   // and one key twice
  auto got = backend->get_many(asked);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->size(), asked.size());
  std::set<int> ports_holding;
  for (std::size_t i = 0; i < asked.size(); ++i) {
    const int index = std::stoi(std::string(asked[i].substr(1)));
    if (index % 2 == 0) {
      EXPECT_EQ(value_of((*got)[i]), "value-" + std::string(asked[i])) << i;
    } else {
      EXPECT_FALSE((*got)[i].has_value()) << i;
    }
    ports_holding.insert(shared_redis_cluster().port_of_slot(
        detail::cluster_slot("t:default:" + std::string(asked[i]))));
  }
  EXPECT_EQ(ports_holding.size(), 3u);
  auto none = backend->get_many({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(redis_cluster, erase_prefix_deletes_on_every_master_and_keeps_the_rest) {
  auto backend = make_backend();
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(backend->set("doomed:" + std::to_string(i), as_byte_view("x"), 60s));
    ASSERT_TRUE(backend->set("kept:" + std::to_string(i), as_byte_view("y"), 60s));
  }
  auto lock = backend->try_lock("doomed:0", 5s);  // a fill lock is not an entry
  ASSERT_TRUE(lock && lock->has_value());
  auto removed = backend->erase_prefix("doomed:");
  ASSERT_TRUE(removed) << removed.error().message();
  EXPECT_EQ(*removed, 500u);
  for (int i = 0; i < 500; i += 50) {
    auto doomed = backend->exists("doomed:" + std::to_string(i));
    ASSERT_TRUE(doomed);
    EXPECT_FALSE(*doomed);
    auto kept = backend->exists("kept:" + std::to_string(i));
    ASSERT_TRUE(kept);
    EXPECT_TRUE(*kept);
  }
  auto released = backend->release_lock(**lock);
  ASSERT_TRUE(released);
  EXPECT_TRUE(*released);
}

TEST_F(redis_cluster, registry_drain_unlinks_tracked_keys_on_every_node) {
  auto backend = make_backend(redis_key_layout::tenant_scoped);
  ASSERT_TRUE(backend->keeps_key_registry());
  constexpr int n = 1500;
  for (int i = 0; i < n; ++i) {
    auto tracked = backend->set_tracked("e" + std::to_string(i), as_byte_view("v"), 60s, "reg");
    ASSERT_TRUE(tracked) << tracked.error().message();
    EXPECT_TRUE(*tracked);
  }
  ASSERT_TRUE(backend->set("untracked", as_byte_view("v"), 60s));
  auto& cluster = shared_redis_cluster();
  const int registry_port = cluster.port_of_slot(detail::cluster_slot("t:default:reg"));
  EXPECT_EQ(cluster.command(registry_port, {"SCARD", "t:default:reg"})->integer, n);
  const auto registry_ttl = cluster.command(registry_port, {"TTL", "t:default:reg"})->integer;
  EXPECT_GT(registry_ttl, 604000);
  auto drained = backend->drain_registry("reg");
  ASSERT_TRUE(drained) << drained.error().message();
  EXPECT_EQ(*drained, static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto left = backend->exists("e" + std::to_string(i));
    ASSERT_TRUE(left);
    EXPECT_FALSE(*left) << i;
  }
  EXPECT_EQ(cluster.command(registry_port, {"EXISTS", "t:default:reg"})->integer, 0);
  auto untracked = backend->exists("untracked");
  ASSERT_TRUE(untracked);
  EXPECT_TRUE(*untracked);
  // A member that names a key outside the prefix reaches only `{prefix}{member}`.
  ASSERT_TRUE(backend->set("t:default:x", as_byte_view("v"), 60s));  // wire t:default:t:default:x
  (void)cluster.command(registry_port, {"SADD", "t:default:reg", "x"});
  (void)cluster.command(cluster.port_of_slot(detail::cluster_slot("x")), {"SET", "x", "outside"});
  auto again = backend->drain_registry("reg");
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 1u);
  EXPECT_EQ(value_of(*make_backend()->get("x")), "outside");
}

TEST_F(redis_cluster, published_invalidations_reach_a_subscriber_on_another_node) {
  auto listener = make_backend();
  auto sub = listener->subscribe({.channels = {"cachekit:invalidation"}});
  ASSERT_TRUE(sub) << sub.error().message();
  auto publisher = make_backend();
  auto sent = publisher->publish("cachekit:invalidation", as_byte_view("drop k1"));
  ASSERT_TRUE(sent) << sent.error().message();
  auto message = (*sub)->next(3s);
  ASSERT_TRUE(message) << message.error().message();
  ASSERT_TRUE(message->has_value());
  EXPECT_EQ((*message)->channel, "cachekit:invalidation");
  EXPECT_EQ(as_string_view((*message)->payload), "drop k1");

  auto tracking = listener->subscribe({.channels = {"c"}, .track_keys = true});
  ASSERT_FALSE(tracking);
  EXPECT_EQ(tracking.error().code, errc::not_supported);
  EXPECT_NE(tracking.error().detail.find("track_keys"), std::string::npos);
}

TEST_F(redis_cluster, health_pings_every_master_and_reports_the_cluster_state) {
  auto backend = make_backend();
  const auto health = backend->health();
  EXPECT_TRUE(health.healthy) << (health.details.contains("error") ? health.details.at("error")
                                                                   : std::string());
  EXPECT_EQ(health.backend_type, "redis");
  EXPECT_EQ(health.details.at("cluster_state"), "ok");
  EXPECT_EQ(health.details.at("masters"), "3");
  EXPECT_EQ(health.details.at("version").substr(0, 2), "7.");
  EXPECT_GE(health.latency.count(), 0);
}

TEST_F(redis_cluster, unreachable_seeds_fail_transient_and_name_the_node_tried) {
  redis_options options;
  options.url = "redis+cluster://127.0.0.1:" + std::to_string(find_free_port()) +
                ",127.0.0.1:" + std::to_string(find_free_port());
  options.connect_timeout = 200ms;
  redis_backend backend(options);
  auto got = backend.get("k");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, errc::transient);
  EXPECT_NE(got.error().detail.find("redis GET on 127.0.0.1:"), std::string::npos)
      << got.error().detail;
  EXPECT_EQ(backend.cluster_stats().refreshes, 0u);
}

TEST(redis_cluster_single_node, cluster_stats_are_zero_for_a_single_server) {
  auto server = local_server::start_redis();
  redis_backend backend({.url = server->address()});
  ASSERT_TRUE(backend.set("k", as_byte_view("v"), 60s));
  const auto stats = backend.cluster_stats();
  EXPECT_EQ(stats.moved + stats.ask + stats.refreshes + stats.retries, 0u);
  EXPECT_EQ(stats.masters, 0u);
}

TEST_F(redis_cluster, a_forked_child_uses_the_cluster_with_its_own_connections) {
  auto backend = make_backend();
  ASSERT_TRUE(backend->set("parent", as_byte_view("p"), 60s));
  forked_child child([&](int fd) {
    for (int i = 0; i < 50; ++i) {
      const std::string key = "child" + std::to_string(i);
      if (!backend->set(key, as_byte_view("c"), 60s)) return 1;
    }
    auto got = backend->get("parent");
    if (!got || value_of(*got) != "p") return 2;
    const std::string ok = "ok";
    return write_all(fd, ok.data(), ok.size()) ? 0 : 3;
  });
  // The parent keeps using its own connections meanwhile.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(backend->get("parent"));
  const auto outcome = child.finish(10s);
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.output, "ok");
  auto from_child = backend->get("child49");
  ASSERT_TRUE(from_child);
  EXPECT_EQ(value_of(*from_child), "c");
}

// Threads write and read keys whose value never changes ("v-<i>"): any other answer, a miss
// included, is a wrong value.
struct known_value_load {
  std::atomic<bool> stop{false};
  std::atomic<long> wrong{0};
  std::atomic<long> failed{0};
  std::atomic<long> done{0};
  std::vector<std::thread> threads;

  static std::string key(const std::string& tag, int i) { return tag + std::to_string(i); }
  static std::string value(int i) { return "v-" + std::to_string(i); }

  void start(redis_backend& backend, const std::string& tag, int keys, int thread_count) {
    for (int t = 0; t < thread_count; ++t) {
      threads.emplace_back([&, tag, keys, t] {
        std::mt19937 random(static_cast<unsigned>(t) + 1);
        while (!stop.load()) {
          const int i = static_cast<int>(random() % static_cast<unsigned>(keys));
          const auto op = random() % 4;
          if (op == 0) {
            if (!backend.set(key(tag, i), as_byte_view(value(i)), 300s)) ++failed;
          } else if (op == 1) {
            const int j = (i + 1) % keys;
            const std::string a = key(tag, i), b = key(tag, j);
            const std::array<std::string_view, 2> both = {a, b};
            auto got = backend.get_many(both);
            if (!got) {
              ++failed;
            } else if (value_of((*got)[0]) != value(i) || value_of((*got)[1]) != value(j)) {
              ++wrong;
            }
          } else {
            auto got = backend.get(key(tag, i));
            if (!got) {
              ++failed;
            } else if (value_of(*got) != value(i)) {
              ++wrong;
            }
          }
          ++done;
        }
      });
    }
  }
  void finish() {
    stop = true;
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
  }
  // A failed ASSERT returns early: the threads still stop before the backend goes.
  ~known_value_load() { finish(); }
};

TEST_F(redis_cluster, a_slot_migrating_under_load_returns_no_wrong_values) {
  auto& cluster = shared_redis_cluster();
  auto backend = make_backend();
  // Every key in one slot (hash tag), so the migration moves all of them.
  const std::string tag = "{migrating}:";
  const auto slot = detail::cluster_slot(tag);
  constexpr int keys = 200;
  for (int i = 0; i < keys; ++i) {
    ASSERT_TRUE(backend->set(known_value_load::key(tag, i),
                             as_byte_view(known_value_load::value(i)), 300s));
  }
  const int source = cluster.port_of_slot(slot);
  int target = 0;
  for (const int port : cluster.master_ports()) {
    if (port != source) target = port;
  }
  const std::string source_id = cluster.node_id(source);
  const std::string target_id = cluster.node_id(target);
  const std::string slot_text = std::to_string(slot);

  known_value_load load;
  load.start(*backend, tag, keys, 4);
  std::this_thread::sleep_for(100ms);
  (void)cluster.command(target, {"CLUSTER", "SETSLOT", slot_text, "IMPORTING", source_id});
  (void)cluster.command(source, {"CLUSTER", "SETSLOT", slot_text, "MIGRATING", target_id});
  // A few keys at a time, slowly, so the load meets the slot half moved (ASK).
  for (;;) {
    const auto batch = cluster.command(source, {"CLUSTER", "GETKEYSINSLOT", slot_text, "10"});
    if (batch->elements == 0) break;
    std::vector<std::string> migrate = {"MIGRATE", "127.0.0.1", std::to_string(target), "", "0",
                                        "5000",    "KEYS"};
    for (std::size_t i = 0; i < batch->elements; ++i) {
      migrate.emplace_back(batch->element[i]->str, batch->element[i]->len);
    }
    (void)cluster.command(source, migrate);
    std::this_thread::sleep_for(30ms);
  }
  // The new owner first, then the old one, then the rest (the order redis-cli uses).
  (void)cluster.command(target, {"CLUSTER", "SETSLOT", slot_text, "NODE", target_id});
  (void)cluster.command(source, {"CLUSTER", "SETSLOT", slot_text, "NODE", target_id});
  for (const int port : cluster.master_ports()) {
    if (port != source && port != target) {
      (void)cluster.command(port, {"CLUSTER", "SETSLOT", slot_text, "NODE", target_id});
    }
  }
  std::this_thread::sleep_for(300ms);
  load.finish();
  cluster.wait_until_ok();

  const auto stats = backend->cluster_stats();
  std::printf(
      "[ figures ] migration of slot %u under load: %ld ops, %ld wrong, %ld failed; "
      "ask %llu, moved %llu, retries %llu, refreshes %llu\n",
      static_cast<unsigned>(slot), load.done.load(), load.wrong.load(), load.failed.load(),
      static_cast<unsigned long long>(stats.ask), static_cast<unsigned long long>(stats.moved),
      static_cast<unsigned long long>(stats.retries),
      static_cast<unsigned long long>(stats.refreshes));
  EXPECT_EQ(load.wrong.load(), 0);
  EXPECT_EQ(load.failed.load(), 0);
  EXPECT_GT(stats.ask, 0u);
  EXPECT_GT(stats.moved, 0u);
  EXPECT_EQ(cluster.port_of_slot(slot), target);
  for (int i = 0; i < keys; ++i) {
    auto got = backend->get(known_value_load::key(tag, i));
    ASSERT_TRUE(got);
    EXPECT_EQ(value_of(*got), known_value_load::value(i));
  }
}

TEST_F(redis_cluster, a_killed_master_is_replaced_by_its_replica_without_wrong_values) {
  auto& cluster = shared_redis_cluster();
  auto backend = make_backend();
  const std::string tag = "failover:";
  constexpr int keys = 300;
  for (int i = 0; i < keys; ++i) {
    ASSERT_TRUE(backend->set(known_value_load::key(tag, i),
                             as_byte_view(known_value_load::value(i)), 300s));
  }
  const std::string probe = known_value_load::key(tag, 0);
  const int victim = cluster.port_of_slot(detail::cluster_slot(probe));
  std::this_thread::sleep_for(500ms);  // the replicas have the keys (asynchronous replication)

  known_value_load load;
  load.start(*backend, tag, keys, 4);
  std::this_thread::sleep_for(100ms);
  const auto killed_at = std::chrono::steady_clock::now();
  cluster.kill(victim);
  // Until an operation on the victim's slots succeeds again.
  std::chrono::steady_clock::duration back_after{};
  long probe_failures = 0;
  for (;;) {
    auto got = backend->get(probe);
    if (got) {
      EXPECT_EQ(value_of(*got), known_value_load::value(0));
      back_after = std::chrono::steady_clock::now() - killed_at;
      break;
    }
    ++probe_failures;
    ASSERT_LT(std::chrono::steady_clock::now() - killed_at, 30s)
        << "the slot did not come back: " << got.error().message();
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(500ms);
  load.finish();
  const auto stats = backend->cluster_stats();
  std::printf(
      "[ figures ] failover: slot back after %lld ms; load %ld ops, %ld wrong, %ld failed "
      "calls; probe failures %ld; moved %llu, refreshes %llu, retries %llu\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(back_after).count()),
      load.done.load(), load.wrong.load(), load.failed.load(), probe_failures,
      static_cast<unsigned long long>(stats.moved),
      static_cast<unsigned long long>(stats.refreshes),
      static_cast<unsigned long long>(stats.retries));
  EXPECT_EQ(load.wrong.load(), 0);
  EXPECT_NE(cluster.port_of_slot(detail::cluster_slot(probe)), victim);
  for (int i = 0; i < keys; ++i) {
    auto got = backend->get(known_value_load::key(tag, i));
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(value_of(*got), known_value_load::value(i));
  }
  // Back to six nodes (the old master rejoins as a replica) for the tests after this one.
  cluster.restart(victim);
}

}  // namespace
}  // namespace cachekit::testing
