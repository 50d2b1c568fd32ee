// memcached_backend against real memcached servers started on free loopback ports.
#include <cachekit/memcached_backend.hpp>

#include "backends/memcached/rendezvous_hash.hpp"
#include "support/local_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using testing::local_server;

byte_buffer bytes_of(std::string_view text) {
  return to_byte_buffer(text);
}

byte_buffer all_byte_values() {
  byte_buffer out;
  for (int i = 0; i < 256; ++i) out.push_back(static_cast<std::byte>(i));
  out.push_back(std::byte{0});  // and a trailing NUL
  return out;
}

// A backend on `servers` with quick timeouts, so failure tests stay short.
memcached_backend make_backend(std::vector<std::string> servers, std::string prefix = "") {
  return memcached_backend({.servers = std::move(servers),
                            .connect_timeout = 500ms,
                            .timeout = 200ms,
                            .key_prefix = std::move(prefix)});
}

// An address with nothing listening: any network I/O fails with errc::transient at once.
std::string dead_address() {
  return "127.0.0.1:" + std::to_string(testing::find_free_port());
}

// Retries `op` until it succeeds or `limit` passes; returns its last result.
template <typename Op>
auto eventually(Op op, std::chrono::milliseconds limit = 3s) {
  const auto deadline = steady_clock::now() + limit;
  auto r = op();
  while (!r && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    r = op();
  }
  return r;
}

long long elapsed_ms(steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - since).count();
}

class memcached_backend_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = local_server::start_memcached().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // A key unique to the running test.
  static std::string key(std::string_view name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string(info->name()) + ":" + std::string(name);
  }

  static local_server* server_;
};
local_server* memcached_backend_test::server_ = nullptr;

TEST_F(memcached_backend_test, get_returns_exactly_what_set_stored_and_nullopt_on_a_miss) {
  auto mc = make_backend({server_->address()});
  EXPECT_EQ(mc.type(), "memcached");
  ASSERT_TRUE(mc.set(key("a"), bytes_of("hello"), std::nullopt));
  const auto hit = mc.get(key("a"));
  ASSERT_TRUE(hit) << hit.error().message();
  EXPECT_EQ(*hit, std::optional(bytes_of("hello")));

  ASSERT_TRUE(mc.set(key("a"), bytes_of("replaced"), 60s));
  EXPECT_EQ(*mc.get(key("a")), std::optional(bytes_of("replaced")));

  const auto miss = mc.get(key("never-set"));
  ASSERT_TRUE(miss);
  EXPECT_EQ(*miss, std::nullopt);
}

TEST_F(memcached_backend_test, binary_values_with_nul_bytes_and_empty_values_round_trip) {
  auto mc = make_backend({server_->address()});
  const byte_buffer binary = all_byte_values();
  ASSERT_TRUE(mc.set(key("bin"), binary, std::nullopt));
  EXPECT_EQ(*mc.get(key("bin")), std::optional(binary));

  // An empty value is a hit with no bytes, not a miss.
  ASSERT_TRUE(mc.set(key("empty"), byte_buffer{}, std::nullopt));
  EXPECT_EQ(*mc.get(key("empty")), std::optional(byte_buffer{}));
  EXPECT_TRUE(*mc.exists(key("empty")));
}

TEST_F(memcached_backend_test, erase_reports_whether_the_key_existed) {
  auto mc = make_backend({server_->address()});
  ASSERT_TRUE(mc.set(key("e"), bytes_of("v"), std::nullopt));
  const auto first = mc.erase(key("e"));
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first);
  const auto second = mc.erase(key("e"));
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  EXPECT_EQ(*mc.get(key("e")), std::nullopt);
}

TEST_F(memcached_backend_test, exists_is_true_only_for_stored_keys) {
  auto mc = make_backend({server_->address()});
  ASSERT_TRUE(mc.set(key("x"), bytes_of("v"), 60s));
  EXPECT_TRUE(*mc.exists(key("x")));
  EXPECT_FALSE(*mc.exists(key("y")));
}

TEST_F(memcached_backend_test, ttl_is_not_supported) {
  auto mc = make_backend({server_->address()});
  ASSERT_TRUE(mc.set(key("t"), bytes_of("v"), 60s));
  const auto ttl = mc.ttl(key("t"));
  ASSERT_FALSE(ttl);
  EXPECT_EQ(ttl.code(), errc::not_supported);
}

