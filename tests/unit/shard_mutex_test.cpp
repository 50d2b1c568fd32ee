// The L1 shard lock: writers exclude everyone, readers share. Run under ThreadSanitizer too: a
// broken exclusion shows up there as a data race on the plain fields below.
#include "l1/shard_mutex.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

using cachekit::detail::exclusive_lock;
using cachekit::detail::shard_mutex;
using cachekit::detail::shared_lock;

// Two plain (non-atomic) fields that writers change together: a reader that ever sees them
// differ, or a final count that is short, means the lock let two parties in.
struct guarded_pair {
  shard_mutex mutex;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
};

TEST(shard_mutex, writers_exclude_writers_and_readers) {
  guarded_pair pair;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> torn_reads{0};
  std::atomic<std::uint64_t> reads{0};
  constexpr int writers = 3;
  constexpr int readers = 5;
  constexpr std::uint64_t writes_each = 20000;

  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&] {
      while (reads.load() < 1000) std::this_thread::yield();  // overlap with the readers
      for (std::uint64_t i = 0; i < writes_each; ++i) {
        exclusive_lock lock(pair.mutex);
        ++pair.a;
        ++pair.b;
      }
    });
  }
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        shared_lock lock(pair.mutex);
        if (pair.a != pair.b) torn_reads.fetch_add(1);
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (int w = 0; w < writers; ++w) threads[static_cast<std::size_t>(w)].join();
  stop.store(true);
  for (std::size_t t = writers; t < threads.size(); ++t) threads[t].join();

  EXPECT_EQ(torn_reads.load(), 0u);
  EXPECT_EQ(pair.a, writers * writes_each);
  EXPECT_GT(reads.load(), 0u);
}

TEST(shard_mutex, readers_hold_it_together) {
  shard_mutex mutex;
  std::atomic<int> arrived{0};
  std::atomic<int> met{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      shared_lock lock(mutex);
      arrived.fetch_add(1);
      // Still holding the lock, wait (bounded) for the other reader to get in too.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
      while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      if (arrived.load() == 2) met.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(met.load(), 2);
}

TEST(shard_mutex, a_waiting_writer_gets_in_despite_a_stream_of_readers) {
  shard_mutex mutex;
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        shared_lock lock(mutex);
        std::this_thread::yield();
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds{20});
  const auto start = std::chrono::steady_clock::now();
  { exclusive_lock lock(mutex); }
  const auto waited = std::chrono::steady_clock::now() - start;
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_LT(waited, std::chrono::seconds{2});
}

}  // namespace
