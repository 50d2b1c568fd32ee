// Round-trip properties of the value profiles over random values: decode(encode(v)) == v and
// encoding is deterministic. NaN is left out of the generators (NaN != NaN).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cachekit/value_codec.hpp>

#include "support/utf8_text.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono;

using testing::utf8_of;

// Well-formed UTF-8 text over every encoded length (surrogates excluded).
rc::Gen<std::string> texts() {
  const auto code_point = rc::gen::oneOf(rc::gen::inRange<std::uint32_t>(0, 0x80),
                                         rc::gen::inRange<std::uint32_t>(0x80, 0x800),
                                         rc::gen::inRange<std::uint32_t>(0x800, 0xd800),
                                         rc::gen::inRange<std::uint32_t>(0xe000, 0x110000));
  return rc::gen::map(rc::gen::container<std::vector<std::uint32_t>>(code_point), utf8_of);
}

rc::Gen<value> binaries() {
  return rc::gen::map(rc::gen::arbitrary<std::vector<std::uint8_t>>(), [](const auto& bytes) {
    byte_buffer b(bytes.size());
    std::transform(bytes.begin(), bytes.end(), b.begin(), [](auto x) { return std::byte{x}; });
    return value(value_binary{std::move(b)});
  });
}

constexpr std::int64_t first_day = -719162;  // 0001-01-01 relative to 1970-01-01
constexpr std::int64_t last_day = 2932896;   // 9999-12-31
constexpr std::int64_t micros_per_day = 86400LL * 1000000;

rc::Gen<std::optional<seconds>> offsets() {
  return rc::gen::oneOf(rc::gen::just(std::optional<seconds>{}),
                        rc::gen::map(rc::gen::inRange<std::int64_t>(-86399, 86400),
                                     [](std::int64_t s) { return std::optional<seconds>{s}; }));
}

rc::Gen<value> temporals() {
  const auto datetimes = rc::gen::apply(
      [](std::int64_t day, std::int64_t us, std::optional<seconds> offset) {
        return value(
            datetime{local_time<microseconds>{microseconds{day * micros_per_day + us}}, offset});
      },
      rc::gen::inRange<std::int64_t>(first_day, last_day + 1),
      rc::gen::inRange<std::int64_t>(0, micros_per_day), offsets());
  const auto dates = rc::gen::map(
      rc::gen::inRange<std::int64_t>(first_day, last_day + 1),
      [](std::int64_t day) { return value(date{year_month_day{sys_days{days{day}}}}); });
  const auto times = rc::gen::apply(
      [](std::int64_t us, std::optional<seconds> offset) {
        return value(time_of_day{microseconds{us}, offset});
      },
      rc::gen::inRange<std::int64_t>(0, micros_per_day), offsets());
  return rc::gen::oneOf(datetimes, dates, times);
}

rc::Gen<value> scalars(bool interop) {
  return rc::gen::oneOf(
      rc::gen::just(value()),
      rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return value(b); }),
      rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t i) { return value(i); }),
      rc::gen::map(rc::gen::arbitrary<std::uint64_t>(), [](std::uint64_t u) { return value(u); }),
      rc::gen::map(rc::gen::arbitrary<std::int8_t>(), [](std::int8_t i) { return value(i); }),
      rc::gen::map(rc::gen::suchThat(
                       rc::gen::arbitrary<double>(),
                       [interop](double d) { return interop ? std::isfinite(d) : !std::isnan(d); }),
                   [](double d) { return value(d); }),
      rc::gen::map(texts(), [](std::string s) { return value(std::move(s)); }), binaries(),
      temporals());
}

// Keys each profile can read back: str or bytes (standard), str (interop); distinct, as in a
// Python dict.
rc::Gen<value> keys(bool interop) {
  const auto strings = rc::gen::map(texts(), [](std::string s) { return value(std::move(s)); });
  return interop ? strings : rc::gen::oneOf(strings, binaries());
}

rc::Gen<value> values(bool interop, int depth) {
  if (depth == 0) return scalars(interop);
  const auto arrays =
      rc::gen::map(rc::gen::resize(8, rc::gen::container<value_array>(values(interop, depth - 1))),
                   [](value_array a) { return value(std::move(a)); });
  const auto maps = rc::gen::map(
      rc::gen::resize(8, rc::gen::container<std::vector<std::pair<value, value>>>(
                             rc::gen::pair(keys(interop), values(interop, depth - 1)))),
      [](std::vector<std::pair<value, value>> pairs) {
        value_map m;
        for (auto& p : pairs) {
          const bool seen =
              std::any_of(m.begin(), m.end(), [&](const auto& q) { return q.first == p.first; });
          if (!seen) m.push_back(std::move(p));
        }
        return value(std::move(m));
      });
  return rc::gen::weightedOneOf<value>({{4, scalars(interop)}, {1, arrays}, {1, maps}});
}

// What an interop value decodes to: the same value with every map in key order.
value canonical(const value& v) {
  if (const auto* a = v.get_if<value_array>()) {
    value_array out;
    for (const auto& item : *a) out.push_back(canonical(item));
    return out;
  }
  if (const auto* m = v.get_if<value_map>()) {
    value_map out;
    for (const auto& [k, x] : *m) out.emplace_back(k, canonical(x));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return *a.first.template get_if<std::string>() < *b.first.template get_if<std::string>();
    });
    return out;
  }
  return v;
}

RC_GTEST_PROP(msgpack_property, standard_profile_round_trips, ()) {
  const value v = *values(false, 3);
  RC_CLASSIFY(v.kind() == value_kind::array || v.kind() == value_kind::map, "container");
  RC_CLASSIFY(v.kind() == value_kind::datetime || v.kind() == value_kind::date ||
                  v.kind() == value_kind::time,
              "temporal");
  const auto bytes = encode_standard_value(v);
  RC_ASSERT(bytes.has_value());
  const auto back = decode_standard_value(*bytes);
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == v);
}

RC_GTEST_PROP(msgpack_property, standard_encoding_is_deterministic, ()) {
  const value v = *values(false, 3);
  const value copy = v;
  const auto a = encode_standard_value(v);
  const auto b = encode_standard_value(copy);
  RC_ASSERT(a.has_value() && b.has_value());
  RC_ASSERT(*a == *b);
}

RC_GTEST_PROP(msgpack_property, interop_profile_round_trips_to_canonical_order, ()) {
  const value v = *values(true, 3);
  const auto bytes = encode_interop_value(v);
  RC_ASSERT(bytes.has_value());
  const auto back = decode_interop_value(*bytes);
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == canonical(v));
  const auto again = encode_interop_value(*back);
  RC_ASSERT(again.has_value());
  RC_ASSERT(*again == *bytes);
}

RC_GTEST_PROP(msgpack_property, interop_encoding_ignores_map_insertion_order, ()) {
  const value v = *values(true, 3);
  const auto a = encode_interop_value(v);
  const auto b = encode_interop_value(canonical(v));
  RC_ASSERT(a.has_value() && b.has_value());
  RC_ASSERT(*a == *b);
}

RC_GTEST_PROP(msgpack_property, truncating_an_encoding_never_decodes, ()) {
  const value v = *values(false, 2);
  const auto bytes = encode_standard_value(v);
  RC_ASSERT(bytes.has_value());
  const auto cut = *rc::gen::inRange<std::size_t>(0, bytes->size());
  RC_ASSERT(!decode_standard_value(byte_view(*bytes).first(cut)).has_value());
}

}  // namespace
}  // namespace cachekit
