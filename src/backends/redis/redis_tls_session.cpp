#include "backends/redis/redis_tls_session.hpp"

#include "backends/redis/redis_error.hpp"

#include <hiredis/hiredis.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <string>
#include <system_error>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// The BIO's data points at its session's descriptor (the session owns the SSL, which owns the
// BIO, so it outlives every call).
int bio_fd(BIO* bio) noexcept {
  return *static_cast<const int*>(BIO_get_data(bio));
}

int bio_write(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  ssize_t n = 0;
  do {
    n = ::send(bio_fd(bio), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int bio_read(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  ssize_t n = 0;
  do {
    n = ::recv(bio_fd(bio), data, static_cast<std::size_t>(size), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_read(bio);
  return static_cast<int>(n);
}

long bio_ctrl(BIO* bio, int command, long, void*) {
  switch (command) {
    case BIO_CTRL_FLUSH: return 1;  // nothing is buffered here
    case BIO_C_GET_FD: return bio_fd(bio);
    default: return 0;
  }
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// A socket BIO that never closes the descriptor and never raises SIGPIPE (OpenSSL's own socket
// BIO writes with write(2)). Made once, kept for the life of the process.
const BIO_METHOD* nosignal_socket_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cachekit socket");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    return m;
  }();
  return method;
}

bool is_ip_literal(const std::string& host) noexcept {
  unsigned char addr[16];
  return ::inet_pton(AF_INET, host.c_str(), addr) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

}  // namespace

result<std::unique_ptr<redis_tls_session>> redis_tls_session::connect(
    const redis_tls_context& context, int fd, const std::string& host,
    std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds budget,
    labels names) {
  const auto& settings = context.settings();
  auto setup_failure = [&](std::string_view what) {
    return fail(errc::transient, "redis " + std::string(names.operation) + " on " +
                                     std::string(names.where) + ": TLS setup failed (" +
                                     std::string(what) + "): " + take_openssl_error());
  };
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    const int saved_errno = errno;
    return io_failure(names.operation, names.where,
                      {REDIS_ERR_IO, saved_errno, std::system_category().message(saved_errno)},
                      budget, "connect_timeout");
  }
  ERR_clear_error();
  SSL* ssl = SSL_new(context.native());
  if (ssl == nullptr) return setup_failure("SSL_new");
  std::unique_ptr<redis_tls_session> session(new redis_tls_session(ssl, fd));
  const BIO_METHOD* method = nosignal_socket_method();
  BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
  if (bio == nullptr) return setup_failure("BIO_new");
  BIO_set_data(bio, &session->fd_);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO from here
  session->has_client_cert_ = !settings.cert_file.empty();
  SSL_set_cert_cb(
      ssl,
      [](SSL*, void* self) {
        static_cast<redis_tls_session*>(self)->certificate_requested_ = true;
        return 1;
      },
      session.get());

  const std::string& name = settings.server_name.empty() ? host : settings.server_name;
  const bool ip = is_ip_literal(name);
  // SNI carries host names only (RFC 6066 §3).
  if (!ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) return setup_failure("SNI");
  if (settings.verify_peer && settings.verify_hostname) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    if (ok != 1) return setup_failure("the name to verify, '" + name + "'");
    if (!ip) X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  }

  for (;;) {
    ERR_clear_error();
    int saved_errno = 0;
    const step outcome = session->classify(SSL_connect(ssl), saved_errno);
    if (outcome == step::done) break;
    if ((outcome == step::want_read || outcome == step::want_write) &&
        session->wait_for(outcome, deadline, saved_errno)) {
      continue;
    }
    if (outcome == step::want_read || outcome == step::want_write) {
      return session->failure_of(step::want_read, saved_errno, names, budget, "connect_timeout");
    }
    return session->failure_of(outcome, saved_errno, names, budget, "connect_timeout");
  }
  session->handshaking_ = false;
  return session;
}

redis_tls_session::~redis_tls_session() {
  // No SSL_shutdown: see the file comment. SSL_free sends nothing; the BIO leaves fd_ open.
  SSL_free(ssl_);
}

redis_tls_session::step redis_tls_session::classify(int rc, int& saved_errno) noexcept {
  saved_errno = errno;
  if (rc > 0) return step::done;
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ: return step::want_read;
    case SSL_ERROR_WANT_WRITE: return step::want_write;
    case SSL_ERROR_ZERO_RETURN: return step::closed;
    case SSL_ERROR_SYSCALL:
      // errno 0: the peer closed the socket (SSL_OP_IGNORE_UNEXPECTED_EOF reports that as
      // ZERO_RETURN, older paths as SYSCALL).
      return saved_errno == 0 ? step::closed : step::failed;
    default: saved_errno = 0; return step::failed;
  }
}

bool redis_tls_session::wait_for(step want, std::chrono::steady_clock::time_point deadline,
                                 int& saved_errno) const noexcept {
  pollfd pfd{};
  pfd.fd = fd_;
  pfd.events = want == step::want_write ? POLLOUT : POLLIN;
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      saved_errno = EAGAIN;
      return false;
    }
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (ready > 0) return true;  // readable, writable, or an error the next call reports
    if (ready < 0 && errno != EINTR) {
      saved_errno = errno;
      return false;
    }
  }
}

