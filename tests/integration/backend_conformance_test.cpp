// The backend conformance suite (DESIGN §3b): one value-parameterised test that every backend,
// and every backend that wraps one, passes. The backends and their documented differences are
// listed in tests/support/backend_factories.hpp; adding one there runs all of this against it.
//
// Each test starts from a fresh backend (and its own server, for Redis and memcached). Time
// moves through the instance's `advance`: an injected clock where the backend takes one, else
// a real sleep of at most a couple of seconds.
#include "support/backend_factories.hpp"

#include <cachekit/backend.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace cachekit::testing {

// gtest prints the parameter of a failing test: the factory's name says which backend it was.
void PrintTo(const backend_factory& factory, std::ostream* out) {
  *out << factory.name;
}

namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;

byte_buffer bytes_of(std::string_view text) {
  return to_byte_buffer(text);
}

std::optional<byte_buffer> hit(std::string_view text) {
  return bytes_of(text);
}

// Every byte value once, then a trailing NUL.
byte_buffer all_byte_values() {
  byte_buffer out;
  for (int i = 0; i < 256; ++i) out.push_back(static_cast<std::byte>(i));
  out.push_back(std::byte{0});
  return out;
}

// `size` bytes of a pattern that is not periodic in any small power of two.
byte_buffer patterned(std::size_t size) {
  byte_buffer out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>((i * 7 + i / 251) & 0xff);
  return out;
}

class backend_conformance : public ::testing::TestWithParam<backend_factory> {
 protected:
  void SetUp() override { instance_ = GetParam().make(); }

  backend& store() { return *instance_.store; }
  const backend_capabilities& caps() const { return GetParam().capabilities; }
  void advance(std::chrono::milliseconds step) { instance_.advance(step); }

  // Stores `value` under `key` for `ttl` (default: no expiry); a failure fails the test (by
  // exception).
  void put(std::string_view key, std::string_view value, ttl_seconds ttl = std::nullopt) {
    store().set(key, as_byte_view(value), ttl).value();
  }
  std::optional<byte_buffer> get(std::string_view key) { return store().get(key).value(); }

  backend_instance instance_;
};

// ---- get / set / erase / exists ----------------------------------------------------------

TEST_P(backend_conformance, get_of_a_missing_key_is_a_miss_not_an_error) {
  const auto missing = store().get("missing");
  ASSERT_TRUE(missing) << missing.error().message();
  EXPECT_EQ(*missing, std::nullopt);
  EXPECT_FALSE(store().exists("missing").value());
}

TEST_P(backend_conformance, set_then_get_returns_the_exact_bytes) {
  ASSERT_TRUE(store().set("k", as_byte_view("value"), std::nullopt));
  EXPECT_EQ(get("k"), hit("value"));
  EXPECT_TRUE(store().exists("k").value());
  EXPECT_EQ(get("other"), std::nullopt);
}

TEST_P(backend_conformance, set_replaces_the_value_and_its_ttl) {
  put("k", "a longer first value", 100s);
  put("k", "short");
  EXPECT_EQ(get("k"), hit("short"));
  if (caps().reports_ttl) {
    const auto left = store().ttl("k").value();
    EXPECT_TRUE(left.exists);
    EXPECT_EQ(left.ttl, std::nullopt);  // the new set has no expiry
  }
  put("k", "third", 100s);
  EXPECT_EQ(get("k"), hit("third"));
  if (caps().reports_ttl) {
    const auto left = store().ttl("k").value();
    ASSERT_TRUE(left.ttl.has_value());
    EXPECT_GE(*left.ttl, 99s);
    EXPECT_LE(*left.ttl, 100s);
  }
}

TEST_P(backend_conformance, set_if_absent_stores_only_where_nothing_lives) {
  auto first = store().set_if_absent("k", as_byte_view("first"), 100s);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_TRUE(*first);
  EXPECT_FALSE(store().set_if_absent("k", as_byte_view("second"), 100s).value());
  EXPECT_EQ(get("k"), hit("first"));
  EXPECT_FALSE(store().set_if_absent("gone", as_byte_view("x"), 0s).value())
      << "a TTL of zero or less stores nothing";
  EXPECT_EQ(get("gone"), std::nullopt);
  EXPECT_TRUE(store().set_if_absent("forever", as_byte_view("y"), std::nullopt).value());
  EXPECT_EQ(get("forever"), hit("y"));
}

