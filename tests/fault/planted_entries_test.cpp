// Bad data planted in a real Redis under a memoized function's key, one form per test: truncated,
// bit-flipped, a wrong checksum, an entry copied from another key, another tenant's ciphertext,
// an entry sealed under another master key, a plaintext entry where ciphertext is expected,
// decompression bombs, an item flood, and other serializers' bytes. Each is read back through
// the public API (`cache` + `memoize`) by a fresh cache (empty L1, as another process), in each
// mode where the form means something:
//
// - integrity_on (standard, the default): envelope checksum and sizes, key binding "k", frame
//   and serializer checks, read limits.
// - no_key_binding (standard, key_binding = false): as integrity_on, except that an entry copied
//   from another key is served as this key's (documented).
// - integrity_off (minimal): "k", frame and serializer checks, read limits; a flipped byte in the
//   value is served (documented).
// - secure (fail open): the AES-GCM tag (any edit; another key's, tenant's or master key's
//   entry), a plaintext entry where ciphertext is expected, and inside the ciphertext what
//   integrity_on checks.
// - fail_closed (secure, fail_closed = true): as secure; authentication failures throw and keep
//   the entry, the rest fails open (as cachekit-py's handle_decrypt_failure).
// - multi_tenant (secure, multi_tenant): as secure; another tenant's entry is a miss left in
//   place (cache_options.hpp, SECURITY.md).
//
// Not applicable, so not rows: a wrong checksum with integrity off (there is none); another
// master key's or a plaintext entry for plaintext readers (any ciphertext is the other_tenant
// row). In the encrypted modes the wrong checksum and the bombs are sealed with the cache's own
// key (a key holder with a faulty writer): without the key they are the plaintext_entry row.
//
// For every row: the function ran (or, fail_closed, the call threw cachekit::error of the
// security group and the function did not run), the value returned is the function's, the
// failure was counted in `cache::stats()` with the expected code (seen through `on_error`), and
// the planted bytes were evicted and replaced by a valid entry (or kept, where documented). The
// "served" rows are documented gaps, asserted so the documentation stays true. A table of all
// rows is printed when the binary ends.
#include <cachekit/cache.hpp>
#include <cachekit/encryption.hpp>
#include <cachekit/envelope.hpp>
#include <cachekit/frame.hpp>
#include <cachekit/redis_backend.hpp>
#include <cachekit/tenant_scope.hpp>

