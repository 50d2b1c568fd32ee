// The key binding "k" of plaintext frames: an entry copied or swapped under another key is a
// counted corrupt entry, not that key's value. Entries without "k" (cachekit-py's) still read;
// encrypted frames never carry it (their AAD binds the key).
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/encryption.hpp>
#include <cachekit/frame.hpp>
#include <cachekit/memory_backend.hpp>
#include <cachekit/storage_format.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace cachekit {
namespace {

byte_buffer hex(std::string_view h) {
  byte_buffer out;
  EXPECT_TRUE(from_hex(h, out)) << h;
  return out;
}

const byte_buffer a1 = hex("81a16101");  // {"a": 1}

std::string header_of(byte_view stored) {
  auto f = frame::decode(stored);
  EXPECT_TRUE(f) << f.error().message();
  const std::size_t len = f->header_len();
  return std::string(as_string_view(stored.subspan(frame::prefix_size, len)));
}

// A frame of `a1` whose header is `json` (header_len fixed up).
byte_buffer frame_with_header(std::string_view json, byte_view payload) {
  byte_buffer out{std::byte{'C'},
                  std::byte{'K'},
                  std::byte{3},
                  static_cast<std::byte>(json.size() >> 24),
                  static_cast<std::byte>(json.size() >> 16),
                  static_cast<std::byte>(json.size() >> 8),
                  static_cast<std::byte>(json.size())};
  const byte_view text = as_byte_view(json);
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

constexpr std::string_view plain_header_off =
    R"({"s": "default", "m": {"format": "msgpack", "encoding": "utf-8", "compressed": false, )"
    R"("original_type": "msgpack"}, "v": "2.0")";

// ---- frame ------------------------------------------------------------------------------------

TEST(key_binding, key_hash_is_xxh3_64_of_the_storage_key) {
  EXPECT_EQ(frame::key_hash(""), 0x2d06800538d394c2u);  // XXH3-64 of no bytes
  EXPECT_EQ(frame::key_hash("t:default:func:m.f:args:00:1s"),
            checksum_xxh3(as_byte_view("t:default:func:m.f:args:00:1s")));
  char digits[16];
  frame::write_key_hash(0x0123456789abcdefu, digits);
  EXPECT_EQ(std::string_view(digits, 16), "0123456789abcdef");
  EXPECT_EQ(frame::parse_key_hash("0123456789abcdef"), 0x0123456789abcdefu);
  EXPECT_EQ(frame::parse_key_hash("0123456789ABCDEF"), std::nullopt);
  EXPECT_EQ(frame::parse_key_hash("0123456789abcde"), std::nullopt);
  EXPECT_EQ(frame::parse_key_hash("0123456789abcdef0"), std::nullopt);
  EXPECT_EQ(frame::parse_key_hash("0123456789abcdeg"), std::nullopt);
}

TEST(key_binding, keyed_prefix_ends_the_header_with_k_and_fills_it_per_write) {
  frame::header h{.metadata = frame::standard_metadata({.integrity_checking = false}),
                  .key_hash = 0};
  auto p = frame::prefix::make(h).value();
  ASSERT_TRUE(p.binds_key());
  EXPECT_EQ(p.header_json(), std::string(plain_header_off) + R"(, "k": "0000000000000000"})");
  byte_buffer out;
  p.append_to(out, 0xfedcba9876543210u);
  out.insert(out.end(), a1.begin(), a1.end());
  EXPECT_EQ(header_of(out), std::string(plain_header_off) + R"(, "k": "fedcba9876543210"})");
  auto read = frame::decode(out).value();
  EXPECT_EQ(read.header().key_hash, 0xfedcba9876543210u);
  EXPECT_EQ(byte_buffer(read.payload().begin(), read.payload().end()), a1);

  // Without a key_hash nothing changes: cachekit-py's header, and append_to ignores a hash.
  auto unkeyed = frame::prefix::make({.metadata = h.metadata}).value();
  EXPECT_FALSE(unkeyed.binds_key());
  EXPECT_EQ(unkeyed.header_json(), std::string(plain_header_off) + "}");
  byte_buffer same;
  unkeyed.append_to(same, 42);
  EXPECT_EQ(same, byte_buffer(unkeyed.bytes().begin(), unkeyed.bytes().end()));
}

TEST(key_binding, keyed_prefix_keeps_the_alignment_rule) {
  frame::header h{
      .serializer = "arrow", .metadata = {.format = "arrow", .compressed = false}, .key_hash = 7};
  auto p = frame::prefix::make(h, {.align = 64, .offset = 22}).value();
  EXPECT_EQ((22 + p.bytes().size()) % 64, 0u);
  byte_buffer out;
  p.append_to(out, 0xabcdefu);
  out.push_back(std::byte{0});
  auto read = frame::decode(out).value();
  EXPECT_EQ(read.header().key_hash, 0xabcdefu);
  EXPECT_EQ(read.payload().size(), 1u);
}

TEST(key_binding, encrypted_headers_cannot_carry_k) {
  frame::header h{.metadata = frame::standard_metadata({}), .key_hash = 1};
  h.metadata.encrypted = true;
  h.metadata.tenant_id = "default";
  h.metadata.encryption_algorithm = std::string(frame::aes_256_gcm);
  h.metadata.key_fingerprint = std::string(32, 'a');
  auto p = frame::prefix::make(h);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.code(), errc::invalid_argument);
}

TEST(key_binding, reader_takes_absent_k_and_refuses_malformed_k) {
  EXPECT_EQ(frame::decode(frame_with_header(std::string(plain_header_off) + "}", a1))
                .value()
                .header()
                .key_hash,
            std::nullopt);
  for (const std::string bad :
       {R"(5)", R"(null)", R"(["0123456789abcdef"])", R"("0123456789ABCDEF")",
        R"("0123456789abcde")", R"("0123456789abcdef0")", R"("")"}) {
    auto f = frame::decode(
        frame_with_header(std::string(plain_header_off) + R"(, "k": )" + bad + "}", a1));
    ASSERT_FALSE(f) << bad;
    EXPECT_EQ(f.code(), errc::malformed) << bad;
  }
  // "k" anywhere in the object counts, as JSON object order does not matter.
  auto first = frame::decode(frame_with_header(
      R"({"k": "00000000000000ff", "s": "default", "m": {"format": "msgpack"}, "v": "2.0"})", a1));
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->header().key_hash, 0xffu);
}

