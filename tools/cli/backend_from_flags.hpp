// Which backend a live command (get, inspect, set, del, ttl, keys, invalidate, stats, health,
// bench) talks to: `--url` when given, else the environment `cache_options::from_env` reads
// (CACHEKIT_REDIS_URL, CACHEKIT_MEMCACHED_SERVERS, CACHEKIT_FILE_CACHE_DIR, REDIS_URL and their
// tuning variables). Master-key variables are left to the CLI (key_source.hpp): from_env would
// refuse a master key outside the `secure` preset, and the CLI only ever reads with it.
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/result.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit::cli {

/// Connections the Redis and memcached backends of `--url` may open (per server), so that
/// `bench --connections` up to this many never waits for one. Opened on demand.
inline constexpr std::size_t live_pool_size = 16;

/// The backend flags of the live commands.
struct backend_flags {
  /// `redis://[user:pass@]host[:port][/db]`, `unix:///path.sock`, `memcached://host:port[,...]`,
  /// `file:///absolute/dir`. nullopt: the environment.
  std::optional<std::string> url;
  /// Redis: the tenant of the `t:{tenant}:` key prefix (cachekit-py's zero-config layout).
  std::string redis_tenant = "default";
  /// Redis: keys as given, no `t:{tenant}:` (cachekit-py's explicit `RedisBackend(url)`).
  bool plain_keys = false;
  /// memcached: the prefix put in front of every key (CACHEKIT_MEMCACHED_KEY_PREFIX).
  std::string key_prefix;
  /// Connect and per-reply timeout of `--url` backends.
  std::chrono::milliseconds timeout = std::chrono::milliseconds(1000);
};

/// A backend built for the CLI, with what it needs to say where it is.
struct live_backend {
  std::shared_ptr<backend> store;
  /// "redis 127.0.0.1:6379/0, keys t:default:{key}": no password, for messages.
  std::string description;
  /// Redis only: the URL, for the commands the backend interface has no call for (INFO, the
  /// key registry set, SCAN).
  std::optional<std::string> redis_url;
  /// memcached only: the servers, "host:port" (for `stats`).
  std::vector<std::string> memcached_servers;
  /// How long the CLI's own connections (redis_admin, memcached stats) wait.
  std::chrono::milliseconds timeout = std::chrono::milliseconds(1000);
};

/// Reads an environment variable (nullopt when unset).
using env_reader = std::function<std::optional<std::string>(std::string_view)>;

/// Builds the backend of `flags`, else of the environment read through `env`.
/// Errors: errc::invalid_configuration naming the flag or variable and what to write; with
/// neither a `--url` nor a backend variable, a message listing both ways.
[[nodiscard]] result<live_backend> backend_from_flags(const backend_flags& flags,
                                                      const env_reader& env);

}  // namespace cachekit::cli
