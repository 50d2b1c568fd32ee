// The json ("orjson") and auto_detect ("auto") serializers against the bytes cachekit-py 0.24.1
// writes (serializer_cases.inc, from generate_serializer_cases.py), and their refusals.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/envelope.hpp>
#include <cachekit/memory_backend.hpp>
#include <cachekit/storage_format.hpp>
#include <cachekit/value_codec.hpp>

#include "codec/orjson.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace cachekit {
namespace {

struct serializer_case {
  const char* name;
  const char* msgpack;
  const char* frame_integrity_on;
  const char* frame_integrity_off;
};
struct python_only_case {
  const char* name;
  const char* frame;
  bool integrity_checking;
};
struct float_case {
  std::uint64_t bits;
  const char* text;
};

#include "serializer_cases.inc"

byte_buffer hex(std::string_view h) {
  byte_buffer out;
  EXPECT_TRUE(from_hex(h, out)) << h;
  return out;
}

storage_format format_of(serializer_kind kind, bool integrity) {
  return storage_format({.mode = storage_mode::frame,
                         .serializer = kind,
                         .integrity_checking = integrity,
                         .key_binding = false});
}

TEST(serializer, names_and_parsing_follow_cachekit_py) {
  EXPECT_EQ(serializer_name(serializer_kind::standard), "default");
  EXPECT_EQ(serializer_name(serializer_kind::json), "orjson");
  EXPECT_EQ(serializer_name(serializer_kind::auto_detect), "auto");
  EXPECT_EQ(parse_serializer("std").value(), serializer_kind::standard);
  EXPECT_EQ(parse_serializer("json").value(), serializer_kind::json);
  EXPECT_EQ(parse_serializer("pythonic").value(), serializer_kind::auto_detect);
  EXPECT_EQ(parse_serializer("arrow").error().code, errc::not_supported);
  EXPECT_EQ(parse_serializer("yaml").error().code, errc::invalid_configuration);
}

TEST(serializer, orjson_float_text_matches_orjson_for_every_vector) {
  std::size_t checked = 0;
  for (const auto& c : float_cases) {
    std::string out;
    detail::append_orjson_float(out, std::bit_cast<double>(c.bits));
    ASSERT_EQ(out, c.text) << "bits 0x" << std::hex << c.bits;
    ++checked;
  }
  EXPECT_GT(checked, 2000u);
}

TEST(serializer, json_seal_writes_cachekit_py_orjson_frames_byte_for_byte) {
  for (const auto& c : json_cases) {
    for (bool integrity : {true, false}) {
      SCOPED_TRACE(std::string(c.name) + (integrity ? " integrity on" : " integrity off"));
      auto stored = format_of(serializer_kind::json, integrity).seal(hex(c.msgpack), "k");
      ASSERT_TRUE(stored) << stored.error().message();
      EXPECT_EQ(to_hex(*stored), integrity ? c.frame_integrity_on : c.frame_integrity_off);
    }
  }
}

// `v` with every map's entries in key order (JSON objects come back sorted).
value sorted_maps(value v) {
  if (auto* a = v.get_if<value_array>()) {
    for (auto& item : *a) item = sorted_maps(std::move(item));
  } else if (auto* m = v.get_if<value_map>()) {
    for (auto& entry : *m) entry.second = sorted_maps(std::move(entry.second));
    std::sort(m->begin(), m->end(), [](const auto& x, const auto& y) {
      return *x.first.template get_if<std::string>() < *y.first.template get_if<std::string>();
    });
  }
  return v;
}

TEST(serializer, json_open_reads_cachekit_py_orjson_frames_as_the_same_data) {
  for (const auto& c : json_cases) {
    for (bool integrity : {true, false}) {
      SCOPED_TRACE(std::string(c.name) + (integrity ? " integrity on" : " integrity off"));
      auto opened = format_of(serializer_kind::json, integrity)
                        .open(hex(integrity ? c.frame_integrity_on : c.frame_integrity_off), "k");
      ASSERT_TRUE(opened) << opened.error().message();
      // JSON has no temporal type: compare as data, with the datetime text where Python's
      // msgpack holds a sentinel.
      auto got = decode_standard_value(opened->msgpack);
      auto want = decode_standard_value(hex(c.msgpack), {.revive_temporal_sentinels = false});
      ASSERT_TRUE(got && want);
      const std::string name = c.name;
      if (name != "datetimes" && name != "date_and_time") {
        EXPECT_EQ(sorted_maps(*got), sorted_maps(*want));
      }
    }
  }
}

TEST(serializer, json_temporal_values_come_back_through_the_typed_codec) {
  auto fmt = format_of(serializer_kind::json, true);
  const std::vector<datetime> when = {
      datetime::parse_isoformat("2024-01-02T03:04:05").value(),
      datetime::parse_isoformat("2024-01-02T03:04:05.678900+00:00").value()};
  auto packed = codec<std::vector<datetime>>::encode(when);
  ASSERT_TRUE(packed);
  auto stored = fmt.seal(*packed, "k");
  ASSERT_TRUE(stored);
  EXPECT_NE(
      as_string_view(*stored).find(R"(["2024-01-02T03:04:05","2024-01-02T03:04:05.678900+00:00"])"),
      std::string_view::npos);
  auto opened = fmt.open(*stored, "k");
  ASSERT_TRUE(opened);
  auto back = codec<std::vector<datetime>>::decode(opened->msgpack);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, when);
}

