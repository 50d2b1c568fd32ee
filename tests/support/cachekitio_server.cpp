#include "support/cachekitio_server.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <csignal>
#include <deque>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace cachekit::testing {
namespace {

constexpr long long max_ttl = 2'592'000;

struct entry {
  std::string value;
  std::optional<long long> fresh_until;  // server seconds; nullopt: no expiry
  long long stale_window = 0;
  [[nodiscard]] std::optional<long long> evict_at() const {
    if (!fresh_until) return std::nullopt;
    return *fresh_until + stale_window;
  }
};

struct lock_entry {
  std::string id;
  double expires = 0;  // server seconds: `advance` moves locks too
};

struct response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool head = false;
};

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (text.size() - i < 3) return std::nullopt;
    const auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = hex(text[i + 1]);
    const int lo = hex(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool valid_key(const std::string& key) {
  if (key.empty() || key.size() > 1024) return false;
  return std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-';
  });
}

std::optional<long long> parse_seconds(const std::string& text, long long min, long long max) {
  if (text.empty() || text.size() > 8 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const long long v = std::stoll(text);
  if (v < min || v > max) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::string> cachekitio_server::recorded_request::header(
    const std::string& lowercase_name) const {
  std::optional<std::string> value;
  for (const auto& [n, v] : headers) {
    if (n != lowercase_name) continue;
    value = value ? *value + ", " + v : v;
  }
  return value;
}

struct cachekitio_server::state {
  SSL_CTX* ctx = nullptr;
  int listen_fd = -1;
  std::atomic<bool> stopping{false};
  std::thread acceptor;

  mutable std::mutex mutex;  // everything below
  std::vector<std::thread> workers;
  std::set<int> open_fds;
  std::size_t accepted = 0;
  std::map<std::string, entry> entries;
  std::map<std::string, lock_entry> locks;
  std::deque<fault> faults;
  std::vector<recorded_request> log;
  long long clock_offset = 0;
  std::size_t max_value_bytes = 25'000'000;
  std::uint64_t next_lock = 1;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  // Server seconds (fractional): a fixed epoch plus real time plus `advance`.
  double now() const {
    const double real =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return 1'000'000'000.0 + real + static_cast<double>(clock_offset);
  }

  void serve(int fd);
  response handle(const recorded_request& request);
  response handle_key(const std::string& method, const std::string& key, const std::string& sub,
                      const recorded_request& request, const std::string& api_key);
};

namespace {

bool ssl_write_all(SSL* ssl, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const int n = SSL_write(ssl, data.data() + sent, static_cast<int>(data.size() - sent));
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string serialize(const response& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  for (const auto& [n, v] : r.headers) out += n + ": " + v + "\r\n";
  out += "Cache-Control: no-store\r\nVary: Authorization\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n";
  if (!r.head) out += r.body;
  return out;
}

}  // namespace

void cachekitio_server::state::serve(int fd) {
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  std::string buffer;
  if (SSL_accept(ssl) == 1) {
    char chunk[16384];
    while (!stopping.load()) {
      std::size_t header_end = buffer.find("\r\n\r\n");
      while (header_end == std::string::npos) {
        const int n = SSL_read(ssl, chunk, sizeof chunk);
        if (n <= 0) goto done;
        buffer.append(chunk, static_cast<std::size_t>(n));
        header_end = buffer.find("\r\n\r\n");
      }
      recorded_request request;
      std::size_t content_length = 0;
      {
        const std::string head = buffer.substr(0, header_end);
        std::size_t line_end = head.find("\r\n");
        const std::string request_line = head.substr(0, line_end);
        const std::size_t sp1 = request_line.find(' ');
        const std::size_t sp2 = request_line.rfind(' ');
        if (sp1 == std::string::npos || sp2 == sp1) goto done;
        request.method = request_line.substr(0, sp1);
        request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
        std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
        while (pos < head.size()) {
          std::size_t next = head.find("\r\n", pos);
          if (next == std::string::npos) next = head.size();
          const std::string line = head.substr(pos, next - pos);
          const std::size_t colon = line.find(':');
          if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            std::string value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
              value.erase(0, 1);
            }
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
              value.pop_back();
            }
            if (name == "content-length") content_length = std::stoull(value);
            request.headers.emplace_back(std::move(name), std::move(value));
          }
          pos = next + 2;
        }
      }
      buffer.erase(0, header_end + 4);
      while (buffer.size() < content_length) {
        const int n = SSL_read(ssl, chunk, sizeof chunk);
        if (n <= 0) goto done;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      request.body = buffer.substr(0, content_length);
      buffer.erase(0, content_length);

      std::optional<fault> active;
      {
        std::lock_guard<std::mutex> hold(mutex);
        log.push_back(request);
        for (auto it = faults.begin(); it != faults.end(); ++it) {
          if (!it->method.empty() && it->method != request.method) continue;
          active = *it;
          if (--it->times <= 0) faults.erase(it);
          break;
        }
      }
      response r;
      if (active) {
        switch (active->kind) {
          case fault_kind::status:
            r.status = active->status;
            if (!active->retry_after.empty())
              r.headers.emplace_back("Retry-After", active->retry_after);
            r.body = "{\"error\": \"injected\"}";
            r.head = request.method == "HEAD";
            if (!ssl_write_all(ssl, serialize(r))) goto done;
            continue;
          case fault_kind::delay: std::this_thread::sleep_for(active->delay); break;
          case fault_kind::truncate:
            ssl_write_all(ssl,
                          "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-CacheKit-Freshness: "
                          "fresh\r\n\r\nonly ten b");
            goto done;
          case fault_kind::malformed: ssl_write_all(ssl, "THIS IS NOT HTTP\r\n\r\n"); goto done;
        }
      }
      r = handle(request);
      r.head = request.method == "HEAD";
      if (!ssl_write_all(ssl, serialize(r))) goto done;
    }
  }
done:
  SSL_shutdown(ssl);
  SSL_free(ssl);
  {
    std::lock_guard<std::mutex> hold(mutex);
    open_fds.erase(fd);
  }
  ::close(fd);
}

response cachekitio_server::state::handle(const recorded_request& request) {
  response r;
  const auto json = [&](int status, const nlohmann::json& body) {
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = body.dump();
    return r;
  };
  if (request.method == "OPTIONS") {
    r.status = 204;
    return r;
  }
  const std::string auth = request.header("authorization").value_or("");
  std::string api;
  if (auth.rfind("Bearer ", 0) == 0) api = auth.substr(7);
  if (api != live_key && api != sdk_key && api != cachekitio_server::api_key) {
    return json(401, {{"error", "unauthorized"}});
  }
  if (api == sdk_key) {
    const auto status = request.header("x-cachekit-l1-status");
    if (!status || (*status != "hit" && *status != "miss" && *status != "disabled")) {
      return json(400, {{"error", "X-CacheKit-L1-Status required"}});
    }
  }
  std::string path = request.target;
  const std::size_t query = path.find('?');
  if (query != std::string::npos) path.erase(query);
  const std::string prefix = "/v1/cache/";
  if (path.rfind(prefix, 0) != 0) return json(404, {{"error", "no route"}});
  const std::string rest = path.substr(prefix.size());
  if (rest == "health") {
    if (request.method != "GET") {
      r.headers.emplace_back("Allow", "GET");
      return json(405, {{"error", "method"}});
    }
    std::lock_guard<std::mutex> hold(mutex);
    return json(
        200, {{"status", "ok"}, {"cache_entries", entries.size()}, {"active_locks", locks.size()}});
  }
  std::string segment = rest;
  std::string sub;
  const std::size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    segment = rest.substr(0, slash);
    sub = rest.substr(slash + 1);
    if (sub != "ttl" && sub != "lock") return json(404, {{"error", "no route"}});
  }
  auto key = percent_decode(segment);
  if (!key || !valid_key(*key)) return json(400, {{"error", "invalid key"}});
  return handle_key(request.method, *key, sub, request, api);
}

