// redis_backend through Redis Sentinel, against a real group (support/redis_sentinel_group:
// master, replica, three sentinels): discovery, failover forced and by a killed master under
// load (no wrong value ever read; failed calls and the time until operations succeed on the
// new master are printed), the next sentinel when the first is down, a wrong service name,
// `+switch-master` moving the backend before any command fails, and a forked child.
#include "backends/redis/redis_master_locator.hpp"
#include "backends/redis/redis_pool.hpp"
#include "support/forked_child.hpp"
#include "support/redis_sentinel_group.hpp"

#include <cachekit/redis_backend.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::redis_sentinel_group;
using clock_type = std::chrono::steady_clock;

std::string as_text(const byte_buffer& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string address_of(int port) {
  return "127.0.0.1:" + std::to_string(port);
}

redis_options sentinel_options(const std::string& url) {
  return {.url = url,
          .pool_size = 8,
          .connect_timeout = 300ms,
          .command_timeout = 500ms,
          .key_layout = redis_key_layout::plain,
          .tenant = "default"};
}

class redis_sentinel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { group_ = new redis_sentinel_group(); }
  static void TearDownTestSuite() {
    delete group_;
    group_ = nullptr;
  }
  // A failover or a stopped server in an earlier test settles before the next one starts.
  void SetUp() override { group_->wait_ready(); }

  static redis_sentinel_group* group_;
};

redis_sentinel_group* redis_sentinel::group_ = nullptr;

TEST_F(redis_sentinel, discovers_the_master_and_round_trips) {
  redis_backend redis(sentinel_options(group_->url(redis_sentinel_group::service, "/0")));
  ASSERT_TRUE(redis.set("greeting", as_byte_view("hello"), std::nullopt));
  auto got = redis.get("greeting");
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(as_text(**got), "hello");

  // The value is on the master the sentinels name (read there without Sentinel).
  redis_backend direct({.url = "redis://" + address_of(group_->master_port()) + "/0"});
  auto there = direct.get("greeting");
  ASSERT_TRUE(there && there->has_value());
  EXPECT_EQ(as_text(**there), "hello");

  const auto stats = redis.sentinel_stats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->discoveries, 1u);
  EXPECT_EQ(stats->master_changes, 0u);
  EXPECT_EQ(stats->master, address_of(group_->master_port()));
  EXPECT_FALSE(direct.sentinel_stats().has_value());
}

TEST_F(redis_sentinel, wrong_service_name_is_backend_permanent_and_names_it) {
  redis_backend redis(sentinel_options(group_->url("no-such-master")));
  auto got = redis.get("k");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, make_error_code(errc::backend_permanent));
  EXPECT_NE(got.error().detail.find("'no-such-master'"), std::string::npos) << got.error().detail;
  EXPECT_NE(got.error().detail.find("SENTINEL MASTERS"), std::string::npos) << got.error().detail;
}

TEST_F(redis_sentinel, no_sentinel_reachable_is_transient_and_names_the_sentinels_tried) {
  const int a = testing::find_free_port();
  const int b = testing::find_free_port();
  redis_backend redis(sentinel_options("redis+sentinel://:pw@127.0.0.1:" + std::to_string(a) +
                                       ",127.0.0.1:" + std::to_string(b) + "/mymaster"));
  auto got = redis.get("k");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, make_error_code(errc::transient));
  const auto& detail = got.error().detail;
  EXPECT_NE(detail.find("'mymaster'"), std::string::npos) << detail;
  EXPECT_NE(detail.find(address_of(a)), std::string::npos) << detail;
  EXPECT_NE(detail.find(address_of(b)), std::string::npos) << detail;
  EXPECT_EQ(detail.find("pw"), std::string::npos) << detail;
}

TEST_F(redis_sentinel, a_stopped_first_sentinel_is_skipped_and_the_answering_one_asked_first) {
  group_->stop_sentinel(0);
  {
    auto locator = std::make_shared<detail::redis_master_locator>(
        *detail::parse_redis_url(group_->url())->sentinel, 300ms, 500ms, /*listen=*/false);
    auto master = locator->locate("test");
    ASSERT_TRUE(master) << master.error().message();
    EXPECT_EQ(master->port, group_->master_port());
    EXPECT_EQ(locator->sentinel_order().front(), 1u);  // sentinel 1 answered: asked first now

    redis_backend redis(sentinel_options(group_->url()));
    ASSERT_TRUE(redis.set("k", as_byte_view("v"), std::nullopt));
    auto got = redis.get("k");
    ASSERT_TRUE(got && got->has_value());
    EXPECT_EQ(as_text(**got), "v");
  }
  group_->restart_sentinel(0);
}

