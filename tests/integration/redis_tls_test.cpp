// redis_backend over TLS (`rediss://`) against real redis-server processes listening on a TLS
// port only, with a CA and certificates made for the test (support/tls_certificates): every
// operation round-trips, each verification failure is refused with the right code and a
// message that says why, client certificates, SNI (seen by a small OpenSSL server of the
// test's own), restart, fork, pub/sub, and a reset connection that must not raise SIGPIPE.
#include "backends/redis/redis_connection.hpp"
#include "backends/redis/redis_tls_context.hpp"
#include "support/forked_child.hpp"
#include "support/local_server.hpp"
#include "support/tls_certificates.hpp"

#include <cachekit/redis_backend.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::forked_child;
using testing::local_server;
using testing::redis_tls_files;
using testing::tls_certificates;

byte_buffer bytes_of(std::string_view text) {
  return to_byte_buffer(text);
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

class redis_tls_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = tls_certificates::make().release();
    server_ = local_server::start_redis_tls(files(false)).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete certs_;
  }
  static redis_tls_files files(bool auth_clients) {
    return {.cert = certs_->server_cert(),
            .key = certs_->server_key(),
            .ca = certs_->ca_cert(),
            .auth_clients = auth_clients};
  }
  // rediss://HOST:PORT/0?ssl_ca_certs=<the test CA>&<extra>
  static std::string url(const local_server& server, std::string_view host = "127.0.0.1",
                         std::string_view extra = {}) {
    std::string out = "rediss://" + std::string(host) + ":" + std::to_string(server.port()) +
                      "/0?ssl_ca_certs=" + certs_->ca_cert().string();
    if (!extra.empty()) out.append("&").append(extra);
    return out;
  }
  static redis_options options(std::string u) {
    return {
        .url = std::move(u), .pool_size = 4, .connect_timeout = 2000ms, .command_timeout = 2000ms};
  }

  static inline tls_certificates* certs_ = nullptr;
  static inline local_server* server_ = nullptr;
};

TEST_F(redis_tls_test, every_basic_operation_round_trips_over_tls) {
  redis_backend redis(options(url(*server_)));
  const std::string k = "tls:round-trip";
  ASSERT_TRUE(redis.set(k, as_byte_view("value-1"), std::nullopt));
  EXPECT_EQ(redis.get(k).value(), bytes_of("value-1"));
  EXPECT_TRUE(redis.exists(k).value());
  EXPECT_FALSE(redis.set_if_absent(k, as_byte_view("other"), 60s).value());
  EXPECT_TRUE(redis.touch(k, 120s).value());
  const auto left = redis.ttl(k).value();
  EXPECT_TRUE(left.exists);
  ASSERT_TRUE(left.ttl.has_value());
  EXPECT_GE(left.ttl->count(), 119);
  const auto timed = redis.get_with_ttl(k).value();
  ASSERT_TRUE(timed.has_value());
  EXPECT_EQ(timed->value, bytes_of("value-1"));

  const std::array<std::string_view, 3> keys = {k, "tls:missing", k};
  const auto many = redis.get_many(keys).value();
  ASSERT_EQ(many.size(), 3u);
  EXPECT_EQ(many[0], bytes_of("value-1"));
  EXPECT_EQ(many[1], std::nullopt);
  EXPECT_EQ(many[2], bytes_of("value-1"));

  // A value larger than one TLS record (16 KiB) and than the socket buffers.
  byte_buffer big(1024 * 1024 + 7);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 31 % 251);
  ASSERT_TRUE(redis.set("tls:big", big, 60s));
  EXPECT_EQ(redis.get("tls:big").value(), big);

  auto lock = redis.try_lock(k, 5s).value();
  ASSERT_TRUE(lock.has_value());
  EXPECT_FALSE(redis.try_lock(k, 5s).value().has_value());
  EXPECT_TRUE(redis.release_lock(*lock).value());

  EXPECT_EQ(redis.publish("tls:nobody-listens", as_byte_view("x")).value(), 0u);
  EXPECT_TRUE(redis.erase(k).value());
  EXPECT_FALSE(redis.exists(k).value());
  EXPECT_EQ(redis.erase_prefix("tls:").value(), 1u);  // tls:big
  const auto health = redis.health();
  EXPECT_TRUE(health.healthy) << health.details.at("error");
  EXPECT_EQ(redis.pool_stats().connects, 1u);  // one connection served everything
}

