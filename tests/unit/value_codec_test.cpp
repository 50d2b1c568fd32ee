// The standard and interop value profiles, byte for byte against cachekit-py 0.24.1.
#include <gtest/gtest.h>
#include <cachekit/bytes.hpp>
#include <cachekit/value_codec.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

byte_buffer unhex(std::string_view hex) {
  byte_buffer out;
  EXPECT_TRUE(from_hex(hex, out)) << hex;
  return out;
}

value arr(std::initializer_list<value> items) {
  return value_array(items);
}
value map(std::initializer_list<std::pair<value, value>> pairs) {
  return value_map(pairs);
}
value bin(std::string_view hex) {
  return value::binary(unhex(hex));
}

datetime make_dt(int y, unsigned mo, unsigned d, hours h, minutes mi, seconds s,
                 microseconds us = 0us, std::optional<seconds> offset = std::nullopt) {
  const local_days day{year{y} / month{mo} / std::chrono::day{d}};
  return datetime{local_time<microseconds>{day.time_since_epoch()} + h + mi + s + us, offset};
}

std::string standard_hex(const value& v) {
  auto r = encode_standard_value(v);
  return r ? to_hex(*r) : "ERR " + r.error().message();
}
std::string interop_hex(const value& v) {
  auto r = encode_interop_value(v);
  return r ? to_hex(*r) : "ERR " + r.error().message();
}

std::string repeat(char c, std::size_t n) {
  return std::string(n, c);
}

value map_of_ints(std::size_t n) {
  value_map m;
  for (std::size_t i = 0; i < n; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "k%02zu", i);
    m.emplace_back(key, static_cast<std::int64_t>(i));
  }
  return m;
}

value range_array(std::size_t n) {
  value_array a;
  for (std::size_t i = 0; i < n; ++i) a.emplace_back(static_cast<std::int64_t>(i));
  return a;
}

// Expected hex from msgpack-python 1.x (1.2.4) `packb(obj, use_bin_type=True)` with cachekit-py
// 0.24.1's `_standard_default` hook (i.e. StandardSerializer with integrity checking off), for
// the Python object named in the comment.
struct standard_case {
  const char* name;
  value v;
  const char* hex;
};

