// redis_backend against real redis-server processes started on free loopback ports: exact
// results of every operation, both key layouts byte for byte, AUTH and ACL users, database
// selection, and the faults a pool must survive (server down, killed and restarted, paused).
#include "support/local_server.hpp"

#include <cachekit/redis_backend.hpp>

#include "support/raw_redis.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::local_server;
using testing::raw_redis;

byte_buffer bytes_of(std::string_view text) {
  return to_byte_buffer(text);
}

std::string url_for(const local_server& server, int db = 0) {
  return "redis://127.0.0.1:" + std::to_string(server.port()) + "/" + std::to_string(db);
}

class redis_backend_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = local_server::start_redis().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // Each test works under its own key prefix of the shared server.
  std::string key(std::string_view suffix) const {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string(info->name()) + ":" + std::string(suffix);
  }

  static local_server* server_;
};
local_server* redis_backend_test::server_ = nullptr;

TEST_F(redis_backend_test, set_get_exists_erase_give_exact_results) {
  redis_backend redis({.url = url_for(*server_)});
  const auto k = key("k");
  ASSERT_TRUE(redis.set(k, as_byte_view("value-1"), std::nullopt));
  EXPECT_EQ(redis.get(k).value(), bytes_of("value-1"));
  EXPECT_TRUE(redis.exists(k).value());
  ASSERT_TRUE(redis.set(k, as_byte_view("value-2"), 60s));  // replaces
  EXPECT_EQ(redis.get(k).value(), bytes_of("value-2"));
  EXPECT_TRUE(redis.erase(k).value());
  EXPECT_FALSE(redis.erase(k).value());
  EXPECT_FALSE(redis.exists(k).value());
  EXPECT_EQ(redis.get(k).value(), std::nullopt);
  EXPECT_EQ(redis.type(), "redis");
}

TEST_F(redis_backend_test, a_subscription_outlives_the_backend_that_opened_it) {
  std::unique_ptr<backend_subscription> sub;
  {
    redis_backend b({.url = url_for(*server_)});
    auto opened = b.subscribe({.channels = {key("channel")}});
    ASSERT_TRUE(opened) << opened.error().message();
    sub = std::move(*opened);
  }  // the backend, its pool and the settings it owned are gone
  raw_redis raw(server_->port());
  EXPECT_EQ(raw.command({"PUBLISH", key("channel"), "hello"}), "1");
  auto got = sub->next(std::chrono::seconds{5});
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(std::string(as_string_view((*got)->payload)), "hello");
}

TEST_F(redis_backend_test, binary_values_with_nuls_and_empty_values_round_trip) {
  redis_backend redis({.url = url_for(*server_)});
  byte_buffer all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<std::byte>(i));
  for (int i = 0; i < 256; ++i) all_bytes.push_back(std::byte{0});
  ASSERT_TRUE(redis.set(key("bin"), all_bytes, std::nullopt));
  EXPECT_EQ(redis.get(key("bin")).value(), all_bytes);

  ASSERT_TRUE(redis.set(key("empty"), byte_view{}, std::nullopt));
  auto empty = redis.get(key("empty")).value();
  ASSERT_TRUE(empty.has_value());  // an empty value is a hit, not a miss
  EXPECT_TRUE(empty->empty());

  // A key with a NUL and a space in it reaches Redis intact.
  const std::string odd_key = key(std::string("a\0b c", 5));
  ASSERT_TRUE(redis.set(odd_key, as_byte_view("x"), std::nullopt));
  raw_redis raw(server_->port());
  EXPECT_EQ(raw.command({"GET", odd_key}), "x");
}

TEST_F(redis_backend_test, one_mib_value_round_trips) {
  redis_backend redis({.url = url_for(*server_)});
  byte_buffer big(1 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 131 % 251);
  ASSERT_TRUE(redis.set(key("big"), big, 60s));
  EXPECT_EQ(redis.get(key("big")).value(), big);
}

TEST_F(redis_backend_test, ttl_reports_missing_no_expiry_and_seconds_left) {
  redis_backend redis({.url = url_for(*server_)});
  EXPECT_FALSE(redis.ttl(key("missing")).value().exists);

  ASSERT_TRUE(redis.set(key("forever"), as_byte_view("v"), std::nullopt));
  auto forever = redis.ttl(key("forever")).value();
  EXPECT_TRUE(forever.exists);
  EXPECT_EQ(forever.ttl, std::nullopt);

  ASSERT_TRUE(redis.set(key("100s"), as_byte_view("v"), 100s));
  auto left = redis.ttl(key("100s")).value();
  EXPECT_TRUE(left.exists);
  ASSERT_TRUE(left.ttl.has_value());
  EXPECT_GE(*left.ttl, 99s);
  EXPECT_LE(*left.ttl, 100s);
}

