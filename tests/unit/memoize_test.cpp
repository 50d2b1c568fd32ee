// memoize over an in-process L2 (memory_backend): the read path L1 → L2 → function, what is
// stored, invalidation, counters, and faults absorbed without failing the call.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>
#include <cachekit/redis_backend.hpp>
#include <cachekit/storage_format.hpp>
#include <cachekit/tenant_scope.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

// Two fixed random master keys (openssl rand -hex 32): a cache refuses patterned ones.
constexpr std::string_view secure_key_a =
    "a8f06af41a1f4ccb936082fdbe129b93fd8d9b7db027d9f3ea40c3b5e5480416";
constexpr std::string_view secure_key_b =
    "0be01ca298b7e1849df95766f5d520ec6133a6cff95520e6ea329b31627d2c5d";

struct user {
  std::int64_t id = 0;
  std::string name;
  MSGPACK_DEFINE_MAP(id, name);
  bool operator==(const user&) const = default;
};

struct memoize_test : ::testing::Test {
  std::shared_ptr<memory_backend> l2 = std::make_shared<memory_backend>();
  manual_clock clock;
  std::atomic<int> calls{0};

  cache make_cache(cache_options options = {}) {
    options.l2 = l2;
    options.clock = &clock;
    return cache(std::move(options));
  }
  auto counting_fetch() {
    return [this](std::int64_t id, const std::string& region) {
      ++calls;
      return user{id, "user-" + std::to_string(id) + "-" + region};
    };
  }
};

// L1 copies are keyed by the call's pre-image (no hash): functions whose protocol keys differ
// must not share them, whatever part of the key differs.
TEST_F(memoize_test, l1_copies_are_not_shared_by_functions_whose_keys_differ) {
  auto c = make_cache({.l1_enabled = true});
  auto named = [](std::string tag) {
    return [tag](std::int64_t id, const std::string& region) {
      return user{id, tag + "-" + region};
    };
  };
  auto with_integrity = c.memoize("m.f", named("with"));
  auto without_integrity = c.memoize("m.f", named("without"), {.integrity_checking = false});
  auto other_ns = c.memoize("m.f", named("ns"), {.ns = "other"});
  // A namespace so long that keys are shortened to their first 50 characters + a hash, which
  // both functions' keys share.
  const std::string long_ns(200, 'n');
  auto long_a = c.memoize("m.a", named("long-a"), {.ns = long_ns});
  auto long_b = c.memoize("m.b", named("long-b"), {.ns = long_ns});
  ASSERT_EQ(long_a.key(1, "eu").value().size(), 83u);  // 50 + ':' + 32
  for (int round = 0; round < 2; ++round) {            // the second round is served by L1
    EXPECT_EQ(with_integrity(1, "eu").name, "with-eu");
    EXPECT_EQ(without_integrity(1, "eu").name, "without-eu");
    EXPECT_EQ(other_ns(1, "eu").name, "ns-eu");
    EXPECT_EQ(long_a(1, "eu").name, "long-a-eu");
    EXPECT_EQ(long_b(1, "eu").name, "long-b-eu");
  }
  EXPECT_EQ(with_integrity.info().l1_hits, 1u);
  EXPECT_EQ(without_integrity.info().l1_hits, 1u);
  EXPECT_EQ(long_b.info().l1_hits, 1u);
  EXPECT_EQ(c.stats().corrupt_entries, 0u);
  // clear() reaches a shortened function's L1 copies through its key-space prefix.
  long_a.clear();
  EXPECT_EQ(long_a(1, "eu").name, "long-a-eu");
  EXPECT_EQ(long_a.info().misses, 1u);
  EXPECT_EQ(long_a.info().l1_hits, 0u);
}