std::vector<standard_case> standard_cases() {
  return {
      {"None", nullptr, "c0"},
      {"True", true, "c3"},
      {"False", false, "c2"},
      {"0", 0, "00"},
      {"127", 127, "7f"},
      {"128", 128, "cc80"},
      {"255", 255, "ccff"},
      {"256", 256, "cd0100"},
      {"65535", 65535, "cdffff"},
      {"65536", 65536, "ce00010000"},
      {"2**32-1", 4294967295LL, "ceffffffff"},
      {"2**32", 4294967296LL, "cf0000000100000000"},
      {"2**63-1", INT64_MAX, "cf7fffffffffffffff"},
      {"2**63", std::uint64_t{1} << 63, "cf8000000000000000"},
      {"2**64-1", UINT64_MAX, "cfffffffffffffffff"},
      {"-1", -1, "ff"},
      {"-32", -32, "e0"},
      {"-33", -33, "d0df"},
      {"-128", -128, "d080"},
      {"-129", -129, "d1ff7f"},
      {"-32768", -32768, "d18000"},
      {"-32769", -32769, "d2ffff7fff"},
      {"-2**31", -2147483648LL, "d280000000"},
      {"-2**31-1", -2147483649LL, "d3ffffffff7fffffff"},
      {"-2**63", INT64_MIN, "d38000000000000000"},
      {"0.0", 0.0, "cb0000000000000000"},
      {"-0.0", -0.0, "cb8000000000000000"},
      {"1.5", 1.5, "cb3ff8000000000000"},
      {"2.0", 2.0, "cb4000000000000000"},
      {"inf", std::numeric_limits<double>::infinity(), "cb7ff0000000000000"},
      {"-inf", -std::numeric_limits<double>::infinity(), "cbfff0000000000000"},
      {"nan", std::numeric_limits<double>::quiet_NaN(), "cb7ff8000000000000"},
      {"1e300", 1e300, "cb7e37e43c8800759c"},
      {"''", "", "a0"},
      {"'a'", "a", "a161"},
      {"'x'*31", repeat('x', 31),
       "bf78787878787878787878787878787878787878787878787878787878787878"},
      {"'x'*32", repeat('x', 32),
       "d9207878787878787878787878787878787878787878787878787878787878787878"},
      {"'é日本🎉'", "\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x8e\x89",
       "acc3a9e697a5e69cacf09f8e89"},
      {"b''", value::binary({}), "c400"},
      {"b'\\x00\\xff'", bin("00ff"), "c40200ff"},
      {"bytearray(b'ab')", bin("6162"), "c4026162"},
      {"[]", value_array{}, "90"},
      {"[1, 2, 3]", arr({1, 2, 3}), "93010203"},
      {"(1, 'a')", arr({1, "a"}), "9201a161"},
      {"list(range(15))", range_array(15), "9f000102030405060708090a0b0c0d0e"},
      {"list(range(16))", range_array(16), "dc0010000102030405060708090a0b0c0d0e0f"},
      {"{}", value_map{}, "80"},
      {"{'b': 1, 'a': 2}", map({{"b", 1}, {"a", 2}}), "82a16201a16102"},
      {"{'a': [1, {'b': None}], 'c': b'\\x01'}",
       map({{"a", arr({1, map({{"b", nullptr}})})}, {"c", bin("01")}}),
       "82a161920181a162c0a163c40101"},
      {"{f'k{i:02d}': i for i in range(15)}", map_of_ints(15),
       "8fa36b303000a36b303101a36b303202a36b303303a36b303404a36b303505a36b303606a36b303707a36b30"
       "3808a36b303909a36b31300aa36b31310ba36b31320ca36b31330da36b31340e"},
      {"{f'k{i:02d}': i for i in range(16)}", map_of_ints(16),
       "de0010a36b303000a36b303101a36b303202a36b303303a36b303404a36b303505a36b303606a36b303707a3"
       "6b303808a36b303909a36b31300aa36b31310ba36b31320ca36b31330da36b31340ea36b31350f"},
      {"{1: 'x'}", map({{1, "x"}}), "8101a178"},
      {"{b'k': 1}", map({{bin("6b"), 1}}), "81c4016b01"},
      {"datetime(2024, 1, 2, 3, 4, 5)", make_dt(2024, 1, 2, 3h, 4min, 5s),
       "82ac5f5f6461746574696d655f5fc3a576616c7565b3323032342d30312d30325430333a30343a3035"},
      {"datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)",
       make_dt(2024, 1, 2, 3h, 4min, 5s, 123456us, 0s),
       "82ac5f5f6461746574696d655f5fc3a576616c7565d920323032342d30312d30325430333a30343a30352e31"
       "32333435362b30303a3030"},
      {"datetime(2024, 1, 15, 10, 30, tzinfo=+05:30)",
       make_dt(2024, 1, 15, 10h, 30min, 0s, 0us, 5h + 30min),
       "82ac5f5f6461746574696d655f5fc3a576616c7565b9323032342d30312d31355431303a33303a30302b3035"
       "3a3330"},
      {"datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=-08:00)",
       make_dt(1999, 12, 31, 23h, 59min, 59s, 1us, -8h),
       "82ac5f5f6461746574696d655f5fc3a576616c7565d920313939392d31322d33315432333a35393a35392e30"
       "30303030312d30383a3030"},
      {"datetime(2024, 1, 15, 10, 30, tzinfo=-05:30:15)",
       make_dt(2024, 1, 15, 10h, 30min, 0s, 0us, -(5h + 30min + 15s)),
       "82ac5f5f6461746574696d655f5fc3a576616c7565bc323032342d30312d31355431303a33303a30302d3035"
       "3a33303a3135"},
      {"date(2024, 1, 2)", date{2024y / 1 / 2},
       "82a85f5f646174655f5fc3a576616c7565aa323032342d30312d3032"},
      {"date(1, 1, 1)", date{1y / 1 / 1},
       "82a85f5f646174655f5fc3a576616c7565aa303030312d30312d3031"},
      {"time(3, 4, 5, 6)", time_of_day{3h + 4min + 5s + 6us},
       "82a85f5f74696d655f5fc3a576616c7565af30333a30343a30352e303030303036"},
      {"time(23, 59, 59, tzinfo=+02:00)", time_of_day{23h + 59min + 59s, 2h},
       "82a85f5f74696d655f5fc3a576616c7565ae32333a35393a35392b30323a3030"},
      {"{'when': datetime(2024, 1, 2, 3, 4, 5), 'days': [date(2024, 1, 2)]}",
       map({{"when", make_dt(2024, 1, 2, 3h, 4min, 5s)}, {"days", arr({date{2024y / 1 / 2}})}}),
       "82a47768656e82ac5f5f6461746574696d655f5fc3a576616c7565b3323032342d30312d30325430333a3034"
       "3a3035a4646179739182a85f5f646174655f5fc3a576616c7565aa323032342d30312d3032"},
  };
}