TEST_F(redis_backend_test, ttl_of_zero_or_less_deletes_the_key) {
  // backend.hpp: already expired. (cachekit-py would SET without expiry.)
  redis_backend redis({.url = url_for(*server_)});
  raw_redis raw(server_->port());
  ASSERT_TRUE(redis.set(key("zero"), as_byte_view("old"), std::nullopt));
  ASSERT_TRUE(redis.set(key("zero"), as_byte_view("v"), 0s));
  ASSERT_TRUE(redis.set(key("negative"), as_byte_view("v"), -5s));
  EXPECT_EQ(raw.command({"EXISTS", key("zero")}), "0");
  EXPECT_EQ(raw.command({"EXISTS", key("negative")}), "0");
}

TEST_F(redis_backend_test, touch_sets_or_removes_the_expiry_and_reports_existence) {
  redis_backend redis({.url = url_for(*server_)});
  raw_redis raw(server_->port());
  EXPECT_FALSE(redis.touch(key("missing"), 50s).value());
  EXPECT_FALSE(redis.touch(key("missing"), std::nullopt).value());

  ASSERT_TRUE(redis.set(key("k"), as_byte_view("v"), std::nullopt));
  EXPECT_TRUE(redis.touch(key("k"), 50s).value());
  EXPECT_EQ(raw.command({"TTL", key("k")}), "50");
  EXPECT_TRUE(redis.touch(key("k"), std::nullopt).value());  // PERSIST
  EXPECT_EQ(raw.command({"TTL", key("k")}), "-1");
  EXPECT_TRUE(redis.touch(key("k"), std::nullopt).value());  // already without expiry: exists
  EXPECT_EQ(raw.command({"GET", key("k")}), "v");
  EXPECT_TRUE(redis.touch(key("k"), 0s).value());  // 0: expires now, so it is deleted
  EXPECT_EQ(raw.command({"EXISTS", key("k")}), "0");
}

TEST_F(redis_backend_test, entries_expire_after_their_ttl) {
  redis_backend redis({.url = url_for(*server_)});
  ASSERT_TRUE(redis.set(key("short"), as_byte_view("v"), 1s));
  EXPECT_TRUE(redis.exists(key("short")).value());
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(redis.get(key("short")).value(), std::nullopt);
  EXPECT_FALSE(redis.ttl(key("short")).value().exists);
}

TEST_F(redis_backend_test, tenant_scoped_layout_writes_t_default_prefix_on_the_wire) {
  redis_backend scoped({.url = url_for(*server_), .key_layout = redis_key_layout::tenant_scoped});
  redis_backend plain({.url = url_for(*server_)});
  EXPECT_EQ(scoped.key_prefix(), "t:default:");
  EXPECT_EQ(plain.key_prefix(), "");

  ASSERT_TRUE(scoped.set(key("k"), as_byte_view("scoped-value"), 60s));
  raw_redis raw(server_->port());
  EXPECT_EQ(raw.command({"GET", "t:default:" + key("k")}), "scoped-value");
  EXPECT_EQ(raw.command({"EXISTS", key("k")}), "0");
  EXPECT_EQ(plain.get("t:default:" + key("k")).value(), bytes_of("scoped-value"));

  // Every operation goes through the prefix.
  EXPECT_TRUE(scoped.exists(key("k")).value());
  EXPECT_TRUE(scoped.ttl(key("k")).value().exists);
  EXPECT_TRUE(scoped.touch(key("k"), 30s).value());
  EXPECT_EQ(raw.command({"TTL", "t:default:" + key("k")}), "30");
  const std::string k = key("k");
  const std::array<std::string_view, 1> keys = {k};
  EXPECT_EQ(scoped.get_many(keys).value().at(0), bytes_of("scoped-value"));
  EXPECT_TRUE(scoped.erase(key("k")).value());
  EXPECT_EQ(raw.command({"EXISTS", "t:default:" + key("k")}), "0");
}

