// cachekit::prometheus over real HTTP: a prometheus-cpp Exposer on a free loopback port serves
// the registry, the test scrapes /metrics with a plain socket and checks the figures after known
// calls, by cachekit-py's metric names, labels and buckets.
#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>
#include <cachekit/prometheus.hpp>

#include "support/faulty_backend.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

// GET http://127.0.0.1:{port}/metrics; the body.
std::string scrape(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    (void)::send(fd, request.data(), request.size(), 0);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
      response.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  const auto body = response.find("\r\n\r\n");
  EXPECT_NE(response.find("200 OK"), std::string::npos) << response.substr(0, 200);
  return body == std::string::npos ? std::string() : response.substr(body + 4);
}

// The value of the sample whose line starts with `series` exactly (name and labels).
std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + ' ', 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

struct metrics_scrape_test : ::testing::Test {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Exposer exposer{"127.0.0.1:0"};
  int port = 0;
  void SetUp() override {
    exposer.RegisterCollectable(registry);
    ASSERT_EQ(exposer.GetListeningPorts().size(), 1u);
    port = exposer.GetListeningPorts().front();
  }
};

TEST_F(metrics_scrape_test, hits_and_writes_are_cachekit_py_series_with_its_buckets) {
  auto l2 = std::make_shared<memory_backend>();
  {  // another process wrote the entry of 7
    cache writer(cache_options{.l2 = l2});
    auto w = writer.memoize("tests.metrics.square", [](std::int64_t n) { return n * n; });
    EXPECT_EQ(w(7), 49);
  }
  cache_options options = cache_options::for_intent(intent::production);
  options.l2 = l2;
  options.observers.push_back(std::make_shared<prometheus_observer>(registry));
  cache c(std::move(options));
  auto square =
      c.memoize("tests.metrics.square", [](std::int64_t n) { return n * n; }, {.ns = "users"});
  auto plain = c.memoize("tests.metrics.square", [](std::int64_t n) { return n * n; });
  for (std::int64_t n = 0; n < 3; ++n) EXPECT_EQ(square(n), n * n);  // 3 misses, 3 L2 writes
  for (std::int64_t n = 0; n < 3; ++n) EXPECT_EQ(square(n), n * n);  // 3 L1 hits
  EXPECT_EQ(square(0), 0);                                           // a 4th L1 hit
  EXPECT_EQ(plain(7), 49);  // an L2 hit, written by the other cache, namespace "default"

  const std::string text = scrape(port);
  const std::string l1 =
      R"(namespace="users",operation="get",serializer="l1_memory",success="True")";
  EXPECT_EQ(sample(text, "cache_operations_total{" + l1 + "}"), 4.0) << text;
  EXPECT_EQ(
      sample(
          text,
          R"(cache_operations_total{namespace="users",operation="set",serializer="rust",success="True"})"),
      3.0);
  EXPECT_EQ(
      sample(
          text,
          R"(cache_operations_total{namespace="default",operation="get",serializer="rust",success="True"})"),
      1.0);
  // Misses are not counted, as in cachekit-py.
  EXPECT_EQ(text.find("success=\"False\""), std::string::npos);
  // The duration histogram: 14 finite buckets from 0.01 to 1000 ms, then +Inf.
  const std::string d =
      R"(cache_operation_duration_ms_bucket{namespace="users",operation="get",serializer="l1_memory",le=")";
  for (const char* le : {"0.01", "0.05", "0.1", "0.5", "1", "2.5", "5", "10", "25", "50", "100",
                         "250", "500", "1000", "+Inf"}) {
    EXPECT_TRUE(sample(text, d + le + "\"}").has_value()) << le;
  }
  EXPECT_EQ(sample(text, d + "+Inf\"}"), 4.0);
  EXPECT_EQ(
      sample(
          text,
          R"(cache_operation_duration_ms_count{namespace="users",operation="set",serializer="rust"})"),
      3.0);
  // Sizes: powers of 4 from 16 B to 256 MiB; reads observe the stored entry, writes none.
  const std::string s =
      R"(cache_operation_size_bytes_bucket{namespace="users",operation="get",serializer="l1_memory",le=")";
  for (const char* le : {"16", "64", "256", "1024", "4096", "16384", "65536", "262144", "1048576",
                         "4194304", "16777216", "67108864", "268435456", "+Inf"}) {
    EXPECT_TRUE(sample(text, s + le + "\"}").has_value()) << le;
  }
  EXPECT_EQ(
      sample(
          text,
          R"(cache_operation_size_bytes_count{namespace="users",operation="get",serializer="l1_memory"})"),
      4.0);
  EXPECT_FALSE(sample(
      text,
      R"(cache_operation_size_bytes_count{namespace="users",operation="set",serializer="rust"})"));
  // One live breaker, closed.
  EXPECT_EQ(sample(text, R"(circuit_breaker_state{namespace="default",state="CLOSED"})"), 1.0);
  EXPECT_EQ(sample(text, R"(circuit_breaker_state{namespace="default",state="OPEN"})"), 0.0);
  EXPECT_EQ(sample(text, R"(circuit_breaker_state{namespace="default",state="HALF_OPEN"})"), 0.0);
}