TEST(standard_value, encodes_exactly_as_msgpack_python) {
  for (const auto& c : standard_cases()) {
    EXPECT_EQ(standard_hex(c.v), c.hex) << c.name;
  }
}

TEST(standard_value, decodes_what_msgpack_python_wrote) {
  for (const auto& c : standard_cases()) {
    const auto r = decode_standard_value(unhex(c.hex));
    if (std::string_view(c.name) == "{1: 'x'}") {
      // msgpack-python writes int keys but its strict_map_key reader refuses them.
      ASSERT_FALSE(r);
      EXPECT_EQ(r.code(), errc::malformed);
      continue;
    }
    ASSERT_TRUE(r) << c.name << ": " << r.error().message();
    if (const auto* d = c.v.get_if<double>(); d != nullptr && std::isnan(*d)) {
      ASSERT_NE(r->get_if<double>(), nullptr);
      EXPECT_TRUE(std::isnan(*r->get_if<double>()));
      continue;
    }
    EXPECT_EQ(*r, c.v) << c.name;
  }
}

TEST(standard_value, long_items_use_the_widths_msgpack_python_uses) {
  // msgpack-python: header bytes and total size of packb(...) for each boundary.
  struct long_case {
    const char* name;
    value v;
    const char* head;
    std::size_t size;
  };
  value_array zeros_65535(65535, value(0));
  value_array zeros_65536(65536, value(0));
  value_map m65535;
  for (int i = 0; i < 65535; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "%05d", i);
    m65535.emplace_back(key, 0);
  }
  value_map m65536;
  for (int i = 0; i < 65536; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "%06d", i);
    m65536.emplace_back(key, 0);
  }
  const long_case cases[] = {
      {"'z'*256", repeat('z', 256), "da01007a7a7a", 259},
      {"'z'*65535", repeat('z', 65535), "daffff7a7a7a", 65538},
      {"'z'*65536", repeat('z', 65536), "db000100007a", 65541},
      {"b'\\x07'*255", value::binary(byte_buffer(255, std::byte{7})), "c4ff07070707", 257},
      {"b'\\x07'*256", value::binary(byte_buffer(256, std::byte{7})), "c50100070707", 259},
      {"b'\\x07'*65535", value::binary(byte_buffer(65535, std::byte{7})), "c5ffff070707", 65538},
      {"b'\\x07'*65536", value::binary(byte_buffer(65536, std::byte{7})), "c60001000007", 65541},
      {"[0]*65535", zeros_65535, "dcffff000000", 65538},
      {"[0]*65536", zeros_65536, "dd0001000000", 65541},
      {"{f'{i:05d}': 0 ...65535}", m65535, "deffffa53030", 458748},
      {"{f'{i:06d}': 0 ...65536}", m65536, "df00010000a6", 524293},
  };
  for (const auto& c : cases) {
    const auto r = encode_standard_value(c.v);
    ASSERT_TRUE(r) << c.name;
    EXPECT_EQ(r->size(), c.size) << c.name;
    EXPECT_EQ(to_hex(byte_view(*r).first(6)), c.head) << c.name;
    const auto back = decode_standard_value(*r);
    ASSERT_TRUE(back) << c.name;
    EXPECT_EQ(*back, c.v) << c.name;
  }
}