TEST_F(redis_tls_test, auth_and_select_run_inside_the_tls_session) {
  auto server = local_server::start_redis_tls(files(false), {"--requirepass", "tls-s3cret"});
  const std::string base = "rediss://:tls-s3cret@127.0.0.1:" + std::to_string(server->port());
  const std::string ca = "?ssl_ca_certs=" + certs_->ca_cert().string();
  redis_backend db3(options(base + "/3" + ca));
  ASSERT_TRUE(db3.set("k", as_byte_view("in-3"), 60s));
  redis_backend db0(options(base + "/0" + ca));
  EXPECT_EQ(db0.get("k").value(), std::nullopt);  // SELECT 3 took effect on the other
  EXPECT_EQ(db3.get("k").value(), bytes_of("in-3"));

  redis_backend wrong(
      options("rediss://:not-it-7731@127.0.0.1:" + std::to_string(server->port()) + "/0" + ca));
  const auto r = wrong.get("k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::backend_authentication) << r.error().message();
  EXPECT_FALSE(contains(r.error().message(), "not-it-7731")) << r.error().message();
}

// --- verification ---------------------------------------------------------------------------

TEST_F(redis_tls_test, a_server_certificate_from_another_ca_is_refused_as_authentication) {
  redis_backend redis(options("rediss://127.0.0.1:" + std::to_string(server_->port()) +
                              "/0?ssl_ca_certs=" + certs_->other_ca_cert().string()));
  const auto r = redis.get("k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::backend_authentication) << r.error().message();
  const std::string& d = r.error().detail;
  EXPECT_TRUE(contains(d, "127.0.0.1:" + std::to_string(server_->port()) + "/0 (tls)")) << d;
  EXPECT_TRUE(contains(d, "certificate did not verify")) << d;
  // OpenSSL's reason (which one depends on whether the server sends its CA in the chain).
  EXPECT_TRUE(contains(d, "unable to get local issuer certificate") ||
              contains(d, "self-signed certificate in certificate chain"))
      << d;
  EXPECT_TRUE(contains(d, "ssl_ca_certs")) << d;  // the fix
  // Not retried as a passing fault: the next attempt fails the same way.
  EXPECT_EQ(redis.get("k").code(), errc::backend_authentication);
  EXPECT_EQ(redis.pool_stats().open, 0u);
}

TEST_F(redis_tls_test, the_system_trust_store_does_not_trust_a_private_ca) {
  redis_backend redis(options("rediss://127.0.0.1:" + std::to_string(server_->port()) + "/0"));
  EXPECT_EQ(redis.get("k").code(), errc::backend_authentication);
}

TEST_F(redis_tls_test, a_certificate_for_another_name_is_refused) {
  auto o = options(url(*server_));
  o.tls = redis_tls_options{.server_name = "wrong.example"};
  redis_backend redis(o);
  const auto r = redis.get("k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::backend_authentication) << r.error().message();
  EXPECT_TRUE(contains(r.error().detail, "hostname mismatch")) << r.error().detail;
}

TEST_F(redis_tls_test, the_certificate_names_localhost_and_127_0_0_1_and_both_verify) {
  redis_backend by_name(options(url(*server_, "localhost")));
  EXPECT_TRUE(by_name.set("k", as_byte_view("v"), 60s)) << by_name.get("k").error().message();
  redis_backend by_address(options(url(*server_, "127.0.0.1")));
  EXPECT_EQ(by_address.get("k").value(), bytes_of("v"));
}

TEST_F(redis_tls_test, check_hostname_false_accepts_a_certificate_for_another_name) {
  auto o = options(url(*server_, "127.0.0.1", "ssl_check_hostname=false"));
  o.tls = redis_tls_options{.server_name = "wrong.example", .verify_hostname = false};
  redis_backend redis(o);
  EXPECT_TRUE(redis.set("k", as_byte_view("v"), 60s));
  // From the URL alone: redis-py's parameter.
  redis_backend from_url(options(url(*server_, "127.0.0.1", "ssl_check_hostname=false")));
  EXPECT_EQ(from_url.get("k").value(), bytes_of("v"));
}

TEST_F(redis_tls_test, cert_reqs_none_accepts_an_untrusted_certificate) {
  redis_backend redis(
      options("rediss://127.0.0.1:" + std::to_string(server_->port()) +
              "/0?ssl_cert_reqs=none&ssl_ca_certs=" + certs_->other_ca_cert().string()));
  EXPECT_TRUE(redis.set("k", as_byte_view("v"), 60s));
  EXPECT_EQ(redis.get("k").value(), bytes_of("v"));
}

TEST_F(redis_tls_test, tls_options_override_the_url_field_by_field) {
  // The URL's wrong CA is replaced by the options' right one.
  auto o = options("rediss://127.0.0.1:" + std::to_string(server_->port()) +
                   "/0?ssl_ca_certs=" + certs_->other_ca_cert().string());
  o.tls = redis_tls_options{.ca_file = certs_->ca_cert().string()};
  redis_backend redis(o);
  EXPECT_TRUE(redis.set("k", as_byte_view("v"), 60s));
}

// --- configuration errors at construction -------------------------------------------------

TEST_F(redis_tls_test, unusable_tls_files_are_configuration_errors_naming_the_file) {
  auto message_of = [](redis_options o) -> std::string {
    try {
      redis_backend b(o);
    } catch (const cachekit::error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_configuration));
      return e.what();
    }
    return "(no error)";
  };
  const std::string missing = (certs_->dir() / "no-such-ca.pem").string();
  auto o = options(url(*server_));
  o.tls = redis_tls_options{.ca_file = missing};
  const std::string m1 = message_of(o);
  EXPECT_TRUE(contains(m1, missing)) << m1;
  EXPECT_TRUE(contains(m1, "no such file")) << m1;

  o.tls = redis_tls_options{.cert_file = certs_->client_cert().string(),
                            .key_file = certs_->other_client_key().string()};
  const std::string m2 = message_of(o);
  EXPECT_TRUE(contains(m2, "does not belong")) << m2;

  o = options("redis://127.0.0.1:6379/0");
  o.tls = redis_tls_options{};
  EXPECT_TRUE(contains(message_of(o), "rediss://"));
}

TEST_F(redis_tls_test, tls_to_a_plain_text_port_times_out_with_a_hint) {
  // redis-server waits for the end of an inline command that the binary hello never sends.
  auto plain = local_server::start_redis();
  auto o = options(url(*plain));
  o.connect_timeout = 200ms;
  redis_backend redis(o);
  const auto r = redis.get("k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::timeout) << r.error().message();
  EXPECT_TRUE(contains(r.error().detail, "TLS port")) << r.error().detail;
}

// --- client certificates ----------------------------------------------------------------------

TEST_F(redis_tls_test, a_server_that_requires_client_certificates) {
  auto server = local_server::start_redis_tls(files(true));
  {
    redis_backend without(options(url(*server)));
    const auto r = without.set("k", as_byte_view("v"), 60s);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.code(), errc::backend_authentication) << r.error().message();
    EXPECT_TRUE(contains(r.error().detail, "ssl_certfile")) << r.error().detail;
  }
  {
    redis_backend untrusted(
        options(url(*server, "127.0.0.1",
                    "ssl_certfile=" + certs_->other_client_cert().string() +
                        "&ssl_keyfile=" + certs_->other_client_key().string())));
    const auto r = untrusted.get("k");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.code(), errc::backend_authentication) << r.error().message();
  }
  auto o = options(url(*server));
  o.tls = redis_tls_options{.cert_file = certs_->client_cert().string(),
                            .key_file = certs_->client_key().string()};
  redis_backend with(o);
  ASSERT_TRUE(with.set("k", as_byte_view("v"), 60s)) << with.get("k").error().message();
  EXPECT_EQ(with.get("k").value(), bytes_of("v"));
}

