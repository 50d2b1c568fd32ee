// A cache used by a parent and then by forked children at once, over real Redis and memcached
// servers (issue 9): no process may read another's replies off a shared socket, and each must
// talk to the server over its own connections. Every value is derived from its key, so any
// reply meant for another request is caught exactly.
#include <cachekit/cache.hpp>
#include <cachekit/memcached_backend.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/forked_child.hpp"
#include "support/local_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using testing::child_outcome;
using testing::forked_child;
using testing::local_server;
using namespace std::chrono_literals;

constexpr int children = 4;
constexpr int key_count = 200;
constexpr auto run_for = 2500ms;
constexpr auto child_deadline = 30s;

std::string key_of(int i) {
  return "fork.k" + std::to_string(i);
}
// Long enough to need more than one read for a pipelined reply mix-up to show.
std::string value_of(int i) {
  return "value-" + std::to_string(i) + "-" + std::string(static_cast<std::size_t>(40 + i), 'x');
}

// What one process saw while hammering the cache.
struct tally {
  std::uint64_t calls = 0;
  std::uint64_t wrong = 0;   // a value that is not the one derived from its key
  std::uint64_t errors = 0;  // failed operations, plus the cache's own l2_errors
  std::uint64_t misses = 0;  // every key was written before the fork: a miss is a lost write
};

// Reads, writes and memoized calls on random keys until `run_for` has passed.
tally hammer(cache& c, std::uint32_t seed) {
  tally t;
  auto derive = c.memoize("tests.fork.derive", [](int i) { return value_of(i); });
  std::mt19937 random(seed);
  const auto until = std::chrono::steady_clock::now() + run_for;
  while (std::chrono::steady_clock::now() < until) {
    const int i = static_cast<int>(random() % key_count);
    switch (random() % 3) {
      case 0: {
        auto got = c.get<std::string>(key_of(i));
        if (!got) {
          ++t.errors;
        } else if (!got->has_value()) {
          ++t.misses;
        } else if (**got != value_of(i)) {
          ++t.wrong;
        }
        break;
      }
      case 1:
        if (!c.set(key_of(i), value_of(i))) ++t.errors;
        break;
      default:
        if (derive(i) != value_of(i)) ++t.wrong;
        break;
    }
    ++t.calls;
  }
  t.errors += c.stats().l2_errors + c.stats().corrupt_entries;
  return t;
}

// Sends `command` to a server on loopback `port` and returns the reply up to `end_marker`.
std::string ask_server(int port, const std::string& command, const std::string& end_marker) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      testing::write_all(fd, command.data(), command.size())) {
    char buffer[4096];
    while (reply.find(end_marker) == std::string::npos) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      reply.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return reply;
}

// The number after "name:" (Redis INFO) or "STAT name " (memcached stats).
std::uint64_t stat_value(const std::string& text, const std::string& label) {
  const auto at = text.find(label);
  if (at == std::string::npos) return 0;
  return std::stoull(text.substr(at + label.size()));
}

std::uint64_t redis_connections_received(int port) {
  // The bulk reply ends with the keyspace section's "\r\n" after the last stat we need.
  return stat_value(ask_server(port, "INFO stats\r\n", "total_net_input_bytes"),
                    "total_connections_received:");
}

std::uint64_t memcached_connections_received(int port) {
  return stat_value(ask_server(port, "stats\r\n", "END\r\n"), "STAT total_connections ");
}

class cache_fork : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    redis_ = local_server::start_redis().release();
    memcached_ = local_server::start_memcached().release();
  }
  static void TearDownTestSuite() {
    delete redis_;
    delete memcached_;
  }

  // L1 off: every read goes to the server, over the pool.
  static cache make_cache(std::shared_ptr<backend> l2) {
    cache_options options;
    options.l2 = std::move(l2);
    options.l1_enabled = false;
    return cache(std::move(options));
  }

  // Writes every key in the parent, forks `children` that hammer the cache while the parent
  // does too, and checks every process saw only right values and no errors.
  static void parent_and_children_share_the_cache(cache& c) {
    for (int i = 0; i < key_count; ++i) ASSERT_TRUE(c.set(key_of(i), value_of(i)));

    std::vector<std::unique_ptr<forked_child>> running;
    for (int n = 0; n < children; ++n) {
      running.push_back(std::make_unique<forked_child>([&c, n](int fd) {
        const tally t = hammer(c, static_cast<std::uint32_t>(n + 1));
        const std::string report = std::to_string(t.calls) + " " + std::to_string(t.wrong) + " " +
                                   std::to_string(t.errors) + " " + std::to_string(t.misses);
        return testing::write_all(fd, report.data(), report.size()) ? 0 : 3;
      }));
    }
    const tally mine = hammer(c, 100);
    EXPECT_GT(mine.calls, 100u);
    EXPECT_EQ(mine.wrong, 0u);
    EXPECT_EQ(mine.errors, 0u);
    EXPECT_EQ(mine.misses, 0u);
    for (auto& child : running) {
      const child_outcome out = child->finish(child_deadline);
      ASSERT_FALSE(out.timed_out);
      ASSERT_EQ(out.exit_code, 0);
      tally t;
      ASSERT_EQ(std::sscanf(out.output.c_str(), "%lu %lu %lu %lu", &t.calls, &t.wrong, &t.errors,
                            &t.misses),
                4)
          << out.output;
      EXPECT_GT(t.calls, 100u) << "child " << child->pid();
      EXPECT_EQ(t.wrong, 0u) << "values from another request, child " << out.output;
      EXPECT_EQ(t.errors, 0u) << "child " << out.output;
      EXPECT_EQ(t.misses, 0u) << "child " << out.output;
    }
  }

  static local_server* redis_;
  static local_server* memcached_;
};