TEST_F(redis_backend_test, tenant_is_percent_encoded_like_python_quote) {
  redis_backend scoped(
      {.url = url_for(*server_), .key_layout = redis_key_layout::tenant_scoped, .tenant = "a b/c"});
  EXPECT_EQ(scoped.key_prefix(), "t:a%20b%2Fc:");
  ASSERT_TRUE(scoped.set(key("k"), as_byte_view("v"), std::nullopt));
  raw_redis raw(server_->port());
  EXPECT_EQ(raw.command({"GET", "t:a%20b%2Fc:" + key("k")}), "v");

  auto lock = scoped.try_lock(key("k"), 5s).value();
  ASSERT_TRUE(lock.has_value());
  EXPECT_EQ(lock->key, "t:a%20b%2Fc:" + key("k") + ":lock");
  EXPECT_EQ(raw.command({"GET", lock->key}), lock->value);
}

TEST_F(redis_backend_test, lock_is_exclusive_until_released_by_its_holder) {
  redis_backend redis({.url = url_for(*server_)});
  raw_redis raw(server_->port());
  auto first = redis.try_lock(key("k"), 10s).value();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->key, key("k") + ":lock");
  EXPECT_EQ(first->value.size(), 32u);  // 128 random bits in hex
  EXPECT_EQ(first->value.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(raw.command({"GET", first->key}), first->value);
  const auto pttl = std::stol(raw.command({"PTTL", first->key}));
  EXPECT_GT(pttl, 9000);
  EXPECT_LE(pttl, 10000);

  EXPECT_EQ(redis.try_lock(key("k"), 10s).value(), std::nullopt);  // contended

  const lock_token forged{.key = first->key, .value = std::string(32, '0')};
  EXPECT_FALSE(redis.release_lock(forged).value());  // wrong token: nothing happens
  EXPECT_EQ(raw.command({"GET", first->key}), first->value);

  EXPECT_TRUE(redis.release_lock(*first).value());
  EXPECT_EQ(raw.command({"EXISTS", first->key}), "0");
  EXPECT_FALSE(redis.release_lock(*first).value());  // already released

  auto second = redis.try_lock(key("k"), 10s).value();
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(second->value, first->value);
}

TEST_F(redis_backend_test, expired_lock_can_be_retaken_and_the_old_holder_cannot_release_it) {
  redis_backend redis({.url = url_for(*server_)});
  auto old_holder = redis.try_lock(key("k"), 50ms).value();
  ASSERT_TRUE(old_holder.has_value());
  std::this_thread::sleep_for(120ms);
  auto new_holder = redis.try_lock(key("k"), 10s).value();
  ASSERT_TRUE(new_holder.has_value());
  EXPECT_FALSE(redis.release_lock(*old_holder).value());
  raw_redis raw(server_->port());
  EXPECT_EQ(raw.command({"GET", new_holder->key}), new_holder->value);
}

TEST_F(redis_backend_test, get_many_returns_hits_and_misses_in_key_order) {
  redis_backend redis({.url = url_for(*server_)});
  ASSERT_TRUE(redis.set(key("a"), as_byte_view("A"), std::nullopt));
  ASSERT_TRUE(redis.set(key("c"), as_byte_view(std::string_view("C\0c", 3)), std::nullopt));
  const std::string a = key("a"), b = key("b"), c = key("c");
  const std::array<std::string_view, 4> keys = {a, b, c, a};
  const auto values = redis.get_many(keys).value();
  ASSERT_EQ(values.size(), 4u);
  EXPECT_EQ(values[0], bytes_of("A"));
  EXPECT_EQ(values[1], std::nullopt);
  EXPECT_EQ(values[2], bytes_of(std::string_view("C\0c", 3)));
  EXPECT_EQ(values[3], bytes_of("A"));
  EXPECT_TRUE(redis.get_many({}).value().empty());
}

TEST_F(redis_backend_test, health_reports_version_memory_and_clients) {
  redis_backend redis({.url = url_for(*server_)});
  raw_redis raw(server_->port());
  const auto health = redis.health();
  EXPECT_TRUE(health.healthy);
  EXPECT_EQ(health.backend_type, "redis");
  EXPECT_GE(health.latency.count(), 0);
  const auto info = raw.command({"INFO", "server"});
  ASSERT_TRUE(health.details.contains("version"));
  EXPECT_NE(info.find("redis_version:" + health.details.at("version") + "\r\n"), std::string::npos);
  EXPECT_FALSE(health.details.at("used_memory_human").empty());
  EXPECT_GE(std::stoi(health.details.at("connected_clients")), 2);  // us and `raw`
}