TEST_F(memcached_backend_test, entries_expire_after_their_ttl_and_touch_changes_it) {
  auto mc = make_backend({server_->address()});
  ASSERT_TRUE(mc.set(key("short"), bytes_of("1"), 1s));
  ASSERT_TRUE(mc.set(key("touched"), bytes_of("2"), 1s));
  ASSERT_TRUE(mc.set(key("forever"), bytes_of("3"), std::nullopt));
  ASSERT_TRUE(mc.set(key("zero"), bytes_of("4"), 0s));  // already expired (cachekit-py: forever)
  EXPECT_EQ(*mc.get(key("zero")), std::nullopt);
  EXPECT_EQ(*mc.get(key("short")), std::optional(bytes_of("1")));

  const auto touched = mc.touch(key("touched"), 60s);
  ASSERT_TRUE(touched) << touched.error().message();
  EXPECT_TRUE(*touched);
  const auto missing = mc.touch(key("missing"), 60s);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);

  // memcached's clock ticks once a second: a 1 s entry is gone within 2 s.
  std::this_thread::sleep_for(2100ms);
  EXPECT_EQ(*mc.get(key("short")), std::nullopt);
  EXPECT_FALSE(*mc.exists(key("short")));
  EXPECT_EQ(*mc.get(key("touched")), std::optional(bytes_of("2")));
  EXPECT_EQ(*mc.get(key("forever")), std::optional(bytes_of("3")));
}

TEST_F(memcached_backend_test, value_over_max_item_size_fails_before_any_io) {
  // Nothing listens at the address: a permanent error proves no connection was tried.
  auto mc = make_backend({dead_address()});
  const byte_buffer over(1024 * 1024 + 1, std::byte{'x'});
  const auto rejected = mc.set(key("big"), over, std::nullopt);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.code(), errc::backend_permanent);
  EXPECT_NE(rejected.error().detail.find("1048577 bytes"), std::string::npos);

  // cachekit-py's rule is len(value) > max_item_size: exactly 1 MiB passes the guard (and
  // then fails to connect).
  const byte_buffer exact(1024 * 1024, std::byte{'x'});
  EXPECT_EQ(mc.set(key("big"), exact, std::nullopt).code(), errc::transient);
}

TEST_F(memcached_backend_test, max_item_size_zero_turns_the_guard_off) {
  memcached_backend mc({.servers = {dead_address()}, .timeout = 200ms, .max_item_size = 0});
  const byte_buffer big(2 * 1024 * 1024, std::byte{'x'});
  EXPECT_EQ(mc.set(key("big"), big, std::nullopt).code(), errc::transient);
}

TEST_F(memcached_backend_test, exactly_one_mebibyte_is_stored_by_a_server_with_a_larger_limit) {
  auto roomy = local_server::start_memcached({"-I", "2m"});
  auto mc = make_backend({roomy->address()});
  byte_buffer exact(1024 * 1024);
  for (std::size_t i = 0; i < exact.size(); ++i) exact[i] = static_cast<std::byte>(i * 7);
  const auto stored = mc.set(key("mib"), exact, std::nullopt);
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_EQ(*mc.get(key("mib")), std::optional(exact));
}

TEST_F(memcached_backend_test, a_value_the_server_finds_too_large_is_a_permanent_error) {
  // Default memcached -I is 1 MiB including key and item header: 1 MiB of value passes the
  // client guard but not the server.
  auto mc = make_backend({server_->address()});
  const byte_buffer exact(1024 * 1024, std::byte{'x'});
  const auto refused = mc.set(key("mib"), exact, std::nullopt);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.code(), errc::backend_permanent);
  EXPECT_NE(refused.error().detail.find("too large"), std::string::npos);
  // The connection is still usable afterwards.
  ASSERT_TRUE(mc.set(key("small"), bytes_of("ok"), std::nullopt));
  EXPECT_EQ(*mc.get(key("small")), std::optional(bytes_of("ok")));
}

