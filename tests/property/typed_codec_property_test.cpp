// Typed results are stored exactly as the same data as a dynamic `value` is stored (which is what
// cachekit-py stores), in default and interop mode, for every kind of C++ type the typed codec
// takes: arithmetic types, strings, byte vectors, containers, optionals, tuples, maps and
// MSGPACK_DEFINE_MAP structs. Doubles include whole numbers, -0.0, NaN, infinities, 2^63, 2^64 and
// subnormals, which msgpack-cxx alone would pack as integers or float32. Strings include invalid
// UTF-8, which both paths must refuse the same way.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cachekit/codec.hpp>
#include <cachekit/memoized.hpp>
#include <cachekit/value.hpp>

#include "support/utf8_text.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cachekit {
namespace {

// ---- the C++ types under test ------------------------------------------------------------

struct inner_record {
  double weight = 0;
  std::optional<double> maybe;
  std::string label;
  MSGPACK_DEFINE_MAP(weight, maybe, label);
};

// Fields declared out of key order, so interop mode must reorder them.
struct outer_record {
  std::string zeta;
  double score = 0;
  std::int64_t count = 0;
  std::vector<inner_record> items;
  inner_record alpha;
  std::map<std::string, double> by_name;
  bool flag = false;
  std::vector<std::byte> raw;
  float ratio = 0;
  MSGPACK_DEFINE_MAP(zeta, score, count, items, alpha, by_name, flag, raw, ratio);
};

struct dated_record {
  datetime at;
  std::optional<date> day;
  time_of_day when;
  std::vector<datetime> history;
  MSGPACK_DEFINE_MAP(at, day, when, history);
};

// ---- the same data as a dynamic value ----------------------------------------------------

value to_value(bool b);
value to_value(double d);
value to_value(float f);
value to_value(const std::string& s);
value to_value(const std::vector<std::byte>& b);
value to_value(const inner_record& r);
value to_value(const outer_record& r);
value to_value(const datetime& t) {
  return t;
}
value to_value(const date& d) {
  return d;
}
value to_value(const time_of_day& t) {
  return t;
}
value to_value(const dated_record& r);
template <class I>
requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) value to_value(I i);
template <class T>
value to_value(const std::vector<T>& items);
template <class T, std::size_t N>
value to_value(const std::array<T, N>& items);
template <class T>
value to_value(const std::optional<T>& o);
template <class K, class V>
value to_value(const std::map<K, V>& m);
template <class K, class V>
value to_value(const std::unordered_map<K, V>& m);
template <class A, class B>
value to_value(const std::pair<A, B>& p);
template <class... T>
value to_value(const std::tuple<T...>& t);

value to_value(bool b) {
  return b;
}
value to_value(double d) {
  return d;
}
value to_value(float f) {
  return static_cast<double>(f);
}
value to_value(const std::string& s) {
  return s;
}
value to_value(const std::vector<std::byte>& b) {
  return value::binary(b);
}
template <class I>
requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) value to_value(I i) {
  return value(
      static_cast<std::conditional_t<std::is_signed_v<I>, std::int64_t, std::uint64_t>>(i));
}
template <class T>
value to_value(const std::vector<T>& items) {
  value_array out;
  for (const auto& x : items) out.push_back(to_value(x));
  return out;
}
template <class T, std::size_t N>
value to_value(const std::array<T, N>& items) {
  value_array out;
  for (const auto& x : items) out.push_back(to_value(x));
  return out;
}
template <class T>
value to_value(const std::optional<T>& o) {
  return o ? to_value(*o) : value();
}
template <class K, class V>
value to_value(const std::map<K, V>& m) {
  value_map out;
  for (const auto& [k, v] : m) out.emplace_back(to_value(k), to_value(v));
  return out;
}
template <class K, class V>
value to_value(const std::unordered_map<K, V>& m) {
  value_map out;  // iteration order, as the typed packer walks it
  for (const auto& [k, v] : m) out.emplace_back(to_value(k), to_value(v));
  return out;
}
template <class A, class B>
value to_value(const std::pair<A, B>& p) {
  return value_array{to_value(p.first), to_value(p.second)};
}
template <class... T>
value to_value(const std::tuple<T...>& t) {
  return std::apply([](const auto&... x) { return value(value_array{to_value(x)...}); }, t);
}
value to_value(const inner_record& r) {
  return value_map{
      {"weight", to_value(r.weight)}, {"maybe", to_value(r.maybe)}, {"label", to_value(r.label)}};
}
value to_value(const outer_record& r) {
  return value_map{
      {"zeta", to_value(r.zeta)},   {"score", to_value(r.score)}, {"count", to_value(r.count)},
      {"items", to_value(r.items)}, {"alpha", to_value(r.alpha)}, {"by_name", to_value(r.by_name)},
      {"flag", to_value(r.flag)},   {"raw", to_value(r.raw)},     {"ratio", to_value(r.ratio)}};
}