TEST(standard_value, sets_and_uuids_are_unsupported) {
  EXPECT_EQ(encode_standard_value(value_set{{1, 2}}).code(), errc::unsupported_type);
  EXPECT_EQ(encode_standard_value(arr({uuid{}})).code(), errc::unsupported_type);
  const auto r = encode_standard_value(uuid{});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().detail.find("to_string"), std::string::npos) << "the error names the fix";
}

TEST(standard_value, invalid_utf8_strings_are_refused_on_encode) {
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\x80"}) {
    EXPECT_EQ(encode_standard_value(value(bad)).code(), errc::invalid_argument);
    EXPECT_EQ(encode_standard_value(map({{bad, 1}})).code(), errc::invalid_argument);
  }
}

TEST(standard_value, temporal_values_python_cannot_hold_are_refused) {
  EXPECT_EQ(encode_standard_value(make_dt(10000, 1, 1, 0h, 0min, 0s)).code(),
            errc::invalid_argument);
  EXPECT_EQ(encode_standard_value(make_dt(2024, 1, 1, 0h, 0min, 0s, 0us, 24h)).code(),
            errc::invalid_argument);
  EXPECT_EQ(encode_standard_value(date{2024y / 2 / 30}).code(), errc::invalid_argument);
  EXPECT_EQ(encode_standard_value(time_of_day{24h}).code(), errc::invalid_argument);
  EXPECT_TRUE(encode_standard_value(make_dt(2024, 1, 1, 0h, 0min, 0s, 0us, 23h + 59min + 59s)));
}

value nested_arrays(std::size_t depth, value inner) {
  value v = std::move(inner);
  for (std::size_t i = 0; i < depth; ++i) v = value_array{std::move(v)};
  return v;
}

TEST(standard_value, nesting_limit_matches_msgpack_python_packb) {
  EXPECT_TRUE(encode_standard_value(nested_arrays(1024, nullptr)));
  EXPECT_EQ(encode_standard_value(nested_arrays(1025, nullptr)).code(), errc::invalid_argument);
  // A sentinel map is a level too.
  EXPECT_EQ(encode_standard_value(nested_arrays(1024, date{2024y / 1 / 2})).code(),
            errc::invalid_argument);
  EXPECT_TRUE(encode_standard_value(nested_arrays(1023, date{2024y / 1 / 2})));
}