TEST_F(redis_tls_test,
       tls_1_2_servers_work_and_refuse_a_missing_client_certificate_in_the_handshake) {
  // Under TLS 1.2 the server checks the client's certificate inside the handshake: the refusal is
  // an alert there, not a reset after it.
  auto server = local_server::start_redis_tls(files(true), {"--tls-protocols", "TLSv1.2"});
  {
    redis_backend without(options(url(*server)));
    const auto r = without.get("k");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.code(), errc::backend_authentication) << r.error().message();
  }
  auto o = options(url(*server));
  o.tls = redis_tls_options{.cert_file = certs_->client_cert().string(),
                            .key_file = certs_->client_key().string()};
  redis_backend with(o);
  ASSERT_TRUE(with.set("k", as_byte_view("v"), 60s)) << with.get("k").error().message();
  EXPECT_EQ(with.get("k").value(), bytes_of("v"));
}

// --- SNI --------------------------------------------------------------------------------------

// A TLS server of the test's own on a loopback port: accepts one connection at a time, records
// the server name the client sent (empty: none), and closes.
class sni_recorder {
 public:
  explicit sni_recorder(const tls_certificates& certs) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(ctx_, certs.server_cert().c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, certs.server_key().c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_set_tlsext_servername_callback(ctx_, &sni_recorder::on_servername);
    SSL_CTX_set_tlsext_servername_arg(ctx_, this);
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 4) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("sni_recorder: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~sni_recorder() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
    SSL_CTX_free(ctx_);
  }
  [[nodiscard]] int port() const noexcept { return port_; }
  // The last server name received; waits up to 2 s for a handshake to have happened.
  std::string last() {
    for (int i = 0; i < 200 && handshakes_.load() == 0; ++i) std::this_thread::sleep_for(10ms);
    std::lock_guard lock(mutex_);
    return name_;
  }

