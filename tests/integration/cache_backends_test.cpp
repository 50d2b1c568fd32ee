// `cache` and `memoize` over every real L2: redis (both key layouts), memcached and the file
// backend. Two `cache` objects over one L2 stand for two processes sharing it.
#include <cachekit/cache.hpp>
#include <cachekit/file_backend.hpp>
#include <cachekit/memcached_backend.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/local_server.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::local_server;

struct quote {
  std::int64_t sku = 0;
  std::string currency;
  double price = 0;
  MSGPACK_DEFINE_MAP(sku, currency, price);
  bool operator==(const quote&) const = default;
};

// Flips a byte of the compressed data inside a frame's envelope (past "CK", the version, the
// 4-byte header length, the JSON header and the envelope's array and bin headers).
void flip_payload_byte(byte_buffer& frame) {
  std::size_t header_size = 0;
  for (int i = 3; i < 7; ++i)
    header_size = (header_size << 8) | std::to_integer<std::size_t>(frame.at(i));
  frame.at(7 + header_size + 4) ^= std::byte{0x5a};
}

enum class l2_kind { redis_plain, redis_tenant_scoped, memcached, file };

std::string kind_name(const ::testing::TestParamInfo<l2_kind>& info) {
  switch (info.param) {
    case l2_kind::redis_plain: return "redis_plain";
    case l2_kind::redis_tenant_scoped: return "redis_tenant_scoped";
    case l2_kind::memcached: return "memcached";
    case l2_kind::file: return "file";
  }
  return "unknown";
}

