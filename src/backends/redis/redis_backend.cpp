#include <cachekit/redis_backend.hpp>

#include "backends/redis/cluster_slot.hpp"
#include "backends/redis/redis_batch.hpp"
#include "backends/redis/redis_cluster_ops.hpp"
#include "backends/redis/redis_cluster_router.hpp"
#include "backends/redis/redis_connection.hpp"
#include "backends/redis/redis_error.hpp"
#include "backends/redis/redis_info_fields.hpp"
#include "backends/redis/redis_key_layout.hpp"
#include "backends/redis/redis_master_locator.hpp"
#include "backends/redis/redis_pool.hpp"
#include "backends/redis/redis_subscription.hpp"
#include "backends/redis/redis_tls_context.hpp"
#include "backends/redis/redis_url.hpp"
#include "process/fork_generation.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// cachekit-rs's release script (redis-py's Lock.release does the same compare-and-delete):
// delete the lock only while it still holds our token.
constexpr std::string_view compare_and_delete =
    "if redis.call(\"GET\", KEYS[1]) == ARGV[1] then return redis.call(\"DEL\", KEYS[1]) "
    "else return 0 end";

// cachekit-py's key registry (backends/redis/provider.py): a set lives 7 days past its last
// write, and a drain pops at most 10,000 members per atomic step, 1,000 steps at most.
constexpr std::string_view registry_ttl_seconds = "604800";
constexpr std::string_view drain_chunk = "10000";
constexpr long long drain_chunk_size = 10000;
constexpr int max_drain_steps = 1000;

// KEYS[1] the registry set, ARGV[1] the backend's key prefix, ARGV[2] the step size. Each
// member's key is unlinked before the member leaves the set: Redis does not roll back a script
// that fails midway, so a member is never lost before its key. The prefix is put in front here,
// so no member can reach outside this backend's keys. replicate_commands() lets the writes
// follow the random read on Redis 5/6 configured without effects replication (a no-op on 7).
constexpr std::string_view drain_script =
    "redis.replicate_commands() "
    "local taken = redis.call('SRANDMEMBER', KEYS[1], ARGV[2]) "
    "for _, member in ipairs(taken) do "
    "redis.call('UNLINK', ARGV[1] .. member) redis.call('SREM', KEYS[1], member) end "
    "return #taken";

