// `cache_options::from_env`: the environment as cachekit-py 0.24.1 reads it.
//
// Sources, relative to cachekit-py's `site-packages/cachekit/`:
// - `config/settings.py` (CachekitConfig, prefix CACHEKIT_): the L1 and value-size limits, the
//   master keys and the deployment UUID. Every decorator but `@cache.local` loads it when it is
//   applied, so a value it refuses fails every intent but `local`.
// - `cache_handler.py` (CacheSerializationHandler): a master key with no encryption intent is a
//   ConfigurationError; `_resolve_single_tenant_id` canonicalizes the deployment UUID.
// - `decorators/intent.py`: `@cache.secure` without a key raises; `@cache.local` reads nothing.
// - `backends/provider.py` (DefaultBackendProvider): the four exclusive selectors, the REDIS_URL
//   fallback, tenant-scoped Redis with tenant "default"; `decorators/wrapper.py`: with nothing
//   configured a plaintext decorator is L1-only, an encrypted one gets Redis at localhost.
// - `backends/{redis,memcached,file}/config.py`: each backend's variables, read only when that
//   backend is the one selected.
//
// No message repeats a value: any variable may hold a secret pasted into the wrong place
// (cachekit-py's settings use hide_input_in_errors for the same reason).
#include "cache/env_config.hpp"
#include "cache/env_reader.hpp"
#include "cache/io_backend_hook.hpp"

#include "core/wipe.hpp"
#include "protocol/crypto/master_key.hpp"

#include <cachekit/encryption.hpp>
#include <cachekit/file_backend.hpp>
#include <cachekit/logging.hpp>
#include <cachekit/memcached_backend.hpp>
#include <cachekit/redis_backend.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <utility>
#include <vector>

extern char** environ;  // NOLINT: POSIX; declared by <unistd.h> only under _GNU_SOURCE

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

using env_lookup = cache_options::env_lookup;

constexpr std::string_view api_key_var = "CACHEKIT_API_KEY";
constexpr std::string_view redis_url_var = "CACHEKIT_REDIS_URL";
constexpr std::string_view memcached_servers_var = "CACHEKIT_MEMCACHED_SERVERS";
constexpr std::string_view file_cache_dir_var = "CACHEKIT_FILE_CACHE_DIR";
constexpr std::string_view fallback_redis_url_var = "REDIS_URL";
constexpr std::string_view master_key_var = "CACHEKIT_MASTER_KEY";
constexpr std::string_view previous_keys_var = "CACHEKIT_PREVIOUS_MASTER_KEYS";
constexpr std::string_view deployment_uuid_var = "CACHEKIT_DEPLOYMENT_UUID";
constexpr std::string_view redis_key_layout_var = "CACHEKIT_REDIS_KEY_LAYOUT";

// DefaultBackendProvider._SELECTORS: mutually exclusive, not a precedence chain.
constexpr std::array<std::string_view, 4> selectors{api_key_var, redis_url_var,
                                                    memcached_servers_var, file_cache_dir_var};

// RedisBackendConfig's default URL: where cachekit-py's encrypted decorators go with nothing set.
constexpr std::string_view default_redis_url = "redis://localhost:6379";
constexpr std::size_t mebibyte = std::size_t{1024} * 1024;
// Timeouts become whole milliseconds; this keeps them within what poll() and timeval accept.
constexpr double max_timeout_seconds = 2'147'483.0;

// `what()` of a cachekit::error is "<detail>: <code message>"; the failure carries the two apart.
std::string detail_of(const cachekit::error& e) {
  std::string text = e.what();
  const std::string suffix = ": " + e.code().message();
  if (text.size() >= suffix.size() &&
      text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0) {
    text.resize(text.size() - suffix.size());
  }
  return text;
}

// Builds a backend, turning the constructor's cachekit::error into a failure named by `source`.
template <typename Backend, typename Options>
result<std::shared_ptr<backend>> build_backend(Options options, std::string_view source) {
  try {
    return std::shared_ptr<backend>(std::make_shared<Backend>(std::move(options)));
  } catch (const cachekit::error& e) {
    return failure{e.code(), std::string(source) + ": " + detail_of(e)};
  }
}

// ---- CachekitConfig (config/settings.py) -------------------------------------------------