TEST_F(memoize_test, miss_runs_the_function_then_l1_serves_it) {
  auto c = make_cache();
  auto get_user = c.memoize("myapp.users.get_user", counting_fetch());
  EXPECT_EQ(get_user(42, "eu"), (user{42, "user-42-eu"}));
  EXPECT_EQ(get_user(42, "eu"), (user{42, "user-42-eu"}));
  EXPECT_EQ(calls, 1);
  const cache_info info = get_user.info();
  EXPECT_EQ(info.misses, 1u);
  EXPECT_EQ(info.l1_hits, 1u);
  EXPECT_EQ(info.l2_hits, 0u);
  EXPECT_EQ(info.hits, 1u);
  ASSERT_TRUE(info.l2_avg_latency_ms.has_value());  // the miss asked L2
  ASSERT_TRUE(info.last_operation_at.has_value());
  EXPECT_FALSE(info.maxsize.has_value());
}

TEST_F(memoize_test, stores_the_protocol_key_and_a_frame_python_can_read) {
  auto c = make_cache();
  auto get_user = c.memoize("myapp.users.get_user", counting_fetch(), {.ns = "users"});
  (void)get_user(7, "us");
  const std::string key =
      default_key_for("myapp.users.get_user", {.ns = "users"}, std::int64_t{7}, std::string("us"))
          .value();
  EXPECT_EQ(get_user.key(7, "us").value(), key);
  ASSERT_EQ(key.rfind("ns:users:func:myapp.users.get_user:args:", 0), 0u) << key;
  EXPECT_EQ(key.substr(key.size() - 3), ":1s");
  auto stored = l2->get(key).value();
  ASSERT_TRUE(stored.has_value());
  storage_format frame({.mode = storage_mode::frame, .integrity_checking = true});
  auto opened = frame.open(*stored, key).value();  // the memory backend stores keys unprefixed
  EXPECT_EQ(decode_standard_value(opened.msgpack).value(),
            value(value_map{{value("id"), value(7)}, {value("name"), value("user-7-us")}}));
}

TEST_F(memoize_test, another_process_is_served_from_l2_and_backfills_its_l1) {
  auto writer = make_cache();
  auto reader = make_cache();
  auto write_user = writer.memoize("myapp.users.get_user", counting_fetch());
  auto read_user = reader.memoize("myapp.users.get_user", counting_fetch());
  (void)write_user(1, "eu");
  EXPECT_EQ(read_user(1, "eu"), (user{1, "user-1-eu"}));
  EXPECT_EQ(read_user(1, "eu"), (user{1, "user-1-eu"}));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(read_user.info().l2_hits, 1u);
  EXPECT_EQ(read_user.info().l1_hits, 1u);
  EXPECT_EQ(read_user.info().misses, 0u);
}

TEST_F(memoize_test, l1_backfill_never_outlives_the_l2_entry) {
  manual_clock l2_clock;
  l2 = std::make_shared<memory_backend>(memory_backend_options{.clock = &l2_clock});
  // No stale-while-revalidate: the reader's 9 s hit is past half of its 10 s copy, and a
  // refresh would (rightly) refill L1 with a new 600 s copy.
  cache_options without_swr;
  without_swr.swr.enabled = false;
  auto writer = make_cache();
  auto reader = make_cache(std::move(without_swr));
  auto write_user = writer.memoize("f", counting_fetch(), {.ttl = 600s});
  auto read_user = reader.memoize("f", counting_fetch(), {.ttl = 600s});
  (void)write_user(1, "eu");
  l2_clock.advance(590s);  // 10 s left in L2
  clock.advance(590s);
  (void)read_user(1, "eu");  // L2 hit: L1 copy for at most 10 s
  EXPECT_EQ(read_user.info().l2_hits, 1u);
  clock.advance(9s);
  (void)read_user(1, "eu");
  EXPECT_EQ(read_user.info().l1_hits, 1u);
  clock.advance(2s);
  l2_clock.advance(11s);  // both copies are gone now: the function runs again
  (void)read_user(1, "eu");
  EXPECT_EQ(read_user.info().misses, 1u);
  EXPECT_EQ(calls, 2);
}

TEST_F(memoize_test, invalidate_drops_l1_and_l2_for_those_arguments_only) {
  auto c = make_cache();
  auto get_user = c.memoize("f", counting_fetch());
  (void)get_user(1, "eu");
  (void)get_user(2, "eu");
  get_user.invalidate(1, "eu");
  EXPECT_FALSE(l2->exists(get_user.key(1, "eu").value()).value());
  EXPECT_TRUE(l2->exists(get_user.key(2, "eu").value()).value());
  (void)get_user(1, "eu");
  (void)get_user(2, "eu");
  EXPECT_EQ(calls, 3);
}

