// Stored bytes are chosen by whoever can write to L2. A read bounds what an entry may cost before
// decoding it, and nothing a decoder does (running out of memory included) escapes a cached call:
// each hostile entry below is a counted corrupt entry, evicted, and the function runs.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/frame.hpp>
#include <cachekit/memory_backend.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <string>

namespace cachekit {

// A result type whose codec throws on decode, as a user codec or an exhausted allocator might.
struct fragile {
  std::int64_t n = 0;
  bool operator==(const fragile&) const = default;
};
template <>
struct codec<fragile> {
  static result<byte_buffer> encode(const fragile& f) { return codec<std::int64_t>::encode(f.n); }
  static result<fragile> decode(byte_view) { throw std::bad_alloc(); }
};

namespace {

struct hostile_entries : ::testing::Test {
  std::shared_ptr<memory_backend> l2 = std::make_shared<memory_backend>();
  std::atomic<int> calls{0};

  cache make_cache(cache_options options = {}) {
    options.l2 = l2;
    return cache(std::move(options));
  }
  auto answer() {
    return [this](std::int64_t n) -> value {
      ++calls;
      return value(n * 2);
    };
  }
  // `msgpack` framed as cachekit-py stores it (CK v3 frame around a ByteStorage envelope).
  static byte_buffer framed(const byte_buffer& msgpack) {
    return frame::encode_standard(msgpack, {.integrity_checking = true}).value();
  }
  // A MessagePack array32 of `count` nils: 5 + count bytes that decode to count values.
  static byte_buffer nils(std::uint32_t count) {
    byte_buffer out{std::byte{0xdd}, static_cast<std::byte>(count >> 24),
                    static_cast<std::byte>(count >> 16), static_cast<std::byte>(count >> 8),
                    static_cast<std::byte>(count)};
    out.resize(out.size() + count, std::byte{0xc0});
    return out;
  }
};

TEST_F(hostile_entries, a_compressed_flood_of_items_is_refused_before_decoding) {
  // 8 Mi nils compress to ~33 KB and would decode to ~320 MiB of values.
  auto c = make_cache();
  auto fn = c.memoize("hostile.flood", answer());
  const std::string key = fn.key(1).value();
  const byte_buffer planted = framed(nils(8u << 20));
  ASSERT_LT(planted.size(), 64u * 1024);
  ASSERT_TRUE(l2->set(key, planted, std::nullopt));
  EXPECT_EQ(fn(1), value(2));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(c.stats().corrupt_entries, 1u);
  EXPECT_NE(*l2->get(key).value(), planted);  // replaced by the fresh result
}

TEST_F(hostile_entries, an_envelope_above_max_value_bytes_is_refused_before_decompressing) {
  auto c = make_cache({.max_value_bytes = 1 << 20});
  auto fn = c.memoize("hostile.big", answer());
  const std::string key = fn.key(3).value();
  ASSERT_TRUE(l2->set(key, framed(nils(2u << 20)), std::nullopt));
  EXPECT_EQ(fn(3), value(6));
  EXPECT_EQ(c.stats().corrupt_entries, 1u);
}

TEST_F(hostile_entries, a_stored_entry_above_max_value_bytes_is_refused_unread) {
  // A well-formed uncompressed frame of an 8 KB string: valid, but larger than this cache writes.
  auto c = make_cache({.max_value_bytes = 4096});
  auto fn = c.memoize("hostile.oversize", answer(), {.integrity_checking = false});
  const std::string key = fn.key(4).value();
  const byte_buffer text = encode_standard_value(value(std::string(8000, 'x'))).value();
  const byte_buffer stored = frame::encode_standard(text, {.integrity_checking = false}).value();
  ASSERT_GT(stored.size(), 4096u);
  ASSERT_TRUE(l2->set(key, stored, std::nullopt));
  EXPECT_EQ(fn(4), value(8));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(c.stats().corrupt_entries, 1u);
}

TEST_F(hostile_entries, a_frame_header_past_the_limit_is_never_parsed) {
  // Padding keeps the JSON valid, so the old reader parsed 20 KB and served the value.
  auto c = make_cache();
  auto fn = c.memoize("hostile.header", answer());
  const std::string key = fn.key(5).value();
  const byte_buffer honest = framed(byte_buffer{std::byte{0x2a}});
  const std::uint32_t header_len = (std::to_integer<std::uint32_t>(honest[3]) << 24) |
                                   (std::to_integer<std::uint32_t>(honest[4]) << 16) |
                                   (std::to_integer<std::uint32_t>(honest[5]) << 8) |
                                   std::to_integer<std::uint32_t>(honest[6]);
  const std::uint32_t padded_len = header_len + 20000;
  byte_buffer stored{std::byte{'C'},
                     std::byte{'K'},
                     std::byte{3},
                     static_cast<std::byte>(padded_len >> 24),
                     static_cast<std::byte>(padded_len >> 16),
                     static_cast<std::byte>(padded_len >> 8),
                     static_cast<std::byte>(padded_len)};
  stored.insert(stored.end(), honest.begin() + 7, honest.begin() + 7 + header_len);
  stored.resize(stored.size() + 20000, std::byte{' '});
  stored.insert(stored.end(), honest.begin() + 7 + header_len, honest.end());
  ASSERT_TRUE(l2->set(key, stored, std::nullopt));
  EXPECT_EQ(fn(5), value(10));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(c.stats().corrupt_entries, 1u);
}

TEST_F(hostile_entries, a_header_with_thousands_of_json_values_is_refused) {
  const std::string json = [] {
    std::string j = R"({"s":"default","m":{"format":"msgpack","compressed":true,"x":[)";
    for (int i = 0; i < 5000; ++i) j += (i ? ",0" : "0");
    return j + "]}}";
  }();
  byte_buffer stored{std::byte{'C'},
                     std::byte{'K'},
                     std::byte{3},
                     std::byte{0},
                     static_cast<std::byte>(json.size() >> 16),
                     static_cast<std::byte>(json.size() >> 8),
                     static_cast<std::byte>(json.size())};
  const auto text = as_byte_view(json);
  stored.insert(stored.end(), text.begin(), text.end());
  auto decoded = frame::decode(stored);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.code(), errc::malformed);
  EXPECT_NE(decoded.error().detail.find("128 JSON values"), std::string::npos);
}

TEST_F(hostile_entries, an_exception_from_the_result_codec_is_a_counted_corrupt_entry) {
  auto c = make_cache();
  int runs = 0;
  auto fn = c.memoize("hostile.fragile", [&runs](std::int64_t n) {
    ++runs;
    return fragile{n};
  });
  EXPECT_EQ(fn(7), fragile{7});  // stored
  // The next call reads it back; the codec throws: no exception reaches the caller.
  EXPECT_EQ(fn(7), fragile{7});
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(c.stats().corrupt_entries, 1u);
}

TEST_F(hostile_entries, legitimate_large_values_still_read_back) {
  auto c = make_cache();
  auto fn = c.memoize("hostile.legit", [](std::int64_t n) {
    value_array items(100000, value(n));
    return value(std::move(items));
  });
  const value first = fn(9);
  auto other = make_cache();  // a second process: served from L2
  auto again = other.memoize("hostile.legit", [](std::int64_t) { return value(); });
  EXPECT_EQ(again(9), first);
  EXPECT_EQ(again.info().l2_hits, 1u);
  EXPECT_EQ(other.stats().corrupt_entries, 0u);
}

}  // namespace
}  // namespace cachekit
