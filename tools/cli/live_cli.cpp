#include "live_cli.hpp"

#include "bench_command.hpp"
#include "cache/env_config.hpp"
#include "cli_io.hpp"
#include "key_source.hpp"
#include "live_commands.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>

// POSIX has the program declare it; glibc declares it only under _GNU_SOURCE.
// NOLINTNEXTLINE(readability-redundant-declaration)
extern char** environ;

namespace cachekit::cli {

struct live_subcommands::state {
  backend_flags backend;
  long long timeout_ms = 1000;
  // Master key for reading encrypted entries (and `set --encrypt`).
  std::optional<std::string> key_hex;
  std::optional<std::string> key_file;
  std::vector<std::string> previous_key_hex;
  std::optional<std::string> tenant;
  std::string key;
  set_request set;
  std::optional<long long> ttl;
  key_selection selection;
  bench_request bench;
  double bench_seconds = 5;

  CLI::App* get = nullptr;
  CLI::App* inspect = nullptr;
  CLI::App* set_cmd = nullptr;
  CLI::App* del = nullptr;
  CLI::App* ttl_cmd = nullptr;
  CLI::App* keys = nullptr;
  CLI::App* invalidate = nullptr;
  CLI::App* stats = nullptr;
  CLI::App* health = nullptr;
  CLI::App* bench_cmd = nullptr;

  void add_backend_flags(CLI::App& cmd) {
    cmd.add_option("--url", backend.url,
                   "redis://[user:pass@]host[:port][/db], unix:///path.sock, "
                   "memcached://host:port[,host:port], file:///dir, https://api.cachekit.io "
                   "(the key from CACHEKIT_API_KEY) (default: the environment variables "
                   "REDIS_URL, CACHEKIT_REDIS_URL, CACHEKIT_MEMCACHED_SERVERS, "
                   "CACHEKIT_FILE_CACHE_DIR, CACHEKIT_API_KEY)");
    cmd.add_option("--redis-tenant", backend.redis_tenant,
                   "Redis: tenant of the t:{tenant}: key prefix (default \"default\", as "
                   "cachekit-py's zero-config Redis)");
    cmd.add_flag("--plain-keys", backend.plain_keys,
                 "Redis: keys without the t:{tenant}: prefix (cachekit-py RedisBackend(url))");
    cmd.add_option("--key-prefix", backend.key_prefix,
                   "memcached: prefix of every key (CACHEKIT_MEMCACHED_KEY_PREFIX)");
    cmd.add_option("--timeout-ms", timeout_ms, "connect and reply timeout (default 1000)");
  }

  void add_key_flags(CLI::App& cmd) {
    cmd.add_option("--master-key-file", key_file,
                   "file holding the master key as hex ('-': stdin); default: "
                   "CACHEKIT_MASTER_KEY");
    cmd.add_option("--master-key-hex", key_hex,
                   "master key as hex (visible to ps: prefer --master-key-file)");
    cmd.add_option("--previous-key-hex", previous_key_hex,
                   "a previous master key still accepted (default: "
                   "CACHEKIT_PREVIOUS_MASTER_KEYS)");
    cmd.add_option("--tenant", tenant,
                   "encryption tenant (default: CACHEKIT_DEPLOYMENT_UUID, else \"default\")");
  }

  CLI::App* keyed(CLI::App& app, const char* name, const char* help, bool with_keys) {
    auto* cmd = app.add_subcommand(name, help);
    cmd->add_option("KEY", key, "cache key (as `cachekit key` prints it)")->required();
    add_backend_flags(*cmd);
    if (with_keys) add_key_flags(*cmd);
    return cmd;
  }