TEST_P(backend_conformance, erase_reports_whether_the_key_existed) {
  put("k", "v");
  put("kept", "w");
  EXPECT_TRUE(store().erase("k").value());
  EXPECT_EQ(get("k"), std::nullopt);
  EXPECT_FALSE(store().exists("k").value());
  // Without existence reports, an accepted delete is true.
  EXPECT_EQ(store().erase("k").value(), !caps().erase_reports_existence);
  EXPECT_EQ(store().erase("never-set").value(), !caps().erase_reports_existence);
  EXPECT_EQ(get("kept"), hit("w"));
}

TEST_P(backend_conformance, empty_value_is_stored_and_is_not_a_miss) {
  ASSERT_TRUE(store().set("empty", byte_view{}, std::nullopt));
  EXPECT_EQ(get("empty"), std::optional<byte_buffer>(byte_buffer{}));
  EXPECT_TRUE(store().exists("empty").value());
  const auto timed = store().get_with_ttl("empty").value();
  ASSERT_TRUE(timed.has_value());
  EXPECT_TRUE(timed->value.empty());
  const std::vector<std::string_view> keys = {"empty", "missing"};
  const auto many = store().get_many(keys).value();
  ASSERT_EQ(many.size(), 2u);
  EXPECT_EQ(many[0], std::optional<byte_buffer>(byte_buffer{}));
  EXPECT_EQ(many[1], std::nullopt);
}

TEST_P(backend_conformance, binary_values_with_nul_and_high_bytes_round_trip) {
  const byte_buffer value = all_byte_values();
  ASSERT_TRUE(store().set("bin", value, std::nullopt));
  EXPECT_EQ(get("bin"), std::optional(value));
  const byte_buffer nul_only(16, std::byte{0});
  ASSERT_TRUE(store().set("nuls", nul_only, std::nullopt));
  EXPECT_EQ(get("nuls"), std::optional(nul_only));
}

// ---- value sizes -------------------------------------------------------------------------

TEST_P(backend_conformance, a_value_under_one_mebibyte_round_trips) {
  const byte_buffer value = patterned(1'000'000);
  const auto stored = store().set("large", value, std::nullopt);
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_EQ(get("large"), std::optional(value));
}

TEST_P(backend_conformance, a_one_mebibyte_value_round_trips_or_is_refused_as_documented) {
  const byte_buffer value = patterned(1024 * 1024);
  const auto stored = store().set("mib", value, std::nullopt);
  if (caps().stores_one_mebibyte) {
    ASSERT_TRUE(stored) << stored.error().message();
    EXPECT_EQ(get("mib"), std::optional(value));
  } else {
    ASSERT_FALSE(stored);
    EXPECT_EQ(stored.code(), errc::backend_permanent) << stored.error().message();
    EXPECT_EQ(get("mib"), std::nullopt);
  }
  // Either way the backend goes on working.
  put("after", "ok");
  EXPECT_EQ(get("after"), hit("ok"));
}

TEST_P(backend_conformance, a_value_above_the_documented_limit_is_refused_and_changes_nothing) {
  put("k", "old");
  if (!caps().max_value_bytes) {
    // No limit within reach: twice the size the limited backends refuse is stored.
    const byte_buffer value = patterned(2 * 1024 * 1024 + 1);
    ASSERT_TRUE(store().set("k", value, std::nullopt));
    EXPECT_EQ(get("k"), std::optional(value));
    return;
  }
  const byte_buffer over = patterned(*caps().max_value_bytes + 1);
  const auto refused = store().set("k", over, std::nullopt);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.code(), errc::backend_permanent) << refused.error().message();
  EXPECT_EQ(get("k"), hit("old"));
}

// ---- keys --------------------------------------------------------------------------------

TEST_P(backend_conformance, printable_ascii_keys_round_trip) {
  std::string every_printable;
  for (char c = 0x21; c <= 0x7e; ++c) every_printable.push_back(c);
  if (caps().key_charset) {  // every character the backend allows, and a refused one
    every_printable = *caps().key_charset;
    EXPECT_EQ(store().set("a/b", as_byte_view("v"), std::nullopt).code(), errc::backend_permanent);
  }
  put(every_printable, "all");
  put("user:42", "colon");
  EXPECT_EQ(get(every_printable), hit("all"));
  EXPECT_EQ(get("user:42"), hit("colon"));
  EXPECT_EQ(get("user:4"), std::nullopt);
}