class cache_over_backend : public ::testing::TestWithParam<l2_kind> {
 public:
  static void SetUpTestSuite() {
    redis_ = local_server::start_redis().release();
    memcached_ = local_server::start_memcached().release();
  }
  static void TearDownTestSuite() {
    delete redis_;
    delete memcached_;
  }

 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    // Each test writes its own function names, so tests never see each other's entries.
    prefix_ = std::string("it.") + test->name();
    for (char& c : prefix_) {
      if (c == '/') c = '_';
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("cachekit-cache-it-" + std::to_string(::getpid()) + "-" + prefix_);
    std::filesystem::remove_all(dir_);
    l2_ = make_backend();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::shared_ptr<backend> make_backend() const {
    switch (GetParam()) {
      case l2_kind::redis_plain:
        return std::make_shared<redis_backend>(redis_options{.url = redis_->address()});
      case l2_kind::redis_tenant_scoped:
        return std::make_shared<redis_backend>(
            redis_options{.url = redis_->address(), .key_layout = redis_key_layout::tenant_scoped});
      case l2_kind::memcached:
        return std::make_shared<memcached_backend>(
            memcached_options{.servers = {memcached_->address()}});
      case l2_kind::file:
        return std::make_shared<file_backend>(file_backend_options{.cache_dir = dir_});
    }
    return nullptr;
  }

  // A fresh `cache` (a process with an empty L1) over the shared L2.
  cache make_cache(cache_options options = {}) const {
    options.l2 = l2_;
    options.clock = &clock_;
    return cache(std::move(options));
  }

  auto fetch_quote() {
    return [this](std::int64_t sku, const std::string& currency) {
      ++calls_;
      return quote{sku, currency, static_cast<double>(sku) * 1.25};
    };
  }

  std::string name(std::string_view function) const {
    return prefix_ + "." + std::string(function);
  }

  static local_server* redis_;
  static local_server* memcached_;
  std::string prefix_;
  std::filesystem::path dir_;
  std::shared_ptr<backend> l2_;
  mutable manual_clock clock_;
  std::atomic<int> calls_{0};
};

local_server* cache_over_backend::redis_ = nullptr;
local_server* cache_over_backend::memcached_ = nullptr;

TEST_P(cache_over_backend, first_call_runs_then_l1_then_another_process_reads_l2) {
  auto writer = make_cache();
  auto reader = make_cache();
  auto w = writer.memoize(name("quote"), fetch_quote(), {.ttl = 300s});
  auto r = reader.memoize(name("quote"), fetch_quote(), {.ttl = 300s});
  const quote expected{7, "EUR", 8.75};
  EXPECT_EQ(w(7, "EUR"), expected);
  EXPECT_EQ(w(7, "EUR"), expected);
  EXPECT_EQ(w.info().misses, 1u);
  EXPECT_EQ(w.info().l1_hits, 1u);
  EXPECT_EQ(r(7, "EUR"), expected);
  EXPECT_EQ(r(7, "EUR"), expected);
  EXPECT_EQ(r.info().l2_hits, 1u);
  EXPECT_EQ(r.info().l1_hits, 1u);
  EXPECT_EQ(r.info().misses, 0u);
  EXPECT_EQ(calls_, 1);
  EXPECT_TRUE(r.info().l2_avg_latency_ms.has_value());
}

TEST_P(cache_over_backend, typed_and_raw_entries_round_trip_with_ttl_and_touch) {
  auto c = make_cache();
  ASSERT_TRUE(c.set("greeting", std::string("hello"), {.ttl = 120s, .ns = prefix_}));
  auto other = make_cache();
  EXPECT_EQ(other.get<std::string>("greeting", {.ns = prefix_}).value(), "hello");
  EXPECT_TRUE(other.exists("greeting", {.ns = prefix_}).value());
  auto left = c.ttl("greeting", {.ns = prefix_});
  if (GetParam() == l2_kind::memcached) {
    EXPECT_EQ(left.error().code, make_error_code(errc::not_supported));
  } else {
    ASSERT_TRUE(left) << left.error().message();
    ASSERT_TRUE(left->exists);
    ASSERT_TRUE(left->ttl.has_value());
    EXPECT_GT(*left->ttl, 100s);
    EXPECT_LE(*left->ttl, 120s);
  }
  EXPECT_TRUE(c.touch("greeting", 3600s, {.ns = prefix_}).value());
  EXPECT_TRUE(c.erase("greeting", {.ns = prefix_}).value());
  EXPECT_FALSE(make_cache().exists("greeting", {.ns = prefix_}).value());
  // No cross-process L1 invalidation (as cachekit-py): `other` keeps its copy until it expires.
  EXPECT_TRUE(other.exists("greeting", {.ns = prefix_}).value());
  EXPECT_FALSE(make_cache().get<std::string>("greeting", {.ns = prefix_}).value().has_value());

  const byte_buffer raw = to_byte_buffer("not a frame, just bytes");
  ASSERT_TRUE(c.set_bytes(prefix_ + ".raw", raw, 60s));
  EXPECT_EQ(make_cache().get_bytes(prefix_ + ".raw").value(), raw);
}

TEST_P(cache_over_backend, tampered_entry_is_a_counted_miss_evicted_and_replaced) {
  auto writer = make_cache();
  auto w = writer.memoize(name("quote"), fetch_quote());
  (void)w(1, "USD");
  const std::string key = w.key(1, "USD").value();
  byte_buffer stored = *l2_->get(key).value();
  flip_payload_byte(stored);
  ASSERT_TRUE(l2_->set(key, stored, 300s));

  auto reader = make_cache();
  auto r = reader.memoize(name("quote"), fetch_quote());
  EXPECT_EQ(r(1, "USD"), (quote{1, "USD", 1.25}));
  EXPECT_EQ(calls_, 2);
  EXPECT_EQ(r.info().misses, 1u);
  EXPECT_EQ(reader.stats().corrupt_entries, 1u);
  // The corrupt bytes are gone: the fresh result replaced them, and a third process hits L2.
  EXPECT_NE(*l2_->get(key).value(), stored);
  auto third = make_cache();
  auto t = third.memoize(name("quote"), fetch_quote());
  EXPECT_EQ(t(1, "USD"), (quote{1, "USD", 1.25}));
  EXPECT_EQ(t.info().l2_hits, 1u);
}

TEST_P(cache_over_backend, truncated_entry_is_a_counted_miss) {
  auto writer = make_cache();
  auto w = writer.memoize(name("quote"), fetch_quote());
  (void)w(2, "USD");
  const std::string key = w.key(2, "USD").value();
  byte_buffer stored = *l2_->get(key).value();
  stored.resize(stored.size() - 7);
  ASSERT_TRUE(l2_->set(key, stored, 300s));
  auto reader = make_cache();
  auto r = reader.memoize(name("quote"), fetch_quote());
  EXPECT_EQ(r(2, "USD"), (quote{2, "USD", 2.5}));
  EXPECT_EQ(reader.stats().corrupt_entries, 1u);
  EXPECT_EQ(calls_, 2);
}

TEST_P(cache_over_backend, l1_copy_of_an_l2_hit_never_outlives_the_l2_entry) {
  auto writer = make_cache();
  auto w = writer.memoize(name("quote"), fetch_quote(), {.ttl = 3600s});
  (void)w(3, "GBP");
  const std::string key = w.key(3, "GBP").value();
  // Shorten the L2 entry behind the writer's back (as another process re-writing it would).
  ASSERT_TRUE(l2_->touch(key, 20s).value());

  // No stale-while-revalidate: the hit at 15 s is past half the copy's life, and a background
  // refresh that lands before the next call would re-read the real server, whose entry does not
  // age with this test's manual clock, and legitimately renew the L1 copy (TSan's scheduling
  // showed it).
  cache_options no_swr;
  no_swr.swr.enabled = false;
  auto reader = make_cache(std::move(no_swr));
  auto r = reader.memoize(name("quote"), fetch_quote(), {.ttl = 3600s});
  (void)r(3, "GBP");  // L2 hit, backfills L1
  EXPECT_EQ(r.info().l2_hits, 1u);
  clock_.advance(15s);
  (void)r(3, "GBP");
  EXPECT_EQ(r.info().l1_hits, 1u) << "within the L2 entry's life the L1 copy serves";
  // Memcached cannot tell the TTL: its L1 copies live at most 30 s; the others at most the
  // 20 s the L2 entry had.
  clock_.advance(GetParam() == l2_kind::memcached ? 16s : 6s);
  (void)r(3, "GBP");
  EXPECT_EQ(r.info().l2_hits, 2u) << "the L1 copy expired with (or before) the L2 entry";
}

TEST_P(cache_over_backend, invalidate_reaches_the_shared_l2) {
  auto a = make_cache();
  auto b = make_cache();
  auto fa = a.memoize(name("quote"), fetch_quote());
  auto fb = b.memoize(name("quote"), fetch_quote());
  (void)fa(4, "EUR");
  fb.invalidate(4, "EUR");
  EXPECT_FALSE(l2_->exists(fa.key(4, "EUR").value()).value());
  auto c = make_cache();
  auto fc = c.memoize(name("quote"), fetch_quote());
  (void)fc(4, "EUR");
  EXPECT_EQ(fc.info().misses, 1u);
  EXPECT_EQ(calls_, 2);
}

TEST_P(cache_over_backend, secure_entries_are_shared_by_processes_with_the_same_key) {
  // Fixed random keys (openssl rand -hex 32): a cache refuses patterned ones.
  const std::string_view key = "760a9c968bdd28baac28ca7ebf7e1d4ba7a3d482c6dd200e8a0e48251dedfee9";
  const std::string_view other_key =
      "c293920d52ea071e063b967b73faa50e77ed09dff24cf8bccdf8114b935cc826";
  auto secure = [&](std::string_view hex) {
    auto options = cache_options::for_intent(intent::secure);
    options.encryption = encryption_options{.keys = keyring::from_hex(hex).value()};
    return make_cache(std::move(options));
  };
  auto writer = secure(key);
  auto w = writer.memoize(name("secret"), fetch_quote());
  (void)w(5, "CHF");
  auto reader = secure(key);
  auto r = reader.memoize(name("secret"), fetch_quote());
  EXPECT_EQ(r(5, "CHF"), (quote{5, "CHF", 6.25}));
  EXPECT_EQ(r.info().l2_hits, 1u);
  auto intruder = secure(other_key);
  auto x = intruder.memoize(name("secret"), fetch_quote());
  EXPECT_EQ(x(5, "CHF"), (quote{5, "CHF", 6.25}));
  EXPECT_EQ(x.info().misses, 1u);
  EXPECT_EQ(intruder.stats().corrupt_entries, 1u);
  EXPECT_EQ(calls_, 2);
}

TEST_P(cache_over_backend, interop_mode_works_where_the_backend_keeps_keys_as_given) {
  auto c = make_cache();
  if (!l2_->key_prefix().empty()) {
    EXPECT_THROW((void)c.memoize_interop("users", "get", [](std::int64_t id) { return id; }),
                 error);
    return;
  }
  const std::string ns = "it" + std::to_string(::getpid());
  auto f = c.memoize_interop(ns, "double", [this](std::int64_t x) {
    ++calls_;
    return 2 * x;
  });
  EXPECT_EQ(f(21), 42);
  auto other = make_cache();
  auto g = other.memoize_interop(ns, "double", [this](std::int64_t x) {
    ++calls_;
    return 2 * x;
  });
  EXPECT_EQ(g(21), 42);
  EXPECT_EQ(g.info().l2_hits, 1u);
  EXPECT_EQ(to_hex(*l2_->get(f.key(21).value()).value()), "2a");
  EXPECT_EQ(calls_, 1);
}

INSTANTIATE_TEST_SUITE_P(every_l2, cache_over_backend,
                         ::testing::Values(l2_kind::redis_plain, l2_kind::redis_tenant_scoped,
                                           l2_kind::memcached, l2_kind::file),
                         kind_name);

}  // namespace
}  // namespace cachekit