  void add_selection(CLI::App& cmd) {
    cmd.add_option("--function", selection.function,
                   "the function's module.qualname, e.g. myapp.users.get_user");
    cmd.add_option("--namespace", selection.ns, "the function's namespace");
    cmd.add_option("--prefix", selection.prefix,
                   "a cache-key prefix instead (without the backend's t:{tenant}: prefix)");
    add_backend_flags(cmd);
  }
};

live_subcommands::live_subcommands(CLI::App& app) : state_(std::make_unique<state>()) {
  auto& s = *state_;
  s.get = s.keyed(app, "get", "live: print the value stored under KEY (tagged JSON)", true);
  s.inspect = s.keyed(app, "inspect",
                      "live: every layer of the entry under KEY (frame, envelope, encryption), "
                      "its TTL and value",
                      true);
  s.set_cmd = app.add_subcommand("set", "live: store VALUE under KEY as the cache stores it");
  s.set_cmd->add_option("KEY", s.key, "cache key")->required();
  s.set_cmd->add_option("VALUE", s.set.value_json, "the value as (tagged) JSON")->required();
  s.set_cmd->add_option("--ttl", s.ttl, "seconds to live (default: no expiry)");
  s.set_cmd->add_flag("--interop", s.set.interop, "interop mode: plain canonical MessagePack");
  s.set_cmd->add_flag("--no-integrity", s.set.no_integrity,
                      "frame without the ByteStorage envelope (keys ending :0s)");
  s.set_cmd->add_flag("--encrypt", s.set.encrypt,
                      "seal with the master key (as @cache.secure / intent::secure)");
  s.add_backend_flags(*s.set_cmd);
  s.add_key_flags(*s.set_cmd);
  s.del = s.keyed(app, "del", "live: delete the entry under KEY", false);
  s.ttl_cmd = s.keyed(app, "ttl", "live: time left on the entry under KEY", false);
  s.keys = app.add_subcommand(
      "keys", "live (Redis): a function's keys, from cachekit-py's key registry and a SCAN");
  s.add_selection(*s.keys);
  s.keys->add_option("--limit", s.selection.limit, "print at most this many (default 10000)");
  s.invalidate =
      app.add_subcommand("invalidate", "live: delete every entry of a function (or a key prefix)");
  s.add_selection(*s.invalidate);
  for (auto* cmd : {s.keys, s.invalidate}) {
    cmd->callback([cmd, &s] {
      if (!s.selection.function && !s.selection.prefix) {
        throw CLI::ValidationError(cmd->get_name() + " needs --function NAME or --prefix P");
      }
    });
  }
  s.health = app.add_subcommand("health", "live: ping the backend, print the latency");
  s.add_backend_flags(*s.health);
  s.stats = app.add_subcommand("stats", "live: health and server figures");
  s.add_backend_flags(*s.stats);
  s.bench_cmd = app.add_subcommand("bench", "live: a short get/set load, latency percentiles");
  s.add_backend_flags(*s.bench_cmd);
  s.bench_cmd->add_option("--ops", s.bench.ops, "operations at most (default 10000)");
  s.bench_cmd->add_option("--seconds", s.bench_seconds, "seconds at most (default 5)");
  s.bench_cmd->add_option("--set-ratio", s.bench.set_ratio, "fraction of sets (default 0.2)");
  s.bench_cmd->add_option("--value-size", s.bench.value_size, "bytes per value (default 1024)");
  s.bench_cmd->add_option("--keys", s.bench.key_space, "distinct keys (default 1000)");
  s.bench_cmd->add_option("--connections", s.bench.connections,
                          "concurrent workers, one connection each (default 1, at most 16)");
}

live_subcommands::~live_subcommands() = default;

bool live_subcommands::selected() const {
  const auto& s = *state_;
  const auto commands = {s.get,  s.inspect,    s.set_cmd, s.del,    s.ttl_cmd,
                         s.keys, s.invalidate, s.stats,   s.health, s.bench_cmd};
  return std::ranges::any_of(commands, [](const auto* cmd) { return static_cast<bool>(*cmd); });
}

int live_subcommands::run(std::ostream& out, std::ostream& err) {
  auto& s = *state_;
  detail::env_snapshot env(environ);
  const env_reader read_env = [&env](std::string_view name) { return env.get(name); };
  s.backend.timeout = std::chrono::milliseconds(s.timeout_ms);
  auto b = backend_from_flags(s.backend, read_env);
  if (!b) {
    err << "cachekit: " << b.error().message() << '\n';
    return exit_bad_input;
  }
  if (*s.health) return health_command(*b, out, err);
  if (*s.stats) return stats_command(*b, out, err);
  if (*s.del) return del_command(*b, s.key, out, err);
  if (*s.ttl_cmd) return ttl_command(*b, s.key, out, err);
  if (*s.keys) return keys_command(*b, s.selection, out, err);
  if (*s.invalidate) return invalidate_command(*b, s.selection, out, err);
  if (*s.bench_cmd) {
    s.bench.duration = std::chrono::milliseconds(static_cast<long long>(s.bench_seconds * 1000));
    return bench_command(*b, s.bench, out, err);
  }
  // get, inspect, set: the master key, if any.
  auto master =
      choose_master_key(s.key_hex, s.key_file, std::getenv("CACHEKIT_MASTER_KEY"), std::cin);
  if (!master) {
    err << "cachekit: " << master.error().message() << '\n';
    return exit_bad_input;
  }
  std::string tenant = "default";
  if (s.tenant) {
    tenant = *s.tenant;
  } else if (auto uuid = env.get("CACHEKIT_DEPLOYMENT_UUID"); uuid && !uuid->empty()) {
    tenant = detail::canonical_uuid(*uuid).value_or(*uuid);
  }
  std::vector<std::string> previous = s.previous_key_hex;
  if (previous.empty()) {
    if (auto listed = env.get("CACHEKIT_PREVIOUS_MASTER_KEYS"); listed) {
      std::stringstream in(*listed);
      for (std::string k; std::getline(in, k, ',');) {
        if (!k.empty()) previous.push_back(k);
      }
    }
  }
  if (*s.set_cmd) {
    s.set.key = s.key;
    s.set.ttl_seconds = s.ttl;
    s.set.master_key_hex = *master;
    s.set.tenant = tenant;
    return set_command(*b, s.set, out, err);
  }
  entry_request req{.key = s.key};
  req.open.master_key_hex = *master;
  req.open.previous_key_hex = previous;
  req.open.tenant = tenant;
  return *s.get ? get_command(*b, req, out, err) : inspect_command(*b, req, out, err);
}

}  // namespace cachekit::cli
