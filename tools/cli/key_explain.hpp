// The key a backend really stores an entry under, and what each part of a default-mode key
// is: `cachekit key` prints the SDKs' cache key, which the Redis backend cachekit-py picks from
// REDIS_URL stores as `t:{tenant}:{key}`, so `redis-cli GET` on the bare key finds nothing.
// Thread-safe: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace cachekit::cli {

/// Which backend's key `cachekit key --storage` prints.
enum class key_storage {
  cache,        ///< the key the SDKs compute (what get/inspect/del take)
  redis,        ///< tenant-scoped Redis: `t:{tenant}:{key}` (REDIS_URL, CACHEKIT_REDIS_URL)
  redis_plain,  ///< cachekit-py's explicit `RedisBackend(url)`: the key as is
  memcached,    ///< `{CACHEKIT_MEMCACHED_KEY_PREFIX}{key}`
};
[[nodiscard]] const std::map<std::string, key_storage>& key_storage_names();

/// The settings the storage keys depend on.
struct key_layouts {
  std::string redis_tenant = "default";
  std::string memcached_prefix;
};

/// `key` as `storage` stores it.
[[nodiscard]] std::string storage_key(const std::string& key, key_storage storage,
                                      const key_layouts& layouts);

/// '#' lines: each part of `key` and the key under each backend.
[[nodiscard]] std::string explain_key(const std::string& key, const std::optional<std::string>& ns,
                                      const key_layouts& layouts);

}  // namespace cachekit::cli
