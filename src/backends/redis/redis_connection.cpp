#include "backends/redis/redis_connection.hpp"

#include "backends/host_lookup.hpp"
#include "backends/redis/redis_error.hpp"
#include "backends/redis/redis_master_locator.hpp"
#include "backends/redis/redis_tls_session.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <optional>
#include <system_error>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::size_t max_kept_buffer = std::size_t{64} * 1024;

timeval to_timeval(std::chrono::milliseconds ms) noexcept {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

// Server replies to AUTH do not echo the password; this keeps it so if one ever did.
std::string without_secret(std::string_view text, const std::string& secret) {
  std::string out(text);
  if (secret.empty()) return out;
  for (auto at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3)) {
    out.replace(at, secret.size(), "***");
  }
  return out;
}

}  // namespace

result<std::unique_ptr<redis_connection>> redis_connection::open(
    const redis_connect_settings& settings, std::string_view operation) {
  const auto& ep = settings.endpoint;
  if (ep.kind == redis_endpoint::transport::unix_socket) {
    redisContext* raw =
        redisConnectUnixWithTimeout(ep.socket_path.c_str(), to_timeval(settings.connect_timeout));
    const int saved_errno = errno;
    return set_up(raw, saved_errno, settings, operation, settings.where,
                  std::chrono::steady_clock::now() + settings.connect_timeout);
  }
  if (settings.locator) return open_located(settings, operation);
  return open_tcp(settings, operation, ep.host, ep.port, settings.where);
}

result<std::unique_ptr<redis_connection>> redis_connection::open_tcp(
    const redis_connect_settings& settings, std::string_view operation, const std::string& host,
    int port, const std::string& where_host) {
  // hiredis would resolve the name itself, synchronously and without bound; it gets numeric
  // addresses instead, so its getaddrinfo never asks a DNS server.
  const auto deadline = std::chrono::steady_clock::now() + settings.connect_timeout;
  auto addresses = lookup_host(host, settings.connect_timeout, "redis_options::connect_timeout");
  if (!addresses) {
    failure f = std::move(addresses).error();
    f.detail = "redis " + std::string(operation) + " on " + where_host + ": " + f.detail;
    return f;
  }
  // Each address in turn, sharing what is left of connect_timeout: an address that swallows
  // its SYN leaves time for the next one.
  const std::size_t count = addresses->size();
  std::optional<failure> last;
  for (std::size_t i = 0; i < count; ++i) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (i > 0 && left <= std::chrono::milliseconds::zero()) break;
    const auto share = std::max(std::chrono::milliseconds(1),
                                left / static_cast<std::chrono::milliseconds::rep>(count - i));
    const std::string& address = (*addresses)[i];
    redisContext* raw = redisConnectWithTimeout(address.c_str(), port, to_timeval(share));
    const int saved_errno = errno;
    const std::string where = address == host ? where_host : where_host + " (" + address + ")";
    // The TLS handshake may use what is left of the whole connect_timeout: a server that
    // accepted the TCP connection is the one to finish with.
    auto opened = set_up(raw, saved_errno, settings, operation, where, deadline);
    if (opened) return opened;
    last = std::move(opened).error();
    // A server that answered but refused us (AUTH, SELECT) will not do better elsewhere.
    if (last->code != make_error_code(errc::transient) &&
        last->code != make_error_code(errc::timeout)) {
      break;
    }
  }
  return std::move(*last);
}