TEST_F(memcached_backend_test, key_prefix_is_applied_on_the_wire) {
  auto prefixed = make_backend({server_->address()}, "app:");
  auto plain = make_backend({server_->address()});
  EXPECT_EQ(prefixed.key_prefix(), "app:");
  EXPECT_EQ(plain.key_prefix(), "");

  ASSERT_TRUE(prefixed.set(key("p"), bytes_of("v"), std::nullopt));
  EXPECT_EQ(*plain.get("app:" + key("p")), std::optional(bytes_of("v")));
  EXPECT_EQ(*plain.get(key("p")), std::nullopt);
  EXPECT_TRUE(*prefixed.erase(key("p")));
  EXPECT_EQ(*plain.get("app:" + key("p")), std::nullopt);
}

TEST_F(memcached_backend_test, invalid_keys_are_rejected_without_io) {
  auto mc = make_backend({dead_address()}, "app:");
  const std::string too_long(247, 'k');  // 4 + 247 = 251 bytes on the wire
  for (const std::string& bad : {std::string("has space"), std::string("tab\t"),
                                 std::string("nul\0", 4), std::string("caf\xc3\xa9"), too_long}) {
    const auto g = mc.get(bad);
    ASSERT_FALSE(g);
    EXPECT_EQ(g.code(), errc::backend_permanent) << g.error().message();
    EXPECT_EQ(mc.set(bad, bytes_of("v"), std::nullopt).code(), errc::backend_permanent);
    EXPECT_EQ(mc.erase(bad).code(), errc::backend_permanent);
    EXPECT_EQ(mc.exists(bad).code(), errc::backend_permanent);
    EXPECT_EQ(mc.touch(bad, 1s).code(), errc::backend_permanent);
    const std::string_view many[] = {"fine", bad};
    EXPECT_EQ(mc.get_many(many).code(), errc::backend_permanent);
  }
  // 246 + 4 = 250 bytes is a valid key: it reaches the network (and fails there).
  EXPECT_EQ(mc.get(std::string(246, 'k')).code(), errc::transient);
}

