#include "backends/redis/redis_url.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::string_view accepted_forms =
    "write redis://[user:password@]host[:port][/db], redis://:password@host, "
    "rediss://host[:port][/db] (TLS) or unix:///path/to/redis.sock[?db=N]";

constexpr std::string_view tls_parameters =
    "ssl_cert_reqs=none|optional|required, ssl_ca_certs=<file>, ssl_ca_path=<dir>, "
    "ssl_certfile=<file>, ssl_keyfile=<file>, ssl_check_hostname=true|false";

failure bad_url(std::string what) {
  return fail(errc::invalid_configuration,
              "redis URL " + std::move(what) + "; " + std::string(accepted_forms));
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_decimal(std::string_view text, int max, int& out) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > max) return false;
  out = value;
  return true;
}

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// `user:password` → endpoint fields. The messages never quote either part.
result<void> parse_userinfo(std::string_view userinfo, redis_endpoint& ep) {
  const auto colon = userinfo.find(':');
  if (colon == std::string_view::npos) {
    return fail(errc::invalid_configuration,
                "redis URL has a user name but no password (no ':' before the '@'); for a "
                "password alone write redis://:password@host, for an ACL user "
                "redis://user:password@host");
  }
  if (!percent_decode(userinfo.substr(0, colon), ep.user)) {
    return bad_url("has a malformed %-escape in the user name");
  }
  if (!percent_decode(userinfo.substr(colon + 1), ep.password)) {
    return bad_url("has a malformed %-escape in the password");
  }
  ep.has_password = true;
  return {};
}

// redis-py's boolean spellings (redis.connection.to_bool, plus the usual true words).
bool parse_bool(std::string_view text, bool& out) {
  for (std::string_view word : {"true", "1", "yes", "y", "t", "false", "0", "no", "n", "f"}) {
    if (iequals(text, word)) {
      out = word == "true" || word == "1" || word == "yes" || word == "y" || word == "t";
      return true;
    }
  }
  return false;
}

// One `ssl_*` parameter of a rediss:// URL into `tls`.
result<void> parse_tls_parameter(std::string_view name, std::string_view raw_value,
                                 redis_tls_settings& tls, std::optional<bool>& check_hostname) {
  std::string value;
  if (!percent_decode(raw_value, value)) {
    return bad_url("has a malformed %-escape in the value of " + std::string(name));
  }
  if (name == "ssl_cert_reqs") {
    if (iequals(value, "none") || iequals(value, "cert_none")) {
      tls.verify_peer = false;
    } else if (iequals(value, "optional") || iequals(value, "cert_optional") ||
               iequals(value, "required") || iequals(value, "cert_required")) {
      // A server always presents a certificate, so for a client "optional" verifies it as
      // "required" does (Python's ssl.CERT_OPTIONAL); only the hostname default differs.
      tls.verify_peer = true;
      tls.verify_hostname = iequals(value, "required") || iequals(value, "cert_required");
    } else {
      return fail(errc::invalid_configuration,
                  "redis URL parameter ssl_cert_reqs must be none, optional or required");
    }
    return {};
  }
  if (name == "ssl_check_hostname") {
    bool on = false;
    if (!parse_bool(value, on)) {
      return fail(errc::invalid_configuration,
                  "redis URL parameter ssl_check_hostname must be true or false");
    }
    check_hostname = on;
    return {};
  }
  std::string* field = name == "ssl_ca_certs"   ? &tls.ca_file
                       : name == "ssl_ca_path"  ? &tls.ca_path
                       : name == "ssl_certfile" ? &tls.cert_file
                       : name == "ssl_keyfile"  ? &tls.key_file
                                                : nullptr;
  if (field == nullptr) {
    return fail(errc::invalid_configuration,
                "redis URL parameter '" + std::string(name.substr(0, 32)) +
                    "' is not a TLS parameter cachekit knows; the TLS parameters are " +
                    std::string(tls_parameters) +
                    " (set the server name for SNI in redis_options::tls.server_name)");
  }
  if (value.empty()) {
    return fail(errc::invalid_configuration, "redis URL parameter " + std::string(name) +
                                                 " is empty; give a file path or "
                                                 "leave the parameter out");
  }
  *field = std::move(value);
  return {};
}