// Standard reader rules, each checked against cachekit-py 0.24.1
// `StandardSerializer(enable_integrity_checking=False).deserialize(bytes)`.
TEST(standard_value, sentinel_revival_follows_the_python_object_hook) {
  const auto dt = value(make_dt(2024, 1, 2, 3h, 4min, 5s));
  const std::string text = "b3323032342d30312d30325430333a30343a3035";  // "2024-01-02T03:04:05"
  const std::string dt_key = "ac5f5f6461746574696d655f5f";              // "__datetime__"
  const std::string value_key = "a576616c7565";                         // "value"
  struct revival_case {
    const char* what;
    std::string hex;
    std::optional<value> expected;  // nullopt: an error
  };
  const revival_case cases[] = {
      {"marker 1 is truthy", "82" + dt_key + "01" + value_key + text, dt},
      {"marker 'yes' is truthy", "82" + dt_key + "a3796573" + value_key + text, dt},
      {"marker false leaves the map", "82" + dt_key + "c2" + value_key + text,
       map({{"__datetime__", false}, {"value", "2024-01-02T03:04:05"}})},
      {"three entries leave the map", "83" + dt_key + "c3" + value_key + text + "a17801",
       map({{"__datetime__", true}, {"value", "2024-01-02T03:04:05"}, {"x", 1}})},
      {"one entry leaves the map", "81" + dt_key + "c3", map({{"__datetime__", true}})},
      {"bytes marker key is not the marker", "82c40c5f5f6461746574696d655f5fc3" + value_key + text,
       map({{bin("5f5f6461746574696d655f5f"), true}, {"value", "2024-01-02T03:04:05"}})},
      {"missing value", "82" + dt_key + "c3a17801", std::nullopt},
      {"nil value", "82" + dt_key + "c3" + value_key + "c0", std::nullopt},
      {"integer value", "82" + dt_key + "c3" + value_key + "05", std::nullopt},
      {"unparseable text", "82" + dt_key + "c3" + value_key + "a46e6f7065", std::nullopt},
      {"Z parses on 3.11",
       "82" + dt_key + "c3" + value_key + "b4323032342d30312d30325430333a30343a30355a",
       value(make_dt(2024, 1, 2, 3h, 4min, 5s, 0us, 0s))},
      {"lowercase z does not",
       "82" + dt_key + "c3" + value_key + "b4323032342d30312d30325430333a30343a30357a",
       std::nullopt},
      {"date marker without value after a false datetime marker",
       "82" + dt_key + "c2a85f5f646174655f5fc3", std::nullopt},
      {"a repeated key collapses before the size check",
       "83" + dt_key + "c3" + value_key + text + value_key +
           "b3323032342d30312d30325430333a30343a3036",
       value(make_dt(2024, 1, 2, 3h, 4min, 6s))},
      {"a revived inner sentinel is a truthy marker",
       "82" + dt_key + "82a85f5f646174655f5fc3" + value_key + "aa323032342d30312d3032" + value_key +
           text,
       dt},
  };
  for (const auto& c : cases) {
    const auto r = decode_standard_value(unhex(c.hex));
    if (c.expected) {
      ASSERT_TRUE(r) << c.what << ": " << r.error().message();
      EXPECT_EQ(*r, *c.expected) << c.what;
    } else {
      ASSERT_FALSE(r) << c.what;
      EXPECT_EQ(r.code(), errc::malformed) << c.what;
    }
  }
  const auto raw = decode_standard_value(unhex("82" + dt_key + "c3" + value_key + text),
                                         {.revive_temporal_sentinels = false});
  ASSERT_TRUE(raw);
  EXPECT_EQ(*raw, map({{"__datetime__", true}, {"value", "2024-01-02T03:04:05"}}));
}

TEST(standard_value, map_keys_must_be_str_or_bytes) {
  for (const char* hex :
       {"8101a178", "81c001", "81c3c0", "81cb3ff0000000000000c0", "8191c0c0", "8180c0"}) {
    const auto r = decode_standard_value(unhex(hex));
    ASSERT_FALSE(r) << hex;
    EXPECT_EQ(r.code(), errc::malformed) << hex;
  }
}

TEST(standard_value, repeated_keys_keep_the_first_slot_and_the_last_value) {
  const auto r = decode_standard_value(unhex("83a16101a16202a16103"));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, map({{"a", 3}, {"b", 2}}));
  // str and bytes keys never collide.
  const auto mixed = decode_standard_value(unhex("82a16101c4016102"));
  ASSERT_TRUE(mixed);
  EXPECT_EQ(*mixed, map({{"a", 1}, {bin("61"), 2}}));
  // Large maps take the indexed path.
  std::string hex = "de0021";
  for (int i = 0; i < 32; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "a2%02x%02x", 0x61 + i / 26, 0x61 + i % 26);
    hex += key;
    hex += "00";
  }
  hex +=
      "a26162"
      "7f";  // "ab" again, the second key
  const auto big = decode_standard_value(unhex(hex));
  ASSERT_TRUE(big) << big.error().message();
  const auto* m = big->get_if<value_map>();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->size(), 32u);
  EXPECT_EQ((*m)[1], (std::pair<value, value>{"ab", 127}));
}

TEST(standard_value, float32_decodes_to_a_double) {
  const auto r = decode_standard_value(unhex("ca3fc00000"));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, value(1.5));
  EXPECT_EQ(standard_hex(*r), "cb3ff8000000000000");
}