TEST_P(backend_conformance, binary_keys_round_trip_or_are_refused_as_documented) {
  const std::vector<std::string> keys = {
      std::string("a\0b", 3), std::string("a\0c", 3), "a",
      "\xff\xfe\x80",         "with space\r\n",       std::string("\0", 1)};
  if (caps().any_key_bytes) {
    for (std::size_t i = 0; i < keys.size(); ++i) put(keys[i], "v" + std::to_string(i));
    put("", "empty key");
    for (std::size_t i = 0; i < keys.size(); ++i) {
      EXPECT_EQ(get(keys[i]), hit("v" + std::to_string(i))) << "key #" << i;
    }
    EXPECT_EQ(get(""), hit("empty key"));
    EXPECT_TRUE(store().erase(keys[0]).value());
    EXPECT_EQ(get(keys[0]), std::nullopt);
    EXPECT_EQ(get(keys[1]), hit("v1"));  // differs from keys[0] only after the NUL
    EXPECT_EQ(get("a"), hit("v2"));
    return;
  }
  // Printable ASCII only: every operation refuses the key before any I/O, never crashes.
  std::vector<std::string> bad = keys;
  bad.erase(std::remove(bad.begin(), bad.end(), "a"), bad.end());
  bad.insert(bad.end(), {"tab\there", "del\x7f", "high\xc3\xa9"});
  if (caps().key_prefix.empty()) bad.emplace_back("");  // with a prefix the wire key is not empty
  for (const auto& key : bad) {
    SCOPED_TRACE(::testing::PrintToString(key));
    EXPECT_EQ(store().set(key, as_byte_view("v"), std::nullopt).code(), errc::backend_permanent);
    EXPECT_EQ(store().get(key).code(), errc::backend_permanent);
    EXPECT_EQ(store().exists(key).code(), errc::backend_permanent);
    EXPECT_EQ(store().erase(key).code(), errc::backend_permanent);
    EXPECT_EQ(store().touch(key, 10s).code(), errc::backend_permanent);
    EXPECT_EQ(store().get_with_ttl(key).code(), errc::backend_permanent);
    const std::vector<std::string_view> many = {"fine", key};
    EXPECT_EQ(store().get_many(many).code(), errc::backend_permanent);
  }
  put("fine", "still works");
  EXPECT_EQ(get("fine"), hit("still works"));
}

TEST_P(backend_conformance, long_keys_round_trip_up_to_the_documented_limit) {
  if (!caps().max_key_bytes) {
    const std::string key(1000, 'k');
    put(key, "long");
    EXPECT_EQ(get(key), hit("long"));
    EXPECT_EQ(get(std::string(999, 'k')), std::nullopt);
    return;
  }
  const std::size_t room = *caps().max_key_bytes - caps().key_prefix.size();
  const std::string longest(room, 'k');
  put(longest, "longest");
  EXPECT_EQ(get(longest), hit("longest"));
  const std::string too_long(room + 1, 'k');
  const auto refused = store().set(too_long, as_byte_view("v"), std::nullopt);
  EXPECT_EQ(refused.code(), errc::backend_permanent);
  EXPECT_EQ(store().get(too_long).code(), errc::backend_permanent);
}

// ---- TTLs --------------------------------------------------------------------------------

TEST_P(backend_conformance, ttl_reports_the_time_left_or_is_not_supported) {
  put("forever", "v");
  put("hundred", "v", 100s);
  if (!caps().reports_ttl) {
    for (auto key : {"forever", "hundred", "missing"}) {
      EXPECT_EQ(store().ttl(key).code(), errc::not_supported) << key;
    }
    return;
  }
  EXPECT_FALSE(store().ttl("missing").value().exists);
  const auto forever = store().ttl("forever").value();
  EXPECT_TRUE(forever.exists);
  EXPECT_EQ(forever.ttl, std::nullopt);
  const auto hundred = store().ttl("hundred").value();
  EXPECT_TRUE(hundred.exists);
  ASSERT_TRUE(hundred.ttl.has_value());
  EXPECT_GE(*hundred.ttl, 99s);
  EXPECT_LE(*hundred.ttl, 100s);
}

