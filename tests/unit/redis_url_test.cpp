// The Redis URL grammar, the tenant key prefix (Python's urllib.parse.quote(s, safe="")) and the
// error classification table. No server: these are pure functions.
#include "backends/redis/redis_url.hpp"
#include "backends/redis/redis_error.hpp"
#include "backends/redis/redis_key_layout.hpp"

#include <cachekit/redis_backend.hpp>

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace cachekit::detail {
namespace {

using transport = redis_endpoint::transport;

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

TEST(redis_url, full_form_gives_user_password_host_port_and_db) {
  const auto ep = parse_ok("redis://alice:s3cret@cache.internal:6380/2");
  EXPECT_EQ(ep.kind, transport::tcp);
  EXPECT_EQ(ep.user, "alice");
  EXPECT_EQ(ep.password, "s3cret");
  EXPECT_TRUE(ep.has_password);
  EXPECT_EQ(ep.host, "cache.internal");
  EXPECT_EQ(ep.port, 6380);
  EXPECT_EQ(ep.db, 2);
  EXPECT_EQ(ep.describe(), "cache.internal:6380/2");
}

TEST(redis_url, defaults_are_port_6379_and_db_0) {
  const auto ep = parse_ok("redis://127.0.0.1");
  EXPECT_EQ(ep.host, "127.0.0.1");
  EXPECT_EQ(ep.port, 6379);
  EXPECT_EQ(ep.db, 0);
  EXPECT_TRUE(ep.user.empty());
  EXPECT_FALSE(ep.has_password);
  EXPECT_EQ(parse_ok("redis://h/").db, 0);
  EXPECT_EQ(parse_ok("redis://h:1234").port, 1234);
}

TEST(redis_url, empty_host_is_localhost) {
  const auto ep = parse_ok("redis://");
  EXPECT_EQ(ep.host, "localhost");
  EXPECT_EQ(ep.port, 6379);
  EXPECT_EQ(parse_ok("redis://:pw@:7000/3").host, "localhost");
}

TEST(redis_url, password_alone_authenticates_the_default_user) {
  const auto ep = parse_ok("redis://:secret@host");
  EXPECT_TRUE(ep.user.empty());
  EXPECT_EQ(ep.password, "secret");
  EXPECT_TRUE(ep.has_password);
}

TEST(redis_url, user_and_password_are_percent_decoded) {
  const auto ep = parse_ok("redis://us%65r:p%40ss%3Aw%2Frd%25@host/0");
  EXPECT_EQ(ep.user, "user");
  EXPECT_EQ(ep.password, "p@ss:w/rd%");
  // The last '@' ends the credentials, so a raw '@' in a password also works.
  EXPECT_EQ(parse_ok("redis://:a@b@host").password, "a@b");
}

TEST(redis_url, ipv6_literal_in_brackets) {
  const auto ep = parse_ok("redis://[::1]:6390/1");
  EXPECT_EQ(ep.host, "::1");
  EXPECT_EQ(ep.port, 6390);
  EXPECT_EQ(ep.db, 1);
  EXPECT_EQ(ep.describe(), "[::1]:6390/1");
  EXPECT_EQ(parse_ok("redis://[::1]").port, 6379);
}

TEST(redis_url, db_query_parameter) {
  EXPECT_EQ(parse_ok("redis://host?db=5").db, 5);
  EXPECT_EQ(parse_ok("redis://host/?db=5").db, 5);
  EXPECT_EQ(parse_error("redis://host/1?db=5").code, errc::invalid_configuration);
}

TEST(redis_url, scheme_is_case_insensitive) {
  EXPECT_EQ(parse_ok("REDIS://h:1/0").port, 1);
}

TEST(redis_url, unix_socket_forms) {
  auto ep = parse_ok("unix:///var/run/redis.sock?db=3");
  EXPECT_EQ(ep.kind, transport::unix_socket);
  EXPECT_EQ(ep.socket_path, "/var/run/redis.sock");
  EXPECT_EQ(ep.db, 3);
  EXPECT_EQ(ep.describe(), "unix:/var/run/redis.sock?db=3");

  ep = parse_ok("unix://relative/redis.sock");
  EXPECT_EQ(ep.socket_path, "relative/redis.sock");
  EXPECT_EQ(ep.db, 0);

  ep = parse_ok("unix:/tmp/r.sock");
  EXPECT_EQ(ep.socket_path, "/tmp/r.sock");

  ep = parse_ok("unix://:pw@/tmp/r.sock");
  EXPECT_EQ(ep.password, "pw");
  EXPECT_EQ(ep.socket_path, "/tmp/r.sock");

  ep = parse_ok("unix:///tmp/with%20space.sock");
  EXPECT_EQ(ep.socket_path, "/tmp/with space.sock");
}

TEST(redis_url, rediss_takes_the_redis_forms_over_tls_with_verification_on) {
  const auto ep = parse_ok("rediss://:pw@cache.internal:6380/2");
  EXPECT_EQ(ep.kind, transport::tcp);
  EXPECT_EQ(ep.host, "cache.internal");
  EXPECT_EQ(ep.port, 6380);
  EXPECT_EQ(ep.db, 2);
  EXPECT_EQ(ep.password, "pw");
  ASSERT_TRUE(ep.tls.has_value());
  EXPECT_TRUE(ep.tls->verify_peer);
  EXPECT_TRUE(ep.tls->verify_hostname);
  EXPECT_TRUE(ep.tls->ca_file.empty());  // the system trust store
  EXPECT_EQ(ep.describe(), "cache.internal:6380/2 (tls)");
  EXPECT_EQ(parse_ok("rediss://h").port, 6379);
  EXPECT_EQ(parse_ok("REDISS://[::1]/1").describe(), "[::1]:6379/1 (tls)");
  EXPECT_FALSE(parse_ok("redis://h").tls.has_value());
  EXPECT_EQ(parse_ok("redis://h").describe(), "h:6379/0");
}

TEST(redis_url, rediss_reads_redis_py_ssl_parameters) {
  const auto ep = parse_ok(
      "rediss://h?ssl_ca_certs=/etc/ca%20bundle.pem&ssl_ca_path=/etc/certs&ssl_certfile=/c.pem&"
      "ssl_keyfile=/k.pem&db=3");
  ASSERT_TRUE(ep.tls.has_value());
  EXPECT_EQ(ep.db, 3);
  EXPECT_EQ(ep.tls->ca_file, "/etc/ca bundle.pem");
  EXPECT_EQ(ep.tls->ca_path, "/etc/certs");
  EXPECT_EQ(ep.tls->cert_file, "/c.pem");
  EXPECT_EQ(ep.tls->key_file, "/k.pem");

  auto none = parse_ok("rediss://h?ssl_cert_reqs=none").tls.value();
  EXPECT_FALSE(none.verify_peer);
  EXPECT_FALSE(none.verify_hostname);
  // "optional" verifies the chain (a server always sends one) but not, by default, the name,
  // as redis-py's default for anything but "required".
  auto optional = parse_ok("rediss://h?ssl_cert_reqs=optional").tls.value();
  EXPECT_TRUE(optional.verify_peer);
  EXPECT_FALSE(optional.verify_hostname);
  EXPECT_TRUE(
      parse_ok("rediss://h?ssl_cert_reqs=optional&ssl_check_hostname=true").tls->verify_hostname);
  auto required =
      parse_ok("rediss://h?ssl_cert_reqs=REQUIRED&ssl_check_hostname=false").tls.value();
  EXPECT_TRUE(required.verify_peer);
  EXPECT_FALSE(required.verify_hostname);
  EXPECT_TRUE(parse_ok("rediss://h?ssl_check_hostname=True").tls->verify_hostname);
}

TEST(redis_url, tls_parameters_are_refused_where_they_cannot_apply) {
  // On redis:// the message says to write rediss://.
  auto f = parse_error("redis://h?ssl_ca_certs=/ca.pem");
  EXPECT_EQ(f.code, errc::invalid_configuration);
  EXPECT_NE(f.detail.find("rediss://"), std::string::npos) << f.detail;
  EXPECT_EQ(parse_error("unix:///s.sock?ssl_cert_reqs=none").code, errc::invalid_configuration);
  // An ssl_* name cachekit does not know: the message lists the ones it does.
  f = parse_error("rediss://h?ssl_password=x");
  EXPECT_EQ(f.code, errc::invalid_configuration);
  EXPECT_NE(f.detail.find("ssl_password"), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find("ssl_ca_certs=<file>"), std::string::npos) << f.detail;
  for (const char* url :
       {"rediss://h?ssl_cert_reqs=maybe", "rediss://h?ssl_check_hostname=perhaps",
        "rediss://h?ssl_ca_certs=", "rediss://h?ssl_cert_reqs=none&ssl_check_hostname=true",
        "rediss:h", "rediss://h?ssl_certfile=%zz"}) {
    EXPECT_EQ(parse_error(url).code, errc::invalid_configuration) << url;
  }
}

TEST(redis_url, malformed_urls_are_configuration_errors) {
  for (const char* url :
       {"localhost:6379", "http://host", "redis:host", "redis://host:abc", "redis://host:0",
        "redis://host:70000", "redis://host/x", "redis://host/1/2", "redis://host/-1",
        "redis://::1:6379", "redis://[::1", "redis://host#frag", "redis://host?timeout=5",
        "unix://", "unix:///?db=1", "redis://:p%zz@host", "redis://host?db=x"}) {
    EXPECT_EQ(parse_error(url).code, errc::invalid_configuration) << url;
  }
}

TEST(redis_url, user_without_password_is_rejected_without_quoting_it) {
  // `redis://secret@host` is usually a password written in the user's place.
  const auto f = parse_error("redis://hunter2@host");
  EXPECT_EQ(f.code, errc::invalid_configuration);
  EXPECT_EQ(f.detail.find("hunter2"), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find("redis://:password@host"), std::string::npos) << f.detail;
}

TEST(redis_url, no_error_message_contains_the_password) {
  for (const char* url :
       {"redis://u:hunter2@host:notaport/0", "redis://u:hunter2@host/db9x", "hunter2:hunter2@host",
        "redis://u:hunter2%zz@host", "redis://u:hunter2@host?hunter2=1",
        "rediss://u:hunter2@host?ssl_x=1", "redis://u:hunter2@[::1"}) {
    const auto f = parse_error(url);
    EXPECT_EQ(f.message().find("hunter2"), std::string::npos) << url << " -> " << f.message();
  }
}

TEST(redis_url, no_fragment_of_a_password_split_by_an_unescaped_slash_is_quoted) {
  // The '/' ends the authority early, so the parser reads "hun" as the port and "ter2@host" as
  // the path; neither may appear in the message.
  for (const char* url :
       {"redis://:hun/ter2@host", "redis://u:hun/ter2@host:6379/0", "redis://:hunter2?x/@host"}) {
    const auto f = parse_error(url);
    EXPECT_EQ(f.message().find("hun"), std::string::npos) << url << " -> " << f.message();
    EXPECT_EQ(f.message().find("ter2"), std::string::npos) << url << " -> " << f.message();
  }
}

TEST(redis_url, percent_decode_rejects_truncated_escapes) {
  std::string out;
  EXPECT_TRUE(percent_decode("a%2fb%2F+", out));
  EXPECT_EQ(out, "a/b/+");
  EXPECT_FALSE(percent_decode("%", out));
  EXPECT_FALSE(percent_decode("%4", out));
  EXPECT_FALSE(percent_decode("%g0", out));
}

// Expected strings produced by CPython 3.11: urllib.parse.quote(s, safe="").
TEST(redis_key_layout, url_quote_matches_python_quote_with_nothing_safe) {
  EXPECT_EQ(url_quote("default"), "default");
  EXPECT_EQ(url_quote("a b/c"), "a%20b%2Fc");
  EXPECT_EQ(url_quote("org:123"), "org%3A123");
  EXPECT_EQ(url_quote("tenant/with:special@chars"), "tenant%2Fwith%3Aspecial%40chars");
  EXPECT_EQ(url_quote("\xC3\xA9"), "%C3%A9");  // "é" as UTF-8
  EXPECT_EQ(url_quote("~_.-AZaz09"), "~_.-AZaz09");
  EXPECT_EQ(url_quote(std::string_view("%+=&?#\0\x7f", 8)), "%25%2B%3D%26%3F%23%00%7F");
  EXPECT_EQ(url_quote("\xff"), "%FF");
  EXPECT_EQ(url_quote(""), "");
}

TEST(redis_key_layout, tenant_prefix_is_t_quoted_tenant_colon) {
  EXPECT_EQ(tenant_key_prefix("default"), "t:default:");
  EXPECT_EQ(tenant_key_prefix("a b/c"), "t:a%20b%2Fc:");
  const redis_key_layout_rules scoped(tenant_key_prefix("org:123"));
  EXPECT_EQ(scoped.wire_key("user:456"), "t:org%3A123:user:456");
  EXPECT_EQ(scoped.lock_key("user:456"), "t:org%3A123:user:456:lock");
  const redis_key_layout_rules plain{std::string{}};
  EXPECT_TRUE(plain.is_plain());
  EXPECT_EQ(plain.lock_key("k"), "k:lock");
}

TEST(redis_error, error_replies_are_classified_by_their_first_word) {
  EXPECT_EQ(classify_error_reply("NOAUTH Authentication required."), errc::backend_authentication);
  EXPECT_EQ(classify_error_reply("WRONGPASS invalid username-password pair"),
            errc::backend_authentication);
  EXPECT_EQ(classify_error_reply("NOPERM this user has no permissions"),
            errc::backend_authentication);
  EXPECT_EQ(classify_error_reply("ERR invalid password"), errc::backend_authentication);
  for (const char* word :
       {"LOADING Redis is loading the dataset in memory",
        "READONLY You can't write against a read only replica.",
        "BUSY Redis is busy running a script.", "CLUSTERDOWN The cluster is down",
        "MASTERDOWN Link with MASTER is down", "TRYAGAIN Multiple keys request"}) {
    EXPECT_EQ(classify_error_reply(word), errc::transient) << word;
  }
  EXPECT_EQ(classify_error_reply("WRONGTYPE Operation against a key"), errc::backend_permanent);
  EXPECT_EQ(classify_error_reply("ERR value is not an integer"), errc::backend_permanent);
  EXPECT_EQ(classify_error_reply("BUSYKEY Target key name already exists."),
            errc::backend_permanent);
  EXPECT_EQ(classify_error_reply("MOVED 3999 127.0.0.1:6381"), errc::backend_permanent);
}

TEST(redis_error, io_errors_are_timeouts_only_when_the_clock_ran_out) {
  EXPECT_EQ(classify_io_error({REDIS_ERR_IO, EAGAIN, "Resource temporarily unavailable"}),
            errc::timeout);
  EXPECT_EQ(classify_io_error({REDIS_ERR_IO, ETIMEDOUT, "Connection timed out"}), errc::timeout);
  EXPECT_EQ(classify_io_error({REDIS_ERR_IO, ECONNREFUSED, "Connection refused"}), errc::transient);
  EXPECT_EQ(classify_io_error({REDIS_ERR_IO, ECONNRESET, "Connection reset by peer"}),
            errc::transient);
  EXPECT_EQ(classify_io_error({REDIS_ERR_EOF, 0, "Server closed the connection"}), errc::transient);
  EXPECT_EQ(classify_io_error({REDIS_ERR_PROTOCOL, 0, "Protocol error"}), errc::backend_permanent);
}

TEST(redis_backend_options, bad_options_throw_invalid_configuration_at_construction) {
  auto code_of = [](redis_options options) {
    try {
      redis_backend b(std::move(options));
    } catch (const cachekit::error& e) {
      return e.code();
    }
    return std::error_code{};
  };
  const std::error_code config = errc::invalid_configuration;
  EXPECT_EQ(code_of({.url = "rediss://h?ssl_bogus=1"}), config);
  EXPECT_EQ(code_of({.url = "redis://h", .tls = redis_tls_options{}}), config);
  EXPECT_EQ(code_of({.url = "rediss://h?ssl_ca_certs=/nonexistent/ca.pem"}), config);
  EXPECT_EQ(code_of({.url = "rediss://h"}), std::error_code{});  // the system trust store
  EXPECT_EQ(code_of({.url = "redis://h", .pool_size = 0}), config);
  EXPECT_EQ(code_of({.url = "redis://h", .command_timeout = std::chrono::milliseconds(0)}), config);
  EXPECT_EQ(code_of({.url = "redis://h", .tenant = "acme"}), config);
  EXPECT_EQ(
      code_of(
          {.url = "redis://h", .key_layout = redis_key_layout::tenant_scoped, .tenant = "acme"}),
      std::error_code{});
}

TEST(redis_backend_options, key_prefix_follows_the_layout_without_connecting) {
  // Port 1 on loopback: nothing listens, and nothing is dialled at construction.
  redis_backend plain({.url = "redis://127.0.0.1:1/0"});
  EXPECT_EQ(plain.key_prefix(), "");
  redis_backend scoped(
      {.url = "redis://127.0.0.1:1/0", .key_layout = redis_key_layout::tenant_scoped});
  EXPECT_EQ(scoped.key_prefix(), "t:default:");
  redis_backend quoted({.url = "redis://127.0.0.1:1/0",
                        .key_layout = redis_key_layout::tenant_scoped,
                        .tenant = "a b/c"});
  EXPECT_EQ(quoted.key_prefix(), "t:a%20b%2Fc:");
  EXPECT_EQ(quoted.type(), "redis");
  EXPECT_EQ(quoted.pool_stats().connects, 0u);
}

}  // namespace
}  // namespace cachekit::detail