result<std::unique_ptr<redis_connection>> redis_connection::open_located(
    const redis_connect_settings& settings, std::string_view operation) {
  redis_master_locator& locator = *settings.locator;
  // Twice at most: a master that refuses us or turned replica is reported, and the sentinels'
  // next answer is tried once (right after a failover they may still name the old one).
  std::optional<failure> last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto master = locator.locate(operation);
    if (!master) return std::move(master).error();
    const std::string where =
        settings.where + " (master " +
        (master->host.find(':') != std::string::npos ? "[" + master->host + "]" : master->host) +
        ":" + std::to_string(master->port) + ")";
    auto opened = open_tcp(settings, operation, master->host, master->port, where);
    if (!opened) {
      last = std::move(opened).error();
      if (last->code != make_error_code(errc::transient) &&
          last->code != make_error_code(errc::timeout)) {
        return std::move(*last);  // AUTH or SELECT refused: the master is there
      }
      locator.report_unusable(master->generation);
      continue;
    }
    auto& conn = **opened;
    conn.master_generation_ = master->generation;
    const std::array<std::string_view, 1> role = {"ROLE"};
    auto reply = conn.run("ROLE", role);
    if (!reply) {
      // ROLE is in @admin: an ACL user without it gets NOPERM. Its role then goes unchecked;
      // READONLY and lost connections still move the locator.
      if (reply.error().code == make_error_code(errc::backend_authentication) && !conn.broken()) {
        return opened;
      }
      last = std::move(reply).error();
      locator.report_unusable(master->generation);
      continue;
    }
    const redisReply& r = **reply;
    if (r.type == REDIS_REPLY_ARRAY && r.elements > 0 &&
        (r.element[0]->type == REDIS_REPLY_STRING || r.element[0]->type == REDIS_REPLY_STATUS) &&
        std::string_view(r.element[0]->str, r.element[0]->len) == "master") {
      return opened;
    }
    locator.report_unusable(master->generation);
    last = fail(errc::transient, "redis " + std::string(operation) + " on " + where +
                                     ": the server the sentinels named is not a master (yet or "
                                     "any more: a failover is under way); asking them again");
  }
  return std::move(*last);
}

bool redis_connection::of_former_master() const noexcept {
  return settings_->locator && master_generation_ != settings_->locator->generation();
}

void redis_connection::report_lost(const failure& f) const noexcept {
  if (settings_->locator && f.code == make_error_code(errc::transient)) {
    settings_->locator->report_unusable(master_generation_);
  }
}

result<std::unique_ptr<redis_connection>> redis_connection::set_up(
    redisContext* raw, int saved_errno, const redis_connect_settings& settings,
    std::string_view operation, const std::string& where,
    std::chrono::steady_clock::time_point deadline) {
  const auto& ep = settings.endpoint;
  if (raw == nullptr) {
    return fail(errc::transient, "redis " + std::string(operation) + " on " + where +
                                     ": hiredis could not allocate a connection context");
  }
  std::unique_ptr<redis_connection> conn(new redis_connection(raw, settings));
  if (raw->err != 0) {
    auto f = io_failure(operation, where, {raw->err, saved_errno, raw->errstr},
                        settings.connect_timeout, "connect_timeout");
    if (f.code == make_error_code(errc::transient)) {
      f.detail += " (cannot connect; is the server up?)";
    }
    return f;
  }
  if (redisSetTimeout(raw, to_timeval(settings.command_timeout)) != REDIS_OK) {
    return conn->io_failure_now(operation, errno);
  }
  if (ep.kind == redis_endpoint::transport::tcp) {
    // Keepalive finds a peer that vanished without a FIN; failing to enable it is harmless, so
    // the error it records is cleared.
    if (redisEnableKeepAlive(raw) != REDIS_OK) raw->err = 0;
  }
  if (settings.tls) {
    auto session = redis_tls_session::connect(*settings.tls, raw->fd, ep.host, deadline,
                                              settings.connect_timeout, {operation, where});
    if (!session) return std::move(session).error();
    conn->tls_ = std::move(*session);
  }
  if (auto h = conn->handshake(); !h) return std::move(h).error();
  return conn;
}

redis_connection::redis_connection(redisContext* context,
                                   const redis_connect_settings& settings) noexcept
    : context_(context), settings_(&settings) {}

redis_connection::~redis_connection() {
  tls_.reset();  // before redisFree closes the socket under it
  redisFree(context_);
}