// `db=N`, and on rediss:// (`tls` set) redis-py's `ssl_*` parameters: timeouts and the pool
// size are redis_options fields.
result<void> parse_query(std::string_view query, int& db, bool& db_set,
                         std::optional<redis_tls_settings>& tls) {
  std::optional<bool> check_hostname;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (param.empty()) continue;
    const auto eq = param.find('=');
    const auto name = param.substr(0, eq);
    if (name.starts_with("ssl_")) {
      if (!tls) {
        return fail(errc::invalid_configuration,
                    "redis URL parameter " + std::string(name.substr(0, 32)) +
                        " is a TLS parameter, and TLS needs the rediss:// scheme: write "
                        "rediss://host:port/db?" +
                        std::string(name.substr(0, 32)) + "=...");
      }
      const auto value = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
      if (auto t = parse_tls_parameter(name, value, *tls, check_hostname); !t) return t;
      continue;
    }
    if (name != "db") {
      return fail(errc::invalid_configuration,
                  "redis URL parameter '" + std::string(name.substr(0, 32)) +
                      "' is not supported: only ?db=N (and the ssl_* TLS parameters of "
                      "rediss://) are; set the pool size and timeouts in "
                      "redis_options (pool_size, connect_timeout, command_timeout)");
    }
    if (db_set) return bad_url("gives the database twice");
    if (eq == std::string_view::npos || !parse_decimal(param.substr(eq + 1), 1'000'000'000, db)) {
      return bad_url("has a db that is not a non-negative integer");
    }
    db_set = true;
  }
  if (tls && check_hostname) {
    if (*check_hostname && !tls->verify_peer) {
      return fail(errc::invalid_configuration,
                  "redis URL has ssl_check_hostname=true with ssl_cert_reqs=none: a host name "
                  "cannot be checked without verifying the certificate; drop one of them");
    }
    tls->verify_hostname = *check_hostname;
  }
  if (tls && !tls->verify_peer) tls->verify_hostname = false;
  return {};
}

// `host[:port]` or `[v6][:port]`, split (nothing decoded or checked beyond the brackets).
struct host_port_split {
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  std::optional<std::string> problem;  // what is wrong, as "has ..." for the URL's message
};

// `example_port` shows the bracketed form in the message for an unbracketed IPv6 address.
host_port_split split_host_port(std::string_view text, std::string_view example_port) {
  host_port_split out{.host = text, .port = {}, .has_port = false, .problem = std::nullopt};
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      out.problem = "has an IPv6 address without its ']'";
      return out;
    }
    out.host = text.substr(1, close - 1);
    const auto after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        out.problem = "has text after an IPv6 address's ']'";
        return out;
      }
      out.port = after.substr(1);
      out.has_port = true;
    }
  } else if (const auto colon = text.find(':'); colon != std::string_view::npos) {
    if (text.find(':', colon + 1) != std::string_view::npos) {
      out.problem =
          "has an IPv6 address outside brackets (write [::1]:" + std::string(example_port) + ")";
      return out;
    }
    out.host = text.substr(0, colon);
    out.port = text.substr(colon + 1);
    out.has_port = true;
  }
  return out;
}

result<redis_endpoint> parse_tcp(std::string_view rest, std::string_view query, bool tls) {
  redis_endpoint ep;
  if (tls) ep.tls.emplace();
  int db = 0;
  bool db_set = false;
  if (auto q = parse_query(query, db, db_set, ep.tls); !q) return std::move(q).error();

  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  const auto path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);

  std::string_view hostport = authority;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    if (auto u = parse_userinfo(authority.substr(0, at), ep); !u) return std::move(u).error();
    hostport = authority.substr(at + 1);
  }

  const auto split = split_host_port(hostport, "6379");
  if (split.problem) return bad_url(*split.problem);
  const std::string_view host = split.host;
  const std::string_view port_text = split.port;
  const bool has_port = split.has_port;
  if (has_port && !parse_decimal(port_text, 65535, ep.port)) {
    return bad_url("port '" + std::string(port_text.substr(0, 16)) +
                   "' is not a number from 1 to 65535");
  }
  if (has_port && ep.port == 0) return bad_url("port 0 is not a port");
  if (!host.empty()) {
    std::string decoded;
    if (!percent_decode(host, decoded)) return bad_url("has a malformed %-escape in the host");
    ep.host = std::move(decoded);
  }

  if (path.size() > 1) {
    int path_db = 0;
    if (!parse_decimal(path.substr(1), 1'000'000'000, path_db)) {
      return bad_url("path '" + std::string(path.substr(0, 32)) +
                     "' is not a database number such as /0");
    }
    if (db_set) return bad_url("gives the database twice (path and ?db=)");
    db = path_db;
  }
  ep.db = db;
  return ep;
}

