// encryption_options::fail_closed, as cachekit-py's: an entry that fails authentication (sealed
// under a key this cache does not hold, or tampered) throws to the caller and stays in place;
// without it, the entry is a counted corrupt entry, evicted, and the function runs.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace cachekit {
namespace {

// Fixed random master keys (openssl rand -hex 32): a cache refuses patterned ones.
constexpr std::string_view writer_key =
    "5c1f0e8a9d2b4c6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e7";
constexpr std::string_view reader_key =
    "d94e27b1c08a5f63e4b27d9c1a0f8e36b5d4c3a2918070f6e5d4c3b2a1908f7e";

struct fail_closed_test : ::testing::Test {
  std::shared_ptr<memory_backend> l2 = std::make_shared<memory_backend>();
  std::atomic<int> calls{0};

  cache secure_cache(std::string_view key, bool fail_closed) {
    cache_options options = cache_options::for_intent(intent::secure);
    options.l2 = l2;
    options.l1_enabled = false;
    options.encryption =
        encryption_options{.keys = keyring::from_hex(key).value(), .fail_closed = fail_closed};
    return cache(std::move(options));
  }
  auto squaring() {
    return [this](std::int64_t n) {
      ++calls;
      return n * n;
    };
  }
};

TEST_F(fail_closed_test, an_entry_sealed_under_another_key_throws_and_is_kept) {
  auto writer = secure_cache(writer_key, false);
  ASSERT_EQ(writer.memoize("tests.fail_closed.square", squaring())(7), 49);

  auto reader = secure_cache(reader_key, true);
  auto square = reader.memoize("tests.fail_closed.square", squaring());
  const std::string key = square.key(7).value();
  try {
    (void)square(7);
    FAIL() << "fail_closed must refuse the entry";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc_group::security) << e.what();
    EXPECT_NE(std::string(e.what()).find("fail_closed"), std::string::npos) << e.what();
  }
  EXPECT_EQ(calls, 1) << "the function did not run for the refused call";
  EXPECT_TRUE(l2->exists(key).value()) << "the entry is kept for inspection";
  EXPECT_EQ(reader.stats().security_failures, 1u);
}

TEST_F(fail_closed_test, a_tampered_entry_throws_and_is_kept) {
  auto writer = secure_cache(writer_key, true);
  auto square = writer.memoize("tests.fail_closed.square", squaring());
  ASSERT_EQ(square(3), 9);
  const std::string key = square.key(3).value();
  byte_buffer stored = l2->get(key).value().value();
  stored[stored.size() - 1] ^= std::byte{0x01};  // a bit of the GCM tag
  ASSERT_TRUE(l2->set(key, stored, std::nullopt).has_value());
  try {
    (void)square(3);
    FAIL() << "a tampered entry must throw under fail_closed";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::authentication_failed)) << e.what();
  }
  EXPECT_EQ(l2->get(key).value().value(), stored) << "kept, byte for byte";
}

TEST_F(fail_closed_test, fail_open_evicts_counts_and_runs_the_function) {
  auto writer = secure_cache(writer_key, false);
  ASSERT_EQ(writer.memoize("tests.fail_closed.square", squaring())(5), 25);
  auto reader = secure_cache(reader_key, false);
  auto square = reader.memoize("tests.fail_closed.square", squaring());
  EXPECT_EQ(square(5), 25);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(reader.stats().security_failures, 1u);
  EXPECT_EQ(reader.stats().corrupt_entries, 1u);
  EXPECT_EQ(square(5), 25) << "the reader's own entry replaced the foreign one";
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace cachekit
