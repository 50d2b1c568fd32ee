// Key text is wiped where it lies before its buffer is freed.
#include <gtest/gtest.h>

#include "cache/env_config.hpp"
#include "core/wipe.hpp"

#include <string>

namespace cachekit::detail {
namespace {

const std::string key_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

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
