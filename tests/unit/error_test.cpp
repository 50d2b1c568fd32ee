#include <gtest/gtest.h>
#include <cachekit/error.hpp>
#include <cachekit/result.hpp>

namespace cachekit {
namespace {

TEST(error, codes_compare_equal_to_their_group) {
  EXPECT_EQ(make_error_code(errc::checksum_mismatch), errc_group::corrupt_data);
  EXPECT_EQ(make_error_code(errc::authentication_failed), errc_group::security);
  EXPECT_EQ(make_error_code(errc::invalid_master_key), errc_group::fix_config);
  EXPECT_EQ(make_error_code(errc::timeout), errc_group::retry);
  EXPECT_NE(make_error_code(errc::timeout), errc_group::corrupt_data);
}

TEST(error, result_value_throws_cachekit_error_with_detail) {
  result<int> r = fail(errc::truncated, "envelope ends inside the checksum");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::truncated);
  try {
    (void)r.value();
    FAIL() << "value() must throw";
  } catch (const cachekit::error& e) {
    EXPECT_EQ(e.code(), errc::truncated);
    EXPECT_NE(std::string(e.what()).find("envelope ends inside the checksum"), std::string::npos);
  }
}

TEST(error, result_holds_value) {
  result<std::string> r = std::string("hit");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "hit");
  EXPECT_FALSE(r.code());
}

}  // namespace
}  // namespace cachekit