#include "support/local_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
namespace {

using testing::local_server;

// Fixed random master keys (openssl rand -hex 32): a cache refuses patterned ones.
constexpr std::string_view master_hex =
    "5c1f0e8a9d2b4c6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e7";
constexpr std::string_view foreign_master_hex =
    "d94e27b1c08a5f63e4b27d9c1a0f8e36b5d4c3a2918070f6e5d4c3b2a1908f7e";
const std::string tenant_a = "6f1c2a3b-0000-4000-8000-00000000000a";
const std::string tenant_b = "6f1c2a3b-0000-4000-8000-00000000000b";

enum class mode { integrity_on, no_key_binding, integrity_off, secure, fail_closed, multi_tenant };

enum class kind {
  truncated_header,
  truncated_payload,
  bit_flip,
  wrong_checksum,
  copied_key,
  other_tenant,
  foreign_master_key,
  plaintext_entry,
  bomb_claims,
  bomb_expands,
  item_flood,
  pickle,
  json,
  raw_msgpack,
  orjson_frame,
};

// What the read must do with the planted entry.
enum class outcome {
  evicted,      // counted, evicted, the function ran; a valid entry replaced it
  thrown_kept,  // fail_closed: cachekit::error (security group), entry kept, function not run
  tenant_kept,  // multi-tenant: a counted miss, entry neither evicted nor overwritten
  served,       // not detected (documented for integrity-off presets): the planted value
};

std::string_view name_of(mode m) {
  switch (m) {
    case mode::integrity_on: return "integrity_on";
    case mode::no_key_binding: return "no_key_binding";
    case mode::integrity_off: return "integrity_off";
    case mode::secure: return "secure";
    case mode::fail_closed: return "fail_closed";
    case mode::multi_tenant: return "multi_tenant";
  }
  return "?";
}

std::string_view name_of(kind k) {
  switch (k) {
    case kind::truncated_header: return "truncated_header";
    case kind::truncated_payload: return "truncated_payload";
    case kind::bit_flip: return "bit_flip";
    case kind::wrong_checksum: return "wrong_checksum";
    case kind::copied_key: return "copied_key";
    case kind::other_tenant: return "other_tenant";
    case kind::foreign_master_key: return "foreign_master_key";
    case kind::plaintext_entry: return "plaintext_entry";
    case kind::bomb_claims: return "bomb_claims";
    case kind::bomb_expands: return "bomb_expands";
    case kind::item_flood: return "item_flood";
    case kind::pickle: return "pickle";
    case kind::json: return "json";
    case kind::raw_msgpack: return "raw_msgpack";
    case kind::orjson_frame: return "orjson_frame";
  }
  return "?";
}

std::string errc_name(const std::error_code& code) {
  static constexpr std::pair<errc, std::string_view> names[] = {
      {errc::truncated, "truncated"},
      {errc::trailing_bytes, "trailing_bytes"},
      {errc::malformed, "malformed"},
      {errc::type_mismatch, "type_mismatch"},
      {errc::length_limit, "length_limit"},
      {errc::checksum_mismatch, "checksum_mismatch"},
      {errc::size_mismatch, "size_mismatch"},
      {errc::decompression_bomb, "decompression_bomb"},
      {errc::input_too_large, "input_too_large"},
      {errc::decompression_failed, "decompression_failed"},
      {errc::unsupported_version, "unsupported_version"},
      {errc::serializer_mismatch, "serializer_mismatch"},
      {errc::key_mismatch, "key_mismatch"},
      {errc::authentication_failed, "authentication_failed"},
      {errc::invalid_ciphertext, "invalid_ciphertext"},
      {errc::unknown_key_fingerprint, "unknown_key_fingerprint"},
      {errc::plaintext_downgrade, "plaintext_downgrade"},
      {errc::tenant_mismatch, "tenant_mismatch"},
  };
  for (const auto& [e, name] : names) {
    if (code == make_error_code(e)) return std::string(name);
  }
  return code.message();
}

struct planted_case {
  mode m;
  kind k;
  outcome expect;
  errc code;  // what the read reports (for `served`: unused)
};

void PrintTo(const planted_case& c, std::ostream* os) {
  *os << name_of(c.m) << "/" << name_of(c.k);
}

// One line of the closing table.
struct table_row {
  std::string mode, kind, detected_as, counted, l2_entry, thrown;
  int returned_wrong = 0;
  bool passed = false;
};

std::mutex table_mutex;
std::vector<table_row>& table() {
  static std::vector<table_row> rows;
  return rows;
}

// Prints every row once the tests are done, for the closing note.
class table_printer : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard lock(table_mutex);
    if (table().empty()) return;
    std::printf("\n[ planted  ] %-14s %-19s %-24s %-34s %-20s %-7s %s\n", "mode", "kind",
                "detected as", "counted", "L2 entry", "thrown", "wrong");
    for (const auto& r : table()) {
      std::printf("[ planted  ] %-14s %-19s %-24s %-34s %-20s %-7s %d%s\n", r.mode.c_str(),
                  r.kind.c_str(), r.detected_as.c_str(), r.counted.c_str(), r.l2_entry.c_str(),
                  r.thrown.c_str(), r.returned_wrong, r.passed ? "" : "  (ROW FAILED)");
    }
  }
};
const auto* const printer = ::testing::AddGlobalTestEnvironment(new table_printer);

// The result of the memoized function: long enough that its LZ4 block has literals at the end.
std::string value_of(std::int64_t n) {
  return "planted-entry value " + std::to_string(n) + " " + std::string(48, 'v');
}

// ---------------------------------------------------------------------------------------------
// Building planted bytes
// ---------------------------------------------------------------------------------------------

