// Key text is wiped where it lies before its buffer is freed.
#include <gtest/gtest.h>

#include "cache/env_config.hpp"
#include "core/wipe.hpp"

#include <string>

namespace cachekit::detail {
namespace {

// A fixed random key (openssl rand -hex 32): from_env refuses a counting sequence (00 01 02 ...).
const std::string key_hex = "3f8b0c6e91d2a47c5e03b9f1d8624a7e0c95b3d1f6e84a2b7c0d19e5a3f6b2c8";

TEST(wipe, overwrites_the_characters_in_place) {
  std::string text = key_hex;
  const char* buffer = text.data();
  const std::size_t size = text.size();
  wipe(text);
  EXPECT_TRUE(text.empty());
  ASSERT_EQ(text.data(), buffer);  // still owned by `text`, so reading it is defined
  for (std::size_t i = 0; i < size; ++i) EXPECT_NE(buffer[i], key_hex[i]) << i;
}

TEST(wipe, guard_wipes_at_scope_end) {
  std::optional<std::string> text = key_hex;
  const char* buffer = text->data();
  { const wipe_on_exit guard(text); }
  ASSERT_TRUE(text.has_value());
  EXPECT_TRUE(text->empty());
  EXPECT_NE(std::string(buffer, 8), key_hex.substr(0, 8));
}

TEST(wipe, from_env_still_reads_the_master_key) {
  const std::string var = "CACHEKIT_MASTER_KEY=" + key_hex;
  const char* envp[] = {var.c_str(), nullptr};
  auto options = options_from_environ(intent::secure, envp);
  ASSERT_TRUE(options) << options.error().message();
  EXPECT_TRUE(options->encryption.has_value());
}

}  // namespace
}  // namespace cachekit::detail
