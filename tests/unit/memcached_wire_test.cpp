// The memcached backend's wire rules, each pinned to cachekit-py 0.24.1
// (backends/memcached/backend.py) and pymemcache 4.0.0 (client/base.py: check_key_helper).
#include "backends/memcached/memcached_wire.hpp"
#include "backends/memcached/memcached_outcome.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <limits>
#include <string>

namespace cachekit::detail {
namespace {

using std::chrono::seconds;

// cachekit-py: expire = min(ttl, MAX_MEMCACHED_TTL) if ttl is not None and ttl > 0 else 0.
TEST(memcached_wire, expiration_is_zero_for_no_ttl) {
  EXPECT_EQ(memcached_expiration(std::nullopt), 0);
}

TEST(memcached_wire, expiration_is_zero_for_zero_or_negative_ttl_as_cachekit_py) {
  EXPECT_EQ(memcached_expiration(seconds(0)), 0);
  EXPECT_EQ(memcached_expiration(seconds(-5)), 0);
}

TEST(memcached_wire, expiration_keeps_ttls_up_to_thirty_days) {
  EXPECT_EQ(memcached_expiration(seconds(1)), 1);
  EXPECT_EQ(memcached_expiration(seconds(600)), 600);
  EXPECT_EQ(memcached_expiration(seconds(2'592'000)), 2'592'000);
}

TEST(memcached_wire, expiration_clamps_above_thirty_days) {
  // Memcached reads a number above 30 days as a Unix time (1970 + 40 days: already expired).
  EXPECT_EQ(memcached_expiration(seconds(2'592'001)), 2'592'000);
  EXPECT_EQ(memcached_expiration(seconds(40 * 24 * 3600)), 2'592'000);
  EXPECT_EQ(memcached_expiration(seconds(std::numeric_limits<std::int64_t>::max())), 2'592'000);
}

TEST(memcached_wire, key_accepts_printable_ascii_up_to_250_bytes) {
  EXPECT_TRUE(check_memcached_key("", "a"));
  EXPECT_TRUE(check_memcached_key("", std::string(250, 'k')));
  EXPECT_TRUE(check_memcached_key("p:", std::string(248, 'k')));
  std::string every_byte;
  for (int b = 0x21; b <= 0x7E; ++b) every_byte.push_back(static_cast<char>(b));
  EXPECT_TRUE(check_memcached_key("", every_byte));
}

TEST(memcached_wire, key_counts_the_prefix_toward_250_bytes) {
  const auto r = check_memcached_key("p:", std::string(249, 'k'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::backend_permanent);
  EXPECT_EQ(r.error().detail,
            "memcached key is 251 bytes with the 2-byte key prefix; memcached allows at most "
            "250: shorten the key or hash its long parts");
}

TEST(memcached_wire, key_of_251_bytes_is_a_permanent_error_as_pymemcache_too_long) {
  const auto r = check_memcached_key("", std::string(251, 'k'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::backend_permanent);
}

TEST(memcached_wire, empty_key_without_prefix_is_rejected) {
  const auto r = check_memcached_key("", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::backend_permanent);
  // With a prefix the wire key is the prefix itself, which memcached takes.
  EXPECT_TRUE(check_memcached_key("p:", ""));
}

TEST(memcached_wire, key_error_names_the_byte_and_its_offset_but_not_the_key) {
  const auto r = check_memcached_key("app:", "user 42");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::backend_permanent);
  EXPECT_EQ(r.error().detail,
            "memcached key has byte 0x20 (space) at offset 4 (not counting the key prefix); "
            "memcached keys allow only printable ASCII 0x21-0x7E, no spaces or control "
            "characters");
  EXPECT_EQ(r.error().detail.find("user"), std::string::npos);
}

TEST(memcached_wire, key_rejects_whitespace_nul_control_del_and_non_ascii) {
  const std::string bad[] = {std::string("a\0b", 3),
                             "a\tb",
                             "a\nb",
                             "a\rb",
                             "a\x01"
                             "b",
                             "a\x7f"
                             "b",
                             "caf\xc3\xa9"};
  const std::string names[] = {"0x00 (NUL)",
                               "0x09 (tab)",
                               "0x0a (line feed)",
                               "0x0d (carriage return)",
                               "0x01 (control character)",
                               "0x7f (DEL)",
                               "0xc3 (non-ASCII)"};
  for (std::size_t i = 0; i < std::size(bad); ++i) {
    const auto r = check_memcached_key("", bad[i]);
    ASSERT_FALSE(r) << names[i];
    EXPECT_EQ(r.code(), errc::backend_permanent);
    EXPECT_NE(r.error().detail.find(names[i]), std::string::npos) << r.error().detail;
  }
}

TEST(memcached_wire, prefix_must_be_printable_and_leave_room_for_a_key) {
  EXPECT_TRUE(check_memcached_key_prefix(""));
  EXPECT_TRUE(check_memcached_key_prefix("myapp:"));
  EXPECT_TRUE(check_memcached_key_prefix(std::string(249, 'p')));
  EXPECT_EQ(check_memcached_key_prefix(std::string(250, 'p')).code(), errc::invalid_configuration);
  const auto spaced = check_memcached_key_prefix("my app:");
  ASSERT_FALSE(spaced);
  EXPECT_EQ(spaced.code(), errc::invalid_configuration);
  EXPECT_NE(spaced.error().detail.find("0x20 (space) at offset 2"), std::string::npos);
}

TEST(memcached_wire, server_entry_splits_at_the_last_colon) {
  const auto plain = parse_memcached_server("127.0.0.1:11211", 0);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 11211);
  EXPECT_EQ(plain->node_name, "127.0.0.1:11211");

  const auto v6 = parse_memcached_server("[::1]:11212", 0);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->node_name, "[::1]:11212");
}

TEST(memcached_wire, server_node_name_uses_the_port_as_a_number_like_python) {
  // cachekit-py passes (host, int(port)) to HashClient, which names the node "%s:%s".
  const auto padded = parse_memcached_server("cache.local:011211", 0);
  ASSERT_TRUE(padded);
  EXPECT_EQ(padded->port, 11211);
  EXPECT_EQ(padded->node_name, "cache.local:11211");
}

TEST(memcached_wire, server_entry_errors_name_the_index_not_the_text) {
  const auto no_port = parse_memcached_server("secret-host", 3);
  ASSERT_FALSE(no_port);
  EXPECT_EQ(no_port.code(), errc::invalid_configuration);
  EXPECT_EQ(no_port.error().detail,
            "memcached_options::servers[3]: address must be in 'host:port' format, e.g. "
            "\"127.0.0.1:11211\"");
  EXPECT_EQ(parse_memcached_server("h:abc", 0).error().detail,
            "memcached_options::servers[0]: port must be numeric");
  EXPECT_EQ(parse_memcached_server("h:0", 0).error().detail,
            "memcached_options::servers[0]: port must be 1-65535");
  EXPECT_EQ(parse_memcached_server("h:65536", 0).error().detail,
            "memcached_options::servers[0]: port must be 1-65535");
  EXPECT_EQ(parse_memcached_server("h:", 0).error().detail,
            "memcached_options::servers[0]: port must be numeric");
  EXPECT_EQ(parse_memcached_server(":11211", 0).error().detail,
            "memcached_options::servers[0]: the host before ':' is empty");
}

// cachekit-py's classify_memcached_error: timeout -> timeout; closed/server/OSError ->
// transient; illegal input / client error -> permanent.
TEST(memcached_wire, return_codes_classify_as_cachekit_py_does) {
  const auto classify = [](memcached_return_t rc, int saved_errno = 0) {
    return errc_of(classify_memcached_return(rc, false, saved_errno));
  };
  EXPECT_EQ(classify(MEMCACHED_TIMEOUT), errc::timeout);
  EXPECT_EQ(classify(MEMCACHED_ERRNO, ETIMEDOUT), errc::timeout);
  EXPECT_EQ(classify(MEMCACHED_CONNECTION_FAILURE), errc::transient);
  EXPECT_EQ(classify(MEMCACHED_ERRNO, ECONNRESET), errc::transient);
  EXPECT_EQ(classify(MEMCACHED_WRITE_FAILURE), errc::transient);
  EXPECT_EQ(classify(MEMCACHED_READ_FAILURE), errc::transient);
  EXPECT_EQ(classify(MEMCACHED_HOST_LOOKUP_FAILURE), errc::transient);
  EXPECT_EQ(classify(MEMCACHED_SERVER_ERROR), errc::transient);
  EXPECT_EQ(classify(MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE), errc::transient);
  EXPECT_EQ(classify(MEMCACHED_SERVER_TEMPORARILY_DISABLED), errc::transient);
  EXPECT_EQ(classify(MEMCACHED_PROTOCOL_ERROR), errc::transient);
  EXPECT_EQ(classify(MEMCACHED_CONNECTION_SOCKET_CREATE_FAILURE, EMFILE), errc::transient);
  EXPECT_EQ(classify(MEMCACHED_ERROR), errc::backend_permanent);  // the server's "ERROR"
  EXPECT_EQ(classify(MEMCACHED_E2BIG), errc::backend_permanent);
  EXPECT_EQ(classify(MEMCACHED_CLIENT_ERROR), errc::backend_permanent);
  EXPECT_EQ(classify(MEMCACHED_BAD_KEY_PROVIDED), errc::backend_permanent);
  EXPECT_EQ(classify(MEMCACHED_KEY_TOO_BIG), errc::backend_permanent);
  EXPECT_EQ(classify(MEMCACHED_AUTH_FAILURE), errc::backend_authentication);
  EXPECT_EQ(classify(MEMCACHED_AUTH_PROBLEM), errc::backend_authentication);
}

TEST(memcached_wire, only_timeouts_and_unreachable_servers_count_as_server_failures) {
  EXPECT_TRUE(counts_as_server_failure(memcached_outcome::timeout));
  EXPECT_TRUE(counts_as_server_failure(memcached_outcome::unreachable));
  EXPECT_FALSE(counts_as_server_failure(memcached_outcome::rejected));
  EXPECT_FALSE(counts_as_server_failure(memcached_outcome::server_error));
  EXPECT_EQ(classify_memcached_return(MEMCACHED_NOTFOUND, true, 0), memcached_outcome::answer);
}

}  // namespace
}  // namespace cachekit::detail