std::uint32_t header_len(const byte_buffer& frame) {
  return (std::to_integer<std::uint32_t>(frame.at(3)) << 24) |
         (std::to_integer<std::uint32_t>(frame.at(4)) << 16) |
         (std::to_integer<std::uint32_t>(frame.at(5)) << 8) |
         std::to_integer<std::uint32_t>(frame[6]);
}

byte_buffer frame_header(const byte_buffer& frame) {
  return {frame.begin(), frame.begin() + 7 + header_len(frame)};
}

byte_buffer frame_payload(const byte_buffer& frame) {
  return {frame.begin() + 7 + header_len(frame), frame.end()};
}

void append_be(byte_buffer& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}

// Where an envelope's compressed data ends (its checksum array starts): [0x94, bin, ...].
std::size_t envelope_data_end(const byte_buffer& env) {
  EXPECT_EQ(env.at(0), std::byte{0x94});
  const auto marker = std::to_integer<int>(env.at(1));
  std::size_t len = 0, at = 0;
  if (marker == 0xc4) {
    len = std::to_integer<std::size_t>(env.at(2));
    at = 3;
  } else if (marker == 0xc5) {
    len = (std::to_integer<std::size_t>(env.at(2)) << 8) | std::to_integer<std::size_t>(env[3]);
    at = 4;
  } else {
    EXPECT_EQ(marker, 0xc6);
    len = (std::to_integer<std::size_t>(env.at(2)) << 24) |
          (std::to_integer<std::size_t>(env.at(3)) << 16) |
          (std::to_integer<std::size_t>(env.at(4)) << 8) | std::to_integer<std::size_t>(env.at(5));
    at = 6;
  }
  return at + len;
}

// The envelope with the first checksum byte changed; structure intact.
byte_buffer with_wrong_checksum(byte_buffer env) {
  const std::size_t at = envelope_data_end(env);
  EXPECT_EQ(env.at(at), std::byte{0x98});  // fixarray(8)
  const std::size_t first = at + 1;
  if (std::to_integer<int>(env.at(first)) == 0xcc) {
    env.at(first + 1) ^= std::byte{0x01};  // uint8 >= 128 stays >= 128
  } else {
    env.at(first) ^= std::byte{0x01};  // positive fixint stays a fixint
  }
  return env;
}

// An envelope around `block`, declaring `original_size` and a zero checksum, built by hand so
// it can lie.
byte_buffer envelope_around(const byte_buffer& block, std::uint64_t original_size) {
  byte_buffer out{std::byte{0x94}, std::byte{0xc6}};
  append_be(out, block.size(), 4);
  out.insert(out.end(), block.begin(), block.end());
  out.push_back(std::byte{0x98});
  out.insert(out.end(), 8, std::byte{0x00});
  out.push_back(std::byte{0xce});
  append_be(out, original_size, 4);
  out.push_back(std::byte{0xa7});
  const auto format = as_byte_view("msgpack");
  out.insert(out.end(), format.begin(), format.end());
  return out;
}

// A valid LZ4 block that expands to `size` zero bytes, written without materializing them: one
// literal, one match of offset 1 (each length byte 0xff adds 255 bytes), five closing literals
// (LZ4's end-of-block rules). About size / 255 bytes.
byte_buffer lz4_zeros(std::size_t size) {
  const std::size_t match = size - 1 - 5;
  byte_buffer out{std::byte{0x1f}, std::byte{0x00}, std::byte{0x01}, std::byte{0x00}};
  std::size_t rest = match - 4 - 15;
  out.reserve(out.size() + rest / 255 + 8);
  while (rest >= 255) {
    out.push_back(std::byte{0xff});
    rest -= 255;
  }
  out.push_back(static_cast<std::byte>(rest));
  out.push_back(std::byte{0x50});
  out.insert(out.end(), 5, std::byte{0x00});
  return out;
}

// A MessagePack array32 of `count` nils (as hostile_entries_test): 8 Mi of them are 8 MiB of
// MessagePack, twice max_value_items, and compress to ~33 KB.
byte_buffer nils(std::uint32_t count) {
  byte_buffer out{std::byte{0xdd}};
  append_be(out, count, 4);
  out.resize(out.size() + count, std::byte{0xc0});
  return out;
}