result<void> redis_connection::handshake() {
  const auto& ep = settings_->endpoint;
  const bool auth = !ep.user.empty() || (ep.has_password && !ep.password.empty());
  const bool select = ep.db != 0;
  if (!auth && !select) return {};

  // `AUTH password` authenticates the default user; `AUTH user password` an ACL user.
  if (auth && ep.user.empty()) {
    const std::array<std::string_view, 2> argv = {"AUTH", ep.password};
    append(argv);
  } else if (auth) {
    const std::array<std::string_view, 3> argv = {"AUTH", ep.user, ep.password};
    append(argv);
  }
  const std::string db_text = std::to_string(ep.db);
  if (select) {
    const std::array<std::string_view, 2> argv = {"SELECT", db_text};
    append(argv);
  }

  redis_reply_ptr auth_reply;
  if (auth) {
    auto r = read_reply("AUTH");
    if (!r) return std::move(r).error();
    auth_reply = std::move(*r);
  }
  redis_reply_ptr select_reply;
  if (select) {
    auto r = read_reply("SELECT");
    if (!r) return std::move(r).error();
    select_reply = std::move(*r);
  }
  // Any refusal of AUTH is a credentials problem, whatever its wording ("ERR AUTH <password>
  // called without any password configured", "WRONGPASS ...").
  if (auth_reply && auth_reply->type == REDIS_REPLY_ERROR) {
    std::string text = without_secret({auth_reply->str, auth_reply->len}, ep.password);
    return fail(errc::backend_authentication,
                "redis AUTH on " + settings_->where + ": the server replied \"" + text +
                    "\"; check the user and password of the URL (redis://user:password@host) "
                    "and the user's ACL");
  }
  if (select_reply && select_reply->type == REDIS_REPLY_ERROR) {
    auto f = error_reply_failure("SELECT " + db_text, settings_->where,
                                 {select_reply->str, select_reply->len});
    if (f.code == make_error_code(errc::backend_permanent)) {
      f.detail += "; use a database number below the server's `databases` setting (16 by default)";
    }
    return f;
  }
  return {};
}

void redis_connection::append(std::span<const std::string_view> argv) {
  // RESP: *<argc>\r\n then $<len>\r\n<bytes>\r\n per argument.
  std::size_t size = 16;
  for (auto arg : argv) size += arg.size() + 16;
  pending_.reserve(pending_.size() + size);
  auto put_count = [this](char tag, std::size_t n) {
    char digits[24];
    char* end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    pending_.push_back(tag);
    pending_.append(digits, static_cast<std::size_t>(end - digits));
    pending_.append("\r\n");
  };
  put_count('*', argv.size());
  for (auto arg : argv) {
    put_count('$', arg.size());
    pending_.append(arg);
    pending_.append("\r\n");
  }
}

result<void> redis_connection::flush(std::string_view operation) {
  if (tls_) {
    auto written =
        tls_->write_all(pending_, settings_->command_timeout, {operation, settings_->where});
    pending_.clear();
    if (pending_.capacity() > max_kept_buffer) pending_.shrink_to_fit();
    if (!written) return tls_failure(std::move(written).error());
    return {};
  }
  std::size_t sent = 0;
  while (sent < pending_.size()) {
    const ssize_t n =
        ::send(context_->fd, pending_.data() + sent, pending_.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      const int saved_errno = errno;
      if (saved_errno == EINTR) continue;
      pending_.clear();
      broken_ = true;
      auto f = io_failure(operation, settings_->where,
                          {REDIS_ERR_IO, saved_errno, std::system_category().message(saved_errno)},
                          settings_->command_timeout, "command_timeout");
      report_lost(f);
      return f;
    }
    sent += static_cast<std::size_t>(n);
  }
  pending_.clear();
  // A 1 MiB SET should not pin 1 MiB per pooled connection for good.
  if (pending_.capacity() > max_kept_buffer) pending_.shrink_to_fit();
  return {};
}

result<redis_reply_ptr> redis_connection::read_reply(std::string_view operation) {
  if (!pending_.empty()) {
    if (auto f = flush(operation); !f) return f.error();
  }
  void* raw = nullptr;
  if (tls_) {
    for (;;) {
      if (redisGetReplyFromReader(context_, &raw) != REDIS_OK) {
        return io_failure_now(operation, errno);
      }
      if (raw != nullptr) return redis_reply_ptr(static_cast<redisReply*>(raw));
      if (auto fed = feed_from_tls(operation); !fed) return fed.error();
    }
  }
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
    const int saved_errno = errno;
    if (raw != nullptr) freeReplyObject(raw);
    return io_failure_now(operation, saved_errno);
  }
  return redis_reply_ptr(static_cast<redisReply*>(raw));
}