TEST_F(metrics_scrape_test, concurrent_hits_in_several_namespaces_are_counted_exactly) {
  cache_options options = cache_options::for_intent(intent::production);
  options.observers.push_back(std::make_shared<prometheus_observer>(registry));
  cache c(std::move(options));
  auto a = c.memoize("tests.metrics.a", [](std::int64_t n) { return n + 1; }, {.ns = "alpha"});
  auto b = c.memoize("tests.metrics.b", [](std::int64_t n) { return n + 2; }, {.ns = "beta"});
  for (std::int64_t n = 0; n < 8; ++n) (void)a(n), (void)b(n);  // misses: not counted
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::int64_t i = 0; i < 1000; ++i) (void)(t % 2 == 0 ? a(i % 8) : b(i % 8));
    });
  }
  for (auto& t : threads) t.join();
  const std::string text = scrape(port);
  EXPECT_EQ(
      sample(
          text,
          R"(cache_operations_total{namespace="alpha",operation="get",serializer="l1_memory",success="True"})"),
      2000.0)
      << text;
  EXPECT_EQ(
      sample(
          text,
          R"(cache_operations_total{namespace="beta",operation="get",serializer="l1_memory",success="True"})"),
      2000.0);
  EXPECT_EQ(
      sample(
          text,
          R"(cache_operation_duration_ms_count{namespace="beta",operation="get",serializer="l1_memory"})"),
      2000.0);
}

TEST_F(metrics_scrape_test, failures_open_the_breaker_gauge_and_corrupt_entries_count) {
  auto l2 = std::make_shared<testing::faulty_backend>();
  manual_clock clock;
  cache_options options = cache_options::for_intent(intent::production);
  options.l2 = l2;
  options.clock = &clock;
  options.l1_enabled = false;
  options.observers.push_back(std::make_shared<prometheus_observer>(
      registry, prometheus_options{.breaker_namespace = "svc"}));
  cache c(std::move(options));
  auto twice = c.memoize("tests.metrics.twice", [](std::int64_t n) { return n * 2; });

  // A planted entry that is not a frame: an L2 corruption.
  const auto key = twice.key(1).value();
  ASSERT_TRUE(l2->set(key, as_byte_view("not a frame at all"), 60s));
  EXPECT_EQ(twice(1), 2);

  l2->fail_with(errc::transient);
  for (std::int64_t n = 10; n < 40; ++n) EXPECT_EQ(twice(n), n * 2);
  const cache_stats stats = c.stats();

  const std::string text = scrape(port);
  EXPECT_EQ(sample(text, R"(cachekit_decrypt_failures_total{reason="envelope_shape",tier="l2"})"),
            1.0)
      << text;
  EXPECT_EQ(
      sample(
          text,
          R"(cache_operations_total{namespace="default",operation="cache_get_deserialize",serializer="unknown",success="False"})"),
      1.0);
  // Every failed L2 read and write (after retries) is one failed operation; skipped ones none.
  const double failed_gets =
      sample(
          text,
          R"(cache_operations_total{namespace="default",operation="cache_get",serializer="unknown",success="False"})")
          .value_or(0);
  const double failed_sets =
      sample(
          text,
          R"(cache_operations_total{namespace="default",operation="cache_set",serializer="unknown",success="False"})")
          .value_or(0);
  EXPECT_GT(failed_gets, 0);
  EXPECT_EQ(failed_gets + failed_sets, static_cast<double>(stats.l2_errors));
  EXPECT_GT(stats.l2_skipped, 0u);
  EXPECT_EQ(sample(text, R"(circuit_breaker_state{namespace="svc",state="OPEN"})"), 1.0);
  EXPECT_EQ(sample(text, R"(circuit_breaker_state{namespace="svc",state="CLOSED"})"), 0.0);
}

TEST_F(metrics_scrape_test, backpressure_rejections_are_cachekit_py_redis_cache_operations_total) {
  auto l2 = std::make_shared<testing::faulty_backend>();
  cache_options options = cache_options::for_intent(intent::production);
  options.l2 = l2;
  options.l1_enabled = false;
  options.reliability.circuit_breaker = std::nullopt;
  options.reliability.retry = std::nullopt;
  options.reliability.backpressure = backpressure_options{.max_in_flight = 1, .max_waiting = 0};
  options.observers.push_back(std::make_shared<prometheus_observer>(registry));
  cache c(std::move(options));
  l2->delay(300ms);
  std::thread slow([&] { (void)c.get_bytes("a"); });
  std::this_thread::sleep_for(100ms);
  (void)c.get_bytes("b");  // refused: the one slot is taken and nobody may wait
  slow.join();
  const std::string text = scrape(port);
  EXPECT_EQ(
      sample(
          text,
          R"(redis_cache_operations_total{namespace="",operation="backpressure",serializer="",status="rejected"})"),
      static_cast<double>(c.stats().l2_shed))
      << text;
  EXPECT_EQ(c.stats().l2_shed, 1u);
}

}  // namespace
}  // namespace cachekit