value to_value(const dated_record& r) {
  return value_map{{"at", to_value(r.at)},
                   {"day", to_value(r.day)},
                   {"when", to_value(r.when)},
                   {"history", to_value(r.history)}};
}

// ---- generators --------------------------------------------------------------------------

// Doubles msgpack-cxx would normalise, edge values, whole numbers and anything at all.
rc::Gen<double> doubles() {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> special = {3.0,
                                       -0.0,
                                       0.0,
                                       -7.0,
                                       std::numeric_limits<double>::quiet_NaN(),
                                       -std::numeric_limits<double>::quiet_NaN(),
                                       inf,
                                       -inf,
                                       9223372036854775808.0,   // 2^63
                                       18446744073709551616.0,  // 2^64
                                       -9223372036854775808.0,  // -2^63
                                       9007199254740993.0,
                                       std::numeric_limits<double>::denorm_min(),
                                       -std::numeric_limits<double>::denorm_min() * 3,
                                       std::numeric_limits<double>::min() / 2,
                                       std::numeric_limits<double>::max(),
                                       std::numeric_limits<double>::lowest(),
                                       1e300,
                                       0.1};
  return rc::gen::oneOf(
      rc::gen::elementOf(special),
      rc::gen::map(rc::gen::arbitrary<std::int64_t>(),
                   [](std::int64_t i) { return static_cast<double>(i); }),
      rc::gen::map(rc::gen::arbitrary<std::uint64_t>(),
                   [](std::uint64_t bits) { return std::bit_cast<double>(bits); }),
      rc::gen::arbitrary<double>());
}

rc::Gen<float> floats() {
  return rc::gen::oneOf(
      rc::gen::elementOf(std::vector<float>{3.0F, -0.0F, std::numeric_limits<float>::quiet_NaN(),
                                            std::numeric_limits<float>::infinity(),
                                            std::numeric_limits<float>::denorm_min(), 16777217.0F,
                                            9223372036854775808.0F}),
      rc::gen::map(rc::gen::arbitrary<std::uint32_t>(),
                   [](std::uint32_t bits) { return std::bit_cast<float>(bits); }));
}

// Mostly valid UTF-8 (any code point), sometimes arbitrary bytes (usually invalid).
rc::Gen<std::string> strings() {
  return rc::gen::oneOf(rc::gen::map(rc::gen::container<std::vector<std::uint32_t>>(rc::gen::oneOf(
                                         rc::gen::inRange<std::uint32_t>(0, 0x80),
                                         rc::gen::inRange<std::uint32_t>(0x80, 0xd800),
                                         rc::gen::inRange<std::uint32_t>(0xe000, 0x110000))),
                                     testing::utf8_of),
                        rc::gen::string<std::string>());
}

rc::Gen<std::vector<std::byte>> byte_vectors() {
  return rc::gen::map(rc::gen::arbitrary<std::vector<std::uint8_t>>(), [](const auto& in) {
    std::vector<std::byte> out;
    for (auto b : in) out.push_back(std::byte{b});
    return out;
  });
}

template <class T>
rc::Gen<std::optional<T>> optionals(rc::Gen<T> inner) {
  return rc::gen::oneOf(rc::gen::just(std::optional<T>{}),
                        rc::gen::map(std::move(inner), [](T v) { return std::optional<T>(v); }));
}

rc::Gen<inner_record> inner_records() {
  return rc::gen::build<inner_record>(rc::gen::set(&inner_record::weight, doubles()),
                                      rc::gen::set(&inner_record::maybe, optionals(doubles())),
                                      rc::gen::set(&inner_record::label, strings()));
}

rc::Gen<outer_record> outer_records() {
  return rc::gen::build<outer_record>(
      rc::gen::set(&outer_record::zeta, strings()), rc::gen::set(&outer_record::score, doubles()),
      rc::gen::set(&outer_record::count),
      rc::gen::set(&outer_record::items,
                   rc::gen::container<std::vector<inner_record>>(inner_records())),
      rc::gen::set(&outer_record::alpha, inner_records()),
      rc::gen::set(&outer_record::by_name,
                   rc::gen::container<std::map<std::string, double>>(strings(), doubles())),
      rc::gen::set(&outer_record::flag), rc::gen::set(&outer_record::raw, byte_vectors()),
      rc::gen::set(&outer_record::ratio, floats()));
}

