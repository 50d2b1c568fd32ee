#include <gtest/gtest.h>

#include "backends/file/file_entry.hpp"

#include <chrono>
#include <string>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using detail::encode_file_header;
using detail::file_entry_expired;
using detail::file_expiry_for;
using detail::parse_file_entry;
using detail::parse_file_header;

byte_buffer hex(std::string_view h) {
  byte_buffer out;
  EXPECT_TRUE(from_hex(h, out)) << h;
  return out;
}

std::chrono::system_clock::time_point at(std::chrono::nanoseconds since_epoch) {
  return std::chrono::system_clock::time_point{
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch)};
}

TEST(file_entry, header_bytes_match_cachekit_py) {
  // cachekit-py 0.24.1 FileBackend._build_header(0) and (1700000060).
  EXPECT_EQ(to_hex(encode_file_header(0)), "434b010000000000000000000000");
  EXPECT_EQ(to_hex(encode_file_header(1'700'000'060)), "434b01000000000000006553f13c");
  EXPECT_EQ(to_hex(encode_file_header(0x0102030405060708)), "434b010000000102030405060708");
}

TEST(file_entry, parses_header_fields_and_payload) {
  const auto bytes =
      hex("434b0100000000000000"
          "6553f13c"
          "68656c6c6f");
  auto entry = parse_file_entry(bytes);
  ASSERT_TRUE(entry) << entry.error().message();
  EXPECT_EQ(entry->header.expiry, 1'700'000'060u);
  EXPECT_EQ(entry->header.flags, 0u);
  EXPECT_EQ(entry->header.reserved, 0u);
  EXPECT_FALSE(entry->header.has_unknown_transform());
  EXPECT_EQ(as_string_view(entry->payload), "hello");
  EXPECT_EQ(entry->payload.data(), bytes.data() + 14);  // a view, not a copy
}

TEST(file_entry, header_only_entry_has_an_empty_payload) {
  auto entry = parse_file_entry(hex("434b010000000000000000000000"));
  ASSERT_TRUE(entry);
  EXPECT_TRUE(entry->payload.empty());
  EXPECT_EQ(entry->header.expiry, 0u);
}

TEST(file_entry, rejects_input_shorter_than_the_header) {
  const byte_buffer full = hex("434b010000000000000000000000");
  for (std::size_t size = 0; size < 14; ++size) {
    auto entry = parse_file_entry(byte_view(full).first(size));
    ASSERT_FALSE(entry) << size;
    EXPECT_EQ(entry.code(), errc::truncated);
  }
}

TEST(file_entry, rejects_bad_magic_and_bad_version) {
  auto magic = parse_file_entry(hex("585801000000000000000000000061"));
  ASSERT_FALSE(magic);
  EXPECT_EQ(magic.code(), errc::malformed);
  auto lower = parse_file_entry(hex("636b01000000000000000000000061"));  // "ck"
  ASSERT_FALSE(lower);
  EXPECT_EQ(lower.code(), errc::malformed);
  for (const char* version : {"00", "02", "03", "ff"}) {
    auto entry = parse_file_entry(hex(std::string("434b") + version + "000000000000000000000061"));
    ASSERT_FALSE(entry) << version;
    EXPECT_EQ(entry.code(), errc::unsupported_version);
  }
}

TEST(file_entry, reports_reserved_and_flags_as_an_unknown_transform) {
  auto flags = parse_file_header(hex("434b01000001000000000000000061"));
  ASSERT_TRUE(flags);
  EXPECT_EQ(flags->flags, 1u);
  EXPECT_TRUE(flags->has_unknown_transform());
  auto high_flags = parse_file_header(hex("434b01008000000000000000000061"));
  ASSERT_TRUE(high_flags);
  EXPECT_EQ(high_flags->flags, 0x8000u);
  auto reserved = parse_file_header(hex("434b01070000000000000000000061"));
  ASSERT_TRUE(reserved);
  EXPECT_EQ(reserved->reserved, 7u);
  EXPECT_TRUE(reserved->has_unknown_transform());
}

TEST(file_entry, expiry_is_int_of_now_plus_ttl) {
  const auto now = at(1'700'000'000'750ms);
  EXPECT_EQ(file_expiry_for(std::nullopt, now).value(), 0u);
  EXPECT_EQ(file_expiry_for(0s, now).value(), 0u);
  EXPECT_EQ(file_expiry_for(60s, now).value(), 1'700'000'060u);
  EXPECT_EQ(file_expiry_for(1s, at(1'700'000'000'999'999'999ns)).value(), 1'700'000'001u);
  EXPECT_EQ(file_expiry_for(315'360'000s, now).value(), 2'015'360'000u);
}

TEST(file_entry, ttl_outside_zero_to_ten_years_is_permanent_error) {
  const auto now = at(1'700'000'000s);
  for (auto ttl : {-1s, -315'360'000s, 315'360'001s, std::chrono::seconds::max()}) {
    auto expiry = file_expiry_for(ttl, now);
    ASSERT_FALSE(expiry) << ttl.count();
    EXPECT_EQ(expiry.code(), errc::backend_permanent);
  }
  auto before_epoch = file_expiry_for(10s, at(-5s));
  ASSERT_FALSE(before_epoch);
  EXPECT_EQ(before_epoch.code(), errc::backend_permanent);
}

TEST(file_entry, expired_from_the_expiry_second_on) {
  EXPECT_FALSE(file_entry_expired(0, at(9'000'000'000s)));  // 0 never expires
  EXPECT_FALSE(file_entry_expired(1'700'000'060, at(1'700'000'060s - 1ns)));
  EXPECT_TRUE(file_entry_expired(1'700'000'060, at(1'700'000'060s)));  // py: now >= expiry
  EXPECT_TRUE(file_entry_expired(1, at(1'700'000'000s)));
  EXPECT_FALSE(file_entry_expired(~std::uint64_t{0}, at(1'700'000'000s)));
}

}  // namespace
}  // namespace cachekit