TEST_F(memoize_test, clear_resets_counters_and_drops_what_this_process_wrote) {
  auto c = make_cache();
  auto get_user = c.memoize("f", counting_fetch());
  (void)get_user(1, "eu");
  (void)get_user(2, "eu");
  (void)get_user(2, "eu");
  get_user.clear();
  EXPECT_EQ(get_user.info().hits, 0u);
  EXPECT_EQ(get_user.info().misses, 0u);
  EXPECT_FALSE(get_user.info().last_operation_at.has_value());
  EXPECT_FALSE(l2->exists(get_user.key(1, "eu").value()).value());
  EXPECT_FALSE(l2->exists(get_user.key(2, "eu").value()).value());
}

TEST_F(memoize_test, copies_share_counters_and_the_function) {
  auto c = make_cache();
  auto get_user = c.memoize("f", counting_fetch());
  auto copy = get_user;
  (void)get_user(1, "eu");
  (void)copy(1, "eu");
  EXPECT_EQ(get_user.info().l1_hits, 1u);
  EXPECT_EQ(copy.info().misses, 1u);
}

TEST_F(memoize_test, corrupt_l2_entry_is_a_counted_miss_and_is_evicted) {
  auto writer = make_cache();
  auto reader = make_cache();
  auto write_user = writer.memoize("f", counting_fetch());
  auto read_user = reader.memoize("f", counting_fetch());
  (void)write_user(1, "eu");
  const std::string key = write_user.key(1, "eu").value();
  byte_buffer stored = *l2->get(key).value();
  // A byte of the compressed data inside the envelope (after "CK", version, the 4-byte header
  // length, the header, and the envelope's array + bin headers): the checksum no longer matches.
  const std::size_t header_size = (std::to_integer<std::size_t>(stored[3]) << 24) |
                                  (std::to_integer<std::size_t>(stored[4]) << 16) |
                                  (std::to_integer<std::size_t>(stored[5]) << 8) |
                                  std::to_integer<std::size_t>(stored[6]);
  stored.at(7 + header_size + 4) ^= std::byte{0x01};
  ASSERT_TRUE(l2->set(key, stored, std::nullopt));
  EXPECT_EQ(read_user(1, "eu"), (user{1, "user-1-eu"}));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(reader.stats().corrupt_entries, 1u);
  EXPECT_EQ(read_user.info().misses, 1u);
  // The fresh result replaced the corrupt entry.
  EXPECT_NE(*l2->get(key).value(), stored);
}

TEST_F(memoize_test, entry_that_does_not_decode_as_the_result_type_is_a_counted_miss) {
  auto c = make_cache();
  auto as_text = c.memoize("f", [](std::int64_t) { return std::string("text"); });
  auto as_user = c.memoize("f", [&](std::int64_t id) {
    ++calls;
    return user{id, "x"};
  });
  (void)as_text(5);
  EXPECT_EQ(as_user(5), (user{5, "x"}));
  EXPECT_EQ(c.stats().corrupt_entries, 1u);
  EXPECT_EQ(calls, 1);
}

TEST_F(memoize_test, value_above_the_limit_is_returned_but_not_stored) {
  std::vector<std::string> faults;
  auto c = make_cache(
      {.max_value_bytes = 512, .on_error = [&](const failure& f) { faults.push_back(f.detail); }});
  auto big = c.memoize("f", [&](std::int64_t n) {
    ++calls;
    std::string text;  // incompressible, so the stored size follows n
    std::uint32_t state = 12345;
    for (std::int64_t i = 0; i < n; ++i) {
      state = state * 1103515245u + 12345u;
      text.push_back(static_cast<char>('a' + (state >> 16) % 26));
    }
    return text;
  });
  EXPECT_EQ(big(1000).size(), 1000u);
  EXPECT_EQ(big(1000).size(), 1000u);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(c.stats().oversize_values, 2u);
  ASSERT_EQ(faults.size(), 2u);
  EXPECT_NE(faults[0].find("max_value_bytes"), std::string::npos) << faults[0];
  EXPECT_EQ(big(3).size(), 3u);
  EXPECT_EQ(big(3).size(), 3u);
  EXPECT_EQ(calls, 3);
}