// Mostly representable in Python; sometimes a year or an offset it cannot hold, which both paths
// must refuse alike.
rc::Gen<std::optional<std::chrono::seconds>> offsets() {
  return rc::gen::oneOf(
      rc::gen::just(std::optional<std::chrono::seconds>{}),
      rc::gen::map(rc::gen::inRange<std::int64_t>(-86399, 86400),
                   [](std::int64_t s) { return std::optional(std::chrono::seconds{s}); }),
      rc::gen::map(rc::gen::inRange<std::int64_t>(86400, 200000),
                   [](std::int64_t s) { return std::optional(std::chrono::seconds{s}); }));
}

rc::Gen<datetime> datetimes() {
  using micros = std::chrono::microseconds;
  constexpr std::int64_t year_1 = -62135596800LL * 1000000;      // 0001-01-01T00:00:00
  constexpr std::int64_t year_10000 = 253402300800LL * 1000000;  // 10000-01-01T00:00:00
  return rc::gen::apply(
      [](std::int64_t us, std::optional<std::chrono::seconds> offset) {
        return datetime{std::chrono::local_time<micros>{micros{us}}, offset};
      },
      rc::gen::oneOf(rc::gen::inRange<std::int64_t>(year_1, year_10000),
                     rc::gen::inRange<std::int64_t>(year_10000, year_10000 + 86400000000LL)),
      offsets());
}

rc::Gen<date> dates() {
  return rc::gen::map(rc::gen::inRange<int>(-719162, 2932897), [](int days) {
    return date{std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{days}}}};
  });
}

rc::Gen<time_of_day> times_of_day() {
  return rc::gen::apply(
      [](std::int64_t us, std::optional<std::chrono::seconds> offset) {
        return time_of_day{std::chrono::microseconds{us}, offset};
      },
      rc::gen::inRange<std::int64_t>(0, 86400000000LL), offsets());
}

rc::Gen<dated_record> dated_records() {
  return rc::gen::build<dated_record>(
      rc::gen::set(&dated_record::at, datetimes()),
      rc::gen::set(&dated_record::day, optionals(dates())),
      rc::gen::set(&dated_record::when, times_of_day()),
      rc::gen::set(&dated_record::history, rc::gen::container<std::vector<datetime>>(datetimes())));
}

// ---- the property ------------------------------------------------------------------------

std::string describe(const result<byte_buffer>& r) {
  return r ? to_hex(*r) : "error " + r.error().message();
}

// Decoding an unordered map may iterate in another order, so its bytes need not round-trip.
template <class T>
inline constexpr bool round_trips_byte_exact = true;
template <class K, class V>
inline constexpr bool round_trips_byte_exact<std::unordered_map<K, V>> = false;

// Typed bytes == dynamic-value bytes in both modes (or the same kind of refusal), and what the
// typed codec writes decodes back to a value that writes the same bytes again.
template <class T>
void check_same_bytes(const T& typed) {
  const value dynamic = to_value(typed);
  for (const bool interop : {false, true}) {
    const auto from_typed = detail::stored_value_codec<T>::encode(typed, interop);
    const auto from_value = detail::stored_value_codec<value>::encode(dynamic, interop);
    RC_ASSERT(from_typed.has_value() == from_value.has_value());
    if (!from_typed) {
      RC_ASSERT(from_typed.error().code == from_value.error().code);
      continue;
    }
    if (*from_typed != *from_value) {
      RC_FAIL((interop ? "interop: typed " : "default: typed ") + describe(from_typed) +
              " != value " + describe(from_value));
    }
    auto decoded = detail::stored_value_codec<T>::decode(*from_typed, interop);
    RC_ASSERT(decoded.has_value());
    if (!round_trips_byte_exact<T> && !interop) continue;
    const auto again = detail::stored_value_codec<T>::encode(*decoded, interop);
    RC_ASSERT(again.has_value());
    RC_ASSERT(*again == *from_typed);
  }
}

template <class T>
void check_generated(rc::Gen<T> gen) {
  check_same_bytes(*std::move(gen));
}