TEST_P(backend_conformance, get_with_ttl_returns_the_value_and_its_lifetime) {
  put("forever", "f");
  put("hundred", "h", 100s);
  EXPECT_EQ(store().get_with_ttl("missing").value(), std::nullopt);

  const auto forever = store().get_with_ttl("forever").value();
  ASSERT_TRUE(forever.has_value());
  EXPECT_EQ(forever->value, bytes_of("f"));
  const auto hundred = store().get_with_ttl("hundred").value();
  ASSERT_TRUE(hundred.has_value());
  EXPECT_EQ(hundred->value, bytes_of("h"));
  if (!caps().reports_ttl) {
    EXPECT_EQ(forever->remaining, std::nullopt);  // the lifetime is unknown
    EXPECT_EQ(hundred->remaining, std::nullopt);
    return;
  }
  ASSERT_TRUE(forever->remaining.has_value());
  EXPECT_EQ(*forever->remaining, std::nullopt);  // known: no expiry
  ASSERT_TRUE(hundred->remaining.has_value() && hundred->remaining->has_value());
  EXPECT_GE(**hundred->remaining, 99s);
  EXPECT_LE(**hundred->remaining, 100s);
}

TEST_P(backend_conformance, touch_changes_the_ttl_of_existing_keys_only) {
  EXPECT_FALSE(store().touch("missing", 100s).value());
  if (caps().touch_clears_expiry) EXPECT_FALSE(store().touch("missing", std::nullopt).value());
  EXPECT_EQ(get("missing"), std::nullopt);  // touch never creates

  put("k", "v", 100s);
  EXPECT_TRUE(store().touch("k", 200s).value());
  if (caps().reports_ttl) {
    const auto left = store().ttl("k").value();
    ASSERT_TRUE(left.ttl.has_value());
    EXPECT_GE(*left.ttl, 199s);
    EXPECT_LE(*left.ttl, 200s);
  }
  if (!caps().touch_clears_expiry) {
    EXPECT_EQ(store().touch("k", std::nullopt).code(), errc::not_supported);
    EXPECT_EQ(get("k"), hit("v"));
    return;
  }
  EXPECT_TRUE(store().touch("k", std::nullopt).value());
  if (caps().reports_ttl) {
    const auto left = store().ttl("k").value();
    EXPECT_TRUE(left.exists);
    EXPECT_EQ(left.ttl, std::nullopt);
  }
  EXPECT_TRUE(store().touch("k", std::nullopt).value());  // already without expiry: still there
  EXPECT_EQ(get("k"), hit("v"));                          // the value is untouched
}

TEST_P(backend_conformance, entries_expire_after_their_ttl_and_not_before) {
  // 2 s, not 1 s: memcached's once-a-second clock may expire a 1 s entry at once.
  put("short", "s", 2s);
  put("long", "l", 100s);
  put("forever", "f");
  put("shortened", "x", 100s);
  put("extended", "e", 2s);
  put("persisted", "p", 2s);
  put("erased-late", "z", 2s);
  ASSERT_TRUE(store().touch("shortened", 2s).value());
  ASSERT_TRUE(store().touch("extended", 100s).value());
  if (caps().touch_clears_expiry) {
    ASSERT_TRUE(store().touch("persisted", std::nullopt).value());
  } else {
    put("persisted", "p");  // the same outcome, by a new write
  }
  EXPECT_EQ(get("short"), hit("s"));

  advance(2100ms);

  EXPECT_EQ(get("short"), std::nullopt);
  EXPECT_FALSE(store().exists("short").value());
  EXPECT_EQ(store().get_with_ttl("short").value(), std::nullopt);
  if (caps().reports_ttl) EXPECT_FALSE(store().ttl("short").value().exists);
  EXPECT_FALSE(store().touch("short", 100s).value());  // an expired entry cannot be revived
  EXPECT_EQ(get("shortened"), std::nullopt);
  EXPECT_EQ(store().erase("erased-late").value(), caps().erase_counts_expired_entries);
  EXPECT_EQ(get("erased-late"), std::nullopt);

  EXPECT_EQ(get("long"), hit("l"));
  EXPECT_EQ(get("forever"), hit("f"));
  EXPECT_EQ(get("extended"), hit("e"));
  EXPECT_EQ(get("persisted"), hit("p"));
  const std::vector<std::string_view> keys = {"short", "long", "shortened", "forever"};
  const auto many = store().get_many(keys).value();
  ASSERT_EQ(many.size(), 4u);
  EXPECT_EQ(many[0], std::nullopt);
  EXPECT_EQ(many[1], hit("l"));
  EXPECT_EQ(many[2], std::nullopt);
  EXPECT_EQ(many[3], hit("f"));
}