TEST(serializer, json_refuses_what_orjson_cannot_carry_back) {
  auto fmt = format_of(serializer_kind::json, true);
  auto refused = [&](const value& v) {
    auto packed = encode_standard_value(v);
    EXPECT_TRUE(packed);
    auto stored = fmt.seal(*packed, "k");
    return stored ? std::error_code{} : stored.error().code;
  };
  EXPECT_EQ(refused(value::binary(hex("00ff"))), errc::unsupported_type);
  EXPECT_EQ(refused(value(std::numeric_limits<double>::quiet_NaN())), errc::unsupported_type);
  EXPECT_EQ(refused(value(std::numeric_limits<double>::infinity())), errc::unsupported_type);
  EXPECT_EQ(refused(value(value_map{{1, "int key"}})), errc::unsupported_type);
  // An extension item another writer left in a document (msgpack-python's ExtType).
  EXPECT_EQ(refused(value(value_array{value(value_ext{.type = 5, .data = hex("01")})})),
            errc::unsupported_type);
  datetime odd = datetime::parse_isoformat("2024-01-02T03:04:05+05:30:07").value();
  EXPECT_EQ(refused(value(odd)), errc::unsupported_type);
  // cachekit-py's reader needs 10 bytes (checksum + 2): "7" could never be read back.
  EXPECT_EQ(refused(value(7)), errc::unsupported_type);
  EXPECT_EQ(refused(value(70)), std::error_code{});
  EXPECT_EQ(refused(value(value_array{1, "fine"})), std::error_code{});
}

TEST(serializer, json_reader_refuses_hostile_and_corrupt_entries) {
  auto open_json = [](std::string_view text) {
    return detail::orjson_to_standard(as_byte_view(text), {.max_output_bytes = 1 << 20});
  };
  EXPECT_TRUE(open_json(R"({"a":[1,2.5,"x",null,true,{}]})"));
  EXPECT_TRUE(open_json(" 1 "));
  EXPECT_EQ(open_json(R"({"a":1,"a":2})").error().code, errc::malformed);
  EXPECT_EQ(open_json("[1,2").error().code, errc::malformed);
  EXPECT_EQ(open_json("NaN").error().code, errc::malformed);
  EXPECT_EQ(open_json("1e400").error().code, errc::malformed);
  EXPECT_EQ(open_json("\xEF\xBB\xBF"
                      "1")
                .error()
                .code,
            errc::malformed);
  EXPECT_EQ(open_json("\"\xff\"").error().code, errc::malformed);
  EXPECT_EQ(open_json(R"("\ud800")").error().code, errc::malformed);
  EXPECT_EQ(open_json("1 2").error().code, errc::malformed);
  EXPECT_EQ(open_json("").error().code, errc::malformed);
  // orjson's depth limit: 1024 nested arrays read, 1025 do not.
  EXPECT_TRUE(open_json(std::string(1024, '[') + std::string(1024, ']')));
  EXPECT_EQ(open_json(std::string(1025, '[') + std::string(1025, ']')).error().code,
            errc::length_limit);
  // Output bounded as it grows: 250k empty arrays (750 kB of JSON) would be 1.25 MB of
  // MessagePack, above the 1 MiB bound.
  std::string many = "[";
  for (int i = 0; i < 250000; ++i) many += i ? ",[]" : "[]";
  many += "]";
  auto too_many = open_json(many);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code, errc::length_limit);
  // Integers past 64 bits read as floats, as orjson reads them.
  auto big = open_json("18446744073709551616");
  ASSERT_TRUE(big);
  EXPECT_EQ(decode_standard_value(*big).value(), value(18446744073709551616.0));
}