 private:
  static int on_servername(SSL* ssl, int*, void* self) {
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    auto* me = static_cast<sni_recorder*>(self);
    std::lock_guard lock(me->mutex_);
    me->name_ = name != nullptr ? name : "";
    me->seen_name_ = true;
    return SSL_TLSEXT_ERR_OK;
  }
  void serve() {
    while (!stop_) {
      pollfd pfd{listener_, POLLIN, 0};
      if (::poll(&pfd, 1, 20) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      {
        std::lock_guard lock(mutex_);
        name_.clear();  // the callback does not run when no name is sent
      }
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      (void)SSL_accept(ssl);
      ++handshakes_;
      SSL_free(ssl);
      ::close(fd);
    }
  }

  SSL_CTX* ctx_ = nullptr;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshakes_{0};
  std::mutex mutex_;
  std::string name_;
  bool seen_name_ = false;
};

TEST_F(redis_tls_test, sni_is_the_host_name_or_server_name_and_never_an_address) {
  {
    sni_recorder server(*certs_);
    redis_backend redis(
        options("rediss://localhost:" + std::to_string(server.port()) + "/0?ssl_cert_reqs=none"));
    (void)redis.get("k");  // fails after the handshake: the recorder speaks no RESP
    EXPECT_EQ(server.last(), "localhost");
  }
  {
    sni_recorder server(*certs_);
    auto o =
        options("rediss://127.0.0.1:" + std::to_string(server.port()) + "/0?ssl_cert_reqs=none");
    o.tls = redis_tls_options{.server_name = "cache.example", .verify_peer = false};
    redis_backend redis(o);
    (void)redis.get("k");
    EXPECT_EQ(server.last(), "cache.example");
  }
  {
    sni_recorder server(*certs_);
    redis_backend redis(
        options("rediss://127.0.0.1:" + std::to_string(server.port()) + "/0?ssl_cert_reqs=none"));
    (void)redis.get("k");
    EXPECT_EQ(server.last(), "");  // RFC 6066: no SNI for an IP address
  }
}

// --- faults -----------------------------------------------------------------------------------

TEST_F(redis_tls_test, a_restart_is_transient_then_the_pool_reconnects) {
  auto server = local_server::start_redis_tls(files(false));
  redis_backend redis(options(url(*server)));
  ASSERT_TRUE(redis.set("k", as_byte_view("v1"), std::nullopt));
  server->stop();
  EXPECT_EQ(redis.get("k").code(), errc::transient);
  EXPECT_EQ(redis.get("k").code(), errc::transient);
  server->restart();
  EXPECT_EQ(redis.get("k").value(), std::nullopt);
  ASSERT_TRUE(redis.set("k", as_byte_view("v2"), std::nullopt));
  EXPECT_EQ(redis.get("k").value(), bytes_of("v2"));
  EXPECT_EQ(redis.pool_stats().connects, 2u);
}

TEST_F(redis_tls_test, a_paused_server_times_the_handshake_out_within_connect_timeout) {
  auto server = local_server::start_redis_tls(files(false));
  auto o = options(url(*server));
  o.connect_timeout = 300ms;
  redis_backend redis(o);
  server->pause();  // the kernel still accepts the TCP connection; nobody answers the hello
  const auto start = std::chrono::steady_clock::now();
  const auto r = redis.get("k");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  server->resume();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::timeout) << r.error().message();
  EXPECT_TRUE(contains(r.error().detail, "connect_timeout")) << r.error().detail;
  EXPECT_GE(elapsed, 280ms);
  EXPECT_LE(elapsed, 1000ms);
  EXPECT_TRUE(redis.set("k", as_byte_view("v"), 60s));
}