// backend.hpp: a TTL of zero or less means the entry is already expired.
TEST_P(backend_conformance, a_ttl_of_zero_or_less_stores_nothing_and_removes_the_old_value) {
  put("zero", "old", 100s);
  put("negative", "old");
  const auto zero = store().set("zero", as_byte_view("new"), 0s);
  ASSERT_TRUE(zero) << zero.error().message();
  const auto negative = store().set("negative", as_byte_view("new"), -5s);
  ASSERT_TRUE(negative) << negative.error().message();
  ASSERT_TRUE(store().set("fresh", as_byte_view("new"), 0s));
  for (auto key : {"zero", "negative", "fresh"}) {
    EXPECT_EQ(get(key), std::nullopt) << key;
    EXPECT_FALSE(store().exists(key).value()) << key;
  }

  put("touched", "v");
  EXPECT_TRUE(store().touch("touched", 0s).value());  // it existed; now it has expired
  EXPECT_EQ(get("touched"), std::nullopt);
  EXPECT_FALSE(store().touch("touched", -1s).value());
  put("touched-negative", "v", 100s);
  EXPECT_TRUE(store().touch("touched-negative", -1s).value());
  EXPECT_EQ(get("touched-negative"), std::nullopt);
  EXPECT_FALSE(store().touch("missing", 0s).value());
}

// ---- get_many ----------------------------------------------------------------------------

TEST_P(backend_conformance, get_many_answers_in_key_order_with_misses_and_duplicates) {
  put("a", "1");
  put("b", "2");
  put("c", "");
  const std::vector<std::string_view> keys = {"b", "missing", "a", "b", "c", "missing", "a"};
  const auto many = store().get_many(keys);
  ASSERT_TRUE(many) << many.error().message();
  const std::vector<std::optional<byte_buffer>> expected = {
      hit("2"), std::nullopt, hit("1"), hit("2"), hit(""), std::nullopt, hit("1")};
  EXPECT_EQ(*many, expected);
}

TEST_P(backend_conformance, get_many_of_no_keys_is_empty) {
  put("a", "1");
  const auto none = store().get_many({});
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_TRUE(none->empty());
}

TEST_P(backend_conformance, get_many_of_only_misses_is_all_nullopt) {
  const std::vector<std::string_view> keys = {"x", "y"};
  EXPECT_EQ(store().get_many(keys).value(),
            (std::vector<std::optional<byte_buffer>>{std::nullopt, std::nullopt}));
}

// ---- get_many_with_ttl / set_many (batch calls) -------------------------------------------

TEST_P(backend_conformance, get_many_with_ttl_answers_in_key_order_with_lifetimes) {
  put("forever", "f");
  put("hundred", "h", 100s);
  put("empty", "", 100s);
  const std::vector<std::string_view> keys = {"hundred", "missing", "forever", "empty", "hundred"};
  const auto many = store().get_many_with_ttl(keys);
  ASSERT_TRUE(many) << many.error().message();
  ASSERT_EQ(many->size(), keys.size());
  EXPECT_EQ((*many)[1], std::nullopt);
  for (std::size_t i : {0u, 2u, 3u, 4u}) {
    ASSERT_TRUE((*many)[i].has_value()) << keys[i];
    EXPECT_EQ((*many)[i]->value, *store().get(keys[i]).value()) << keys[i];
    if (!caps().reports_ttl) {
      EXPECT_EQ((*many)[i]->remaining, std::nullopt) << keys[i];  // unknown, as get_with_ttl
      continue;
    }
    ASSERT_TRUE((*many)[i]->remaining.has_value()) << keys[i];
    if (keys[i] == "forever") {
      EXPECT_EQ(*(*many)[i]->remaining, std::nullopt);
    } else {
      ASSERT_TRUE((*many)[i]->remaining->has_value()) << keys[i];
      EXPECT_GE(**(*many)[i]->remaining, 99s) << keys[i];
      EXPECT_LE(**(*many)[i]->remaining, 100s) << keys[i];
    }
  }
  const auto none = store().get_many_with_ttl({});
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_TRUE(none->empty());
}

