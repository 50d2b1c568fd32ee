// Parses the Redis connection URL of `redis_options::url` into where and how to connect.
//
// Accepted (the redis-py forms cachekit-py users already write):
//   redis://[user:password@]host[:port][/db][?db=N]   port 6379, db 0 by default
//   redis://:password@host                             password alone (the "default" user)
//   redis://[::1]:6379                                 IPv6 literal in brackets
//   unix:///path/to/redis.sock[?db=N]                  absolute socket path
//   unix://relative/path.sock, unix:/path.sock         the rest of the URL is the path
//   rediss://...                                       as redis://, over TLS (port 6379 too)
//   redis+cluster://[user:password@]host1:port1[,host2:port2,...][/0]
//                                                      Redis Cluster seed nodes; db 0 only
//   rediss+cluster://...                               the same over TLS (every node)
// User, password, host and socket path are percent-decoded. `rediss://` and `rediss+cluster://`
// take redis-py's TLS parameters (percent-decoded values): ssl_cert_reqs=none|optional|required
// (required), ssl_ca_certs=<file>, ssl_ca_path=<dir>, ssl_certfile=<file>, ssl_keyfile=<file>,
// ssl_check_hostname=true|false (true when ssl_cert_reqs=required, else false). Another
// `ssl_*` name, or any of them on redis://, redis+cluster:// or unix://, is refused.
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

  // "host:port/db", "unix:/path?db=N" or "cluster host:port,host:port", followed by " (tls)"
  // over TLS: for messages; never holds the credentials.
  [[nodiscard]] std::string describe() const;
};

// Parses `url`; failure: errc::invalid_configuration with a message that says what to write.
[[nodiscard]] result<redis_endpoint> parse_redis_url(std::string_view url);

// Decodes `%XX` escapes (either case); false on a malformed escape. `+` stays `+`.
[[nodiscard]] bool percent_decode(std::string_view in, std::string& out);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