// Settings cachekit-py validates at load but that change nothing in this SDK: refused when
// cachekit-py would refuse them, so one environment is valid for both or for neither.
result<void> check_unused_settings(const env_reader& env) {
  if (auto r = env.integer({"CACHEKIT_L1_CLEANUP_INTERVAL_SECONDS", 1, no_upper_bound,
                            "seconds; cachekit-py's default is 30"});
      !r) {
    return std::move(r).error();
  }
  if (auto r = env.number({"CACHEKIT_LOG_SAMPLING_RATE", 0.0, 1.0, false,
                           "a fraction; cachekit-py's default is 0.1"});
      !r) {
    return std::move(r).error();
  }
  if (const auto arrow = env.get("CACHEKIT_ARROW_COMPRESSION");
      arrow && *arrow != "zstd" && *arrow != "lz4" && *arrow != "none") {
    return fail(errc::invalid_configuration,
                "CACHEKIT_ARROW_COMPRESSION must be zstd, lz4 or none (lower case)");
  }
  for (std::string_view var : {"CACHEKIT_ENCRYPTION_FAIL_CLOSED", "CACHEKIT_DEV_MODE",
                               "CACHEKIT_INVALIDATION_LISTENER_ENABLED"}) {
    if (auto r = env.boolean(var); !r) return std::move(r).error();
  }
  return {};
}

// CACHEKIT_INVALIDATION_LISTENER_ENABLED (cachekit-py's), then ours, CACHEKIT_L1_COHERENCE,
// which wins when both are set.
result<l1_coherence> read_coherence(const env_reader& env) {
  l1_coherence mode = l1_coherence::ttl_only;
  auto listener = env.boolean("CACHEKIT_INVALIDATION_LISTENER_ENABLED");
  if (!listener) return std::move(listener).error();
  if (listener->value_or(false)) mode = l1_coherence::invalidation_events;
  if (const auto text = env.get("CACHEKIT_L1_COHERENCE")) {
    if (*text == "ttl") {
      mode = l1_coherence::ttl_only;
    } else if (*text == "events") {
      mode = l1_coherence::invalidation_events;
    } else if (*text == "tracking") {
      mode = l1_coherence::redis_tracking;
    } else {
      return fail(errc::invalid_configuration,
                  "CACHEKIT_L1_COHERENCE must be ttl (L1 copies live their TTL), events "
                  "(cachekit-py's invalidation events) or tracking (Redis client-side caching; "
                  "any client's change drops the copy)");
    }
  }
  return mode;
}