TEST(standard_value, ck_bytes_are_just_a_number_and_trailing_bytes) {
  EXPECT_EQ(decode_standard_value(unhex("434b03")).code(), errc::trailing_bytes);
  EXPECT_EQ(*decode_standard_value(unhex("43")), value(67));
}

TEST(value_utf8, strings_must_be_well_formed) {
  // Python's strict UTF-8 decoder refuses each of these.
  for (const char* body : {"c0af", "c1bf", "e080af", "eda080", "edbfbf", "e282", "f4908080",
                           "f5808080", "80", "bf", "f8888080", "fe", "ff", "f09f98", "e2282a"}) {
    const std::string hex = "a" + std::to_string(std::string_view(body).size() / 2) + body;
    for (const auto& r : {decode_standard_value(unhex(hex)), decode_interop_value(unhex(hex))}) {
      ASSERT_FALSE(r) << body;
      EXPECT_EQ(r.code(), errc::malformed) << body;
    }
    // Keys too.
    const auto key = decode_standard_value(unhex("81" + hex + "c0"));
    ASSERT_FALSE(key) << body;
    EXPECT_EQ(key.code(), errc::malformed);
  }
  for (const char* body :
       {"7f", "c280", "dfbf", "e0a080", "efbfbf", "ee8080", "f0908080", "f48fbfbf", "ed9fbf"}) {
    const std::string hex = "a" + std::to_string(std::string_view(body).size() / 2) + body;
    EXPECT_TRUE(decode_standard_value(unhex(hex))) << body;
  }
}