TEST(serializer, json_checksum_guards_the_payload) {
  auto fmt = format_of(serializer_kind::json, true);
  byte_buffer stored = hex(json_cases[0].frame_integrity_on);
  stored.back() = std::byte{'2'};  // {"a":1} -> {"a":2}
  EXPECT_EQ(fmt.open(stored, "k").error().code, errc::checksum_mismatch);
  // An integrity-off entry read with integrity on: too short, or a checksum that fails.
  EXPECT_FALSE(fmt.open(hex(json_cases[0].frame_integrity_off), "k"));
  // The default serializer's entry is another serializer's.
  EXPECT_EQ(fmt.open(hex(auto_write_cases[0].frame_integrity_on), "k").error().code,
            errc::serializer_mismatch);
}

TEST(serializer, auto_reads_cachekit_py_auto_entries_as_the_data_cpp_holds) {
  for (const auto& c : auto_read_cases) {
    for (bool integrity : {true, false}) {
      SCOPED_TRACE(std::string(c.name) + (integrity ? " integrity on" : " integrity off"));
      auto opened = format_of(serializer_kind::auto_detect, integrity)
                        .open(hex(integrity ? c.frame_integrity_on : c.frame_integrity_off), "k");
      ASSERT_TRUE(opened) << opened.error().message();
      EXPECT_EQ(to_hex(opened->msgpack), c.msgpack);
    }
  }
}