// `[item.strip() for item in value.split(",") if item.strip()]`
std::vector<std::string_view> split_key_list(std::string_view text) {
  std::vector<std::string_view> items;
  while (true) {
    const auto comma = text.find(',');
    const auto item = trim(text.substr(0, comma));
    if (!item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

struct master_keys {
  std::optional<std::string> current_hex;  // CACHEKIT_MASTER_KEY when set and non-empty
  std::vector<secret_bytes> previous;

  master_keys() = default;
  master_keys(master_keys&&) noexcept = default;
  master_keys& operator=(master_keys&&) noexcept = default;
  ~master_keys() {  // the hex is the key: no copy left in freed heap
    if (current_hex) wipe(*current_hex);
  }
};

// CachekitConfig.validate_previous_master_keys: at most 3, each hex of at least 32 bytes, and
// not the current key (compared as bytes, when the current key is valid hex).
result<master_keys> read_master_keys(const env_reader& env) {
  master_keys keys;
  keys.current_hex = env.non_empty(master_key_var);

  std::optional<std::string> previous_text = env.get(previous_keys_var);
  const wipe_on_exit wipe_previous(previous_text);
  const auto previous_hex =
      previous_text ? split_key_list(*previous_text) : std::vector<std::string_view>{};
  if (previous_hex.size() > max_previous_master_keys) {
    return fail(errc::invalid_configuration,
                std::string(previous_keys_var) + " lists " + std::to_string(previous_hex.size()) +
                    " keys; at most " + std::to_string(max_previous_master_keys) +
                    " are kept and none is dropped silently: remove the oldest");
  }
  for (std::size_t i = 0; i < previous_hex.size(); ++i) {
    const std::string name = std::string(previous_keys_var) + " entry #" + std::to_string(i + 1);
    auto key = parse_master_key_named(previous_hex[i], name);
    if (!key) return std::move(key).error();
    keys.previous.push_back(std::move(*key));
  }

  if (keys.current_hex && !keys.previous.empty()) {
    if (auto current = parse_master_key_named(*keys.current_hex, master_key_var)) {
      for (std::size_t i = 0; i < keys.previous.size(); ++i) {
        if (current->equals(keys.previous[i].view())) {
          return fail(errc::invalid_configuration,
                      std::string(master_key_var) + " also appears in " +
                          std::string(previous_keys_var) + " (entry #" + std::to_string(i + 1) +
                          "); rotation only moves forward: re-using a retired key risks AES-GCM "
                          "nonce reuse. Generate a fresh key with: openssl rand -hex 32");
        }
      }
    }
  }
  return keys;
}

// _resolve_single_tenant_id: CACHEKIT_DEPLOYMENT_UUID in canonical form, else "default".
result<std::string> read_tenant(const env_reader& env) {
  const auto text = env.non_empty(deployment_uuid_var);
  if (!text) return std::string("default");
  auto canonical = canonical_uuid(*text);
  if (!canonical) {
    return fail(errc::invalid_configuration,
                std::string(deployment_uuid_var) +
                    " must be a UUID such as 6f1c2b7e-3d4a-4c5b-9e8f-0a1b2c3d4e5f (generate one "
                    "with: uuidgen), or unset for the tenant \"default\"");
  }
  return std::move(*canonical);
}

result<encryption_options> make_encryption(master_keys keys, std::string tenant) {
  if (!keys.current_hex) {
    return fail(errc::invalid_master_key,
                "intent::secure encrypts every entry and needs " + std::string(master_key_var) +
                    ": set it to 64 hex characters (32 bytes); generate one with: openssl rand "
                    "-hex 32");
  }
  auto current = parse_master_key_named(*keys.current_hex, master_key_var);
  if (!current) return std::move(current).error();
  if (auto ok = check_looks_random(current->view(), master_key_var); !ok) {
    return std::move(ok).error();
  }
  // Keys decoded from hex: the hex rule (at least 32 bytes), not the raw-bytes one.
  auto ring =
      detail::keyring_access::from_decoded_keys(std::move(*current), std::move(keys.previous));
  if (!ring) {
    const auto& f = ring.error();
    return failure{f.code, std::string(master_key_var) + " / " + std::string(previous_keys_var) +
                               ": " + f.detail};
  }
  return encryption_options{.keys = std::move(*ring), .tenant = std::move(tenant)};
}

// ---- backends ------------------------------------------------------------------------------

// RedisBackendConfig: pool 50; DefaultBackendProvider: tenant-scoped, "default". Timeouts left
// unset keep redis_options' 200 ms rather than cachekit-py's 5 s (redis_backend.hpp says why).
result<redis_options> read_redis_options(const env_reader& env, std::string url) {
  redis_options options{.url = std::move(url),
                        .pool_size = 50,
                        .key_layout = redis_key_layout::tenant_scoped,
                        .tenant = "default"};
  auto pool = env.integer({"CACHEKIT_CONNECTION_POOL_SIZE", 1, no_upper_bound,
                           "connections; cachekit-py's default is 50"});
  if (!pool) return std::move(pool).error();
  if (*pool) options.pool_size = static_cast<std::size_t>(**pool);
  auto command =
      env.timeout({"CACHEKIT_SOCKET_TIMEOUT", 0.0, max_timeout_seconds, true,
                   "seconds, e.g. 0.2 or 1; 0.2 when unset, where cachekit-py waits 5.0"});
  if (!command) return std::move(command).error();
  if (*command) options.command_timeout = **command;
  auto connect =
      env.timeout({"CACHEKIT_SOCKET_CONNECT_TIMEOUT", 0.0, max_timeout_seconds, true,
                   "seconds, e.g. 0.2 or 1; 0.2 when unset, where cachekit-py waits 5.0"});
  if (!connect) return std::move(connect).error();
  if (*connect) options.connect_timeout = **connect;
  for (std::string_view var : {"CACHEKIT_SOCKET_KEEPALIVE", "CACHEKIT_DISABLE_HIREDIS"}) {
    if (auto r = env.boolean(var); !r) return std::move(r).error();
  }
  // Ours, not cachekit-py's: there the plain layout is an explicit `RedisBackend(url)`, which
  // no variable selects. Interop mode needs bare keys (cache::memoize_interop).
  if (const auto layout = env.get(redis_key_layout_var)) {
    if (*layout == "plain") {
      options.key_layout = redis_key_layout::plain;
    } else if (*layout != "tenant_scoped") {
      return fail(errc::invalid_configuration,
                  std::string(redis_key_layout_var) +
                      " is neither tenant_scoped nor plain; set it to tenant_scoped (keys under "
                      "t:default:, as cachekit-py's zero-config Redis; the default) or plain "
                      "(bare keys, as cachekit-py's RedisBackend(url); needed by interop mode)");
    }
  }
  return options;
}

result<std::shared_ptr<backend>> redis_from_env(const env_reader& env, std::string url,
                                                std::string_view source) {
  auto options = read_redis_options(env, std::move(url));
  if (!options) return std::move(options).error();
  return build_backend<redis_backend>(std::move(*options), source);
}

// MemcachedBackendConfig (prefix CACHEKIT_MEMCACHED_); `servers` is JSON, as pydantic-settings
// reads a list field.
result<memcached_options> read_memcached_options(const env_reader& env,
                                                 std::string_view servers_json) {
  memcached_options options;
  const auto parsed = nlohmann::json::parse(servers_json, nullptr, false);
  const bool strings =
      parsed.is_array() && std::all_of(parsed.begin(), parsed.end(),
                                       [](const nlohmann::json& item) { return item.is_string(); });
  if (!strings || parsed.empty()) {
    return fail(errc::invalid_configuration,
                std::string(memcached_servers_var) +
                    " must be a JSON list of one or more \"host:port\" strings, e.g. "
                    "[\"10.0.0.5:11211\", \"10.0.0.6:11211\"] (cachekit-py reads it as JSON)");
  }
  options.servers.clear();
  for (const auto& item : parsed) options.servers.push_back(item.get<std::string>());

  auto connect =
      env.timeout({"CACHEKIT_MEMCACHED_CONNECT_TIMEOUT", 0.1, 30.0, false,
                   "seconds, e.g. 0.2 or 1; 0.2 when unset, where cachekit-py waits 2.0"});
  if (!connect) return std::move(connect).error();
  if (*connect) options.connect_timeout = **connect;
  auto timeout =
      env.timeout({"CACHEKIT_MEMCACHED_TIMEOUT", 0.1, 30.0, false,
                   "seconds, e.g. 0.2 or 1; 0.2 when unset, where cachekit-py waits 1.0"});
  if (!timeout) return std::move(timeout).error();
  if (*timeout) options.timeout = **timeout;
  auto pool = env.integer({"CACHEKIT_MEMCACHED_MAX_POOL_SIZE", 1, 100,
                           "connections per server; cachekit-py's default is 10"});
  if (!pool) return std::move(pool).error();
  if (*pool) options.pool_size = static_cast<std::size_t>(**pool);
  auto retries = env.integer({"CACHEKIT_MEMCACHED_RETRY_ATTEMPTS", 0, 10,
                              "failures before a server is skipped; cachekit-py's default is 2"});
  if (!retries) return std::move(retries).error();
  if (*retries) options.retry_attempts = static_cast<int>(**retries);
  auto item_size = env.integer({"CACHEKIT_MEMCACHED_MAX_ITEM_SIZE_BYTES", 0, no_upper_bound,
                                "bytes, 0 for no check; cachekit-py's default is 1048576"});
  if (!item_size) return std::move(item_size).error();
  if (*item_size) options.max_item_size = static_cast<std::size_t>(**item_size);
  if (auto prefix = env.get("CACHEKIT_MEMCACHED_KEY_PREFIX"))
    options.key_prefix = std::move(*prefix);

  return options;
}

// A file mode as cachekit-py reads it: a decimal integer (pydantic int), so 0600 is "384".
result<std::optional<std::filesystem::perms>> file_mode(const env_reader& env,
                                                        std::string_view var) {
  const auto text = env.get(var);
  if (!text) return std::optional<std::filesystem::perms>{};
  const auto value = parse_integer(*text);
  if (!value || *value < 0 || *value > 0777) {
    return fail(errc::invalid_configuration,
                std::string(var) +
                    " must be a mode written as a decimal number from 0 to 511, as cachekit-py "
                    "reads it: 384 for 0600, 448 for 0700 (octal 0600 read as decimal would be "
                    "mode 01130)");
  }
  return std::optional<std::filesystem::perms>{static_cast<std::filesystem::perms>(*value)};
}

// FileBackendConfig (prefix CACHEKIT_FILE_). The backend checks the ranges and the relation of
// max_value_mb to max_size_mb itself; this reads the numbers.
result<file_backend_options> read_file_options(const env_reader& env, std::string cache_dir) {
  file_backend_options options;
  options.cache_dir = std::move(cache_dir);
  auto size = env.integer(
      {"CACHEKIT_FILE_MAX_SIZE_MB", 1, 1'000'000, "megabytes; cachekit-py's default is 1024"});
  if (!size) return std::move(size).error();
  if (*size) options.max_size_mb = static_cast<std::size_t>(**size);
  auto value = env.integer({"CACHEKIT_FILE_MAX_VALUE_MB", 1, no_upper_bound,
                            "megabytes, at most half of CACHEKIT_FILE_MAX_SIZE_MB; cachekit-py's "
                            "default is 100"});
  if (!value) return std::move(value).error();
  if (*value) options.max_value_mb = static_cast<std::size_t>(**value);
  auto count = env.integer(
      {"CACHEKIT_FILE_MAX_ENTRY_COUNT", 100, 1'000'000, "entries; cachekit-py's default is 10000"});
  if (!count) return std::move(count).error();
  if (*count) options.max_entry_count = static_cast<std::size_t>(**count);
  // Validated as cachekit-py does, and without effect there too (its file locks never wait).
  if (auto r = env.number({"CACHEKIT_FILE_LOCK_TIMEOUT_SECONDS", 0.5, 30.0, false,
                           "seconds; it has no effect, in cachekit-py either"});
      !r) {
    return std::move(r).error();
  }
  auto mode = file_mode(env, "CACHEKIT_FILE_PERMISSIONS");
  if (!mode) return std::move(mode).error();
  if (*mode) options.permissions = **mode;
  auto dir_mode = file_mode(env, "CACHEKIT_FILE_DIR_PERMISSIONS");
  if (!dir_mode) return std::move(dir_mode).error();
  if (*dir_mode) options.dir_permissions = **dir_mode;
  return options;
}

std::string join_names(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += (i + 1 == names.size()) ? " and " : ", ";
    out += names[i];
  }
  return out;
}

// The cachekit.io backend, through the factory the optional `cachekit::io` component installs.
result<std::shared_ptr<backend>> io_from_env(const env_reader& env, bool io_preset) {
  auto factory = installed_io_backend_factory();
  if (factory == nullptr) {
    return fail(errc::not_supported,
                "CACHEKIT_API_KEY selects the cachekit.io backend, which is in the optional "
                "component cachekit::io: link it (target_link_libraries(app cachekit::io)) and "
                "include <cachekit/cachekitio_backend.hpp>; or unset CACHEKIT_API_KEY and use "
                "Redis (CACHEKIT_REDIS_URL or REDIS_URL)");
  }
  return factory(env.lookup(), io_preset);
}

// DefaultBackendProvider.get_backend, plus the zero-config rule of decorators/wrapper.py.
result<std::shared_ptr<backend>> l2_from_env(const env_reader& env, intent i,
                                             const env_snapshot* spelling) {
  std::vector<std::string_view> selected;
  for (std::string_view var : selectors) {
    if (!env.non_empty(var)) continue;
    if (spelling != nullptr && var != redis_url_var && !spelling->has_exact(var)) {
      return fail(errc::invalid_configuration,
                  std::string(var) +
                      " is set only under another letter case; cachekit-py 0.24.1 selects "
                      "backends by the exact upper-case name and would fall back to Redis. "
                      "Rename the variable to " +
                      std::string(var));
    }
    selected.push_back(var);
  }
  if (selected.size() > 1) {
    return fail(errc::invalid_configuration,
                "backend auto-detection is ambiguous: " + join_names(selected) +
                    " are set. Unset all but one of them (CACHEKIT_API_KEY, "
                    "CACHEKIT_REDIS_URL, CACHEKIT_MEMCACHED_SERVERS and "
                    "CACHEKIT_FILE_CACHE_DIR exclude each other; REDIS_URL is only a fallback "
                    "and never conflicts), or build the options with cache_options::for_intent() "
                    "and set l2 yourself");
  }
  if (selected.empty()) {
    if (auto url = env.non_empty(fallback_redis_url_var)) {
      return redis_from_env(env, std::move(*url), fallback_redis_url_var);
    }
    // Encrypted values cannot live in an L1-only cache; cachekit-py sends them to localhost.
    if (i == intent::secure) {
      return redis_from_env(env, std::string(default_redis_url),
                            "Redis at redis://localhost:6379 (nothing configured)");
    }
    return std::shared_ptr<backend>{};
  }
  const std::string_view var = selected.front();
  if (var == api_key_var) return io_from_env(env, false);
  if (var == redis_url_var) return redis_from_env(env, *env.non_empty(var), redis_url_var);
  if (var == memcached_servers_var) {
    auto options = read_memcached_options(env, *env.non_empty(var));
    if (!options) return std::move(options).error();
    return build_backend<memcached_backend>(std::move(*options), "CACHEKIT_MEMCACHED_*");
  }
  auto options = read_file_options(env, *env.non_empty(var));
  if (!options) return std::move(options).error();
  return build_backend<file_backend>(std::move(*options), "CACHEKIT_FILE_*");
}

bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string erase_all(std::string text, std::string_view what) {
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos)) {
    text.erase(pos, what.size());
  }
  return text;
}