TEST_F(redis_sentinel, master_credentials_come_from_the_userinfo_and_role_may_be_denied) {
  // An ACL user that may not run ROLE (@admin): the role check is skipped, not fatal.
  group_->on_data_servers(
      {"ACL", "SETUSER", "app", "reset", "on", ">app-pw", "~*", "+@all", "-role"});
  redis_backend app(
      sentinel_options("redis+sentinel://app:app-pw@" + group_->url().substr(17) + "/3"));
  ASSERT_TRUE(app.set("acl-db3", as_byte_view("v"), std::nullopt))
      << "ROLE denied must not be fatal";
  auto got = app.get("acl-db3");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(as_text(**got), "v");
  // db 3 of the master: not in db 0.
  redis_backend db0({.url = "redis://" + address_of(group_->master_port()) + "/0"});
  auto none = db0.get("acl-db3");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  redis_backend wrong(sentinel_options("redis+sentinel://app:not-it@" + group_->url().substr(17)));
  auto refused = wrong.get("acl-db3");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(errc::backend_authentication));
  EXPECT_EQ(refused.error().detail.find("not-it"), std::string::npos) << refused.error().detail;
  group_->on_data_servers({"ACL", "DELUSER", "app"});
}

// What the workers of a failover test saw.
struct load_report {
  std::uint64_t calls = 0;
  std::uint64_t failed = 0;
  std::uint64_t wrong = 0;        // a value never written under that key: must be 0
  std::uint64_t rolled_back = 0;  // an older acknowledged value, or a miss after a write
  std::chrono::milliseconds recovered_after{-1};
  std::chrono::milliseconds last_failure_after{-1};
};

// Threads that each own 8 keys and alternate `set(key, "w<t>:<i>:v<n>")` and `get(key)`. A
// read is checked exactly against what this thread wrote to that key: version n between the
// last acknowledged write and the last attempted one is right (a failed SET may have been
// applied); a lower one or a miss after an acknowledged write is a write the failover rolled
// back (Redis replicates asynchronously: the old master may acknowledge what the new one never
// received); anything else is wrong. Recovery: the first successful SET, after `start`, while
// the backend uses `new_master`.
class failover_load {
 public:
  failover_load(redis_backend& redis, int threads) : redis_(redis) {
    for (int t = 0; t < threads; ++t) workers_.emplace_back([this, t] { work(t); });
  }
  ~failover_load() { stop(); }

  void mark(clock_type::time_point start, std::string old_master) {
    {
      std::lock_guard lock(mutex_);
      start_ = start;
      old_master_ = std::move(old_master);
    }
    marked_.store(true);
  }
  bool recovered() const { return recovered_at_ns_.load() != 0; }

  load_report stop() {
    stopping_.store(true);
    for (auto& w : workers_) {
      if (w.joinable()) w.join();
    }
    load_report out{.calls = calls_.load(),
                    .failed = failed_.load(),
                    .wrong = wrong_.load(),
                    .rolled_back = rolled_back_.load()};
    const auto start_ns = start_.time_since_epoch().count();
    if (recovered_at_ns_.load() != 0) {
      out.recovered_after = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::nanoseconds(recovered_at_ns_.load() - start_ns));
    }
    if (last_failure_ns_.load() != 0) {
      out.last_failure_after = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::nanoseconds(last_failure_ns_.load() - start_ns));
    }
    return out;
  }

 private:
  void work(int t) {
    constexpr int keys = 8;
    std::vector<std::uint64_t> acked(keys, 0);
    std::vector<std::uint64_t> attempted(keys, 0);
    for (std::uint64_t n = 0; !stopping_.load(); ++n) {
      const int i = static_cast<int>(n % keys);
      const std::string key = "w" + std::to_string(t) + ":" + std::to_string(i);
      const std::string prefix = key + ":v";
      const std::uint64_t version = ++attempted[i];
      const std::string value = prefix + std::to_string(version);
      auto stored = redis_.set(key, as_byte_view(value), std::nullopt);
      calls_.fetch_add(1);
      if (!stored) {
        failure_now();
      } else {
        acked[i] = version;
        note_success();
      }
      auto got = redis_.get(key);
      calls_.fetch_add(1);
      if (!got) {
        failure_now();
        continue;
      }
      if (!got->has_value()) {
        if (acked[i] != 0) rolled_back_.fetch_add(1);
        continue;
      }
      const std::string text = as_text(**got);
      std::uint64_t read = 0;
      const bool ours =
          text.starts_with(prefix) &&
          std::from_chars(text.data() + prefix.size(), text.data() + text.size(), read).ptr ==
              text.data() + text.size();
      if (!ours || read == 0 || read > attempted[i]) {
        wrong_.fetch_add(1);
      } else if (read < acked[i]) {
        rolled_back_.fetch_add(1);
      }
    }
  }

  void failure_now() {
    failed_.fetch_add(1);
    if (!marked_.load()) return;
    const auto now = clock_type::now().time_since_epoch().count();
    auto seen = last_failure_ns_.load();
    while (now > seen && !last_failure_ns_.compare_exchange_weak(seen, now)) {
    }
  }

  void note_success() {
    if (!marked_.load() || recovered_at_ns_.load() != 0) return;
    const auto stats = redis_.sentinel_stats();
    std::lock_guard lock(mutex_);
    if (stats && !stats->master.empty() && stats->master != old_master_) {
      std::int64_t expected = 0;
      recovered_at_ns_.compare_exchange_strong(expected,
                                               clock_type::now().time_since_epoch().count());
    }
  }

  redis_backend& redis_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> marked_{false};
  std::mutex mutex_;
  clock_type::time_point start_{};
  std::string old_master_;
  std::atomic<std::uint64_t> calls_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> wrong_{0};
  std::atomic<std::uint64_t> rolled_back_{0};
  std::atomic<std::int64_t> recovered_at_ns_{0};
  std::atomic<std::int64_t> last_failure_ns_{0};
};