RC_GTEST_PROP(typed_codec, double_is_stored_as_the_value_double, ()) {
  check_generated(doubles());
}
RC_GTEST_PROP(typed_codec, float_is_stored_as_the_widened_double, ()) {
  check_generated(floats());
}
RC_GTEST_PROP(typed_codec, integers_take_the_value_forms, ()) {
  check_same_bytes(*rc::gen::arbitrary<std::int8_t>());
  check_same_bytes(*rc::gen::arbitrary<std::uint8_t>());
  check_same_bytes(*rc::gen::arbitrary<std::int16_t>());
  check_same_bytes(*rc::gen::arbitrary<std::uint16_t>());
  check_same_bytes(*rc::gen::arbitrary<std::int32_t>());
  check_same_bytes(*rc::gen::arbitrary<std::uint32_t>());
  check_same_bytes(*rc::gen::arbitrary<std::int64_t>());
  check_same_bytes(*rc::gen::arbitrary<std::uint64_t>());
  check_same_bytes(*rc::gen::arbitrary<bool>());
}
RC_GTEST_PROP(typed_codec, strings_are_str_and_invalid_utf8_is_refused, ()) {
  check_generated(strings());
}
RC_GTEST_PROP(typed_codec, byte_vectors_are_bin, ()) {
  check_generated(byte_vectors());
}
RC_GTEST_PROP(typed_codec, containers_optionals_and_tuples, ()) {
  check_generated(rc::gen::container<std::vector<double>>(doubles()));
  check_generated(optionals(doubles()));
  check_generated(
      rc::gen::container<std::vector<std::optional<std::string>>>(optionals(strings())));
  const auto three = *rc::gen::container<std::vector<double>>(3, doubles());
  check_same_bytes(std::array<double, 3>{three[0], three[1], three[2]});
  check_same_bytes(std::make_tuple(*doubles(), *rc::gen::arbitrary<std::int32_t>(), *strings()));
  check_same_bytes(std::make_pair(*rc::gen::arbitrary<bool>(), *floats()));
}
RC_GTEST_PROP(typed_codec, maps_in_both_modes, ()) {
  check_generated(rc::gen::container<std::map<std::string, double>>(strings(), doubles()));
  check_generated(rc::gen::container<std::unordered_map<std::string, std::int64_t>>(
      strings(), rc::gen::arbitrary<std::int64_t>()));
  // Integer keys: allowed in default mode, refused by interop mode on both paths.
  check_generated(rc::gen::container<std::map<std::int64_t, double>>(
      rc::gen::arbitrary<std::int64_t>(), doubles()));
}
RC_GTEST_PROP(typed_codec, msgpack_define_map_structs, ()) {
  check_generated(outer_records());
}
RC_GTEST_PROP(typed_codec, temporal_values_are_sentinel_maps, ()) {
  check_generated(datetimes());
  check_generated(dates());
  check_generated(times_of_day());
  check_generated(dated_records());
}

// The defect this file guards, spelled out: msgpack-cxx alone packs 3.0 as the integer 03.
TEST(typed_codec, whole_number_double_is_a_float64) {
  const auto bytes = codec<double>::encode(3.0);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(to_hex(*bytes), "cb4008000000000000");
  EXPECT_EQ(to_hex(*codec<double>::encode(-0.0)), "cb8000000000000000");
  EXPECT_EQ(to_hex(*codec<float>::encode(2.0F)), "cb4000000000000000");
}

struct two_fields {
  double zeta = 1.0;
  std::int64_t alpha = 2;
  MSGPACK_DEFINE_MAP(zeta, alpha);
};

struct stamped {
  msgpack::type::ext stamp{1, "x", 1};
  MSGPACK_DEFINE_MAP(stamp);
};

TEST(typed_codec, interop_struct_keys_are_in_canonical_order) {
  using two = two_fields;
  const auto standard = detail::stored_value_codec<two>::encode(two{}, false);
  const auto interop = detail::stored_value_codec<two>::encode(two{}, true);
  ASSERT_TRUE(standard && interop);
  EXPECT_EQ(to_hex(*standard), "82a47a657461cb3ff0000000000000a5616c70686102");
  EXPECT_EQ(to_hex(*interop), "82a5616c70686102a47a657461cb3ff0000000000000");
}

TEST(typed_codec, invalid_utf8_and_extensions_are_refused_with_the_fix) {
  const auto text = codec<std::string>::encode(std::string("\xff\xfe"));
  ASSERT_FALSE(text.has_value());
  EXPECT_EQ(text.error().code, make_error_code(errc::invalid_argument));
  EXPECT_NE(text.error().detail.find("std::vector<std::byte>"), std::string::npos);

  const auto ext = codec<stamped>::encode(stamped{});
  ASSERT_FALSE(ext.has_value());
  EXPECT_EQ(ext.error().code, make_error_code(errc::unsupported_type));
}

}  // namespace
}  // namespace cachekit
