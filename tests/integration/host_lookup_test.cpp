// Host name resolution of the network backends is bounded by their connect timeout
// (backends/host_lookup.hpp). The resolver faults are real: a forked child gets its own user,
// mount and network namespaces, bind-mounts its own /etc/nsswitch.conf and /etc/resolv.conf,
// and its "DNS server" is a UDP socket on 127.0.0.1:53 that reads nothing and never answers.
// Where unprivileged namespaces are refused, those tests skip.
#include "backends/host_lookup.hpp"
#include "backends/redis/redis_connection.hpp"
#include "backends/redis/redis_url.hpp"
#include "support/forked_child.hpp"
#include "support/local_server.hpp"
#include "support/private_namespaces.hpp"

#include <cachekit/memcached_backend.hpp>
#include <cachekit/redis_backend.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using testing::namespaces_unavailable;

constexpr auto default_timeout = 200ms;      // redis_options / memcached_options connect_timeout
constexpr auto bound = 5 * default_timeout;  // generous: a bound, not a performance figure
constexpr const char* hung_name = "cache.hung-resolver.cachekit-test.example";

// A scratch directory for the files the child bind-mounts; removed with the test.
class scratch_dir {
 public:
  scratch_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cachekit-dns-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~scratch_dir() { std::filesystem::remove_all(path_); }
  [[nodiscard]] std::string file(const char* name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void report(int fd, const std::string& text) {
  (void)testing::write_all(fd, text.data(), text.size());
}

long long elapsed_ms(steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - since).count();
}

// Runs `body(out, dns_fd)` in a child whose host names resolve through /etc/hosts and then a
// name server that never answers (`dns_fd`, bound to 127.0.0.1:53). With `hosts_only`, the
// child resolves through /etc/hosts alone (no DNS at all): a name not there does not exist.
testing::child_outcome with_isolated_resolver(bool hosts_only,
                                              const std::function<int(int, int)>& body,
                                              const std::string& extra_hosts = {}) {
  scratch_dir scratch;
  testing::forked_child child([&](int out) {
    if (!testing::enter_private_namespaces(/*with_network=*/true)) return namespaces_unavailable;
    const int dns = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(53);
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (dns < 0 || ::bind(dns, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
      return namespaces_unavailable;
    }
    // timeout:3 attempts:1: unbounded, getaddrinfo would wait 3 s per name server.
    if (!testing::bind_text_over(scratch.file("resolv.conf"), "/etc/resolv.conf",
                                 "nameserver 127.0.0.1\noptions timeout:3 attempts:1\n") ||
        !testing::bind_text_over(scratch.file("nsswitch.conf"), "/etc/nsswitch.conf",
                                 hosts_only ? "hosts: files\n" : "hosts: files dns\n")) {
      return namespaces_unavailable;
    }
    if (!extra_hosts.empty() && !testing::bind_text_over(scratch.file("hosts"), "/etc/hosts",
                                                         "127.0.0.1 localhost\n" + extra_hosts)) {
      return namespaces_unavailable;
    }
    return body(out, dns);
  });
  return child.finish(30s);
}

void skip_or_expect_success(const testing::child_outcome& outcome) {
  if (outcome.exit_code == namespaces_unavailable) {
    GTEST_SKIP() << "no private resolver to break: unshare, mount or a bind to port 53 was "
                    "refused (no unprivileged user namespaces here, or a sanitizer runtime "
                    "left the child with threads)";
  }
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// True when the fake name server received a query: the resolver really was waiting on it.
bool dns_was_asked(int dns) {
  char packet[512];
  return ::recv(dns, packet, sizeof packet, MSG_DONTWAIT) > 0;
}

TEST(host_lookup, a_numeric_address_is_returned_as_is) {
  EXPECT_EQ(detail::numeric_host("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(detail::numeric_host("::1"), "::1");
  EXPECT_EQ(detail::numeric_host("localhost"), std::nullopt);
  const auto addresses = detail::lookup_host("10.1.2.3", 1ms, "test_timeout");
  ASSERT_TRUE(addresses.has_value()) << addresses.error().message();
  EXPECT_EQ(*addresses, std::vector<std::string>{"10.1.2.3"});
}

TEST(host_lookup, localhost_resolves_to_a_loopback_address) {
  const auto addresses = detail::lookup_host("localhost", default_timeout, "test_timeout");
  ASSERT_TRUE(addresses.has_value()) << addresses.error().message();
  ASSERT_FALSE(addresses->empty());
  for (const auto& a : *addresses) EXPECT_TRUE(a == "127.0.0.1" || a == "::1") << a;
}

TEST(host_lookup, redis_backend_connects_to_localhost_by_name) {
  auto server = testing::local_server::start_redis();
  redis_backend redis({.url = "redis://localhost:" + std::to_string(server->port()) + "/0"});
  ASSERT_TRUE(redis.set("k", as_byte_view("v"), std::nullopt));
  const auto got = redis.get("k");
  ASSERT_TRUE(got.has_value()) << got.error().message();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(as_string_view(**got), "v");
  EXPECT_EQ(redis.pool_stats().connects, 1u);
}

TEST(host_lookup, memcached_backend_connects_to_localhost_by_name) {
  auto server = testing::local_server::start_memcached();
  memcached_backend mc({.servers = {"localhost:" + std::to_string(server->port())}});
  ASSERT_TRUE(mc.set("k", as_byte_view("v"), std::nullopt));
  const auto got = mc.get("k");
  ASSERT_TRUE(got.has_value()) << got.error().message();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(as_string_view(**got), "v");
}

TEST(host_lookup, an_unknown_name_fails_at_once_as_transient_and_names_the_host) {
  const auto outcome = with_isolated_resolver(/*hosts_only=*/true, [](int out, int) {
    const auto start = steady_clock::now();
    redis_backend redis({.url = "redis://no-such-host.cachekit-test.example:6379/0"});
    const auto got = redis.get("k");
    const auto ms = elapsed_ms(start);
    report(out, "elapsed " + std::to_string(ms) + " ms; ");
    if (got.has_value()) return 1;
    report(out, got.error().message());
    if (got.code() != errc::transient) return 2;
    const auto& detail = got.error().detail;
    if (detail.find("redis GET on no-such-host.cachekit-test.example:6379/0: host name "
                    "\"no-such-host.cachekit-test.example\" does not resolve") != 0) {
      return 3;
    }
    return ms < std::chrono::milliseconds(bound).count() ? 0 : 4;
  });
  skip_or_expect_success(outcome);
}

TEST(host_lookup, a_dns_server_that_never_answers_costs_redis_its_connect_timeout_not_more) {
  const auto outcome = with_isolated_resolver(/*hosts_only=*/false, [](int out, int dns) {
    redis_backend redis({.url = std::string("redis://") + hung_name + ":6379/0"});
    const auto start = steady_clock::now();
    const auto got = redis.get("k");
    const auto ms = elapsed_ms(start);
    report(out, "elapsed " + std::to_string(ms) + " ms; ");
    if (got.has_value()) return 1;
    report(out, got.error().message());
    if (got.code() != errc::timeout) return 2;
    if (got.error().detail.find("within 200 ms (redis_options::connect_timeout)") ==
        std::string::npos) {
      return 3;
    }
    if (!dns_was_asked(dns)) return 4;  // the wait was on our silent server, not elsewhere
    if (ms >= std::chrono::milliseconds(bound).count()) return 5;
    // The next operation is bounded the same way while the first lookup is still stuck.
    const auto again_start = steady_clock::now();
    const auto again = redis.get("k");
    const auto again_ms = elapsed_ms(again_start);
    report(out, "; second: " + std::to_string(again_ms) + " ms");
    if (again.has_value() || again.code() != errc::timeout) return 6;
    return again_ms < std::chrono::milliseconds(bound).count() ? 0 : 7;
  });
  std::cout << "[ hung resolver, redis ] " << outcome.output << "\n";
  skip_or_expect_success(outcome);
}

TEST(host_lookup, a_dns_server_that_never_answers_costs_memcached_its_connect_timeout_not_more) {
  const auto outcome = with_isolated_resolver(/*hosts_only=*/false, [](int out, int dns) {
    memcached_backend mc({.servers = {std::string(hung_name) + ":11211"}});
    const auto start = steady_clock::now();
    const auto got = mc.get("k");
    const auto ms = elapsed_ms(start);
    report(out, "elapsed " + std::to_string(ms) + " ms; ");
    if (got.has_value()) return 1;
    report(out, got.error().message());
    if (got.code() != errc::timeout) return 2;
    if (got.error().detail.find("within 200 ms (memcached_options::connect_timeout)") ==
        std::string::npos) {
      return 3;
    }
    if (!dns_was_asked(dns)) return 4;
    return ms < std::chrono::milliseconds(bound).count() ? 0 : 5;
  });
  std::cout << "[ hung resolver, memcached ] " << outcome.output << "\n";
  skip_or_expect_success(outcome);
}

TEST(host_lookup, an_unknown_memcached_host_fails_at_once_as_transient) {
  const auto outcome = with_isolated_resolver(/*hosts_only=*/true, [](int out, int) {
    const auto start = steady_clock::now();
    memcached_backend mc({.servers = {"no-such-host.cachekit-test.example:11211"}});
    const auto got = mc.get("k");
    const auto ms = elapsed_ms(start);
    report(out, "elapsed " + std::to_string(ms) + " ms; ");
    if (got.has_value()) return 1;
    report(out, got.error().message());
    if (got.code() != errc::transient) return 2;
    if (got.error().detail.find("memcached server no-such-host.cachekit-test.example:11211: "
                                "host name \"no-such-host.cachekit-test.example\" does not "
                                "resolve") != 0) {
      return 3;
    }
    return ms < std::chrono::milliseconds(bound).count() ? 0 : 4;
  });
  skip_or_expect_success(outcome);
}

// The lookups a parent abandoned do not exist in its forked child: the child starts with none
// running, and its own lookups work (no resolver state of the parent's is inherited).
TEST(host_lookup, a_forked_child_resolves_while_its_parents_lookups_hang) {
  if (CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED) {
    GTEST_SKIP() << "forks while lookup threads run; this sanitizer cannot follow such a fork";
  }
  const auto outcome = with_isolated_resolver(/*hosts_only=*/false, [](int out, int) {
    for (int i = 0; i < 2; ++i) {
      const auto hung = detail::lookup_host(hung_name, 50ms, "test_timeout");
      if (hung || hung.code() != errc::timeout) return 1;
    }
    if (detail::running_lookups() != 2) return 2;  // both still waiting on the silent server
    testing::forked_child grandchild([](int inner) {
      if (detail::running_lookups() != 0) return 1;
      const auto local = detail::lookup_host("localhost", default_timeout, "test_timeout");
      if (!local) {
        report(inner, local.error().message());
        return 2;
      }
      const auto start = steady_clock::now();
      const auto hung = detail::lookup_host(hung_name, default_timeout, "test_timeout");
      if (hung || hung.code() != errc::timeout) return 3;
      return elapsed_ms(start) < std::chrono::milliseconds(bound).count() ? 0 : 4;
    });
    const auto result = grandchild.finish(10s);
    report(out, result.output);
    return result.exit_code == 0 ? 0 : 10 + result.exit_code;
  });
  skip_or_expect_success(outcome);
}

TEST(host_lookup, ipv4_addresses_come_first_as_hiredis_resolves) {
  const auto outcome = with_isolated_resolver(
      /*hosts_only=*/true,
      [](int out, int) {
        const auto got = detail::lookup_host("dual.cachekit-test.example", default_timeout, "t");
        if (!got) {
          report(out, got.error().message());
          return 1;
        }
        for (const auto& a : *got) report(out, a + " ");
        return *got == std::vector<std::string>{"127.0.0.1", "::1"} ? 0 : 2;
      },
      "::1 dual.cachekit-test.example\n127.0.0.1 dual.cachekit-test.example\n");
  skip_or_expect_success(outcome);
}

// A name with two addresses, the first refusing connections: redis_connection moves on to the
// second within connect_timeout. The "server" is a listening socket on 127.0.0.2 (no AUTH or
// SELECT is sent for db 0 without a password, so a TCP accept is the whole connect).
TEST(host_lookup, redis_tries_the_next_address_when_the_first_refuses) {
  const auto outcome = with_isolated_resolver(
      /*hosts_only=*/true,
      [](int out, int) {
        const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int refuser = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in at{};
        at.sin_family = AF_INET;
        at.sin_addr.s_addr = htonl(0x7f000002);  // 127.0.0.2, port chosen by the kernel
        socklen_t length = sizeof at;
        if (::bind(listener, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 ||
            ::listen(listener, 4) != 0 ||
            ::getsockname(listener, reinterpret_cast<sockaddr*>(&at), &length) != 0) {
          return namespaces_unavailable;
        }
        // 127.0.0.1 on the same port: bound but not listening, so a connect is refused.
        sockaddr_in refused = at;
        refused.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(refuser, reinterpret_cast<const sockaddr*>(&refused), sizeof refused) != 0) {
          return namespaces_unavailable;
        }
        const int port = ntohs(at.sin_port);
        auto endpoint = detail::parse_redis_url(
            "redis://two.cachekit-test.example:" + std::to_string(port) + "/0");
        if (!endpoint) return 1;
        detail::redis_connect_settings settings{.endpoint = *endpoint,
                                                .where = endpoint->describe(),
                                                .connect_timeout = default_timeout,
                                                .command_timeout = default_timeout};
        // The refusing address comes first, so a connection proves the second was tried.
        const auto order = detail::lookup_host("two.cachekit-test.example", default_timeout, "t");
        if (!order || order->size() != 2 || order->front() != "127.0.0.1") return 4;
        const auto start = steady_clock::now();
        auto connection = detail::redis_connection::open(settings, "test");
        report(out, "elapsed " + std::to_string(elapsed_ms(start)) + " ms");
        if (!connection) {
          report(out, "; " + connection.error().message());
          return 2;
        }
        sockaddr_in peer{};
        socklen_t peer_length = sizeof peer;
        const int accepted = ::accept(listener, reinterpret_cast<sockaddr*>(&peer), &peer_length);
        return accepted >= 0 ? 0 : 3;  // the connection reached 127.0.0.2
      },
      "127.0.0.1 two.cachekit-test.example\n127.0.0.2 two.cachekit-test.example\n");
  skip_or_expect_success(outcome);
}

// A lookup that outlives its caller's budget is abandoned, not leaked: its thread finishes on its
// own and the count of running lookups returns to zero. (Needs no private resolver: a zero
// budget abandons even a lookup of "localhost".)
TEST(host_lookup, a_lookup_past_its_budget_is_abandoned_and_its_thread_finishes) {
  int timed_out = 0;
  for (int i = 0; i < 16; ++i) {
    const auto got = detail::lookup_host("localhost", 0ms, "test_timeout");
    if (!got) {
      EXPECT_EQ(got.code(), errc::timeout) << got.error().message();
      EXPECT_NE(got.error().detail.find("within 0 ms (test_timeout)"), std::string::npos);
      ++timed_out;
    }
  }
  // Usually most time out; a scheduler may also run a lookup thread to completion before its
  // caller waits (seen under TSan), so the count is reported, not asserted.
  std::cout << "[ zero budget ] " << timed_out << " of 16 lookups abandoned\n";
  const auto deadline = steady_clock::now() + 5s;
  while (detail::running_lookups() != 0 && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(detail::running_lookups(), 0u);
}

}  // namespace
}  // namespace cachekit