TEST_F(memoize_test, exceptions_from_the_function_reach_the_caller_and_nothing_is_stored) {
  auto c = make_cache();
  auto flaky = c.memoize("f", [&](std::int64_t id) -> std::int64_t {
    if (++calls == 1) throw std::runtime_error("upstream down");
    return id * 2;
  });
  EXPECT_THROW((void)flaky(4), std::runtime_error);
  EXPECT_EQ(flaky(4), 8);
  EXPECT_EQ(flaky(4), 8);
  EXPECT_EQ(calls, 2);
}

TEST_F(memoize_test, unkeyable_arguments_run_the_function_uncached) {
  auto c = make_cache();
  auto f = c.memoize("f", [&](const std::string& s) {
    ++calls;
    return s.size();
  });
  const std::string not_utf8("\xff\xfe", 2);
  EXPECT_EQ(f(not_utf8), 2u);
  EXPECT_EQ(f(not_utf8), 2u);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(c.stats().uncacheable_calls, 2u);
}

std::int64_t twice(std::int64_t x) {
  return 2 * x;
}

struct pricing {
  double rate = 1.5;
  double quote(std::int64_t units) const { return rate * static_cast<double>(units); }
};

TEST_F(memoize_test, any_callable_works_and_results_go_through_their_codec) {
  auto c = make_cache();
  auto f = c.memoize("m.twice", twice);
  auto g = c.memoize("m.twice_ptr", &twice);
  pricing p;
  auto q = c.memoize("m.pricing.quote", [&p](std::int64_t units) { return p.quote(units); });
  auto v = c.memoize("m.vec", [](std::int64_t n) { return std::vector<std::int64_t>(n, n); });
  EXPECT_EQ(f(21), 42);
  EXPECT_EQ(g(21), 42);
  EXPECT_EQ(q(4), 6.0);
  EXPECT_EQ(q(4), 6.0);
  EXPECT_EQ(v(3), (std::vector<std::int64_t>{3, 3, 3}));
  EXPECT_EQ(v(3), (std::vector<std::int64_t>{3, 3, 3}));
  EXPECT_EQ(q.info().l1_hits, 1u);
  EXPECT_EQ(v.info().l1_hits, 1u);
}

TEST_F(memoize_test, dynamic_values_use_the_standard_serializer) {
  auto c = make_cache();
  auto f = c.memoize("m.f", [](std::int64_t n) {
    return value(value_array{value(n), value(value_binary{byte_buffer{std::byte{1}}})});
  });
  const value expected =
      value(value_array{value(3), value(value_binary{byte_buffer{std::byte{1}}})});
  EXPECT_EQ(f(3), expected);
  EXPECT_EQ(f(3), expected);
  EXPECT_EQ(f.info().l1_hits, 1u);
}

TEST_F(memoize_test, integrity_can_be_switched_off_per_function_and_changes_the_key_flag) {
  auto c = make_cache();
  auto f = c.memoize("m.f", twice, {.integrity_checking = false});
  (void)f(1);
  const std::string key = f.key(1).value();
  EXPECT_EQ(key.substr(key.size() - 3), ":0s");
  storage_format plain({.mode = storage_mode::frame, .integrity_checking = false});
  auto opened = plain.open(*l2->get(key).value(), key).value();
  EXPECT_EQ(decode_standard_value(opened.msgpack).value(), value(2));
}

TEST_F(memoize_test, ttl_is_written_to_l2) {
  auto c = make_cache({.default_ttl = 120s});
  auto f = c.memoize("m.f", twice);
  auto g = c.memoize("m.g", twice, {.ttl = 30s});
  (void)f(1);
  (void)g(1);
  EXPECT_EQ(l2->ttl(f.key(1).value()).value().ttl, ttl_seconds{120s});
  EXPECT_EQ(l2->ttl(g.key(1).value()).value().ttl, ttl_seconds{30s});
}

