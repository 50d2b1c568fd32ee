#include "key_explain.hpp"

#include "backends/redis/redis_key_layout.hpp"

#include <string_view>

namespace cachekit::cli {

const std::map<std::string, key_storage>& key_storage_names() {
  static const std::map<std::string, key_storage> names{{"cache", key_storage::cache},
                                                        {"redis", key_storage::redis},
                                                        {"redis-plain", key_storage::redis_plain},
                                                        {"memcached", key_storage::memcached}};
  return names;
}

std::string storage_key(const std::string& key, key_storage storage, const key_layouts& layouts) {
  switch (storage) {
    case key_storage::redis: return detail::tenant_key_prefix(layouts.redis_tenant) + key;
    case key_storage::memcached: return layouts.memcached_prefix + key;
    case key_storage::cache:
    case key_storage::redis_plain: break;
  }
  return key;
}

std::string explain_key(const std::string& key, const std::optional<std::string>& ns,
                        const key_layouts& layouts) {
  std::string out;
  auto line = [&out](std::string_view name, std::string_view text) {
    out.append("# ").append(name).append(": ").append(text).append("\n");
  };
  std::string_view rest = key;
  if (ns && !ns->empty() && rest.starts_with("ns:")) {
    line("namespace", "ns:" + *ns + ":");
    rest.remove_prefix(4 + ns->size());
  }
  const auto args = rest.find(":args:");
  if (rest.starts_with("func:") && args != std::string_view::npos) {
    line("function (module.qualname, sanitized)", rest.substr(0, args + 1));
    rest.remove_prefix(args + 1);
    const auto flags = rest.rfind(':');
    line("arguments (BLAKE2b-256 of the MessagePack [args, kwargs])", rest.substr(0, flags + 1));
    line("integrity checking (1 on, 0 off) and serializer (s: default msgpack)",
         rest.substr(flags + 1));
  } else {
    line("shortened key (over 250 characters: first 50 + ':' + BLAKE2b of the key)", rest);
  }
  line("redis key", detail::tenant_key_prefix(layouts.redis_tenant) + key +
                        "  (t:{tenant}: prefix of the Redis backend REDIS_URL / "
                        "CACHEKIT_REDIS_URL select; redis-cli GET this)");
  line("redis key, plain layout", key + "  (cachekit-py RedisBackend(url) with no tenant)");
  line("memcached key", layouts.memcached_prefix + key);
  line("file backend", "file named hex(BLAKE2b-128(key)) in CACHEKIT_FILE_CACHE_DIR");
  line("live commands", "cachekit get|inspect|del|ttl take the key without t:{tenant}:");
  return out;
}

}  // namespace cachekit::cli
