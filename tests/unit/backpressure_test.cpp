#include <gtest/gtest.h>
#include <cachekit/backpressure.hpp>

#include "support/faulty_backend.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

TEST(backpressure_gate, admits_up_to_the_limit_then_refuses_when_nobody_may_wait) {
  backpressure_gate gate({.max_in_flight = 2, .max_waiting = 0});
  EXPECT_TRUE(gate.enter());
  EXPECT_TRUE(gate.enter());
  EXPECT_FALSE(gate.enter());
  EXPECT_EQ(gate.stats().rejected, 1u);
  gate.leave();
  EXPECT_TRUE(gate.enter());
  EXPECT_EQ(gate.stats().in_flight, 2u);
}

TEST(backpressure_gate, a_waiter_gets_the_slot_another_caller_frees) {
  backpressure_gate gate({.max_in_flight = 1, .max_waiting = 1, .max_wait = 5s});
  ASSERT_TRUE(gate.enter());
  std::atomic<bool> entered{false};
  std::thread waiter([&] { entered = gate.enter(); });
  while (gate.stats().waiting == 0) std::this_thread::yield();
  gate.leave();
  waiter.join();
  EXPECT_TRUE(entered.load());
}

TEST(backpressure_gate, a_waiter_gives_up_after_max_wait_and_a_full_queue_refuses_at_once) {
  backpressure_gate gate({.max_in_flight = 1, .max_waiting = 1, .max_wait = 50ms});
  ASSERT_TRUE(gate.enter());
  std::atomic<bool> entered{true};
  std::thread waiter([&] { entered = gate.enter(); });
  while (gate.stats().waiting == 0) std::this_thread::yield();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(gate.enter()) << "the queue of one is full";
  EXPECT_LT(std::chrono::steady_clock::now() - started, 40ms) << "a full queue must not wait";
  waiter.join();
  EXPECT_FALSE(entered.load());
  EXPECT_EQ(gate.stats().rejected, 2u);
}

TEST(backpressure_gate, refuses_a_limit_of_zero) {
  EXPECT_THROW(backpressure_gate({.max_in_flight = 0}), error);
}

TEST(backpressure_backend, bounds_the_operations_in_flight_and_sheds_the_rest) {
  auto slow = std::make_shared<testing::faulty_backend>();
  slow->delay(20ms);
  backpressure_backend gated(slow, {.max_in_flight = 3, .max_waiting = 2, .max_wait = 1ms});
  std::atomic<int> shed{0};
  std::atomic<int> served{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto got = gated.get("k");
        if (got) {
          ++served;
        } else {
          EXPECT_EQ(got.code(), make_error_code(errc::backpressure));
          ++shed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(slow->in_flight_peak(), 3u);
  EXPECT_GT(shed.load(), 0);
  EXPECT_GT(served.load(), 0);
  EXPECT_EQ(gated.gate().stats().in_flight, 0u) << "every slot was given back";
  EXPECT_EQ(gated.health().details.at("backpressure_rejected"), std::to_string(shed.load()));
}

}  // namespace
}  // namespace cachekit