// SCAN's MATCH takes a glob: the literal prefix with its glob characters escaped, then `*`.
std::string glob_for_prefix(std::string_view prefix) {
  std::string out;
  out.reserve(prefix.size() + 8);
  for (const char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('*');
  return out;
}

// Keys one SCAN step asks the server to examine, and so at most what one UNLINK deletes.
constexpr std::string_view scan_batch = "1000";

redis_key_layout_rules make_layout(const redis_options& options) {
  if (options.key_layout == redis_key_layout::tenant_scoped) {
    return redis_key_layout_rules(tenant_key_prefix(options.tenant));
  }
  if (options.tenant != redis_options{}.tenant) {
    throw error(errc::invalid_configuration,
                "redis_options.tenant is only used with key_layout = "
                "redis_key_layout::tenant_scoped; set that layout, or leave the tenant unset for "
                "the plain layout");
  }
  return redis_key_layout_rules(std::string{});
}

// The URL's TLS parameters with redis_options::tls over them, loaded into the context the
// connections share; null for a plain endpoint.
std::shared_ptr<const redis_tls_context> make_tls(const redis_options& options,
                                                  redis_endpoint& endpoint) {
  if (!endpoint.tls) {
    if (options.tls) {
      throw error(errc::invalid_configuration,
                  "redis_options::tls is set but the URL is not rediss://; TLS is on exactly "
                  "when the scheme is rediss:// (write rediss://host:port/db), or leave tls "
                  "unset for a plain connection");
    }
    return nullptr;
  }
  redis_tls_settings& merged = *endpoint.tls;
  if (options.tls) {
    const redis_tls_options& given = *options.tls;
    auto take = [](std::string& field, const std::string& value) {
      if (!value.empty()) field = value;
    };
    take(merged.ca_file, given.ca_file);
    take(merged.ca_path, given.ca_path);
    take(merged.cert_file, given.cert_file);
    take(merged.key_file, given.key_file);
    take(merged.server_name, given.server_name);
    merged.verify_peer = given.verify_peer;
    merged.verify_hostname = given.verify_peer && given.verify_hostname;
  }
  auto context = redis_tls_context::create(merged);
  if (!context) throw error(context.error().code, context.error().detail);
  return std::move(*context);
}

redis_connect_settings make_settings(const redis_options& options) {
  if (options.pool_size == 0) {
    throw error(errc::invalid_configuration,
                "redis_options.pool_size is 0; it must be at least 1 (cachekit-py uses 10)");
  }
  if (options.connect_timeout.count() <= 0 || options.command_timeout.count() <= 0) {
    throw error(errc::invalid_configuration,
                "redis_options.connect_timeout and command_timeout must be positive (e.g. "
                "std::chrono::seconds(5))");
  }
  auto endpoint = parse_redis_url(options.url);
  if (!endpoint) throw error(endpoint.error().code, endpoint.error().detail);
  redis_connect_settings settings{.endpoint = std::move(*endpoint),
                                  .where = {},
                                  .connect_timeout = options.connect_timeout,
                                  .command_timeout = options.command_timeout,
                                  .tls = nullptr,
                                  .locator = nullptr};
  settings.where = settings.endpoint.describe();
  if (auto tls = make_tls(options, settings.endpoint)) settings.tls = std::move(tls);
  if (settings.endpoint.sentinel) {
    settings.locator = std::make_shared<redis_master_locator>(
        *settings.endpoint.sentinel, options.connect_timeout, options.command_timeout);
  }
  return settings;
}

failure unexpected_reply(std::string_view operation, const std::string& where,
                         const redisReply& reply) {
  return fail(errc::backend_permanent, "redis " + std::string(operation) + " on " + where +
                                           ": unexpected reply type " + std::to_string(reply.type));
}

byte_buffer copy_bytes(const redisReply& reply) {
  const auto* begin = reinterpret_cast<const std::byte*>(reply.str);
  return byte_buffer(begin, begin + reply.len);
}

// 128 random bits. From the kernel, not RAND_bytes: lock tokens are made in forked children of
// threaded parents too (fork_generation.hpp says why that matters).
std::string lock_token_value() {
  std::array<unsigned char, 16> bytes{};
  fill_fresh_random(bytes);
  return to_hex(std::as_bytes(std::span(bytes)));
}

}  // namespace
}  // namespace detail

struct redis_backend::state {
  explicit state(const redis_options& options)
      : layout(detail::make_layout(options)),
        pool(detail::make_settings(options), options.pool_size) {
    if (pool.settings().endpoint.cluster) {
      cluster = std::make_unique<detail::redis_cluster_router>(pool.settings(), options.pool_size);
    }
  }

  // The key as Redis sees it: a view of the caller's key for the plain layout, else `scratch`.
  std::string_view wire(std::string_view key, std::string& scratch) const {
    if (layout.is_plain()) return key;
    scratch = layout.wire_key(key);
    return scratch;
  }

  const std::string& where() const noexcept { return pool.settings().where; }

  // Runs one command on a pooled connection and hands its (non-error) reply to `on_reply`.
  // `routing_key` is the wire key the command is about: on a cluster it picks the master; a
  // single server ignores it (no hashing, no lock, no allocation on that path).
  template <typename T, typename F>
  result<T> run(std::string_view operation, std::string_view routing_key,
                std::span<const std::string_view> argv, F&& on_reply) {
    if (cluster) [[unlikely]] {
      auto reply = cluster->run(operation, detail::cluster_slot(routing_key), argv);
      if (!reply) return std::move(reply).error();
      return on_reply(**reply);
    }
    auto connection = pool.acquire(operation);
    if (!connection) return std::move(connection).error();
    auto reply = (*connection)->run(operation, argv);
    if (!reply) return std::move(reply).error();
    return on_reply(**reply);
  }

  // Commands about one key (so one slot) pipelined: one round trip. The replies in order, error
  // replies included (check them with `check`); `names` name each command in failures.
  template <std::size_t N>
  result<std::array<detail::redis_reply_ptr, N>> pipeline(
      std::string_view routing_key,
      const std::array<std::span<const std::string_view>, N>& commands,
      const std::array<std::string_view, N>& names) {
    std::array<detail::redis_reply_ptr, N> replies;
    if (cluster) [[unlikely]] {
      auto sent = cluster->execute(names[0], detail::cluster_slot(routing_key), commands, replies);
      if (!sent) return std::move(sent).error();
      return replies;
    }
    auto connection = pool.acquire(names[0]);
    if (!connection) return std::move(connection).error();
    for (const auto& command : commands) (*connection)->append(command);
    for (std::size_t i = 0; i < N; ++i) {
      auto reply = (*connection)->read_reply(names[i]);
      if (!reply) return std::move(reply).error();
      replies[i] = std::move(*reply);
    }
    return replies;
  }

