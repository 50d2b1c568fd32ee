// The reliability layer against real servers and real faults: Redis paused (SIGSTOP), killed,
// restarted on its port, down at start-up, a listener that accepts and never answers, and
// memcached killed and paused. Under 8 threads and each fault: no wrong value, no exception
// out of a call, every call bounded by the operation timeout (not by the length of the fault),
// the breaker opens, and L2 hits resume by themselves after the fault ends.
#include <cachekit/cache.hpp>
#include <cachekit/memcached_backend.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/local_server.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::local_server;
using steady = std::chrono::steady_clock;

// A recovery timeout short enough for a test; everything else is the production preset.
cache_options fault_options(std::shared_ptr<backend> l2) {
  cache_options options = cache_options::for_intent(intent::production);
  options.l2 = std::move(l2);
  options.l1_enabled = false;  // every call reaches L2
  options.reliability.circuit_breaker->recovery_timeout = 500ms;
  return options;
}

struct load_outcome {
  std::uint64_t calls = 0;
  std::uint64_t wrong = 0;
  std::uint64_t escaped = 0;
  steady::duration slowest{};
};

// `threads` threads call `f(k)` for keys 0..63 until `stop` is set; every result is checked.
template <typename Memoized>
load_outcome run_load(Memoized& f, const std::atomic<bool>& stop, int threads = 8) {
  std::atomic<std::uint64_t> calls{0}, wrong{0}, escaped{0};
  std::atomic<steady::rep> slowest{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::int64_t i = t; !stop.load(); ++i) {
        const std::int64_t k = i % 64;
        const auto started = steady::now();
        try {
          if (f(k) != k * 3) ++wrong;
        } catch (...) {
          ++escaped;
        }
        const auto took = (steady::now() - started).count();
        auto seen = slowest.load();
        while (took > seen && !slowest.compare_exchange_weak(seen, took)) {
        }
        ++calls;
      }
    });
  }
  for (auto& w : workers) w.join();
  return {calls.load(), wrong.load(), escaped.load(), steady::duration{slowest.load()}};
}

// Runs the load for `fault_length` while `during` holds (the fault is applied by the caller).
template <typename Memoized>
load_outcome load_for(Memoized& f, steady::duration fault_length) {
  std::atomic<bool> stop{false};
  std::thread timer([&] {
    std::this_thread::sleep_for(fault_length);
    stop = true;
  });
  auto outcome = run_load(f, stop);
  timer.join();
  return outcome;
}

// Polls until a call of `f` on a key stored before the fault is an L2 hit again.
template <typename Memoized>
steady::duration time_to_l2_hits(Memoized& f, std::int64_t stored_key, steady::duration limit) {
  const auto started = steady::now();
  while (steady::now() - started < limit) {
    const auto before = f.info().l2_hits;
    EXPECT_EQ(f(stored_key), stored_key * 3);
    if (f.info().l2_hits > before) return steady::now() - started;
    std::this_thread::sleep_for(20ms);
  }
  return steady::duration::max();
}

struct counted {
  std::atomic<std::uint64_t> calls{0};
  auto fn() {
    return [this](std::int64_t x) {
      ++calls;
      return x * 3;
    };
  }
};

// Slowest call allowed while a fault lasts: a read and a write, each bounded by the 200 ms
// operation timeouts (plus the retry budget for refused connections), with room for a loaded
// 2-core machine. Without the layer a hung Redis cost 2 timeouts on every call for as long as
// it hung; the point checked is that no call waits for the fault to end.
constexpr auto slowest_allowed = 1500ms;

void expect_absorbed(const load_outcome& o, const cache& c, const char* fault) {
  SCOPED_TRACE(fault);
  const cache_stats s = c.stats();
  std::printf(
      "[ fault    ] %-22s calls %6llu  wrong %llu  escaped %llu  slowest %5lld ms  "
      "l2 errors %llu  skipped %llu\n",
      fault, static_cast<unsigned long long>(o.calls), static_cast<unsigned long long>(o.wrong),
      static_cast<unsigned long long>(o.escaped),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(o.slowest).count()),
      static_cast<unsigned long long>(s.l2_errors), static_cast<unsigned long long>(s.l2_skipped));
  EXPECT_GT(o.calls, 0u);
  EXPECT_EQ(o.wrong, 0u);
  EXPECT_EQ(o.escaped, 0u);
  EXPECT_LT(o.slowest, slowest_allowed)
      << std::chrono::duration_cast<std::chrono::milliseconds>(o.slowest).count() << " ms";
  // Opened at least once (with a 500 ms recovery timeout it reopens after each failed probe).
  EXPECT_GE(std::stoul(c.health().details.at("circuit_breaker_opened")), 1u);
  EXPECT_GT(c.stats().l2_skipped, 0u) << "the open breaker spared the backend";
}

TEST(reliability_faults, redis_paused_then_resumed) {
  auto server = local_server::start_redis();
  counted f;
  cache c(fault_options(std::make_shared<redis_backend>(redis_options{.url = server->address()})));
  auto triple = c.memoize("fault.paused", f.fn());
  ASSERT_EQ(triple(1), 3);
  server->pause();
  const auto o = load_for(triple, 2s);
  server->resume();
  expect_absorbed(o, c, "paused");
  EXPECT_LT(time_to_l2_hits(triple, 1, 5s), 3s);
}

