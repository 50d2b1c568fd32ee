// cachekit::footprint: the bytes a value holds, for byte budgets over decoded objects.
#include <gtest/gtest.h>

#include <cachekit/codec.hpp>
#include <cachekit/footprint.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace app {

// A user type with its own estimate, found by argument-dependent lookup.
struct image {
  std::vector<unsigned char> pixels;
  int width = 0;
};
std::size_t cachekit_footprint(const image& i) {
  return i.pixels.capacity() + 1000;  // 1000: what the decoder keeps elsewhere
}

}  // namespace app

namespace cachekit {
namespace {

TEST(footprint, a_short_string_held_inline_owns_no_heap) {
  EXPECT_EQ(heap_footprint(std::string("short")), 0u);
  EXPECT_EQ(footprint(std::string("short")), sizeof(std::string));
}

TEST(footprint, a_long_string_counts_its_capacity_and_terminator) {
  std::string text(1000, 'x');
  text.reserve(4000);
  EXPECT_EQ(heap_footprint(text), text.capacity() + 1);
  EXPECT_EQ(footprint(text), sizeof(std::string) + text.capacity() + 1);
}

TEST(footprint, vectors_count_capacity_and_what_each_element_owns) {
  std::vector<std::string> lines(3, std::string(100, 'l'));
  lines.reserve(8);
  EXPECT_EQ(heap_footprint(lines), 8 * sizeof(std::string) + 3 * (lines[0].capacity() + 1));
  std::vector<std::int64_t> numbers(10);
  EXPECT_EQ(heap_footprint(numbers), numbers.capacity() * 8);
}

TEST(footprint, maps_count_a_node_per_element_and_the_elements_heap) {
  std::map<std::string, std::string> m{{"k", std::string(50, 'v')}};
  const std::size_t node = sizeof(std::pair<const std::string, std::string>) + 4 * sizeof(void*);
  EXPECT_EQ(heap_footprint(m), node + m.at("k").capacity() + 1);
  std::unordered_map<int, int> u{{1, 2}, {3, 4}};
  EXPECT_EQ(heap_footprint(u), u.bucket_count() * sizeof(void*) +
                                   2 * (sizeof(std::pair<const int, int>) + 2 * sizeof(void*)));
}

TEST(footprint, optionals_pairs_tuples_and_variants_count_what_they_hold) {
  const std::string big(300, 'b');
  const std::size_t big_heap = heap_footprint(big);
  EXPECT_EQ(heap_footprint(std::optional<std::string>(big)), big_heap);
  EXPECT_EQ(heap_footprint(std::optional<std::string>()), 0u);
  EXPECT_EQ(heap_footprint(std::pair<int, std::string>(1, big)), big_heap);
  EXPECT_EQ(heap_footprint(std::tuple<std::string, int, std::string>(big, 2, big)), 2 * big_heap);
  EXPECT_EQ(heap_footprint(std::variant<int, std::string>(big)), big_heap);
  EXPECT_EQ(heap_footprint(std::variant<int, std::string>(7)), 0u);
}

struct user {
  std::int64_t id = 0;
  std::string name;
  std::vector<std::string> roles;
  std::optional<std::string> bio;
  MSGPACK_DEFINE_MAP(id, name, roles, bio);
};

TEST(footprint, msgpack_define_map_structs_are_counted_member_by_member) {
  const user u{.id = 1,
               .name = std::string(100, 'n'),
               .roles = {std::string(40, 'r'), "x"},
               .bio = std::string(500, 'b')};
  EXPECT_EQ(heap_footprint(u),
            heap_footprint(u.name) + heap_footprint(u.roles) + heap_footprint(u.bio));
  EXPECT_GT(footprint(u), sizeof(user) + 640);
  // Nested: a vector of them counts each one's heap.
  const std::vector<user> users{u, u};
  EXPECT_EQ(heap_footprint(users), users.capacity() * sizeof(user) + 2 * heap_footprint(u));
}

TEST(footprint, a_users_cachekit_footprint_overrides_the_default) {
  app::image img{.pixels = std::vector<unsigned char>(4096), .width = 64};
  EXPECT_EQ(heap_footprint(img), img.pixels.capacity() + 1000);
  EXPECT_EQ(footprint(img), sizeof(app::image) + img.pixels.capacity() + 1000);
  // Inside a container the hook still answers for each element.
  EXPECT_EQ(heap_footprint(std::optional<app::image>(img)), img.pixels.capacity() + 1000);
}

TEST(footprint, types_it_does_not_know_count_their_size_only) {
  struct opaque {
    int a[10];
  };
  EXPECT_EQ(footprint(opaque{}), sizeof(opaque));
  EXPECT_EQ(footprint(3.5), sizeof(double));
}

}  // namespace
}  // namespace cachekit