TEST_F(redis_backend_test, error_replies_are_classified_with_the_operation_and_reply) {
  redis_backend redis({.url = url_for(*server_)});
  raw_redis raw(server_->port());
  raw.command({"RPUSH", key("list"), "x"});
  const auto r = redis.get(key("list"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::backend_permanent);
  EXPECT_NE(r.error().detail.find("GET"), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find("WRONGTYPE"), std::string::npos) << r.error().detail;
  // An error reply leaves the connection usable.
  EXPECT_TRUE(redis.set(key("after"), as_byte_view("v"), std::nullopt));
  EXPECT_EQ(redis.pool_stats().discarded, 0u);
}

TEST_F(redis_backend_test, writes_to_a_read_only_replica_are_transient) {
  auto replica =
      local_server::start_redis({"--replicaof", "127.0.0.1", std::to_string(server_->port())});
  redis_backend redis({.url = url_for(*replica)});
  const auto r = redis.set(key("k"), as_byte_view("v"), std::nullopt);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::transient);
  EXPECT_NE(r.error().detail.find("READONLY"), std::string::npos) << r.error().detail;
}

TEST_F(redis_backend_test, databases_are_isolated_by_the_url_path) {
  redis_backend db0({.url = url_for(*server_, 0)});
  redis_backend db1({.url = url_for(*server_, 1)});
  ASSERT_TRUE(db1.set(key("k"), as_byte_view("in-db-1"), std::nullopt));
  EXPECT_EQ(db0.get(key("k")).value(), std::nullopt);
  EXPECT_EQ(db1.get(key("k")).value(), bytes_of("in-db-1"));
  raw_redis raw(server_->port());
  EXPECT_EQ(raw.command({"SELECT", "1"}), "OK");
  EXPECT_EQ(raw.command({"GET", key("k")}), "in-db-1");

  redis_backend out_of_range({.url = url_for(*server_, 99)});
  const auto r = out_of_range.get(key("k"));
  EXPECT_EQ(r.code(), errc::backend_permanent);
  EXPECT_NE(r.error().detail.find("SELECT 99"), std::string::npos) << r.error().detail;
}

TEST_F(redis_backend_test, unix_socket_url_connects_and_selects_the_database) {
  const std::string socket = "/tmp/cachekit-redis-test-" + std::to_string(::getpid()) + ".sock";
  auto server = local_server::start_redis({"--unixsocket", socket, "--unixsocketperm", "700"});
  // The harness waits for the TCP port; the socket file can appear a moment later.
  for (int i = 0; i < 500 && !std::filesystem::exists(socket); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(std::filesystem::exists(socket)) << socket;
  redis_backend redis({.url = "unix://" + socket + "?db=2"});
  ASSERT_TRUE(redis.set("k", as_byte_view("over-unix"), std::nullopt));
  raw_redis raw(server->port());
  EXPECT_EQ(raw.command({"SELECT", "2"}), "OK");
  EXPECT_EQ(raw.command({"GET", "k"}), "over-unix");
}

TEST_F(redis_backend_test, concurrent_operations_share_a_bounded_pool) {
  redis_backend redis({.url = url_for(*server_), .pool_size = 4});
  constexpr int threads = 8;
  constexpr int ops_per_thread = 500;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < ops_per_thread; ++i) {
        // set, get, exists on one key in turn; only this thread writes its keys.
        const int round = i / 3;
        const std::string k = key("t" + std::to_string(t) + ":" + std::to_string(round % 16));
        const std::string v = std::to_string(t) + "/" + std::to_string(round);
        bool ok = false;
        switch (i % 3) {
          case 0: ok = redis.set(k, as_byte_view(v), 60s).has_value(); break;
          case 1: {
            auto got = redis.get(k);
            ok = got.has_value() && *got == bytes_of(v);
            break;
          }
          default: {
            auto found = redis.exists(k);
            ok = found.has_value() && *found;
          }
        }
        if (!ok) ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures.load(), 0);
  const auto stats = redis.pool_stats();
  EXPECT_LE(stats.open, 4u);
  EXPECT_LE(stats.connects, 4u);
  EXPECT_EQ(stats.discarded, 0u);
}

// --- credentials ----------------------------------------------------------------------------

