#include <gtest/gtest.h>

#include <cachekit/secret_bytes.hpp>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace cachekit {
namespace {

static_assert(!std::is_copy_constructible_v<secret_bytes>, "copies must be explicit (clone)");
static_assert(!std::is_copy_assignable_v<secret_bytes>);
static_assert(std::is_nothrow_move_constructible_v<secret_bytes>);

byte_buffer sample() {
  return {std::byte{1}, std::byte{2}, std::byte{3}};
}

// The VmFlags line of the /proc/self/smaps mapping that holds `address` ("" when not found).
std::string vm_flags_of(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= at && at < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

bool excluded_from_core_dumps(const void* address) {
  std::istringstream flags(vm_flags_of(address));
  std::string flag;
  while (flags >> flag) {
    if (flag == "dd") return true;
  }
  return false;
}

TEST(secret_bytes, keys_sit_on_pages_excluded_from_core_dumps) {
  const int probe = 0;
  if (vm_flags_of(&probe).empty()) GTEST_SKIP() << "no /proc/self/smaps VmFlags here";
  const secret_bytes key(32);                     // an AES key: a shared slot
  const secret_bytes long_key(std::size_t{200});  // a long master key: pages of its own
  std::vector<secret_bytes> many;
  for (int i = 0; i < 100; ++i) many.emplace_back(std::size_t{32});  // past one page of slots
  EXPECT_TRUE(excluded_from_core_dumps(key.view().data())) << vm_flags_of(key.view().data());
  EXPECT_TRUE(excluded_from_core_dumps(long_key.view().data()));
  for (const auto& k : many) ASSERT_TRUE(excluded_from_core_dumps(k.view().data()));
  // An ordinary heap block is not: the check tells the two apart.
  const auto ordinary = std::make_unique<std::byte[]>(32);
  EXPECT_FALSE(excluded_from_core_dumps(ordinary.get())) << vm_flags_of(ordinary.get());
}

TEST(secret_bytes, a_reused_slot_starts_zeroed) {
  const std::byte* first = nullptr;
  {
    secret_bytes key(32);
    for (auto& b : key.writable()) b = std::byte{0x5a};
    first = key.view().data();
  }
  const secret_bytes again(32);
  EXPECT_EQ(again.view().data(), first);  // the slot just freed is taken first
  EXPECT_EQ(to_hex(again.view()), std::string(64, '0'));
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