// Runs load, calls `disrupt` once it is warm, and waits for recovery (at most 30 s).
load_report run_failover(redis_sentinel_group& group, const std::function<void(int)>& disrupt,
                         const char* what) {
  redis_backend redis(sentinel_options(group.url()));
  const int old_port = group.master_port();
  failover_load load(redis, 4);
  std::this_thread::sleep_for(500ms);
  const auto start = clock_type::now();
  load.mark(start, address_of(old_port));
  disrupt(old_port);
  const int new_port = group.wait_for_new_master(old_port, std::chrono::seconds(30));
  EXPECT_NE(new_port, old_port);
  while (!load.recovered() && clock_type::now() - start < 30s) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(1s);  // and keep going on the new master a while
  const load_report report = load.stop();
  const auto stats = redis.sentinel_stats();
  std::printf(
      "[ sentinel ] %s: master %d -> %d; operations succeed on the new master %lld ms after "
      "the %s; %llu of %llu calls failed (last failure at %lld ms); %llu rolled-back reads; "
      "%llu wrong; discoveries %llu, master changes %llu, +switch-master %llu, unusable %llu\n",
      what, old_port, new_port, static_cast<long long>(report.recovered_after.count()), what,
      static_cast<unsigned long long>(report.failed), static_cast<unsigned long long>(report.calls),
      static_cast<long long>(report.last_failure_after.count()),
      static_cast<unsigned long long>(report.rolled_back),
      static_cast<unsigned long long>(report.wrong),
      static_cast<unsigned long long>(stats->discoveries),
      static_cast<unsigned long long>(stats->master_changes),
      static_cast<unsigned long long>(stats->switch_messages),
      static_cast<unsigned long long>(stats->unusable_reports));
  std::fflush(stdout);
  EXPECT_EQ(stats->master, address_of(new_port));
  EXPECT_GE(stats->master_changes, 1u);
  return report;
}

TEST_F(redis_sentinel, forced_failover_under_load_reads_no_wrong_value_and_recovers) {
  const auto report = run_failover(
      *group_, [](int) { group_->force_failover(); }, "forced failover");
  EXPECT_EQ(report.wrong, 0u);
  EXPECT_GT(report.calls, 0u);
  ASSERT_GE(report.recovered_after.count(), 0) << "never recovered";
  EXPECT_LT(report.recovered_after, 30s);
}

TEST_F(redis_sentinel, killed_master_is_replaced_and_the_backend_follows) {
  testing::local_server* killed = nullptr;
  const auto report = run_failover(
      *group_,
      [&](int old_port) {
        killed = group_->server_on(old_port);
        killed->stop();  // SIGKILL
      },
      "master kill");
  EXPECT_EQ(report.wrong, 0u);
  ASSERT_GE(report.recovered_after.count(), 0) << "never recovered";
  EXPECT_LT(report.recovered_after, 30s);
  // Back as an empty server: the sentinels turn it into a replica of the new master.
  ASSERT_NE(killed, nullptr);
  killed->restart();
}