result<redis_endpoint> parse_unix(std::string_view rest, std::string_view query) {
  redis_endpoint ep;
  ep.kind = redis_endpoint::transport::unix_socket;
  bool db_set = false;
  if (auto q = parse_query(query, ep.db, db_set, ep.tls); !q) return std::move(q).error();
  if (rest.starts_with("//")) rest.remove_prefix(2);
  // `unix://user:password@/path`: credentials end at an '@' that comes before any '/'.
  if (const auto at = rest.find('@');
      at != std::string_view::npos && rest.substr(0, at).find('/') == std::string_view::npos) {
    if (auto u = parse_userinfo(rest.substr(0, at), ep); !u) return std::move(u).error();
    rest.remove_prefix(at + 1);
  }
  if (!percent_decode(rest, ep.socket_path)) {
    return bad_url("has a malformed %-escape in the socket path");
  }
  if (ep.socket_path.empty() || ep.socket_path.back() == '/') {
    return bad_url("has no socket path (a file name such as /run/redis/redis.sock)");
  }
  return ep;
}

// ---- redis+sentinel:// ------------------------------------------------------------------

constexpr std::string_view sentinel_form =
    "write redis+sentinel://[user:password@]host1[:port1][,host2[:port2]...]/service_name[/db]"
    "[?sentinel_username=U&sentinel_password=P]";

failure bad_sentinel_url(std::string what) {
  return fail(errc::invalid_configuration,
              "redis sentinel URL " + std::move(what) + "; " + std::string(sentinel_form));
}

// One `host[:port]` of the sentinel list; `[v6]:port` in brackets.
result<redis_sentinel_settings::address> parse_sentinel_address(std::string_view text) {
  redis_sentinel_settings::address out;
  const auto split = split_host_port(text, "26379");
  if (split.problem) return bad_sentinel_url(*split.problem);
  const std::string_view host = split.host;
  const std::string_view port_text = split.port;
  const bool has_port = split.has_port;
  if (has_port && (!parse_decimal(port_text, 65535, out.port) || out.port == 0)) {
    return bad_sentinel_url("sentinel port '" + std::string(port_text.substr(0, 16)) +
                            "' is not a number from 1 to 65535");
  }
  if (host.empty()) return bad_sentinel_url("has an empty sentinel host (two commas in a row?)");
  if (!percent_decode(host, out.host)) {
    return bad_sentinel_url("has a malformed %-escape in a sentinel host");
  }
  return out;
}

// db, sentinel_username and sentinel_password; values percent-decoded. Never quotes a value.
result<void> parse_sentinel_query(std::string_view query, redis_endpoint& ep,
                                  redis_sentinel_settings& sentinel, bool& db_set) {
  bool user_set = false;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (param.empty()) continue;
    const auto eq = param.find('=');
    const auto name = param.substr(0, eq);
    const auto value = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
    if (name == "db") {
      if (db_set) return bad_sentinel_url("gives the database twice");
      if (!parse_decimal(value, 1'000'000'000, ep.db)) {
        return bad_sentinel_url("has a db that is not a non-negative integer");
      }
      db_set = true;
    } else if (name == "sentinel_username") {
      if (user_set) return bad_sentinel_url("gives sentinel_username twice");
      if (!percent_decode(value, sentinel.user)) {
        return bad_sentinel_url("has a malformed %-escape in sentinel_username");
      }
      user_set = true;
    } else if (name == "sentinel_password") {
      if (sentinel.has_password) return bad_sentinel_url("gives sentinel_password twice");
      if (!percent_decode(value, sentinel.password)) {
        return bad_sentinel_url("has a malformed %-escape in sentinel_password");
      }
      sentinel.has_password = true;
    } else {
      return fail(errc::invalid_configuration,
                  "redis sentinel URL parameter '" + std::string(name.substr(0, 32)) +
                      "' is not supported: only db, sentinel_username and sentinel_password "
                      "are; set the pool size and timeouts in redis_options");
    }
  }
  if (user_set && !sentinel.has_password) {
    return bad_sentinel_url("has sentinel_username without sentinel_password");
  }
  return {};
}

