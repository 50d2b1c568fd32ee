// Header strings of stored entries are unauthenticated: what reaches an error message is short
// and printable.
#include <gtest/gtest.h>
#include <cachekit/frame.hpp>
#include <cachekit/storage_format.hpp>

#include "protocol/untrusted_text.hpp"

#include <string>

namespace cachekit {
namespace {

TEST(quote_untrusted, keeps_printable_ascii_and_escapes_everything_else) {
  EXPECT_EQ(detail::quote_untrusted("msgpack"), "msgpack");
  EXPECT_EQ(detail::quote_untrusted("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(detail::quote_untrusted("x\ny\x1b[31m\x7f"), "x\\x0ay\\x1b[31m\\x7f");
  EXPECT_EQ(detail::quote_untrusted("\xc3\xa9"), "\\xc3\\xa9");
}

TEST(quote_untrusted, cuts_long_text_and_says_how_long_it_was) {
  const std::string quoted = detail::quote_untrusted(std::string(1000, 'x'));
  EXPECT_EQ(quoted, std::string(detail::max_quoted_chars, 'x') + "... (1000 bytes)");
}

bool printable(const std::string& s) {
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7f) return false;
  }
  return true;
}

TEST(quote_untrusted, a_planted_header_reaches_error_details_short_and_escaped) {
  const std::string planted = "evil\r\n\x1b]0;owned\x07" + std::string(5000, 'A');
  auto prefix =
      frame::prefix::make({.serializer = planted, .metadata = frame::standard_metadata({})})
          .value();
  const byte_buffer stored = prefix.wrap(byte_buffer{});
  storage_format fmt({.mode = storage_mode::frame});
  auto opened = fmt.open(stored, "k");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), errc::serializer_mismatch);
  const std::string& detail = opened.error().detail;
  EXPECT_TRUE(printable(detail)) << detail;
  EXPECT_LT(detail.size(), 400u) << detail;
  EXPECT_NE(detail.find("evil\\x0d\\x0a\\x1b]0;owned\\x07"), std::string::npos) << detail;
}

TEST(quote_untrusted, a_planted_tenant_id_reaches_the_mismatch_detail_escaped) {
  auto ring =
      keyring::from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").value();
  frame::header h{.metadata = frame::standard_metadata({})};
  h.metadata.encrypted = true;
  h.metadata.tenant_id = "t\n" + std::string(300, 'z');
  h.metadata.encryption_algorithm = "AES-256-GCM";
  h.metadata.key_fingerprint = std::string(32, '0');
  auto prefix = frame::prefix::make(h).value();
  const byte_buffer stored = prefix.wrap(byte_buffer(40, std::byte{0}));
  storage_format fmt(
      {.mode = storage_mode::frame,
       .encryption = ring.for_tenant("6f1c2a3b-0000-4000-8000-00000000000a").value()});
  auto opened = fmt.open(stored, "k");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), errc::tenant_mismatch);
  const std::string& detail = opened.error().detail;
  EXPECT_TRUE(printable(detail)) << detail;
  EXPECT_LT(detail.size(), 300u) << detail;
}

}  // namespace
}  // namespace cachekit
