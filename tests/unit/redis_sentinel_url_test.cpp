// The redis+sentinel:// URL grammar: the sentinel list, the service, the master's credentials
// and db, the sentinels' own credentials; refusals say what to write and never repeat a secret.
#include "backends/redis/redis_url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cachekit::detail {
namespace {

redis_endpoint parse_ok(std::string_view url) {
  auto r = parse_redis_url(url);
  EXPECT_TRUE(r.has_value()) << url << ": " << (r ? "" : r.error().message());
  return r ? *r : redis_endpoint{};
}

failure parse_error(std::string_view url) {
  auto r = parse_redis_url(url);
  EXPECT_FALSE(r.has_value()) << url << " should be rejected";
  return r ? failure{} : r.error();
}

TEST(redis_sentinel_url, lists_sentinels_in_order_with_default_port_26379) {
  const auto ep = parse_ok("redis+sentinel://s1,s2:26380,[::1]:26381,[fe80::2]/mymaster");
  ASSERT_TRUE(ep.sentinel.has_value());
  const auto& s = *ep.sentinel;
  ASSERT_EQ(s.sentinels.size(), 4u);
  EXPECT_EQ(s.sentinels[0].host, "s1");
  EXPECT_EQ(s.sentinels[0].port, 26379);
  EXPECT_EQ(s.sentinels[1].host, "s2");
  EXPECT_EQ(s.sentinels[1].port, 26380);
  EXPECT_EQ(s.sentinels[2].host, "::1");
  EXPECT_EQ(s.sentinels[2].port, 26381);
  EXPECT_EQ(s.sentinels[3].host, "fe80::2");
  EXPECT_EQ(s.sentinels[3].port, 26379);
  EXPECT_EQ(s.service, "mymaster");
  EXPECT_EQ(ep.db, 0);
  EXPECT_FALSE(ep.has_password);
  EXPECT_FALSE(s.has_password);
  EXPECT_TRUE(s.user.empty());
  EXPECT_EQ(ep.describe(), "sentinel:mymaster/0");
  EXPECT_EQ(s.describe(),
            "service 'mymaster' via sentinels s1:26379,s2:26380,[::1]:26381,"
            "[fe80::2]:26379");
}

TEST(redis_sentinel_url, userinfo_and_db_are_the_masters) {
  const auto ep = parse_ok("redis+sentinel://app:p%40ss@10.0.0.1:5000/cache%2Dmain/3");
  ASSERT_TRUE(ep.sentinel.has_value());
  EXPECT_EQ(ep.user, "app");
  EXPECT_EQ(ep.password, "p@ss");
  EXPECT_TRUE(ep.has_password);
  EXPECT_EQ(ep.db, 3);
  EXPECT_EQ(ep.sentinel->service, "cache-main");
  EXPECT_FALSE(ep.sentinel->has_password);  // the master's password is not the sentinels'
  EXPECT_EQ(parse_ok("redis+sentinel://h/m?db=7").db, 7);
  EXPECT_EQ(parse_ok("redis+sentinel://h/m/").db, 0);
  EXPECT_EQ(parse_ok("REDIS+SENTINEL://h/m").sentinel->service, "m");
}

TEST(redis_sentinel_url, sentinel_credentials_come_from_the_query_percent_decoded) {
  const auto ep = parse_ok(
      "redis+sentinel://:masterpw@h/m?sentinel_username=watch%20er&sentinel_password=s%26cret");
  ASSERT_TRUE(ep.sentinel.has_value());
  EXPECT_EQ(ep.sentinel->user, "watch er");
  EXPECT_EQ(ep.sentinel->password, "s&cret");
  EXPECT_TRUE(ep.sentinel->has_password);
  EXPECT_EQ(ep.password, "masterpw");
  const auto alone = parse_ok("redis+sentinel://h/m?sentinel_password=x");
  EXPECT_TRUE(alone.sentinel->user.empty());
  EXPECT_EQ(alone.sentinel->password, "x");
}

TEST(redis_sentinel_url, bad_forms_are_invalid_configuration_saying_what_to_write) {
  for (const char* url :
       {"redis+sentinel://h", "redis+sentinel://h/", "redis+sentinel:///m",
        "redis+sentinel://h1,,h2/m", "redis+sentinel://h,/m", "redis+sentinel://h:0/m",
        "redis+sentinel://h:70000/m", "redis+sentinel://h:x/m", "redis+sentinel://::1/m",
        "redis+sentinel://[::1/m", "redis+sentinel://h/m/x", "redis+sentinel://h/m/1?db=2",
        "redis+sentinel://h/m?db=1&db=2", "redis+sentinel:h/m", "redis+sentinel://h/m%zz",
        "redis+sentinel://h/m?sentinel_username=u"}) {
    const auto f = parse_error(url);
    EXPECT_EQ(f.code, make_error_code(errc::invalid_configuration)) << url;
    EXPECT_NE(f.detail.find("redis+sentinel://"), std::string::npos) << url << ": " << f.detail;
  }
  const auto unknown = parse_error("redis+sentinel://h/m?pool=3");
  EXPECT_NE(unknown.detail.find("'pool'"), std::string::npos) << unknown.detail;
  EXPECT_NE(unknown.detail.find("sentinel_password"), std::string::npos) << unknown.detail;
}

TEST(redis_sentinel_url, tls_variant_is_refused_for_now) {
  const auto f = parse_error("rediss+sentinel://:pw@h/m");
  EXPECT_EQ(f.code, make_error_code(errc::invalid_configuration));
  EXPECT_NE(f.detail.find("rediss+sentinel://"), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find("redis+sentinel://"), std::string::npos) << f.detail;
}

TEST(redis_sentinel_url, no_message_repeats_a_password_or_sentinel_credential) {
  for (const char* url : {
           "redis+sentinel://u:hunter2@h:hunter2/m",
           "redis+sentinel://u:hunter2@h/m/hunter2",
           "redis+sentinel://h/m?sentinel_password=hunter2&hunter2=1",
           "redis+sentinel://h/m?sentinel_password=hunter2&db=hunter2",
           "redis+sentinel://h/m?sentinel_password=hunter2%zz",
           "redis+sentinel://h/m?sentinel_username=hunter2",
           "redis+sentinel://h/m?sentinel_password=hunt%65r2&x=hunter2",
           "redis+sentinel://h:hunter2/m?sentinel_password=hunter2",
           "rediss+sentinel://u:hunter2@h/m?sentinel_password=hunter2",
       }) {
    const auto f = parse_error(url);
    EXPECT_EQ(f.detail.find("hunter2"), std::string::npos) << url << ": " << f.detail;
  }
}

}  // namespace
}  // namespace cachekit::detail