TEST_F(redis_sentinel, switch_master_message_moves_an_idle_backend_before_any_command_fails) {
  redis_backend redis(sentinel_options(group_->url()));
  ASSERT_TRUE(redis.set("k", as_byte_view("before"), std::nullopt));
  const int old_port = group_->master_port();
  std::this_thread::sleep_for(500ms);  // the listener subscribes on a sentinel
  group_->force_failover();
  const int new_port = group_->wait_for_new_master(old_port, std::chrono::seconds(30));
  // No command ran since: only the listener can have moved the backend.
  const auto deadline = clock_type::now() + 10s;
  while (redis.sentinel_stats()->master != address_of(new_port) && clock_type::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  const auto stats = redis.sentinel_stats();
  EXPECT_EQ(stats->master, address_of(new_port));
  EXPECT_GE(stats->switch_messages, 1u);
  EXPECT_EQ(stats->unusable_reports, 0u);
  // The first command after the switch succeeds, on the new master, through a new connection.
  auto got = redis.get("k");
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(as_text(**got), "before");
  ASSERT_TRUE(redis.set("k", as_byte_view("after"), std::nullopt));
  EXPECT_EQ(redis.sentinel_stats()->unusable_reports, 0u);
  EXPECT_EQ(redis.pool_stats().connects, 2u);  // one per master
}

// A subscription (the L1 coherence listener's) must not stay on the demoted master, which no
// longer hears the publishes: it fails once the master changed, and a new one is on the new
// master.
TEST_F(redis_sentinel, a_subscription_ends_when_the_master_changes_and_a_new_one_follows) {
  redis_backend redis(sentinel_options(group_->url()));
  subscription_options options;
  options.channels = {"news"};
  auto first = redis.subscribe(options);
  ASSERT_TRUE(first) << first.error().message();
  const int old_port = group_->master_port();
  group_->force_failover();
  const int new_port = group_->wait_for_new_master(old_port, std::chrono::seconds(30));
  std::optional<failure> ended;
  // Well before the sentinels demote the old master (about 10 s here), which kills its clients.
  const auto deadline = clock_type::now() + 5s;
  while (!ended && clock_type::now() < deadline) {
    auto m = (*first)->next(50ms);
    if (!m) ended = m.error();
  }
  ASSERT_TRUE(ended.has_value()) << "the subscription stayed on the old master";
  EXPECT_EQ(ended->code, make_error_code(errc::transient)) << ended->message();

  auto second = redis.subscribe(options);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(redis.sentinel_stats()->master, address_of(new_port));
  auto heard = redis.publish("news", as_byte_view("hello"));
  ASSERT_TRUE(heard) << heard.error().message();
  EXPECT_EQ(*heard, 1u);
  std::optional<pushed_message> got;
  const auto until = clock_type::now() + 5s;
  while (!got && clock_type::now() < until) {
    auto m = (*second)->next(50ms);
    ASSERT_TRUE(m) << m.error().message();
    if (*m) got = std::move(**m);
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->channel, "news");
  EXPECT_EQ(as_text(got->payload), "hello");
}

TEST_F(redis_sentinel, the_listener_moves_to_the_next_sentinel_when_its_own_goes_away) {
  {
    redis_backend redis(sentinel_options(group_->url()));
    ASSERT_TRUE(redis.set("k", as_byte_view("v"), std::nullopt));  // sentinel 0 answered
    std::this_thread::sleep_for(500ms);  // the listener subscribes on sentinel 0
    group_->stop_sentinel(0);
    const int old_port = group_->master_port();
    std::this_thread::sleep_for(500ms);  // and, its connection closed, on sentinel 1
    group_->force_failover();
    const int new_port = group_->wait_for_new_master(old_port, std::chrono::seconds(30));
    const auto deadline = clock_type::now() + 10s;
    while (redis.sentinel_stats()->master != address_of(new_port) && clock_type::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    const auto stats = redis.sentinel_stats();
    EXPECT_EQ(stats->master, address_of(new_port));
    EXPECT_GE(stats->switch_messages, 1u);
    EXPECT_EQ(stats->unusable_reports, 0u);  // no command ran: the listener moved it
  }
  group_->restart_sentinel(0);
}

// Without the +switch-master listener, the backend still follows: the demoted master's
// READONLY, its killed connections or its ROLE make the locator ask the sentinels again.
TEST_F(redis_sentinel, without_the_listener_readonly_or_a_lost_connection_rediscovers) {
  auto endpoint = *detail::parse_redis_url(group_->url());
  detail::redis_connect_settings settings{
      .endpoint = endpoint,
      .where = endpoint.describe(),
      .connect_timeout = 300ms,
      .command_timeout = 500ms,
      .locator = std::make_shared<detail::redis_master_locator>(*endpoint.sentinel, 300ms, 500ms,
                                                                /*listen=*/false)};
  detail::redis_pool pool(settings, 2);
  auto set = [&](std::string_view value) -> result<void> {
    auto lease = pool.acquire("SET");
    if (!lease) return std::move(lease).error();
    const std::array<std::string_view, 3> argv = {"SET", "k", value};
    auto reply = (*lease)->run("SET", argv);
    if (!reply) return std::move(reply).error();
    return {};
  };
  ASSERT_TRUE(set("before"));
  const int old_port = group_->master_port();
  group_->force_failover();
  const int new_port = group_->wait_for_new_master(old_port, std::chrono::seconds(30));
  // Until the sentinels have demoted the old master, it still takes writes (that is how
  // asynchronous replication loses them); wait for its READONLY.
  redis_backend old_master({.url = "redis://" + address_of(old_port) + "/0"});
  const auto demoting = clock_type::now();
  while (old_master.set("probe", as_byte_view("x"), std::nullopt) &&
         clock_type::now() - demoting < 30s) {
    std::this_thread::sleep_for(20ms);
  }
  const auto demoted_after =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - demoting);
  ASSERT_LT(demoted_after, 30s) << "the sentinels never demoted the old master";
  // At most one call fails (READONLY on a pooled connection that survived), then the locator
  // has asked again.
  int failed = 0;
  while (!set("after") && failed < 2) ++failed;
  EXPECT_LE(failed, 1);
  const auto stats = settings.locator->stats();
  std::printf(
      "[ sentinel ] no listener: old master read-only %lld ms after the sentinels named "
      "the new one; %d call(s) failed before the locator moved; %llu report(s)\n",
      static_cast<long long>(demoted_after.count()), failed,
      static_cast<unsigned long long>(stats.unusable_reports));
  EXPECT_EQ(stats.master, address_of(new_port));
  EXPECT_EQ(stats.switch_messages, 0u);
  EXPECT_GE(stats.unusable_reports, 1u);
  EXPECT_GE(stats.discoveries, 2u);
  redis_backend direct({.url = "redis://" + address_of(new_port) + "/0"});
  auto got = direct.get("k");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(as_text(**got), "after");
}

TEST_F(redis_sentinel, a_forked_child_finds_the_master_itself) {
  if (CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED) GTEST_SKIP() << "sanitizer and fork";
  redis_backend redis(sentinel_options(group_->url()));
  ASSERT_TRUE(redis.set("parent", as_byte_view("p"), std::nullopt));  // listener thread running
  testing::forked_child child([&](int fd) {
    if (!redis.set("child", as_byte_view("c"), std::nullopt)) return 1;
    auto got = redis.get("parent");
    if (!got || !got->has_value() || as_text(**got) != "p") return 2;
    const auto stats = redis.sentinel_stats();
    const std::string line = stats->master + " " + std::to_string(stats->discoveries);
    (void)testing::write_all(fd, line.data(), line.size());
    return 0;
  });
  const auto outcome = child.finish(10s);
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  // The child asked the sentinels itself (its parent's count was 1).
  EXPECT_EQ(outcome.output, address_of(group_->master_port()) + " 2");
  auto got = redis.get("child");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(as_text(**got), "c");
  EXPECT_EQ(redis.sentinel_stats()->discoveries, 1u);
}

// Sentinels that require a password: sentinel_password logs in to them (the master has
// none); a wrong one is backend_authentication, and no message repeats it.
TEST(redis_sentinel_auth, sentinel_password_logs_in_and_a_wrong_one_is_an_authentication_error) {
  redis_sentinel_group group("s3ntinel-pw");
  redis_backend good(sentinel_options(
      group.url(redis_sentinel_group::service, "?sentinel_password=s3ntinel%2Dpw")));
  ASSERT_TRUE(good.set("k", as_byte_view("v"), std::nullopt));
  auto got = good.get("k");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(as_text(**got), "v");
  EXPECT_EQ(good.sentinel_stats()->master, address_of(group.master_port()));

  for (const std::string query : {"?sentinel_password=wrong-pw", ""}) {
    redis_backend bad(sentinel_options(group.url(redis_sentinel_group::service, query)));
    auto refused = bad.get("k");
    ASSERT_FALSE(refused) << query;
    EXPECT_EQ(refused.error().code, make_error_code(errc::backend_authentication))
        << query << ": " << refused.error().message();
    EXPECT_NE(refused.error().detail.find("sentinel_password"), std::string::npos)
        << refused.error().detail;
    EXPECT_EQ(refused.error().detail.find("wrong-pw"), std::string::npos) << refused.error().detail;
  }
}

}  // namespace
}  // namespace cachekit