TEST(key_binding, encrypted_headers_ignore_k_as_before) {
  const std::string header =
      R"({"s": "default", "m": {"format": "msgpack", "compressed": true, "encrypted": true, )"
      R"("tenant_id": "default", "encryption_algorithm": "AES-256-GCM", "key_fingerprint": )"
      R"("00000000000000000000000000000000"}, "v": "2.0", "k": 5})";
  auto f = frame::decode(frame_with_header(header, a1));
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->header().key_hash, std::nullopt);
}

// ---- storage_format ---------------------------------------------------------------------------

TEST(key_binding, plaintext_frames_are_bound_to_the_key_they_are_sealed_for) {
  for (const bool integrity : {true, false}) {
    storage_format fmt({.mode = storage_mode::frame, .integrity_checking = integrity});
    const byte_buffer stored = fmt.seal(a1, "key-a").value();
    auto read = frame::decode(stored).value();
    EXPECT_EQ(read.header().key_hash, frame::key_hash("key-a"));
    for (const bool explain : {false, true}) {
      auto opened = fmt.open(stored, "key-a", explain);
      ASSERT_TRUE(opened) << opened.error().message();
      EXPECT_EQ(opened->msgpack, a1);
      auto swapped = fmt.open(stored, "key-b", explain);
      ASSERT_FALSE(swapped);
      EXPECT_EQ(swapped.code(), errc::key_mismatch);
      EXPECT_EQ(swapped.code(), errc_group::corrupt_data);
      EXPECT_NE(swapped.error().detail.find("key-b"), std::string::npos) << swapped.error().detail;
    }
    // A reader with the other integrity setting reads through the header (slow path): same check.
    storage_format other({.mode = storage_mode::frame, .integrity_checking = !integrity});
    EXPECT_TRUE(other.open(stored, "key-a"));
    EXPECT_EQ(other.open(stored, "key-b").code(), errc::key_mismatch);
  }
}

TEST(key_binding, entries_without_k_still_read_under_any_key) {
  storage_format fmt({.mode = storage_mode::frame});
  const byte_buffer py = frame::encode_standard(a1).value();  // what cachekit-py writes
  for (const std::string_view key : {"key-a", "key-b", ""}) {
    auto opened = fmt.open(py, key);
    ASSERT_TRUE(opened) << opened.error().message();
    EXPECT_EQ(opened->msgpack, a1);
  }
}

TEST(key_binding, malformed_digits_where_ours_go_are_a_malformed_entry) {
  storage_format fmt({.mode = storage_mode::frame, .integrity_checking = false});
  byte_buffer stored = fmt.seal(a1, "key-a").value();
  const std::string header = header_of(stored);
  const std::size_t at = frame::prefix_size + header.size() - 18;
  stored[at] = std::byte{'Z'};
  auto opened = fmt.open(stored, "key-a");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.code(), errc::malformed);
}

