// Memory a memoized function keeps outside the L1 budget (issue 10): `clear()` finds entries by
// the function's key prefix instead of a set of written keys, nothing per key grows with the
// number of distinct calls, and object mode is bounded per function and per cache.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>

#if defined(__GLIBC__)
#include <malloc.h>  // mallinfo2, for the heap measurements
#endif

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cachekit {
namespace {

std::size_t heap_in_use() {
#if defined(__GLIBC__)
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;  // in-use heap plus mmap()ed blocks
#else
  return 0;
#endif
}

bool heap_measurable() {
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(CACHEKIT_L1_SANITIZED)
  return true;
#else
  return false;
#endif
}

cache_options l1_only(std::size_t l1_bytes) {
  cache_options options;
  options.l1_max_bytes = l1_bytes;
  return options;
}

// The old set of written keys stopped growing at 2^20 keys and kept the OLDEST, so the newest
// entries survived clear() and still hit.
TEST(memoize_memory, clear_drops_every_l1_entry_even_past_a_million_distinct_calls) {
  cache c(l1_only(std::size_t{8} << 20));
  std::int64_t runs = 0;
  auto square = c.memoize("tests.memory.square", [&runs](std::int64_t x) {
    ++runs;
    return x * x;
  });
  constexpr std::int64_t calls = (std::int64_t{1} << 20) + 2000;
  for (std::int64_t i = 0; i < calls; ++i) (void)square(i);
  ASSERT_GT(c.l1().entries, 2000u);
  square.clear();
  EXPECT_EQ(c.l1().entries, 0u);
  runs = 0;
  for (std::int64_t i = calls - 2000; i < calls; ++i) (void)square(i);
  EXPECT_EQ(runs, 2000);  // every one of the newest keys missed
}

TEST(memoize_memory, clear_keeps_other_functions_entries) {
  cache c(l1_only(std::size_t{8} << 20));
  auto twice = c.memoize("tests.memory.twice", [](std::int64_t x) { return 2 * x; });
  auto thrice = c.memoize("tests.memory.thrice", [](std::int64_t x) { return 3 * x; });
  auto in_ns =
      c.memoize("tests.memory.twice", [](std::int64_t x) { return 2 * x; }, {.ns = "other"});
  for (std::int64_t i = 0; i < 100; ++i) {
    (void)twice(i);
    (void)thrice(i);
    (void)in_ns(i);
  }
  twice.clear();
  EXPECT_EQ(c.l1().entries, 200u);
  (void)thrice(1);
  (void)in_ns(1);
  EXPECT_EQ(thrice.info().l1_hits, 1u);
  EXPECT_EQ(in_ns.info().l1_hits, 1u);
}

// The bookkeeping must not grow with distinct calls once L1 is full: the old set cost ~190 B a
// call (38 MB over these 200,000 calls) and outlived L1's evictions.
TEST(memoize_memory, heap_stays_flat_over_200k_distinct_calls_once_l1_is_full) {
  if (!heap_measurable()) GTEST_SKIP() << "needs glibc's mallinfo2 and no sanitizer allocator";
  cache c(l1_only(std::size_t{4} << 20));
  auto square = c.memoize("tests.memory.flat", [](std::int64_t x) { return x * x; });
  std::int64_t next = 0;
  for (; next < 200'000; ++next) (void)square(next);  // fills L1 (~14,000 entries)
  const std::size_t before = heap_in_use();
  for (const std::int64_t end = next + 200'000; next < end; ++next) (void)square(next);
  const std::size_t after = heap_in_use();
  const std::size_t growth = after > before ? after - before : 0;
  EXPECT_LT(growth, std::size_t{1} << 20) << "heap grew by " << growth << " bytes";
}

TEST(memoize_memory, clear_reaches_l2_entries_other_processes_wrote) {
  auto l2 = std::make_shared<memory_backend>();
  cache mine(cache_options{.l2 = l2});
  cache theirs(cache_options{.l2 = l2});  // another process: it shares only the L2
  auto f = [](std::int64_t x) { return x + 1; };
  auto my_fn = mine.memoize("tests.memory.shared", f);
  auto their_fn = theirs.memoize("tests.memory.shared", f);
  auto other_fn = theirs.memoize("tests.memory.unrelated", f);
  for (std::int64_t i = 0; i < 50; ++i) {
    (void)their_fn(i);
    (void)other_fn(i);
  }
  (void)my_fn(1000);
  my_fn.clear();
  for (std::int64_t i = 0; i < 50; ++i) {
    EXPECT_FALSE(l2->exists(their_fn.key(i).value()).value()) << i;
    EXPECT_TRUE(l2->exists(other_fn.key(i).value()).value()) << i;
  }
  EXPECT_FALSE(l2->exists(my_fn.key(1000).value()).value());
}

TEST(memoize_memory, interop_clear_drops_its_operation_only) {
  auto l2 = std::make_shared<memory_backend>();
  cache c(cache_options{.l2 = l2});
  auto get = c.memoize_interop("users", "get", [](std::int64_t x) { return x; });
  auto list = c.memoize_interop("users", "get_all", [](std::int64_t x) { return x; });
  for (std::int64_t i = 0; i < 20; ++i) {
    (void)get(i);
    (void)list(i);
  }
  get.clear();
  EXPECT_EQ(c.l1().entries, 20u);
  EXPECT_FALSE(l2->exists(get.key(3).value()).value());
  EXPECT_TRUE(l2->exists(list.key(3).value()).value());
}

TEST(memory_backend_prefix, erase_prefix_spares_other_keys_and_fill_locks) {
  memory_backend store;
  const auto v = as_byte_view("v");
  ASSERT_TRUE(store.set("func:a:args:1", v, std::nullopt));
  ASSERT_TRUE(store.set("func:a:args:2", v, std::nullopt));
  ASSERT_TRUE(store.set("func:ab:args:1", v, std::nullopt));
  auto lock = store.try_lock("func:a:args:1", std::chrono::seconds{5});
  ASSERT_TRUE(lock && *lock);
  EXPECT_EQ(store.erase_prefix("func:a:args:").value(), 2u);
  EXPECT_TRUE(store.exists("func:ab:args:1").value());
  EXPECT_TRUE(store.release_lock(**lock).value());  // the lock survived
}

// ---- object mode ----------------------------------------------------------------------------

cache_options object_options(std::size_t per_function, std::size_t total,
                             std::size_t max_entries = 100'000) {
  cache_options options = cache_options::for_intent(intent::local);
  options.object_max_entries = max_entries;
  options.object_function_max_bytes = per_function;
  options.object_max_bytes = total;
  return options;
}

TEST(memoize_memory, object_mode_holds_no_more_than_its_byte_budget) {
  constexpr std::size_t budget = std::size_t{64} << 10;
  cache c(object_options(budget, std::size_t{1} << 20));
  auto name = c.memoize("tests.memory.name", [](std::int64_t i) { return std::to_string(i); });
  for (std::int64_t i = 0; i < 5'000; ++i) (void)name(i);
  const std::size_t entries = name.info().currsize.value_or(0);
  EXPECT_GT(entries, 100u);
  // Each entry is charged at least sizeof(std::string) + object_entry_overhead.
  EXPECT_LE(entries * (sizeof(std::string) + object_entry_overhead), budget) << entries;
}

struct document {
  std::string title;
  std::vector<std::string> lines;
  std::map<std::string, std::int64_t> counts;
  MSGPACK_DEFINE_MAP(title, lines, counts);
};

document make_document(std::int64_t i) {
  document d{.title = "document " + std::to_string(i) + std::string(100, 't')};
  for (int line = 0; line < 40; ++line) d.lines.push_back(std::string(200, 'a' + line % 26));
  for (int w = 0; w < 20; ++w) d.counts["word-with-a-long-name-" + std::to_string(w)] = w;
  return d;
}

// The budget used to count sizeof(result) only: 200 results of 10 KB each (2 MB of heap) all
// stayed in a 256 KiB budget, each charged ~40 bytes plus overhead.
TEST(memoize_memory, object_mode_budget_counts_the_heap_results_hold) {
  constexpr std::size_t budget = std::size_t{256} << 10;
  cache c(object_options(budget, std::size_t{1} << 20));
  auto page = c.memoize("tests.memory.page", [](std::int64_t i) {
    return std::string(10'000, static_cast<char>('a' + i % 26));
  });
  auto doc = c.memoize("tests.memory.doc", make_document);
  const std::size_t heap_before = heap_in_use();
  for (std::int64_t i = 0; i < 200; ++i) {
    (void)page(i);
    (void)doc(i);
  }
  const std::size_t pages = page.info().currsize.value_or(0);
  EXPECT_GE(pages, 10u);
  EXPECT_LE(pages * footprint(std::string(10'000, 'x')), budget) << pages << " pages held";
  const std::size_t docs = doc.info().currsize.value_or(0);
  const std::size_t doc_bytes = footprint(make_document(0));
  EXPECT_GT(doc_bytes, 40u * 200u);  // the lines are counted, not just sizeof(document)
  EXPECT_GE(docs, 5u);
  EXPECT_LE(docs * doc_bytes, budget) << docs << " documents held";
  if (heap_measurable()) {
    // What malloc really holds for both functions' entries: the two budgets, plus allocator
    // headers and the L1's tables.
    EXPECT_LT(heap_in_use() - heap_before, 2 * budget + (std::size_t{128} << 10));
  }
}

TEST(memoize_memory, object_mode_functions_share_the_caches_byte_total) {
  cache c(object_options(std::size_t{64} << 10, std::size_t{192} << 10));
  auto f = [](std::int64_t x) { return x; };
  std::optional<memoized<decltype(f)>> first(c.memoize("tests.memory.o1", f));
  auto second = c.memoize("tests.memory.o2", f);
  auto third = c.memoize("tests.memory.o3", f);
  EXPECT_THROW((void)c.memoize("tests.memory.o4", f), error);
  first.reset();  // its share returns to the cache
  EXPECT_NO_THROW((void)c.memoize("tests.memory.o4", f));
}

// A function that is never called costs little: shards allocate their tables and ghost queues
// on first use (they used to cost ~7 KB per function up front).
TEST(memoize_memory, an_uncalled_object_mode_function_costs_under_3_kb) {
  if (!heap_measurable()) GTEST_SKIP() << "needs glibc's mallinfo2 and no sanitizer allocator";
  cache c(object_options(std::size_t{4} << 10, std::size_t{64} << 20, 256));  // the defaults'
                                                                              // 4 shards
  auto f = [](std::int64_t x) { return x; };
  std::vector<memoized<decltype(f)>> functions;
  functions.reserve(1000);
  const std::size_t before = heap_in_use();
  for (int i = 0; i < 1000; ++i) functions.push_back(c.memoize("tests.memory.idle", f));
  const std::size_t per_function = (heap_in_use() - before) / 1000;
  EXPECT_LT(per_function, 3000u) << per_function << " bytes per function";
}

}  // namespace
}  // namespace cachekit