  // A whole batch in one round trip: one pipeline on a single server; on a cluster, the
  // commands grouped per master (redis_cluster_router::run_each). Replies in batch order.
  result<std::vector<detail::redis_reply_ptr>> send(const detail::redis_batch& batch,
                                                    std::string_view operation) {
    if (cluster) [[unlikely]] {
      std::vector<detail::routed_command> routed;
      routed.reserve(batch.size());
      for (std::size_t i = 0; i < batch.size(); ++i) {
        routed.push_back({detail::cluster_slot(batch.routing_key(i)), batch.argv(i)});
      }
      return cluster->run_each(operation, routed);
    }
    auto connection = pool.acquire(operation);
    if (!connection) return std::move(connection).error();
    return detail::send_pipelined(**connection, batch);
  }

  // The failure for an error reply; success otherwise.
  result<void> check(std::string_view operation, const redisReply& reply) const {
    if (reply.type != REDIS_REPLY_ERROR) return {};
    return detail::error_reply_failure(operation, where(), {reply.str, reply.len});
  }

  result<bool> integer_is_positive(std::string_view operation, std::string_view routing_key,
                                   std::span<const std::string_view> argv) {
    return run<bool>(operation, routing_key, argv, [&](const redisReply& r) -> result<bool> {
      if (r.type != REDIS_REPLY_INTEGER) return detail::unexpected_reply(operation, where(), r);
      return r.integer > 0;
    });
  }

  detail::redis_key_layout_rules layout;
  detail::redis_pool pool;  // a single server's; unused (never connects) on a cluster
  std::unique_ptr<detail::redis_cluster_router> cluster;  // null for a single server
};

redis_backend::redis_backend(const redis_options& options)
    : state_(std::make_unique<state>(options)) {}

redis_backend::~redis_backend() = default;

result<std::optional<byte_buffer>> redis_backend::get(std::string_view key) {
  std::string scratch;
  const std::array<std::string_view, 2> argv = {"GET", state_->wire(key, scratch)};
  return state_->run<std::optional<byte_buffer>>(
      "GET", argv[1], argv, [&](const redisReply& r) -> result<std::optional<byte_buffer>> {
        if (r.type == REDIS_REPLY_NIL) return std::optional<byte_buffer>{};
        if (r.type != REDIS_REPLY_STRING) {
          return detail::unexpected_reply("GET", state_->where(), r);
        }
        return std::optional<byte_buffer>(detail::copy_bytes(r));
      });
}

result<void> redis_backend::set(std::string_view key, byte_view value, ttl_seconds ttl) {
  // backend.hpp: a TTL of zero or less means already expired (cachekit-py would SET without
  // expiry).
  if (ttl && ttl->count() <= 0) {
    auto erased = erase(key);
    if (!erased) return std::move(erased).error();
    return {};
  }
  std::string scratch;
  const auto wire = state_->wire(key, scratch);
  const auto bytes = as_string_view(value);
  const bool expires = ttl.has_value();
  const std::string seconds = expires ? std::to_string(ttl->count()) : std::string{};
  const std::array<std::string_view, 5> argv = {"SET", wire, bytes, "EX", seconds};
  const auto args = std::span<const std::string_view>(argv).first(expires ? 5 : 3);
  auto done = state_->run<bool>("SET", wire, args, [&](const redisReply& r) -> result<bool> {
    if (r.type != REDIS_REPLY_STATUS) return detail::unexpected_reply("SET", state_->where(), r);
    return true;
  });
  if (!done) return std::move(done).error();
  return {};
}

