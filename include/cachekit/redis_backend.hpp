/// @file
/// `redis_backend`: the L2 backend on a Redis server, through hiredis, with a bounded pool of
/// blocking connections. It stores the same bytes under the same keys as cachekit-py's Redis
/// backends: the `plain` layout is cachekit-py's explicit `RedisBackend(url)` (keys unchanged),
/// the `tenant_scoped` layout is its zero-config / `PerRequestRedisBackend` (every key becomes
/// `t:{quote(tenant)}:{key}`, and `key_prefix()` returns `t:{quote(tenant)}:` so that encrypted
/// entries bind it into their AAD exactly as cachekit-py 0.24.1 does).
///
/// Connections are made lazily: a backend whose server is down still constructs, and its
/// operations fail with `errc::transient` until the server is back. A connection that saw an
/// I/O error or a timeout is closed, never reused; the next operation opens a new one. Idle
/// connections whose server has closed them (a restart) are detected before use and replaced.
///
/// Failures follow backend.hpp: connection refused / reset / closed, or a host name that does
/// not resolve ⇒ `errc::transient`; no answer within `command_timeout`, no free connection
/// within it, or no DNS answer within `connect_timeout` ⇒ `errc::timeout`;
/// `NOAUTH` / `WRONGPASS` / `NOPERM` or any refusal of `AUTH` ⇒ `errc::backend_authentication`;
/// `LOADING` / `READONLY` / `BUSY` / `CLUSTERDOWN` / `MASTERDOWN` / `TRYAGAIN` ⇒ `errc::transient`;
/// any other error reply ⇒ `errc::backend_permanent`. Messages name the operation, the server
/// address and the server's reply; they never contain the password.
///
/// TLS: a `rediss://` URL connects over TLS 1.2 or later (OpenSSL), verifying the server's
/// certificate and host name by default; see `redis_tls_options`. A certificate that does not
/// verify, or a server that refuses the client with a TLS alert (no or untrusted client
/// certificate) ⇒ `errc::backend_authentication` (it will not pass on a retry); a TLS protocol
/// failure such as a plain-text port ⇒ `errc::backend_permanent`; a connection reset or a
/// handshake that does not finish within `connect_timeout` ⇒ `errc::transient` / `errc::timeout`
/// as for plain connections. Messages end with " (tls)" after the address and quote OpenSSL's
/// reason.
///
/// Redis Cluster: a `redis+cluster://host1:port1,host2:port2` URL names seed nodes; the backend
/// reads the slot map (`CLUSTER SHARDS`, or `CLUSTER SLOTS` before Redis 7), keeps one pool per
/// master, and sends each command to the master of its key's slot, following `MOVED` (the map
/// is updated and re-read) and `ASK` (the command is sent after `ASKING`) redirects, at most 5
/// per command; `TRYAGAIN` / `CLUSTERDOWN` are retried after a short backoff while
/// `command_timeout` lasts, then fail with `errc::transient`. The map is re-read lazily after a
/// connection error, a MOVED or a CLUSTERDOWN (at most every 100 ms) and every 10 s while
/// commands run, by the command that finds it due: no background thread. `pool_size` applies
/// per node. Operations that differ on a cluster say so below. `rediss+cluster://` is the same
/// over TLS to every node (node addresses are verified as the cluster announces them, so the
/// certificates must name them, or set `redis_tls_options::server_name`).
///
/// Redis Sentinel (`redis+sentinel://h1:26379,h2:26379/mymaster`): the backend asks the
/// sentinels, in turn, for the master of the service (`SENTINEL get-master-addr-by-name`; the
/// first that answers is asked first from then on), connects to it, and uses a connection only
/// if the server's `ROLE` says "master" (an ACL user without `ROLE`, which is `@admin`, skips
/// that check). It asks again after a connect failure, a `ROLE` that
/// is not "master", a `READONLY` reply, a connection lost mid-command, or a `+switch-master`
/// for the service, which a background thread subscribed on one sentinel hears (it moves to
/// the next sentinel when its own goes away; a forked child starts its own). Pooled connections
/// to a former master are closed, never reused, and a subscription (`subscribe`) opened on it
/// fails its next `next` with `errc::transient`, so its owner subscribes again. During a failover,
/// operations fail with `errc::transient` (connection lost, `READONLY`, the named server not yet a
/// master) or `errc::timeout` (a master that stopped answering) until the sentinels have promoted a
/// replica (with Sentinel's defaults, `down-after-milliseconds` plus the election: seconds);
/// the circuit breaker and retries of `make_reliable` treat them as for any outage. Writes the
/// old master acknowledged but had not yet replicated can be lost (Redis replication is
/// asynchronous). No sentinel reachable ⇒ `errc::transient` naming the service and the
/// sentinels tried; sentinels that answer but monitor no such service ⇒
/// `errc::backend_permanent` (a sentinel knows its `sentinel monitor` services from the start,
/// so the name is wrong: retrying will not help); a sentinel refusing the sentinel credentials
/// ⇒ `errc::backend_authentication`. `sentinel_stats()` counts discoveries and failovers seen.
///
/// Thread safety: thread-safe. One instance serves all threads; each operation holds one pooled
/// connection for its duration.
///
///     cachekit::redis_backend redis({.url = "redis://:secret@cache.internal:6379/0",
///                                    .pool_size = 16,
///                                    .command_timeout = std::chrono::milliseconds(250)});
///     if (auto r = redis.set("k", cachekit::as_byte_view("v"), std::chrono::seconds(60)); !r) {
///       log(r.error().message());   // "transient: redis SET on cache.internal:6379/0: ..."
///     }
///     auto hit = redis.get("k");    // result<std::optional<byte_buffer>>
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/export.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace cachekit {
inline namespace v0 {

/// How cache keys are written to Redis.
enum class redis_key_layout {
  /// The key as given (cachekit-py: an explicit `RedisBackend(url)`). `key_prefix()` is "".
  plain,
  /// `t:{quote(tenant, safe="")}:{key}` (cachekit-py: zero-config Redis and
  /// `PerRequestRedisBackend`). The tenant is percent-encoded like Python's
  /// `urllib.parse.quote(tenant, safe="")`: every byte except `A-Za-z0-9_.-~` becomes `%XX`.
  tenant_scoped,
};

/// TLS settings of a `rediss://` backend, over the URL's redis-py parameters field by field: a
/// non-empty string here replaces the URL's value, and both booleans replace the URL's
/// `ssl_cert_reqs` / `ssl_check_hostname`. Files are PEM. With no `ca_file` and no `ca_path`
/// (here or in the URL) the server is verified against the system's trusted CAs.
///
///     cachekit::redis_backend redis({.url = "rediss://:secret@cache.internal:6380/0",
///                                    .tls = cachekit::redis_tls_options{
///                                        .ca_file = "/etc/cachekit/redis-ca.pem"}});
struct redis_tls_options {
  /// CA certificates to trust (URL: `ssl_ca_certs`).
  std::string ca_file;
  /// A directory of CA certificates named by hash, as `c_rehash` makes (URL: `ssl_ca_path`).
  std::string ca_path;
  /// Client certificate, for a server with `tls-auth-clients yes` (URL: `ssl_certfile`).
  std::string cert_file;
  /// Its unencrypted private key; empty: the key is in `cert_file` (URL: `ssl_keyfile`).
  std::string key_file;
  /// Name sent as SNI and checked against the certificate; empty: the URL's host. (Useful when
  /// connecting to an address whose certificate is issued for a name.)
  std::string server_name;
  /// Verify the server's certificate chain (URL: `ssl_cert_reqs=required`). Off only for test
  /// servers: anyone on the path could then read the traffic and the password.
  bool verify_peer = true;
  /// Check that the certificate is for `server_name` / the host (URL: `ssl_check_hostname`).
  /// Ignored when `verify_peer` is false.
  bool verify_hostname = true;
};

/// Settings of a `redis_backend`; fill with designated initializers.
struct redis_options {
  /// `redis://[user:password@]host[:port][/db]`, `redis://:password@host`, `unix:///path?db=N`,
  /// and `rediss://...` (TLS, same forms, port 6379 by default) with redis-py's parameters
  /// `ssl_cert_reqs=none|optional|required` (default required), `ssl_ca_certs=<file>`,
  /// `ssl_ca_path=<dir>`, `ssl_certfile=<file>`, `ssl_keyfile=<file>`,
  /// `ssl_check_hostname=true|false` (default true when ssl_cert_reqs=required). Port defaults
  /// to 6379, db to 0; user, password and parameter values are percent-decoded.
  /// Redis Cluster: `redis+cluster://[user:password@]host1:port1[,host2:port2,...][/0]`, the
  /// seed nodes (any reachable one is enough; the rest of the cluster is discovered), database
  /// 0 only; `rediss+cluster://` over TLS, with the same `ssl_*` parameters.
  ///
  /// Sentinel: `redis+sentinel://[user:password@]host1[:port1][,host2[:port2]...]/service[/db]`
  /// `[?sentinel_username=U&sentinel_password=P]`: the sentinels (port 26379 by default), in the
  /// order to ask them, and the service name of their `sentinel monitor` line. `user:password@`
  /// and db are the master's (as for redis://); `sentinel_username` / `sentinel_password`
  /// (percent-decoded) authenticate to the sentinels, which are asked without AUTH when they
  /// are absent. `rediss+sentinel://` is rejected for now. See the file comment for failovers.
  std::string url = "redis://localhost:6379/0";
  /// Most connections open at once (cachekit-py's CACHEKIT_CONNECTION_POOL_SIZE); on a cluster,
  /// per node.
  std::size_t pool_size = 10;
  /// Bound on resolving the host name and establishing the TCP / Unix-socket connection,
  /// together. 200 ms, not cachekit-py's 5 s: a cache lookup that waits longer than the work it
  /// saves is worthless, and with the circuit breaker a server that is down costs this wait only
  /// until the breaker opens. A host name is resolved on a thread of its own that the connect
  /// waits for at most this long (hiredis 0.14 alone would wait for the resolver's own timeout,
  /// 10 s and more when a DNS server does not answer); then each of its addresses is tried in
  /// turn with an equal share of the time left. IP addresses and Unix sockets skip resolution.
  std::chrono::milliseconds connect_timeout = std::chrono::milliseconds(200);
  /// Bound on each socket read and write of a command (time without progress, not the whole
  /// transfer: a large value that keeps arriving is not cut off), on the AUTH/SELECT handshake,
  /// and on waiting for a free pooled connection. 200 ms (cachekit-py: 5 s), as above.
  std::chrono::milliseconds command_timeout = std::chrono::milliseconds(200);
  /// `plain` or `tenant_scoped`.
  redis_key_layout key_layout = redis_key_layout::plain;
  /// The tenant of the `tenant_scoped` layout; any bytes (they are percent-encoded on the wire).
  std::string tenant = "default";
  /// TLS settings over the `rediss://` URL's (see `redis_tls_options`). TLS is on exactly when
  /// the scheme is `rediss://`: setting this with another scheme is a configuration error.
  std::optional<redis_tls_options> tls = std::nullopt;
};

/// A snapshot of the connection pool, for metrics and tests.
struct redis_pool_stats {
  std::size_t open = 0;         ///< connections that exist now (idle + in use)
  std::size_t idle = 0;         ///< of those, waiting in the pool
  std::uint64_t connects = 0;   ///< connections established (with AUTH/SELECT) since construction
  std::uint64_t discarded = 0;  ///< connections closed because of an I/O error, timeout or EOF
};

/// What a cluster-mode backend counted since construction (all zero for a single server).
struct redis_cluster_stats {
  std::uint64_t moved = 0;      ///< `MOVED` redirects followed (each also re-reads the map)
  std::uint64_t ask = 0;        ///< `ASK` redirects followed (`ASKING` + the command)
  std::uint64_t refreshes = 0;  ///< slot maps read successfully (the first one included)
  std::uint64_t retries = 0;    ///< backoffs after `TRYAGAIN` / `CLUSTERDOWN`
  std::size_t masters = 0;      ///< masters in the current slot map
};

/// What a Sentinel backend has seen of its sentinels (`redis_backend::sentinel_stats`).
struct redis_sentinel_stats {
  std::uint64_t discoveries = 0;       ///< times the sentinels were asked for the master
  std::uint64_t master_changes = 0;    ///< times the master's address changed: failovers seen
  std::uint64_t switch_messages = 0;   ///< `+switch-master` messages heard for the service
  std::uint64_t unusable_reports = 0;  ///< times the known master failed as a master (connect
                                       ///< failure, ROLE, READONLY, connection lost)
  std::string master;                  ///< "host:port" of the master in use; empty while unknown
};

/// The Redis backend. See the file comment for the layouts and the error contract: every
/// operation below returns its failure as a value with one of the codes listed there, and
/// none of them throws except on allocation failure.
class CACHEKIT_EXPORT redis_backend final : public backend {
 public:
  /// Parses and checks `options` without connecting.
  /// Throws `cachekit::error` (`errc::invalid_configuration`) on a malformed URL, a pool size of
  /// 0, a non-positive timeout, a tenant set with the `plain` layout, `tls` set without
  /// `rediss://`, or TLS files that cannot be loaded (the message names the file); the message
  /// says what to write instead and never repeats the password. TLS files are read here, once.
  explicit redis_backend(const redis_options& options = {});
  ~redis_backend() override;

  /// Not copyable or movable: operations of other threads may be using the pool.
  redis_backend(const redis_backend&) = delete;
  redis_backend& operator=(const redis_backend&) = delete;

  /// `GET`. The stored bytes, or nullopt on a miss.
  [[nodiscard]] result<std::optional<byte_buffer>> get(std::string_view key) override;

  /// `SET key value EX ttl`, or a plain `SET` for a `ttl` of nullopt. A `ttl` of zero or less
  /// is `DEL key` (already expired, backend.hpp; cachekit-py would store without expiry).
  [[nodiscard]] result<void> set(std::string_view key, byte_view value, ttl_seconds ttl) override;
  [[nodiscard]] result<bool> set_if_absent(std::string_view key, byte_view value,
                                           ttl_seconds ttl) override;

  /// `DEL`. Returns whether the key existed.
  [[nodiscard]] result<bool> erase(std::string_view key) override;

  /// `EXISTS`. Returns whether the key exists.
  [[nodiscard]] result<bool> exists(std::string_view key) override;

  /// One `MGET` round trip; the answer has one entry per key, in order (nullopt for a miss).
  /// No keys: an empty vector and no round trip. On a cluster: one `MGET` per slot, pipelined
  /// per master (a round trip per master holding any of the keys), answers in input order.
  [[nodiscard]] result<std::vector<std::optional<byte_buffer>>> get_many(
      std::span<const std::string_view> keys) override;

  /// `TTL`. `{.exists = false}` for a missing key; `{.exists = true, .ttl = nullopt}` for a key
  /// without expiry; otherwise the whole seconds left.
  [[nodiscard]] result<remaining_ttl> ttl(std::string_view key) override;
  /// GET and PTTL in one pipelined round trip; the remaining time is rounded down to seconds.
  [[nodiscard]] result<std::optional<timed_value>> get_with_ttl(std::string_view key) override;

  /// GET and PTTL of every key in one pipeline: one round trip for the whole batch (on a
  /// cluster, one per master holding any of the keys). Answers in input order, TTLs rounded
  /// down to seconds as `get_with_ttl`. No keys: no round trip. An error reply to any command
  /// fails the whole call.
  [[nodiscard]] result<std::vector<std::optional<timed_value>>> get_many_with_ttl(
      std::span<const std::string_view> keys) override;
  /// Every write in one pipeline: `SET key value [EX ttl]` each (`DEL key` for a TTL of zero or
  /// less), then, for the tenant-scoped layout, one `SADD {prefix}{registry} key...` and one
  /// `EXPIRE {prefix}{registry} 604800` per registry named (cachekit-py's format, as
  /// `set_tracked`). One round trip (on a cluster, one per master). Not atomic; a refused SET
  /// fails the call (the others may have landed); a refused SADD/EXPIRE does not (the entries
  /// are stored, unrecorded, as `set_tracked`; on a cluster any error reply fails the call).
  [[nodiscard]] result<void> set_many(std::span<const write_request> writes) override;

  /// `EXPIRE key ttl` (which deletes the key for a `ttl` of zero or less), or `PERSIST` (plus
  /// `EXISTS`, in the same round trip) when `ttl` is nullopt. Returns whether the key existed.
  [[nodiscard]] result<bool> touch(std::string_view key, ttl_seconds ttl) override;

  /// `SET {wire key}:lock <random 128-bit hex> NX PX <timeout ms>` (at least 1 ms). Returns the
  /// token, or nullopt while another holder has the lock. The token's `key` is the lock's wire
  /// key, tenant prefix included.
  ///
  ///     if (auto lock = redis.try_lock("k", 5s); lock && *lock) { fill();
  ///     (void)redis.release_lock(**lock); }
  [[nodiscard]] result<std::optional<lock_token>> try_lock(
      std::string_view key, std::chrono::milliseconds timeout) override;

  /// Deletes the lock only if it still holds this token (one `EVAL` of a compare-and-delete
  /// script). Returns whether it was deleted: false after it expired or someone else took it.
  [[nodiscard]] result<bool> release_lock(const lock_token& token) override;

  /// `SCAN cursor MATCH {wire prefix}* COUNT 1000` until the cursor returns to 0, each step's
  /// keys (fill locks excepted) deleted by one `UNLINK`: no key list is kept beyond one batch.
  /// Glob characters in the prefix are escaped. Returns how many keys were deleted; on an
  /// error, those deleted before it stay deleted. On a cluster every master is scanned in turn,
  /// and each batch's keys are unlinked by one `UNLINK` per slot, pipelined per master.
  [[nodiscard]] result<std::size_t> erase_prefix(std::string_view prefix) override;

  /// True for the `tenant_scoped` layout, as cachekit-py 0.24.1 (its explicit `RedisBackend`
  /// keeps no registry, so neither does the `plain` layout).
  [[nodiscard]] bool keeps_key_registry() const noexcept override;
  /// `SET` then `SADD {prefix}{registry} key` and `EXPIRE {prefix}{registry} 604800`, pipelined:
  /// one round trip. Without a registry (the `plain` layout), `set`. A refused SADD or EXPIRE
  /// (WRONGTYPE, an ACL) returns false with the entry stored. On a cluster the key and the
  /// registry are on different slots: `SET` on the key's master, then `SADD` + `EXPIRE`
  /// pipelined on the registry's master, two round trips; a failure of the second leaves the
  /// entry stored and unregistered (an error is returned).
  [[nodiscard]] result<bool> set_tracked(std::string_view key, byte_view value, ttl_seconds ttl,
                                         std::string_view registry) override;
  /// Repeated `EVAL` of a script that takes up to 10,000 random members of the set, UNLINKs
  /// `{prefix}{member}` then SREMs the member, until a step returns fewer (at most 1,000 steps).
  /// The members name keys inside this backend's prefix only, whatever they say. Needs Redis
  /// 5+ and, for restricted ACL users, `@scripting`. errc::not_supported for the `plain`
  /// layout. On a cluster (where a script may not touch keys it does not declare) the same
  /// steps without a script, in the same registry format: `SRANDMEMBER set 10000` on the
  /// registry's master, `UNLINK` of the members' keys grouped by slot on their masters, then
  /// `SREM` of the members whose `UNLINK` succeeded (a member never leaves before its key).
  /// Not atomic: a member added during a step waits for the next drain.
  [[nodiscard]] result<std::size_t> drain_registry(std::string_view registry) override;
  /// `PUBLISH channel message`. Channels are not prefixed. On a cluster, on the master of the
  /// channel name's slot (cluster pub/sub reaches subscribers on every node); the count is that
  /// node's subscribers only.
  [[nodiscard]] result<std::size_t> publish(std::string_view channel, byte_view message) override;
  /// A dedicated connection (redis_subscription): `CLIENT TRACKING ... BCAST PREFIX {prefix}`
  /// when asked (every key for the `plain` layout), then `SUBSCRIBE`. The keys it reports have
  /// the prefix removed. On a cluster: `SUBSCRIBE` on one master (cluster pub/sub broadcasts);
  /// `track_keys` fails with `errc::not_supported` (tracking is per node, and a node reports
  /// only its own slots' keys).
  [[nodiscard]] result<std::unique_ptr<backend_subscription>> subscribe(
      const subscription_options& options) override;

  /// `PING` (timed: `latency`) then `INFO`: details `version`, `used_memory_human`,
  /// `connected_clients`. On failure `healthy` is false, latency −1, and details hold `error`
  /// (the message) and `error_type` (the errc). On a cluster: `PING` to every master (latency
  /// of the slowest), `INFO` from the first, plus details `cluster_state` (`CLUSTER INFO`) and
  /// `masters`; unhealthy when any master fails or the state is not `ok`.
  [[nodiscard]] backend_health health() override;

  /// "redis".
  [[nodiscard]] std::string_view type() const noexcept override { return "redis"; }

  /// "" for the `plain` layout, `t:{quote(tenant)}:` for `tenant_scoped`.
  [[nodiscard]] std::string_view key_prefix() const noexcept override;

  /// The pool's current counters (on a cluster, summed over every node's pool).
  [[nodiscard]] redis_pool_stats pool_stats() const;

  /// Redirects and map refreshes so far; all zero for a single server.
  [[nodiscard]] redis_cluster_stats cluster_stats() const;

  /// The Sentinel counters (a forked child continues from its parent's) and the master this
  /// process uses (a forked child asks the sentinels itself); nullopt unless the URL is
  /// `redis+sentinel://`.
  [[nodiscard]] std::optional<redis_sentinel_stats> sentinel_stats() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace v0
}  // namespace cachekit