TEST(reliability_faults, redis_killed_then_restarted_on_its_port) {
  auto server = local_server::start_redis();
  counted f;
  cache c(fault_options(std::make_shared<redis_backend>(redis_options{.url = server->address()})));
  auto triple = c.memoize("fault.killed", f.fn());
  server->stop();
  const auto o = load_for(triple, 1500ms);
  expect_absorbed(o, c, "killed");
  server->restart();
  ASSERT_EQ(triple(2), 6);  // stores once the breaker lets it through
  EXPECT_LT(time_to_l2_hits(triple, 2, 5s), 3s);
}

// With L1 on, what a process computed while Redis was down is written back once it returns: a
// second process (no L1, as a Python service reading the same Redis) then hits instead of
// recomputing every key.
TEST(reliability_faults, results_computed_while_redis_was_down_are_written_back) {
  auto server = local_server::start_redis();
  counted f;
  cache_options options =
      fault_options(std::make_shared<redis_backend>(redis_options{.url = server->address()}));
  options.l1_enabled = true;
  cache c(std::move(options));
  auto triple = c.memoize("fault.write_back", f.fn(), {.ttl = 300s});
  server->stop();
  for (std::int64_t k = 0; k < 64; ++k) ASSERT_EQ(triple(k), k * 3);
  EXPECT_EQ(c.health().details.at("write_back_pending"), "64");
  server->restart();
  const auto restarted = steady::now();
  while (c.stats().written_back < 64 && steady::now() - restarted < 10s) {
    std::this_thread::sleep_for(20ms);
  }
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - restarted);
  std::printf("[ fault    ] write-back of 64 keys done %lld ms after the restart\n",
              static_cast<long long>(took.count()));
  ASSERT_EQ(c.stats().written_back, 64u);

  counted elsewhere;
  cache_options reader_options =
      fault_options(std::make_shared<redis_backend>(redis_options{.url = server->address()}));
  cache reader(std::move(reader_options));
  auto reader_triple = reader.memoize("fault.write_back", elsewhere.fn(), {.ttl = 300s});
  for (std::int64_t k = 0; k < 64; ++k) ASSERT_EQ(reader_triple(k), k * 3);
  EXPECT_EQ(elsewhere.calls.load(), 0u) << "every key was an L2 hit";
}

TEST(reliability_faults, redis_down_at_start_up_is_used_once_it_comes_up) {
  auto server = local_server::start_redis();
  server->stop();
  counted f;
  cache c(fault_options(std::make_shared<redis_backend>(redis_options{.url = server->address()})));
  auto triple = c.memoize("fault.late", f.fn());
  const auto o = load_for(triple, 1s);
  expect_absorbed(o, c, "refused at start-up");
  server->restart();
  ASSERT_EQ(triple(3), 9);
  EXPECT_LT(time_to_l2_hits(triple, 3, 5s), 3s);
}

// A socket that completes TCP handshakes (the kernel does, from the backlog) and never reads:
// the shape of a hung proxy or a half-dead host, which no real server produces on demand.
class black_hole {
 public:
  black_hole() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 1024), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~black_hole() { ::close(fd_); }
  [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(reliability_faults, a_listener_that_never_answers_costs_a_timeout_then_nothing) {
  black_hole hole;
  counted f;
  cache c(fault_options(std::make_shared<redis_backend>(redis_options{.url = hole.url()})));
  auto triple = c.memoize("fault.black_hole", f.fn());
  const auto o = load_for(triple, 1500ms);
  expect_absorbed(o, c, "black hole");
  EXPECT_LE(f.calls.load(), o.calls) << "callers of one key in flight share one call";
}

TEST(reliability_faults, memcached_killed_then_restarted) {
  auto server = local_server::start_memcached();
  counted f;
  cache c(fault_options(std::make_shared<memcached_backend>(memcached_options{
      .servers = {server->address()}, .connect_timeout = 200ms, .timeout = 200ms})));
  auto triple = c.memoize("fault.mc_killed", f.fn());
  server->stop();
  const auto o = load_for(triple, 1500ms);
  expect_absorbed(o, c, "memcached killed");
  server->restart();
  ASSERT_EQ(triple(4), 12);
  EXPECT_LT(time_to_l2_hits(triple, 4, 6s), 5s);
}

TEST(reliability_faults, memcached_paused_then_resumed) {
  auto server = local_server::start_memcached();
  counted f;
  cache c(fault_options(std::make_shared<memcached_backend>(memcached_options{
      .servers = {server->address()}, .connect_timeout = 200ms, .timeout = 200ms})));
  auto triple = c.memoize("fault.mc_paused", f.fn());
  ASSERT_EQ(triple(5), 15);
  server->pause();
  const auto o = load_for(triple, 1500ms);
  server->resume();
  expect_absorbed(o, c, "memcached paused");
  EXPECT_LT(time_to_l2_hits(triple, 5, 6s), 5s);
}

}  // namespace
}  // namespace cachekit
