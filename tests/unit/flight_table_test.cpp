#include <gtest/gtest.h>
#include <cachekit/flight_table.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cachekit::detail {
namespace {

using namespace std::chrono_literals;

// What a memoized miss does with the table: lead and compute, or wait for the leader.
int shared_compute(flight_table& table, std::atomic<int>& runs, bool throw_it = false) {
  auto ticket = table.join("key");
  if (!ticket.leader()) return *std::static_pointer_cast<const int>(table.wait(ticket));
  try {
    ++runs;
    std::this_thread::sleep_for(50ms);  // long enough for every thread to arrive
    if (throw_it) throw std::runtime_error("the function failed");
    auto value = std::make_shared<const int>(42);
    table.finish(ticket, value, nullptr);
    return *value;
  } catch (...) {
    table.finish(ticket, nullptr, std::current_exception());
    throw;
  }
}

TEST(flight_table, sixty_four_callers_of_one_key_compute_once) {
  flight_table table;
  std::atomic<int> joined{0};
  std::atomic<int> runs{0};
  std::atomic<int> right{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 64; ++i) {
    threads.emplace_back([&] {
      auto ticket = table.join("key");
      if (!ticket.leader()) {
        ++joined;
        if (*std::static_pointer_cast<const int>(table.wait(ticket)) == 42) ++right;
        return;
      }
      ++runs;
      // The flight stays open until every other caller has joined it: all 63 must share it.
      while (joined.load() < 63) std::this_thread::yield();
      table.finish(ticket, std::make_shared<const int>(42), nullptr);
      ++right;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(right.load(), 64);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(table.in_flight(), 0u);
}

TEST(flight_table, the_leaders_exception_reaches_every_waiter) {
  flight_table table;
  std::atomic<int> runs{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      try {
        (void)shared_compute(table, runs, true);
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()) == "the function failed") ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 16);
  EXPECT_EQ(table.in_flight(), 0u);
}

TEST(flight_table, a_finished_flight_is_gone_and_the_next_caller_leads) {
  flight_table table;
  {
    auto first = table.join("k");
    ASSERT_TRUE(first.leader());
    auto second = table.join("k");
    EXPECT_FALSE(second.leader());
    table.finish(first, std::make_shared<const int>(1), nullptr);
    EXPECT_EQ(*std::static_pointer_cast<const int>(table.wait(second)), 1);
  }
  auto third = table.join("k");
  EXPECT_TRUE(third.leader());
  table.finish(third, std::make_shared<const int>(2), nullptr);
  auto other = table.join("other");
  EXPECT_TRUE(other.leader()) << "keys fly independently";
}

TEST(flight_table, a_leader_that_vanishes_releases_its_waiters_with_an_error) {
  flight_table table;
  std::optional<flight_table::ticket> leader(table.join("k"));
  auto waiter = table.join("k");
  leader.reset();  // destroyed without finish
  EXPECT_THROW((void)table.wait(waiter), std::logic_error);
  EXPECT_EQ(table.in_flight(), 0u);
}

}  // namespace
}  // namespace cachekit::detail
