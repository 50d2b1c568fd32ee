#include <gtest/gtest.h>

#include "cache/lru_map.hpp"

#include <string>

namespace cachekit::detail {
namespace {

TEST(lru_map, full_map_drops_only_the_least_recently_used_entry) {
  lru_map<int> map(3);
  map.put("a", 1);
  map.put("b", 2);
  map.put("c", 3);
  ASSERT_NE(map.find("a"), nullptr);  // "a" is now the most recently used; "b" the least
  map.put("d", 4);
  EXPECT_EQ(map.size(), 3u);
  EXPECT_FALSE(map.contains("b"));
  EXPECT_EQ(*map.find("a"), 1);
  EXPECT_EQ(*map.find("c"), 3);
  EXPECT_EQ(*map.find("d"), 4);
}

TEST(lru_map, putting_a_held_key_replaces_its_value_without_dropping_another) {
  lru_map<int> map(2);
  map.put("a", 1);
  map.put("b", 2);
  EXPECT_EQ(map.put("a", 10), 10);
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(*map.find("b"), 2);
  EXPECT_EQ(*map.find("a"), 10);
}

TEST(lru_map, long_keys_stay_findable_after_reordering) {
  lru_map<int> map(4);
  const std::string long_key(100, 'k');  // heap-allocated: the index views the list's copy
  map.put(long_key, 7);
  for (int i = 0; i < 3; ++i) map.put(std::to_string(i), i);
  ASSERT_NE(map.find(long_key), nullptr);
  map.put("x", 9);  // drops "0", not the long key
  EXPECT_EQ(*map.find(long_key), 7);
  EXPECT_FALSE(map.contains("0"));
}

}  // namespace
}  // namespace cachekit::detail
