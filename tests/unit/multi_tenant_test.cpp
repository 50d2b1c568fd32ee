// Multi-tenant caches (encryption_options::multi_tenant): tenants share one key per call, as in
// cachekit-py 0.24.1, so one tenant's read must never destroy another's entry, and one tenant
// is one tenant however its UUID is spelled.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>
#include <cachekit/tenant_scope.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace cachekit {
namespace {

const std::string tenant_a = "6f1c2a3b-0000-4000-8000-00000000000a";
const std::string tenant_b = "6f1c2a3b-0000-4000-8000-00000000000b";
const std::string master_hex = "5cf9905fe95b6033a093c02a288b86c1389300cda4aea69c330676c9d6839a2c";

struct multi_tenant_test : ::testing::Test {
  std::shared_ptr<memory_backend> l2 = std::make_shared<memory_backend>();
  manual_clock clock;
  std::atomic<int> calls{0};

  cache make_cache(bool l1 = true, bool fail_closed = false) {
    auto options = cache_options::for_intent(intent::secure);
    options.encryption = encryption_options{.keys = keyring::from_hex(master_hex).value(),
                                            .multi_tenant = true,
                                            .fail_closed = fail_closed};
    options.l2 = l2;
    options.clock = &clock;
    options.l1_enabled = l1;
    return cache(std::move(options));
  }
  auto report() {
    return [this](std::int64_t id) {
      ++calls;
      return "report-" + std::to_string(id) + "-of-" + std::string(*tenant_scope::current());
    };
  }
  byte_buffer stored(const std::string& key) { return *l2->get(key).value(); }
};

TEST_F(multi_tenant_test, another_tenants_read_leaves_the_entry_in_place) {
  auto service = make_cache();
  auto get = service.memoize("m.report", report());
  const std::string key = get.key(1).value();
  {
    tenant_scope a(tenant_a);
    EXPECT_EQ(get(1), "report-1-of-" + tenant_a);
  }
  const byte_buffer written = stored(key);
  {
    tenant_scope b(tenant_b);
    EXPECT_EQ(get(1), "report-1-of-" + tenant_b);  // B's own result, computed
    EXPECT_EQ(get(1), "report-1-of-" + tenant_b);  // ... every time: B's result is not stored
  }
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(stored(key), written);  // A's entry: neither evicted nor overwritten
  EXPECT_EQ(service.stats().tenant_mismatches, 2u);
  EXPECT_EQ(service.stats().corrupt_entries, 0u);
  {
    tenant_scope a(tenant_a);
    EXPECT_EQ(get(1), "report-1-of-" + tenant_a);  // A still hits, in L1 ...
  }
  auto other_process = make_cache();
  auto get_elsewhere = other_process.memoize("m.report", report());
  {
    tenant_scope a(tenant_a);
    EXPECT_EQ(get_elsewhere(1), "report-1-of-" + tenant_a);  // ... and in L2
    EXPECT_EQ(get_elsewhere.info().l2_hits, 1u);
  }
  EXPECT_EQ(calls, 3);
}

// A decision (encryption_options::fail_closed): the entry authenticated as another tenant's, so
// fail_closed does not turn the mismatch into a refused call, where cachekit-py raises.
TEST_F(multi_tenant_test, under_fail_closed_another_tenants_entry_is_still_a_counted_miss) {
  auto service = make_cache(/*l1=*/false, /*fail_closed=*/true);
  auto get = service.memoize("m.report", report());
  {
    tenant_scope a(tenant_a);
    EXPECT_EQ(get(1), "report-1-of-" + tenant_a);
  }
  {
    tenant_scope b(tenant_b);
    EXPECT_NO_THROW(EXPECT_EQ(get(1), "report-1-of-" + tenant_b));
  }
  EXPECT_EQ(service.stats().tenant_mismatches, 1u);
  EXPECT_EQ(service.stats().security_failures, 0u);
  EXPECT_EQ(calls, 2);
}

TEST_F(multi_tenant_test, another_tenants_read_without_l1_leaves_the_entry_in_place) {
  auto service = make_cache(false);
  auto get = service.memoize("m.report", report());
  {
    tenant_scope a(tenant_a);
    (void)get(2);
  }
  {
    tenant_scope b(tenant_b);
    (void)get(2);
  }
  {
    tenant_scope a(tenant_a);
    EXPECT_EQ(get(2), "report-2-of-" + tenant_a);
  }
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(get.info().l2_hits, 1u);
}

TEST_F(multi_tenant_test, a_mismatched_call_stores_nothing_and_an_invalidate_frees_the_key) {
  auto service = make_cache(false);
  auto get = service.memoize("m.report", report());
  {
    tenant_scope a(tenant_a);
    (void)get(3);
  }
  {
    tenant_scope b(tenant_b);
    (void)get(3);       // mismatch: B's result not stored
    get.invalidate(3);  // B clears the slot on purpose
    (void)get(3);       // a plain miss now: B's result is stored
    EXPECT_EQ(get(3), "report-3-of-" + tenant_b);
  }
  EXPECT_EQ(calls, 3);
}

TEST_F(multi_tenant_test, two_spellings_of_one_uuid_are_one_tenant) {
  auto service = make_cache(false);
  auto get = service.memoize("m.report", report());
  {
    tenant_scope upper("6F1C2A3B-0000-4000-8000-00000000000A");
    EXPECT_EQ(tenant_scope::current(), tenant_a);
    EXPECT_EQ(get(4), "report-4-of-" + tenant_a);
  }
  {
    tenant_scope lower(tenant_a);
    EXPECT_EQ(get(4), "report-4-of-" + tenant_a);
  }
  {
    tenant_scope braced("{6f1c2a3b00004000800000000000000a}");
    EXPECT_EQ(get(4), "report-4-of-" + tenant_a);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(service.stats().tenant_mismatches, 0u);
}

TEST(single_tenant, an_uppercase_tenant_uuid_seals_for_its_canonical_form) {
  auto l2 = std::make_shared<memory_backend>();
  auto options = cache_options::for_intent(intent::secure);
  options.encryption = encryption_options{.keys = keyring::from_hex(master_hex).value(),
                                          .tenant = "6F1C2A3B-0000-4000-8000-00000000000A"};
  options.l2 = l2;
  cache c(std::move(options));
  auto f = c.memoize("m.f", [](std::int64_t x) { return x; });
  (void)f(1);
  const byte_buffer bytes = *l2->get(f.key(1).value()).value();
  const std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  EXPECT_NE(text.find("\"tenant_id\": \"" + tenant_a + "\""), std::string::npos) << text;
}

}  // namespace
}  // namespace cachekit