// The C++ enumerator's name, for messages ("standard" rather than cachekit-py's "cache").
std::string intent_spelling(intent i) {
  return i == intent::standard ? std::string("standard") : std::string(to_string(i));
}

bool keep_variable(std::string_view lower_name) {
  return lower_name.starts_with("cachekit_") || lower_name == "redis_url";
}

}  // namespace

// ---- env_snapshot ----------------------------------------------------------------------------

env_snapshot::env_snapshot(const char* const* envp) {
  if (envp == nullptr) return;
  for (; *envp != nullptr; ++envp) {
    const std::string_view entry(*envp);
    const auto equals = entry.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    const auto name = entry.substr(0, equals);
    const auto value = entry.substr(equals + 1);
    std::string lower = to_lower(name);
    if (!keep_variable(lower)) continue;
    auto [it, added] = by_lower_name_.try_emplace(std::move(lower));
    if (!added) wipe(it->second);  // the later spelling wins; the earlier may be a key too
    it->second.assign(value);
    if (!value.empty()) exact_non_empty_.emplace(name);
  }
}

env_snapshot::~env_snapshot() {
  // The values include CACHEKIT_MASTER_KEY and CACHEKIT_PREVIOUS_MASTER_KEYS as hex.
  for (auto& [name, value] : by_lower_name_) wipe(value);
}