TEST(redis_backend_auth, wrong_or_missing_password_is_an_authentication_error_that_hides_it) {
  auto server = local_server::start_redis({"--requirepass", "right-secret-7731"});
  const std::string port = std::to_string(server->port());
  const std::string wrong = "wrong-secret-5519";

  redis_backend wrong_pw({.url = "redis://:" + wrong + "@127.0.0.1:" + port + "/0"});
  const auto r = wrong_pw.get("k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::backend_authentication);
  EXPECT_NE(r.error().detail.find("AUTH"), std::string::npos) << r.error().detail;
  EXPECT_EQ(r.error().message().find(wrong), std::string::npos) << r.error().message();
  const auto health = wrong_pw.health();
  EXPECT_FALSE(health.healthy);
  EXPECT_EQ(health.latency.count(), -1);
  for (const auto& [name, value] : health.details) {
    EXPECT_EQ(value.find(wrong), std::string::npos) << name << ": " << value;
  }

  redis_backend no_pw({.url = "redis://127.0.0.1:" + port + "/0"});
  const auto n = no_pw.set("k", as_byte_view("v"), std::nullopt);
  EXPECT_EQ(n.code(), errc::backend_authentication);
  EXPECT_NE(n.error().detail.find("NOAUTH"), std::string::npos) << n.error().detail;

  redis_backend right({.url = "redis://:right-secret-7731@127.0.0.1:" + port + "/1"});
  ASSERT_TRUE(right.set("k", as_byte_view("v"), std::nullopt));
  EXPECT_EQ(right.get("k").value(), bytes_of("v"));
}

TEST(redis_backend_auth, acl_user_from_the_url_authenticates_with_percent_decoded_password) {
  auto server = local_server::start_redis();
  raw_redis admin(server->port());
  ASSERT_EQ(admin.command({"ACL", "SETUSER", "app", "on", ">p@ss w/rd", "~app:*", "+@all"}), "OK");
  const std::string host = "@127.0.0.1:" + std::to_string(server->port()) + "/0";

  redis_backend app({.url = "redis://app:p%40ss%20w%2Frd" + host});
  ASSERT_TRUE(app.set("app:1", as_byte_view("v"), std::nullopt));
  EXPECT_EQ(admin.command({"GET", "app:1"}), "v");

  const auto denied = app.set("other:1", as_byte_view("v"), std::nullopt);  // outside ~app:*
  EXPECT_EQ(denied.code(), errc::backend_authentication);
  EXPECT_NE(denied.error().detail.find("NOPERM"), std::string::npos) << denied.error().detail;

  redis_backend wrong({.url = "redis://app:not-it-3391" + host});
  const auto r = wrong.get("app:1");
  EXPECT_EQ(r.code(), errc::backend_authentication);
  EXPECT_NE(r.error().detail.find("WRONGPASS"), std::string::npos) << r.error().detail;
  EXPECT_EQ(r.error().message().find("not-it-3391"), std::string::npos);
}

// --- faults ---------------------------------------------------------------------------------

TEST(redis_backend_faults, server_down_at_construction_constructs_and_operations_are_transient) {
  const int port = testing::find_free_port();  // nothing listens here
  redis_backend redis({.url = "redis://127.0.0.1:" + std::to_string(port) + "/0"});
  const auto r = redis.get("k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::transient);
  EXPECT_NE(r.error().detail.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << r.error().detail;
  EXPECT_EQ(redis.set("k", as_byte_view("v"), std::nullopt).code(), errc::transient);
  EXPECT_EQ(redis.try_lock("k", 1s).code(), errc::transient);
  const auto health = redis.health();
  EXPECT_FALSE(health.healthy);
  EXPECT_EQ(health.details.at("error_type"), make_error_code(errc::transient).message());
  EXPECT_EQ(redis.pool_stats().open, 0u);
}

TEST(redis_backend_faults, pool_reconnects_after_the_server_is_killed_and_restarted) {
  auto server = local_server::start_redis();
  redis_backend redis({.url = url_for(*server), .pool_size = 2});
  ASSERT_TRUE(redis.set("k", as_byte_view("v1"), std::nullopt));
  EXPECT_EQ(redis.pool_stats().connects, 1u);

  server->stop();
  EXPECT_EQ(redis.get("k").code(), errc::transient);
  EXPECT_EQ(redis.get("k").code(), errc::transient);

  server->restart();  // same port, empty dataset
  EXPECT_EQ(redis.get("k").value(), std::nullopt);
  ASSERT_TRUE(redis.set("k", as_byte_view("v2"), std::nullopt));
  EXPECT_EQ(redis.get("k").value(), bytes_of("v2"));
  const auto stats = redis.pool_stats();
  EXPECT_EQ(stats.connects, 2u);
  EXPECT_EQ(stats.discarded, 1u);  // the connection the crash closed
  EXPECT_EQ(stats.open, 1u);
}

TEST(redis_backend_faults, paused_server_times_out_within_the_command_timeout) {
  auto server = local_server::start_redis();
  redis_backend redis({.url = url_for(*server), .command_timeout = 200ms});
  ASSERT_TRUE(redis.set("k", as_byte_view("v"), std::nullopt));

  server->pause();
  for (int attempt = 0; attempt < 2; ++attempt) {  // a pooled, then a fresh connection
    const auto start = std::chrono::steady_clock::now();
    const auto r = redis.get("k");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.code(), errc::timeout) << r.error().message();
    EXPECT_GE(elapsed, 180ms);
    EXPECT_LE(elapsed, 600ms);
  }
  EXPECT_EQ(redis.pool_stats().open, 0u);  // timed-out connections are closed, not pooled

  server->resume();
  EXPECT_EQ(redis.get("k").value(), bytes_of("v"));
}

TEST(redis_backend_faults, waiting_for_a_busy_pool_is_bounded_by_the_command_timeout) {
  auto server = local_server::start_redis();
  redis_backend redis({.url = url_for(*server), .pool_size = 1, .command_timeout = 200ms});
  ASSERT_TRUE(redis.set("k", as_byte_view("v"), std::nullopt));
  server->pause();
  const auto start = std::chrono::steady_clock::now();
  result<std::optional<byte_buffer>> first = std::optional<byte_buffer>{};
  std::thread holder([&] { first = redis.get("k"); });
  std::this_thread::sleep_for(20ms);
  const auto second = redis.get("k");
  holder.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(first.code(), errc::timeout);
  EXPECT_EQ(second.code(), errc::timeout);
  EXPECT_LE(elapsed, 800ms);
  server->resume();
}

}  // namespace
}  // namespace cachekit