result<bool> redis_backend::set_if_absent(std::string_view key, byte_view value, ttl_seconds ttl) {
  if (ttl && ttl->count() <= 0) return false;  // already expired: nothing to store
  std::string scratch;
  const auto wire = state_->wire(key, scratch);
  const bool expires = ttl.has_value();
  const std::string seconds = expires ? std::to_string(ttl->count()) : std::string{};
  const std::array<std::string_view, 6> argv = {"SET", wire, as_string_view(value),
                                                "NX",  "EX", seconds};
  const auto args = std::span<const std::string_view>(argv).first(expires ? 6 : 4);
  return state_->run<bool>("SET NX", wire, args, [&](const redisReply& r) -> result<bool> {
    if (r.type == REDIS_REPLY_NIL) return false;  // the key holds a value: left as it is
    if (r.type != REDIS_REPLY_STATUS) return detail::unexpected_reply("SET NX", state_->where(), r);
    return true;
  });
}

result<bool> redis_backend::erase(std::string_view key) {
  std::string scratch;
  const std::array<std::string_view, 2> argv = {"DEL", state_->wire(key, scratch)};
  return state_->integer_is_positive("DEL", argv[1], argv);
}

result<bool> redis_backend::exists(std::string_view key) {
  std::string scratch;
  const std::array<std::string_view, 2> argv = {"EXISTS", state_->wire(key, scratch)};
  return state_->integer_is_positive("EXISTS", argv[1], argv);
}

result<std::vector<std::optional<byte_buffer>>> redis_backend::get_many(
    std::span<const std::string_view> keys) {
  using many = std::vector<std::optional<byte_buffer>>;
  if (keys.empty()) return many{};
  if (state_->cluster) return detail::get_many_cluster(*state_->cluster, state_->layout, keys);
  std::vector<std::string> scratch;
  std::vector<std::string_view> argv;
  argv.reserve(keys.size() + 1);
  argv.emplace_back("MGET");
  if (state_->layout.is_plain()) {
    argv.insert(argv.end(), keys.begin(), keys.end());
  } else {
    scratch.reserve(keys.size());
    for (auto key : keys) scratch.push_back(state_->layout.wire_key(key));
    argv.insert(argv.end(), scratch.begin(), scratch.end());
  }
  return state_->run<many>("MGET", argv[1], argv, [&](const redisReply& r) -> result<many> {
    if (r.type != REDIS_REPLY_ARRAY || r.elements != keys.size()) {
      return detail::unexpected_reply("MGET", state_->where(), r);
    }
    many out;
    out.reserve(keys.size());
    for (std::size_t i = 0; i < r.elements; ++i) {
      const redisReply& item = *r.element[i];
      if (item.type == REDIS_REPLY_STRING) {
        out.emplace_back(detail::copy_bytes(item));
      } else {
        out.emplace_back();
      }
    }
    return out;
  });
}

result<remaining_ttl> redis_backend::ttl(std::string_view key) {
  std::string scratch;
  const std::array<std::string_view, 2> argv = {"TTL", state_->wire(key, scratch)};
  return state_->run<remaining_ttl>(
      "TTL", argv[1], argv, [&](const redisReply& r) -> result<remaining_ttl> {
        if (r.type != REDIS_REPLY_INTEGER) {
          return detail::unexpected_reply("TTL", state_->where(), r);
        }
        if (r.integer == -2) return remaining_ttl{};
        if (r.integer < 0) return remaining_ttl{.exists = true, .ttl = std::nullopt};
        return remaining_ttl{.exists = true, .ttl = std::chrono::seconds(r.integer)};
      });
}

result<std::optional<timed_value>> redis_backend::get_with_ttl(std::string_view key) {
  std::string scratch;
  const auto wire = state_->wire(key, scratch);
  // GET and PTTL pipelined: one round trip, and both see the same entry (Redis runs them back
  // to back on this connection).
  const std::array<std::string_view, 2> get = {"GET", wire};
  const std::array<std::string_view, 2> pttl = {"PTTL", wire};
  auto replies = state_->pipeline<2>(wire, {get, pttl}, {"GET", "PTTL"});
  if (!replies) return std::move(replies).error();
  auto* value = &(*replies)[0];
  auto* left = &(*replies)[1];
  if (auto c = state_->check("GET", **value); !c) return c.error();
  if (auto c = state_->check("PTTL", **left); !c) return c.error();
  if ((*value)->type == REDIS_REPLY_NIL) return std::optional<timed_value>{};
  if ((*value)->type != REDIS_REPLY_STRING) {
    return detail::unexpected_reply("GET", state_->where(), **value);
  }
  if ((*left)->type != REDIS_REPLY_INTEGER) {
    return detail::unexpected_reply("PTTL", state_->where(), **left);
  }
  timed_value out{detail::copy_bytes(**value), std::nullopt};
  const long long millis = (*left)->integer;
  if (millis == -1) {
    out.remaining.emplace(std::nullopt);  // the entry never expires
  } else {
    // Rounded down, so a copy kept for this long never outlives the entry; -2 (gone since the
    // GET, impossible in one pipeline but harmless) reads as 0.
    out.remaining.emplace(std::chrono::seconds(std::max<long long>(millis, 0) / 1000));
  }
  return std::optional<timed_value>{std::move(out)};
}

