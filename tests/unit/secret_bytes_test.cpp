#include <gtest/gtest.h>

#include <cachekit/secret_bytes.hpp>

#include <type_traits>

namespace cachekit {
namespace {

static_assert(!std::is_copy_constructible_v<secret_bytes>, "copies must be explicit (clone)");
static_assert(!std::is_copy_assignable_v<secret_bytes>);
static_assert(std::is_nothrow_move_constructible_v<secret_bytes>);

byte_buffer sample() {
  return {std::byte{1}, std::byte{2}, std::byte{3}};
}

TEST(secret_bytes, holds_a_copy_of_its_input) {
  byte_buffer input = sample();
  secret_bytes secret(input);
  input[0] = std::byte{9};
  EXPECT_EQ(to_hex(secret.view()), "010203");
}

TEST(secret_bytes, sized_constructor_is_zero_filled_and_writable) {
  secret_bytes secret(4);
  EXPECT_EQ(to_hex(secret.view()), "00000000");
  secret.writable()[1] = std::byte{0xAB};
  EXPECT_EQ(to_hex(secret.view()), "00ab0000");
}

TEST(secret_bytes, move_transfers_the_buffer_and_empties_the_source) {
  secret_bytes a(sample());
  const std::byte* block = a.view().data();
  secret_bytes b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_EQ(b.view().data(), block);
  EXPECT_EQ(to_hex(b.view()), "010203");
  secret_bytes c;
  c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(to_hex(c.view()), "010203");
}

TEST(secret_bytes, clone_is_independent) {
  secret_bytes a(sample());
  secret_bytes b = a.clone();
  b.writable()[0] = std::byte{7};
  EXPECT_EQ(to_hex(a.view()), "010203");
  EXPECT_EQ(to_hex(b.view()), "070203");
}

TEST(secret_bytes, equals_compares_size_and_contents) {
  secret_bytes a(sample());
  EXPECT_TRUE(a.equals(sample()));
  EXPECT_FALSE(a.equals(byte_buffer{std::byte{1}, std::byte{2}}));
  EXPECT_FALSE(a.equals(byte_buffer{std::byte{1}, std::byte{2}, std::byte{4}}));
  EXPECT_TRUE(secret_bytes().equals({}));
}

TEST(secure_wipe, zeroes_the_buffer) {
  byte_buffer buffer = sample();
  secure_wipe(buffer);
  EXPECT_EQ(to_hex(buffer), "000000");
  secure_wipe({});  // an empty span is fine
}

}  // namespace
}  // namespace cachekit