failure redis_tls_session::failure_of(step outcome, int saved_errno, labels names,
                                      std::chrono::milliseconds budget,
                                      std::string_view budget_name) const {
  const std::string prefix =
      "redis " + std::string(names.operation) + " on " + std::string(names.where) + ": ";
  const std::string during = handshaking_ ? " during the TLS handshake" : "";
  if (certificate_requested_ && !received_ && outcome != step::want_read &&
      outcome != step::want_write) {
    // TLS 1.3: the server checks the client's certificate after the client has finished its
    // handshake, and its refusal (an alert, then a close that usually arrives as a reset)
    // comes in place of the first reply.
    const std::string reason = take_openssl_error();
    return fail(
        errc::backend_authentication,
        prefix + "the server asked for a client certificate and closed the connection " +
            (has_client_cert_ ? "without accepting the one given" : "because none was given") +
            (reason.empty() ? std::string{} : " (" + reason + ")") +
            "; if it runs with tls-auth-clients yes, give a client certificate signed by "
            "a CA of its tls-ca-cert-file (ssl_certfile and ssl_keyfile, or "
            "redis_options::tls.cert_file and key_file)");
  }
  if (outcome == step::want_read || outcome == step::want_write ||
      (outcome == step::failed && saved_errno != 0)) {
    // A timeout (EAGAIN) or a socket error (reset, refused): classified as on plain sockets.
    auto f = io_failure(
        names.operation, names.where,
        {REDIS_ERR_IO, saved_errno, std::system_category().message(saved_errno) + during}, budget,
        budget_name);
    if (handshaking_ && f.code == make_error_code(errc::timeout)) {
      f.detail +=
          " for the TLS handshake; is this the server's TLS port (redis-server --tls-port)?";
    }
    ERR_clear_error();
    return f;
  }
  if (outcome == step::closed) {
    ERR_clear_error();
    return fail(errc::transient,
                prefix + "the server closed the connection" + during +
                    (handshaking_ ? " (is this the server's TLS port, and does it require a "
                                    "client certificate?)"
                                  : ""));
  }
  // A TLS protocol failure: OpenSSL's error queue says which.
  const unsigned long code = ERR_peek_last_error();
  const int reason = ERR_GET_REASON(code);
  std::string text = take_openssl_error();
  if (text.empty()) text = "unknown TLS error";
  if (ERR_GET_LIB(code) == ERR_LIB_SSL && reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    // Not transient: a certificate that does not verify will not verify on the next try, and
    // it may be someone else's server.
    const long verify = SSL_get_verify_result(ssl_);
    return fail(errc::backend_authentication,
                prefix + "the server's TLS certificate did not verify: " +
                    X509_verify_cert_error_string(verify) +
                    "; trust the CA that signed it (ssl_ca_certs / redis_options::tls.ca_file), "
                    "connect with the name the certificate was issued for (URL host or "
                    "tls.server_name), or turn verification off (ssl_cert_reqs=none) only for "
                    "a test server");
  }
  if (ERR_GET_LIB(code) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET) {
    // The server sent an alert: it refused this client (most often: no client certificate, or
    // one its tls-ca-cert-file does not trust).
    return fail(errc::backend_authentication,
                prefix + "the server refused the TLS session (" + text +
                    "); if it runs with tls-auth-clients yes, give a client certificate its CA "
                    "trusts (ssl_certfile and ssl_keyfile, or redis_options::tls.cert_file and "
                    "key_file)");
  }
  return fail(errc::backend_permanent,
              prefix + "TLS failed" + during + " (" + text +
                  "); check that the port is the server's TLS port (redis-server --tls-port) "
                  "and that it accepts TLS 1.2 or later");
}