result<std::vector<std::optional<timed_value>>> redis_backend::get_many_with_ttl(
    std::span<const std::string_view> keys) {
  using many = std::vector<std::optional<timed_value>>;
  if (keys.empty()) return many{};
  const auto batch = detail::redis_batch::reads_with_ttl(state_->layout, keys);
  auto replies = state_->send(batch, "GET");
  if (!replies) return std::move(replies).error();
  return detail::timed_values_from(*replies, state_->where());
}

result<void> redis_backend::set_many(std::span<const write_request> writes) {
  if (writes.empty()) return {};
  const auto batch = detail::redis_batch::writes(state_->layout, writes);
  auto replies = state_->send(batch, "SET");
  if (!replies) return std::move(replies).error();
  return detail::writes_outcome(batch, *replies, state_->where());
}

result<bool> redis_backend::touch(std::string_view key, ttl_seconds ttl) {
  std::string scratch;
  const auto wire = state_->wire(key, scratch);
  if (ttl.has_value()) {
    // EXPIRE with a TTL of zero or less deletes the key: already expired, as backend.hpp says.
    const std::string seconds = std::to_string(ttl->count());
    const std::array<std::string_view, 3> argv = {"EXPIRE", wire, seconds};
    return state_->integer_is_positive("EXPIRE", wire, argv);
  }
  // PERSIST answers 0 both for a missing key and for one without expiry: EXISTS, pipelined
  // behind it, tells them apart in the same round trip.
  const std::array<std::string_view, 2> persist = {"PERSIST", wire};
  const std::array<std::string_view, 2> exists = {"EXISTS", wire};
  auto replies = state_->pipeline<2>(wire, {persist, exists}, {"PERSIST", "EXISTS"});
  if (!replies) return std::move(replies).error();
  auto* persisted = &(*replies)[0];
  auto* existed = &(*replies)[1];
  if (auto c = state_->check("PERSIST", **persisted); !c) return c.error();
  if (auto c = state_->check("EXISTS", **existed); !c) return c.error();
  if ((*existed)->type != REDIS_REPLY_INTEGER) {
    return detail::unexpected_reply("EXISTS", state_->where(), **existed);
  }
  return (*existed)->integer > 0;
}

result<std::optional<lock_token>> redis_backend::try_lock(std::string_view key,
                                                          std::chrono::milliseconds timeout) {
  lock_token token{.key = state_->layout.lock_key(key), .value = detail::lock_token_value()};
  const std::string millis = std::to_string(std::max<std::int64_t>(timeout.count(), 1));
  const std::array<std::string_view, 6> argv = {"SET", token.key, token.value, "NX", "PX", millis};
  return state_->run<std::optional<lock_token>>(
      "SET NX (lock)", token.key, argv,
      [&](const redisReply& r) -> result<std::optional<lock_token>> {
        if (r.type == REDIS_REPLY_NIL) return std::optional<lock_token>{};
        if (r.type != REDIS_REPLY_STATUS) {
          return detail::unexpected_reply("SET NX (lock)", state_->where(), r);
        }
        return std::optional<lock_token>(std::move(token));
      });
}

result<bool> redis_backend::release_lock(const lock_token& token) {
  const std::array<std::string_view, 5> argv = {"EVAL", detail::compare_and_delete, "1", token.key,
                                                token.value};
  return state_->integer_is_positive("EVAL (lock release)", token.key, argv);
}

