// Parses the Redis connection URL of `redis_options::url` into where and how to connect.
//
// Accepted (the redis-py forms cachekit-py users already write):
//   redis://[user:password@]host[:port][/db][?db=N]   port 6379, db 0 by default
//   redis://:password@host                             password alone (the "default" user)
//   redis://[::1]:6379                                 IPv6 literal in brackets
//   unix:///path/to/redis.sock[?db=N]                  absolute socket path
//   unix://relative/path.sock, unix:/path.sock         the rest of the URL is the path
//   redis+sentinel://[user:password@]h1[:p1][,h2[:p2]...]/service[/db]
//       [?sentinel_username=U&sentinel_password=P&db=N]
//                                                      the master of `service` as Redis Sentinel
//                                                      names it; sentinel port 26379 by default
//   rediss://...                                       as redis://, over TLS (port 6379 too)
//   redis+cluster://[user:password@]host1:port1[,host2:port2,...][/0]
//                                                      Redis Cluster seed nodes; db 0 only
//   rediss+cluster://...                               the same over TLS (every node)
// User, password, host and socket path are percent-decoded. `rediss://` and `rediss+cluster://`
// take redis-py's TLS parameters (percent-decoded values): ssl_cert_reqs=none|optional|required
// (required), ssl_ca_certs=<file>, ssl_ca_path=<dir>, ssl_certfile=<file>, ssl_keyfile=<file>,
// ssl_check_hostname=true|false (true when ssl_cert_reqs=required, else false). Another
// `ssl_*` name, or any of them on redis://, redis+cluster:// or unix://, is refused.
// For Sentinel the userinfo is the master's credentials (as for redis://); the sentinels are
// authenticated with the sentinel_* parameters (percent-decoded), or not at all.
// `rediss+sentinel://` is refused for now.
//
// No error message repeats the user name or the password.
//
// Thread-safe: stateless.
#pragma once

#include "backends/redis/redis_tls_settings.hpp"

#include <cachekit/result.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Where the sentinels of a `redis+sentinel://` URL are and how to log in to them.
struct redis_sentinel_settings {
  struct address {
    std::string host;
    int port = 26379;
  };

  std::vector<address> sentinels;  // in the URL's order, at least one
  std::string service;             // the master's name in `sentinel monitor <name> ...`
  std::string user;                // sentinel_username; empty: `AUTH password` or no AUTH
  std::string password;            // sentinel_password; secret: never in a message
  bool has_password = false;

  // "service 'mymaster' via sentinels h1:26379,h2:26380": for messages, no credentials.
  [[nodiscard]] std::string describe() const;
};

struct redis_endpoint {
  enum class transport { tcp, unix_socket };

  transport kind = transport::tcp;
  std::string host = "localhost";  // tcp only
  int port = 6379;                 // tcp only
  std::string socket_path;         // unix_socket only
  std::string user;                // empty: `AUTH password` (the default user)
  std::string password;            // secret: never in a message
  bool has_password = false;       // the URL had `:password@` (possibly empty)
  int db = 0;
  std::optional<redis_tls_settings> tls = std::nullopt;  // set iff the scheme is rediss://

  // One node named by a `redis+cluster://` URL.
  struct cluster_seed {
    std::string host;
    int port = 6379;
  };
  // `redis+cluster://`: the seeds, in URL order (host/port above are the first one's).
  bool cluster = false;
  std::vector<cluster_seed> seeds;

  // Set for redis+sentinel://: host and port above are unused, the master is asked of the
  // sentinels (redis_master_locator); user, password and db apply to the master.
  std::optional<redis_sentinel_settings> sentinel;

  // "host:port/db", "unix:/path?db=N", "cluster host:port,host:port" or
  // "sentinel:service/db", followed by " (tls)" over TLS: for messages; never holds the
  // credentials.
  [[nodiscard]] std::string describe() const;
};

// Parses `url`; failure: errc::invalid_configuration with a message that says what to write.
[[nodiscard]] result<redis_endpoint> parse_redis_url(std::string_view url);

// Decodes `%XX` escapes (either case); false on a malformed escape. `+` stays `+`.
[[nodiscard]] bool percent_decode(std::string_view in, std::string& out);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