TEST_F(memoize_test, interop_mode_stores_plain_msgpack_under_the_interop_key) {
  auto c = make_cache();
  auto f = c.memoize_interop("users", "get_user", [](std::int64_t id) {
    return value(value_map{{value("id"), value(id)}});
  });
  EXPECT_EQ(f(42), value(value_map{{value("id"), value(42)}}));
  const std::string key = interop_key_for("users", "get_user", std::int64_t{42}).value();
  EXPECT_EQ(f.key(42).value(), key);
  EXPECT_EQ(key, "users:get_user:61598716255080080f6456eb065c2e51badfaa4320b0efe97469c29cffee8875");
  EXPECT_EQ(to_hex(*l2->get(key).value()), "81a269642a");
}

TEST_F(memoize_test, interop_mode_refuses_a_key_rewriting_l2) {
  auto prefixed = std::make_shared<redis_backend>(
      redis_options{.url = "redis://127.0.0.1:1/0", .key_layout = redis_key_layout::tenant_scoped});
  cache c({.l2 = prefixed});
  try {
    (void)c.memoize_interop("users", "get", twice);
    FAIL() << "expected a configuration error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_configuration));
    EXPECT_NE(std::string(e.what()).find("redis_key_layout::plain"), std::string::npos);
  }
  EXPECT_THROW((void)c.memoize_interop("Users", "get", twice), error);
}

TEST_F(memoize_test, local_intent_holds_objects_and_never_touches_l2) {
  auto options = cache_options::for_intent(intent::local);
  auto c = make_cache(std::move(options));
  auto get_user = c.memoize("m.get_user", counting_fetch());
  EXPECT_EQ(get_user(1, "eu"), (user{1, "user-1-eu"}));
  EXPECT_EQ(get_user(1, "eu"), (user{1, "user-1-eu"}));
  EXPECT_EQ(calls, 1);
  const std::string key = get_user.key(1, "eu").value();
  EXPECT_EQ(key.substr(key.size() - 3), ":0l");
  EXPECT_FALSE(l2->exists(key).value());
  const cache_info info = get_user.info();
  EXPECT_EQ(info.l1_hits, 1u);
  EXPECT_EQ(info.maxsize, 256u);
  EXPECT_EQ(info.currsize, 1u);
}

TEST_F(memoize_test, local_intent_invalidates_and_keys_long_arguments_by_their_hash) {
  auto c = make_cache(cache_options::for_intent(intent::local));
  auto get_user = c.memoize("m.get_user", counting_fetch());
  const std::string long_region(1000, 'r');  // pre-image above the exact-key limit
  (void)get_user(1, "eu");
  (void)get_user(1, long_region);
  (void)get_user(1, long_region);
  EXPECT_EQ(calls, 2);
  get_user.invalidate(1, "eu");
  get_user.invalidate(1, long_region);
  (void)get_user(1, "eu");
  (void)get_user(1, long_region);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(get_user.info().currsize, 2u);
}

TEST(default_key_builder_preimage, typed_preimage_is_the_dynamic_preimage) {
  const default_key_builder builder("m.f");
  const std::string exact = builder.preimage_of(std::int64_t{42}, std::string("eu")).value();
  const byte_buffer expected = default_key_preimage({value(42), value("eu")}).value();
  EXPECT_EQ(exact, std::string(reinterpret_cast<const char*>(expected.data()), expected.size()));
}

TEST_F(memoize_test, secure_intent_requires_a_master_key) {
  try {
    (void)make_cache(cache_options::for_intent(intent::secure));
    FAIL() << "expected a configuration error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_configuration));
    EXPECT_NE(std::string(e.what()).find("openssl rand -hex 32"), std::string::npos);
  }
}