local_server* cache_fork::redis_ = nullptr;
local_server* cache_fork::memcached_ = nullptr;

TEST_F(cache_fork, redis_parent_and_children_never_read_each_others_replies) {
  auto redis = std::make_shared<redis_backend>(redis_options{.url = redis_->address()});
  cache c = make_cache(redis);
  const std::uint64_t connections_before = redis_connections_received(redis_->port());
  const std::uint64_t pool_connects_before = redis->pool_stats().connects;
  parent_and_children_share_the_cache(c);
  // Each child connected on its own: the server counted at least one new connection per child
  // beyond the parent's (and this test's own INFO connections).
  const std::uint64_t connections_after = redis_connections_received(redis_->port());
  const std::uint64_t parent_connects = redis->pool_stats().connects - pool_connects_before;
  EXPECT_GE(connections_after - connections_before, parent_connects + children + 1);
}

TEST_F(cache_fork, memcached_parent_and_children_never_read_each_others_replies) {
  cache c = make_cache(
      std::make_shared<memcached_backend>(memcached_options{.servers = {memcached_->address()}}));
  const std::uint64_t connections_before = memcached_connections_received(memcached_->port());
  parent_and_children_share_the_cache(c);
  const std::uint64_t connections_after = memcached_connections_received(memcached_->port());
  EXPECT_GE(connections_after - connections_before, std::uint64_t{children + 1});
}

TEST_F(cache_fork, child_of_a_process_whose_threads_are_inside_the_cache_never_hangs) {
  if (CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED) {
    GTEST_SKIP() << "the sanitizer runtime is not fork-safe while other threads run "
                    "(tests/support/forked_child.hpp)";
  }
  // L1 on, Redis L2, encryption: parent threads hold L1 shard locks, pool locks, the keyring's
  // and the memoized function's locks at random moments of the forks.
  cache_options options;
  options.l2 = std::make_shared<redis_backend>(redis_options{.url = redis_->address()});
  options.encryption = encryption_options{
      .keys = keyring::from_hex("0e10303a6ad2f762254f02a9656b8405a89ded047113c9a59e8ff070b9eefc57")
                  .value(),
      .tenant = "fork-tenant"};
  cache c(std::move(options));
  auto derive = c.memoize("tests.fork.busy", [](int i) { return value_of(i); });
  for (int i = 0; i < key_count; ++i) ASSERT_EQ(derive(i), value_of(i));

  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int t = 0; t < 2; ++t) {
    busy.emplace_back([&, t] {
      std::mt19937 random(static_cast<std::uint32_t>(t));
      while (!stop.load(std::memory_order_relaxed)) {
        const int i = static_cast<int>(random() % (2 * key_count));  // hits, misses, L1 churn
        (void)derive(i);
        (void)c.set(key_of(i), value_of(i));
        if (random() % 8 == 0) derive.invalidate(i);
      }
    });
  }
  constexpr int rounds = 20;
  int good = 0;
  for (int round = 0; round < rounds; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(round % 5));
    forked_child child([&](int) {
      for (int i = 0; i < key_count; ++i) {
        if (derive(i) != value_of(i)) return 2;
        auto got = c.get<std::string>(key_of(i));
        if (got && got->has_value() && **got != value_of(i)) return 3;
        if (!c.set(key_of(i), value_of(i))) return 4;
      }
      return 0;
    });
    const child_outcome out = child.finish(std::chrono::seconds(10));
    EXPECT_FALSE(out.timed_out) << "the child of round " << round << " hung";
    EXPECT_EQ(out.exit_code, 0) << "round " << round;
    good += out.exit_code == 0 ? 1 : 0;
  }
  stop = true;
  for (auto& t : busy) t.join();
  EXPECT_EQ(good, rounds);
}

}  // namespace
}  // namespace cachekit