std::optional<std::string> env_snapshot::get(std::string_view name) const {
  const auto it = by_lower_name_.find(to_lower(name));
  if (it == by_lower_name_.end()) return std::nullopt;
  return it->second;
}

bool env_snapshot::has_exact(std::string_view name) const {
  return exact_non_empty_.find(name) != exact_non_empty_.end();
}

// ---- canonical_uuid --------------------------------------------------------------------------

std::optional<std::string> canonical_uuid(std::string_view text) {
  // uuid.UUID(hex): drop "urn:" and "uuid:", strip braces at both ends, drop hyphens.
  std::string hex = erase_all(erase_all(std::string(text), "urn:"), "uuid:");
  const auto first = hex.find_first_not_of("{}");
  if (first == std::string::npos) return std::nullopt;
  hex = hex.substr(first, hex.find_last_not_of("{}") - first + 1);
  hex = erase_all(std::move(hex), "-");
  if (hex.size() != 32 || !std::all_of(hex.begin(), hex.end(), is_hex)) return std::nullopt;
  std::string canonical;
  canonical.reserve(36);
  for (std::size_t i = 0; i < hex.size(); ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) canonical.push_back('-');
    canonical.push_back(ascii_lower(hex[i]));
  }
  return canonical;
}

// ---- from_env --------------------------------------------------------------------------------