result<void> redis_tls_session::write_all(std::string_view data, std::chrono::milliseconds timeout,
                                          labels names) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!data.empty()) {
    ERR_clear_error();
    const int chunk = static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30));
    const int rc = SSL_write(ssl_, data.data(), chunk);
    int saved_errno = 0;
    const step outcome = classify(rc, saved_errno);
    if (outcome == step::done) {
      data.remove_prefix(static_cast<std::size_t>(rc));
      deadline = std::chrono::steady_clock::now() + timeout;  // progress restarts the clock
      continue;
    }
    if ((outcome == step::want_read || outcome == step::want_write) &&
        wait_for(outcome, deadline, saved_errno)) {
      continue;
    }
    return failure_of(outcome, saved_errno, names, timeout, "command_timeout");
  }
  return {};
}

result<std::size_t> redis_tls_session::read_some(std::span<char> buffer,
                                                 std::chrono::milliseconds timeout, labels names) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Nothing buffered in OpenSSL: wait for the socket first rather than spend a recv on EAGAIN
  // (a reply is rarely there the moment the request has been sent).
  if (int saved_errno = 0;
      !SSL_has_pending(ssl_) && !wait_for(step::want_read, deadline, saved_errno)) {
    return failure_of(step::want_read, saved_errno, names, timeout, "command_timeout");
  }
  for (;;) {
    std::size_t bytes = 0;
    int saved_errno = 0;
    const step outcome = read_step(buffer, bytes, saved_errno);
    if (outcome == step::done) return bytes;
    if ((outcome == step::want_read || outcome == step::want_write) &&
        wait_for(outcome, deadline, saved_errno)) {
      continue;
    }
    return failure_of(outcome, saved_errno, names, timeout, "command_timeout");
  }
}

redis_tls_session::step redis_tls_session::read_step(std::span<char> buffer, std::size_t& bytes,
                                                     int& saved_errno) noexcept {
  ERR_clear_error();
  const int rc = SSL_read(ssl_, buffer.data(),
                          static_cast<int>(std::min<std::size_t>(buffer.size(), 1 << 30)));
  const step outcome = classify(rc, saved_errno);
  if (outcome == step::done) {
    received_ = true;
    bytes = static_cast<std::size_t>(rc);
  }
  return outcome;
}

result<std::size_t> redis_tls_session::read_ready(std::span<char> buffer, labels names) {
  std::size_t bytes = 0;
  int saved_errno = 0;
  const step outcome = read_step(buffer, bytes, saved_errno);
  if (outcome == step::done) return bytes;
  if (outcome == step::want_read || outcome == step::want_write) return std::size_t{0};
  return failure_of(outcome, saved_errno, names, std::chrono::milliseconds(0), "command_timeout");
}

bool redis_tls_session::has_buffered() const noexcept {
  return SSL_pending(ssl_) > 0;
}

bool redis_tls_session::peer_closed() noexcept {
  if (has_buffered()) return true;
  pollfd pfd{};
  pfd.fd = fd_;
  pfd.events = POLLIN;
  const int ready = ::poll(&pfd, 1, 0);
  if (ready == 0) return false;
  if (ready < 0 || (pfd.revents & (POLLERR | POLLNVAL)) != 0) return true;
  // Readable: EOF, an alert, stray bytes, or only a post-handshake record (a TLS 1.3 session
  // ticket) that leaves the connection as good as before.
  ERR_clear_error();
  char byte = 0;
  const int rc = SSL_read(ssl_, &byte, 1);
  int saved_errno = 0;
  const step outcome = classify(rc, saved_errno);
  ERR_clear_error();
  return !(outcome == step::want_read || outcome == step::want_write);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