// `value_vectors` of /work/shared/protocol/vectors/interop-mode.json.
TEST(interop_value, reproduces_the_shared_value_vectors) {
  struct vector_case {
    const char* name;
    value v;
    const char* hex;
  };
  const vector_case cases[] = {
      {"issue_example_object", map({{"name", "alice"}, {"age", 30}}),
       "82a36167651ea46e616d65a5616c696365"},
      {"float_value_stays_float64", 2.0, "cb4000000000000000"},
      {"mixed_array", arr({1, "two", 3.5, nullptr, true}), "9501a374776fcb400c000000000000c0c3"},
      {"datetime_sentinel_value",
       map({{"__datetime__", true}, {"value", "2024-01-01T12:30:45.123456+00:00"}}),
       "82ac5f5f6461746574696d655f5fc3a576616c7565d920323032342d30312d30315431323a33303a34352e31"
       "32333435362b30303a3030"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(interop_hex(c.v), c.hex) << c.name;
    const auto raw = decode_interop_value(unhex(c.hex), {.revive_temporal_sentinels = false});
    ASSERT_TRUE(raw) << c.name;
    EXPECT_EQ(interop_hex(*raw), c.hex) << c.name;
  }
  // The sentinel vector revives to the datetime it stands for, which encodes back identically.
  const auto revived = decode_interop_value(unhex(cases[3].hex));
  ASSERT_TRUE(revived);
  EXPECT_EQ(*revived, value(make_dt(2024, 1, 1, 12h, 30min, 45s, 123456us, 0s)));
  EXPECT_EQ(interop_hex(*revived), cases[3].hex);
}

// Expected hex from cachekit-py 0.24.1 `interop.encode_interop_value(obj)`.
TEST(interop_value, encodes_canonically_as_cachekit_py) {
  EXPECT_EQ(interop_hex(map({{"\xc3\xa9", 1},
                             {"z", 2},
                             {"aa", 3},
                             {"a", 4},
                             {"Z", 5},
                             {"\xf0\x9f\x98\x80", 6},
                             {"\xef\xbf\xbd", 7}})),
            "87a15a05a16104a2616103a17a02a2c3a901a3efbfbd07a4f09f988006");
  EXPECT_EQ(
      interop_hex(map({{"b", map({{"d", 1}, {"c", arr({2.0, nullptr})}})}, {"a", bin("00")}})),
      "82a161c40100a16282a16392cb4000000000000000c0a16401");
  EXPECT_EQ(interop_hex(map({{"when", make_dt(2024, 1, 2, 3h, 4min, 5s, 0us, 0s)},
                             {"day", date{2024y / 1 / 2}},
                             {"at", time_of_day{3h + 4min + 5s + 6us}}})),
            "83a2617482a85f5f74696d655f5fc3a576616c7565af30333a30343a30352e303030303036a3646179"
            "82a85f5f646174655f5fc3a576616c7565aa323032342d30312d3032a47768656e82ac5f5f64617465"
            "74696d655f5fc3a576616c7565b9323032342d30312d30325430333a30343a30352b30303a3030");
  EXPECT_EQ(interop_hex(make_dt(2024, 1, 2, 3h, 4min, 5s)),
            "82ac5f5f6461746574696d655f5fc3a576616c7565b3323032342d30312d30325430333a30343a3035");
  EXPECT_EQ(interop_hex(arr({2.0, -0.0, 1.5})),
            "93cb4000000000000000cb8000000000000000cb3ff8000000000000");
  EXPECT_EQ(interop_hex(arr({UINT64_MAX, INT64_MIN, std::uint64_t{1} << 63})),
            "93cfffffffffffffffffd38000000000000000cf8000000000000000");
}

TEST(interop_value, refuses_what_cachekit_py_refuses) {
  EXPECT_EQ(encode_interop_value(std::numeric_limits<double>::quiet_NaN()).code(),
            errc::invalid_argument);
  EXPECT_EQ(encode_interop_value(arr({std::numeric_limits<double>::infinity()})).code(),
            errc::invalid_argument);
  EXPECT_EQ(encode_interop_value(map({{1, 2}})).code(), errc::unsupported_type);
  EXPECT_EQ(encode_interop_value(map({{bin("61"), 2}})).code(), errc::unsupported_type);
  EXPECT_EQ(encode_interop_value(value_set{{1, 2}}).code(), errc::unsupported_type);
  EXPECT_EQ(encode_interop_value(uuid{}).code(), errc::unsupported_type);
  EXPECT_EQ(encode_interop_value(map({{"a", 1}, {"a", 2}})).code(), errc::invalid_argument);
  EXPECT_EQ(encode_interop_value(value("\xed\xa0\x80")).code(), errc::invalid_argument);
}

TEST(interop_value, ck_framed_bytes_are_a_serializer_mismatch) {
  const auto r = decode_interop_value(unhex("434b03000000007d7b7d"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::serializer_mismatch);
  EXPECT_EQ(decode_interop_value(unhex("434b")).code(), errc::serializer_mismatch);
  EXPECT_EQ(*decode_interop_value(unhex("43")), value(67));
}

// Interop reader rules, each checked against cachekit-py 0.24.1 `interop.decode_interop_value`.
TEST(interop_value, sentinel_revival_follows_cachekit_py) {
  const auto dt = value(make_dt(2024, 1, 2, 3h, 4min, 5s));
  const std::string text = "b3323032342d30312d30325430333a30343a3035";
  const std::string dt_key = "ac5f5f6461746574696d655f5f";
  const std::string value_key = "a576616c7565";
  struct revival_case {
    const char* what;
    std::string hex;
    std::optional<value> expected;
  };
  const revival_case cases[] = {
      {"marker must be exactly true", "82" + dt_key + "01" + value_key + text,
       map({{"__datetime__", 1}, {"value", "2024-01-02T03:04:05"}})},
      {"map size does not matter", "83" + dt_key + "c3" + value_key + text + "a17801", dt},
      {"missing value leaves the map", "82" + dt_key + "c3a17801",
       map({{"__datetime__", true}, {"x", 1}})},
      {"nil value leaves the map", "82" + dt_key + "c3" + value_key + "c0",
       map({{"__datetime__", true}, {"value", nullptr}})},
      {"unparseable text is an error", "82" + dt_key + "c3" + value_key + "a46e6f7065",
       std::nullopt},
      {"lowercase z is UTC",
       "82" + dt_key + "c3" + value_key + "b4323032342d30312d30325430333a30343a30357a",
       value(make_dt(2024, 1, 2, 3h, 4min, 5s, 0us, 0s))},
      {"time with z is UTC", "82a85f5f74696d655f5fc3" + value_key + "a930333a30343a30357a",
       value(time_of_day{3h + 4min + 5s, 0s})},
      {"date with z is an error", "82a85f5f646174655f5fc3" + value_key + "ab323032342d30312d30327a",
       std::nullopt},
      {"a date marker is not true",
       "82" + dt_key + "82a85f5f646174655f5fc3" + value_key + "aa323032342d30312d3032" + value_key +
           text,
       map({{"__datetime__", date{2024y / 1 / 2}}, {"value", "2024-01-02T03:04:05"}})},
  };
  for (const auto& c : cases) {
    const auto r = decode_interop_value(unhex(c.hex));
    if (c.expected) {
      ASSERT_TRUE(r) << c.what << ": " << r.error().message();
      EXPECT_EQ(*r, *c.expected) << c.what;
    } else {
      ASSERT_FALSE(r) << c.what;
      EXPECT_EQ(r.code(), errc::malformed) << c.what;
    }
  }
}

TEST(interop_value, scalar_keys_decode_as_python_dict_keys) {
  EXPECT_EQ(*decode_interop_value(unhex("8101a178")), map({{1, "x"}}));
  EXPECT_EQ(*decode_interop_value(unhex("81c001")), map({{nullptr, 1}}));
  // 1 == 1.0 == True in a Python dict: first key kept, last value wins.
  EXPECT_EQ(*decode_interop_value(unhex("8201a161cb3ff0000000000000a162")), map({{1, "b"}}));
  EXPECT_EQ(*decode_interop_value(unhex("82c3a16101a162")), map({{true, "b"}}));
  // NaN keys never equal each other.
  const auto nan = decode_interop_value(unhex("82cb7ff8000000000000a161cb7ff8000000000000a162"));
  ASSERT_TRUE(nan);
  EXPECT_EQ(nan->get_if<value_map>()->size(), 2u);
  // Unhashable keys.
  EXPECT_EQ(decode_interop_value(unhex("81910101")).code(), errc::malformed);
  EXPECT_EQ(decode_interop_value(unhex("818001")).code(), errc::malformed);
}

TEST(interop_value, at_most_32_keys_per_map_are_neither_str_nor_bytes) {
  auto keyed = [](int non_string, int strings) {
    std::string hex = "de00";
    char count[8];
    std::snprintf(count, sizeof count, "%02x", non_string + strings);
    hex += count;
    for (int i = 0; i < non_string; ++i) {
      std::snprintf(count, sizeof count, "%02x", i);
      hex += count;
      hex += "c0";
    }
    for (int i = 0; i < strings; ++i) {
      std::snprintf(count, sizeof count, "a1%02x", 0x41 + i);
      hex += count;
      hex += "c0";
    }
    return unhex(hex);
  };
  EXPECT_TRUE(decode_interop_value(keyed(32, 0)));
  EXPECT_TRUE(decode_interop_value(keyed(32, 2)));
  const auto r = decode_interop_value(keyed(33, 0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::malformed);
}

TEST(interop_value, temporal_round_trips) {
  const value values[] = {
      make_dt(2024, 1, 2, 3h, 4min, 5s),
      make_dt(2024, 1, 2, 3h, 4min, 5s, 6us, -(23h + 59min + 59s)),
      date{9999y / 12 / 31},
      time_of_day{23h + 59min + 59s + 999999us, 5h + 30min},
      map({{"at", time_of_day{0us}}, {"on", arr({date{1y / 1 / 1}})}}),
  };
  for (const auto& v : values) {
    for (const bool interop : {false, true}) {
      const auto bytes = interop ? encode_interop_value(v) : encode_standard_value(v);
      ASSERT_TRUE(bytes);
      const auto back = interop ? decode_interop_value(*bytes) : decode_standard_value(*bytes);
      ASSERT_TRUE(back) << back.error().message();
      EXPECT_EQ(*back, v) << to_hex(*bytes);
    }
  }
}

}  // namespace
}  // namespace cachekit
