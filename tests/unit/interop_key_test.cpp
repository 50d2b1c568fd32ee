// Interop (interop/v1) keys: canonical argument encoding and segment rules, checked against
// cachekit-py 0.24.1 (expected hex from cachekit.interop.canonical_args_bytes).
#include <cachekit/interop_key.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

std::string canonical_hex(const value_array& args) {
  auto bytes = interop_canonical_args(args);
  EXPECT_TRUE(bytes.has_value()) << bytes.error().message();
  return bytes ? to_hex(*bytes) : std::string();
}

errc canonical_error(const value_array& args) {
  auto bytes = interop_canonical_args(args);
  EXPECT_FALSE(bytes.has_value()) << "accepted: " << (bytes ? to_hex(*bytes) : "");
  return bytes ? errc{} : static_cast<errc>(bytes.code().value());
}

value utc(std::chrono::sys_time<std::chrono::microseconds> t,
          std::chrono::seconds offset = std::chrono::seconds{0}) {
  return datetime::from_utc(t, offset);
}

TEST(interop_key, has_the_documented_layout) {
  EXPECT_EQ(interop_key("users", "get_user", {42}).value(),
            "users:get_user:61598716255080080f6456eb065c2e51badfaa4320b0efe97469c29cffee8875");
  EXPECT_EQ(interop_key("users", "get_all", {}).value(),
            "users:get_all:8064bf5f945dba521b017bb3f32b31a293a6e16944838d171ea9e77fab085e8e");
}

TEST(interop_key, longest_key_is_194_characters) {
  const auto key = interop_key(std::string(64, 'a'), std::string(64, 'b'), {});
  EXPECT_EQ(key.value().size(), 194u);
}

TEST(interop_key, integral_floats_collapse_to_integers_within_int64_uint64) {
  // py: canonical_args_bytes([2.0, -0.0, 2.0**63, -2.0**63, 1e19, 1e300, 0.5, 2.0**64, -1.5,
  //                           -2.0**63 - 2**11])
  EXPECT_EQ(
      canonical_hex({2.0, -0.0, 0x1p63, -0x1p63, 1e19, 1e300, 0.5, 0x1p64, -1.5, -0x1p63 - 0x1p11}),
      "9a0200cf8000000000000000d38000000000000000cf8ac7230489e80000cb7e37e43c8800759ccb3fe000"
      "0000000000cb43f0000000000000cbbff8000000000000cbc3e0000000000001");
}

TEST(interop_key, nan_and_infinities_are_invalid_argument) {
  EXPECT_EQ(canonical_error({std::numeric_limits<double>::quiet_NaN()}), errc::invalid_argument);
  EXPECT_EQ(canonical_error({std::numeric_limits<double>::infinity()}), errc::invalid_argument);
  EXPECT_EQ(canonical_error({value{value_array{-std::numeric_limits<double>::infinity()}}}),
            errc::invalid_argument);
}

TEST(interop_key, maps_sort_by_utf8_bytes_at_every_level) {
  // py: [None, True, "x", b"\x01", [1, [2]], {"b": {"d": 1, "c": 2}, "a": []}]
  EXPECT_EQ(canonical_hex({value{}, true, "x", value::binary(as_byte_view("\x01")),
                           value_array{1, value_array{2}},
                           value_map{{"b", value_map{{"d", 1}, {"c", 2}}}, {"a", value_array{}}}}),
            "96c0c3a178c401019201910282a16190a16282a16302a16401");
}

TEST(interop_key, maps_with_non_string_or_duplicate_keys_are_rejected) {
  EXPECT_EQ(canonical_error({value_map{{1, 2}}}), errc::unsupported_type);
  EXPECT_EQ(canonical_error({value_map{{value::binary(as_byte_view("a")), 2}}}),
            errc::unsupported_type);
  EXPECT_EQ(canonical_error({value_map{{"a", 1}, {"a", 2}}}), errc::invalid_argument);
}

TEST(interop_key, sets_sort_by_encoded_bytes_and_deduplicate) {
  // py: [{frozenset({2, 1}), frozenset({1}), 1}]
  EXPECT_EQ(canonical_hex({value_set{{value_set{{2, 1}}, value_set{{1}}, 1}}}), "9193019101920102");
  // py: [{"a", 1.0, 1}]  ({1.0, 1} is one Python set element; here the encodings collapse)
  EXPECT_EQ(canonical_hex({value_set{{"a", 1.0, 1}}}), "919201a161");
  EXPECT_EQ(canonical_error({value_set{{1, std::numeric_limits<double>::quiet_NaN()}}}),
            errc::invalid_argument);
}

TEST(interop_key, aware_datetimes_are_epoch_seconds) {
  // py: [datetime(9999,12,31,23,59,59,999999,utc), datetime(1,1,1,0,0,0,1,utc),
  //      datetime(2024,1,1,5,30,tzinfo=+05:30)]
  using std::chrono::sys_days;
  const auto last = sys_days{std::chrono::year{9999} / 12 / 31} + 23h + 59min + 59s + 999999us;
  const auto first = sys_days{std::chrono::year{1} / 1 / 1} + 1us;
  EXPECT_EQ(canonical_hex({utc(last), utc(first), utc(sys_days{2024y / 1 / 1}, 5h + 30min)}),
            "93cf0000003afff44180d3fffffff1886e0900ce65920080");
}