// `rest` is what follows "redis+sentinel://", without the query.
result<redis_endpoint> parse_sentinel(std::string_view rest, std::string_view query) {
  redis_endpoint ep;
  redis_sentinel_settings sentinel;
  bool db_set = false;
  if (auto q = parse_sentinel_query(query, ep, sentinel, db_set); !q) return std::move(q).error();

  const auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  const auto path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    if (auto u = parse_userinfo(authority.substr(0, at), ep); !u) return std::move(u).error();
    authority = authority.substr(at + 1);
  }
  if (authority.empty()) return bad_sentinel_url("names no sentinel");
  while (true) {
    const auto comma = authority.find(',');
    auto address = parse_sentinel_address(authority.substr(0, comma));
    if (!address) return std::move(address).error();
    sentinel.sentinels.push_back(std::move(*address));
    if (comma == std::string_view::npos) break;
    authority.remove_prefix(comma + 1);
  }

  // service_name[/db]
  const auto db_slash = path.find('/');
  const auto service = path.substr(0, db_slash);
  if (service.empty()) {
    return bad_sentinel_url("has no service name (the name in the sentinels' `sentinel monitor`)");
  }
  if (!percent_decode(service, sentinel.service)) {
    return bad_sentinel_url("has a malformed %-escape in the service name");
  }
  if (db_slash != std::string_view::npos) {
    const auto db_text = path.substr(db_slash + 1);
    if (!db_text.empty()) {
      int path_db = 0;
      if (!parse_decimal(db_text, 1'000'000'000, path_db)) {
        return bad_sentinel_url("path '" + std::string(db_text.substr(0, 32)) +
                                "' after the service name is not a database number such as 0");
      }
      if (db_set) return bad_sentinel_url("gives the database twice (path and ?db=)");
      ep.db = path_db;
    }
  }
  ep.host.clear();
  ep.port = 0;
  ep.sentinel = std::move(sentinel);
  return ep;
}

// The values of the sentinel_* parameters of `url`, raw and decoded: secrets for messages.
void add_sentinel_secrets(std::string_view url, std::vector<std::string>& secrets) {
  for (std::string_view name : {"sentinel_password=", "sentinel_username="}) {
    for (auto pos = url.find(name); pos != std::string_view::npos; pos = url.find(name, pos + 1)) {
      auto value = url.substr(pos + name.size());
      value = value.substr(0, value.find('&'));
      if (value.empty()) continue;
      secrets.emplace_back(value);
      std::string decoded;
      if (percent_decode(value, decoded) && !decoded.empty()) secrets.push_back(std::move(decoded));
    }
  }
}

// The messages above quote only ports, paths, parameter names and the like; this makes sure a
// password that happens to sit in one of those places is not repeated either.
failure without_credentials(failure f, std::string_view url) {
  const auto scheme_end = url.find("://");
  auto rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  const auto at = rest.rfind('@');
  std::vector<std::string> secrets;
  add_sentinel_secrets(url, secrets);
  if (at == std::string_view::npos && secrets.empty()) return f;
  const auto userinfo = at == std::string_view::npos ? std::string_view{} : rest.substr(0, at);
  for (auto part : {userinfo, userinfo.substr(std::min(userinfo.size(), userinfo.find(':') + 1))}) {
    if (part.empty()) continue;
    secrets.emplace_back(part);
    std::string decoded;
    if (percent_decode(part, decoded) && !decoded.empty()) secrets.push_back(std::move(decoded));
  }
  for (const auto& secret : secrets) {
    for (auto pos = f.detail.find(secret); pos != std::string::npos;
         pos = f.detail.find(secret, pos + 3)) {
      f.detail.replace(pos, secret.size(), "***");
    }
  }
  // A password with an unescaped '/' or '?' splits where the parser did not expect it, and a
  // fragment of it can land in a quoted port or path (`redis://:ab/cd@host` reads port "ab").
  // With credentials in the URL, no quoted piece of it is repeated; one-character quotes are
  // the message's own (`'#'`, `']'`).
  for (auto open = f.detail.find('\''); open != std::string::npos;
       open = f.detail.find('\'', open + 1)) {
    const auto close = f.detail.find('\'', open + 1);
    if (close == std::string::npos) break;
    if (close - open > 2) f.detail.replace(open + 1, close - open - 1, "***");
    open = f.detail.find('\'', open + 1);
    if (open == std::string::npos) break;
  }
  return f;
}

result<redis_endpoint> parse(std::string_view url);