result<cache_options> options_from_env(intent i, const env_lookup& lookup,
                                       const env_snapshot* spelling) {
  cache_options options = cache_options::for_intent(i);
  // @cache.local returns before any settings or backend are read (decorators/intent.py).
  if (i == intent::local) return options;
  const env_reader env(lookup);

  // 1. CachekitConfig, loaded when the decorator is applied.
  auto l1_mb =
      env.integer({"CACHEKIT_L1_MAX_SIZE_MB", 1,
                   static_cast<std::int64_t>(std::numeric_limits<std::size_t>::max() / mebibyte),
                   "megabytes of L1; cachekit-py's default is 100"});
  if (!l1_mb) return std::move(l1_mb).error();
  if (*l1_mb) options.l1_max_bytes = static_cast<std::size_t>(**l1_mb) * mebibyte;
  auto max_value = env.integer({"CACHEKIT_MAX_VALUE_SIZE", 1, no_upper_bound,
                                "bytes; cachekit-py's default is 104857600 (100 MiB)"});
  if (!max_value) return std::move(max_value).error();
  if (*max_value) options.max_value_bytes = static_cast<std::size_t>(**max_value);
  if (auto r = check_unused_settings(env); !r) return r.error();
  if (auto coherence = read_coherence(env); !coherence) {
    return std::move(coherence).error();
  } else {
    options.coherence = *coherence;
  }
  auto tenant = read_tenant(env);
  if (!tenant) return std::move(tenant).error();
  auto keys = read_master_keys(env);
  if (!keys) return std::move(keys).error();

  // 2. Encryption intent (CacheSerializationHandler; @cache.secure).
  if (i == intent::secure) {
    auto encryption = make_encryption(std::move(*keys), std::move(*tenant));
    if (!encryption) return std::move(encryption).error();
    auto fail_closed = env.boolean("CACHEKIT_ENCRYPTION_FAIL_CLOSED");
    if (!fail_closed) return std::move(fail_closed).error();
    encryption->fail_closed = fail_closed->value_or(false);
    options.encryption = std::move(*encryption);
  } else if (keys->current_hex) {
    return fail(errc::invalid_configuration,
                std::string(master_key_var) + " is set but intent::" + intent_spelling(i) +
                    " does not encrypt; cachekit-py 0.24.1 refuses a master key with no "
                    "encryption intent (a key is not a switch). Use intent::secure to encrypt, "
                    "or unset " +
                    std::string(master_key_var) + " to store plaintext");
  }

  // 3. The L2: @cache.io always takes cachekit.io, from CACHEKIT_API_KEY only (PRE-51);
  // the others resolve it from the backend selectors.
  if (i == intent::io) {
    if (!env.non_empty(api_key_var)) {
      return fail(errc::invalid_configuration,
                  "intent::io needs a cachekit.io API key: set CACHEKIT_API_KEY, or pass the "
                  "key to cachekit::io_cache_options(api_key)");
    }
    auto io = io_from_env(env, true);
    if (!io) return std::move(io).error();
    options.l2 = std::move(*io);
    return options;
  }
  auto l2 = l2_from_env(env, i, spelling);
  if (!l2) return std::move(l2).error();
  options.l2 = std::move(*l2);
  return options;
}