TEST(key_binding, switched_off_it_writes_cachekit_py_bytes_and_ignores_k) {
  storage_format off({.mode = storage_mode::frame, .key_binding = false});
  EXPECT_EQ(off.seal(a1, "key-a").value(), frame::encode_standard(a1).value());
  storage_format on({.mode = storage_mode::frame});
  EXPECT_TRUE(off.open(on.seal(a1, "key-a").value(), "key-b"));
}

TEST(key_binding, encrypted_frames_do_not_carry_k) {
  auto keys = keyring::from_hex(std::string(64, '6')).value().for_tenant("default").value();
  storage_format fmt({.mode = storage_mode::frame, .encryption = std::move(keys)});
  const byte_buffer stored = fmt.seal(a1, "key-a").value();
  EXPECT_EQ(header_of(stored).find("\"k\""), std::string::npos);
  EXPECT_EQ(frame::decode(stored).value().header().key_hash, std::nullopt);
  EXPECT_EQ(fmt.open(stored, "key-b").code(), errc::authentication_failed);  // the AAD binds it
}

// ---- cache ------------------------------------------------------------------------------------

struct swapped_entries : ::testing::Test {
  std::shared_ptr<memory_backend> l2 = std::make_shared<memory_backend>();
  std::atomic<int> calls{0};

  cache make_cache(cache_options options = {}) {
    options.l2 = l2;
    options.l1_enabled = false;  // every read goes to L2, where the entries are swapped
    return cache(std::move(options));
  }
  auto twice() {
    return [this](std::int64_t n) -> value {
      ++calls;
      return value(n * 2);
    };
  }
  void swap_entries(const std::string& a, const std::string& b) {
    auto va = l2->get(a).value();
    auto vb = l2->get(b).value();
    ASSERT_TRUE(va && vb);
    ASSERT_TRUE(l2->set(a, *vb, std::nullopt));
    ASSERT_TRUE(l2->set(b, *va, std::nullopt));
  }
};

TEST_F(swapped_entries, are_counted_corrupt_misses_and_return_the_right_values) {
  for (const bool integrity : {true, false}) {
    calls = 0;
    auto c = make_cache();
    auto fn =
        c.memoize(integrity ? "swap.on" : "swap.off", twice(), {.integrity_checking = integrity});
    EXPECT_EQ(fn(1), value(2));
    EXPECT_EQ(fn(2), value(4));
    ASSERT_EQ(calls, 2);
    swap_entries(fn.key(1).value(), fn.key(2).value());
    EXPECT_EQ(fn(1), value(2)) << "integrity " << integrity;
    EXPECT_EQ(fn(2), value(4)) << "integrity " << integrity;
    EXPECT_EQ(calls, 4);
    EXPECT_EQ(c.stats().corrupt_entries, 2u);
    // Rewritten under their own keys: served from L2 again.
    EXPECT_EQ(fn(1), value(2));
    EXPECT_EQ(fn(2), value(4));
    EXPECT_EQ(calls, 4);
  }
}

TEST_F(swapped_entries, entries_written_without_k_still_read) {
  auto c = make_cache();
  auto fn = c.memoize("swap.python", twice());
  const std::string key = fn.key(5).value();
  // 42 in a frame as cachekit-py writes it: no "k".
  ASSERT_TRUE(l2->set(key, frame::encode_standard(hex("2a")).value(), std::nullopt));
  EXPECT_EQ(fn(5), value(42));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(c.stats().corrupt_entries, 0u);
}

TEST_F(swapped_entries, are_served_in_interop_mode_which_has_no_header) {
  auto c = make_cache();
  auto fn = c.memoize_interop("swap", "op", twice());
  EXPECT_EQ(fn(1), value(2));
  EXPECT_EQ(fn(2), value(4));
  swap_entries(fn.key(1).value(), fn.key(2).value());
  EXPECT_EQ(fn(1), value(4));  // documented: only frames (and encryption) carry a binding
  EXPECT_EQ(c.stats().corrupt_entries, 0u);
}

TEST_F(swapped_entries, with_binding_off_are_served_as_in_cachekit_py) {
  auto c = make_cache({.key_binding = false});
  auto fn = c.memoize("swap.unbound", twice());
  EXPECT_EQ(fn(1), value(2));
  EXPECT_EQ(fn(2), value(4));
  EXPECT_EQ(l2->get(fn.key(1).value()).value(),
            frame::encode_standard(encode_standard_value(value(2)).value()).value());
  swap_entries(fn.key(1).value(), fn.key(2).value());
  EXPECT_EQ(fn(1), value(4));
  EXPECT_EQ(c.stats().corrupt_entries, 0u);
}

}  // namespace
}  // namespace cachekit