response cachekitio_server::state::handle_key(const std::string& method, const std::string& key,
                                              const std::string& sub,
                                              const recorded_request& request,
                                              const std::string& api) {
  response r;
  const auto json = [&](int status, const nlohmann::json& body) {
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = body.dump();
    return r;
  };
  const auto not_allowed = [&](const char* allow) {
    r.headers.emplace_back("Allow", allow);
    return json(405, {{"error", "method not allowed"}});
  };
  const bool mutation = !(method == "GET" || method == "HEAD");
  if (mutation) {
    const bool ns = key.rfind("ns:", 0) == 0;
    const bool nsapi = key.rfind("nsapi:", 0) == 0;
    if ((api == sdk_key && nsapi) || (api == cachekitio_server::api_key && ns)) {
      return json(403, {{"error", "write space"}});
    }
  }
  std::lock_guard<std::mutex> hold(mutex);
  const double t = now();
  const auto whole = static_cast<long long>(std::floor(t));
  // An entry past evict_at is gone.
  if (auto it = entries.find(key); it != entries.end()) {
    if (auto evict = it->second.evict_at(); evict && t >= static_cast<double>(*evict)) {
      entries.erase(it);
    }
  }
  const auto found = entries.find(key);
  if (sub.empty()) {
    if (method == "GET" || method == "HEAD") {
      if (found == entries.end()) return json(404, {{"error", "not found"}});
      const entry& e = found->second;
      const bool stale = e.fresh_until && t >= static_cast<double>(*e.fresh_until);
      r.status = 200;
      r.headers.emplace_back("Content-Type", "application/octet-stream");
      r.headers.emplace_back("X-CacheKit-Freshness", stale ? "stale" : "fresh");
      r.headers.emplace_back("X-CacheKit-Store-Source", "store");
      if (method == "GET" && e.fresh_until) {
        const long long left =
            stale ? 0 : std::max(0LL, static_cast<long long>(std::floor(*e.fresh_until - t)));
        r.headers.emplace_back("X-CacheKit-Fresh-For", std::to_string(left));
      }
      r.body = e.value;
      return r;
    }
    if (method == "PUT") {
      std::optional<long long> ttl;
      std::optional<long long> stale_ttl;
      auto ttl_text = request.header("x-cachekit-ttl");
      if (!ttl_text) ttl_text = request.header("x-ttl");
      if (ttl_text) {
        ttl = parse_seconds(*ttl_text, 1, max_ttl);
        if (!ttl) return json(400, {{"error", "invalid ttl"}});
      }
      if (auto s = request.header("x-cachekit-stale-ttl")) {
        stale_ttl = parse_seconds(*s, 0, max_ttl - 1);
        if (!stale_ttl || !ttl || *ttl + *stale_ttl > max_ttl) {
          return json(400, {{"error", "invalid stale ttl"}});
        }
      }
      if (request.body.size() > max_value_bytes) return json(413, {{"error", "too large"}});
      entry e;
      e.value = request.body;
      if (ttl) e.fresh_until = whole + *ttl;
      e.stale_window = stale_ttl.value_or(0);
      entries[key] = std::move(e);
      return json(200, {{"success", true}});
    }
    if (method == "DELETE") {
      entries.erase(key);
      return json(200, {{"success", true}});
    }
    return not_allowed("GET, HEAD, PUT, DELETE");
  }
  if (sub == "ttl") {
    if (method == "GET") {
      if (found == entries.end()) return json(404, {{"error", "not found"}});
      const auto evict = found->second.evict_at();
      if (!evict) return json(200, {{"ttl", nullptr}});
      return json(200, {{"ttl", *evict - whole}});
    }
    if (method == "PATCH") {
      const auto body = nlohmann::json::parse(request.body, nullptr, false);
      if (!body.is_object() || !body.contains("ttl") || !body["ttl"].is_number_integer()) {
        return json(400, {{"error", "invalid ttl"}});
      }
      const long long ttl = body["ttl"].get<long long>();
      if (ttl < 1 || ttl > max_ttl) return json(400, {{"error", "invalid ttl"}});
      if (found == entries.end()) return json(200, {{"success", true}});
      entry& e = found->second;
      if (e.fresh_until && t >= static_cast<double>(*e.fresh_until)) {
        return json(409, {{"error", "stale"}});
      }
      if (ttl + e.stale_window > max_ttl) return json(400, {{"error", "ttl + stale over cap"}});
      e.fresh_until = whole + ttl;
      return json(200, {{"success", true}});
    }
    return not_allowed("GET, PATCH");
  }
  // lock
  if (method == "POST") {
    const auto body = nlohmann::json::parse(request.body, nullptr, false);
    long long timeout_ms = 5000;
    if (body.is_object() && body.contains("timeout_ms") && body["timeout_ms"].is_number_integer()) {
      timeout_ms = body["timeout_ms"].get<long long>();
    }
    auto it = locks.find(key);
    if (it != locks.end() && it->second.expires > t) return json(200, {{"lock_id", nullptr}});
    const std::string id = "lock-" + std::to_string(next_lock++) + "-7f3c";
    locks[key] = lock_entry{id, t + static_cast<double>(timeout_ms) / 1000.0};
    return json(200, {{"lock_id", id}});
  }
  if (method == "DELETE") {
    auto id = request.header("x-cachekit-lock-id");
    if (!id || id->find_first_not_of(" \t") == std::string::npos) {
      return json(400, {{"error", "lock id required"}});
    }
    auto it = locks.find(key);
    if (it != locks.end() && it->second.id == *id) locks.erase(it);
    return json(200, {{"success", true}});
  }
  return not_allowed("POST, DELETE");
}