result<std::size_t> redis_backend::erase_prefix(std::string_view prefix) {
  std::string scratch;
  const std::string pattern = detail::glob_for_prefix(state_->wire(prefix, scratch));
  if (state_->cluster) return detail::erase_prefix_cluster(*state_->cluster, pattern);
  std::string cursor = "0";
  std::size_t removed = 0;
  do {
    const std::array<std::string_view, 6> scan = {"SCAN",  cursor,  "MATCH",
                                                  pattern, "COUNT", detail::scan_batch};
    std::vector<std::string> batch;
    auto step = state_->run<bool>("SCAN", {}, scan, [&](const redisReply& r) -> result<bool> {
      if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 ||
          r.element[0]->type != REDIS_REPLY_STRING || r.element[1]->type != REDIS_REPLY_ARRAY) {
        return detail::unexpected_reply("SCAN", state_->where(), r);
      }
      cursor.assign(r.element[0]->str, r.element[0]->len);
      const redisReply& keys = *r.element[1];
      for (std::size_t i = 0; i < keys.elements; ++i) {
        if (keys.element[i]->type != REDIS_REPLY_STRING) continue;
        std::string key(keys.element[i]->str, keys.element[i]->len);
        // A fill lock is another caller's, not a cached entry: its holder releases it.
        if (!std::string_view(key).ends_with(":lock")) batch.push_back(std::move(key));
      }
      return true;
    });
    if (!step) return std::move(step).error();
    if (batch.empty()) continue;
    std::vector<std::string_view> unlink;
    unlink.reserve(batch.size() + 1);
    unlink.emplace_back("UNLINK");
    unlink.insert(unlink.end(), batch.begin(), batch.end());
    auto gone = state_->run<std::size_t>(
        "UNLINK", {}, unlink, [&](const redisReply& r) -> result<std::size_t> {
          if (r.type != REDIS_REPLY_INTEGER) {
            return detail::unexpected_reply("UNLINK", state_->where(), r);
          }
          return static_cast<std::size_t>(r.integer);
        });
    if (!gone) return std::move(gone).error();
    removed += *gone;
  } while (cursor != "0");
  return removed;
}

bool redis_backend::keeps_key_registry() const noexcept {
  return !state_->layout.is_plain();
}

result<bool> redis_backend::set_tracked(std::string_view key, byte_view value, ttl_seconds ttl,
                                        std::string_view registry) {
  if (state_->layout.is_plain() || (ttl && ttl->count() <= 0)) {
    auto stored = set(key, value, ttl);
    if (!stored) return std::move(stored).error();
    return false;
  }
  const std::string wire = state_->layout.wire_key(key);
  const std::string set_name = state_->layout.wire_key(registry);
  const bool expires = ttl.has_value();
  const std::string seconds = expires ? std::to_string(ttl->count()) : std::string{};
  const std::array<std::string_view, 5> set_argv = {"SET", wire, as_string_view(value), "EX",
                                                    seconds};
  const std::array<std::string_view, 3> sadd = {"SADD", set_name, key};
  const std::array<std::string_view, 3> expire = {"EXPIRE", set_name, detail::registry_ttl_seconds};
  if (state_->cluster) {
    return detail::set_tracked_cluster(
        *state_->cluster, wire, set_name,
        std::span<const std::string_view>(set_argv).first(expires ? 5 : 3), sadd, expire);
  }
  // Three commands, one round trip: the write costs no extra latency for its registry entry.
  auto connection = state_->pool.acquire("SET");
  if (!connection) return std::move(connection).error();
  auto& conn = **connection;
  conn.append(std::span<const std::string_view>(set_argv).first(expires ? 5 : 3));
  conn.append(sadd);
  conn.append(expire);
  auto stored = conn.read_reply("SET");
  if (!stored) return std::move(stored).error();
  auto added = conn.read_reply("SADD");
  if (!added) return std::move(added).error();
  auto kept = conn.read_reply("EXPIRE");
  if (!kept) return std::move(kept).error();
  if (auto c = conn.check("SET", **stored); !c) return c.error();
  if ((*stored)->type != REDIS_REPLY_STATUS) {
    return detail::unexpected_reply("SET", state_->where(), **stored);
  }
  return (*added)->type == REDIS_REPLY_INTEGER && (*kept)->type == REDIS_REPLY_INTEGER;
}