TEST_P(backend_conformance, set_many_stores_every_write_and_ttl_zero_or_less_removes) {
  put("expired", "old", 100s);
  put("negative", "old");
  put("replaced", "old");
  const byte_buffer binary = all_byte_values();
  const std::vector<write_request> writes = {
      {.key = "a", .value = as_byte_view("1"), .ttl = std::nullopt, .registry = {}},
      {.key = "b", .value = as_byte_view("2"), .ttl = 100s, .registry = {}},
      {.key = "expired", .value = as_byte_view("new"), .ttl = 0s, .registry = {}},
      {.key = "negative", .value = as_byte_view("new"), .ttl = -3s, .registry = {}},
      {.key = "replaced", .value = as_byte_view("new"), .ttl = 100s, .registry = {}},
      {.key = "binary", .value = binary, .ttl = 100s, .registry = {}},
      {.key = "never", .value = as_byte_view("x"), .ttl = 0s, .registry = {}},
  };
  const auto stored = store().set_many(writes);
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_EQ(get("a"), hit("1"));
  EXPECT_EQ(get("b"), hit("2"));
  EXPECT_EQ(get("replaced"), hit("new"));
  EXPECT_EQ(get("binary"), binary);
  for (auto key : {"expired", "negative", "never"}) {
    EXPECT_EQ(get(key), std::nullopt) << key;
    EXPECT_FALSE(store().exists(key).value()) << key;
  }
  if (caps().reports_ttl) {
    EXPECT_EQ(store().ttl("a").value().ttl, std::nullopt);
    const auto b = store().ttl("b").value();
    ASSERT_TRUE(b.ttl.has_value());
    EXPECT_GE(*b.ttl, 99s);
    EXPECT_LE(*b.ttl, 100s);
  }
  EXPECT_TRUE(store().set_many({}));
}

TEST_P(backend_conformance, set_many_records_tracked_writes_where_the_backend_keeps_a_registry) {
  const std::vector<write_request> writes = {
      {.key = "t1", .value = as_byte_view("1"), .ttl = 100s, .registry = "fn:registry"},
      {.key = "t2", .value = as_byte_view("2"), .ttl = std::nullopt, .registry = "fn:registry"},
      {.key = "plain", .value = as_byte_view("3"), .ttl = 100s, .registry = {}},
      {.key = "gone", .value = as_byte_view("4"), .ttl = 0s, .registry = "fn:registry"},
  };
  ASSERT_TRUE(store().set_many(writes));
  EXPECT_EQ(get("t1"), hit("1"));
  EXPECT_EQ(get("t2"), hit("2"));
  EXPECT_EQ(get("plain"), hit("3"));
  EXPECT_EQ(get("gone"), std::nullopt);
  if (!store().keeps_key_registry()) return;
  // The registry holds exactly the tracked writes that stored something: draining it removes
  // those and leaves the untracked one.
  const auto drained = store().drain_registry("fn:registry");
  ASSERT_TRUE(drained) << drained.error().message();
  EXPECT_EQ(*drained, 2u);
  EXPECT_EQ(get("t1"), std::nullopt);
  EXPECT_EQ(get("t2"), std::nullopt);
  EXPECT_EQ(get("plain"), hit("3"));
}

// ---- locks -------------------------------------------------------------------------------

TEST_P(backend_conformance, try_lock_is_exclusive_until_released) {
  if (!caps().has_locks) {
    EXPECT_EQ(store().try_lock("k", 5s).code(), errc::not_supported);
    EXPECT_EQ(store().release_lock({.key = "k:lock", .value = "token"}).code(),
              errc::not_supported);
    return;
  }
  const auto first = store().try_lock("k", 5s).value();
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->value.empty());
  EXPECT_EQ(store().try_lock("k", 5s).value(), std::nullopt);  // held
  const auto other = store().try_lock("other", 5s).value();    // a lock per key
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->value, first->value);

  const bool owned = caps().release_reports_ownership;
  EXPECT_TRUE(store().release_lock(*first).value());
  EXPECT_EQ(store().release_lock(*first).value(), !owned);  // already released
  const auto again = store().try_lock("k", 5s).value();
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->value, first->value);                    // a fresh token
  EXPECT_EQ(store().release_lock(*first).value(), !owned);  // the old token frees nothing
  EXPECT_EQ(store().try_lock("k", 5s).value(), std::nullopt);
  EXPECT_TRUE(store().release_lock(*again).value());
  EXPECT_TRUE(store().release_lock(*other).value());
}

TEST_P(backend_conformance, release_with_a_wrong_token_keeps_the_lock) {
  if (!caps().has_locks) {
    EXPECT_EQ(store().try_lock("k", 5s).code(), errc::not_supported);
    return;
  }
  const auto held = store().try_lock("k", 5s).value();
  ASSERT_TRUE(held.has_value());
  lock_token forged = *held;
  forged.value = std::string(held->value.size(), '0');
  if (caps().release_reports_ownership) {
    EXPECT_FALSE(store().release_lock(forged).value());
    EXPECT_FALSE(store().release_lock({.key = held->key, .value = ""}).value());
  } else {  // accepted, and still freeing nothing
    (void)store().release_lock(forged);
    (void)store().release_lock({.key = held->key, .value = ""});
  }
  EXPECT_EQ(store().try_lock("k", 5s).value(), std::nullopt);  // still held
  EXPECT_TRUE(store().release_lock(*held).value());
}