// `[user:password@]host1:port1[,host2:port2,...][/0]` after `redis+cluster://`. Each seed is
// parsed as a redis:// authority, so IPv6 brackets and the default port work the same way.
result<redis_endpoint> parse_cluster(std::string_view rest, std::string_view query, bool tls) {
  redis_endpoint ep;
  ep.cluster = true;
  if (tls) ep.tls.emplace();
  int db = 0;
  bool db_set = false;
  if (auto q = parse_query(query, db, db_set, ep.tls); !q) return std::move(q).error();
  const auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  const auto path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    if (auto u = parse_userinfo(authority.substr(0, at), ep); !u) return std::move(u).error();
    authority.remove_prefix(at + 1);
  }
  if (path.size() > 1 && path != "/0") {
    return fail(errc::invalid_configuration,
                "redis+cluster URL path '" + std::string(path.substr(0, 32)) +
                    "' selects a database; Redis Cluster has only database 0: write /0 or "
                    "nothing");
  }
  if (db != 0) {
    return fail(errc::invalid_configuration, "redis+cluster URL asks for db " + std::to_string(db) +
                                                 "; Redis Cluster has only database 0: drop ?db=");
  }
  while (true) {
    const auto comma = authority.find(',');
    const auto piece = authority.substr(0, comma);
    if (piece.empty()) {
      return fail(errc::invalid_configuration,
                  "redis+cluster URL has an empty seed node; write "
                  "redis+cluster://[user:password@]host1:port1[,host2:port2,...]");
    }
    auto seed = parse_tcp(piece, {}, false);
    if (!seed) return std::move(seed).error();
    ep.seeds.push_back({.host = std::move(seed->host), .port = seed->port});
    if (comma == std::string_view::npos) break;
    authority.remove_prefix(comma + 1);
  }
  ep.host = ep.seeds.front().host;
  ep.port = ep.seeds.front().port;
  return ep;
}

}  // namespace

std::string redis_sentinel_settings::describe() const {
  std::string out = "service '" + service + "' via sentinels ";
  for (std::size_t i = 0; i < sentinels.size(); ++i) {
    if (i > 0) out.push_back(',');
    const bool v6 = sentinels[i].host.find(':') != std::string::npos;
    out += (v6 ? "[" + sentinels[i].host + "]" : sentinels[i].host) + ":" +
           std::to_string(sentinels[i].port);
  }
  return out;
}

std::string redis_endpoint::describe() const {
  const std::string db_text = std::to_string(db);
  if (sentinel) return "sentinel:" + sentinel->service + "/" + db_text;
  if (kind == transport::unix_socket) return "unix:" + socket_path + "?db=" + db_text;
  auto host_port = [](const std::string& h, int p) {
    const bool v6 = h.find(':') != std::string::npos;
    return (v6 ? "[" + h + "]" : h) + ":" + std::to_string(p);
  };
  const std::string tls_mark = tls ? " (tls)" : "";
  if (cluster) {
    std::string out = "cluster ";
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      if (i > 0) out += ',';
      out += host_port(seeds[i].host, seeds[i].port);
    }
    return out + tls_mark;
  }
  return host_port(host, port) + "/" + db_text + tls_mark;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_digit(in[i + 1]);
    const int lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

result<redis_endpoint> parse_redis_url(std::string_view url) {
  auto parsed = parse(url);
  if (!parsed) return without_credentials(std::move(parsed).error(), url);
  return parsed;
}

namespace {

result<redis_endpoint> parse(std::string_view url) {
  const auto colon = url.find(':');
  // Never quote the URL or its scheme: a scheme-less `user:password@host` would put the user
  // name where the scheme goes.
  if (colon == std::string_view::npos) {
    return bad_url("has no scheme (it must start with redis://, rediss:// or unix://)");
  }
  const auto scheme = url.substr(0, colon);
  auto rest = url.substr(colon + 1);
  if (iequals(scheme, "rediss+sentinel")) {
    return fail(errc::invalid_configuration,
                "rediss+sentinel:// (Sentinel with TLS) is not supported by this build yet; use "
                "redis+sentinel:// on a trusted network or through a TLS tunnel");
  }
  if (rest.find('#') != std::string_view::npos) return bad_url("has a '#' fragment");
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (iequals(scheme, "redis") || iequals(scheme, "rediss")) {
    const bool tls = iequals(scheme, "rediss");
    if (!rest.starts_with("//"))
      return bad_url(tls ? "must start with rediss://" : "must start with redis://");
    return parse_tcp(rest.substr(2), query, tls);
  }
  if (iequals(scheme, "unix")) return parse_unix(rest, query);
  if (iequals(scheme, "redis+sentinel")) {
    if (!rest.starts_with("//")) return bad_sentinel_url("must start with redis+sentinel://");
    return parse_sentinel(rest.substr(2), query);
  }
  if (iequals(scheme, "redis+cluster") || iequals(scheme, "rediss+cluster")) {
    const bool tls = iequals(scheme, "rediss+cluster");
    if (!rest.starts_with("//")) {
      return bad_url(tls ? "must start with rediss+cluster://"
                         : "must start with redis+cluster://");
    }
    return parse_cluster(rest.substr(2), query, tls);
  }
  return bad_url(
      "must start with redis://, rediss://, redis+cluster://, rediss+cluster://, "
      "redis+sentinel:// or unix://");
}

}  // namespace

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