result<std::size_t> redis_backend::drain_registry(std::string_view registry) {
  if (state_->layout.is_plain()) {
    return fail(errc::not_supported,
                "redis backend with the plain key layout keeps no key registry (cachekit-py's "
                "explicit RedisBackend neither); use redis_key_layout::tenant_scoped");
  }
  const std::string set_name = state_->layout.wire_key(registry);
  if (state_->cluster) {
    return detail::drain_registry_cluster(*state_->cluster, set_name, state_->layout.prefix());
  }
  const std::array<std::string_view, 6> argv = {
      "EVAL", detail::drain_script, "1", set_name, state_->layout.prefix(), detail::drain_chunk};
  std::size_t drained = 0;
  for (int step = 0; step < detail::max_drain_steps; ++step) {
    auto taken = state_->run<long long>(
        "EVAL (registry drain)", set_name, argv, [&](const redisReply& r) -> result<long long> {
          if (r.type != REDIS_REPLY_INTEGER) {
            return detail::unexpected_reply("EVAL (registry drain)", state_->where(), r);
          }
          return r.integer;
        });
    if (!taken) return std::move(taken).error();
    drained += static_cast<std::size_t>(std::max<long long>(*taken, 0));
    if (*taken < detail::drain_chunk_size) break;
  }
  return drained;
}

result<std::size_t> redis_backend::publish(std::string_view channel, byte_view message) {
  const std::array<std::string_view, 3> argv = {"PUBLISH", channel, as_string_view(message)};
  return state_->run<std::size_t>(
      "PUBLISH", channel, argv, [&](const redisReply& r) -> result<std::size_t> {
        if (r.type != REDIS_REPLY_INTEGER)
          return detail::unexpected_reply("PUBLISH", state_->where(), r);
        return static_cast<std::size_t>(std::max<long long>(r.integer, 0));
      });
}

result<std::unique_ptr<backend_subscription>> redis_backend::subscribe(
    const subscription_options& options) {
  if (state_->cluster) {
    if (options.track_keys) {
      return fail(errc::not_supported,
                  "redis subscribe on " + state_->where() +
                      ": key tracking (subscription_options::track_keys) is not supported on "
                      "Redis Cluster, where each node reports only its own keys; subscribe to "
                      "invalidation channels without track_keys");
    }
    auto masters = state_->cluster->masters("SUBSCRIBE");
    if (!masters) return std::move(masters).error();
    return detail::redis_subscription::open(masters->front()->settings(), state_->layout.prefix(),
                                            options);
  }
  return detail::redis_subscription::open(state_->pool.settings(), state_->layout.prefix(),
                                          options);
}

backend_health redis_backend::health() {
  backend_health health{.healthy = false,
                        .latency = std::chrono::microseconds(-1),
                        .backend_type = "redis",
                        .details = {}};
  auto report = [&](const failure& f) {
    health.details["error"] = f.message();
    health.details["error_type"] = f.code.message();
    return health;
  };
  if (state_->cluster) return detail::cluster_health(*state_->cluster, health);
  auto connection = state_->pool.acquire("PING");
  if (!connection) return report(connection.error());
  const auto start = std::chrono::steady_clock::now();
  const std::array<std::string_view, 1> ping = {"PING"};
  if (auto r = (*connection)->run("PING", ping); !r) return report(r.error());
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);

  const std::array<std::string_view, 1> info = {"INFO"};
  auto r = (*connection)->run("INFO", info);
  if (!r) return report(r.error());
  if ((*r)->type != REDIS_REPLY_STRING && (*r)->type != REDIS_REPLY_STATUS) {
    return report(detail::unexpected_reply("INFO", state_->where(), **r));
  }
  const std::array<detail::info_field, 3> wanted = {{{"redis_version", "version"},
                                                     {"used_memory_human", "used_memory_human"},
                                                     {"connected_clients", "connected_clients"}}};
  detail::read_info_fields(std::string_view((*r)->str, (*r)->len), wanted, health.details);
  health.healthy = true;
  health.latency = latency;
  return health;
}

std::string_view redis_backend::key_prefix() const noexcept {
  return state_->layout.prefix();
}

redis_pool_stats redis_backend::pool_stats() const {
  if (state_->cluster) return state_->cluster->pool_stats();
  return state_->pool.stats();
}

redis_cluster_stats redis_backend::cluster_stats() const {
  if (state_->cluster) return state_->cluster->stats();
  return {};
}

std::optional<redis_sentinel_stats> redis_backend::sentinel_stats() const {
  const auto& locator = state_->pool.settings().locator;
  if (!locator) return std::nullopt;
  return locator->stats();
}

}  // namespace v0
}  // namespace cachekit