TEST(interop_key, naive_datetimes_dates_and_times_are_rejected) {
  datetime naive;
  EXPECT_EQ(canonical_error({naive}), errc::invalid_argument);
  EXPECT_EQ(canonical_error({date{2024y / 1 / 1}}), errc::unsupported_type);
  EXPECT_EQ(canonical_error({time_of_day{1h, std::nullopt}}), errc::unsupported_type);
}

TEST(interop_key, uuid_is_lowercase_hyphenated_string) {
  EXPECT_EQ(canonical_hex({uuid{}}),
            "91d92430303030303030302d303030302d303030302d303030302d303030303030303030303030");
}

TEST(interop_key, strings_must_be_well_formed_utf8) {
  EXPECT_EQ(canonical_error({std::string("\xed\xb0\x80")}),
            errc::invalid_argument);  // lone surrogate
  EXPECT_EQ(canonical_error({std::string("ok\xf4\x90\x80\x80")}),
            errc::invalid_argument);                                            // > U+10FFFF
  EXPECT_EQ(canonical_hex({std::string("\xf4\x8f\xbf\xbf")}), "91a4f48fbfbf");  // U+10FFFF
}

TEST(interop_key, segments_must_fully_match_the_pattern) {
  for (const char* ok : {"a", "0", "a.b", "a-b_c.d", "users", "v2"}) {
    EXPECT_TRUE(validate_interop_namespace(ok).has_value()) << ok;
    EXPECT_TRUE(validate_interop_operation(ok).has_value()) << ok;
  }
  EXPECT_TRUE(validate_interop_operation(std::string(64, 'x')).has_value());
  for (const std::string& bad :
       {std::string(""), std::string("Users"), std::string("-a"), std::string(".a"),
        std::string("get:user"), std::string("a b"), std::string("users\n"), std::string(65, 'x'),
        std::string("a..b"), std::string("caf\xc3\xa9")}) {
    EXPECT_EQ(validate_interop_namespace(bad).code(), errc::invalid_key) << bad;
    EXPECT_EQ(validate_interop_operation(bad).code(), errc::invalid_key) << bad;
    EXPECT_EQ(interop_key("users", bad, {}).code(), errc::invalid_key) << bad;
  }
}

TEST(interop_key, namespaces_ns_and_nsapi_are_reserved_but_operations_may_use_them) {
  EXPECT_EQ(interop_key("ns", "op", {}).code(), errc::invalid_key);
  EXPECT_EQ(interop_key("nsapi", "op", {}).code(), errc::invalid_key);
  EXPECT_EQ(interop_key("users", "ns", {}).value(),
            "users:ns:8064bf5f945dba521b017bb3f32b31a293a6e16944838d171ea9e77fab085e8e");
}

TEST(interop_key, segment_errors_name_the_segment_and_the_rule) {
  const auto newline = interop_key("users\n", "get_user", {});
  EXPECT_NE(newline.error().detail.find("namespace \"users\\n\""), std::string::npos)
      << newline.error().detail;
  EXPECT_NE(newline.error().detail.find("^[a-z0-9][a-z0-9._-]{0,63}$"), std::string::npos);
  const auto dots = interop_key("users", "a..b", {});
  EXPECT_NE(dots.error().detail.find("operation \"a..b\""), std::string::npos);
  EXPECT_NE(dots.error().detail.find("'..'"), std::string::npos);
  EXPECT_NE(interop_key("ns", "x", {}).error().detail.find("reserved"), std::string::npos);
}

TEST(interop_key, segment_errors_come_before_argument_errors) {
  EXPECT_EQ(interop_key("Bad", "op", {std::numeric_limits<double>::quiet_NaN()}).code(),
            errc::invalid_key);
}

// ---- typed arguments ---------------------------------------------------------------------

TEST(interop_key_typed, matches_the_issue_example_vector) {
  // interop-mode.json issue_example_mixed: (42, "hello", {"b": 2, "a": 1})
  const std::string expected =
      "t:op:03a0edbae0c1b5816c431652268d1527730175cdc0b45807cb07e1025ff971f6";
  EXPECT_EQ(interop_key_for("t", "op", 42, "hello", std::map<std::string, int>{{"b", 2}, {"a", 1}})
                .value(),
            expected);
  EXPECT_EQ(interop_key("t", "op", {42, "hello", value_map{{"b", 2}, {"a", 1}}}).value(), expected);
}

TEST(interop_key_typed, applies_the_args_profile) {
  const auto same = [](const value_array& dynamic, const auto&... typed) {
    EXPECT_EQ(interop_key_for("t", "op", typed...).value(),
              interop_key("t", "op", dynamic).value());
  };
  same({2, 0}, 2.0, -0.0f);
  same({value_set{{3, 1, 2}}}, std::set<int>{3, 1, 2});
  same({value_set{{"b", "a"}}}, std::unordered_set<std::string>{"b", "a"});
  const auto instant = std::chrono::sys_days{2024y / 1 / 1} + 12h + 30min + 45s + 123456789ns;
  same({utc(std::chrono::floor<std::chrono::microseconds>(instant))}, instant);
  same({value{}, 7}, std::optional<int>{}, std::optional<int>{7});
  EXPECT_EQ(interop_key_for("t", "op", std::map<int, int>{{1, 2}}).code(), errc::unsupported_type);
  EXPECT_EQ(interop_key_for("t", "op", std::numeric_limits<double>::infinity()).code(),
            errc::invalid_argument);
  EXPECT_EQ(interop_key_for("Bad", "op", 1).code(), errc::invalid_key);
}

}  // namespace
}  // namespace cachekit