TEST_F(memcached_backend_test, get_many_returns_values_in_key_order_with_misses_and_repeats) {
  auto mc = make_backend({server_->address()});
  ASSERT_TRUE(mc.set(key("1"), bytes_of("one"), std::nullopt));
  ASSERT_TRUE(mc.set(key("3"), bytes_of("three"), std::nullopt));
  ASSERT_TRUE(mc.set(key("empty"), byte_buffer{}, std::nullopt));
  const std::string k1 = key("1"), k2 = key("2"), k3 = key("3"), ke = key("empty");
  const std::string_view keys[] = {k3, k2, k1, k3, ke};
  const auto values = mc.get_many(keys);
  ASSERT_TRUE(values) << values.error().message();
  const std::vector<std::optional<byte_buffer>> expected = {
      bytes_of("three"), std::nullopt, bytes_of("one"), bytes_of("three"), byte_buffer{}};
  EXPECT_EQ(*values, expected);

  const auto none = mc.get_many({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(memcached_backend_test, two_servers_split_keys_as_pymemcache_would_and_fail_separately) {
  auto a = local_server::start_memcached();
  auto b = local_server::start_memcached();
  auto both = make_backend({a->address(), b->address()});
  auto only_a = make_backend({a->address()});
  auto only_b = make_backend({b->address()});
  const std::vector<std::string> nodes = {a->address(), b->address()};

  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.push_back("k" + std::to_string(i));
  std::size_t on_a = 0;
  for (const auto& k : keys) ASSERT_TRUE(both.set(k, bytes_of("v" + k), std::nullopt));
  for (const auto& k : keys) {
    const bool expect_a = detail::rendezvous_pick(nodes, k) == 0;
    on_a += expect_a ? 1 : 0;
    // Each key is on exactly the server pymemcache's HashClient would pick.
    EXPECT_EQ(only_a.get(k)->has_value(), expect_a) << k;
    EXPECT_EQ(only_b.get(k)->has_value(), !expect_a) << k;
    EXPECT_EQ(*both.get(k), std::optional(bytes_of("v" + k)));
  }
  EXPECT_GT(on_a, 20u);
  EXPECT_LT(on_a, 80u);

  std::vector<std::string_view> views(keys.begin(), keys.end());
  const auto all = both.get_many(views);
  ASSERT_TRUE(all) << all.error().message();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ((*all)[i], std::optional(bytes_of("v" + keys[i])));
  }

  // With b down, only b's keys fail.
  b->stop();
  for (const auto& k : keys) {
    const auto r = both.get(k);
    if (detail::rendezvous_pick(nodes, k) == 0) {
      ASSERT_TRUE(r) << k << ": " << r.error().message();
      EXPECT_EQ(*r, std::optional(bytes_of("v" + k)));
    } else {
      ASSERT_FALSE(r) << k;
      EXPECT_EQ(r.code(), errc::transient);
    }
  }
  EXPECT_EQ(both.get_many(views).code(), errc::transient);
  const auto health = both.health();
  EXPECT_FALSE(health.healthy);
  EXPECT_EQ(health.details.at("server." + a->address()), "up");
  EXPECT_NE(health.details.at("server." + b->address()), "up");
}

TEST_F(memcached_backend_test, a_server_down_at_construction_recovers_when_it_starts) {
  auto later = local_server::start_memcached();
  later->stop();
  auto mc = make_backend({later->address()});  // constructs although nothing listens
  const auto down = mc.get(key("k"));
  ASSERT_FALSE(down);
  EXPECT_EQ(down.code(), errc::transient);
  EXPECT_EQ(mc.set(key("k"), bytes_of("v"), std::nullopt).code(), errc::transient);

  later->restart();
  const auto up = eventually([&] { return mc.set(key("k"), bytes_of("v"), std::nullopt); });
  ASSERT_TRUE(up) << up.error().message();
  EXPECT_EQ(*mc.get(key("k")), std::optional(bytes_of("v")));
}

TEST_F(memcached_backend_test, a_restart_between_operations_costs_no_failed_operation) {
  auto restarted = local_server::start_memcached();
  auto mc = make_backend({restarted->address()});
  ASSERT_TRUE(mc.set(key("k"), bytes_of("v"), std::nullopt));
  restarted->restart();  // the pooled connection is now dead
  const auto after = mc.get(key("k"));
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(*after, std::nullopt);  // a new process: empty
  EXPECT_TRUE(mc.set(key("k"), bytes_of("v2"), std::nullopt));
  EXPECT_EQ(*mc.get(key("k")), std::optional(bytes_of("v2")));
}

TEST_F(memcached_backend_test, a_stopped_server_fails_transient_and_recovers_after_restart) {
  auto flaky = local_server::start_memcached();
  auto mc = make_backend({flaky->address()});
  ASSERT_TRUE(mc.set(key("k"), bytes_of("v"), std::nullopt));
  flaky->stop();
  for (int i = 0; i < 4; ++i) {
    const auto r = mc.get(key("k"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.code(), errc::transient) << r.error().message();
  }
  flaky->restart();
  // Skipped for at most retry_timeout (1 s) after the failures, then back.
  const auto back = eventually([&] { return mc.get(key("k")); });
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, std::nullopt);
}

// The skip window runs on memcached_options::clock: exact, and nothing sleeps.
TEST(memcached_backend, a_failing_server_is_skipped_for_exactly_retry_timeout_on_its_clock) {
  manual_clock clock;
  memcached_backend mc({.servers = {dead_address()},
                        .connect_timeout = 500ms,
                        .timeout = 200ms,
                        .retry_attempts = 2,
                        .retry_timeout = 1s,
                        .clock = &clock});
  const auto skipped = [&](std::string_view left) {
    const auto r = mc.get("k");
    EXPECT_FALSE(r);
    if (r) return false;
    EXPECT_EQ(r.code(), errc::transient) << r.error().message();
    return r.error().detail.find("is skipped for another " + std::string(left)) !=
           std::string::npos;
  };
  EXPECT_FALSE(skipped(""));  // refused: failure 1
  EXPECT_FALSE(skipped(""));  // refused: failure 2, the window opens
  EXPECT_TRUE(skipped("1000 ms"));
  clock.advance(999ms);
  EXPECT_TRUE(skipped("1 ms"));
  clock.advance(1ms);
  EXPECT_FALSE(skipped(""));  // tried again (and refused again: a new window)
  EXPECT_TRUE(skipped("1000 ms"));
}

TEST_F(memcached_backend_test, a_paused_server_times_out_within_about_the_op_timeout) {
  auto stuck = local_server::start_memcached();
  auto mc = make_backend({stuck->address()});  // timeout 200 ms, retry_attempts 2
  ASSERT_TRUE(mc.set(key("k"), bytes_of("v"), std::nullopt));
  stuck->pause();
  std::this_thread::sleep_for(50ms);  // SIGSTOP is asynchronous

  auto start = steady_clock::now();
  const auto first = mc.get(key("k"));
  const auto first_ms = elapsed_ms(start);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.code(), errc::timeout) << first.error().message();
  EXPECT_GE(first_ms, 150);
  EXPECT_LE(first_ms, 600);

  EXPECT_EQ(mc.set(key("k"), bytes_of("w"), std::nullopt).code(), errc::timeout);
  // Two failures in a row: the server is skipped, operations fail at once.
  start = steady_clock::now();
  const auto skipped = mc.get(key("k"));
  EXPECT_LT(elapsed_ms(start), 100);  // well under the 200 ms timeout
  ASSERT_FALSE(skipped);
  EXPECT_EQ(skipped.code(), errc::transient);
  EXPECT_NE(skipped.error().detail.find("skipped"), std::string::npos);

  stuck->resume();
  const auto back = eventually([&] { return mc.get(key("k")); });
  ASSERT_TRUE(back) << back.error().message();
}

TEST_F(memcached_backend_test, eight_threads_share_one_backend) {
  memcached_backend mc(
      {.servers = {server_->address()}, .timeout = 1s, .pool_size = 4});  // threads wait
  constexpr int threads = 8;
  constexpr int ops = 500;
  std::atomic<int> failures{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> workers;
  const std::string base = key("t");
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < ops; ++i) {
        // Ops come in groups of four on one key: set, set, get, erase.
        const std::string k = base + std::to_string(t) + ":" + std::to_string(i / 4 % 50);
        const byte_buffer v = bytes_of(std::to_string(t * 100000 + i));
        switch (i % 4) {
          case 0:
          case 1:
            if (!mc.set(k, v, 60s)) ++failures;
            break;
          case 2: {
            const auto r = mc.get(k);
            if (!r) {
              ++failures;
            } else if (*r != std::optional(bytes_of(std::to_string(t * 100000 + i - 1)))) {
              ++wrong;  // the previous op of this thread set exactly this value
            }
            break;
          }
          default:
            if (!mc.erase(k)) ++failures;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(memcached_backend_test, health_reports_servers_version_and_latency) {
  auto mc = make_backend({server_->address()}, "app:");
  const auto health = mc.health();
  EXPECT_TRUE(health.healthy);
  EXPECT_EQ(health.backend_type, "memcached");
  EXPECT_GE(health.latency.count(), 0);
  EXPECT_EQ(health.details.at("configured_servers"), "1");
  EXPECT_EQ(health.details.at("servers"), server_->address());
  EXPECT_EQ(health.details.at("server." + server_->address()), "up");
  EXPECT_EQ(health.details.at("version." + server_->address()).substr(0, 2), "1.");

  auto down = make_backend({dead_address()});
  const auto bad = down.health();
  EXPECT_FALSE(bad.healthy);
  EXPECT_EQ(bad.latency.count(), -1);
  EXPECT_TRUE(bad.details.contains("error"));
}

TEST(memcached_backend_options, mistakes_throw_invalid_configuration_at_construction) {
  const auto code_of = [](memcached_options options) {
    try {
      memcached_backend mc(std::move(options));
    } catch (const error& e) {
      return e.code();
    }
    return std::error_code{};
  };
  const std::error_code invalid = errc::invalid_configuration;
  EXPECT_EQ(code_of({.servers = {}}), invalid);
  EXPECT_EQ(code_of({.servers = {"no-port"}}), invalid);
  EXPECT_EQ(code_of({.servers = {"h:1", "h:01"}}), invalid);  // the same node twice
  EXPECT_EQ(code_of({.timeout = 0ms}), invalid);
  EXPECT_EQ(code_of({.pool_size = 0}), invalid);
  EXPECT_EQ(code_of({.key_prefix = "my app:"}), invalid);
  EXPECT_EQ(code_of({.retry_attempts = -1}), invalid);
  EXPECT_EQ(code_of({}), std::error_code{});  // the defaults are valid (nothing connects)
}

}  // namespace
}  // namespace cachekit
