#include "redis_admin.hpp"

#include "backends/redis/redis_url.hpp"

#include <hiredis/hiredis.h>

#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace cachekit::cli {

struct redis_admin::connection {
  redisContext* ctx = nullptr;
  std::string where;
  ~connection() {
    if (ctx != nullptr) redisFree(ctx);
  }
};

namespace {

struct reply_deleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{.tv_sec = static_cast<time_t>(ms.count() / 1000),
                 .tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

failure io_failure(const redisContext* ctx, const std::string& where, std::string_view what) {
  const bool timed_out = ctx != nullptr && (ctx->err == REDIS_ERR_IO) &&
                         (errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT);
  std::string reason = ctx != nullptr ? std::string(ctx->errstr) : "out of memory";
  return fail(timed_out ? errc::timeout : errc::transient,
              "redis " + std::string(what) + " on " + where + ": " + reason +
                  " (is the server running? check the URL, or raise --timeout-ms)");
}

result<reply_ptr> run(redis_admin::connection* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  reply_ptr reply(static_cast<redisReply*>(
      redisCommandArgv(c->ctx, static_cast<int>(argv.size()), argv.data(), lens.data())));
  if (!reply) return io_failure(c->ctx, c->where, args.front());
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string text(reply->str, reply->len);
    const bool auth =
        text.starts_with("NOAUTH") || text.starts_with("WRONGPASS") || text.starts_with("NOPERM");
    return fail(auth ? errc::backend_authentication : errc::backend_permanent,
                "redis " + args.front() + " on " + c->where + ": " + text +
                    (auth ? "; check the user and password of the URL "
                            "(redis://user:password@host) and the user's ACL"
                          : ""));
  }
  return reply;
}

std::string glob_escape(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

// One step of SCAN / SSCAN: [cursor, [items]].
result<std::string> scan_step(redis_admin::connection* c, const std::vector<std::string>& args,
                              std::vector<std::string>& items) {
  auto reply = run(c, args);
  if (!reply) return std::move(reply).error();
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[1]->type != REDIS_REPLY_ARRAY) {
    return fail(errc::backend_permanent, "redis " + args.front() + ": unexpected reply shape");
  }
  for (std::size_t i = 0; i < r->element[1]->elements; ++i) {
    const redisReply* e = r->element[1]->element[i];
    items.emplace_back(e->str, e->len);
  }
  return std::string(r->element[0]->str, r->element[0]->len);
}

}  // namespace

redis_admin::redis_admin(std::unique_ptr<connection> c) : conn_(std::move(c)) {}
redis_admin::redis_admin(redis_admin&&) noexcept = default;
redis_admin& redis_admin::operator=(redis_admin&&) noexcept = default;
redis_admin::~redis_admin() = default;

result<redis_admin> redis_admin::connect(std::string_view url, std::chrono::milliseconds timeout) {
  auto endpoint = detail::parse_redis_url(url);
  if (!endpoint) return std::move(endpoint).error();
  if (endpoint->tls) {
    // These commands talk plain hiredis; over TLS they would wait for a server that is waiting
    // for a TLS hello. The cache operations themselves (redis_backend) do speak TLS.
    return fail(errc::not_supported,
                "the CLI's Redis admin commands do not speak TLS yet; run them against a "
                "redis:// address of the server (or through a TLS tunnel such as stunnel)");
  }
  if (endpoint->cluster || endpoint->sentinel) {
    // One plain connection to one node: on a cluster it would list a third of the keys, and a
    // sentinel is not the master. The cache operations (redis_backend) route as they should.
    return fail(errc::not_supported,
                "the CLI's Redis admin commands (keys, stats) talk to one server; run them "
                "against a redis:// address of each master (redis-cli --cluster call, or the "
                "master SENTINEL get-master-addr-by-name names)");
  }
  auto c = std::make_unique<connection>();
  const bool unix_socket = endpoint->kind == detail::redis_endpoint::transport::unix_socket;
  c->where = unix_socket ? "unix:" + endpoint->socket_path
                         : endpoint->host + ":" + std::to_string(endpoint->port);
  c->ctx =
      unix_socket
          ? redisConnectUnixWithTimeout(endpoint->socket_path.c_str(), to_timeval(timeout))
          : redisConnectWithTimeout(endpoint->host.c_str(), endpoint->port, to_timeval(timeout));
  if (c->ctx == nullptr || c->ctx->err != 0) return io_failure(c->ctx, c->where, "connect");
  redisSetTimeout(c->ctx, to_timeval(timeout));
  if (endpoint->has_password) {
    std::vector<std::string> auth{"AUTH"};
    if (!endpoint->user.empty()) auth.push_back(endpoint->user);
    auth.push_back(endpoint->password);
    if (auto ok = run(c.get(), auth); !ok) {
      return fail(errc::backend_authentication,
                  "redis AUTH on " + c->where + " refused: check the user and password in the URL");
    }
  }
  if (endpoint->db != 0) {
    if (auto ok = run(c.get(), {"SELECT", std::to_string(endpoint->db)}); !ok) {
      return std::move(ok).error();
    }
  }
  return redis_admin(std::move(c));
}

result<std::map<std::string, std::string>> redis_admin::info() {
  auto reply = run(conn_.get(), {"INFO"});
  if (!reply) return std::move(reply).error();
  std::map<std::string, std::string> out;
  std::string_view text((*reply)->str, (*reply)->len);
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
      out.emplace(line.substr(0, colon), line.substr(colon + 1));
    }
  }
  return out;
}

result<long long> redis_admin::dbsize() {
  auto reply = run(conn_.get(), {"DBSIZE"});
  if (!reply) return std::move(reply).error();
  return (*reply)->integer;
}

result<std::vector<std::string>> redis_admin::set_members(std::string_view key) {
  std::vector<std::string> out;
  std::string cursor = "0";
  do {
    auto next = scan_step(conn_.get(), {"SSCAN", std::string(key), cursor, "COUNT", "1000"}, out);
    if (!next) return std::move(next).error();
    cursor = std::move(*next);
  } while (cursor != "0");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

result<std::vector<std::string>> redis_admin::scan_prefix(std::string_view prefix,
                                                          std::size_t limit) {
  std::vector<std::string> out;
  std::string cursor = "0";
  const std::string pattern = glob_escape(prefix) + "*";
  do {
    auto next = scan_step(conn_.get(), {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}, out);
    if (!next) return std::move(next).error();
    cursor = std::move(*next);
  } while (cursor != "0" && out.size() < limit);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.size() > limit) out.resize(limit);
  return out;
}

result<long long> redis_admin::publish(std::string_view channel, std::string_view payload) {
  auto reply = run(conn_.get(), {"PUBLISH", std::string(channel), std::string(payload)});
  if (!reply) return std::move(reply).error();
  return (*reply)->integer;
}

result<std::size_t> redis_admin::unlink(const std::vector<std::string>& keys) {
  std::size_t removed = 0;
  for (std::size_t at = 0; at < keys.size(); at += 1000) {
    std::vector<std::string> args{"UNLINK"};
    const std::size_t end = std::min(keys.size(), at + 1000);
    args.insert(args.end(), keys.begin() + static_cast<std::ptrdiff_t>(at),
                keys.begin() + static_cast<std::ptrdiff_t>(end));
    auto reply = run(conn_.get(), args);
    if (!reply) return std::move(reply).error();
    removed += static_cast<std::size_t>((*reply)->integer);
  }
  return removed;
}

}  // namespace cachekit::cli