TEST_F(memoize_test, secure_entries_are_ciphertext_and_need_the_same_key) {
  const std::string key_a(secure_key_a);
  const std::string key_b(secure_key_b);
  auto secure = [&](const std::string& hex) {
    auto options = cache_options::for_intent(intent::secure);
    options.encryption = encryption_options{.keys = keyring::from_hex(hex).value()};
    return make_cache(std::move(options));
  };
  auto writer = secure(key_a);
  auto same_key = secure(key_a);
  auto other_key = secure(key_b);
  auto w = writer.memoize("m.secret", counting_fetch());
  auto r = same_key.memoize("m.secret", counting_fetch());
  auto x = other_key.memoize("m.secret", counting_fetch());
  (void)w(1, "eu");
  const byte_buffer stored = *l2->get(w.key(1, "eu").value()).value();
  const std::string text(reinterpret_cast<const char*>(stored.data()), stored.size());
  EXPECT_EQ(text.find("user-1-eu"), std::string::npos);
  EXPECT_NE(text.find("\"encrypted\": true"), std::string::npos);
  EXPECT_EQ(r(1, "eu"), (user{1, "user-1-eu"}));
  EXPECT_EQ(r.info().l2_hits, 1u);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(x(1, "eu"), (user{1, "user-1-eu"}));  // wrong key: a counted miss, never garbage
  EXPECT_EQ(other_key.stats().corrupt_entries, 1u);
  EXPECT_EQ(calls, 2);
}

TEST_F(memoize_test, a_cache_refuses_to_seal_with_a_patterned_master_key) {
  // The keyring loads 0x61 * 32 (the protocol vectors use it); a cache would seal real
  // entries under it, so construction throws with how to make a key.
  auto options = cache_options::for_intent(intent::secure);
  options.l2 = l2;
  options.encryption = encryption_options{.keys = keyring::from_hex(std::string(64, 'a')).value()};
  try {
    cache c(std::move(options));
    FAIL() << "a cache sealing under 0xaa * 32 was built";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_master_key));
    EXPECT_NE(std::string(e.what()).find("current master key is not random"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("openssl rand -hex 32"), std::string::npos) << e.what();
  }
}

TEST_F(memoize_test, secure_readers_follow_the_tenant_an_entry_was_sealed_for) {
  auto secure = [&](std::string tenant) {
    auto options = cache_options::for_intent(intent::secure);
    options.encryption = encryption_options{.keys = keyring::from_hex(secure_key_a).value(),
                                            .tenant = std::move(tenant)};
    return make_cache(std::move(options));
  };
  auto writer = secure("6f1c2a3b-0000-4000-8000-000000000001");
  auto reader = secure("default");
  auto w = writer.memoize("m.secret", counting_fetch());
  auto r = reader.memoize("m.secret", counting_fetch());
  (void)w(1, "eu");
  EXPECT_EQ(r(1, "eu"), (user{1, "user-1-eu"}));
  EXPECT_EQ(r.info().l2_hits, 1u);
  EXPECT_EQ(reader.stats().corrupt_entries, 0u);
  EXPECT_EQ(calls, 1);
}

TEST_F(memoize_test, multi_tenant_entries_open_only_for_the_tenant_they_were_sealed_for) {
  const std::string tenant_a = "6f1c2a3b-0000-4000-8000-00000000000a";
  const std::string tenant_b = "6f1c2a3b-0000-4000-8000-00000000000b";
  auto multi = [&] {
    auto options = cache_options::for_intent(intent::secure);
    options.encryption =
        encryption_options{.keys = keyring::from_hex(secure_key_a).value(), .multi_tenant = true};
    return make_cache(std::move(options));
  };
  auto writer = multi();
  auto reader = multi();
  auto w = writer.memoize("m.report", counting_fetch());
  auto r = reader.memoize("m.report", counting_fetch());
  {
    tenant_scope scope(tenant_a);
    (void)w(1, "eu");
    const byte_buffer stored = *l2->get(w.key(1, "eu").value()).value();
    const std::string text(reinterpret_cast<const char*>(stored.data()), stored.size());
    EXPECT_NE(text.find("\"tenant_id\": \"" + tenant_a + "\""), std::string::npos);
  }
  {
    tenant_scope scope(tenant_a);  // same tenant, another process: served by L2
    EXPECT_EQ(r(1, "eu"), (user{1, "user-1-eu"}));
    EXPECT_EQ(r.info().l2_hits, 1u);
  }
  EXPECT_EQ(calls, 1);
  auto other = multi();
  auto o = other.memoize("m.report", counting_fetch());
  {
    tenant_scope outer(tenant_a);
    tenant_scope scope(tenant_b);  // the innermost scope wins
    EXPECT_EQ(tenant_scope::current(), tenant_b);
    EXPECT_EQ(o(1, "eu"), (user{1, "user-1-eu"}));  // tenant A's entry: a counted miss
    EXPECT_EQ(other.stats().tenant_mismatches, 1u);
    EXPECT_EQ(other.stats().corrupt_entries, 0u);
    EXPECT_EQ(calls, 2);
  }
  EXPECT_FALSE(tenant_scope::current().has_value());
  auto unscoped = multi();
  auto u = unscoped.memoize("m.report", counting_fetch());
  EXPECT_EQ(u(1, "eu"), (user{1, "user-1-eu"}));  // no tenant: runs, not cached
  EXPECT_EQ(u(1, "eu"), (user{1, "user-1-eu"}));
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(unscoped.stats().uncacheable_calls, 2u);
  EXPECT_THROW(tenant_scope("not-a-uuid"), error);
}