TEST_P(backend_conformance, a_lock_expires_after_its_timeout) {
  if (!caps().has_locks) {
    EXPECT_EQ(store().try_lock("k", 100ms).code(), errc::not_supported);
    return;
  }
  const auto expiring = store().try_lock("k", 100ms).value();
  ASSERT_TRUE(expiring.has_value());
  EXPECT_EQ(store().try_lock("k", 100ms).value(), std::nullopt);
  advance(200ms);
  const auto next = store().try_lock("k", 5s).value();
  ASSERT_TRUE(next.has_value());  // the first holder's lock timed out
  // and cannot free the new one
  EXPECT_EQ(store().release_lock(*expiring).value(), !caps().release_reports_ownership);
  EXPECT_EQ(store().try_lock("k", 5s).value(), std::nullopt);
  EXPECT_TRUE(store().release_lock(*next).value());
}

TEST_P(backend_conformance, a_lock_leaves_the_keys_value_alone) {
  put("k", "v");
  if (!caps().has_locks) {
    EXPECT_EQ(store().try_lock("k", 5s).code(), errc::not_supported);
    EXPECT_EQ(get("k"), hit("v"));
    return;
  }
  const auto lock = store().try_lock("k", 5s).value();
  ASSERT_TRUE(lock.has_value());
  EXPECT_EQ(get("k"), hit("v"));
  EXPECT_TRUE(store().erase("k").value());
  EXPECT_EQ(store().try_lock("k", 5s).value(), std::nullopt);  // erasing the value kept the lock
  put("k", "w");
  EXPECT_TRUE(store().release_lock(*lock).value());
  EXPECT_EQ(get("k"), hit("w"));
}

// ---- erase_prefix ------------------------------------------------------------------------

TEST_P(backend_conformance, erase_prefix_deletes_matching_entries_and_keeps_locks) {
  for (auto key : {"p:1", "p:2", "p:sub:3", "q:1", "P:1", "xp:1"}) put(key, "v");
  if (!caps().has_erase_prefix) {
    EXPECT_EQ(store().erase_prefix("p:").code(), errc::not_supported);
    EXPECT_EQ(get("p:1"), hit("v"));  // nothing deleted
    return;
  }
  std::optional<lock_token> lock;
  if (caps().has_locks) {
    lock = store().try_lock("p:held", 5s).value();  // the lock entry is "p:held:lock"
    ASSERT_TRUE(lock.has_value());
  }
  EXPECT_EQ(store().erase_prefix("p:").value(), 3u);
  for (auto key : {"p:1", "p:2", "p:sub:3"}) EXPECT_EQ(get(key), std::nullopt) << key;
  for (auto key : {"q:1", "P:1", "xp:1"}) EXPECT_EQ(get(key), hit("v")) << key;
  EXPECT_EQ(store().erase_prefix("p:").value(), 0u);
  if (lock) {
    EXPECT_EQ(store().try_lock("p:held", 5s).value(), std::nullopt);  // still held
    EXPECT_TRUE(store().release_lock(*lock).value());
  }
}

TEST_P(backend_conformance, erase_prefix_matches_glob_characters_literally) {
  if (!caps().has_erase_prefix) {  // checked first: such keys may be refused (cachekit.io)
    EXPECT_EQ(store().erase_prefix("a*").code(), errc::not_supported);
    return;
  }
  for (auto key : {"a*b", "a*c", "axb", "a?x", "a[1]", "a\\b"}) put(key, "v");
  EXPECT_EQ(store().erase_prefix("a*").value(), 2u);
  EXPECT_EQ(get("axb"), hit("v"));
  EXPECT_EQ(store().erase_prefix("a?").value(), 1u);
  EXPECT_EQ(store().erase_prefix("a[").value(), 1u);
  EXPECT_EQ(store().erase_prefix("a\\").value(), 1u);
  EXPECT_EQ(get("axb"), hit("v"));
}

// ---- identity and health -----------------------------------------------------------------

TEST_P(backend_conformance, type_and_key_prefix_are_as_documented) {
  EXPECT_EQ(store().type(), caps().type);
  EXPECT_EQ(store().key_prefix(), caps().key_prefix);
}

