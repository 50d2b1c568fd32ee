#include <gtest/gtest.h>
#include <cachekit/codec.hpp>

#include <map>
#include <msgpack.hpp>  // unpack: cachekit's headers carry only the packing side
#include <optional>
#include <string>
#include <vector>

namespace {

struct user {
  std::int64_t id = 0;
  std::string name;
  std::vector<double> scores;
  std::optional<std::string> email;
  MSGPACK_DEFINE_MAP(id, name, scores, email);
  friend bool operator==(const user&, const user&) = default;
};

std::string hex_of(const cachekit::byte_buffer& b) {
  return cachekit::to_hex(b);
}

cachekit::byte_buffer bytes_of(std::string_view hex) {
  cachekit::byte_buffer out;
  EXPECT_TRUE(cachekit::from_hex(hex, out));
  return out;
}

TEST(codec, struct_with_define_map_packs_as_python_dict) {
  const user u{42, "bob", {1.5}, std::nullopt};
  auto bytes = cachekit::codec<user>::encode(u);
  ASSERT_TRUE(bytes);
  // msgpack.packb({"id": 42, "name": "bob", "scores": [1.5], "email": None}, use_bin_type=True)
  EXPECT_EQ(hex_of(*bytes),
            "84a269642aa46e616d65a3626f62a673636f72657391cb3ff8000000000000a5656d61696cc0");
}

TEST(codec, struct_round_trips) {
  const user u{-7, "\xc3\xa9t\xc3\xa9", {0.25, -1e300}, std::string("a@b.c")};
  auto bytes = cachekit::codec<user>::encode(u);
  ASSERT_TRUE(bytes);
  auto back = cachekit::codec<user>::decode(*bytes);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, u);
}

TEST(codec, python_dict_decodes_into_struct_regardless_of_key_order) {
  // {"name": "ann", "id": 7, "scores": [], "email": "x"} written by Python with another order.
  auto back = cachekit::codec<user>::decode(
      bytes_of("84a46e616d65a3616e6ea2696407a673636f72657390a5656d61696ca178"));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->id, 7);
  EXPECT_EQ(back->name, "ann");
  EXPECT_EQ(back->email, "x");
}

struct address {
  std::string city;
  std::int64_t zip = -1;
  MSGPACK_DEFINE_MAP(city, zip);
  friend bool operator==(const address&, const address&) = default;
};
struct customer {
  std::int64_t id = -1;
  address home;
  std::vector<address> others;
  MSGPACK_DEFINE_MAP(id, home, others);
  friend bool operator==(const customer&, const customer&) = default;
};

// What msgpack-cxx's own define_map converter makes of the same bytes (nullopt: it throws).
template <class T>
std::optional<T> msgpack_cxx_convert(const cachekit::byte_buffer& bytes) {
  try {
    auto handle = msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return handle.get().as<T>();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

TEST(codec, struct_decoded_by_name_matches_msgpack_cxx_define_map) {
  const char* const cases[] = {
      // {"id": 1, "home": {"city": "x", "zip": 9}, "others": [{"city": "y"}]}
      "83a26964 01a4686f6d6582a463697479a178a37a697009a66f74686572739181a463697479a179",
      // unknown keys ignored, absent fields keep their defaults: {"zz": 5, "id": 3}
      "82a27a7a05a2696403",
      // a repeated key: the first value wins (msgpack-cxx's map keeps the first): {"id":1,"id":2}
      "82a2696401a2696402",
      // repeated nested key: {"home": {"zip": 1, "zip": 2}}
      "81a4686f6d6582a37a697001a37a697002",
      // empty map
      "80",
  };
  for (const char* hex : cases) {
    std::string compact;
    for (const char* c = hex; *c; ++c) {
      if (*c != ' ') compact.push_back(*c);
    }
    const auto bytes = bytes_of(compact);
    auto ours = cachekit::codec<customer>::decode(bytes);
    auto theirs = msgpack_cxx_convert<customer>(bytes);
    ASSERT_TRUE(theirs) << hex;
    ASSERT_TRUE(ours) << hex << ": " << ours.error().message();
    EXPECT_EQ(*ours, *theirs) << hex;
  }
}

TEST(codec, struct_with_a_non_string_key_or_not_a_map_is_type_mismatch) {
  for (const char* hex : {"82a2696401 0102", "920102", "81a4686f6d6501", "c0"}) {
    std::string compact;
    for (const char* c = hex; *c; ++c) {
      if (*c != ' ') compact.push_back(*c);
    }
    const auto bytes = bytes_of(compact);
    EXPECT_FALSE(msgpack_cxx_convert<customer>(bytes)) << hex;
    auto ours = cachekit::codec<customer>::decode(bytes);
    ASSERT_FALSE(ours) << hex;
    EXPECT_EQ(ours.code(), cachekit::errc::type_mismatch) << hex;
  }
}

// Hand-written adaptors whose msgpack_pack is not the MSGPACK_DEFINE_MAP shape (one packer type
// only; a str written with pack_str) keep their own msgpack_unpack, which here adds 100.
struct packs_for_sbuffer_only {
  int a = 0;
  void msgpack_pack(msgpack::packer<msgpack::sbuffer>& pk) const {
    pk.pack_map(1);
    pk.pack("a");
    pk.pack(a);
  }
  void msgpack_unpack(const msgpack::object& o) { a = o.via.map.ptr[0].val.as<int>() + 100; }
};
struct packs_its_own_way {
  int a = 0;
  template <class Packer>
  void msgpack_pack(Packer& pk) const {
    pk.pack_map(1);
    pk.pack_str(1);
    pk.pack_str_body("a", 1);
    pk.pack(a);
  }
  void msgpack_unpack(const msgpack::object& o) { a = o.via.map.ptr[0].val.as<int>() + 100; }
};

TEST(codec, hand_written_adaptors_keep_their_own_msgpack_unpack) {
  const auto bytes = bytes_of("81a16105");  // {"a": 5}
  auto first = cachekit::codec<packs_for_sbuffer_only>::decode(bytes);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->a, 105);
  auto second = cachekit::codec<packs_its_own_way>::decode(bytes);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->a, 105);
}

TEST(codec, wrong_shape_is_type_mismatch) {
  auto back = cachekit::codec<std::vector<std::string>>::decode(bytes_of("92012a"));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), cachekit::errc::type_mismatch);
}

TEST(codec, trailing_bytes_are_rejected) {
  auto back = cachekit::codec<int>::decode(bytes_of("2a2a"));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), cachekit::errc::trailing_bytes);  // the decode bounds' own error
}

TEST(codec, hostile_length_is_rejected_without_allocating) {
  // map32 declaring 0x5c68f5df entries in a 5-byte input (limits.md).
  auto back = cachekit::codec<std::map<std::string, int>>::decode(bytes_of("df5c68f5df"));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.code(), cachekit::errc::length_limit);  // the decode bounds' overclaim
}

TEST(codec, maps_and_strings_use_python_shortest_forms) {
  const std::map<std::string, std::string> m{{"k", std::string(40, 'x')}};
  auto bytes = cachekit::codec<std::map<std::string, std::string>>::encode(m);
  ASSERT_TRUE(bytes);
  // str8 (d9) for a 40-byte string, as msgpack-python writes it.
  EXPECT_EQ(hex_of(*bytes).substr(0, 10), "81a16bd928");
}

}  // namespace