TEST(serializer, auto_tuples_and_sets_decode_into_cpp_containers) {
  auto fmt = format_of(serializer_kind::auto_detect, true);
  auto opened = fmt.open(hex(auto_read_cases[2].frame_integrity_on), "k");  // {"s": {1, 2, 3}}
  ASSERT_TRUE(opened);
  auto sets = codec<std::map<std::string, std::vector<std::int64_t>>>::decode(opened->msgpack);
  ASSERT_TRUE(sets) << sets.error().message();
  EXPECT_EQ(sets->at("s"), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(serializer, auto_writes_cachekit_py_auto_bytes) {
  for (const auto& c : auto_write_cases) {
    for (bool integrity : {true, false}) {
      SCOPED_TRACE(std::string(c.name) + (integrity ? " integrity on" : " integrity off"));
      auto stored = format_of(serializer_kind::auto_detect, integrity).seal(hex(c.msgpack), "k");
      ASSERT_TRUE(stored) << stored.error().message();
      const std::string_view want = integrity ? c.frame_integrity_on : c.frame_integrity_off;
      if (integrity) {
        // The envelope's LZ4 block may differ from lz4_flex's; its contents may not.
        auto theirs = format_of(serializer_kind::auto_detect, true).open(hex(want), "k");
        auto ours = format_of(serializer_kind::auto_detect, true).open(*stored, "k");
        ASSERT_TRUE(theirs && ours);
        EXPECT_EQ(ours->msgpack, theirs->msgpack);
        EXPECT_EQ(to_hex(*stored).substr(0, 14 + 2 * 0x7a), want.substr(0, 14 + 2 * 0x7a));
      } else {
        EXPECT_EQ(to_hex(*stored), want);
      }
    }
  }
}

TEST(serializer, auto_refuses_values_python_would_read_as_other_types) {
  auto fmt = format_of(serializer_kind::auto_detect, false);
  auto seal = [&](const value& v) {
    auto stored = fmt.seal(encode_standard_value(v).value(), "k");
    return stored ? std::error_code{} : stored.error().code;
  };
  EXPECT_EQ(seal(value_map{{"__tuple__", true}, {"value", value_array{1}}}),
            errc::unsupported_type);
  EXPECT_EQ(seal(value_array{value_map{{"__set__", true}, {"value", value_array{}}}}),
            errc::unsupported_type);
  // A list shaped like a ByteStorage envelope: AutoSerializer's integrity-off reader refuses it.
  EXPECT_EQ(seal(value_array{value::binary(hex("00")), value_array{1, 2, 3, 4, 5, 6, 7, 8}, 5,
                             "msgpack"}),
            errc::unsupported_type);
  EXPECT_EQ(seal(value_map{{"__tuple__", false}}), std::error_code{});
  EXPECT_EQ(seal(value_array{1, 2, 3, "msgpack"}), std::error_code{});
}

TEST(serializer, auto_python_only_entries_are_a_distinct_miss) {
  for (const auto& c : python_only_cases) {
    SCOPED_TRACE(c.name);
    auto opened =
        format_of(serializer_kind::auto_detect, c.integrity_checking).open(hex(c.frame), "k");
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, errc::python_only_value) << opened.error().message();
    EXPECT_EQ(opened.error().code, errc_group::corrupt_data);
  }
}

TEST(serializer, json_and_auto_refuse_encryption_and_interop) {
  auto keys = keyring::from_hex(std::string(64, '6')).value().for_tenant("default").value();
  EXPECT_THROW(storage_format({.serializer = serializer_kind::json, .encryption = keys}), error);
  EXPECT_THROW(
      storage_format({.mode = storage_mode::interop, .serializer = serializer_kind::auto_detect}),
      error);
}

// ---- through the cache ----------------------------------------------------------------------

struct api_reply {
  std::int64_t id = 0;
  std::string name;
  std::vector<double> scores;
  MSGPACK_DEFINE_MAP(id, name, scores);
  friend bool operator==(const api_reply&, const api_reply&) = default;
};

TEST(serializer, memoize_json_stores_orjson_entries_under_the_o_key) {
  auto l2 = std::make_shared<memory_backend>();
  cache c({.l2 = l2, .key_binding = false});
  int runs = 0;
  auto get = c.memoize("app.api.get",
                       [&](std::int64_t id) {
                         ++runs;
                         return api_reply{id, "ann", {1.5, 2.0}};
                       },
                       {.serializer = serializer_kind::json});
  EXPECT_EQ(get(7), (api_reply{7, "ann", {1.5, 2.0}}));
  const std::string key = get.key(7).value();
  EXPECT_EQ(key.back(), 'o');
  EXPECT_EQ(key.substr(key.size() - 2), "1o");
  auto stored = l2->get(key).value();
  ASSERT_TRUE(stored);
  const std::string_view text = as_string_view(*stored);
  EXPECT_NE(text.find(R"({"id":7,"name":"ann","scores":[1.5,2.0]})"), std::string_view::npos);
  // Another process (no L1 copy) reads it back.
  cache other({.l2 = l2, .l1_enabled = false, .key_binding = false});
  auto get2 = other.memoize("app.api.get", [&](std::int64_t) { return api_reply{}; },
                            {.serializer = serializer_kind::json});
  EXPECT_EQ(get2(7), (api_reply{7, "ann", {1.5, 2.0}}));
  EXPECT_EQ(get2.info().l2_hits, 1u);
  EXPECT_EQ(runs, 1);
}

TEST(serializer, memoize_json_result_json_cannot_carry_is_an_uncacheable_call) {
  cache c({.l2 = std::make_shared<memory_backend>()});
  int runs = 0;
  auto get = c.memoize("app.blob",
                       [&](int) {
                         ++runs;
                         return std::vector<std::byte>{std::byte{1}};
                       },
                       {.serializer = serializer_kind::json});
  EXPECT_EQ(get(1).size(), 1u);
  EXPECT_EQ(get(1).size(), 1u);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(c.stats().uncacheable_calls, 2u);
}

TEST(serializer, memoize_auto_leaves_python_only_entries_in_place_and_counts_them) {
  auto l2 = std::make_shared<memory_backend>();
  cache c({.l2 = l2, .serializer = serializer_kind::auto_detect});
  int runs = 0;
  auto get = c.memoize("app.arrays", [&](int) {
    ++runs;
    return std::vector<double>{1.0};
  });
  const std::string key = get.key(1).value();
  EXPECT_EQ(key.substr(key.size() - 2), "1a");
  const byte_buffer numpy_entry = hex(python_only_cases[2].frame);
  ASSERT_TRUE(l2->set(key, numpy_entry, std::nullopt));
  EXPECT_EQ(get(1), std::vector<double>{1.0});
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(c.stats().python_only_entries, 1u);
  EXPECT_EQ(c.stats().corrupt_entries, 0u);
  EXPECT_EQ(l2->get(key).value(), std::optional<byte_buffer>(numpy_entry));  // not overwritten
}

TEST(serializer, encrypted_cache_refuses_json) {
  cache_options o = cache_options::for_intent(intent::secure);
  o.encryption =
      encryption_options{.keys = keyring::from_hex(keyring::generate_master_key_hex()).value()};
  o.serializer = serializer_kind::json;
  EXPECT_THROW(cache{o}, error);
  o.serializer = serializer_kind::standard;
  cache c(o);
  EXPECT_THROW((void)c.memoize("f", [](int i) { return i; }, {.serializer = serializer_kind::json}),
               error);
}

}  // namespace
}  // namespace cachekit