TEST_F(redis_tls_test, writing_to_a_reset_connection_fails_without_sigpipe) {
  // SIGPIPE at its default action kills the process: a write that raised it would end the test.
  struct sigaction previous {};
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, &previous);

  auto server = local_server::start_redis_tls(files(false));
  auto context = detail::redis_tls_context::create({.ca_file = certs_->ca_cert().string()});
  ASSERT_TRUE(context) << context.error().message();
  auto endpoint = detail::parse_redis_url(url(*server));
  ASSERT_TRUE(endpoint);
  detail::redis_connect_settings settings{.endpoint = *endpoint,
                                          .where = endpoint->describe(),
                                          .connect_timeout = 2000ms,
                                          .command_timeout = 2000ms,
                                          .tls = *context};
  auto conn = detail::redis_connection::open(settings, "TEST");
  ASSERT_TRUE(conn) << conn.error().message();
  const std::array<std::string_view, 1> ping = {"PING"};
  ASSERT_TRUE((*conn)->run("PING", ping));

  server->stop();  // the kernel resets the connection at the next segment
  const std::string big(4 * 1024 * 1024, 'x');
  const std::array<std::string_view, 3> set = {"SET", "k", big};
  result<detail::redis_reply_ptr> r = (*conn)->run("SET", set);
  for (int i = 0; i < 3 && r; ++i) r = (*conn)->run("SET", set);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::transient) << r.error().message();
  EXPECT_TRUE((*conn)->broken());
  ::sigaction(SIGPIPE, &previous, nullptr);
}

TEST_F(redis_tls_test, an_idle_connection_with_session_tickets_waiting_is_not_peer_closed) {
  auto server = local_server::start_redis_tls(files(false));
  auto context = detail::redis_tls_context::create({.ca_file = certs_->ca_cert().string()});
  ASSERT_TRUE(context) << context.error().message();
  auto endpoint = detail::parse_redis_url(url(*server));
  ASSERT_TRUE(endpoint);
  detail::redis_connect_settings settings{.endpoint = *endpoint,
                                          .where = endpoint->describe(),
                                          .connect_timeout = 2000ms,
                                          .command_timeout = 2000ms,
                                          .tls = *context};
  auto conn = detail::redis_connection::open(settings, "TEST");
  ASSERT_TRUE(conn) << conn.error().message();
  // TLS 1.3 servers send session tickets after the handshake: readable bytes on an idle
  // connection that are not a reply and must not make the pool drop it.
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE((*conn)->peer_closed());
  EXPECT_FALSE((*conn)->peer_closed());
  const std::array<std::string_view, 1> ping = {"PING"};
  auto pong = (*conn)->run("PING", ping);
  ASSERT_TRUE(pong) << pong.error().message();
  EXPECT_EQ(std::string((*pong)->str, (*pong)->len), "PONG");
  EXPECT_FALSE((*conn)->peer_closed());

  server->stop();
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE((*conn)->peer_closed());
}

TEST_F(redis_tls_test, a_forked_child_gets_its_own_tls_connection_and_the_parent_keeps_its_own) {
  redis_backend redis(options(url(*server_)));
  ASSERT_TRUE(redis.set("fork:k", as_byte_view("from-parent"), 60s));  // a pooled connection
  ASSERT_EQ(redis.pool_stats().idle, 1u);
  forked_child child([&redis](int fd) {
    auto got = redis.get("fork:k");
    const std::string text = got && *got ? std::string(as_string_view(**got)) : "(failed)";
    (void)!::write(fd, text.data(), text.size());
    return redis.set("fork:child", as_byte_view("c"), 60s) ? 0 : 1;
  });
  const auto outcome = child.finish(10s);
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.output, "from-parent");
  // The parent's inherited connection is intact: no close_notify was written into it.
  EXPECT_EQ(redis.get("fork:child").value(), bytes_of("c"));
  EXPECT_EQ(redis.get("fork:k").value(), bytes_of("from-parent"));
  const auto stats = redis.pool_stats();
  EXPECT_EQ(stats.connects, 1u);
  EXPECT_EQ(stats.discarded, 0u);
}

TEST_F(redis_tls_test, a_subscription_over_tls_receives_a_published_message) {
  redis_backend redis(options(url(*server_)));
  auto sub = redis.subscribe({.channels = {"tls:events"}});
  ASSERT_TRUE(sub) << sub.error().message();
  // Nothing yet: an empty wait leaves the subscription usable.
  auto none = (*sub)->next(50ms);
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_FALSE(none->has_value());
  ASSERT_EQ(redis.publish("tls:events", as_byte_view("hello over tls")).value(), 1u);
  std::optional<pushed_message> got;
  for (int i = 0; i < 40 && !got; ++i) {
    auto m = (*sub)->next(50ms);
    ASSERT_TRUE(m) << m.error().message();
    if (*m) got = std::move(**m);
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->channel, "tls:events");
  EXPECT_EQ(std::string(as_string_view(got->payload)), "hello over tls");
}

}  // namespace
}  // namespace cachekit