result<redis_options> redis_options_from_env(const env_lookup& lookup, std::string url) {
  return read_redis_options(env_reader(lookup), std::move(url));
}

result<memcached_options> memcached_options_from_env(const env_lookup& lookup,
                                                     std::string_view servers_json) {
  return read_memcached_options(env_reader(lookup), servers_json);
}

result<file_backend_options> file_options_from_env(const env_lookup& lookup,
                                                   std::string cache_dir) {
  return read_file_options(env_reader(lookup), std::move(cache_dir));
}

namespace {

// Every CACHEKIT_* variable cachekit-py 0.24.1 reads (its pydantic settings: CachekitConfig,
// Redis, memcached, file and cachekit.io backends) or this SDK's tools read.
constexpr std::array<std::string_view, 38> known_variables{
    "CACHEKIT_ALLOW_CUSTOM_HOST",
    "CACHEKIT_API_KEY",
    "CACHEKIT_API_URL",
    "CACHEKIT_ARROW_COMPRESSION",
    "CACHEKIT_CONNECTION_POOL_SIZE",
    "CACHEKIT_DEPLOYMENT_UUID",
    "CACHEKIT_DEV_MODE",
    "CACHEKIT_DISABLE_HIREDIS",
    "CACHEKIT_ENCRYPTION_FAIL_CLOSED",
    "CACHEKIT_FILE_CACHE_DIR",
    "CACHEKIT_FILE_DIR_PERMISSIONS",
    "CACHEKIT_FILE_LOCK_TIMEOUT_SECONDS",
    "CACHEKIT_FILE_MAX_ENTRY_COUNT",
    "CACHEKIT_FILE_MAX_SIZE_MB",
    "CACHEKIT_FILE_MAX_VALUE_MB",
    "CACHEKIT_FILE_PERMISSIONS",
    "CACHEKIT_INVALIDATION_LISTENER_ENABLED",
    "CACHEKIT_L1_CLEANUP_INTERVAL_SECONDS",
    "CACHEKIT_L1_COHERENCE",  // this SDK: ttl, events or tracking
    "CACHEKIT_L1_MAX_SIZE_MB",
    "CACHEKIT_LOG_SAMPLING_RATE",
    "CACHEKIT_MASTER_KEY",
    "CACHEKIT_MAX_VALUE_SIZE",
    "CACHEKIT_MEMCACHED_CONNECT_TIMEOUT",
    "CACHEKIT_MEMCACHED_KEY_PREFIX",
    "CACHEKIT_MEMCACHED_MAX_ITEM_SIZE_BYTES",
    "CACHEKIT_MEMCACHED_MAX_POOL_SIZE",
    "CACHEKIT_MEMCACHED_RETRY_ATTEMPTS",
    "CACHEKIT_MEMCACHED_SERVERS",
    "CACHEKIT_MEMCACHED_TIMEOUT",
    "CACHEKIT_PREVIOUS_MASTER_KEYS",
    "CACHEKIT_REDIS_KEY_LAYOUT",  // this SDK: plain or tenant_scoped
    "CACHEKIT_REDIS_URL",
    "CACHEKIT_SOCKET_CONNECT_TIMEOUT",
    "CACHEKIT_SOCKET_KEEPALIVE",
    "CACHEKIT_SOCKET_TIMEOUT",
    "CACHEKIT_TIMEOUT",
    "CACHEKIT_PEERS_REDIS_URL",  // bench/peers
};

// Levenshtein distance, for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

std::vector<std::string> unknown_variable_warnings(const char* const* envp) {
  std::vector<std::string> warnings;
  for (; envp != nullptr && *envp != nullptr; ++envp) {
    const std::string_view entry(*envp);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string name = upper(entry.substr(0, eq));  // pydantic matches in any case
    if (name.rfind("CACHEKIT_", 0) == 0) {
      if (std::find(known_variables.begin(), known_variables.end(), name) !=
          known_variables.end()) {
        continue;
      }
      std::string_view closest;
      std::size_t best = 4;  // suggest only close spellings
      for (std::string_view known : known_variables) {
        if (const std::size_t d = edit_distance(name, known); d < best) {
          best = d;
          closest = known;
        }
      }
      std::string text = "environment variable " + std::string(entry.substr(0, eq)) +
                         " is not a cachekit setting and is ignored";
      if (!closest.empty()) text += "; did you mean " + std::string(closest) + "?";
      warnings.push_back(std::move(text));
    } else if (name != "REDIS_URL" && name.rfind("REDIS_", 0) == 0 &&
               edit_distance(name, "REDIS_URL") <= 2) {
      warnings.push_back("environment variable " + std::string(entry.substr(0, eq)) +
                         " is ignored; did you mean REDIS_URL?");
    }
  }
  return warnings;
}

result<cache_options> options_from_environ(intent i, const char* const* envp) {
  try {
    for (const std::string& warning : unknown_variable_warnings(envp)) {
      emit_log(log_level::warning, "unknown_env", warning);
    }
  } catch (...) {  // out of memory for a warning: the settings themselves still count
  }
  const env_snapshot snapshot(envp);
  const env_lookup lookup = [&snapshot](std::string_view name) { return snapshot.get(name); };
  return options_from_env(i, lookup, &snapshot);
}

}  // namespace detail

result<cache_options> cache_options::from_env(intent i) {
  return detail::options_from_environ(i, environ);
}

result<cache_options> cache_options::from_env(intent i, const env_lookup& lookup) {
  return detail::options_from_env(i, lookup, nullptr);
}

}  // namespace v0
}  // namespace cachekit
