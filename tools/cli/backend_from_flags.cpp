#include "backend_from_flags.hpp"

#include "backends/redis/redis_url.hpp"
#include "cache/env_config.hpp"

#include <cachekit/cache_options.hpp>
#include <cachekit/error.hpp>
#include <cachekit/file_backend.hpp>
#include <cachekit/memcached_backend.hpp>
#include <cachekit/redis_backend.hpp>
#if CACHEKIT_CLI_HAS_IO
#include <cachekit/cachekitio_backend.hpp>  // also lets from_env build it (CACHEKIT_API_KEY)
#endif

#include <exception>
#include <utility>

namespace cachekit::cli {
namespace {

constexpr std::string_view url_help =
    "give --url redis://HOST:6379/0, --url memcached://HOST:11211, --url file:///DIR or --url "
    "https://api.cachekit.io (with CACHEKIT_API_KEY), or set REDIS_URL, CACHEKIT_REDIS_URL, "
    "CACHEKIT_MEMCACHED_SERVERS, CACHEKIT_FILE_CACHE_DIR or CACHEKIT_API_KEY";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string redis_description(std::string_view url, std::string_view prefix) {
  std::string where = "redis";
  if (auto endpoint = detail::parse_redis_url(url);
      endpoint && (endpoint->cluster || endpoint->sentinel)) {
    where += " " + endpoint->describe();  // the seeds or the service, with " (tls)"
  } else if (endpoint) {
    where += endpoint->kind == detail::redis_endpoint::transport::unix_socket
                 ? " unix:" + endpoint->socket_path
                 : " " + endpoint->host + ":" + std::to_string(endpoint->port);
    where += "/" + std::to_string(endpoint->db);
    if (endpoint->tls) where += " (tls)";
  }
  return where + (prefix.empty() ? ", keys as given" : ", keys " + std::string(prefix) + "{key}");
}

result<live_backend> redis_from_url(const backend_flags& flags, const std::string& url) {
  redis_options options{
      .url = url,
      .pool_size = live_pool_size,
      .connect_timeout = flags.timeout,
      .command_timeout = flags.timeout,
      .key_layout = flags.plain_keys ? redis_key_layout::plain : redis_key_layout::tenant_scoped};
  if (!flags.plain_keys) options.tenant = flags.redis_tenant;
  auto store = std::make_shared<redis_backend>(std::move(options));
  live_backend out{
      .store = store, .description = redis_description(url, store->key_prefix()), .redis_url = url};
  return out;
}

result<live_backend> memcached_from_url(const backend_flags& flags, std::string_view list) {
  memcached_options options{.connect_timeout = flags.timeout,
                            .timeout = flags.timeout,
                            .pool_size = live_pool_size,
                            .key_prefix = flags.key_prefix,
                            .retry_attempts = 0};
  options.servers.clear();
  while (!list.empty()) {
    const auto comma = list.find(',');
    auto server = list.substr(0, comma);
    if (auto slash = server.find('/'); slash != std::string_view::npos) {
      server = server.substr(0, slash);
    }
    if (!server.empty()) options.servers.emplace_back(server);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  if (options.servers.empty()) {
    return fail(errc::invalid_configuration,
                "--url memcached:// needs at least one server: memcached://HOST:11211[,HOST:PORT]");
  }
  auto servers = options.servers;
  auto store = std::make_shared<memcached_backend>(std::move(options));
  std::string description = "memcached";
  for (const auto& s : servers) description += (description == "memcached" ? " " : ",") + s;
  if (!flags.key_prefix.empty()) description += ", keys " + flags.key_prefix + "{key}";
  return live_backend{.store = store, .description = description, .memcached_servers = servers};
}

result<live_backend> file_from_url(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return fail(errc::invalid_configuration,
                "--url file:// needs an absolute directory: file:///var/cache/myapp (three "
                "slashes)");
  }
  auto store = std::make_shared<file_backend>(file_backend_options{.cache_dir = std::string(path)});
  return live_backend{.store = store, .description = "file " + store->directory().string()};
}

// cachekit.io at `url`, the key and the other settings from the environment: the key is never a
// flag, where `ps` and shell history would show it.
result<live_backend> cachekitio_from_url(const backend_flags& flags, const std::string& url,
                                         const env_reader& env) {
#if CACHEKIT_CLI_HAS_IO
  auto options = cachekitio_options::from_env(env);
  if (!options) return std::move(options).error();
  if (options->api_key.empty()) {
    return fail(errc::invalid_configuration,
                "--url " + std::string(url.substr(0, 8)) +
                    "... is cachekit.io: set CACHEKIT_API_KEY to its API key (it is never taken "
                    "as a flag, which ps and shell history would show)");
  }
  options->api_url = url;
  options->timeout = flags.timeout;
  auto store = cachekitio_backend::create(*options);
  if (!store) return std::move(store).error();
  return live_backend{.store = *store, .description = "cachekit.io " + url};
#else
  (void)flags;
  (void)url;
  (void)env;
  return fail(errc::not_supported,
              "this cachekit was built without cachekit::io (the cachekit.io backend): rebuild "
              "with libcurl4-openssl-dev installed");
#endif
}

result<live_backend> from_url(const backend_flags& flags, const env_reader& env) {
  const std::string& url = *flags.url;
  if (starts_with(url, "redis://") || starts_with(url, "unix:") || starts_with(url, "rediss://") ||
      starts_with(url, "redis+cluster://") || starts_with(url, "rediss+cluster://") ||
      starts_with(url, "redis+sentinel://")) {
    return redis_from_url(flags, url);
  }
  if (starts_with(url, "memcached://")) {
    return memcached_from_url(flags, std::string_view(url).substr(12));
  }
  if (starts_with(url, "file://")) return file_from_url(std::string_view(url).substr(7));
  if (starts_with(url, "https://") || starts_with(url, "http://")) {
    return cachekitio_from_url(flags, url, env);  // http:// is refused there, saying why
  }
  return fail(
      errc::invalid_configuration,
      "--url must start with redis://, rediss://, redis+cluster://, redis+sentinel://, unix://, "
      "memcached://, file:// or https:// (cachekit.io); " +
          std::string(url_help));
}

result<live_backend> from_environment(const env_reader& env) {
  // The CLI reads master keys itself and only to open entries: hide them from from_env.
  const cache_options::env_lookup lookup =
      [&env](std::string_view name) -> std::optional<std::string> {
    if (name == "CACHEKIT_MASTER_KEY" || name == "CACHEKIT_PREVIOUS_MASTER_KEYS") {
      return std::nullopt;
    }
    return env(name);
  };
  auto options = cache_options::from_env(intent::standard, lookup);
  if (!options) return std::move(options).error();
  if (options->l2 == nullptr) {
    return fail(errc::invalid_configuration, "no backend to talk to: " + std::string(url_help));
  }
  live_backend out{.store = options->l2};
  const auto type = out.store->type();
  if (type == "redis") {
    auto url = env("CACHEKIT_REDIS_URL");
    if (!url || url->empty()) url = env("REDIS_URL");
    out.redis_url = url;
    out.description = redis_description(url.value_or(""), out.store->key_prefix());
  } else if (type == "memcached") {
    auto json = env("CACHEKIT_MEMCACHED_SERVERS").value_or("[]");
    if (auto mc = detail::memcached_options_from_env(lookup, json); mc) {
      out.memcached_servers = mc->servers;
    }
    out.description = "memcached (CACHEKIT_MEMCACHED_SERVERS)";
  } else if (auto* files = dynamic_cast<file_backend*>(out.store.get()); files != nullptr) {
    out.description = "file " + files->directory().string();
  } else if (type == "cachekitio") {
    out.description = "cachekit.io (CACHEKIT_API_KEY, CACHEKIT_API_URL)";
  } else {
    out.description = std::string(type);
  }
  return out;
}

}  // namespace

result<live_backend> backend_from_flags(const backend_flags& flags, const env_reader& env) {
  if (flags.timeout.count() <= 0) {
    return fail(errc::invalid_configuration, "--timeout-ms must be positive");
  }
  try {
    auto out = flags.url ? from_url(flags, env) : from_environment(env);
    if (out) out->timeout = flags.timeout;
    return out;
  } catch (const error& e) {  // a backend refuses its options by throwing
    std::string detail = e.what();
    const std::string suffix = ": " + e.code().message();
    if (detail.size() > suffix.size() && detail.ends_with(suffix)) {
      detail.resize(detail.size() - suffix.size());
    }
    return failure{e.code(), std::move(detail)};
  }
}

}  // namespace cachekit::cli