result<std::optional<redis_reply_ptr>> redis_connection::wait_reply(
    std::string_view operation, std::chrono::milliseconds wait) {
  if (!pending_.empty()) {
    if (auto f = flush(operation); !f) return f.error();
  }
  // A reply already parsed or buffered comes first; then at most one wait for the socket.
  for (bool waited = false;; waited = true) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(context_, &raw) != REDIS_OK) {
      return io_failure_now(operation, errno);
    }
    if (raw != nullptr) return std::optional<redis_reply_ptr>(static_cast<redisReply*>(raw));
    if (waited) return std::optional<redis_reply_ptr>{};
    if (tls_ && tls_->has_buffered()) {
      // Already decrypted: poll on the socket would not see it.
      if (auto fed = feed_from_tls(operation); !fed) return fed.error();
      continue;
    }
    pollfd pfd{};
    pfd.fd = context_->fd;
    pfd.events = POLLIN;
    int ready = 0;
    do {
      ready = ::poll(&pfd, 1, static_cast<int>(wait.count()));
    } while (ready < 0 && errno == EINTR);
    if (ready < 0) return io_failure_now(operation, errno);
    if (ready == 0) return std::optional<redis_reply_ptr>{};
    if (tls_) {
      // Only what is there now: the bytes may be a TLS record with no reply in it (a session
      // ticket), after which the connection must stay usable.
      char buffer[16 * 1024];
      auto got = tls_->read_ready(buffer, {operation, settings_->where});
      if (!got) return tls_failure(std::move(got).error());
      if (*got > 0 && redisReaderFeed(context_->reader, buffer, *got) != REDIS_OK) {
        return io_failure_now(operation, 0);
      }
      continue;
    }
    if (redisBufferRead(context_) != REDIS_OK) return io_failure_now(operation, errno);
  }
}

result<redis_reply_ptr> redis_connection::run(std::string_view operation,
                                              std::span<const std::string_view> argv) {
  append(argv);
  auto reply = read_reply(operation);
  if (!reply) return reply;
  if (auto c = check(operation, **reply); !c) return c.error();
  return reply;
}

result<void> redis_connection::check(std::string_view operation, const redisReply& reply) const {
  if (reply.type != REDIS_REPLY_ERROR) return {};
  const std::string_view text(reply.str, reply.len);
  // A master demoted under us answers writes with READONLY: ask the sentinels again.
  if (settings_->locator && text.starts_with("READONLY")) {
    settings_->locator->report_unusable(master_generation_);
  }
  return error_reply_failure(operation, settings_->where, text);
}

bool redis_connection::peer_closed() const noexcept {
  if (tls_) return tls_->peer_closed();
  pollfd pfd{};
  pfd.fd = context_->fd;
  pfd.events = POLLIN;
  const int ready = ::poll(&pfd, 1, 0);
  return ready != 0;  // readable (EOF or stray bytes), hung up, or poll itself failed
}

result<void> redis_connection::feed_from_tls(std::string_view operation) {
  char buffer[16 * 1024];  // one TLS record at most
  auto got = tls_->read_some(buffer, settings_->command_timeout, {operation, settings_->where});
  if (!got) return tls_failure(std::move(got).error());
  if (redisReaderFeed(context_->reader, buffer, *got) != REDIS_OK) {
    return io_failure_now(operation, 0);
  }
  return {};
}

failure redis_connection::tls_failure(failure f) noexcept {
  broken_ = true;
  return f;
}

failure redis_connection::io_failure_now(std::string_view operation, int saved_errno) {
  broken_ = true;
  if (context_->err == 0) {
    // hiredis failed without recording why (it cannot happen in 0.14, but a reply that is not
    // there must not leave the connection looking healthy).
    context_->err = REDIS_ERR_OTHER;
  }
  auto f = io_failure(operation, settings_->where, {context_->err, saved_errno, context_->errstr},
                      settings_->command_timeout, "command_timeout");
  report_lost(f);
  return f;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