TEST_F(memoize_test, backend_down_at_start_does_not_stop_the_cache) {
  auto down = std::make_shared<redis_backend>(redis_options{
      .url = "redis://127.0.0.1:1/0", .connect_timeout = 200ms, .command_timeout = 200ms});
  std::atomic<int> faults{0};
  cache c({.l2 = down, .on_error = [&](const failure&) { ++faults; }});
  auto f = c.memoize("m.f", [&](std::int64_t x) {
    ++calls;
    return x + 1;
  });
  EXPECT_EQ(f(1), 2);
  EXPECT_EQ(f(1), 2);  // the L1 still serves
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(c.stats().l2_errors, 1u);  // the failed read; after it the result goes to L1 only
  EXPECT_EQ(faults.load(), 1) << "one class of failure within a second is reported once";
}

TEST_F(memoize_test, uncached_calls_bypass_the_cache_entirely) {
  auto c = make_cache();
  auto get_user = c.memoize("m.get_user", counting_fetch());
  (void)get_user(1, "eu");
  EXPECT_EQ(get_user.uncached(1, "eu"), (user{1, "user-1-eu"}));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(get_user.info().hits + get_user.info().misses, 1u);
}

TEST_F(memoize_test, health_reports_the_l2_probe_or_l1_only) {
  auto c = make_cache();
  const backend_health h = c.health();
  EXPECT_TRUE(h.healthy);
  EXPECT_EQ(h.backend_type, "memory");
  cache l1_only;
  EXPECT_TRUE(l1_only.health().healthy);
  EXPECT_EQ(l1_only.health().backend_type, "none");
}

TEST_F(memoize_test, memoized_functions_outlive_their_cache) {
  std::optional<memoized<decltype(&twice)>> f;
  {
    auto c = make_cache();
    f.emplace(c.memoize("m.twice", &twice));
  }
  EXPECT_EQ((*f)(5), 10);
  EXPECT_EQ((*f)(5), 10);
  EXPECT_EQ(f->info().l1_hits, 1u);
}

TEST_F(memoize_test, concurrent_callers_get_correct_results_and_every_call_is_counted) {
  auto c = make_cache({.l1_max_bytes = 64 * 1024});  // small: evictions and L2 hits happen
  auto get_user = c.memoize("m.get_user", counting_fetch());
  constexpr int threads = 4;
  constexpr int per_thread = 2000;
  std::atomic<int> wrong{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const std::int64_t id = (i * 7 + t) % 300;
        if (get_user(id, "eu") != user{id, "user-" + std::to_string(id) + "-eu"}) ++wrong;
        if (i % 500 == 0) get_user.invalidate(id, "eu");
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(wrong.load(), 0);
  const cache_info info = get_user.info();
  EXPECT_EQ(info.hits + info.misses, static_cast<std::uint64_t>(threads * per_thread));
  EXPECT_EQ(info.misses, static_cast<std::uint64_t>(calls.load()));
  EXPECT_GT(info.l1_hits, 0u);
  EXPECT_EQ(c.stats().corrupt_entries, 0u);
}

}  // namespace
}  // namespace cachekit