std::unique_ptr<cachekitio_server> cachekitio_server::start(const tls_certificates& certificates) {
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the test
  std::unique_ptr<cachekitio_server> server(new cachekitio_server());
  server->state_ = std::make_unique<state>();
  state& s = *server->state_;
  s.ctx = SSL_CTX_new(TLS_server_method());
  if (s.ctx == nullptr ||
      SSL_CTX_use_certificate_chain_file(s.ctx, certificates.server_cert().c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(s.ctx, certificates.server_key().c_str(), SSL_FILETYPE_PEM) !=
          1) {
    throw std::runtime_error("cachekitio_server: TLS setup failed");
  }
  s.listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const int yes = 1;
  ::setsockopt(s.listen_fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(s.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(s.listen_fd, 128) != 0) {
    throw std::runtime_error("cachekitio_server: cannot listen on loopback");
  }
  socklen_t len = sizeof addr;
  ::getsockname(s.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  server->port_ = ntohs(addr.sin_port);
  s.acceptor = std::thread([&s] {
    while (!s.stopping.load()) {
      const int fd = ::accept(s.listen_fd, nullptr, nullptr);
      if (fd < 0) {
        if (s.stopping.load()) return;
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard<std::mutex> hold(s.mutex);
      if (s.stopping.load()) {
        ::close(fd);
        return;
      }
      ++s.accepted;
      s.open_fds.insert(fd);
      s.workers.emplace_back([&s, fd] { s.serve(fd); });
    }
  });
  return server;
}

cachekitio_server::~cachekitio_server() {
  if (!state_) return;
  state& s = *state_;
  s.stopping.store(true);
  ::shutdown(s.listen_fd, SHUT_RDWR);
  if (s.acceptor.joinable()) s.acceptor.join();
  ::close(s.listen_fd);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> hold(s.mutex);
    for (int fd : s.open_fds) ::shutdown(fd, SHUT_RDWR);
    workers.swap(s.workers);
  }
  for (auto& w : workers) w.join();
  SSL_CTX_free(s.ctx);
}

std::string cachekitio_server::url() const {
  return std::string("https://") + host + ":" + std::to_string(port_);
}

std::string cachekitio_server::resolve_entry() const {
  return std::string(host) + ":" + std::to_string(port_) + ":127.0.0.1";
}

void cachekitio_server::advance(std::chrono::seconds by) {
  std::lock_guard<std::mutex> hold(state_->mutex);
  state_->clock_offset += by.count();
}

void cachekitio_server::inject(fault f) {
  std::lock_guard<std::mutex> hold(state_->mutex);
  state_->faults.push_back(std::move(f));
}

void cachekitio_server::clear_faults() {
  std::lock_guard<std::mutex> hold(state_->mutex);
  state_->faults.clear();
}

void cachekitio_server::set_max_value_bytes(std::size_t bytes) {
  std::lock_guard<std::mutex> hold(state_->mutex);
  state_->max_value_bytes = bytes;
}

void cachekitio_server::put(const std::string& key, const std::string& value,
                            std::optional<long long> ttl, std::optional<long long> stale_ttl) {
  std::lock_guard<std::mutex> hold(state_->mutex);
  entry e;
  e.value = value;
  if (ttl) e.fresh_until = static_cast<long long>(std::floor(state_->now())) + *ttl;
  e.stale_window = stale_ttl.value_or(0);
  state_->entries[key] = std::move(e);
}

std::optional<std::string> cachekitio_server::stored(const std::string& key) const {
  std::lock_guard<std::mutex> hold(state_->mutex);
  auto it = state_->entries.find(key);
  if (it == state_->entries.end()) return std::nullopt;
  return it->second.value;
}

std::vector<std::string> cachekitio_server::keys() const {
  std::lock_guard<std::mutex> hold(state_->mutex);
  std::vector<std::string> out;
  for (const auto& [k, e] : state_->entries) out.push_back(k);
  return out;
}

void cachekitio_server::flush() {
  std::lock_guard<std::mutex> hold(state_->mutex);
  state_->entries.clear();
  state_->locks.clear();
}

std::vector<cachekitio_server::recorded_request> cachekitio_server::requests() const {
  std::lock_guard<std::mutex> hold(state_->mutex);
  return state_->log;
}

void cachekitio_server::clear_requests() {
  std::lock_guard<std::mutex> hold(state_->mutex);
  state_->log.clear();
}

std::size_t cachekitio_server::connections_accepted() const {
  std::lock_guard<std::mutex> hold(state_->mutex);
  return state_->accepted;
}

}  // namespace cachekit::testing