TEST_P(backend_conformance, health_reports_healthy_with_the_backend_type) {
  const auto health = store().health();
  EXPECT_TRUE(health.healthy) << ::testing::PrintToString(health.details);
  EXPECT_EQ(health.backend_type, caps().type);
  EXPECT_GE(health.latency, 0us);
  EXPECT_EQ(get("__health_check__"), std::nullopt);  // a probe leaves nothing behind
}

// ---- a server that goes away -------------------------------------------------------------

TEST_P(backend_conformance, a_stopped_server_fails_every_operation_retryably_then_recovers) {
  local_server* server = instance_.server;
  if (server == nullptr) GTEST_SKIP() << GetParam().name << " is in-process: no server to stop";
  put("k", "v");
  server->stop();

  // Each operation, with the code it must fail with: an outage code, or not_supported where the
  // backend never offers the operation.
  const lock_token token{.key = "k:lock", .value = "token"};
  const std::vector<std::string_view> many = {"k", "j"};
  const std::vector<std::pair<const char*, std::function<std::error_code()>>> operations = {
      {"get", [&] { return store().get("k").code(); }},
      {"set", [&] { return store().set("k", as_byte_view("w"), 10s).code(); }},
      {"set with ttl 0", [&] { return store().set("k", as_byte_view("w"), 0s).code(); }},
      {"set_if_absent", [&] { return store().set_if_absent("k2", as_byte_view("w"), 10s).code(); }},
      {"erase", [&] { return store().erase("k").code(); }},
      {"exists", [&] { return store().exists("k").code(); }},
      {"get_many", [&] { return store().get_many(many).code(); }},
      {"get_with_ttl", [&] { return store().get_with_ttl("k").code(); }},
      {"get_many_with_ttl", [&] { return store().get_many_with_ttl(many).code(); }},
      {"set_many",
       [&] {
         const std::vector<write_request> writes = {
             {.key = "k", .value = as_byte_view("w"), .ttl = 10s, .registry = {}}};
         return store().set_many(writes).code();
       }},
      {"ttl", [&] { return store().ttl("k").code(); }},
      {"touch", [&] { return store().touch("k", 10s).code(); }},
      {"touch nullopt", [&] { return store().touch("k", std::nullopt).code(); }},
      {"try_lock", [&] { return store().try_lock("k", 1s).code(); }},
      {"release_lock", [&] { return store().release_lock(token).code(); }},
      {"erase_prefix", [&] { return store().erase_prefix("k").code(); }},
  };
  const auto unsupported = [&](std::string_view name) {
    return (!caps().reports_ttl && name == "ttl") ||
           (!caps().has_locks && (name == "try_lock" || name == "release_lock")) ||
           (!caps().has_erase_prefix && name == "erase_prefix");
  };
  for (const auto& [name, run] : operations) {
    SCOPED_TRACE(name);
    const auto start = steady_clock::now();
    std::error_code code;
    try {
      code = run();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw " << e.what();
      continue;
    }
    const auto took = steady_clock::now() - start;
    EXPECT_LE(took, caps().outage_bound);
    const bool failing_fast = code == errc::circuit_open &&
                              std::find(caps().outage_errors.begin(), caps().outage_errors.end(),
                                        errc::circuit_open) != caps().outage_errors.end();
    if (unsupported(name) && !failing_fast) {  // an open breaker answers before the backend
      EXPECT_EQ(code, errc::not_supported) << code.message();
    } else {
      EXPECT_NE(std::find_if(caps().outage_errors.begin(), caps().outage_errors.end(),
                             [&](errc e) { return code == e; }),
                caps().outage_errors.end())
          << "got " << (code ? code.message() : "success");
    }
  }
  const auto health = store().health();
  EXPECT_FALSE(health.healthy);
  EXPECT_EQ(health.latency, -1us);
  EXPECT_EQ(health.backend_type, caps().type);

  server->restart();  // the same port, an empty server
  const auto deadline = steady_clock::now() + caps().recovery_bound;
  auto stored = store().set("k", as_byte_view("back"), std::nullopt);
  while (!stored && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    stored = store().set("k", as_byte_view("back"), std::nullopt);
  }
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_EQ(get("k"), hit("back"));
  EXPECT_EQ(get("j"), std::nullopt);
  EXPECT_TRUE(store().exists("k").value());
  EXPECT_TRUE(store().health().healthy);
  EXPECT_TRUE(store().erase("k").value());
}

INSTANTIATE_TEST_SUITE_P(all, backend_conformance, ::testing::ValuesIn(conformance_backends()),
                         [](const ::testing::TestParamInfo<backend_factory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace cachekit::testing