byte_buffer bytes_of(std::string_view text) {
  const auto v = as_byte_view(text);
  return {v.begin(), v.end()};
}

byte_buffer hex_bytes(std::string_view hex) {
  byte_buffer out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// A tenant_scope when the mode is multi-tenant.
struct maybe_scope {
  std::optional<tenant_scope> scope;
  explicit maybe_scope(const std::optional<std::string>& tenant) {
    if (tenant) scope.emplace(*tenant);
  }
};

// ---------------------------------------------------------------------------------------------
// The fixture: one redis-server for the binary; db 0 is the cache's, db 1 holds entries other
// writers (another tenant, another master key) wrote for the same keys.
// ---------------------------------------------------------------------------------------------

struct planted_entries : ::testing::TestWithParam<planted_case> {
  static inline std::unique_ptr<local_server> server;
  static void SetUpTestSuite() { server = local_server::start_redis(); }
  static void TearDownTestSuite() { server.reset(); }

  static std::string url(int db) {
    return "redis://127.0.0.1:" + std::to_string(server->port()) + "/" + std::to_string(db);
  }
  static bool tenant_scoped(mode m) { return m == mode::secure || m == mode::fail_closed; }
  static bool encrypted(mode m) {
    return m == mode::secure || m == mode::fail_closed || m == mode::multi_tenant;
  }

  std::atomic<int> calls{0};
  std::mutex seen_mutex;
  std::vector<std::error_code> seen;  // corrupt-data and security failures the reader reported
  redis_backend raw{redis_options{.url = url(0)}};    // plain layout: storage keys as stored
  redis_backend other{redis_options{.url = url(1)}};  // what other writers stored

  // The options of `m`. Secure modes use the tenant-scoped layout (`t:default:`), as
  // cachekit-py's zero-config encrypted Redis; `tenant` and `master` make another writer.
  cache_options options_of(mode m, int db = 0, std::string tenant = "default",
                           std::string_view master = master_hex, bool watch = false) {
    cache_options o = cache_options::for_intent(m == mode::integrity_off ? intent::minimal
                                                : encrypted(m)           ? intent::secure
                                                                         : intent::standard);
    o.key_binding = m != mode::no_key_binding;
    o.l2 = std::make_shared<redis_backend>(redis_options{
        .url = url(db),
        .key_layout = tenant_scoped(m) ? redis_key_layout::tenant_scoped : redis_key_layout::plain,
        .tenant = tenant});
    o.collect_stats = true;  // the checks read memoized::info() (off in the minimal preset)
    if (encrypted(m)) {
      o.encryption = encryption_options{.keys = keyring::from_hex(master).value(),
                                        .tenant = tenant,
                                        .multi_tenant = m == mode::multi_tenant,
                                        .fail_closed = m == mode::fail_closed};
    }
    if (watch) {
      o.on_error = [this](const failure& why) {
        if (why.code == errc_group::corrupt_data || why.code == errc_group::security) {
          std::lock_guard lock(seen_mutex);
          seen.push_back(why.code);
        }
      };
    }
    return o;
  }

  auto function() {
    return [this](std::int64_t n) {
      ++calls;
      return value_of(n);
    };
  }
  std::string function_name() const {
    const auto& c = GetParam();
    return "tests.planted." + std::string(name_of(c.m)) + "." + std::string(name_of(c.k));
  }
  // The key as Redis stores it.
  std::string storage_key(mode m, const std::string& key) const {
    return tenant_scoped(m) ? "t:default:" + key : key;
  }

  // The stored bytes of f(1) another writer (db 1) produced under `key_prefix` + its own key
  // (which differs from the reader's where the integrity flag does).
  byte_buffer written_by(cache_options o, std::string_view key_prefix,
                         const std::optional<std::string>& scope = std::nullopt) {
    cache writer(std::move(o));
    auto fn = writer.memoize(function_name(), function());
    std::optional<tenant_scope> in;
    if (scope) in.emplace(*scope);
    EXPECT_EQ(fn(1), value_of(1));
    const std::string stored_as = std::string(key_prefix) + fn.key(1).value();
    auto got = other.get(stored_as);
    EXPECT_TRUE(got && *got) << "another writer's entry under " << stored_as;
    return got && *got ? **got : byte_buffer{};
  }

  // A key holder's entry: this mode's header around `inner` sealed with the cache's own keys
  // and AAD (what a writer with the master key but a faulty encoder would store).
  static byte_buffer sealed_by_key_holder(const byte_buffer& real, const byte_buffer& inner,
                                          const std::string& stored_as) {
    auto keys = keyring::from_hex(master_hex).value();
    auto tenant = keys.for_tenant("default").value();
    const auto aad = encode_aad({.tenant_id = "default",
                                 .cache_key = stored_as,
                                 .format = "msgpack",
                                 .compressed = true,
                                 .original_type = "msgpack"});
    byte_buffer out = frame_header(real);
    auto sealed = tenant.encrypt(inner, aad).value();
    out.insert(out.end(), sealed.begin(), sealed.end());
    return out;
  }

  // A plaintext frame bound to `stored_as` whose header says compressed (integrity on).
  static byte_buffer compressed_frame(const byte_buffer& envelope, const std::string& stored_as) {
    auto prefix = frame::prefix::make(frame::header{
                                          .metadata = frame::standard_metadata({true}),
                                          .key_hash = frame::key_hash(stored_as),
                                      })
                      .value();
    byte_buffer out;
    prefix.append_to(out, frame::key_hash(stored_as));
    out.insert(out.end(), envelope.begin(), envelope.end());
    return out;
  }

  // The bytes of `k` for the entry `real` stored under `stored_as` (key `key`) in mode `m`.
  byte_buffer planted(kind k, mode m, const byte_buffer& real, const std::string& key,
                      const std::string& stored_as, cache& writer) {
    const byte_buffer msgpack = codec<std::string>::encode(value_of(1)).value();
    switch (k) {
      case kind::truncated_header:  // cut inside the header JSON
        return {real.begin(), real.begin() + 7 + header_len(real) / 2};
      case kind::truncated_payload:  // the last 5 bytes (envelope format / msgpack / GCM tag)
        return {real.begin(), real.end() - 5};
      case kind::bit_flip: {
        byte_buffer out = real;
        const std::size_t payload = 7 + header_len(real);
        if (encrypted(m)) {
          out.at(payload + (real.size() - payload) / 2) ^= std::byte{0x10};  // ciphertext
        } else if (m != mode::integrity_off) {
          // The last byte of the LZ4 block: always a literal, so it decompresses, to other bytes.
          out.at(payload + envelope_data_end(frame_payload(real)) - 1) ^= std::byte{0x01};
        } else {
          out.back() ^= std::byte{0x01};  // the value's last character
        }
        return out;
      }
      case kind::wrong_checksum: {
        if (!encrypted(m)) {
          byte_buffer out = frame_header(real);
          const byte_buffer env = with_wrong_checksum(frame_payload(real));
          out.insert(out.end(), env.begin(), env.end());
          return out;
        }
        return sealed_by_key_holder(real, with_wrong_checksum(envelope::encode(msgpack).value()),
                                    stored_as);
      }
      case kind::copied_key: {  // the entry of f(2), copied under f(1)'s key
        auto fn = writer.memoize(function_name(), function());
        EXPECT_EQ(fn(2), value_of(2));
        const std::string from = storage_key(m, fn.key(2).value());
        return raw.get(from).value().value();
      }
      case kind::other_tenant: {
        if (m == mode::multi_tenant) {  // tenant B's entry under the key (keys carry no tenant)
          return written_by(options_of(m, 1), "", tenant_b);
        }
        if (encrypted(m)) {  // same master key, tenant "other": its entry, from its own key
          return written_by(options_of(m, 1, "other"), "t:other:");
        }
        // A plaintext reader: any tenant's ciphertext.
        return written_by(options_of(mode::secure, 1, "other"), "t:other:");
      }
      case kind::foreign_master_key:  // the same key and tenant, sealed under another master key
        return written_by(options_of(m, 1, "default", foreign_master_hex), "t:default:");
      case kind::plaintext_entry:  // a valid cachekit-py plaintext frame (no "k")
        return frame::encode_standard(msgpack, {.integrity_checking = true}).value();
      case kind::bomb_claims:   // 64 bytes claiming 50 MiB (under max_value_bytes): a lie
      case kind::bomb_expands:  // 0.8 MB that really expand to 200 MiB
      case kind::item_flood: {  // 8 Mi nils: 33 KB -> 8 MiB of MessagePack, 8 Mi items
        const byte_buffer env =
            k == kind::bomb_claims    ? envelope_around(byte_buffer(64, std::byte{0}), 50u << 20)
            : k == kind::bomb_expands ? envelope_around(lz4_zeros(200u << 20), 200u << 20)
                                      : envelope::encode(nils(8u << 20)).value();
        if (encrypted(m)) return sealed_by_key_holder(real, env, stored_as);
        if (m == mode::integrity_on) {
          byte_buffer out = frame_header(real);
          out.insert(out.end(), env.begin(), env.end());
          return out;
        }
        return compressed_frame(env, stored_as);  // what an integrity-on writer would frame
      }
      case kind::pickle:  // pickle.dumps("planted value", protocol=4)
        return hex_bytes("80049511000000000000008c0d706c616e7465642076616c7565942e");
      case kind::json:  // orjson.dumps of the right value, unframed
        return bytes_of("\"" + value_of(1) + "\"");
      case kind::raw_msgpack:  // the right value's MessagePack, unframed
        return msgpack;
      case kind::orjson_frame: {  // a cachekit-py OrjsonSerializer frame of the right value
        auto prefix = frame::prefix::make(frame::header{
                                              .serializer = "orjson",
                                              .metadata = {.format = "orjson",
                                                           .compressed = false,
                                                           .original_type = "orjson"},
                                          })
                          .value();
        byte_buffer out;
        prefix.append_to(out);
        const byte_buffer json = bytes_of("\"" + value_of(1) + "\"");
        out.insert(out.end(), json.begin(), json.end());
        return out;
      }
    }
    return {};
  }
};

TEST_P(planted_entries, is_never_returned) {
  const planted_case c = GetParam();
  table_row row{.mode = std::string(name_of(c.m)), .kind = std::string(name_of(c.k))};
  const std::optional<std::string> scope =
      c.m == mode::multi_tenant ? std::optional(tenant_a) : std::nullopt;

  // 1. A real entry, written through the public API.
  cache writer(options_of(c.m));
  auto write = writer.memoize(function_name(), function());
  const std::string key = write.key(1).value();
  const std::string stored_as = storage_key(c.m, key);
  {
    const maybe_scope s(scope);
    ASSERT_EQ(write(1), value_of(1));
  }
  const auto real_entry = raw.get(stored_as);
  ASSERT_TRUE(real_entry && *real_entry) << "no entry under " << stored_as;
  const byte_buffer real = **real_entry;

  // 2. Overwritten in Redis with the planted form.
  const byte_buffer bad = planted(c.k, c.m, real, key, stored_as, writer);
  ASSERT_FALSE(bad.empty());
  ASSERT_NE(bad, real);
  ASSERT_TRUE(raw.set(stored_as, bad, std::nullopt));

  // 3. Read by a fresh cache (another process: empty L1).
  cache reader(options_of(c.m, 0, "default", master_hex, /*watch=*/true));
  auto read = reader.memoize(function_name(), function());
  const int calls_before = calls.load();
  std::optional<std::string> returned;
  std::optional<std::error_code> thrown;
  {
    const maybe_scope s(scope);
    try {
      returned = read(1);
    } catch (const error& e) {
      thrown = e.code();
    }
  }
  const cache_stats stats = reader.stats();
  const auto after = raw.get(stored_as);
  ASSERT_TRUE(after.has_value());
  const std::optional<byte_buffer>& now_stored = *after;
  std::optional<std::error_code> detected;
  {
    std::lock_guard lock(seen_mutex);
    if (!seen.empty()) detected = seen.front();
  }
  row.detected_as = detected ? errc_name(*detected) : "not detected";
  row.thrown = thrown ? "yes" : "-";
  row.returned_wrong = returned && *returned != value_of(1) ? 1 : 0;

  switch (c.expect) {
    case outcome::evicted: {
      EXPECT_FALSE(thrown) << thrown->message();
      EXPECT_EQ(returned, value_of(1));
      EXPECT_EQ(calls.load(), calls_before + 1) << "the function ran";
      ASSERT_TRUE(detected);
      EXPECT_EQ(*detected, make_error_code(c.code)) << errc_name(*detected);
      const bool auth =
          c.code == errc::authentication_failed || c.code == errc::unknown_key_fingerprint;
      EXPECT_EQ(stats.corrupt_entries, 1u);
      EXPECT_EQ(stats.security_failures, auth ? 1u : 0u);
      EXPECT_EQ(stats.tenant_mismatches, 0u);
      row.counted = auth ? "security_failures+1 corrupt+1" : "corrupt_entries+1";
      // Evicted, and the function's result stored in its place: a third process hits it.
      ASSERT_TRUE(now_stored.has_value()) << "the call stored its result";
      EXPECT_NE(*now_stored, bad) << "the planted bytes were evicted";
      cache third(options_of(c.m));
      auto again = third.memoize(function_name(), function());
      {
        const maybe_scope s(scope);
        EXPECT_EQ(again(1), value_of(1));
      }
      EXPECT_EQ(again.info().l2_hits, 1u) << "the replacement is a valid entry";
      EXPECT_EQ(calls.load(), calls_before + 1);
      {
        const maybe_scope s(scope);
        EXPECT_EQ(read(1), value_of(1)) << "the reader's L1 holds its own result, not the plant";
      }
      EXPECT_EQ(calls.load(), calls_before + 1);
      row.l2_entry = "evicted, replaced";
      break;
    }
    case outcome::thrown_kept: {
      ASSERT_TRUE(thrown) << "fail_closed must refuse the entry";
      EXPECT_EQ(*thrown, errc_group::security);
      EXPECT_EQ(*thrown, make_error_code(c.code)) << errc_name(*thrown);
      EXPECT_EQ(calls.load(), calls_before) << "the function did not run";
      ASSERT_TRUE(detected);
      EXPECT_EQ(*detected, make_error_code(c.code));
      EXPECT_EQ(stats.security_failures, 1u);
      EXPECT_EQ(stats.corrupt_entries, 0u);
      row.counted = "security_failures+1";
      EXPECT_EQ(now_stored, bad) << "kept, byte for byte, for inspection";
      {
        const maybe_scope s(scope);
        EXPECT_THROW((void)read(1), error) << "refused again: nothing of it reached L1";
      }
      EXPECT_EQ(calls.load(), calls_before);
      row.l2_entry = "kept";
      break;
    }
    case outcome::tenant_kept: {
      EXPECT_FALSE(thrown);
      EXPECT_EQ(returned, value_of(1));
      EXPECT_EQ(calls.load(), calls_before + 1);
      ASSERT_TRUE(detected);
      EXPECT_EQ(*detected, make_error_code(c.code));
      EXPECT_EQ(stats.tenant_mismatches, 1u);
      EXPECT_EQ(stats.corrupt_entries, 0u);
      EXPECT_EQ(stats.security_failures, 0u);
      row.counted = "tenant_mismatches+1";
      EXPECT_EQ(now_stored, bad) << "neither evicted nor overwritten";
      row.l2_entry = "kept (documented)";
      break;
    }
    case outcome::served: {
      // Documented (cache_options.hpp's presets table, SECURITY.md): integrity off serves a
      // flipped byte as the value; key_binding off serves another key's entry as this key's.
      std::string planted_value = value_of(c.k == kind::copied_key ? 2 : 1);
      if (c.k == kind::bit_flip) planted_value.back() = static_cast<char>(planted_value.back() ^ 1);
      EXPECT_EQ(returned, planted_value);
      EXPECT_EQ(calls.load(), calls_before);
      EXPECT_FALSE(detected);
      EXPECT_EQ(stats.corrupt_entries, 0u);
      EXPECT_EQ(read.info().l2_hits, 1u);
      row.counted = "- (documented gap)";
      EXPECT_EQ(now_stored, bad);
      row.l2_entry = "kept";
      break;
    }
  }
  row.passed = !HasFailure();
  std::lock_guard lock(table_mutex);
  table().push_back(std::move(row));
}

// Every (kind, mode) where the form means something, with what the read must do.
std::vector<planted_case> all_cases() {
  using enum kind;
  std::vector<planted_case> cases;
  // Plaintext, integrity on (the default) and off.
  for (mode m : {mode::integrity_on, mode::integrity_off}) {
    const bool on = m == mode::integrity_on;
    auto add = [&](kind k, errc code) { cases.push_back({m, k, outcome::evicted, code}); };
    add(truncated_header, errc::truncated);
    // The cut leaves a document that declares more bytes than are left: the value's str header
    // (integrity off), or the envelope's own MessagePack, which the decode bounds pre-scan
    // (next/wire-format.json's reject vectors) refuses before anything is built (integrity on).
    add(truncated_payload, errc::length_limit);
    if (on) {
      add(bit_flip, errc::checksum_mismatch);
      add(wrong_checksum, errc::checksum_mismatch);
    } else {
      cases.push_back({m, bit_flip, outcome::served, errc{}});
    }
    add(copied_key, errc::key_mismatch);
    add(other_tenant, errc::authentication_failed);
    add(bomb_claims, errc::decompression_bomb);
    add(bomb_expands, errc::input_too_large);
    add(item_flood, errc::length_limit);
    add(pickle, errc::malformed);
    add(json, errc::malformed);
    add(raw_msgpack, errc::malformed);
    add(orjson_frame, errc::serializer_mismatch);
  }
  // Encrypted, fail open and fail closed: authentication failures throw under fail_closed and
  // keep the entry; everything else fails open in both (as cachekit-py's handle_decrypt_failure:
  // corruption and a plaintext claim always fail open).
  for (mode m : {mode::secure, mode::fail_closed}) {
    auto add = [&](kind k, errc code) {
      const bool auth =
          code == errc::authentication_failed || code == errc::unknown_key_fingerprint;
      cases.push_back(
          {m, k, auth && m == mode::fail_closed ? outcome::thrown_kept : outcome::evicted, code});
    };
    add(truncated_header, errc::truncated);
    add(truncated_payload, errc::authentication_failed);
    add(bit_flip, errc::authentication_failed);
    add(wrong_checksum, errc::checksum_mismatch);
    add(copied_key, errc::authentication_failed);
    add(other_tenant, errc::authentication_failed);
    add(foreign_master_key, errc::unknown_key_fingerprint);
    add(plaintext_entry, errc::plaintext_downgrade);
    add(bomb_claims, errc::decompression_bomb);
    add(bomb_expands, errc::input_too_large);
    add(item_flood, errc::length_limit);
    add(pickle, errc::malformed);
    add(json, errc::malformed);
    add(raw_msgpack, errc::malformed);
    add(orjson_frame, errc::serializer_mismatch);
  }
  // key_binding = false writes and reads exactly cachekit-py's bytes: the checksum still
  // catches a flipped byte, and an entry copied from another key is served as this key's.
  cases.push_back({mode::no_key_binding, bit_flip, outcome::evicted, errc::checksum_mismatch});
  cases.push_back({mode::no_key_binding, copied_key, outcome::served, errc{}});
  cases.push_back({mode::multi_tenant, other_tenant, outcome::tenant_kept, errc::tenant_mismatch});
  cases.push_back({mode::multi_tenant, bit_flip, outcome::evicted, errc::authentication_failed});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(all, planted_entries, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<planted_case>& info) {
                           return std::string(name_of(info.param.m)) + "_" +
                                  std::string(name_of(info.param.k));
                         });

}  // namespace
}  // namespace cachekit