namespace cachekit {
namespace {

// memoized::clear() erases a function's L2 entries by its key prefix: SCAN MATCH in batches of
// 1000, glob characters in the prefix escaped, fill locks and other keys spared.
TEST_F(redis_backend_test, erase_prefix_removes_every_key_under_it_and_nothing_else) {
  redis_backend redis({.url = url_for(*server_)});
  const std::string prefix = key("func:m.f[*]?:args:");  // glob characters must match literally
  for (int i = 0; i < 2500; ++i) {
    ASSERT_TRUE(redis.set(prefix + std::to_string(i), as_byte_view("v"), 60s));
  }
  const std::string lock = prefix + "7:lock";
  const std::string sibling = key("func:m.f[x]!:args:1");  // what an unescaped glob would match
  const std::string other = key("func:m.g:args:1");
  ASSERT_TRUE(redis.set(lock, as_byte_view("token"), 60s));
  ASSERT_TRUE(redis.set(sibling, as_byte_view("s"), 60s));
  ASSERT_TRUE(redis.set(other, as_byte_view("o"), 60s));

  auto removed = redis.erase_prefix(prefix);
  ASSERT_TRUE(removed) << removed.error().message();
  EXPECT_EQ(*removed, 2500u);
  EXPECT_FALSE(redis.exists(prefix + "0").value());
  EXPECT_FALSE(redis.exists(prefix + "2499").value());
  EXPECT_TRUE(redis.exists(lock).value());
  EXPECT_TRUE(redis.exists(sibling).value());
  EXPECT_TRUE(redis.exists(other).value());
}

TEST_F(redis_backend_test, erase_prefix_in_the_tenant_scoped_layout_stays_inside_its_tenant) {
  redis_backend scoped({.url = url_for(*server_), .key_layout = redis_key_layout::tenant_scoped});
  redis_backend plain({.url = url_for(*server_)});
  const std::string prefix = key("func:m.f:args:");
  ASSERT_TRUE(scoped.set(prefix + "1", as_byte_view("v"), 60s));
  ASSERT_TRUE(plain.set(prefix + "1", as_byte_view("p"), 60s));  // same key, no t:default:
  EXPECT_EQ(scoped.erase_prefix(prefix).value(), 1u);
  EXPECT_FALSE(scoped.exists(prefix + "1").value());
  EXPECT_TRUE(plain.exists(prefix + "1").value());
}

}  // namespace
}  // namespace cachekit
